//! Losses of integer class ids: Keras' sparse categorical cross-entropy (any class axis,
//! `ignore_class`, label smoothing) and generalized cross-entropy, and PyTorch's `nll` and
//! `cross_entropy` (class axis 1, per-class `weight`, `ignore_index`, label smoothing).

use super::inputs::{integers, pick};
use super::weights::{PerSample, TorchMean};
use super::{eps, LossError, LossOptions};
use crate::tape::Var;
use crate::tensor::Float;

/// Class ids for `y_pred` with classes along `axis`: one id per position of the other axes
/// (ignored labels become 0) and whether each counts. Errors name the loss and the bad label.
pub(crate) fn class_ids<T: Float>(
    loss: &str,
    y_true: Var<'_, T>,
    y_pred: Var<'_, T>,
    axis: usize,
    ignore: Option<i64>,
) -> Result<(Vec<usize>, Vec<bool>), LossError> {
    let sp = y_pred.shape();
    let classes = sp[axis];
    let positions = y_pred.len() / classes.max(1);
    if y_true.len() != positions {
        return Err(LossError(format!(
            "{loss}: y_true of shape {:?} holds {} labels but y_pred of shape {:?} has {positions} positions \
             (classes along axis {axis})",
            &y_true.shape()[..],
            y_true.len(),
            &sp[..]
        )));
    }
    let labels = integers(loss, "y_true", y_true)?;
    let mut ids = Vec::with_capacity(positions);
    let mut keep = Vec::with_capacity(positions);
    for (i, &l) in labels.iter().enumerate() {
        if Some(l) == ignore {
            ids.push(0);
            keep.push(false);
        } else if l < 0 || l >= classes as i64 {
            let ign = ignore.map_or(String::new(), |c| format!(" and is not the ignored class {c}"));
            return Err(LossError(format!(
                "{loss}: y_true label {l} at row {i} is outside 0..{classes}{ign}"
            )));
        } else {
            ids.push(l as usize);
            keep.push(true);
        }
    }
    Ok((ids, keep))
}

fn keep_mask<'t, T: Float>(like: Var<'t, T>, keep: &[bool]) -> Var<'t, T> {
    let d: Vec<T> = keep.iter().map(|&b| if b { T::ONE } else { T::ZERO }).collect();
    like.tape().leaf(&like.shape(), &d, false)
}

/// Sparse categorical cross-entropy with Keras' options, as [`PerSample`]: `-log_softmax(z)[t]`
/// along the class axis `opts.axis`, `z = p` from logits else `log(clip(p, eps, 1 - eps))`; with
/// label smoothing `s`, `-(1 - s) log q[t] - (s / C) Σ_c log q_c`. A label equal to
/// `ignore_class` costs 0 and is masked out of the mean.
pub(crate) fn sparse_ce<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Result<PerSample<'t, T>, LossError> {
    let name = "sparse_categorical_crossentropy";
    let sp = y_pred.shape();
    if sp.is_empty() {
        return Err(LossError(format!("{name}: y_pred must have a class axis, got a scalar")));
    }
    let Some(a) = crate::tensor::shape::normalize_axis(opts.axis, sp.len()) else {
        return Err(LossError(format!("{name}: axis {} is out of range for y_pred of shape {:?}", opts.axis, &sp[..])));
    };
    let (ids, keep) = class_ids(name, y_true, y_pred, a, opts.ignore_class)?;
    let z = if opts.from_logits {
        y_pred
    } else {
        let e = eps::<T>();
        y_pred.clip(e, T::ONE - e).log()
    };
    let lsm = z.log_softmax(a as isize);
    let s = opts.label_smoothing;
    let mut l = -pick(lsm, a, &ids);
    if s != 0.0 {
        let c = sp[a] as f64;
        l = l * T::from_f64(1.0 - s) - lsm.sum_axis(a as isize, false) * T::from_f64(s / c);
    }
    let all = keep.iter().all(|&b| b);
    if all {
        return Ok(PerSample::plain(l));
    }
    let values = Var::where_(keep_mask(l, &keep), l, l.tape().scalar(T::ZERO));
    Ok(PerSample { values, keep: Some(keep), torch_mean: None })
}

/// Sparse categorical cross-entropy per sample (see [`Loss`](super::Loss) for the reduction):
/// labels are integer class ids with y_pred's shape minus the class axis `opts.axis` (or with a
/// trailing 1). Computes `-log_softmax(z)[label]` with `z = p` from logits, else
/// `z = log(clip(p, eps, 1 - eps))` (as Keras, which therefore also renormalises the clipped
/// row). Reads `from_logits`, `axis`, `ignore_class` (such labels cost 0) and `label_smoothing`.
/// Panics naming the first bad label; [`Loss::call_inputs`](super::Loss::call_inputs) returns it
/// as an error instead.
#[track_caller]
pub fn sparse_categorical_crossentropy<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Var<'t, T> {
    match sparse_ce(y_true, y_pred, opts) {
        Ok(ps) => ps.values,
        Err(e) => panic!("{e}"),
    }
}

