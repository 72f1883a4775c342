//! Probabilistic losses: binary and categorical cross-entropy, KL divergence and Poisson (sparse
//! labels are in `sparse.rs`). Logit inputs go through softplus and log-softmax (never a sigmoid or softmax
//! followed by a log); probability inputs are clipped to `[eps, 1 - eps]` before a log.

use super::{rsub, align, eps, LossOptions};
use crate::tape::Var;
use crate::tensor::Float;

/// Keras' label smoothing towards `1 / classes`: `t (1 - s) + s / classes`.
fn smooth<'t, T: Float>(t: Var<'t, T>, s: f64, classes: usize) -> Var<'t, T> {
    if s == 0.0 {
        t
    } else {
        t * T::from_f64(1.0 - s) + T::from_f64(s / classes as f64)
    }
}

/// Element-wise binary cross-entropy (no mean), after label smoothing: from logits
/// `softplus(p) - t p`, else `-(t log q + (1 - t) log(1 - q))` with `q = clip(p, eps, 1 - eps)`.
pub(crate) fn bce_elementwise<'t, T: Float>(t: Var<'t, T>, p: Var<'t, T>, from_logits: bool) -> Var<'t, T> {
    if from_logits {
        // log(1 + e^x) - t x  ==  -(t log sigmoid(x) + (1 - t) log(1 - sigmoid(x)))
        p.softplus() - t * p
    } else {
        let e = eps::<T>();
        let q = p.clip(e, T::ONE - e);
        -(t * q.log() + rsub(T::ONE, t) * rsub(T::ONE, q).log())
    }
}

/// Binary cross-entropy per sample, averaged over `opts.axis`. Reads `from_logits`,
/// `label_smoothing` (targets move to `t (1 - s) + s / 2`) and `axis`.
///
/// ```
/// use tapegrad::{losses::{binary_crossentropy, LossOptions}, Tape, Tensor};
/// let tape = Tape::new();
/// let t = tape.constant(Tensor::from_vec(vec![1.0, 0.0], &[1, 2]));
/// let logits = tape.var(Tensor::from_vec(vec![1000.0, -1000.0], &[1, 2]));
/// let opts = LossOptions { from_logits: true, ..Default::default() };
/// assert_eq!(binary_crossentropy(t, logits, &opts).item(), 0.0);
/// ```
#[track_caller]
pub fn binary_crossentropy<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Var<'t, T> {
    let t = smooth(align("binary_crossentropy", y_true, y_pred), opts.label_smoothing, 2);
    bce_elementwise(t, y_pred, opts.from_logits).mean_axis(opts.axis, false)
}

/// Categorical cross-entropy per sample, summed over `opts.axis` (the classes). From logits:
/// `-sum(t * log_softmax(p))`. From probabilities: each row is divided by `max(row sum, eps)`
/// and clipped to `[eps, 1 - eps]`, then `-sum(t * log(q))`. Reads `from_logits`,
/// `label_smoothing` (towards `1 / classes`), `axis` and `weight` (per-class weights `w_c`
/// multiplying the smoothed targets, PyTorch's convention; panics when their count is not the
/// number of classes).
#[track_caller]
pub fn categorical_crossentropy<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Var<'t, T> {
    let ax = y_pred.axis_of(opts.axis, "categorical_crossentropy");
    let sp = y_pred.shape();
    let mut t = smooth(align("categorical_crossentropy", y_true, y_pred), opts.label_smoothing, sp[ax]);
    if let Some(w) = &opts.weight {
        assert!(w.len() == sp[ax], "categorical_crossentropy: weight has {} entries but y_pred has {} classes", w.len(), sp[ax]);
        let mut ws = vec![1usize; sp.len()];
        ws[ax] = sp[ax];
        t = t * y_pred.tape().leaf(&ws, &w.iter().map(|&v| T::from_f64(v)).collect::<Vec<_>>(), false);
    }
    -(t * log_probabilities(y_pred, opts.from_logits, opts.axis)).sum_axis(opts.axis, false)
}

/// `log q` for the categorical losses: `log_softmax(p)` from logits, else
/// `log(clip(p / max(sum p, eps), eps, 1 - eps))` along `axis`.
pub(crate) fn log_probabilities<'t, T: Float>(p: Var<'t, T>, from_logits: bool, axis: isize) -> Var<'t, T> {
    if from_logits {
        p.log_softmax(axis)
    } else {
        normalized_probabilities(p, axis).log()
    }
}

/// `clip(p / max(sum p, eps), eps, 1 - eps)` along `axis` (a zero row stays finite).
pub(crate) fn normalized_probabilities<'t, T: Float>(p: Var<'t, T>, axis: isize) -> Var<'t, T> {
    let e = eps::<T>();
    let total = p.sum_axis(axis, true).maximum(p.tape().scalar(e));
    (p / total).clip(e, T::ONE - e)
}

/// Kullback-Leibler divergence per sample: `sum(t' log(t' / p'))` over the last axis, with both
/// `t' = clip(t, eps, 1)` and `p' = clip(p, eps, 1)`.
#[track_caller]
pub fn kl_divergence<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
    let e = eps::<T>();
    let t = align("kl_divergence", y_true, y_pred).clip(e, T::ONE);
    let p = y_pred.clip(e, T::ONE);
    (t * (t / p).log()).sum_axis(-1, false)
}

/// Poisson loss per sample: `mean(p - t log(p + eps))` over the last axis (`p` is a rate, >= 0).
#[track_caller]
pub fn poisson<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
    let t = align("poisson", y_true, y_pred);
    (y_pred - t * (y_pred + eps::<T>()).log()).mean_axis(-1, false)
}
