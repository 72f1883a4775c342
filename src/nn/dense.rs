//! The fully connected layer.

use super::layer::{config_object, Builder, Ctx, Layer};
use super::weight_options::{weight_option_setters, WeightOptions, KEYS};
use super::{Activation, Constraint, Init, Regularizer};
use crate::tape::{Param, Var};
use crate::tensor::Float;
use serde_json::{json, Value};

/// A fully connected layer, `activation(x @ kernel + bias)`, configured like Keras' `Dense`.
/// It holds its configuration and, once built by a [`Sequential`](super::Sequential), the handles
/// of its `kernel` `(inputs, units)` and `bias` `(units,)` in the model's parameter store.
///
/// Keras' penalties and constraints: `kernel_regularizer` and `bias_regularizer` add
/// `regularizer(weight)` to the loss; `activity_regularizer` adds `regularizer(output) / batch`
/// (the output after the activation, divided by the batch size as Keras 3 does); all are
/// counted in training and in evaluation. `kernel_constraint` and `bias_constraint` project the
/// weight after every optimizer update ([`Layer::constraints`]).
///
/// ```
/// use tapegrad::nn::{Activation, Constraint, Dense, Init, Regularizer};
/// let layer = Dense::new(25)
///     .activation(Activation::Relu)
///     .kernel_initializer(Init::HeUniform)
///     .kernel_regularizer(Regularizer::l2(0.01).unwrap())
///     .kernel_constraint(Constraint::max_norm(3.0, &[0]).unwrap());
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
    options: WeightOptions,
    kernel: Option<Param>,
    bias: Option<Param>,
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
            options: WeightOptions::default(),
            kernel: None,
            bias: None,
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
    weight_option_setters!();
    /// The regularizers `(kernel, bias, activity)`.
    pub fn regularizers(&self) -> [Option<&Regularizer>; 3] {
        let o = &self.options;
        [o.kernel_regularizer.as_ref(), o.bias_regularizer.as_ref(), o.activity_regularizer.as_ref()]
    }
    /// The constraints `(kernel, bias)`.
    pub fn get_constraints(&self) -> [Option<&Constraint>; 2] {
        [self.options.kernel_constraint.as_ref(), self.options.bias_constraint.as_ref()]
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

impl<T: Float> Layer<T> for Dense {
    fn class_name(&self) -> &'static str {
        "Dense"
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    fn build(&mut self, input_shape: &[usize], b: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
        let &[inputs] = input_shape else {
            return Err(format!("Dense takes inputs of one axis per sample, got shape {input_shape:?}"));
        };
        if self.units == 0 {
            return Err("has 0 units".into());
        }
        let kernel_shape = [inputs, self.units];
        // The shapes the penalties and constraints must take (the activity is `(batch, units)`).
        self.options.check(&kernel_shape, &[self.units], &[2, self.units])?;
        self.kernel = Some(b.add_weight("kernel", &kernel_shape, self.kernel_initializer, true));
        self.bias = self.use_bias.then(|| b.add_weight("bias", &[self.units], self.bias_initializer, true));
        Ok(vec![self.units])
    }
    #[track_caller]
    fn forward<'t>(&self, x: Var<'t, T>, ctx: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
        let kernel = self.kernel.expect("Dense::forward: the layer is not built");
        // `x W + b` as one recorded op (the bias rows written first, the product added onto them).
        let z = match self.bias {
            Some(b) => ctx.param(b).addmm(x, ctx.param(kernel)),
            None => x.matmul(ctx.param(kernel)),
        };
        let out = self.activation.apply(z);
        self.options.add_activity_penalty(out, ctx);
        out
    }
    fn penalties<'t>(&self, ctx: &Ctx<'_, 't, T>) -> Vec<Var<'t, T>> {
        self.options.penalties(ctx, self.kernel, self.bias)
    }
    fn constraints(&self, f: &mut dyn FnMut(Param, &Constraint)) {
        self.options.constraints(f, self.kernel, self.bias);
    }
    fn config(&self) -> Value {
        let mut config = json!({
            "units": self.units,
            "activation": self.activation.name(),
            "use_bias": self.use_bias,
            "kernel_initializer": init_to_json(&self.kernel_initializer),
            "bias_initializer": init_to_json(&self.bias_initializer),
        });
        self.options.write_config(&mut config);
        config
    }
    fn output_activation(&self) -> Option<Activation> {
        Some(self.activation)
    }
}

impl Dense {
    /// The layer saved by `config` (Keras' `from_config`): `units` (positive), `activation` and
    /// `use_bias` are required, the initializers default to Keras' (Glorot uniform, zeros), the
    /// regularizers and constraints (`{"class": ..., "args": {...}}` or `null`) to none.
    ///
    /// # Errors
    /// A missing or invalid key, or an unknown one, named.
    pub fn from_config(config: &Value) -> Result<Self, String> {
        let keys: Vec<&str> = ["units", "activation", "use_bias", "kernel_initializer", "bias_initializer"].into_iter().chain(KEYS).collect();
        let l = config_object(config, &keys)?;
        let units = l
            .get("units")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n > 0)
            .ok_or("\"units\" must be a positive integer")?;
        let activation = match l.get("activation") {
            Some(Value::String(s)) => s.parse::<Activation>()?,
            _ => return Err("\"activation\" must be a string".into()),
        };
        let use_bias = l.get("use_bias").and_then(Value::as_bool).ok_or("\"use_bias\" must be true or false")?;
        let init = |key: &str, default: Init| match l.get(key) {
            None => Ok(default),
            Some(v) => init_from_json(v).map_err(|e| format!("{key}: {e}")),
        };
        let mut d = Dense::new(units)
            .activation(activation)
            .use_bias(use_bias)
            .kernel_initializer(init("kernel_initializer", Init::GlorotUniform)?)
            .bias_initializer(init("bias_initializer", Init::Zeros)?);
        d.options = WeightOptions::from_config(l)?;
        Ok(d)
    }
}

/// An initializer as the model file stores it: `{"name": ...}` plus its numbers.
pub(crate) fn init_to_json(init: &Init) -> Value {
    match *init {
        Init::Constant(value) => json!({ "name": "constant", "value": value }),
        Init::RandomNormal { mean, stddev } => json!({ "name": "random_normal", "mean": mean, "stddev": stddev }),
        Init::RandomUniform { minval, maxval } => json!({ "name": "random_uniform", "minval": minval, "maxval": maxval }),
        ref other => json!({ "name": other.name() }),
    }
}

/// The initializer of [`init_to_json`]'s form.
pub(crate) fn init_from_json(v: &Value) -> Result<Init, String> {
    let obj = v.as_object().ok_or("must be an object with a \"name\"")?;
    let name = obj.get("name").and_then(Value::as_str).ok_or("\"name\" must be a string")?;
    let num = |key: &str| -> Result<f64, String> {
        obj.get(key).and_then(Value::as_f64).ok_or_else(|| format!("{name} needs a number {key:?}"))
    };
    let (init, keys): (Init, &[&str]) = match name {
        "constant" => (Init::Constant(num("value")?), &["name", "value"]),
        "random_normal" => (Init::RandomNormal { mean: num("mean")?, stddev: num("stddev")? }, &["name", "mean", "stddev"]),
        "random_uniform" => {
            (Init::RandomUniform { minval: num("minval")?, maxval: num("maxval")? }, &["name", "minval", "maxval"])
        }
        other => (Init::from_name(other).ok_or_else(|| format!("unknown initializer {other:?}"))?, &["name"]),
    };
    if let Some(k) = obj.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(format!("unknown key {k:?} for {name}"));
    }
    Ok(init)
}
