//! The `Layer` trait (Keras' `Layer`, PyTorch's `Module`) and what a layer sees while it builds
//! its weights and runs forward.

use super::{Constraint, Init};
use crate::tape::{Param, ParamStore, Var};
use crate::tensor::Float;
use rand::rngs::StdRng;
use serde_json::Value;
use std::any::Any;
use std::fmt;

/// A layer of a [`Sequential`](super::Sequential) model.
///
/// A layer holds its configuration and, once built, the [`Param`] handles of its weights; the
/// weights themselves live in the model's one [`ParamStore`]. In `build` it learns its input
/// shape (without the batch axis), creates its weights through the [`Builder`] and returns its
/// output shape; in `forward` it turns its handles into `Var`s through the [`Ctx`] and records its
/// computation on the tape. `config` returns what [`from_config`](LayerRegistry::register)
/// needs to rebuild it, so a saved model can be loaded without code describing it.
///
/// Derive `Clone` and `Debug` and the rest (cloning a boxed layer, downcasting) comes for free.
///
/// ```
/// use tapegrad::nn::{Builder, Ctx, Dense, IntoLayer, Layer, Sequential};
/// use tapegrad::tape::{Param, Var};
/// use tapegrad::Float;
///
/// /// `x * scale`, one learned factor per feature.
/// #[derive(Clone, Debug, Default)]
/// struct Scale { scale: Option<Param> }
///
/// impl<T: Float> Layer<T> for Scale {
///     fn class_name(&self) -> &'static str { "Scale" }
///     fn build(&mut self, input_shape: &[usize], b: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
///         self.scale = Some(b.add_weight("scale", input_shape, tapegrad::nn::Init::Ones, true));
///         Ok(input_shape.to_vec())
///     }
///     fn forward<'t>(&self, x: Var<'t, T>, ctx: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
///         x * ctx.param(self.scale.unwrap())
///     }
///     fn config(&self) -> serde_json::Value { serde_json::json!({}) }
/// }
///
/// let net = Sequential::<f64>::with_seed(3, vec![Scale::default().into_layer(), Dense::new(1).into()], 0);
/// assert_eq!(net.named_parameters()[0].0, "scale/scale");
/// ```
pub trait Layer<T: Float>: LayerClone<T> + fmt::Debug + Send {
    /// The class name saved with the model and looked up in a [`LayerRegistry`] (`"Dense"`).
    fn class_name(&self) -> &'static str;

    /// A name chosen by the user; `None` lets the model name it as Keras does (`dense`,
    /// `dense_1`, `dropout`, ...: the class name in snake case, numbered per class).
    fn name(&self) -> Option<&str> {
        None
    }

    /// Creates the layer's weights for inputs of `input_shape` (per sample, without the batch
    /// axis) and returns the output shape. An error names what does not fit.
    fn build(&mut self, input_shape: &[usize], b: &mut Builder<'_, T>) -> Result<Vec<usize>, String>;

    /// The layer applied to a batch `x` (batch axis first). `ctx` gives the weights, whether this
    /// is a training step, the model's seeded generator, and takes extra loss terms.
    fn forward<'t>(&self, x: Var<'t, T>, ctx: &mut Ctx<'_, 't, T>) -> Var<'t, T>;

    /// The layer's configuration as a JSON object (without its name): saved in the model file and
    /// handed back to the constructor registered for [`class_name`](Self::class_name).
    fn config(&self) -> Value;

    /// Penalty terms this layer adds to the loss after `forward`, such as weight regularizers
    /// (`ctx.param(kernel)` turned into `l2 * sum(w^2)`); counted in training and evaluation, as
    /// Keras does. The default is none.
    fn penalties<'t>(&self, ctx: &Ctx<'_, 't, T>) -> Vec<Var<'t, T>> {
        let _ = ctx;
        Vec::new()
    }

