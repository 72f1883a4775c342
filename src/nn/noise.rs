//! Random regularising layers: `Dropout`, `GaussianNoise` and `GaussianDropout`. Each is the
//! identity in inference and draws from the model's seeded generator in training, so a seeded
//! `fit` is reproducible.

use super::init::standard_normal;
use super::layer::{config_object, ArgumentError, Builder, Ctx, Layer};
use crate::tape::Var;
use crate::tensor::Float;
use rand::Rng;
use serde_json::{json, Value};

fn number(config: &Value, layer: &str, key: &str) -> Result<f64, String> {
    config_object(config, &[key])?
        .get(key)
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("{layer} needs a number {key:?}"))
}

fn check_rate(layer: &'static str, rate: f64) -> Result<f64, ArgumentError> {
    if (0.0..1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(ArgumentError { layer, argument: "rate", value: rate, expected: "in [0, 1)" })
    }
}

/// Keras' `Dropout(rate)`, inverted: in training each element is zeroed with probability `rate`
/// and the kept ones are scaled by `1 / (1 - rate)`, so the expected output equals the input;
/// in inference it is the identity.
///
/// ```
/// use tapegrad::layers;
/// use tapegrad::nn::{Dense, Dropout, Sequential};
/// let net = Sequential::<f64>::with_seed(4, layers![Dense::new(8), Dropout::new(0.5), Dense::new(1)], 0);
/// assert_eq!(net.layer_names().collect::<Vec<_>>(), ["dense", "dropout", "dense_1"]);
/// assert!(Dropout::try_new(1.0).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dropout {
    rate: f64,
}

impl Dropout {
    /// A dropout layer; panics (naming the value) unless `0 <= rate < 1`.
    #[track_caller]
    pub fn new(rate: f64) -> Self {
        Self::try_new(rate).unwrap_or_else(|e| panic!("{e}"))
    }
    /// As [`new`](Self::new), returning the error.
    ///
    /// # Errors
    /// `rate` outside `[0, 1)` (or NaN).
    pub fn try_new(rate: f64) -> Result<Self, ArgumentError> {
        Ok(Dropout { rate: check_rate("Dropout", rate)? })
    }
    /// The drop probability.
    pub fn rate(&self) -> f64 {
        self.rate
    }
    /// The layer of a saved config `{"rate": r}`.
    ///
    /// # Errors
    /// A missing, unknown or out-of-range key.
    pub fn from_config(config: &Value) -> Result<Self, String> {
        Self::try_new(number(config, "Dropout", "rate")?).map_err(|e| e.to_string())
    }
}

impl<T: Float> Layer<T> for Dropout {
    fn class_name(&self) -> &'static str {
        "Dropout"
    }
    fn build(&mut self, input_shape: &[usize], _: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
        Ok(input_shape.to_vec())
    }
    fn forward<'t>(&self, x: Var<'t, T>, ctx: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
        if !ctx.training() || self.rate == 0.0 {
            return x;
        }
        let (rate, scale) = (self.rate, T::from_f64(1.0 / (1.0 - self.rate)));
        let rng = ctx.rng();
        // Keras keeps an element when its uniform draw is at least `rate`.
        let mask = x.tape().constant_with(&x.shape(), |m| {
            m.iter_mut().for_each(|v| *v = if rng.gen::<f64>() >= rate { scale } else { T::ZERO })
        });
        x * mask
    }
    fn config(&self) -> Value {
        json!({ "rate": self.rate })
    }
}

/// Keras' `GaussianNoise(stddev)`: in training adds zero-mean normal noise of standard deviation
/// `stddev` to every element; in inference the identity.
#[derive(Clone, Debug, PartialEq)]
pub struct GaussianNoise {
    stddev: f64,
}

