//! The small built-in layers (`Activation`, `ActivityRegularization`) and the registry of every
//! built-in layer's constructor.

use super::layer::{config_object, ArgumentError, Builder, Ctx, Layer, LayerRegistry};
use super::{Activation, BatchNormalization, Dense, Dropout, GaussianDropout, GaussianNoise, LayerNormalization, Regularizer};
use crate::tape::Var;
use crate::tensor::Float;
use serde_json::{json, Value};

/// Keras' `Activation` layer: an [`Activation`] is itself a layer applying the function.
///
/// ```
/// use tapegrad::layers;
/// use tapegrad::nn::{Activation, Dense, Sequential};
/// let net = Sequential::<f64>::with_seed(2, layers![Dense::new(3), Activation::Relu], 0);
/// assert_eq!(net.layer_names().collect::<Vec<_>>(), ["dense", "activation"]);
/// ```
impl<T: Float> Layer<T> for Activation {
    fn class_name(&self) -> &'static str {
        "Activation"
    }
    fn build(&mut self, input_shape: &[usize], _: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
        Ok(input_shape.to_vec())
    }
    fn forward<'t>(&self, x: Var<'t, T>, _: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
        self.apply(x)
    }
    fn config(&self) -> Value {
        json!({ "activation": Activation::name(*self) })
    }
    fn output_activation(&self) -> Option<Activation> {
        Some(*self)
    }
}

fn activation_from_config(config: &Value) -> Result<Activation, String> {
    match config_object(config, &["activation"])?.get("activation") {
        Some(Value::String(s)) => s.parse(),
        _ => Err("\"activation\" must be a string".into()),
    }
}

/// Keras' `ActivityRegularization(l1, l2)`: the identity, adding `(l1 * sum(|x|) + l2 * sum(x^2))
/// / batch_size` of its input to the loss, as Keras 3 does with an activity regularizer (Keras'
/// `L1L2`, its factors rounded through float32; the sums run over the whole batch), in training
/// and in evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityRegularization {
    l1: f64,
    l2: f64,
}

impl ActivityRegularization {
    /// The layer; panics (naming the value) when a factor is negative or not finite.
    #[track_caller]
    pub fn new(l1: f64, l2: f64) -> Self {
        Self::try_new(l1, l2).unwrap_or_else(|e| panic!("{e}"))
    }
    /// As [`new`](Self::new), returning the error.
    ///
    /// # Errors
    /// A negative, infinite or NaN factor.
    pub fn try_new(l1: f64, l2: f64) -> Result<Self, ArgumentError> {
        for (argument, value) in [("l1", l1), ("l2", l2)] {
            if !(value >= 0.0 && value.is_finite()) {
                return Err(ArgumentError { layer: "ActivityRegularization", argument, value, expected: "finite and >= 0" });
            }
        }
        Ok(ActivityRegularization { l1, l2 })
    }
    /// The layer of a saved config `{"l1": a, "l2": b}`.
    ///
    /// # Errors
    /// A missing, unknown or out-of-range key.
    pub fn from_config(config: &Value) -> Result<Self, String> {
        let obj = config_object(config, &["l1", "l2"])?;
        let num = |k: &str| obj.get(k).and_then(Value::as_f64).ok_or_else(|| format!("ActivityRegularization needs a number {k:?}"));
        Self::try_new(num("l1")?, num("l2")?).map_err(|e| e.to_string())
    }
}

impl<T: Float> Layer<T> for ActivityRegularization {
    fn class_name(&self) -> &'static str {
        "ActivityRegularization"
    }
    fn build(&mut self, input_shape: &[usize], _: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
        Ok(input_shape.to_vec())
    }
    fn forward<'t>(&self, x: Var<'t, T>, ctx: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
        if self.l1 != 0.0 || self.l2 != 0.0 {
            // Keras' L1L2 of the output (factors rounded through float32 as Keras does),
            // divided by the batch size.
            let batch = T::from_f64(x.shape().first().copied().unwrap_or(1).max(1) as f64);
            let r = Regularizer::L1L2 { l1: self.l1, l2: self.l2 };
            ctx.add_loss(r.penalty(x) / batch);
        }
        x
    }
    fn config(&self) -> Value {
        json!({ "l1": self.l1, "l2": self.l2 })
    }
}

/// Registers the constructor of every built-in layer.
pub(crate) fn register_builtins<T: Float>(r: &mut LayerRegistry<T>) {
    r.register("Dense", |c| Ok(Box::new(Dense::from_config(c)?)));
    r.register("Dropout", |c| Ok(Box::new(Dropout::from_config(c)?)));
    r.register("GaussianNoise", |c| Ok(Box::new(GaussianNoise::from_config(c)?)));
    r.register("GaussianDropout", |c| Ok(Box::new(GaussianDropout::from_config(c)?)));
    r.register("Activation", |c| Ok(Box::new(activation_from_config(c)?)));
    r.register("ActivityRegularization", |c| Ok(Box::new(ActivityRegularization::from_config(c)?)));
    super::conv::register(r);
    r.register("BatchNormalization", |c| Ok(Box::new(BatchNormalization::from_config(c)?)));
    r.register("LayerNormalization", |c| Ok(Box::new(LayerNormalization::from_config(c)?)));
}
