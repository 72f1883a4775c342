//! `fit`, `evaluate` and `predict`.

use super::fit_hooks::{Hook, Hooks};
use super::weights::{check_sample_weight, class_weights_for, rows, split_point};
use super::{FitConfig, History, Logs, LossFn, Model, TrainError};
use crate::metrics::{Metric, MetricState};
use crate::nn::{Activation, Lent, Output, Sequential};
use crate::optim::{sum_of_squares, Clipping, Optimizer};
use crate::tensor::{Float, Tensor};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// The checked layout of one data set.
#[derive(Clone, Copy, Debug)]
struct Layout {
    rows: usize,
    /// Target values per row.
    target_width: usize,
    /// Targets are passed to the loss as a vector `(batch,)` rather than `(batch, width)`.
    flat_targets: bool,
}

impl Layout {
    fn y_shape(&self, batch: usize) -> smallvec::SmallVec<[usize; 2]> {
        if self.flat_targets {
            smallvec::smallvec![batch]
        } else {
            smallvec::smallvec![batch, self.target_width]
        }
    }
}

/// The first non-finite element of `t` as (row, column).
fn first_non_finite<T: Float>(t: &Tensor<T>, width: usize) -> Option<(usize, usize)> {
    t.data().iter().position(|v| !v.is_finite()).map(|i| (i / width.max(1), i % width.max(1)))
}

/// Checks `x` (and `y`) against the model and the loss.
fn check_data<T: Float>(
    net: &Sequential<T>,
    loss: &LossFn<T>,
    x: &Tensor<T>,
    y: Option<&Tensor<T>>,
    data: &'static str,
) -> Result<Layout, TrainError> {
    let width = net.input_width();
    let sample = net.input_shape();
    if x.rank() != sample.len() + 1 || x.shape()[1..] != *sample {
        if let [expected] = *sample {
            return Err(TrainError::InputShape { data, expected, got: x.shape().to_vec() });
        }
        let dims: Vec<String> = sample.iter().map(usize::to_string).collect();
        return Err(TrainError::Config(format!(
            "{data} data: x must have shape (rows, {}) for this model, got {:?}",
            dims.join(", "),
            x.shape()
        )));
    }
    let rows = x.shape()[0];
    if rows == 0 {
        return Err(TrainError::Empty { data });
    }
    let (x_name, y_name) = if data == "training" { ("x", "y") } else { ("validation x", "validation y") };
    if let Some((row, col)) = first_non_finite(x, width) {
        return Err(TrainError::NonFinite { what: x_name, row, col });
    }
    if let Some(first) = net.layers().next() {
        first.check_input(x.data(), width).map_err(|e| TrainError::Config(format!("{data} data: {e}")))?;
    }
    let Some(y) = y else {
        return Ok(Layout { rows, target_width: 0, flat_targets: false });
    };
    let y_rows = if y.rank() == 0 { 1 } else { y.shape()[0] };
    if y_rows != rows {
        return Err(TrainError::RowMismatch { data, x_rows: rows, y_rows });
    }
    if y.rank() == 0 || y.rank() > 2 {
        return Err(TrainError::Config(format!(
            "{data} data: y must be a vector or a matrix with one row per sample, got shape {:?}",
            y.shape()
        )));
    }
    let target_width = y.len() / rows;
    if let Some((row, col)) = first_non_finite(y, target_width) {
        return Err(TrainError::NonFinite { what: y_name, row, col });
    }
    if let LossFn::Registry(l) = loss {
        l.validate_output(y, net.output_shape())?;
    }
    // Class ids as a vector: the registry's sparse loss, or a custom loss of a wider output.
    let custom = matches!(loss, LossFn::Custom { .. });
    let flat_targets = y.rank() == 1 && (loss.is_sparse() || (custom && net.output_width() > 1));
    if !loss.is_sparse() && !flat_targets && target_width != net.output_width() {
        return Err(TrainError::Config(format!(
            "{data} data: y has {target_width} values per row but the model outputs {}",
            net.output_width()
        )));
    }
    Ok(Layout { rows, target_width, flat_targets })
}