impl GaussianNoise {
    /// A noise layer; panics (naming the value) unless `stddev >= 0` and finite.
    #[track_caller]
    pub fn new(stddev: f64) -> Self {
        Self::try_new(stddev).unwrap_or_else(|e| panic!("{e}"))
    }
    /// As [`new`](Self::new), returning the error.
    ///
    /// # Errors
    /// A negative, infinite or NaN `stddev`.
    pub fn try_new(stddev: f64) -> Result<Self, ArgumentError> {
        if stddev >= 0.0 && stddev.is_finite() {
            Ok(GaussianNoise { stddev })
        } else {
            Err(ArgumentError { layer: "GaussianNoise", argument: "stddev", value: stddev, expected: "finite and >= 0" })
        }
    }
    /// The noise's standard deviation.
    pub fn stddev(&self) -> f64 {
        self.stddev
    }
    /// The layer of a saved config `{"stddev": s}`.
    ///
    /// # Errors
    /// A missing, unknown or out-of-range key.
    pub fn from_config(config: &Value) -> Result<Self, String> {
        Self::try_new(number(config, "GaussianNoise", "stddev")?).map_err(|e| e.to_string())
    }
}

impl<T: Float> Layer<T> for GaussianNoise {
    fn class_name(&self) -> &'static str {
        "GaussianNoise"
    }
    fn build(&mut self, input_shape: &[usize], _: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
        Ok(input_shape.to_vec())
    }
    fn forward<'t>(&self, x: Var<'t, T>, ctx: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
        if !ctx.training() || self.stddev == 0.0 {
            return x;
        }
        let stddev = self.stddev;
        let rng = ctx.rng();
        let noise = x.tape().constant_with(&x.shape(), |n| {
            n.iter_mut().for_each(|v| *v = T::from_f64(stddev * standard_normal(rng)))
        });
        x + noise
    }
    fn config(&self) -> Value {
        json!({ "stddev": self.stddev })
    }
}

/// Keras' `GaussianDropout(rate)`: in training multiplies every element by normal noise of mean 1
/// and standard deviation `sqrt(rate / (1 - rate))`; in inference the identity.
#[derive(Clone, Debug, PartialEq)]
pub struct GaussianDropout {
    rate: f64,
}

impl GaussianDropout {
    /// A Gaussian dropout layer; panics (naming the value) unless `0 <= rate < 1`.
    #[track_caller]
    pub fn new(rate: f64) -> Self {
        Self::try_new(rate).unwrap_or_else(|e| panic!("{e}"))
    }
    /// As [`new`](Self::new), returning the error.
    ///
    /// # Errors
    /// `rate` outside `[0, 1)` (or NaN).
    pub fn try_new(rate: f64) -> Result<Self, ArgumentError> {
        Ok(GaussianDropout { rate: check_rate("GaussianDropout", rate)? })
    }
    /// The rate.
    pub fn rate(&self) -> f64 {
        self.rate
    }
    /// The layer of a saved config `{"rate": r}`.
    ///
    /// # Errors
    /// A missing, unknown or out-of-range key.
    pub fn from_config(config: &Value) -> Result<Self, String> {
        Self::try_new(number(config, "GaussianDropout", "rate")?).map_err(|e| e.to_string())
    }
}

impl<T: Float> Layer<T> for GaussianDropout {
    fn class_name(&self) -> &'static str {
        "GaussianDropout"
    }
    fn build(&mut self, input_shape: &[usize], _: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
        Ok(input_shape.to_vec())
    }
    fn forward<'t>(&self, x: Var<'t, T>, ctx: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
        if !ctx.training() || self.rate == 0.0 {
            return x;
        }
        let stddev = (self.rate / (1.0 - self.rate)).sqrt();
        let rng = ctx.rng();
        let noise = x.tape().constant_with(&x.shape(), |n| {
            n.iter_mut().for_each(|v| *v = T::from_f64(1.0 + stddev * standard_normal(rng)))
        });
        x * noise
    }
    fn config(&self) -> Value {
        json!({ "rate": self.rate })
    }
}