    /// The constraints on this layer's weights (Keras' `kernel_constraint`, `bias_constraint`):
    /// calls `f(weight, constraint)` once for each constrained weight.
    ///
    /// The training step projects each such weight in place with [`Constraint::apply`] right
    /// after every optimizer update (and after the layers' state updates), in layer order, as
    /// Keras applies `variable.constraint` after `optimizer.apply`; never to the initial
    /// weights, never in inference. Constraints stay with the layer (they are part of its
    /// configuration and saved with it) rather than in the [`ParamStore`], which belongs to the
    /// tape and knows nothing of `nn`. The default is none.
    fn constraints(&self, f: &mut dyn FnMut(Param, &Constraint)) {
        let _ = f;
    }

    /// Checks the raw input data before `fit`, `evaluate` or `predict` record anything, for a
    /// first layer that accepts less than any finite number (an [`Embedding`](super::Embedding)'s
    /// integer ids). `x` is the whole input, row-major, `width` values per row; an `Err` names the
    /// row, the column and the value, and the training call returns it as an error instead of
    /// panicking mid-epoch. The default accepts everything.
    fn check_input(&self, x: &[T], width: usize) -> Result<(), String> {
        let _ = (x, width);
        Ok(())
    }

    /// The activation the layer's output ends in, if it is one of the named ones (used to pick
    /// the accuracy metric for `tanh` outputs, as the study does).
    fn output_activation(&self) -> Option<super::Activation> {
        None
    }
}

/// Cloning and downcasting for boxed layers, implemented for every `Layer + Clone`.
pub trait LayerClone<T: Float> {
    /// A boxed copy.
    fn clone_box(&self) -> Box<dyn Layer<T>>;
    /// The layer as `Any`, to downcast to its concrete type.
    fn as_any(&self) -> &dyn Any;
}

impl<T: Float, L: Layer<T> + Clone + 'static> LayerClone<T> for L {
    fn clone_box(&self) -> Box<dyn Layer<T>> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl<T: Float> Clone for Box<dyn Layer<T>> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

impl<'a, T: Float> dyn Layer<T> + 'a {
    /// The layer as its concrete type, if it is an `L`.
    ///
    /// ```
    /// use tapegrad::nn::{Dense, Sequential};
    /// let net = Sequential::<f64>::with_seed(2, vec![Dense::new(3)], 0);
    /// let dense = net.layers().next().unwrap().downcast_ref::<Dense>().unwrap();
    /// assert_eq!(dense.units(), 3);
    /// ```
    pub fn downcast_ref<L: 'static>(&self) -> Option<&L> {
        self.as_any().downcast_ref::<L>()
    }
}

/// Boxes any layer as `Box<dyn Layer<T>>`, what a [`Sequential`](super::Sequential) holds: mix
/// layer types in one list with `.into_layer()` or the [`layers!`](crate::layers) macro.
pub trait IntoLayer<T: Float> {
    /// The layer, boxed.
    fn into_layer(self) -> Box<dyn Layer<T>>;
}

impl<T: Float, L: Layer<T> + 'static> IntoLayer<T> for L {
    fn into_layer(self) -> Box<dyn Layer<T>> {
        Box::new(self)
    }
}


/// A list of layers of mixed types, each boxed: `layers![Dense::new(8), Dropout::new(0.5)]` is
/// `vec![Dense::new(8).into_layer(), Dropout::new(0.5).into_layer()]`.
///
/// ```
/// use tapegrad::layers;
/// use tapegrad::nn::{Dense, Dropout, Sequential};
/// let net = Sequential::<f64>::with_seed(4, layers![Dense::new(8), Dropout::new(0.5), Dense::new(1)], 0);
/// assert_eq!(net.layer_names().collect::<Vec<_>>(), ["dense", "dropout", "dense_1"]);
/// ```
#[macro_export]
macro_rules! layers {
    ($($layer:expr),* $(,)?) => {
        vec![$($crate::nn::IntoLayer::into_layer($layer)),*]
    };
}

/// `.into()` for the built-in layers (where the target type is known).
macro_rules! into_box {
    ($($l:ty),*) => {$(
        impl<T: Float> From<$l> for Box<dyn Layer<T>> {
            fn from(layer: $l) -> Self {
                Box::new(layer)
            }
        }
    )*};
}
into_box!(super::Dense, super::Activation, super::Dropout, super::GaussianNoise, super::GaussianDropout, super::ActivityRegularization);
into_box!(super::Conv1D, super::Conv2D, super::MaxPooling1D, super::MaxPooling2D, super::AveragePooling1D, super::AveragePooling2D);
into_box!(super::GlobalAveragePooling1D, super::GlobalAveragePooling2D, super::Flatten, super::Embedding);
into_box!(super::BatchNormalization, super::LayerNormalization);

