//! Activation functions applied after a layer's affine map.

use crate::tape::Var;
use crate::tensor::Float;
use std::fmt;
use std::str::FromStr;

/// A layer's activation, named as in Keras.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Activation {
    /// The identity (Keras' `"linear"`, the default).
    #[default]
    Linear,
    /// `max(x, 0)`.
    Relu,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// Softmax along the last axis.
    Softmax,
}

impl Activation {
    /// Keras' name: `"linear"`, `"relu"`, `"sigmoid"`, `"tanh"`, `"softmax"`.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
        }
    }

    /// Applies the activation to `x` (softmax along the last axis).
    ///
    /// ```
    /// use tapegrad::{nn::Activation, Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(Tensor::from_vec(vec![-1.0, 2.0], &[1, 2]));
    /// assert_eq!(Activation::Relu.apply(x).value().data(), &[0.0, 2.0]);
    /// ```
    pub fn apply<'t, T: Float>(self, x: Var<'t, T>) -> Var<'t, T> {
        match self {
            Activation::Linear => x,
            Activation::Relu => x.relu(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::Softmax => x.softmax(-1),
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Activation {
    type Err = String;
    /// Parses a Keras activation name (`None` and `"linear"` are the identity).
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "linear" | "none" => Activation::Linear,
            "relu" => Activation::Relu,
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "softmax" => Activation::Softmax,
            _ => return Err(format!("unknown activation '{s}'; known: linear, relu, sigmoid, tanh, softmax")),
        })
    }
}