/// The metrics with `Accuracy` resolved for these targets.
fn resolve_metrics<T: Float>(metrics: &[Metric], net: &Sequential<T>, loss: &LossFn<T>, y: &Tensor<T>, layout: Layout) -> Vec<MetricState> {
    let any_negative = y.data().iter().any(|v| *v < T::ZERO);
    metrics
        .iter()
        .map(|&m| {
            let m = if m == Metric::Accuracy {
                Metric::resolve_accuracy(
                    loss.is_sparse(),
                    layout.target_width,
                    net.output_width(),
                    net.output_activation() == Activation::Tanh,
                    any_negative,
                )
            } else {
                m
            };
            MetricState::new(m)
        })
        .collect()
}

/// The name a metric is logged under (what the user asked for, as Keras does).
fn log_names(metrics: &[Metric]) -> Vec<&'static str> {
    metrics.iter().map(|m| m.name()).collect()
}

/// Runs the lent network in inference mode without gradients over the rows of `x` in batches of
/// `batch_size`, handing each batch's row range and output to `f` (the shared loop of
/// `evaluate`, validation and `predict`). The parameters are read where they lie on the tape.
fn forward_batches<T: Float>(
    lent: &mut Lent<'_, T>,
    x: &Tensor<T>,
    batch_size: usize,
    mut f: impl for<'t> FnMut(usize, usize, Output<'t, T>),
) {
    // Samples go to the model flattened (it gives them their shape back).
    let rows = x.shape()[0];
    let width = x.len() / rows.max(1);
    for start in (0..rows).step_by(batch_size) {
        let end = (start + batch_size).min(rows);
        lent.clear();
        let t = lent.tape();
        let params = lent.params();
        t.no_grad(|| {
            let xv = t.leaf(&[end - start, width], &x.data()[start * width..end * width], false);
            f(start, end, lent.call(&params, xv, false, None));
        });
    }
}

/// Loss and metrics of `net` on `(x, y)` in batches, without gradients.
#[allow(clippy::too_many_arguments)]
fn score<T: Float>(
    lent: &mut Lent<'_, T>,
    out_width: usize,
    loss: &LossFn<T>,
    x: &Tensor<T>,
    y: &Tensor<T>,
    weights: Option<&[T]>,
    layout: Layout,
    batch_size: usize,
    states: &mut [MetricState],
) -> f64 {
    let tw = layout.target_width;
    let mut sum = 0.0;
    for s in states.iter_mut() {
        s.reset();
    }
    forward_batches(lent, x, batch_size, |start, end, call| {
        let out = call.output;
        let b = end - start;
        let yb = &y.data()[start * tw..end * tw];
        let yv = out.tape().leaf(&layout.y_shape(b), yb, false);
        let mut l = match weights {
            Some(w) => loss.call_weighted(yv, out, out.tape().leaf(&[b], &w[start..end], false)),
            None => loss.call(yv, out),
        };
        for &term in &call.losses {
            l = l + term;
        }
        sum += l.item().to_f64() * b as f64;
        out.with_data(|p| states.iter_mut().for_each(|s| s.update(yb, tw, p, out_width)));
    });
    sum / layout.rows as f64
}

