//! A stack of layers and the one store of their parameters.

use super::layer::{snake_case, Builder, Ctx, Layer};
use super::Activation;
use crate::tape::{Gradients, Param, ParamStore, Tape, Var};
use crate::tensor::{Float, Tensor};
use rand::{rngs::StdRng, SeedableRng};
use smallvec::SmallVec;
use std::collections::HashMap;
use std::ops::Range;

/// One built layer: the layer, its name, its input and output shapes and its parameters' handles.
#[derive(Clone, Debug)]
pub(crate) struct Built<T: Float> {
    pub layer: Box<dyn Layer<T>>,
    pub name: String,
    pub output_shape: Vec<usize>,
    pub params: Range<usize>,
}

/// Parameter handles recorded on a tape, one per parameter slot (inline up to 16).
pub type ParamVars<'t, T> = SmallVec<[Var<'t, T>; 16]>;

/// What a forward pass of the whole model gives: the output, and the extra loss terms and state
/// updates its layers asked for.
#[derive(Debug)]
pub struct Output<'t, T: Float> {
    /// The model's output.
    pub output: Var<'t, T>,
    /// Terms to add to the loss (activity penalties, weight penalties), in training and in
    /// evaluation alike, as Keras adds them to `loss` and `val_loss`.
    pub losses: Vec<Var<'t, T>>,
    /// Non-trainable weights and their new values, applied after a training step.
    pub updates: Vec<(Param, Var<'t, T>)>,
}

/// Layers applied in order, like Keras' `Sequential`, owning every weight in one
/// [`ParamStore`]. Layers are named as Keras names them (`dense`, `dense_1`, `dropout`, ...) and
/// their parameters `dense/kernel`, `dense/bias`, ...; parameters are numbered in layer order.
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
    input_shape: Vec<usize>,
    layers: Vec<Built<T>>,
    store: ParamStore<T>,
}

impl<T: Float> Sequential<T> {
    /// Builds the layers for inputs of `input_width` features, drawing the weights from a fresh
    /// random seed (use [`with_seed`](Self::with_seed) to repeat a run).
    #[track_caller]
    pub fn new<L: Into<Box<dyn Layer<T>>>>(input_width: usize, layers: Vec<L>) -> Self {
        Self::with_seed(input_width, layers, rand::random())
    }

    /// Builds the layers with weights drawn from `StdRng::seed_from_u64(seed)`, in layer order
    /// (kernel, then bias): the same seed gives the same model. Mix layer types with the
    /// [`layers!`](crate::layers) macro: `layers![Dense::new(8), Dropout::new(0.5), Dense::new(1)]`.
    /// Panics (naming the layer) when the input width is zero or a layer cannot be built.
    #[track_caller]
    pub fn with_seed<L: Into<Box<dyn Layer<T>>>>(input_width: usize, layers: Vec<L>, seed: u64) -> Self {
        match Self::try_with_seed(input_width, layers, seed) {
            Ok(net) => net,
            Err(e) => panic!("Sequential: {e}"),
        }
    }

    /// [`with_seed`](Self::with_seed) returning the problem instead of panicking.
    ///
    /// # Errors
    /// A zero input width, two layers with one name, or a layer whose `build` refuses its input.
    pub fn try_with_seed<L: Into<Box<dyn Layer<T>>>>(input_width: usize, layers: Vec<L>, seed: u64) -> Result<Self, String> {
        Self::try_with_input_shape(&[input_width], layers, seed)
    }

    /// Builds the layers for samples of `input_shape` (without the batch axis, as Keras'
    /// `Input(shape=...)`: `&[8, 8, 1]` for 8x8 one-channel images, channels last), weights drawn
    /// from `StdRng::seed_from_u64(seed)`. `with_seed(w, ..)` is `with_input_shape(&[w], ..)`.
    /// Panics (naming the layer) when a dimension is zero or a layer cannot be built.
    ///
    /// ```
    /// use tapegrad::layers;
    /// use tapegrad::nn::{Conv2D, Dense, Flatten, Sequential};
    /// let net = Sequential::<f32>::with_input_shape(&[8, 8, 1], layers![Conv2D::new(4, [3, 3]), Flatten::new(), Dense::new(10)], 0);
    /// assert_eq!(net.input_shape(), &[8, 8, 1]);
    /// assert_eq!(net.input_width(), 64);
    /// assert!(net.summary().contains("(None, 6, 6, 4)"));
    /// ```
    #[track_caller]
    pub fn with_input_shape<L: Into<Box<dyn Layer<T>>>>(input_shape: &[usize], layers: Vec<L>, seed: u64) -> Self {
        match Self::try_with_input_shape(input_shape, layers, seed) {
            Ok(net) => net,
            Err(e) => panic!("Sequential: {e}"),
        }
    }

