//! Batch and layer normalisation as expressions over public [`Var`] ops, so their gradients (to the
//! input, `gamma` and `beta`) come from the tape. Keras' formulas: the variance is the biased one
//! (mean of squared deviations) and `epsilon` sits inside the root,
//! `y = x * inv + (beta - mean * inv)` with `inv = gamma / sqrt(var + epsilon)` (TensorFlow's
//! `batch_normalization` form of `(x - mean) / sqrt(var + eps) * gamma + beta`).
//!
//! The layers that wrap these (`BatchNormalization`, `LayerNormalization`) keep the parameters and
//! the moving statistics; these functions take them as arguments and return the new moving
//! statistics, so they stay free of any layer type.

use crate::tape::Var;
use crate::tensor::{Float, Tensor};

/// The settings of [`batch_norm`] (Keras' `BatchNormalization` arguments, with its defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormConfig {
    /// Weight of the old moving statistics in each update (Keras: 0.99).
    pub momentum: f64,
    /// Added to the variance inside the square root (Keras: 0.001).
    pub epsilon: f64,
}

impl Default for BatchNormConfig {
    fn default() -> Self {
        BatchNormConfig { momentum: 0.99, epsilon: 1e-3 }
    }
}

/// What [`batch_norm`] gives: the output and the moving statistics after the call.
#[derive(Debug)]
pub struct BatchNormOutput<'t, T: Float> {
    /// The normalised input, same shape as `x`.
    pub y: Var<'t, T>,
    /// The moving mean after the call (unchanged in inference).
    pub moving_mean: Vec<T>,
    /// The moving variance after the call (unchanged in inference).
    pub moving_variance: Vec<T>,
}

/// Keras' `BatchNormalization` on `x` of shape `(..., F)`, the statistics taken over every axis
/// but the last. In training it normalises with the batch's mean and biased variance and returns
/// `moving = moving * momentum + batch * (1 - momentum)` for both statistics (the biased batch
/// variance, as Keras; PyTorch uses the unbiased one); in inference it uses the moving statistics
/// and returns them unchanged. `gamma` (scale) and `beta` (center) have shape `(F,)`; `None` is
/// Keras' `scale=False` / `center=False`.
///
/// Panics (naming the argument and the shapes) when `x` has rank 0 or a parameter or moving
/// statistic does not have `F` entries.
///
/// ```
/// use tapegrad::nn::{batch_norm, BatchNormConfig};
/// use tapegrad::{Tape, Tensor};
/// let tape = Tape::<f64>::new();
/// let x = tape.var(Tensor::from_vec(vec![1.0, 3.0], &[2, 1]));
/// let cfg = BatchNormConfig { momentum: 0.9, epsilon: 0.0 };
/// let out = batch_norm(x, None, None, &[0.0], &[1.0], cfg, true);
/// assert_eq!(out.y.value().to_vec(), vec![-1.0, 1.0]); // mean 2, variance 1
/// assert!((out.moving_mean[0] - 0.2).abs() < 1e-15);
/// assert!((out.moving_variance[0] - 1.0).abs() < 1e-15);
/// ```
#[track_caller]
pub fn batch_norm<'t, T: Float>(
    x: Var<'t, T>,
    gamma: Option<Var<'t, T>>,
    beta: Option<Var<'t, T>>,
    moving_mean: &[T],
    moving_variance: &[T],
    config: BatchNormConfig,
    training: bool,
) -> BatchNormOutput<'t, T> {
    let shape = x.shape();
    assert!(!shape.is_empty(), "batch_norm: x must have at least one axis, got a scalar");
    let f = shape[shape.len() - 1];
    let rows = x.len() / f.max(1);
    for (name, len) in [("moving_mean", moving_mean.len()), ("moving_variance", moving_variance.len())] {
        assert_eq!(len, f, "batch_norm: {name} has {len} entries, x {:?} has {f} features", &shape[..]);
    }
    check_param("batch_norm", "gamma", gamma, f);
    check_param("batch_norm", "beta", beta, f);
    let tape = x.tape();
    let x2 = x.reshape(&[rows, f]);
    let (mean, var, new_mean, new_var) = if training {
        let (mean, var) = moments(x2);
        let m = T::from_f64(config.momentum);
        let one_minus_m = T::from_f64(1.0 - config.momentum);
        let update = |moving: &[T], batch: &Var<'t, T>| -> Vec<T> {
            batch.with_data(|b| moving.iter().zip(b).map(|(&old, &new)| old * m + new * one_minus_m).collect())
        };
        let (nm, nv) = (update(moving_mean, &mean), update(moving_variance, &var));
        (mean, var, nm, nv)
    } else {
        let mean = tape.constant(Tensor::from_slice(moving_mean, &[f]));
        let var = tape.constant(Tensor::from_slice(moving_variance, &[f]));
        (mean, var, moving_mean.to_vec(), moving_variance.to_vec())
    };
    let y = normalize(x2, mean, var, T::from_f64(config.epsilon), gamma, beta).reshape(&shape);
    BatchNormOutput { y, moving_mean: new_mean, moving_variance: new_var }
}

