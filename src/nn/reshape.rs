//! Keras' `Flatten` and `Embedding` layers.

use super::dense::{init_from_json, init_to_json};
use super::layer::{config_object, Builder, Ctx, Layer};
use super::spatial::{bad_arg, parsed_from_json, positive_from_json, DataFormat};
use super::weight_options::{WeightOptions, EMBEDDING_KEYS};
use super::{Constraint, Init, Regularizer};
use crate::tape::{Param, Var};
use crate::tensor::Float;
use serde_json::{json, Value};

/// Keras' `Flatten`: each sample becomes a vector, `(batch, d1, d2, ...)` to `(batch, d1·d2·...)`.
///
/// With `data_format` channels first (and two or more axes per sample), the sample is first put
/// channels last, as Keras does, so a model flattens its features in the same order in both formats.
///
/// ```
/// use tapegrad::layers;
/// use tapegrad::nn::{Dense, Flatten, Sequential};
/// let net = Sequential::<f64>::with_input_shape(&[4, 4, 2], layers![Flatten::new(), Dense::new(3)], 0);
/// assert_eq!(net.named_parameters()[0].1.shape(), &[32, 3]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flatten {
    data_format: DataFormat,
    name: Option<String>,
}

impl Flatten {
    /// The layer (channels last, Keras' default).
    pub fn new() -> Self {
        Self::default()
    }
    /// The layout of the input: channels first reorders to channels last before flattening.
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }
    /// The layer's name (default: Keras' `flatten`, `flatten_1`, ...).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// The layer saved by `config` (`data_format`, optional).
    ///
    /// # Errors
    /// An unknown or invalid key, named with its value.
    pub fn from_config(config: &Value) -> Result<Self, String> {
        let obj = config_object(config, &["data_format"]).map_err(|e| format!("Flatten: {e}"))?;
        Ok(Flatten { data_format: parsed_from_json("Flatten", obj, "data_format")?.unwrap_or_default(), name: None })
    }
}

impl<T: Float> Layer<T> for Flatten {
    fn class_name(&self) -> &'static str {
        "Flatten"
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    fn build(&mut self, input_shape: &[usize], _: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
        Ok(vec![input_shape.iter().product()])
    }
    #[track_caller]
    fn forward<'t>(&self, x: Var<'t, T>, _: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
        let x = if self.data_format == DataFormat::ChannelsFirst && x.shape().len() > 2 {
            DataFormat::ChannelsLast.channels_first_back(x)
        } else {
            x
        };
        x.flatten(1, -1)
    }
    fn config(&self) -> Value {
        json!({ "data_format": self.data_format.name() })
    }
}

/// Keras' `Embedding(input_dim, output_dim)`: each id in the input (integer values held as
/// floats, any shape per sample) becomes its row of an `(input_dim, output_dim)` weight, so
/// `(batch, d...)` turns into `(batch, d..., output_dim)`. The weight starts as Keras' default
/// `embeddings_initializer="uniform"`, uniform in `[-0.05, 0.05)`. Only the rows of the ids used
/// in a batch get a gradient (summed over repeats); the ids themselves get none.
///
/// An id that is not an integer in `0..input_dim` panics in `forward`, naming the layer and the
/// value (Keras raises an error there too).
///
/// ```
/// use tapegrad::layers;
/// use tapegrad::nn::{Embedding, Flatten, Sequential};
/// use tapegrad::{Tape, Tensor};
/// let net = Sequential::<f64>::with_seed(3, layers![Embedding::new(10, 4), Flatten::new()], 0);
/// assert_eq!(net.output_shape(), &[12]);
/// let tape = Tape::new();
/// let y = net.forward(&tape, tape.constant(Tensor::from_vec(vec![1.0, 7.0, 1.0], &[1, 3])));
/// let table = net.parameter("embedding/embeddings").unwrap();
/// assert_eq!(&y.value().data()[..4], &table.data()[4..8]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding {
    input_dim: usize,
    output_dim: usize,
    embeddings_initializer: Init,
    options: WeightOptions,
    name: Option<String>,
    embeddings: Option<Param>,
}