/// What a layer's `build` uses: the model's parameter store, its seeded generator and the
/// layer's name (weights are named `layer/weight`).
pub struct Builder<'a, T: Float> {
    pub(crate) store: &'a mut ParamStore<T>,
    pub(crate) rng: &'a mut StdRng,
    pub(crate) layer: &'a str,
    /// Shapes only, no values (reading a file: the weights come from it).
    pub(crate) dry: bool,
    /// A weight too large to address, found in a dry build.
    pub(crate) overflow: Option<String>,
}

impl<T: Float> Builder<'_, T> {
    /// Adds a weight `name` of `shape` drawn from `init`; `trainable: false` makes it state the
    /// optimizer leaves alone (moving statistics), saved with the model all the same.
    pub fn add_weight(&mut self, name: &str, shape: &[usize], init: Init, trainable: bool) -> Param {
        let full = format!("{}/{name}", self.layer);
        if self.dry {
            return match self.store.add_shape(full.clone(), shape, trainable) {
                Some(p) => p,
                None => {
                    self.overflow.get_or_insert(format!("weight {full:?} of shape {shape:?} is too large"));
                    self.store.add_shape(full, &[0], trainable).expect("an empty weight fits")
                }
            };
        }
        let value = init.sample::<T, _>(shape, self.rng);
        self.store.add(full, value, trainable)
    }

    /// The name the model gave the layer.
    pub fn layer_name(&self) -> &str {
        self.layer
    }
}

/// What a layer's `forward` sees: its weights as `Var`s, the training flag, the model's seeded
/// generator, and a place for extra loss terms and state updates.
pub struct Ctx<'a, 't, T: Float> {
    pub(crate) params: &'a [Var<'t, T>],
    pub(crate) training: bool,
    pub(crate) rng: Option<&'a mut StdRng>,
    pub(crate) losses: Vec<Var<'t, T>>,
    pub(crate) updates: Vec<(Param, Var<'t, T>)>,
}

impl<'a, 't, T: Float> Ctx<'a, 't, T> {
    /// The weight `p` on the tape.
    #[track_caller]
    pub fn param(&self, p: Param) -> Var<'t, T> {
        *self.params.get(p.index()).unwrap_or_else(|| {
            panic!("Ctx::param: parameter {} is not one of the model's {} parameters", p.index(), self.params.len())
        })
    }

    /// `true` in a training step (`fit`, `train_on_batch`), `false` in inference.
    pub fn training(&self) -> bool {
        self.training
    }

    /// The model's seeded generator (reseeded by `FitConfig::seed`), for random layers.
    /// Panics when the caller gave none (a training forward always does).
    #[track_caller]
    pub fn rng(&mut self) -> &mut StdRng {
        self.rng.as_deref_mut().expect("Ctx::rng: this forward pass was given no random generator")
    }

    /// Adds a term to the loss (Keras' `add_loss`), e.g. an activity penalty; `fit`,
    /// `evaluate` and validation add it to the data loss.
    pub fn add_loss(&mut self, term: Var<'t, T>) {
        self.losses.push(term);
    }

    /// After the training step, the non-trainable weight `p` takes `value`'s values (moving
    /// statistics). Ignored outside training.
    pub fn assign(&mut self, p: Param, value: Var<'t, T>) {
        if self.training {
            self.updates.push((p, value));
        }
    }
}

type Constructor<T> = Box<dyn Fn(&Value) -> Result<Box<dyn Layer<T>>, String> + Send + Sync>;