/// The settings of [`layer_norm`] (Keras' `LayerNormalization` arguments, with its defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNormConfig {
    /// Added to the variance inside the square root (Keras: 0.001).
    pub epsilon: f64,
    /// Keras' deprecated `rms_scaling`: `x / sqrt(var + eps) * gamma` with the centred variance,
    /// no mean subtracted and no `beta` (default false).
    pub rms_scaling: bool,
}

impl Default for LayerNormConfig {
    fn default() -> Self {
        LayerNormConfig { epsilon: 1e-3, rms_scaling: false }
    }
}

/// Keras' `LayerNormalization` over the last axis of `x` (each sample's features), with `gamma`
/// and `beta` of shape `(F,)` (`None`: `scale=False` / `center=False`). With `rms_scaling`,
/// `beta` is not used and a missing `gamma` counts as ones.
///
/// ```
/// use tapegrad::nn::{layer_norm, LayerNormConfig};
/// use tapegrad::{Tape, Tensor};
/// let tape = Tape::<f64>::new();
/// let x = tape.var(Tensor::from_vec(vec![1.0, 3.0, 10.0, 20.0], &[2, 2]));
/// let cfg = LayerNormConfig { epsilon: 0.0, ..LayerNormConfig::default() };
/// let y = layer_norm(x, None, None, cfg);
/// assert_eq!(y.value().to_vec(), vec![-1.0, 1.0, -1.0, 1.0]);
/// ```
#[track_caller]
pub fn layer_norm<'t, T: Float>(
    x: Var<'t, T>,
    gamma: Option<Var<'t, T>>,
    beta: Option<Var<'t, T>>,
    config: LayerNormConfig,
) -> Var<'t, T> {
    let shape = x.shape();
    assert!(!shape.is_empty(), "layer_norm: x must have at least one axis, got a scalar");
    let f = shape[shape.len() - 1];
    check_param("layer_norm", "gamma", gamma, f);
    check_param("layer_norm", "beta", beta, f);
    let eps = T::from_f64(config.epsilon);
    let mean = x.mean_axis(-1, true);
    let centred = x - mean;
    let var = centred.square().mean_axis(-1, true);
    if config.rms_scaling {
        let inv = (var + eps).sqrt();
        let y = x / inv;
        return match gamma {
            Some(g) => y * g,
            None => y,
        };
    }
    normalize(x, mean, var, eps, gamma, beta)
}

/// The batch's mean and biased variance over axis 0 of a matrix, each `(F,)`: a row that the
/// elementwise ops broadcast over the batch in their direct row loops (a `(1, F)` operand would
/// take the general broadcast path, several times slower).
pub(crate) fn moments<'t, T: Float>(x: Var<'t, T>) -> (Var<'t, T>, Var<'t, T>) {
    let mean = x.mean_axis(0, false);
    let var = (x - mean).square().mean_axis(0, false);
    (mean, var)
}

/// `x * inv + (beta - mean * inv)`, `inv = gamma / sqrt(var + eps)`.
pub(crate) fn normalize<'t, T: Float>(
    x: Var<'t, T>,
    mean: Var<'t, T>,
    var: Var<'t, T>,
    eps: T,
    gamma: Option<Var<'t, T>>,
    beta: Option<Var<'t, T>>,
) -> Var<'t, T> {
    let mut inv = x.tape().scalar(T::ONE) / (var + eps).sqrt();
    if let Some(g) = gamma {
        inv = inv * g;
    }
    let shift = match beta {
        Some(b) => b - mean * inv,
        None => -(mean * inv),
    };
    x * inv + shift
}

#[track_caller]
fn check_param<T: Float>(op: &str, name: &str, p: Option<Var<'_, T>>, f: usize) {
    if let Some(p) = p {
        let s = p.shape();
        assert!(
            s.len() == 1 && s[0] == f,
            "{op}: {name} must have shape [{f}] (the features of x), got {:?}",
            &s[..]
        );
    }
}