impl<T: Float> Model<T> {
    /// Trains for `config.epochs` passes, as Keras' `fit`: per epoch the rows are shuffled (if
    /// asked), cut into batches of `batch_size` (the last may be smaller), and each batch makes one
    /// optimizer step. The epoch's `loss` and metrics are running means over the batches,
    /// computed in the forward pass before each update and weighted by batch size; `val_*` are
    /// computed on the validation data after the epoch.
    ///
    /// `y` is `(rows, outputs)`, or a vector for one output (or for sparse class ids).
    ///
    /// Callbacks (`config.callbacks`) run at Keras' hooks in order, then the returned [`History`]
    /// (at each epoch's end) and the progress bar ([`ProgbarLogger`](super::progress::ProgbarLogger)):
    /// train begin; per epoch, epoch begin, per batch batch begin and end (the running means of
    /// the epoch so far as logs), then epoch end with the epoch's logs (validation included);
    /// train end. A callback may stop training (the current epoch still ends, as Keras), set the
    /// learning rate, and read or restore the weights; the parameters are given back by the tape
    /// around every hook. Each epoch ends by reseeding the model's generator from itself, so its
    /// state is a seed a checkpoint can keep.
    ///
    /// Errors: mismatched rows or widths, NaN in the data, targets the loss rejects, a zero batch
    /// size, bad `sample_weight` / `class_weight` / `validation_split` / `initial_epoch`, a
    /// callback's error ([`TrainError::Callback`]: a monitor that `fit` does not log, found at the
    /// end of the first epoch), and a loss that turns non-finite unless a callback such as
    /// [`TerminateOnNaN`](super::callbacks::TerminateOnNaN) stops training at that batch (training
    /// stops; the error holds the history so far).
    pub fn fit(&mut self, x: &Tensor<T>, y: &Tensor<T>, config: FitConfig<'_, T>) -> Result<History, TrainError> {
        if config.batch_size == 0 {
            return Err(TrainError::Config("fit: batch_size must be at least 1".into()));
        }
        if config.initial_epoch > config.epochs {
            return Err(TrainError::argument("initial_epoch", config.initial_epoch, format!("must not exceed epochs ({})", config.epochs)));
        }
        let Model { net, loss, optimizer, metrics, tape, rng, rng_anchor, scratch } = self;
        let full = check_data(net, loss, x, Some(y), "training")?;
        let at = split_point(full.rows, config.validation_split)?;
        let mut weights = match (config.sample_weight, config.class_weight) {
            (Some(_), Some(_)) => {
                return Err(TrainError::argument("class_weight", "given with sample_weight", "pass one of sample_weight and class_weight, as Keras does"))
            }
            (Some(w), None) => Some(check_sample_weight(w, full.rows)?),
            _ => None,
        };
        // Keras' validation_split: the last rows, before any shuffling; validation_data wins.
        let held_out = match at.filter(|_| config.validation_data.is_none()) {
            Some(at) => Some((rows(x, 0, at), rows(y, 0, at), rows(x, at, full.rows), rows(y, at, full.rows), at)),
            None => None,
        };
        let (x, y, layout, val_weights) = match &held_out {
            Some((tx, ty, _, _, at)) => {
                let vw = weights.as_mut().map(|w| w.split_off(*at));
                (tx, ty, Layout { rows: *at, ..full }, vw)
            }
            None => (x, y, full, None),
        };
        if let Some(cw) = config.class_weight {
            weights = Some(class_weights_for(cw, y, layout.rows)?);
        }
        if weights.is_some() && loss.per_sample_len(y, &layout.y_shape(2), net.output_width()) != 2 {
            return Err(TrainError::argument(
                "sample_weight",
                "given",
                format!("the loss {:?} gives one value per batch, not one per sample, so it cannot be weighted", loss.name()),
            ));
        }
        let val_data = config.validation_data.or(held_out.as_ref().map(|(_, _, vx, vy, _)| (vx, vy)));
        let mut val = match val_data {
            Some((vx, vy)) => {
                let vl = check_data(net, loss, vx, Some(vy), "validation")?;
                Some((vx, vy, vl, resolve_metrics(metrics, net, loss, vy, vl)))
            }
            None => None,
        };
        if let Some(seed) = config.seed {
            rng_anchor.set(rng, super::RngState::SeedFromU64(seed));
        }
        let mut states = resolve_metrics(metrics, net, loss, y, layout);
        let names = log_names(metrics);
        let (n, width, tw, out_width) = (layout.rows, net.input_width(), layout.target_width, net.output_width());
        let bs = config.batch_size.min(n);
        let steps = n.div_ceil(bs);
        scratch.order.clear();
        scratch.order.extend(0..n);
        scratch.x.reserve(bs * width);
        scratch.y.reserve(bs * tw);
        let mut hooks = Hooks::new(config.callbacks, config.verbose, config.epochs, steps)?;
        let at_batches = hooks.at_batches();
        let (mut logs, mut no_logs) = (Logs::new(), Logs::new());
        let mut last = config.initial_epoch;
        hooks.run(Hook::TrainBegin, last, None, &mut no_logs, &mut **optimizer, net)?;
        for epoch in config.initial_epoch..config.epochs {
            last = epoch;
            no_logs.clear();
            let mut stop = hooks.run(Hook::EpochBegin, epoch, None, &mut no_logs, &mut **optimizer, net)?;
            if config.shuffle {
                // A fresh permutation of 0..n each epoch (as Keras), so the order depends only on
                // the generator's state, which a checkpoint keeps.
                scratch.order.clear();
                scratch.order.extend(0..n);
                scratch.order.shuffle(rng);
            }
            states.iter_mut().for_each(MetricState::reset);
            let (mut loss_sum, mut seen) = (0.0, 0usize);
            logs.clear();
            for (step, rows) in scratch.order.chunks(bs).enumerate() {
                if at_batches {
                    no_logs.clear();
                    stop |= hooks.run(Hook::BatchBegin, epoch, Some(step), &mut no_logs, &mut **optimizer, net)?;
                }
                let b = rows.len();
                scratch.x.clear();
                scratch.y.clear();
                scratch.w.clear();
                for &r in rows {
                    scratch.x.extend_from_slice(&x.data()[r * width..(r + 1) * width]);
                    scratch.y.extend_from_slice(&y.data()[r * tw..(r + 1) * tw]);
                    if let Some(w) = &weights {
                        scratch.w.push(w[r]);
                    }
                }
                let w = weights.as_ref().map(|_| &scratch.w[..]);
                // The parameters are lent to the tape for the step only: callbacks see the model.
                let value = train_step(&mut net.lend(tape), loss, &mut **optimizer, rng, &scratch.x, &scratch.y, w, &mut scratch.grad, layout, b, |p| {
                    states.iter_mut().for_each(|s| s.update(&scratch.y, tw, p, out_width))
                });
                loss_sum += value * b as f64;
                seen += b;
                if at_batches {
                    fill_logs(&mut logs, loss_sum / seen as f64, &names, &states, "");
                    stop |= hooks.run(Hook::BatchEnd, epoch, Some(step), &mut logs, &mut **optimizer, net)?;
                }
                // A non-finite loss ends training with an error unless a callback (TerminateOnNaN)
                // stops it; then the epoch ends as Keras ends it (the bad step changed nothing).
                if !value.is_finite() && !stop {
                    return Err(TrainError::Diverged { epoch: epoch + 1, batch: step + 1, loss: value, history: hooks.history });
                }
                if stop {
                    break;
                }
            }
            logs.clear();
            fill_logs(&mut logs, loss_sum / seen as f64, &names, &states, "");
            if let Some((vx, vy, vl, vstates)) = val.as_mut() {
                let vloss = score(&mut net.lend(tape), out_width, loss, vx, vy, val_weights.as_deref(), *vl, config.batch_size, vstates);
                fill_logs(&mut logs, vloss, &names, vstates, "val_");
            }
            stop |= hooks.run(Hook::EpochEnd, epoch, None, &mut logs, &mut **optimizer, net)?;
            // The generator's state becomes a seed again, for checkpoints between epochs.
            rng_anchor.reseed(rng);
            if stop {
                break;
            }
        }
        hooks.run(Hook::TrainEnd, last, None, &mut logs, &mut **optimizer, net)?;
        Ok(hooks.history)
    }

