//! Overlap losses for segmentation-style targets: dice and tversky. Both sum over every element
//! of the batch at once (Keras' `axis=None`), so they give one value for the whole batch.

use super::{rsub, align, eps, LossOptions};
use crate::tape::Var;
use crate::tensor::Float;

/// Dice loss over the whole batch: `1 - 2 sum(t p) / (sum(t) + sum(p) + eps)`. The result has
/// no batch axis, so every reduction returns the same value (per-sample weights or a mask given
/// to [`Loss::call_weighted`](super::Loss::call_weighted) broadcast it first, as Keras).
///
/// ```
/// use tapegrad::{Tape, Tensor};
/// let tape = Tape::<f64>::new();
/// let t = tape.constant(Tensor::from_vec(vec![1.0, 0.0, 1.0, 0.0], &[2, 2]));
/// let perfect = tapegrad::losses::dice(t, t);
/// assert!(perfect.item().abs() < 1e-6);
/// ```
#[track_caller]
pub fn dice<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
    let t = align("dice", y_true, y_pred);
    let intersection = (t * y_pred).sum();
    let total = t.sum() + y_pred.sum() + eps::<T>();
    rsub(T::ONE, intersection * T::from_f64(2.0) / total)
}

/// Tversky loss over the whole batch:
/// `1 - sum(t p) / (sum(t p) + alpha sum((1 - p) t) + beta sum(p (1 - t)) + eps)`, with
/// `opts.alpha` and `opts.beta`; with Keras' defaults 0.5 and 0.5 it equals [`dice`] (up to `eps`). Keras
/// calls the `alpha` term `fp`, though it counts the target mass the prediction misses.
#[track_caller]
pub fn tversky<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Var<'t, T> {
    let t = align("tversky", y_true, y_pred);
    let intersection = (t * y_pred).sum();
    let missed = (rsub(T::ONE, y_pred) * t).sum();
    let spurious = (y_pred * rsub(T::ONE, t)).sum();
    let denom = intersection + missed * T::from_f64(opts.alpha) + spurious * T::from_f64(opts.beta) + eps::<T>();
    rsub(T::ONE, intersection / denom)
}