    /// [`with_input_shape`](Self::with_input_shape) returning the problem instead of panicking.
    ///
    /// # Errors
    /// An empty input shape or a zero dimension, two layers with one name, or a layer whose
    /// `build` refuses its input.
    pub fn try_with_input_shape<L: Into<Box<dyn Layer<T>>>>(input_shape: &[usize], layers: Vec<L>, seed: u64) -> Result<Self, String> {
        Self::build_named(input_shape, layers.into_iter().map(|l| (l.into(), None)).collect(), seed, false)
    }

    /// Builds the layers, each under the given name or, for `None`, its own or Keras' default.
    /// A `dry` build records the weights' names and shapes without values: the caller then
    /// checks them against a file and sets them with [`fill_parameters`](Self::fill_parameters).
    pub(crate) fn build_named(input_shape: &[usize], layers: Vec<(Box<dyn Layer<T>>, Option<String>)>, seed: u64, dry: bool) -> Result<Self, String> {
        if let [0] = input_shape {
            return Err("the input width must be at least 1".into());
        }
        if input_shape.is_empty() || input_shape.contains(&0) {
            return Err(format!("the input shape must have positive dimensions, got {input_shape:?}"));
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let mut store = ParamStore::new();
        let mut built: Vec<Built<T>> = Vec::with_capacity(layers.len());
        let mut counters: HashMap<String, usize> = HashMap::new();
        let mut shape = input_shape.to_vec();
        for (i, (mut layer, given)) in layers.into_iter().enumerate() {
            let name = match given.as_deref().or(layer.name()) {
                Some(n) => n.to_string(),
                None => {
                    let base = snake_case(layer.class_name());
                    let k = counters.entry(base.clone()).or_insert(0);
                    *k += 1;
                    if *k == 1 {
                        base
                    } else {
                        format!("{base}_{}", *k - 1)
                    }
                }
            };
            if built.iter().any(|b| b.name == name) {
                return Err(format!("layer {i} ('{name}'): the name is used by an earlier layer"));
            }
            let first = store.len();
            let mut b = Builder { store: &mut store, rng: &mut rng, layer: &name, dry, overflow: None };
            let out = layer.build(&shape, &mut b).map_err(|e| format!("layer {i} ('{name}') {e}"))?;
            if let Some(e) = b.overflow {
                return Err(format!("layer {i} ('{name}'): {e}"));
            }
            built.push(Built { layer, name, output_shape: out.clone(), params: first..store.len() });
            shape = out;
        }
        Ok(Sequential { input_shape: input_shape.to_vec(), layers: built, store })
    }

    /// Number of input values per sample: the input width of a model of vectors, the product of
    /// the [`input_shape`](Self::input_shape) otherwise (the length of one flattened sample).
    pub fn input_width(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// The shape of one input sample (without the batch axis): `[width]` for a model of vectors.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// The shape of one output sample (without the batch axis; the input's for an empty model).
    pub fn output_shape(&self) -> &[usize] {
        self.layers.last().map_or(&self.input_shape, |l| &l.output_shape)
    }

    /// Number of output values per sample (the product of [`output_shape`](Self::output_shape)).
    pub fn output_width(&self) -> usize {
        self.output_shape().iter().product()
    }

    /// The layers, in order (downcast one with `layer.downcast_ref::<Dense>()`).
    pub fn layers(&self) -> impl Iterator<Item = &dyn Layer<T>> + '_ {
        self.layers.iter().map(|l| &*l.layer)
    }

    /// The layers' names, in order.
    pub fn layer_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.layers.iter().map(|l| l.name.as_str())
    }

    /// The activation of the last layer that names one (`Linear` if none does).
    pub fn output_activation(&self) -> Activation {
        self.layers.iter().rev().find_map(|l| l.layer.output_activation()).unwrap_or(Activation::Linear)
    }

