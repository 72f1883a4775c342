//! Regression losses: squared, absolute, percentage and logarithmic errors, Huber, log-cosh and
//! cosine similarity. Each returns one value per sample (a mean over the last axis, or a sum
//! over `axis` for cosine similarity).

use super::{align, eps, konst, LossOptions};
use crate::tape::Var;
use crate::tensor::Float;

/// Mean squared error per sample: `mean((p - t)^2)` over the last axis.
///
/// ```
/// use tapegrad::{Tape, Tensor};
/// let tape = Tape::new();
/// let t = tape.constant(Tensor::from_vec(vec![1.0, 2.0], &[1, 2]));
/// let p = tape.var(Tensor::from_vec(vec![0.0, 4.0], &[1, 2]));
/// assert_eq!(tapegrad::losses::mean_squared_error(t, p).item(), 2.5);
/// ```
#[track_caller]
pub fn mean_squared_error<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
    let t = align("mean_squared_error", y_true, y_pred);
    (y_pred - t).square().mean_axis(-1, false)
}

/// Mean absolute error per sample: `mean(|p - t|)`; the gradient at an exact fit is 0.
#[track_caller]
pub fn mean_absolute_error<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
    let t = align("mean_absolute_error", y_true, y_pred);
    (y_pred - t).abs().mean_axis(-1, false)
}

/// Mean absolute percentage error per sample: `100 * mean(|(t - p) / max(|t|, eps)|)`, finite
/// for zero targets.
#[track_caller]
pub fn mean_absolute_percentage_error<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
    let t = align("mean_absolute_percentage_error", y_true, y_pred);
    let scale = t.abs().maximum(konst(t, super::EPSILON));
    ((t - y_pred) / scale).abs().mean_axis(-1, false) * T::from_f64(100.0)
}

/// Mean squared logarithmic error per sample:
/// `mean((log(max(p, eps) + 1) - log(max(t, eps) + 1))^2)`.
#[track_caller]
pub fn mean_squared_logarithmic_error<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
    let t = align("mean_squared_logarithmic_error", y_true, y_pred);
    let e = konst(t, super::EPSILON);
    let lp = (y_pred.maximum(e) + T::ONE).log();
    let lt = (t.maximum(e) + T::ONE).log();
    (lp - lt).square().mean_axis(-1, false)
}

/// Huber loss per sample with threshold `opts.delta`: quadratic `e^2 / 2` where `|e| <= delta`,
/// linear `delta |e| - delta^2 / 2` beyond, `e = p - t`, averaged over the last axis.
#[track_caller]
pub fn huber<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Var<'t, T> {
    let t = align("huber", y_true, y_pred);
    let delta = T::from_f64(opts.delta);
    let e = y_pred - t;
    let a = e.abs();
    let mask: Vec<T> = a.with_data(|d| d.iter().map(|&v| if v <= delta { T::ONE } else { T::ZERO }).collect());
    let mask = t.tape().leaf(&a.shape(), &mask, false);
    let quadratic = e.square() * T::from_f64(0.5);
    let linear = a * delta - T::from_f64(0.5 * opts.delta * opts.delta);
    Var::where_(mask, quadratic, linear).mean_axis(-1, false)
}

/// Log-cosh per sample: `mean(log(cosh(e)))` with `e = p - t`, computed as
/// `e + softplus(-2 e) - log 2` so it never overflows.
///
/// Like Keras, the constant `log 2` is taken rounded to `f32` (Keras computes it in float32 and
/// then casts), so values agree with Keras to the last digits and sit 1.9e-9 above the exact
/// `log(cosh(e))`; the gradient is unaffected.
#[track_caller]
pub fn log_cosh<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
    let t = align("log_cosh", y_true, y_pred);
    let e = y_pred - t;
    (e + (e * T::from_f64(-2.0)).softplus() - T::from_f64(KERAS_LN_2)).mean_axis(-1, false)
}

/// `log 2` as Keras uses it: rounded to `f32`.
const KERAS_LN_2: f64 = std::f32::consts::LN_2 as f64;

