//! The `BatchNormalization` and `LayerNormalization` layers: the functions of
//! [`normalization`](super::normalization) with their weights in the model's parameter store.
//!
//! `BatchNormalization`'s moving statistics are non-trainable weights of the model: the
//! optimizer leaves them alone, they are saved with the model and in checkpoints, and
//! `get_weights`-style reads ([`Sequential::named_parameters`](super::Sequential::named_parameters))
//! include them. A training forward pass does not write them: it records their new values on the
//! tape and hands them to [`Ctx::assign`]; the training step copies them into the store's slots
//! after the optimizer update. So the store keeps one owner (the model, or the tape while lent),
//! and an inference pass never changes a weight.

use super::dense::{init_from_json, init_to_json};
use super::layer::{config_object, ArgumentError, Builder, Ctx, Layer};
use super::normalization::{layer_norm, moments, normalize, LayerNormConfig};
use super::Init;
use crate::tape::{Param, Var};
use crate::tensor::Float;
use serde_json::{json, Map, Value};

fn check_epsilon(layer: &'static str, epsilon: f64) -> Result<f64, ArgumentError> {
    if epsilon > 0.0 && epsilon.is_finite() {
        Ok(epsilon)
    } else {
        Err(ArgumentError { layer, argument: "epsilon", value: epsilon, expected: "finite and > 0" })
    }
}

/// Keras' `BatchNormalization` over the last axis (`axis=-1`): each feature normalised by the
/// batch's mean and biased variance in training, by the moving statistics in inference, then
/// scaled by `gamma` (if `scale`) and shifted by `beta` (if `center`):
/// `y = (x - mean) / sqrt(var + epsilon) * gamma + beta`.
///
/// After each training step the moving statistics become
/// `moving = moving * momentum + batch * (1 - momentum)`, the moving variance from the biased
/// batch variance, as Keras does (PyTorch uses the unbiased one there and the opposite
/// meaning of momentum). Weights, in Keras' order: `gamma` (ones), `beta` (zeros),
/// `moving_mean` (zeros, not trainable), `moving_variance` (ones, not trainable).
///
/// ```
/// use tapegrad::layers;
/// use tapegrad::nn::{BatchNormalization, Dense, Sequential};
/// let net = Sequential::<f64>::with_seed(3, layers![Dense::new(4), BatchNormalization::new(), Dense::new(1)], 0);
/// let names: Vec<_> = net.store().infos().iter().map(|i| (i.name.as_str(), i.trainable)).collect();
/// assert_eq!(names[2..6], [("batch_normalization/gamma", true), ("batch_normalization/beta", true),
///     ("batch_normalization/moving_mean", false), ("batch_normalization/moving_variance", false)]);
/// assert!(BatchNormalization::try_new(1.5, 1e-3).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNormalization {
    momentum: f64,
    epsilon: f64,
    center: bool,
    scale: bool,
    name: Option<String>,
    inits: [Init; 4],
    gamma: Option<Param>,
    beta: Option<Param>,
    moving: Option<(Param, Param)>,
}

impl Default for BatchNormalization {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchNormalization {
    /// Keras' defaults: momentum 0.99, epsilon 0.001, center and scale.
    pub fn new() -> Self {
        BatchNormalization {
            momentum: 0.99,
            epsilon: 1e-3,
            center: true,
            scale: true,
            name: None,
            inits: [Init::Ones, Init::Zeros, Init::Zeros, Init::Ones],
            gamma: None,
            beta: None,
            moving: None,
        }
    }
    /// With the given `momentum` (in `[0, 1]`) and `epsilon` (`> 0`).
    ///
    /// # Errors
    /// An [`ArgumentError`] naming `momentum` or `epsilon` and the value.
    pub fn try_new(momentum: f64, epsilon: f64) -> Result<Self, ArgumentError> {
        if !(0.0..=1.0).contains(&momentum) {
            return Err(ArgumentError { layer: "BatchNormalization", argument: "momentum", value: momentum, expected: "in [0, 1]" });
        }
        let epsilon = check_epsilon("BatchNormalization", epsilon)?;
        Ok(BatchNormalization { momentum, epsilon, ..Self::new() })
    }
    /// Whether to add the learned offset `beta`.
    pub fn center(mut self, center: bool) -> Self {
        self.center = center;
        self
    }
    /// Whether to multiply by the learned scale `gamma`.
    pub fn scale(mut self, scale: bool) -> Self {
        self.scale = scale;
        self
    }
    /// How `gamma` is initialized (Keras: ones).
    pub fn gamma_initializer(mut self, init: Init) -> Self {
        self.inits[0] = init;
        self
    }
    /// How `beta` is initialized (Keras: zeros).
    pub fn beta_initializer(mut self, init: Init) -> Self {
        self.inits[1] = init;
        self
    }
    /// How the moving mean is initialized (Keras: zeros).
    pub fn moving_mean_initializer(mut self, init: Init) -> Self {
        self.inits[2] = init;
        self
    }
    /// How the moving variance is initialized (Keras: ones).
    pub fn moving_variance_initializer(mut self, init: Init) -> Self {
        self.inits[3] = init;
        self
    }
    /// The layer's name (default: Keras' `batch_normalization`, ...).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// The momentum of the moving statistics.
    pub fn momentum(&self) -> f64 {
        self.momentum
    }
    /// The epsilon added to the variance.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }
    /// The handles of `(moving_mean, moving_variance)` once built.
    pub fn moving_statistics(&self) -> Option<(Param, Param)> {
        self.moving
    }