/// Constructors of layers by class name, for loading a saved model (Keras' `custom_objects`).
/// [`LayerRegistry::new`] knows every built-in layer; register your own before loading.
///
/// ```
/// use tapegrad::nn::{Dense, Layer, LayerRegistry};
/// let mut registry = LayerRegistry::<f64>::new();
/// registry.register("MyDense", |config| Ok(Box::new(Dense::from_config(config)?)));
/// assert!(registry.contains("MyDense") && registry.contains("Dropout"));
/// let layer = registry.from_config("Dense", &serde_json::json!({"units": 2, "activation": "relu", "use_bias": true})).unwrap();
/// assert_eq!(layer.class_name(), "Dense");
/// ```
pub struct LayerRegistry<T: Float> {
    constructors: Vec<(String, Constructor<T>)>,
}

impl<T: Float> Default for LayerRegistry<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float> fmt::Debug for LayerRegistry<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.constructors.iter().map(|(n, _)| n)).finish()
    }
}

impl<T: Float> LayerRegistry<T> {
    /// A registry of the built-in layers.
    pub fn new() -> Self {
        let mut r = LayerRegistry { constructors: Vec::new() };
        super::builtin::register_builtins(&mut r);
        r
    }

    /// Registers (or replaces) the constructor of `class_name`.
    pub fn register<F>(&mut self, class_name: &str, constructor: F)
    where
        F: Fn(&Value) -> Result<Box<dyn Layer<T>>, String> + Send + Sync + 'static,
    {
        self.constructors.retain(|(n, _)| n != class_name);
        self.constructors.push((class_name.to_string(), Box::new(constructor)));
    }

    /// Whether `class_name` has a constructor.
    pub fn contains(&self, class_name: &str) -> bool {
        self.constructors.iter().any(|(n, _)| n == class_name)
    }

    /// A layer of `class_name` from its saved configuration.
    ///
    /// # Errors
    /// An unknown class name, or what the constructor reports about the configuration.
    pub fn from_config(&self, class_name: &str, config: &Value) -> Result<Box<dyn Layer<T>>, String> {
        let (_, make) = self.constructors.iter().find(|(n, _)| n == class_name).ok_or_else(|| {
            format!("unknown layer class {class_name:?}; register its constructor in a LayerRegistry")
        })?;
        make(config)
    }
}

/// Keras' default layer name for a class, by Keras' two rules (`_` before a capital that starts a
/// lowercase run, and between a lowercase letter and a capital): `GaussianNoise` ->
/// `gaussian_noise`, `Conv2D` -> `conv2d`, `MaxPooling2D` -> `max_pooling2d`.
pub(crate) fn snake_case(class_name: &str) -> String {
    let chars: Vec<char> = class_name.chars().collect();
    let mut out = String::with_capacity(class_name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let starts_word = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if starts_word || chars[i - 1].is_ascii_lowercase() {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Reads a JSON object's keys, refusing unknown ones: the shared helper of `from_config`s.
pub(crate) fn config_object<'v>(config: &'v Value, allowed: &[&str]) -> Result<&'v serde_json::Map<String, Value>, String> {
    let obj = config.as_object().ok_or("the layer config must be a JSON object")?;
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("unknown key {k:?}"));
    }
    Ok(obj)
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_names_are_keras_snake_case() {
        assert_eq!(super::snake_case("Dense"), "dense");
        assert_eq!(super::snake_case("GaussianNoise"), "gaussian_noise");
        assert_eq!(super::snake_case("ActivityRegularization"), "activity_regularization");
        assert_eq!(super::snake_case("Conv2D"), "conv2d");
        assert_eq!(super::snake_case("MaxPooling1D"), "max_pooling1d");
        assert_eq!(super::snake_case("GlobalAveragePooling2D"), "global_average_pooling2d");
        assert_eq!(super::snake_case("PRelu"), "p_relu");
    }
}

/// A layer argument out of its range (a dropout rate of 1.5, a negative standard deviation),
/// naming the layer, the argument and the value.
#[derive(Clone, Debug, PartialEq)]
pub struct ArgumentError {
    /// The layer or function (`"Dropout"`).
    pub layer: &'static str,
    /// The argument (`"rate"`).
    pub argument: &'static str,
    /// The value given.
    pub value: f64,
    /// What it must be (`"in [0, 1)"`).
    pub expected: &'static str,
}

impl fmt::Display for ArgumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} must be {}, got {}", self.layer, self.argument, self.expected, self.value)
    }
}

impl std::error::Error for ArgumentError {}
