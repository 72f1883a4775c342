//! Weight initializers with Keras' fan rules.

use crate::tensor::{Float, Tensor};
use rand::Rng;
use std::fmt;

/// Keras divides a truncated normal's standard deviation by this (the standard deviation of a
/// unit normal truncated to two standard deviations), so the truncated draws keep the target variance.
const TRUNCATION_STD: f64 = 0.879_625_661_034_239_8;

/// How a parameter tensor is filled at build time. For a `Dense` kernel of shape
/// `(fan_in, fan_out)` the scaled initializers use Keras' rules:
///
/// | initializer | distribution |
/// | --- | --- |
/// | `GlorotUniform` | `U(-l, l)`, `l = sqrt(6 / (fan_in + fan_out))` |
/// | `GlorotNormal` | normal truncated at 2 std, std `sqrt(2 / (fan_in + fan_out)) / 0.8796...` |
/// | `HeUniform` | `U(-l, l)`, `l = sqrt(6 / fan_in)` |
/// | `HeNormal` | normal truncated at 2 std, std `sqrt(2 / fan_in) / 0.8796...` |
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use tapegrad::nn::Init;
/// let w = Init::HeUniform.sample::<f64, _>(&[4, 3], &mut StdRng::seed_from_u64(0));
/// let limit = (6.0f64 / 4.0).sqrt();
/// assert!(w.data().iter().all(|v| v.abs() <= limit));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Init {
    /// Glorot (Xavier) uniform, Dense's default kernel initializer.
    #[default]
    GlorotUniform,
    /// Glorot (Xavier) truncated normal.
    GlorotNormal,
    /// He uniform (for ReLU layers).
    HeUniform,
    /// He truncated normal.
    HeNormal,
    /// All zeros, Dense's default bias initializer.
    Zeros,
    /// All ones.
    Ones,
    /// Every element the given value.
    Constant(f64),
    /// Normal with the given mean and standard deviation (Keras' `RandomNormal`).
    RandomNormal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        stddev: f64,
    },
    /// Uniform in `[minval, maxval)` (Keras' `RandomUniform`).
    RandomUniform {
        /// Lower bound.
        minval: f64,
        /// Upper bound.
        maxval: f64,
    },
}

impl Init {
    /// Keras' name of the initializer.
    pub fn name(&self) -> &'static str {
        match self {
            Init::GlorotUniform => "glorot_uniform",
            Init::GlorotNormal => "glorot_normal",
            Init::HeUniform => "he_uniform",
            Init::HeNormal => "he_normal",
            Init::Zeros => "zeros",
            Init::Ones => "ones",
            Init::Constant(_) => "constant",
            Init::RandomNormal { .. } => "random_normal",
            Init::RandomUniform { .. } => "random_uniform",
        }
    }

    /// Parses a Keras initializer name (`"constant"` gives 0; use [`Init::Constant`] for others).
    pub fn from_name(name: &str) -> Option<Init> {
        Some(match name {
            "glorot_uniform" => Init::GlorotUniform,
            "glorot_normal" => Init::GlorotNormal,
            "he_uniform" => Init::HeUniform,
            "he_normal" => Init::HeNormal,
            "zeros" => Init::Zeros,
            "ones" => Init::Ones,
            "constant" => Init::Constant(0.0),
            "random_normal" => Init::RandomNormal { mean: 0.0, stddev: 0.05 },
            "random_uniform" => Init::RandomUniform { minval: -0.05, maxval: 0.05 },
            _ => return None,
        })
    }

    /// Keras' fans of a shape: a vector has `fan_in = fan_out = len`; a matrix `(rows, cols)` has
    /// `fan_in = rows`, `fan_out = cols`; higher ranks multiply the leading dims into a receptive field.
    pub fn fans(shape: &[usize]) -> (f64, f64) {
        match shape.len() {
            0 => (1.0, 1.0),
            1 => (shape[0] as f64, shape[0] as f64),
            2 => (shape[0] as f64, shape[1] as f64),
            r => {
                let field: usize = shape[..r - 2].iter().product();
                ((shape[r - 2] * field) as f64, (shape[r - 1] * field) as f64)
            }
        }
    }

    /// A tensor of `shape` drawn from this initializer with `rng`.
    pub fn sample<T: Float, R: Rng + ?Sized>(&self, shape: &[usize], rng: &mut R) -> Tensor<T> {
        let n: usize = shape.iter().product();
        let (fan_in, fan_out) = Self::fans(shape);
        let data: Vec<T> = match *self {
            Init::Zeros => vec![T::ZERO; n],
            Init::Ones => vec![T::ONE; n],
            Init::Constant(c) => vec![T::from_f64(c); n],
            Init::GlorotUniform => uniform(n, (6.0 / (fan_in + fan_out)).sqrt(), rng),
            Init::HeUniform => uniform(n, (6.0 / fan_in).sqrt(), rng),
            Init::GlorotNormal => truncated_normal(n, (2.0 / (fan_in + fan_out)).sqrt() / TRUNCATION_STD, rng),
            Init::HeNormal => truncated_normal(n, (2.0 / fan_in).sqrt() / TRUNCATION_STD, rng),
            Init::RandomNormal { mean, stddev } => {
                (0..n).map(|_| T::from_f64(mean + stddev * standard_normal(rng))).collect()
            }
            Init::RandomUniform { minval, maxval } => {
                (0..n).map(|_| T::from_f64(minval + (maxval - minval) * rng.gen::<f64>())).collect()
            }
        };
        Tensor::from_vec(data, shape)
    }
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn uniform<T: Float, R: Rng + ?Sized>(n: usize, limit: f64, rng: &mut R) -> Vec<T> {
    (0..n).map(|_| T::from_f64(limit * (2.0 * rng.gen::<f64>() - 1.0))).collect()
}

/// One standard normal draw (Box-Muller; the second value is dropped to keep the draw count simple).
pub(crate) fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Normal draws with standard deviation `std`, redrawn until within two standard deviations.
fn truncated_normal<T: Float, R: Rng + ?Sized>(n: usize, std: f64, rng: &mut R) -> Vec<T> {
    (0..n)
        .map(|_| loop {
            let z = standard_normal(rng);
            if z.abs() <= 2.0 {
                break T::from_f64(std * z);
            }
        })
        .collect()
}