    /// Keras' `train_on_batch`: one optimizer step on the whole of `(x, y)` as a single batch,
    /// exactly the step [`fit`](Self::fit) takes per batch. Returns the batch's loss computed
    /// before the update. Errors as `fit` (shapes, NaN in the data, rejected targets), and
    /// [`TrainError::Diverged`] (epoch 0, batch 1) when the loss is not finite; then no weight changes.
    ///
    /// ```
    /// use tapegrad::nn::{Dense, Sequential};
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::train::LossFn;
    /// use tapegrad::Tensor;
    /// let x = Tensor::from_vec(vec![0.0, 1.0, 2.0, 3.0], &[4, 1]);
    /// let y = x.map(|v| 3.0 * v);
    /// let net = Sequential::<f64>::with_seed(1, vec![Dense::new(1)], 0);
    /// let mut model = net.compile(LossFn::named("mse").unwrap(), Sgd::new(0.05), &[]);
    /// let first = model.train_on_batch(&x, &y).unwrap();
    /// for _ in 0..100 {
    ///     model.train_on_batch(&x, &y).unwrap();
    /// }
    /// assert!(model.train_on_batch(&x, &y).unwrap() < first * 1e-3);
    /// ```
    pub fn train_on_batch(&mut self, x: &Tensor<T>, y: &Tensor<T>) -> Result<f64, TrainError> {
        let Model { net, loss, optimizer, tape, rng, scratch, .. } = self;
        let layout = check_data(net, loss, x, Some(y), "training")?;
        let value = train_step(&mut net.lend(tape), loss, &mut **optimizer, rng, x.data(), y.data(), None, &mut scratch.grad, layout, layout.rows, |_| {});
        if !value.is_finite() {
            return Err(TrainError::Diverged { epoch: 0, batch: 1, loss: value, history: History::new() });
        }
        Ok(value)
    }

