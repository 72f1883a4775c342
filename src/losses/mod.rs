//! Keras' losses as graph expressions over public ops: every loss is built from `Var` operations,
//! so its gradient comes from the tape with no hand-written backward.
//!
//! Two ways in:
//! - [`Loss`]: a loss by Keras name (or alias) with [`LossOptions`], reduced to one value as
//!   [`Reduction`] says. This is what training and the command line use.
//! - Free functions with Keras' names ([`mean_squared_error`], [`binary_crossentropy`], ...):
//!   like Keras' functional forms they return the *per-sample* losses, unreduced; [`reduce`]
//!   finishes them.
//!
//! ```
//! use tapegrad::losses::{Loss, LossOptions};
//! use tapegrad::{Tape, Tensor};
//! let tape = Tape::new();
//! let y_true = tape.constant(Tensor::from_vec(vec![0.0, 1.0], &[2, 1]));
//! let y_pred = tape.var(Tensor::from_vec(vec![0.1, 0.8], &[2, 1]));
//! let bce = Loss::new("binary_crossentropy").unwrap();
//! let loss = bce.call(y_true, y_pred);
//! let grads = loss.backward();
//! assert!(loss.item() > 0.0 && grads[y_pred][0] > 0.0);
//! ```
//!
//! Conventions taken from Keras (3.x): `eps = 1e-7`; probabilities are clipped to
//! `[eps, 1 - eps]` before a log; categorical cross-entropy on probabilities divides each row by
//! its sum; hinge labels all in {0, 1} become {-1, 1}; sparse labels are integer class ids of
//! shape `(n,)` or `(n, 1)`; dice and tversky sum over every element of the batch at once, so
//! they give one value for the whole batch whatever the reduction (per-sample weights or a mask
//! broadcast it first, as Keras). Where Keras returns NaN for
//! categorical cross-entropy on a row of zero probabilities (0 / 0), tapegrad divides by
//! `max(row sum, eps)` and returns the finite value `-log(eps) * sum(t)` with a zero gradient
//! for that row.

mod ctc;
mod focal;
mod hinge;
mod inputs;
mod loss;
mod metric_learning;
mod options;
mod overlap;
mod probabilistic;
mod registry;
mod regression;
mod sample;
mod sparse;
mod torch;
mod validate;
mod weights;

pub use focal::{binary_focal_crossentropy, categorical_focal_crossentropy};
pub use hinge::{categorical_hinge, hinge, squared_hinge};
pub use overlap::{dice, tversky};
pub use inputs::LossInputs;
pub use loss::Loss;
pub use options::{LossError, LossOptions, Reduction};
pub use probabilistic::{binary_crossentropy, categorical_crossentropy, kl_divergence, poisson};
pub use sparse::sparse_categorical_crossentropy;
pub use registry::{known_names, lookup, registry, LossInfo, LossKind};
pub use sample::sample_batch;
pub use regression::{
    cosine_similarity, huber, log_cosh, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error,
};

use crate::tape::Var;
use crate::tensor::Float;

/// Keras' fuzz factor `epsilon()`, used for clipping and safe division.
pub const EPSILON: f64 = 1e-7;

/// Reduces per-sample losses: their mean ([`Reduction::SumOverBatchSize`] and, without
/// weights, [`Reduction::MeanWithSampleWeight`]), their sum, or leaves them as they are
/// ([`Reduction::None`]). [`Loss::call_inputs`] adds sample weights and masks.
pub fn reduce<'t, T: Float>(per_sample: Var<'t, T>, reduction: Reduction) -> Var<'t, T> {
    match reduction {
        Reduction::SumOverBatchSize | Reduction::MeanWithSampleWeight => per_sample.mean(),
        Reduction::Sum => per_sample.sum(),
        Reduction::None => per_sample,
    }
}

/// `EPSILON` in the element type.
#[inline]
pub(crate) fn eps<T: Float>() -> T {
    T::from_f64(EPSILON)
}

/// A scalar constant on `like`'s tape.
#[inline]
pub(crate) fn konst<'t, T: Float>(like: Var<'t, T>, v: f64) -> Var<'t, T> {
    like.tape().scalar(T::from_f64(v))
}

/// `y_true` brought to `y_pred`'s shape: equal shapes pass, `(n,)` against `(n, 1)` (either way)
/// is reshaped as Keras does; anything else panics naming the loss and both shapes.
#[track_caller]
pub(crate) fn align<'t, T: Float>(loss: &str, y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
    let (st, sp) = (y_true.shape(), y_pred.shape());
    if st == sp {
        return y_true;
    }
    let squeeze = |s: &[usize]| -> Vec<usize> {
        let mut v = s.to_vec();
        if v.last() == Some(&1) {
            v.pop();
        }
        v
    };
    if squeeze(&st) == squeeze(&sp) {
        return y_true.reshape(&sp);
    }
    panic!("{loss}: y_true of shape {:?} does not match y_pred of shape {:?}", &st[..], &sp[..]);
}

/// `c - x` for a generic element type (the `c - var` operator exists only for `f32` and `f64`).
#[inline]
pub(crate) fn rsub<'t, T: Float>(c: T, x: Var<'t, T>) -> Var<'t, T> {
    x.rsub(c)
}
