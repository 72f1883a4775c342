//! Maximum-margin losses: hinge, squared hinge and categorical hinge. The margin's kink uses
//! `maximum(., 0)`, whose gradient at an exact tie goes to the margin (as TensorFlow's).

use super::{rsub, align, konst};
use crate::tape::Var;
use crate::tensor::Float;

/// Labels as `{-1, 1}`: when every label is 0 or 1 they become `2 t - 1` (Keras' rule, applied to
/// the whole batch at once); otherwise they pass unchanged.
fn signed_labels<'t, T: Float>(t: Var<'t, T>) -> Var<'t, T> {
    let binary = t.with_data(|d| d.iter().all(|&v| v == T::ZERO || v == T::ONE));
    if binary {
        t * T::from_f64(2.0) - T::ONE
    } else {
        t
    }
}

/// `max(1 - t p, 0)` element by element, with labels made signed.
fn margin<'t, T: Float>(name: &str, y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
    let t = signed_labels(align(name, y_true, y_pred));
    rsub(T::ONE, t * y_pred).maximum(konst(y_pred, 0.0))
}

/// Hinge loss per sample: `mean(max(1 - t p, 0))` over the last axis. Labels are -1 or 1
/// (labels all in {0, 1} are converted).
///
/// ```
/// use tapegrad::{Tape, Tensor};
/// let tape = Tape::new();
/// let t = tape.constant(Tensor::from_vec(vec![1.0, 0.0], &[1, 2]));
/// let p = tape.var(Tensor::from_vec(vec![0.5, -2.0], &[1, 2]));
/// assert_eq!(tapegrad::losses::hinge(t, p).item(), 0.25);
/// ```
#[track_caller]
pub fn hinge<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
    margin("hinge", y_true, y_pred).mean_axis(-1, false)
}

/// Squared hinge loss per sample: `mean(max(1 - t p, 0)^2)` over the last axis.
#[track_caller]
pub fn squared_hinge<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
    margin("squared_hinge", y_true, y_pred).square().mean_axis(-1, false)
}

/// Categorical hinge per sample, for one-hot targets:
/// `max(0, 1 + max((1 - t) p) - sum(t p))` over the last axis. Ties for the largest wrong-class
/// score share its gradient equally.
#[track_caller]
pub fn categorical_hinge<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
    let t = align("categorical_hinge", y_true, y_pred);
    let pos = (t * y_pred).sum_axis(-1, false);
    let neg = (rsub(T::ONE, t) * y_pred).max_axis(-1, false);
    (neg - pos + T::ONE).maximum(konst(y_pred, 0.0))
}
