//! The fully connected layer's configuration.

use super::{Activation, Init};

/// A fully connected layer, `activation(x @ kernel + bias)`, configured like Keras' `Dense`.
/// It holds no weights itself: [`Sequential`](super::Sequential) builds them from the input width.
///
/// ```
/// use tapegrad::nn::{Activation, Dense, Init};
/// let layer = Dense::new(25).activation(Activation::Relu).kernel_initializer(Init::HeUniform);
/// assert_eq!(layer.units(), 25);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub(crate) units: usize,
    pub(crate) activation: Activation,
    pub(crate) kernel_initializer: Init,
    pub(crate) bias_initializer: Init,
    pub(crate) use_bias: bool,
    pub(crate) name: Option<String>,
}

impl Dense {
    /// A layer with `units` outputs, linear activation, Glorot-uniform kernel and zero bias.
    pub fn new(units: usize) -> Self {
        Dense {
            units,
            activation: Activation::Linear,
            kernel_initializer: Init::GlorotUniform,
            bias_initializer: Init::Zeros,
            use_bias: true,
            name: None,
        }
    }
    /// The activation applied after the affine map.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }
    /// How the kernel is initialized.
    pub fn kernel_initializer(mut self, init: Init) -> Self {
        self.kernel_initializer = init;
        self
    }
    /// How the bias is initialized.
    pub fn bias_initializer(mut self, init: Init) -> Self {
        self.bias_initializer = init;
        self
    }
    /// Whether the layer has a bias.
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }
    /// The layer's name (default: Keras' `dense`, `dense_1`, ... by position).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Number of outputs.
    pub fn units(&self) -> usize {
        self.units
    }
    /// The configured activation.
    pub fn get_activation(&self) -> Activation {
        self.activation
    }
}