    /// Keras' `evaluate`: the loss and every metric on `(x, y)`, computed in batches of
    /// `batch_size` and averaged weighted by batch size.
    pub fn evaluate(&mut self, x: &Tensor<T>, y: &Tensor<T>, batch_size: usize) -> Result<Logs, TrainError> {
        self.evaluate_inner(x, y, None, batch_size)
    }

    /// Keras' `evaluate(x, y, sample_weight=w)`: each batch's loss is `sum(w_i * loss_i) / batch`,
    /// averaged over batches weighted by batch size (so the loss is `sum(w_i * loss_i) / rows`).
    /// Metrics are not weighted.
    ///
    /// ```
    /// use tapegrad::nn::{Dense, Sequential};
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::train::LossFn;
    /// use tapegrad::Tensor;
    /// let net = Sequential::<f64>::with_seed(1, vec![Dense::new(1).use_bias(false)], 0);
    /// let mut model = net.compile(LossFn::named("mse").unwrap(), Sgd::new(0.1), &[]);
    /// model.net_mut().parameters_mut()[0].fill(0.0); // predicts 0
    /// let (x, y) = (Tensor::from_vec(vec![1.0, 2.0], &[2, 1]), Tensor::from_vec(vec![1.0, 3.0], &[2, 1]));
    /// let w = Tensor::from_vec(vec![2.0, 0.0], &[2]);
    /// let logs = model.evaluate_weighted(&x, &y, &w, 32).unwrap();
    /// assert_eq!(logs["loss"], (2.0 * 1.0 + 0.0 * 9.0) / 2.0);
    /// ```
    ///
    /// # Errors
    /// As [`evaluate`](Self::evaluate), and a `sample_weight` that is not one finite,
    /// non-negative value per row, or a loss that gives no value per sample.
    pub fn evaluate_weighted(&mut self, x: &Tensor<T>, y: &Tensor<T>, sample_weight: &Tensor<T>, batch_size: usize) -> Result<Logs, TrainError> {
        self.evaluate_inner(x, y, Some(sample_weight), batch_size)
    }

    fn evaluate_inner(&mut self, x: &Tensor<T>, y: &Tensor<T>, sample_weight: Option<&Tensor<T>>, batch_size: usize) -> Result<Logs, TrainError> {
        if batch_size == 0 {
            return Err(TrainError::Config("evaluate: batch_size must be at least 1".into()));
        }
        let Model { net, loss, metrics, tape, .. } = self;
        let layout = check_data(net, loss, x, Some(y), "evaluation")?;
        let weights = sample_weight.map(|w| check_sample_weight(w, layout.rows)).transpose()?;
        if weights.is_some() && loss.per_sample_len(y, &layout.y_shape(2), net.output_width()) != 2 {
            return Err(TrainError::argument(
                "sample_weight",
                "given",
                format!("the loss {:?} gives one value per batch, not one per sample, so it cannot be weighted", loss.name()),
            ));
        }
        let mut states = resolve_metrics(metrics, net, loss, y, layout);
        let out_width = net.output_width();
        let value = score(&mut net.lend(tape), out_width, loss, x, y, weights.as_deref(), layout, batch_size, &mut states);
        let mut logs = Logs::new();
        fill_logs(&mut logs, value, &log_names(metrics), &states, "");
        Ok(logs)
    }