    /// The layer saved by `config`: `momentum`, `epsilon`, `center`, `scale` (Keras' defaults
    /// when missing), `axis` (only `-1`) and the four initializers.
    ///
    /// # Errors
    /// A bad, unknown or out-of-range key, named.
    pub fn from_config(config: &Value) -> Result<Self, String> {
        const INITS: [&str; 4] = ["gamma_initializer", "beta_initializer", "moving_mean_initializer", "moving_variance_initializer"];
        let obj = config_object(config, &["momentum", "epsilon", "center", "scale", "axis", INITS[0], INITS[1], INITS[2], INITS[3]])?;
        check_axis(obj)?;
        let d = Self::new();
        let mut l = Self::try_new(number(obj, "momentum", d.momentum)?, number(obj, "epsilon", d.epsilon)?)
            .map_err(|e| e.to_string())?
            .center(flag(obj, "center")?)
            .scale(flag(obj, "scale")?);
        for (slot, key) in INITS.iter().enumerate() {
            if let Some(v) = obj.get(*key) {
                l.inits[slot] = init_from_json(v).map_err(|e| format!("{key}: {e}"))?;
            }
        }
        Ok(l)
    }
}

fn number(obj: &Map<String, Value>, key: &str, default: f64) -> Result<f64, String> {
    match obj.get(key) {
        None => Ok(default),
        Some(v) => v.as_f64().ok_or_else(|| format!("{key:?} must be a number, got {v}")),
    }
}

fn flag(obj: &Map<String, Value>, key: &str) -> Result<bool, String> {
    match obj.get(key) {
        None => Ok(true),
        Some(v) => v.as_bool().ok_or_else(|| format!("{key:?} must be true or false, got {v}")),
    }
}

fn check_axis(obj: &Map<String, Value>) -> Result<(), String> {
    match obj.get("axis") {
        None => Ok(()),
        Some(v) if v.as_i64() == Some(-1) => Ok(()),
        Some(v) => Err(format!("\"axis\" must be -1 (the last axis), got {v}")),
    }
}

/// The features (last axis) of a layer's per-sample input shape.
fn features(input_shape: &[usize]) -> Result<usize, String> {
    match input_shape.last() {
        Some(&f) if f > 0 => Ok(f),
        _ => Err(format!("normalises the last axis, but the input shape {input_shape:?} has none (or it is empty)")),
    }
}

impl<T: Float> Layer<T> for BatchNormalization {
    fn class_name(&self) -> &'static str {
        "BatchNormalization"
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    fn build(&mut self, input_shape: &[usize], b: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
        let f = [features(input_shape)?];
        self.gamma = self.scale.then(|| b.add_weight("gamma", &f, self.inits[0], true));
        self.beta = self.center.then(|| b.add_weight("beta", &f, self.inits[1], true));
        let mean = b.add_weight("moving_mean", &f, self.inits[2], false);
        let var = b.add_weight("moving_variance", &f, self.inits[3], false);
        self.moving = Some((mean, var));
        Ok(input_shape.to_vec())
    }
    #[track_caller]
    fn forward<'t>(&self, x: Var<'t, T>, ctx: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
        let (mean_p, var_p) = self.moving.expect("BatchNormalization::forward: the layer is not built");
        let shape = x.shape();
        let f = shape[shape.len() - 1];
        // Every axis but the last is a batch axis: work on a (rows, F) matrix.
        let x2 = if shape.len() == 2 { x } else { x.reshape(&[x.len() / f, f]) };
        let (gamma, beta) = (self.gamma.map(|p| ctx.param(p)), self.beta.map(|p| ctx.param(p)));
        let (moving_mean, moving_var) = (ctx.param(mean_p), ctx.param(var_p));
        let (mean, var) = if ctx.training() {
            let (mean, var) = moments(x2);
            let (m, rest) = (T::from_f64(self.momentum), T::from_f64(1.0 - self.momentum));
            // The new moving statistics, F values each, recorded without gradient and written
            // into their slots by the training step.
            let (new_mean, new_var) = x.tape().no_grad(|| (moving_mean * m + mean * rest, moving_var * m + var * rest));
            ctx.assign(mean_p, new_mean);
            ctx.assign(var_p, new_var);
            (mean, var)
        } else {
            (moving_mean, moving_var)
        };
        let y = normalize(x2, mean, var, T::from_f64(self.epsilon), gamma, beta);
        if shape.len() == 2 {
            y
        } else {
            y.reshape(&shape)
        }
    }
    fn config(&self) -> Value {
        json!({
            "axis": -1,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "gamma_initializer": init_to_json(&self.inits[0]),
            "beta_initializer": init_to_json(&self.inits[1]),
            "moving_mean_initializer": init_to_json(&self.inits[2]),
            "moving_variance_initializer": init_to_json(&self.inits[3]),
        })
    }
}

