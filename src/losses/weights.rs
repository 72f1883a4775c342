//! Sample weights, masks and reductions with Keras' exact semantics, and PyTorch's own means.
//!
//! Per-sample losses `l` have y_pred's shape minus the class (last) axis. A `sample_weight` `w`
//! multiplies `l` by broadcasting: a scalar, `l`'s shape, `l`'s shape with size-1 axes (`(N, 1)`
//! on `(N, T)` losses), or `l`'s shape with a trailing 1. A mask `m` (0/1, `l`'s shape) turns
//! entries off, as do ignored labels. Then:
//! - `none`: `l w m`; `sum`: `Σ l w m`;
//! - `sum_over_batch_size`: `Σ l w m / (entries m keeps, or all entries)`, never divided by weights;
//! - `mean_with_sample_weight`: `Σ l w m / Σ w'`, `w'` the weights as given (times `m` when there
//!   is a mask); without weights it equals `sum_over_batch_size`.
//!
//! Dice and tversky give one value `l` for the whole batch; with a weight or mask of a shape
//! (per sample, say) `l` is first broadcast to that shape, as Keras multiplies them: `none` gives
//! `l w m`, `sum_over_batch_size` `l Σ w m / (entries m keeps)`, `mean_with_sample_weight` `l`.
//!
//! A division by 0 gives 0 with gradient 0 (TensorFlow's `divide_no_nan`). Masked entries are
//! selected away with `where`, so an infinite loss there (an impossible CTC alignment) does not
//! leak a NaN.

use super::{LossError, Reduction};
use crate::tape::Var;
use crate::tensor::Float;

/// PyTorch's `"mean"` for one loss: `Σ scale l / divisor` (used when there is no sample weight
/// and no mask).
#[derive(Clone, Debug)]
pub(crate) struct TorchMean {
    /// A factor per entry of `l` (CTC's `1 / target_length`); `None` is 1.
    pub scale: Option<Vec<f64>>,
    /// What the sum is divided by (the entries' count, the kept targets' weights, ...).
    pub divisor: f64,
}

/// One loss's unreduced values with what the reduction needs to know.
pub(crate) struct PerSample<'t, T: Float> {
    /// The per-sample (or per-element) losses.
    pub values: Var<'t, T>,
    /// Entries that count (ignored labels and circle's zero rows are `false`); `None`: all.
    pub keep: Option<Vec<bool>>,
    /// PyTorch's mean for this loss, when it is not the plain mean.
    pub torch_mean: Option<TorchMean>,
}

impl<'t, T: Float> PerSample<'t, T> {
    /// Values that all count, reduced by the plain mean.
    pub fn plain(values: Var<'t, T>) -> Self {
        PerSample { values, keep: None, torch_mean: None }
    }
}

/// Per-class weights (the `weight` option) as a loss reads them: one per class, finite and
/// non-negative; an error naming the loss, the argument and the value otherwise. (`LossOptions::set`
/// checks the same when they come as text; this catches options built directly.)
pub(crate) fn class_weights(loss: &str, weight: Option<&[f64]>, classes: usize) -> Result<Vec<f64>, LossError> {
    let Some(w) = weight else { return Ok(vec![1.0; classes]) };
    if let Some((i, v)) = w.iter().enumerate().find(|(_, v)| !v.is_finite() || **v < 0.0) {
        return Err(LossError(format!("{loss}: weight element {i} is {v}; class weights must be finite and non-negative")));
    }
    if w.len() != classes {
        return Err(LossError(format!("{loss}: weight has {} entries but y_pred has {classes} classes", w.len())));
    }
    Ok(w.to_vec())
}

fn dims(s: &[usize]) -> String {
    format!("{s:?}")
}

/// `w` as a shape that broadcasts onto `l` without growing it; an error naming the loss otherwise.
fn fit_weight<'t, T: Float>(loss: &str, w: Var<'t, T>, l: &[usize]) -> Result<Var<'t, T>, LossError> {
    let ws = w.shape();
    if let Some((i, v)) = w.with_data(|d| d.iter().enumerate().find(|(_, v)| !v.is_finite() || **v < T::ZERO).map(|(i, v)| (i, *v))) {
        return Err(LossError(format!(
            "{loss}: sample_weight element {i} is {v}; weights must be finite and non-negative"
        )));
    }
    let mut w2 = w;
    let mut s: Vec<usize> = ws.to_vec();
    if s.len() == l.len() + 1 && s.last() == Some(&1) {
        s.pop();
        w2 = w.reshape(&s);
    }
    let fits = s.is_empty() || (s.len() == l.len() && s.iter().zip(l).all(|(a, b)| a == b || *a == 1));
    if !fits {
        let hint = if s.len() < l.len() && !l.is_empty() {
            format!("; to weight whole samples give shape ({}, 1)", l[0])
        } else {
            String::new()
        };
        return Err(LossError(format!(
            "{loss}: sample_weight of shape {} does not fit per-sample losses of shape {}{hint}",
            dims(&ws),
            dims(l)
        )));
    }
    Ok(w2)
}