/// `x / ||x||` along `axis`, with the inverse norm capped at `1 / eps` (so a zero vector maps to
/// zero with a finite gradient), as Keras' `normalize`.
fn l2_normalize<'t, T: Float>(x: Var<'t, T>, axis: isize) -> Var<'t, T> {
    let e = eps::<T>();
    let sq = x.square().sum_axis(axis, true);
    // min(1/sqrt(s), 1/eps) == 1/sqrt(max(s, eps^2)); the clip form keeps the gradient finite at s = 0.
    x * sq.clip(e * e, T::from_f64(f64::INFINITY)).powf(T::from_f64(-0.5))
}

/// Cosine similarity loss per sample: `-sum(normalize(t) * normalize(p))` along `opts.axis`, in
/// [-1, 1], -1 when the vectors point the same way.
#[track_caller]
pub fn cosine_similarity<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Var<'t, T> {
    let t = align("cosine_similarity", y_true, y_pred);
    -(l2_normalize(t, opts.axis) * l2_normalize(y_pred, opts.axis)).sum_axis(opts.axis, false)
}

/// The quantile (pinball) loss per sample: the mean over the last axis of
/// `max(q (t - p), (q - 1)(t - p))`, `q = opts.quantile` in (0, 1). At `t = p` the gradient is
/// `-q` (the tie goes to the first argument of `maximum`, as TensorFlow's).
pub(crate) fn quantile<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Result<Var<'t, T>, super::LossError> {
    let q = opts.quantile;
    if !(q > 0.0 && q < 1.0) {
        return Err(super::LossError(format!("quantile: quantile is {q}, expected a number in (0, 1)")));
    }
    let t = align("quantile", y_true, y_pred);
    let e = t - y_pred;
    let l = (e * T::from_f64(q)).maximum(e * T::from_f64(q - 1.0));
    Ok(if l.shape().len() >= 2 { l.mean_axis(-1, false) } else { l })
}

/// The Tweedie deviance with power `p` in (1, 2), as scikit-learn's `mean_tweedie_deviance`:
/// `2 (max(y, 0)^(2-p) / ((1-p)(2-p)) - y μ^(1-p) / (1-p) + μ^(2-p) / (2-p))`, with predictions
/// `μ > 0` and targets `y >= 0`. 1-D inputs give one deviance per element, others the mean over
/// the last axis. Its default reduction is `mean_with_sample_weight`, scikit-learn's weighted mean.
pub(crate) fn tweedie<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Result<Var<'t, T>, super::LossError> {
    let name = "tweedie";
    let p = opts.power;
    if !(p > 1.0 && p < 2.0) {
        return Err(super::LossError(format!("{name}: power is {p}, expected a number in (1, 2)")));
    }
    let t = align(name, y_true, y_pred);
    if let Some((i, v)) = y_pred.with_data(|d| d.iter().enumerate().find(|(_, v)| v.is_nan() || **v <= T::ZERO).map(|(i, v)| (i, *v))) {
        return Err(super::LossError(format!("{name}: y_pred element {i} is {v}; predictions must be positive")));
    }
    if let Some((i, v)) = t.with_data(|d| d.iter().enumerate().find(|(_, v)| v.is_nan() || **v < T::ZERO).map(|(i, v)| (i, *v))) {
        return Err(super::LossError(format!("{name}: y_true element {i} is {v}; targets must be >= 0")));
    }
    // y^(2-p) is a constant (targets carry no gradient here); 0^(2-p) = 0.
    let first: Vec<T> = t.with_data(|d| d.iter().map(|&v| T::from_f64(v.to_f64().max(0.0).powf(2.0 - p) / ((1.0 - p) * (2.0 - p)))).collect());
    let first = t.tape().leaf(&t.shape(), &first, false);
    let dev = (first - t * y_pred.powf(T::from_f64(1.0 - p)) * T::from_f64(1.0 / (1.0 - p))
        + y_pred.powf(T::from_f64(2.0 - p)) * T::from_f64(1.0 / (2.0 - p)))
        * T::from_f64(2.0);
    Ok(if dev.shape().len() >= 2 { dev.mean_axis(-1, false) } else { dev })
}