/// Keras' `LayerNormalization` over the last axis (`axis=-1`): each sample's features
/// normalised by their own mean and biased variance, then scaled by `gamma` (if `scale`, ones)
/// and shifted by `beta` (if `center`, zeros). The same in training and inference.
///
/// ```
/// use tapegrad::layers;
/// use tapegrad::nn::{Dense, LayerNormalization, Sequential};
/// let net = Sequential::<f64>::with_seed(3, layers![Dense::new(4), LayerNormalization::new(), Dense::new(1)], 0);
/// assert_eq!(net.layer_names().collect::<Vec<_>>(), ["dense", "layer_normalization", "dense_1"]);
/// assert!(LayerNormalization::try_new(0.0).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNormalization {
    epsilon: f64,
    center: bool,
    scale: bool,
    name: Option<String>,
    inits: [Init; 2],
    gamma: Option<Param>,
    beta: Option<Param>,
}

impl Default for LayerNormalization {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerNormalization {
    /// Keras' defaults: epsilon 0.001, center and scale.
    pub fn new() -> Self {
        LayerNormalization { epsilon: 1e-3, center: true, scale: true, name: None, inits: [Init::Ones, Init::Zeros], gamma: None, beta: None }
    }
    /// With the given `epsilon` (`> 0`).
    ///
    /// # Errors
    /// An [`ArgumentError`] naming `epsilon` and the value.
    pub fn try_new(epsilon: f64) -> Result<Self, ArgumentError> {
        Ok(LayerNormalization { epsilon: check_epsilon("LayerNormalization", epsilon)?, ..Self::new() })
    }
    /// Whether to add the learned offset `beta`.
    pub fn center(mut self, center: bool) -> Self {
        self.center = center;
        self
    }
    /// Whether to multiply by the learned scale `gamma`.
    pub fn scale(mut self, scale: bool) -> Self {
        self.scale = scale;
        self
    }
    /// How `gamma` is initialized (Keras: ones).
    pub fn gamma_initializer(mut self, init: Init) -> Self {
        self.inits[0] = init;
        self
    }
    /// How `beta` is initialized (Keras: zeros).
    pub fn beta_initializer(mut self, init: Init) -> Self {
        self.inits[1] = init;
        self
    }
    /// The layer's name (default: Keras' `layer_normalization`, ...).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// The epsilon added to the variance.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// The layer saved by `config`: `epsilon`, `center`, `scale` (Keras' defaults when
    /// missing), `axis` (only `-1`) and the two initializers.
    ///
    /// # Errors
    /// A bad, unknown or out-of-range key, named.
    pub fn from_config(config: &Value) -> Result<Self, String> {
        let obj = config_object(config, &["epsilon", "center", "scale", "axis", "gamma_initializer", "beta_initializer"])?;
        check_axis(obj)?;
        let mut l = Self::try_new(number(obj, "epsilon", 1e-3)?)
            .map_err(|e| e.to_string())?
            .center(flag(obj, "center")?)
            .scale(flag(obj, "scale")?);
        for (slot, key) in ["gamma_initializer", "beta_initializer"].iter().enumerate() {
            if let Some(v) = obj.get(*key) {
                l.inits[slot] = init_from_json(v).map_err(|e| format!("{key}: {e}"))?;
            }
        }
        Ok(l)
    }
}

impl<T: Float> Layer<T> for LayerNormalization {
    fn class_name(&self) -> &'static str {
        "LayerNormalization"
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    fn build(&mut self, input_shape: &[usize], b: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
        let f = [features(input_shape)?];
        self.gamma = self.scale.then(|| b.add_weight("gamma", &f, self.inits[0], true));
        self.beta = self.center.then(|| b.add_weight("beta", &f, self.inits[1], true));
        Ok(input_shape.to_vec())
    }
    #[track_caller]
    fn forward<'t>(&self, x: Var<'t, T>, ctx: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
        let (gamma, beta) = (self.gamma.map(|p| ctx.param(p)), self.beta.map(|p| ctx.param(p)));
        layer_norm(x, gamma, beta, LayerNormConfig { epsilon: self.epsilon, rms_scaling: false })
    }
    fn config(&self) -> Value {
        json!({
            "axis": -1,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "gamma_initializer": init_to_json(&self.inits[0]),
            "beta_initializer": init_to_json(&self.inits[1]),
        })
    }
}