impl Embedding {
    /// A table of `input_dim` rows (ids `0..input_dim`) of `output_dim` values each.
    pub fn new(input_dim: usize, output_dim: usize) -> Self {
        Embedding {
            input_dim,
            output_dim,
            embeddings_initializer: Init::RandomUniform { minval: -0.05, maxval: 0.05 },
            options: WeightOptions::named(EMBEDDING_KEYS),
            name: None,
            embeddings: None,
        }
    }
    /// Keras' `embeddings_regularizer`: `regularizer(table)` (the whole table) is added to the loss.
    pub fn embeddings_regularizer(mut self, regularizer: Regularizer) -> Self {
        self.options.kernel_regularizer = Some(regularizer);
        self
    }
    /// Keras' `activity_regularizer`: `regularizer(output) / batch` is added to the loss.
    pub fn activity_regularizer(mut self, regularizer: Regularizer) -> Self {
        self.options.activity_regularizer = Some(regularizer);
        self
    }
    /// Keras' `embeddings_constraint`: the table is projected after every update.
    pub fn embeddings_constraint(mut self, constraint: Constraint) -> Self {
        self.options.kernel_constraint = Some(constraint);
        self
    }
    /// How the table is initialized.
    pub fn embeddings_initializer(mut self, init: Init) -> Self {
        self.embeddings_initializer = init;
        self
    }
    /// The layer's name (default: Keras' `embedding`, `embedding_1`, ...).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Number of ids.
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }
    /// Length of each id's vector.
    pub fn output_dim(&self) -> usize {
        self.output_dim
    }

    /// Checks the arguments.
    ///
    /// # Errors
    /// A zero `input_dim` or `output_dim`, named with its value.
    pub fn validate(&self) -> Result<(), String> {
        for (argument, v) in [("input_dim", self.input_dim), ("output_dim", self.output_dim)] {
            if v == 0 {
                return Err(bad_arg("Embedding", argument, v, "a positive integer"));
            }
        }
        Ok(())
    }

    /// The layer saved by `config`: `input_dim` and `output_dim` required, the initializer, the
    /// penalties and the constraint optional.
    ///
    /// # Errors
    /// A missing, unknown or invalid key, named with its value.
    pub fn from_config(config: &Value) -> Result<Self, String> {
        let keys = ["input_dim", "output_dim", "embeddings_initializer"].into_iter().chain(EMBEDDING_KEYS.into_iter().filter(|k| !k.is_empty()));
        let obj = config_object(config, &keys.collect::<Vec<_>>()).map_err(|e| format!("Embedding: {e}"))?;
        let mut e = Embedding::new(positive_from_json("Embedding", obj, "input_dim")?, positive_from_json("Embedding", obj, "output_dim")?);
        if let Some(v) = obj.get("embeddings_initializer") {
            e.embeddings_initializer = init_from_json(v).map_err(|err| format!("Embedding: embeddings_initializer: {err}"))?;
        }
        e.options = WeightOptions::from_config_named(obj, EMBEDDING_KEYS).map_err(|err| format!("Embedding: {err}"))?;
        Ok(e)
    }

    /// `v` as a row index of the table: an integer in `0..input_dim`.
    fn id<T: Float>(&self, v: T) -> Option<usize> {
        let f = v.to_f64();
        (f >= 0.0 && f.fract() == 0.0 && f < self.input_dim as f64).then_some(f as usize)
    }

    /// The error for an input `v` that is not an id (see [`id`](Self::id)).
    fn bad_id<T: Float>(&self, v: T) -> String {
        format!("Embedding: input ids must be integers in 0..{} (input_dim), got {}", self.input_dim, v.to_f64())
    }
}

impl<T: Float> Layer<T> for Embedding {
    fn class_name(&self) -> &'static str {
        "Embedding"
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    fn build(&mut self, input_shape: &[usize], b: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
        self.validate()?;
        let table = [self.input_dim, self.output_dim];
        let out: Vec<usize> = input_shape.iter().copied().chain([self.output_dim]).collect();
        // The activity is the output with its batch axis.
        let activity: Vec<usize> = [2].into_iter().chain(out.iter().copied()).collect();
        self.options.check(&table, &[], &activity).map_err(|e| format!("Embedding: {e}"))?;
        self.embeddings = Some(b.add_weight("embeddings", &table, self.embeddings_initializer, true));
        Ok(out)
    }
    #[track_caller]
    fn forward<'t>(&self, x: Var<'t, T>, ctx: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
        let table = ctx.param(self.embeddings.expect("Embedding::forward: the layer is not built"));
        let ids: Vec<usize> = x.with_data(|v| {
            v.iter()
                .map(|&id| self.id(id).unwrap_or_else(|| panic!("{}", self.bad_id(id))))
                .collect()
        });
        let mut shape = x.shape().to_vec();
        shape.push(self.output_dim);
        let out = table.embedding(&ids, None).reshape(&shape);
        self.options.add_activity_penalty(out, ctx);
        out
    }
    fn penalties<'t>(&self, ctx: &Ctx<'_, 't, T>) -> Vec<Var<'t, T>> {
        self.options.penalties(ctx, self.embeddings, None)
    }
    fn constraints(&self, f: &mut dyn FnMut(Param, &Constraint)) {
        self.options.constraints(f, self.embeddings, None);
    }
    fn check_input(&self, x: &[T], width: usize) -> Result<(), String> {
        match x.iter().position(|&v| self.id(v).is_none()) {
            Some(i) => Err(format!("{} at row {}, column {}", self.bad_id(x[i]), i / width.max(1), i % width.max(1))),
            None => Ok(()),
        }
    }
    fn config(&self) -> Value {
        let mut config = json!({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": init_to_json(&self.embeddings_initializer),
        });
        self.options.write_config(&mut config);
        config
    }
}
