//! Focal cross-entropies (Lin et al.): the cross-entropy of each element scaled by
//! `(1 - q)^gamma`, so confident, correct predictions count less. The cross-entropy term takes
//! the stable path (softplus or log-softmax) from logits. Binary focal's factor uses the
//! unclipped probability (`sigmoid(p)` from logits), as Keras: a saturated wrong prediction keeps
//! its gradient through the factor. Where the factor's base `1 - p_t` is exactly 0 (a saturated
//! right prediction) and `gamma < 1`, its derivative is infinite; Keras then returns an infinite
//! or NaN gradient, tapegrad 0 (the factor is selected to 0 there). Categorical focal's factor uses
//! probabilities clipped to `[eps, 1 - eps]`, as Keras.

use super::probabilistic::{bce_elementwise, log_probabilities, normalized_probabilities};
use super::{rsub, align, eps, LossOptions};
use crate::tape::Var;
use crate::tensor::Float;

/// Binary focal cross-entropy per sample, averaged over `opts.axis`:
/// `w (1 - p_t)^gamma bce(t, p)` with `p_t = t q + (1 - t)(1 - q)`, `q` the (clipped) probability,
/// and `w = t alpha + (1 - t)(1 - alpha)` when `apply_class_balancing` (else 1). Reads `gamma`,
/// `alpha`, `apply_class_balancing`, `from_logits`, `label_smoothing` and `axis`.
///
/// ```
/// use tapegrad::{losses::{binary_focal_crossentropy, binary_crossentropy, LossOptions}, Tape, Tensor};
/// let tape = Tape::<f64>::new();
/// let t = tape.constant(Tensor::from_vec(vec![1.0, 0.0], &[1, 2]));
/// let p = tape.var(Tensor::from_vec(vec![0.9, 0.2], &[1, 2]));
/// let opts = LossOptions::default();
/// // gamma = 0 and no balancing: plain binary cross-entropy.
/// let plain = LossOptions { gamma: 0.0, ..opts.clone() };
/// let diff = binary_focal_crossentropy(t, p, &plain).item() - binary_crossentropy(t, p, &opts).item();
/// assert!(diff.abs() < 1e-12);
/// assert!(binary_focal_crossentropy(t, p, &opts).item() < binary_crossentropy(t, p, &opts).item());
/// ```
#[track_caller]
pub fn binary_focal_crossentropy<'t, T: Float>(
    y_true: Var<'t, T>,
    y_pred: Var<'t, T>,
    opts: &LossOptions,
) -> Var<'t, T> {
    let mut t = align("binary_focal_crossentropy", y_true, y_pred);
    if opts.label_smoothing != 0.0 {
        let s = opts.label_smoothing;
        t = t * T::from_f64(1.0 - s) + T::from_f64(0.5 * s);
    }
    let bce = bce_elementwise(t, y_pred, opts.from_logits);
    let q = if opts.from_logits { y_pred.sigmoid() } else { y_pred };
    let p_t = t * q + rsub(T::ONE, t) * rsub(T::ONE, q);
    let mut focal = focal_factor(rsub(T::ONE, p_t), opts.gamma) * bce;
    if opts.apply_class_balancing {
        let a = opts.alpha;
        focal = (t * T::from_f64(a) + rsub(T::ONE, t) * T::from_f64(1.0 - a)) * focal;
    }
    focal.mean_axis(opts.axis, false)
}

/// `base^gamma`, with 0 (and gradient 0) where the base is 0 and `gamma > 0`: `0^gamma` has an
/// infinite derivative for `gamma < 1`, and the select keeps it out of the tape.
fn focal_factor<'t, T: Float>(base: Var<'t, T>, gamma: f64) -> Var<'t, T> {
    let g = T::from_f64(gamma);
    if gamma == 0.0 || base.with_data(|d| d.iter().all(|&v| v != T::ZERO)) {
        return base.powf(g);
    }
    let tape = base.tape();
    let nonzero: Vec<T> = base.with_data(|d| d.iter().map(|&v| if v != T::ZERO { T::ONE } else { T::ZERO }).collect());
    let nonzero = tape.leaf(&base.shape(), &nonzero, false);
    let safe = Var::where_(nonzero, base, tape.scalar(T::ONE));
    Var::where_(nonzero, safe.powf(g), tape.scalar(T::ZERO))
}

/// Categorical focal cross-entropy per sample, summed over `opts.axis` (the classes):
/// `-sum(alpha (1 - q)^gamma t log q)` with `q` the row-normalised probabilities clipped to
/// `[eps, 1 - eps]` (from logits `log q = log_softmax(p)`). Reads `alpha`, `gamma`,
/// `from_logits`, `label_smoothing` and `axis`.
#[track_caller]
pub fn categorical_focal_crossentropy<'t, T: Float>(
    y_true: Var<'t, T>,
    y_pred: Var<'t, T>,
    opts: &LossOptions,
) -> Var<'t, T> {
    let ax = y_pred.axis_of(opts.axis, "categorical_focal_crossentropy");
    let mut t = align("categorical_focal_crossentropy", y_true, y_pred);
    if opts.label_smoothing != 0.0 {
        let (s, classes) = (opts.label_smoothing, y_pred.shape()[ax] as f64);
        t = t * T::from_f64(1.0 - s) + T::from_f64(s / classes);
    }
    let e = eps::<T>();
    let (q, log_q) = if opts.from_logits {
        (y_pred.softmax(opts.axis).clip(e, T::ONE - e), log_probabilities(y_pred, true, opts.axis))
    } else {
        let q = normalized_probabilities(y_pred, opts.axis);
        (q, q.log())
    };
    let weight = rsub(T::ONE, q).powf(T::from_f64(opts.gamma)) * T::from_f64(opts.alpha);
    -(weight * t * log_q).sum_axis(opts.axis, false)
}
