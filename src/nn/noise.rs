//! Random regularising layers: `Dropout`, `GaussianNoise` and `GaussianDropout`. Each is the
//! identity in inference and draws from the model's seeded generator in training, so a seeded
//! `fit` is reproducible.

use super::init::standard_normal;
use super::layer::{config_object, ArgumentError, Builder, Ctx, Layer};
use crate::tape::Var;
use crate::tensor::Float;
use rand::rngs::StdRng;
use rand::{Rng, RngCore};
use serde_json::{json, Value};

/// The generator a random layer draws its per-element numbers from: xoshiro256++ (Blackman and
/// Vigna), seeded by one draw of the model's seeded `StdRng` per layer call (through SplitMix64).
/// The model's generator still decides every mask, so a seeded `fit` repeats bit for bit, while
/// an element costs about a nanosecond instead of a ChaCha12 block's share (see `docs/performance.md`).
struct LayerRng {
    s: [u64; 4],
}

impl LayerRng {
    fn from_model(rng: &mut StdRng) -> Self {
        let mut x: u64 = rng.gen();
        let mut splitmix = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        LayerRng { s: [splitmix(), splitmix(), splitmix(), splitmix()] }
    }
}

impl RngCore for LayerRng {
    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

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
        let mut rng = LayerRng::from_model(ctx.rng());
        // Keras keeps an element when its uniform draw `u` is at least `rate`. With 53-bit draws
        // `u = k / 2^53`, that is `k >= ceil(rate * 2^53)` (exact: scaling by 2^53 rounds
        // nothing), compared as integers and picked without a branch (a random branch per element
        // cost more than the draw).
        let threshold = (rate * (1u64 << 53) as f64).ceil() as u64;
        let pick = [T::ZERO, scale];
        let mask = x.tape().constant_with(&x.shape(), |m| {
            m.iter_mut().for_each(|v| *v = pick[usize::from((rng.next_u64() >> 11) >= threshold)])
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
        let mut rng = LayerRng::from_model(ctx.rng());
        let noise = x.tape().constant_with(&x.shape(), |n| {
            n.iter_mut().for_each(|v| *v = T::from_f64(stddev * standard_normal(&mut rng)))
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
        let mut rng = LayerRng::from_model(ctx.rng());
        let noise = x.tape().constant_with(&x.shape(), |n| {
            n.iter_mut().for_each(|v| *v = T::from_f64(1.0 + stddev * standard_normal(&mut rng)))
        });
        x * noise
    }
    fn config(&self) -> Value {
        json!({ "rate": self.rate })
    }
}