/// Keras' categorical generalized cross-entropy (Zhang & Sabuncu): `(1 - p_t^q) / q` with `p_t`
/// the probability of the label along the last axis, used as given.
pub(crate) fn generalized_ce<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Result<PerSample<'t, T>, LossError> {
    let name = "categorical_generalized_cross_entropy";
    let sp = y_pred.shape();
    if sp.is_empty() {
        return Err(LossError(format!("{name}: y_pred must have a class axis, got a scalar")));
    }
    if !(opts.q > 0.0 && opts.q <= 1.0) {
        return Err(LossError(format!("{name}: q is {}, expected a number in (0, 1]", opts.q)));
    }
    let (ids, _) = class_ids(name, y_true, y_pred, sp.len() - 1, None)?;
    let p_t = pick(y_pred, sp.len() - 1, &ids);
    let q = opts.q;
    Ok(PerSample::plain(super::rsub(T::ONE, p_t.powf(T::from_f64(q))) * T::from_f64(1.0 / q)))
}

/// The class weights for `classes` classes (all 1 without `weight`); an error when the count is
/// off or a weight is negative.
fn class_weights(loss: &str, opts: &LossOptions, classes: usize) -> Result<Vec<f64>, LossError> {
    super::weights::class_weights(loss, opts.weight.as_deref(), classes)
}

/// The class axis of PyTorch's losses: 1 for `(N, C, ...)`, 0 for a single `(C,)` sample.
fn torch_class_axis(loss: &str, sp: &[usize]) -> Result<usize, LossError> {
    match sp.len() {
        0 => Err(LossError(format!("{loss}: y_pred must have a class axis, got a scalar"))),
        1 => Ok(0),
        _ => Ok(1),
    }
}

/// `weighted_nll`'s result: the losses, the kept targets' summed weights, the kept mask, the
/// class weights.
type WeightedNll<'t, T> = (Var<'t, T>, f64, Vec<bool>, Vec<f64>);

/// The weighted negative log-likelihood of picked entries, for `nll` and `cross_entropy`:
/// `-w[t] x[t]` (0 where ignored), the kept targets' weights summed, and the mask.
fn weighted_nll<'t, T: Float>(
    loss: &str,
    y_true: Var<'t, T>,
    x: Var<'t, T>,
    opts: &LossOptions,
) -> Result<WeightedNll<'t, T>, LossError> {
    let sp = x.shape();
    let a = torch_class_axis(loss, &sp)?;
    let w = class_weights(loss, opts, sp[a])?;
    let (ids, keep) = class_ids(loss, y_true, x, a, Some(opts.ignore_index))?;
    let wt: Vec<f64> = ids.iter().zip(&keep).map(|(&i, &k)| if k { w[i] } else { 0.0 }).collect();
    let picked = pick(x, a, &ids);
    let wv = x.tape().leaf(&picked.shape(), &wt.iter().map(|&v| T::from_f64(v)).collect::<Vec<_>>(), false);
    Ok((-(picked * wv), wt.iter().sum(), keep, w))
}

/// PyTorch's `nll_loss`: `-w[t] x[t]` with the class axis 1, 0 where `t == ignore_index`; its
/// mean is `Σ loss / Σ w[t]` over the kept targets.
pub(crate) fn nll<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Result<PerSample<'t, T>, LossError> {
    let (l, wsum, keep, _) = weighted_nll("nll", y_true, y_pred, opts)?;
    let values = Var::where_(keep_mask(l, &keep), l, l.tape().scalar(T::ZERO));
    Ok(PerSample { values, keep: None, torch_mean: Some(TorchMean { scale: None, divisor: wsum }) })
}

/// PyTorch's `cross_entropy` on logits with the class axis 1. Index targets:
/// `(1 - ε) nll(log_softmax) + (ε / C) Σ_c -w_c log_softmax_c`, 0 where ignored; its mean divides
/// both terms by `Σ w[t]` over the kept targets. Probability targets (y_true shaped as y_pred):
/// `-Σ_c w_c t'_c log_softmax_c`, `t' = (1 - ε) t + ε / C`; its mean divides by the sample count.
pub(crate) fn cross_entropy<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Result<PerSample<'t, T>, LossError> {
    let name = "cross_entropy";
    let sp = y_pred.shape();
    let a = torch_class_axis(name, &sp)?;
    let c = sp[a];
    let lsm = y_pred.log_softmax(a as isize);
    let eps_ls = opts.label_smoothing;
    // Class weights shaped to broadcast along the class axis.
    let w = class_weights(name, opts, c)?;
    let mut wshape = vec![1usize; sp.len()];
    wshape[a] = c;
    let wv = y_pred.tape().leaf(&wshape, &w.iter().map(|&v| T::from_f64(v)).collect::<Vec<_>>(), false);
    if y_true.shape() == sp {
        let t = if eps_ls == 0.0 { y_true } else { y_true * T::from_f64(1.0 - eps_ls) + T::from_f64(eps_ls / c as f64) };
        return Ok(PerSample::plain(-(t * lsm * wv).sum_axis(a as isize, false)));
    }
    let (nll_term, wsum, keep, _) = weighted_nll(name, y_true, lsm, opts)?;
    let mut l = nll_term;
    if eps_ls != 0.0 {
        let smooth = -(lsm * wv).sum_axis(a as isize, false);
        l = l * T::from_f64(1.0 - eps_ls) + smooth * T::from_f64(eps_ls / c as f64);
    }
    let values = Var::where_(keep_mask(l, &keep), l, l.tape().scalar(T::ZERO));
    Ok(PerSample { values, keep: None, torch_mean: Some(TorchMean { scale: None, divisor: wsum }) })
}