    /// Keras' `predict`: the model's outputs for every row of `x`, shape `(rows, outputs)` (or
    /// `(rows, output_shape...)` for outputs of more than one axis).
    pub fn predict(&mut self, x: &Tensor<T>) -> Result<Tensor<T>, TrainError> {
        let Model { net, loss, tape, .. } = self;
        let layout = check_data(net, loss, x, None, "prediction")?;
        let out_width = net.output_width();
        let mut result = Vec::with_capacity(layout.rows * out_width);
        forward_batches(&mut net.lend(tape), x, 32, |_, _, call| call.output.with_data(|p| result.extend_from_slice(p)));
        let shape: Vec<usize> = [layout.rows].into_iter().chain(net.output_shape().iter().copied()).collect();
        Ok(Tensor::from_vec(result, &shape))
    }
}

/// One optimizer step on a batch of `b` rows already laid out in `x` and `y`: record the forward
/// pass in training mode (random layers draw from `rng`), add the layers' loss terms, hand the
/// predictions to `on_output`, sweep backward and update every trainable parameter in place where
/// it lies on the tape, then apply the layers' state updates (moving statistics) and project the
/// constrained weights ([`Layer::constraints`](crate::nn::Layer::constraints)). Returns the loss before the update;
/// when it is not finite nothing is updated.
#[allow(clippy::too_many_arguments)]
fn train_step<T: Float>(
    lent: &mut Lent<'_, T>,
    loss: &LossFn<T>,
    optimizer: &mut dyn Optimizer<T>,
    rng: &mut StdRng,
    x: &[T],
    y: &[T],
    w: Option<&[T]>,
    grad_buf: &mut Vec<T>,
    layout: Layout,
    b: usize,
    on_output: impl FnOnce(&[T]),
) -> f64 {
    lent.clear();
    let t = lent.tape();
    let params = lent.params();
    let xv = t.leaf(&[b, x.len() / b], x, false);
    let yv = t.leaf(&layout.y_shape(b), y, false);
    let out = lent.call(&params, xv, true, Some(rng));
    let mut l = match w {
        Some(w) => loss.call_weighted(yv, out.output, t.leaf(&[b], w, false)),
        None => loss.call(yv, out.output),
    };
    for &term in &out.losses {
        l = l + term;
    }
    let value = l.item().to_f64();
    if !value.is_finite() {
        return value;
    }
    out.output.with_data(on_output);
    let grads = l.backward();
    optimizer.begin_step();
    // Clipped gradients go through one buffer kept across steps (as `Optimizer::step` clips).
    match optimizer.clipping() {
        Clipping::None => lent.update_trainable(&params, &grads, |slot, values, g| optimizer.update_step(slot, values, g)),
        // global_clipnorm scales every gradient by one factor from all of them together: their
        // joint sum of squares first (per variable, in slot order, as `Clipping::global_scale`).
        clip @ Clipping::GlobalNorm(_) => {
            let mut squares = T::ZERO;
            lent.update_trainable(&params, &grads, |_, _, g| squares += sum_of_squares(g));
            let scale = clip.global_scale_of_squares(squares);
            lent.update_trainable(&params, &grads, |slot, values, g| {
                grad_buf.clear();
                grad_buf.extend(g.iter().map(|&v| scale.map_or(v, |s| v * s)));
                optimizer.update_step(slot, values, grad_buf)
            });
        }
        clip => lent.update_trainable(&params, &grads, |slot, values, g| {
            grad_buf.clear();
            grad_buf.extend_from_slice(g);
            clip.clip_slot(grad_buf);
            optimizer.update_step(slot, values, grad_buf)
        }),
    }
    drop(grads);
    lent.apply_updates(&out.updates);
    // Keras projects constrained weights right after the optimizer's update.
    lent.apply_constraints();
    value
}