    pub(crate) fn built(&self) -> &[Built<T>] {
        &self.layers
    }

    /// The store holding every weight.
    pub fn store(&self) -> &ParamStore<T> {
        &self.store
    }

    /// Every parameter as a tensor (a copy), in slot order.
    pub fn parameters(&self) -> Vec<Tensor<T>> {
        self.store.handles().map(|p| self.store.tensor(p)).collect()
    }

    /// Every parameter's values, writable in place (to set weights by hand), in slot order.
    pub fn parameters_mut(&mut self) -> Vec<&mut [T]> {
        self.store.values_mut()
    }

    /// `(name, tensor)` for every parameter (copies), in slot order.
    pub fn named_parameters(&self) -> Vec<(&str, Tensor<T>)> {
        self.store.infos().iter().zip(self.store.handles()).map(|(i, p)| (i.name.as_str(), self.store.tensor(p))).collect()
    }

    /// The parameter called `name` (e.g. `"dense_1/bias"`), copied.
    pub fn parameter(&self, name: &str) -> Option<Tensor<T>> {
        self.store.infos().iter().position(|i| i.name == name).map(|i| self.store.tensor(Param(i)))
    }

    /// Sets every parameter from `values` (in slot order).
    /// Panics when the count or a shape differs.
    #[track_caller]
    pub fn set_parameters(&mut self, values: &[Tensor<T>]) {
        assert_eq!(values.len(), self.store.len(), "Sequential::set_parameters: {} tensors for {} parameters", values.len(), self.store.len());
        for (i, v) in values.iter().enumerate() {
            let info = &self.store.infos()[i];
            assert_eq!(v.shape(), &info.shape[..], "Sequential::set_parameters: {} has shape {:?}, got {:?}", info.name, &info.shape[..], v.shape());
            self.store.get_mut(Param(i)).copy_from_slice(v.data());
        }
    }

    /// Sets every parameter of a dry build from `values` (in slot order, shapes checked by the caller).
    pub(crate) fn fill_parameters(&mut self, values: &[Tensor<T>]) {
        let mut all = Vec::with_capacity(self.store.count());
        for v in values {
            all.extend_from_slice(v.data());
        }
        self.store.fill(all);
    }

    /// Total number of weights (trainable and not).
    pub fn count_params(&self) -> usize {
        self.store.count()
    }

    /// Records every parameter on `tape` as a leaf (trainable ones tracked), in slot order.
    pub fn record_parameters<'t>(&self, tape: &'t Tape<T>) -> ParamVars<'t, T> {
        self.store
            .infos()
            .iter()
            .zip(self.store.handles())
            .map(|(i, p)| tape.leaf(&i.shape, self.store.get(p), i.trainable))
            .collect()
    }

    /// The model applied to `x` (shape `(batch, input_shape...)`, or `(batch, input_width)` with
    /// each sample flattened) in inference mode, with parameters recorded fresh on the tape; use
    /// it to put the model into your own expressions.
    #[track_caller]
    pub fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
        let params = self.record_parameters(tape);
        self.forward_with(&params, x)
    }

    /// The model applied to `x` in inference mode with parameters already recorded by
    /// [`record_parameters`](Self::record_parameters) (so their gradients can be read afterwards).
    #[track_caller]
    pub fn forward_with<'t>(&self, params: &[Var<'t, T>], x: Var<'t, T>) -> Var<'t, T> {
        self.call(params, x, false, None).output
    }

    /// The model applied to `x` with `params` (in slot order), in training mode or not, drawing
    /// random layers from `rng`: the output with the loss terms and state updates the layers
    /// asked for (Keras' `model(x, training=...)` and `model.losses`).
    #[track_caller]
    pub fn call<'t>(&self, params: &[Var<'t, T>], x: Var<'t, T>, training: bool, rng: Option<&mut StdRng>) -> Output<'t, T> {
        assert_eq!(params.len(), self.store.len(), "Sequential::call: expected {} parameters, got {}", self.store.len(), params.len());
        run(&self.layers, &self.input_shape, params, x, training, rng)
    }

    /// Lends the parameters to `tape` as its parameter region until the loan drops.
    pub(crate) fn lend<'a>(&'a mut self, tape: &'a mut Tape<T>) -> Lent<'a, T> {
        tape.lend_params(&mut self.store);
        Lent { net: &self.layers, input_shape: &self.input_shape, store: &mut self.store, tape }
    }
}

