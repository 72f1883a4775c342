//! A stack of dense layers with its parameters.

use super::{Activation, Dense};
use crate::tape::{Tape, Var};
use crate::tensor::{Float, Tensor};
use rand::{rngs::StdRng, SeedableRng};
use smallvec::SmallVec;

/// One built layer: its configuration, name, input width and parameter slots.
#[derive(Clone, Debug)]
pub(crate) struct Built {
    pub config: Dense,
    pub name: String,
    pub input_width: usize,
    pub kernel: usize,
    pub bias: Option<usize>,
}

/// Parameter handles recorded on a tape, one per parameter slot (inline up to 16).
pub type ParamVars<'t, T> = SmallVec<[Var<'t, T>; 16]>;

/// Layers applied in order, like Keras' `Sequential`, with every weight held outside the tape as a
/// [`Tensor`]. Parameters are numbered in layer order (kernel, then bias) and named as Keras names
/// them: `dense/kernel`, `dense/bias`, `dense_1/kernel`, ...
///
/// ```
/// use tapegrad::nn::{Activation, Dense, Sequential};
/// use tapegrad::{Tape, Tensor};
/// let model = Sequential::<f64>::with_seed(3, vec![Dense::new(4).activation(Activation::Tanh), Dense::new(2)], 7);
/// let tape = Tape::new();
/// let x = tape.constant(Tensor::ones(&[5, 3]));
/// let y = model.forward(&tape, x);
/// assert_eq!(&y.shape()[..], &[5, 2]);
/// // Same seed, same weights.
/// let again = Sequential::<f64>::with_seed(3, vec![Dense::new(4).activation(Activation::Tanh), Dense::new(2)], 7);
/// assert_eq!(model.parameters()[0], again.parameters()[0]);
/// ```
#[derive(Clone, Debug)]
pub struct Sequential<T: Float> {
    input_width: usize,
    layers: Vec<Built>,
    params: Vec<Tensor<T>>,
    names: Vec<String>,
}

impl<T: Float> Sequential<T> {
    /// Builds the layers for inputs of `input_width` features, drawing the weights from a fresh
    /// random seed (use [`with_seed`](Self::with_seed) to repeat a run).
    #[track_caller]
    pub fn new(input_width: usize, layers: Vec<Dense>) -> Self {
        Self::with_seed(input_width, layers, rand::random())
    }

    /// Builds the layers with weights drawn from `StdRng::seed_from_u64(seed)`, in layer order
    /// (kernel, then bias): the same seed gives the same model.
    /// Panics (naming the layer) when the input width or a layer's units is zero.
    #[track_caller]
    pub fn with_seed(input_width: usize, layers: Vec<Dense>, seed: u64) -> Self {
        assert!(input_width > 0, "Sequential: the input width must be at least 1");
        let mut rng = StdRng::seed_from_u64(seed);
        let mut built = Vec::with_capacity(layers.len());
        let mut params = Vec::new();
        let mut names = Vec::new();
        let mut width = input_width;
        for (i, config) in layers.into_iter().enumerate() {
            let name = config
                .name
                .clone()
                .unwrap_or_else(|| if i == 0 { "dense".to_string() } else { format!("dense_{i}") });
            assert!(config.units > 0, "Sequential: layer {i} ('{name}') has 0 units");
            let kernel = params.len();
            params.push(config.kernel_initializer.sample::<T, _>(&[width, config.units], &mut rng));
            names.push(format!("{name}/kernel"));
            let bias = if config.use_bias {
                params.push(config.bias_initializer.sample::<T, _>(&[config.units], &mut rng));
                names.push(format!("{name}/bias"));
                Some(kernel + 1)
            } else {
                None
            };
            let units = config.units;
            built.push(Built { config, name, input_width: width, kernel, bias });
            width = units;
        }
        Sequential { input_width, layers: built, params, names }
    }

    /// Number of input features.
    pub fn input_width(&self) -> usize {
        self.input_width
    }

    /// Number of outputs of the last layer (the input width for an empty model).
    pub fn output_width(&self) -> usize {
        self.layers.last().map_or(self.input_width, |l| l.config.units)
    }

    /// The layers' configurations, in order.
    pub fn layers(&self) -> impl Iterator<Item = &Dense> + '_ {
        self.layers.iter().map(|l| &l.config)
    }

    /// The last layer's activation (`Linear` for an empty model).
    pub fn output_activation(&self) -> Activation {
        self.layers.last().map_or(Activation::Linear, |l| l.config.activation)
    }

    pub(crate) fn built(&self) -> &[Built] {
        &self.layers
    }

    /// Every parameter, in slot order.
    pub fn parameters(&self) -> &[Tensor<T>] {
        &self.params
    }

    /// Every parameter, mutable (to set weights by hand).
    pub fn parameters_mut(&mut self) -> &mut [Tensor<T>] {
        &mut self.params
    }

    /// `(name, tensor)` for every parameter, in slot order.
    pub fn named_parameters(&self) -> Vec<(&str, &Tensor<T>)> {
        self.names.iter().map(String::as_str).zip(&self.params).collect()
    }

    /// The parameter called `name` (e.g. `"dense_1/bias"`).
    pub fn parameter(&self, name: &str) -> Option<&Tensor<T>> {
        self.names.iter().position(|n| n == name).map(|i| &self.params[i])
    }

    /// Total number of weights.
    pub fn count_params(&self) -> usize {
        self.params.iter().map(Tensor::len).sum()
    }

    /// Records every parameter on `tape` as a tracked leaf, in slot order.
    pub fn record_parameters<'t>(&self, tape: &'t Tape<T>) -> ParamVars<'t, T> {
        self.params.iter().map(|p| tape.leaf(p.shape(), p.data(), true)).collect()
    }

    /// The model applied to `x` (shape `(batch, input_width)`), with parameters recorded fresh on
    /// the tape; use it to put the model into your own expressions.
    #[track_caller]
    pub fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
        let params = self.record_parameters(tape);
        self.forward_with(&params, x)
    }

    /// The model applied to `x` with parameters already recorded by
    /// [`record_parameters`](Self::record_parameters) (so their gradients can be read afterwards).
    #[track_caller]
    pub fn forward_with<'t>(&self, params: &[Var<'t, T>], x: Var<'t, T>) -> Var<'t, T> {
        assert_eq!(params.len(), self.params.len(), "Sequential::forward_with: expected {} parameters", self.params.len());
        let mut h = x;
        for layer in &self.layers {
            let mut z = h.matmul(params[layer.kernel]);
            if let Some(b) = layer.bias {
                z = z + params[b];
            }
            h = layer.config.activation.apply(z);
        }
        h
    }
}