/// Writes `loss` and each metric's result into `logs` under `prefix` (in place for keys already
/// there without a prefix: the per-batch logs allocate nothing after the first batch).
fn fill_logs(logs: &mut Logs, loss: f64, names: &[&str], states: &[MetricState], prefix: &str) {
    let mut set = |name: &str, v: f64| match logs.get_mut(name).filter(|_| prefix.is_empty()) {
        Some(slot) => *slot = v,
        None => {
            logs.insert(format!("{prefix}{name}"), v);
        }
    };
    set("loss", loss);
    for (name, s) in names.iter().zip(states) {
        set(name, s.result());
    }
}

#[cfg(test)]
mod tests {
    use crate::nn::{Activation, Dense, Sequential};
    use crate::optim::{Adam, Optimizer, Sgd};
    use crate::train::{FitConfig, LossFn, Model, Verbose};
    use crate::Tensor;

    fn data() -> (Tensor<f64>, Tensor<f64>) {
        let x = Tensor::from_vec((0..24).map(|i| ((i * 7 % 11) as f64 - 5.0) * 0.2).collect(), &[8, 3]);
        let y = Tensor::from_vec(x.data().chunks(3).map(|r| r[0] - 2.0 * r[1] + 0.5 * r[2]).collect(), &[8, 1]);
        (x, y)
    }

    fn model(optimizer: impl Optimizer<f64> + 'static) -> Model<f64> {
        let net = Sequential::<f64>::with_seed(3, vec![Dense::new(5).activation(Activation::Relu), Dense::new(1)], 4);
        net.compile(LossFn::named("mse").unwrap(), optimizer, &[])
    }

    /// Lending the parameters to the tape and taking them back changes no number: a model whose
    /// parameters are reached through `net_mut` between every step ends with the same weights
    /// and losses as one that is not, for SGD (two-thread update of large slots) and Adam.
    #[test]
    fn parameters_kept_on_the_tape_train_as_fresh_copies() {
        let (x, y) = data();
        let makers: [fn() -> Model<f64>; 2] = [|| model(Sgd::new(0.05)), || model(Adam::new(0.01))];
        for make in makers {
            let (mut kept, mut fresh) = (make(), make());
            for _ in 0..4 {
                let a = kept.train_on_batch(&x, &y).unwrap();
                fresh.net_mut();
                let b = fresh.train_on_batch(&x, &y).unwrap();
                assert_eq!(a, b);
            }
            let cfg = FitConfig::new(3).batch_size(3).seed(2).verbose(Verbose::Silent).validation_data(&x, &y);
            let (ha, hb) = (kept.fit(&x, &y, cfg).unwrap(), fresh.fit(&x, &y, cfg).unwrap());
            assert_eq!(ha, hb);
            assert_eq!(kept.net().parameters(), fresh.net().parameters());
        }
    }

    /// Weights set by hand, an `evaluate` and a `predict` between steps are all seen by the next step.
    #[test]
    fn weights_set_between_steps_are_used() {
        let (x, y) = data();
        let mut a = model(Sgd::new(0.05));
        a.train_on_batch(&x, &y).unwrap();
        a.evaluate(&x, &y, 3).unwrap();
        a.train_on_batch(&x, &y).unwrap();
        a.predict(&x).unwrap();
        for p in a.net_mut().parameters_mut() {
            p.fill(0.0);
        }
        // All weights zero: the prediction is zero, so the loss is the mean square of y.
        let want = y.data().iter().map(|v| v * v).sum::<f64>() / 8.0;
        assert!((a.train_on_batch(&x, &y).unwrap() - want).abs() < 1e-12);
        let mut b = model(Sgd::new(0.05));
        for p in b.net_mut().parameters_mut() {
            p.fill(0.0);
        }
        b.train_on_batch(&x, &y).unwrap();
        assert_eq!(a.net().parameters(), b.net().parameters());
        assert_eq!(a.train_on_batch(&x, &y).unwrap(), b.train_on_batch(&x, &y).unwrap());
    }
}