/// Runs `layers` on `x`, then gathers their penalties. A batch of flattened samples
/// `(batch, width)` of a model whose samples have more axes is first given their shape.
#[track_caller]
fn run<'t, T: Float>(
    layers: &[Built<T>],
    input_shape: &[usize],
    params: &[Var<'t, T>],
    x: Var<'t, T>,
    training: bool,
    rng: Option<&mut StdRng>,
) -> Output<'t, T> {
    let mut ctx = Ctx { params, training, rng, losses: Vec::new(), updates: Vec::new() };
    let s = x.shape();
    let mut h = if input_shape.len() > 1 && s.len() == 2 && s[1] == input_shape.iter().product::<usize>() {
        let shape: Vec<usize> = [s[0]].into_iter().chain(input_shape.iter().copied()).collect();
        x.reshape(&shape)
    } else {
        x
    };
    for l in layers {
        h = l.layer.forward(h, &mut ctx);
    }
    // Keras counts every penalty in evaluation too (`val_loss` includes them).
    for l in layers {
        let extra = l.layer.penalties(&ctx);
        ctx.losses.extend(extra);
    }
    Output { output: h, losses: ctx.losses, updates: ctx.updates }
}

/// A model whose parameters are lent to a tape (the training loop's view): forward passes read
/// them in place, the optimizer updates them in place, and dropping the loan gives them back.
pub(crate) struct Lent<'a, T: Float> {
    net: &'a [Built<T>],
    input_shape: &'a [usize],
    store: &'a mut ParamStore<T>,
    tape: &'a mut Tape<T>,
}

impl<T: Float> Drop for Lent<'_, T> {
    fn drop(&mut self) {
        self.tape.return_params(self.store);
    }
}

impl<T: Float> Lent<'_, T> {
    /// The tape holding the parameters.
    pub fn tape(&self) -> &Tape<T> {
        self.tape
    }

    /// Forgets the last recording, keeping the parameters.
    pub fn clear(&mut self) {
        self.tape.clear();
    }

    /// The parameters as `Var`s, in slot order.
    pub fn params(&self) -> ParamVars<'_, T> {
        self.tape.region_vars()
    }

    /// The layers run on `x`, as [`Sequential::call`].
    #[track_caller]
    pub fn call<'t>(&'t self, params: &[Var<'t, T>], x: Var<'t, T>, training: bool, rng: Option<&mut StdRng>) -> Output<'t, T> {
        run(self.net, self.input_shape, params, x, training, rng)
    }

    /// Calls `f(slot, values, gradient)` for every trainable parameter, its values writable in
    /// place where they lie on the tape.
    pub fn update_trainable<'t>(&'t self, params: &[Var<'t, T>], grads: &Gradients<'t, T>, mut f: impl FnMut(usize, &mut [T], &[T])) {
        for (slot, info) in self.store_infos().iter().enumerate() {
            if info.trainable {
                let g = &grads[params[slot]];
                f(slot, &mut self.tape.param_values_mut()[info.offset..info.offset + info.len], g);
            }
        }
    }

    /// Writes each update's value into its (non-trainable) parameter.
    pub fn apply_updates(&self, updates: &[(Param, Var<'_, T>)]) {
        for (p, v) in updates {
            let info = &self.store_infos()[p.index()];
            let new = v.value();
            assert_eq!(new.len(), info.len, "state update of {}: {} values for {}", info.name, new.len(), info.len);
            self.tape.param_values_mut()[info.offset..info.offset + info.len].copy_from_slice(new.data());
        }
    }

    /// Projects every constrained weight in place (each layer's
    /// [`constraints`](super::Layer::constraints)), as Keras does after each update.
    pub fn apply_constraints(&self) {
        let infos = self.store.infos();
        let mut values = self.tape.param_values_mut();
        for l in self.net {
            l.layer.constraints(&mut |p, c| {
                let info = &infos[p.index()];
                c.apply(&mut values[info.offset..info.offset + info.len], &info.shape);
            });
        }
    }

    fn store_infos(&self) -> &[crate::tape::ParamInfo] {
        self.store.infos()
    }
}