/// The user's mask as booleans of `l`'s shape; an error naming the loss otherwise.
fn read_mask<T: Float>(loss: &str, m: Var<'_, T>, l: &[usize]) -> Result<Vec<bool>, LossError> {
    let ms = m.shape();
    let same = ms.as_slice() == l || (ms.len() == l.len() + 1 && ms.last() == Some(&1) && &ms[..l.len()] == l);
    if !same {
        return Err(LossError(format!(
            "{loss}: mask of shape {} does not match the per-sample losses' shape {}",
            dims(&ms),
            dims(l)
        )));
    }
    m.with_data(|d| {
        d.iter()
            .enumerate()
            .map(|(i, &v)| {
                if v == T::ZERO {
                    Ok(false)
                } else if v == T::ONE {
                    Ok(true)
                } else {
                    Err(LossError(format!("{loss}: mask element {i} is {v}; a mask holds 0 or 1")))
                }
            })
            .collect()
    })
}

/// Reduces `ps` with an optional sample weight and mask as `reduction` says (see the module docs).
pub(crate) fn finish<'t, T: Float>(
    loss: &str,
    ps: PerSample<'t, T>,
    sample_weight: Option<Var<'t, T>>,
    mask: Option<Var<'t, T>>,
    reduction: Reduction,
) -> Result<Var<'t, T>, LossError> {
    let mut l = ps.values;
    let tape = l.tape();
    // One value for the whole batch (dice, tversky) with per-sample weights or a mask: as Keras,
    // the value is broadcast to their shape (the mask's when both are given), then reduced.
    if l.shape().is_empty() && ps.keep.is_none() {
        let target = match (mask, sample_weight) {
            (Some(m), _) if !m.shape().is_empty() => Some(m.shape()),
            (_, Some(w)) if !w.shape().is_empty() => Some(w.shape()),
            _ => None,
        };
        if let Some(s) = target {
            l = l * tape.leaf(&s, &vec![T::ONE; s.iter().product()], false);
        }
    }
    let shape = l.shape();
    let user_mask = match mask {
        Some(m) => Some(read_mask(loss, m, &shape)?),
        None => None,
    };
    let keep: Option<Vec<bool>> = match (user_mask, ps.keep) {
        (Some(a), Some(b)) => Some(a.iter().zip(&b).map(|(x, y)| *x && *y).collect()),
        (a, b) => a.or(b),
    };
    let weight = match sample_weight {
        Some(w) => Some(fit_weight(loss, w, &shape)?),
        None => None,
    };
    // Without a weight, `mean_with_sample_weight` is `sum_over_batch_size`: PyTorch's mean here.
    let mean = matches!(reduction, Reduction::SumOverBatchSize | Reduction::MeanWithSampleWeight);
    if let (None, None, true, Some(tm)) = (&weight, &keep, mean, &ps.torch_mean) {
        let scaled = match &tm.scale {
            Some(s) => l * tape.leaf(&shape, &s.iter().map(|&v| T::from_f64(v)).collect::<Vec<_>>(), false),
            None => l,
        };
        return Ok(scaled.sum() / T::from_f64(tm.divisor));
    }
    let keep_var = keep.as_ref().map(|k| tape.leaf(&shape, &k.iter().map(|&b| if b { T::ONE } else { T::ZERO }).collect::<Vec<_>>(), false));
    let mut v = match keep_var {
        Some(m) => Var::where_(m, l, tape.scalar(T::ZERO)),
        None => l,
    };
    if let Some(w) = weight {
        v = v * w;
    }
    let no_nan = |total: Var<'t, T>, divisor: f64| if divisor == 0.0 { total * T::ZERO } else { total / T::from_f64(divisor) };
    Ok(match reduction {
        Reduction::None => v,
        Reduction::Sum => v.sum(),
        Reduction::SumOverBatchSize => {
            let count = match &keep {
                Some(k) => k.iter().filter(|&&b| b).count(),
                None => l.len(),
            };
            no_nan(v.sum(), count as f64)
        }
        Reduction::MeanWithSampleWeight => match (weight, keep_var) {
            (None, _) => {
                let count = keep.as_ref().map_or(l.len(), |k| k.iter().filter(|&&b| b).count());
                no_nan(v.sum(), count as f64)
            }
            (Some(w), m) => {
                let divisor = match m {
                    Some(m) => (w * m).sum(),
                    None => w.sum(),
                };
                let d = divisor.item().to_f64();
                if d == 0.0 {
                    v.sum() * T::ZERO
                } else {
                    v.sum() / divisor
                }
            }
        },
    })
}
