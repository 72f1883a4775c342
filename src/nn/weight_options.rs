//! Keras' penalty and constraint options of a layer with a kernel and a bias (`Dense`, `Conv1D`,
//! `Conv2D`): `kernel_regularizer`, `bias_regularizer`, `activity_regularizer`,
//! `kernel_constraint` and `bias_constraint`; and of `Embedding`, whose table takes the kernel's
//! place (`embeddings_regularizer`, `activity_regularizer`, `embeddings_constraint`). Checked when
//! the layer is built, turned into loss terms and projections, and saved in the layer's
//! configuration under the layer's own names.

use super::layer::Ctx;
use super::{Constraint, Regularizer};
use crate::tape::{Param, Var};
use crate::tensor::Float;
use serde_json::{Map, Value};

/// The configuration keys, in Keras' names.
pub(crate) const KEYS: [&str; 5] = ["kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"];

/// `Embedding`'s names for the same options: its table is the kernel, and it has no bias (an
/// empty name is an option the layer does not have).
pub(crate) const EMBEDDING_KEYS: [&str; 5] = ["embeddings_regularizer", "", "activity_regularizer", "embeddings_constraint", ""];

/// A layer's penalties and constraints (each optional), and the names it gives them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WeightOptions {
    pub(crate) kernel_regularizer: Option<Regularizer>,
    pub(crate) bias_regularizer: Option<Regularizer>,
    pub(crate) activity_regularizer: Option<Regularizer>,
    pub(crate) kernel_constraint: Option<Constraint>,
    pub(crate) bias_constraint: Option<Constraint>,
    keys: [&'static str; 5],
}

impl Default for WeightOptions {
    fn default() -> Self {
        WeightOptions::named(KEYS)
    }
}

impl WeightOptions {
    /// No options, named by `keys` (in the order of [`KEYS`]).
    pub(crate) fn named(keys: [&'static str; 5]) -> Self {
        WeightOptions {
            kernel_regularizer: None,
            bias_regularizer: None,
            activity_regularizer: None,
            kernel_constraint: None,
            bias_constraint: None,
            keys,
        }
    }

    /// Whether every option takes the weight it will meet (`activity` is the output's shape with
    /// its batch axis) and has arguments its constructor accepts; the error names the option.
    pub(crate) fn check(&self, kernel: &[usize], bias: &[usize], activity: &[usize]) -> Result<(), String> {
        let reg = |r: &Option<Regularizer>, shape: &[usize]| r.as_ref().and_then(|r| r.check_shape(shape).err()).map(|e| e.0);
        let con = |c: &Option<Constraint>, shape: &[usize]| c.as_ref().and_then(|c| c.check_shape(shape).err()).map(|e| e.0);
        let k = self.keys;
        let problems = [
            (k[0], reg(&self.kernel_regularizer, kernel)),
            (k[1], reg(&self.bias_regularizer, bias)),
            (k[2], reg(&self.activity_regularizer, activity)),
            (k[3], con(&self.kernel_constraint, kernel)),
            (k[4], con(&self.bias_constraint, bias)),
        ];
        match problems.into_iter().find_map(|(argument, p)| p.map(|e| (argument, e))) {
            Some((argument, e)) => Err(format!("{argument}: {e}")),
            None => Ok(()),
        }
    }

    /// Adds the activity penalty of the layer's output (after its activation) to the step's
    /// losses, divided by the batch size as Keras 3 does.
    pub(crate) fn add_activity_penalty<'t, T: Float>(&self, out: Var<'t, T>, ctx: &mut Ctx<'_, 't, T>) {
        if let Some(r) = &self.activity_regularizer {
            let batch = T::from_f64(out.shape().first().copied().unwrap_or(1).max(1) as f64);
            ctx.add_loss(r.penalty(out) / batch);
        }
    }

    /// The kernel's and the bias's penalties (those that are set).
    pub(crate) fn penalties<'t, T: Float>(&self, ctx: &Ctx<'_, 't, T>, kernel: Option<Param>, bias: Option<Param>) -> Vec<Var<'t, T>> {
        let mut terms = Vec::new();
        if let (Some(r), Some(k)) = (&self.kernel_regularizer, kernel) {
            terms.push(r.penalty(ctx.param(k)));
        }
        if let (Some(r), Some(b)) = (&self.bias_regularizer, bias) {
            terms.push(r.penalty(ctx.param(b)));
        }
        terms
    }

    /// Hands each constrained weight and its constraint to `f`.
    pub(crate) fn constraints(&self, f: &mut dyn FnMut(Param, &Constraint), kernel: Option<Param>, bias: Option<Param>) {
        if let (Some(c), Some(k)) = (&self.kernel_constraint, kernel) {
            f(k, c);
        }
        if let (Some(c), Some(b)) = (&self.bias_constraint, bias) {
            f(b, c);
        }
    }

    /// Writes the layer's keys (`null` when unset) into its configuration object.
    pub(crate) fn write_config(&self, config: &mut Value) {
        if let Value::Object(map) = config {
            let reg = |r: &Option<Regularizer>| r.as_ref().map_or(Value::Null, Regularizer::to_json);
            let con = |c: &Option<Constraint>| c.as_ref().map_or(Value::Null, Constraint::to_json);
            let values = [
                reg(&self.kernel_regularizer),
                reg(&self.bias_regularizer),
                reg(&self.activity_regularizer),
                con(&self.kernel_constraint),
                con(&self.bias_constraint),
            ];
            for (key, value) in self.keys.into_iter().zip(values).filter(|(key, _)| !key.is_empty()) {
                map.insert(key.into(), value);
            }
        }
    }

    /// The options of a saved configuration (`{"class": ..., "args": {...}}` or `null` under each
    /// key; a missing key is unset), under Dense's and Conv's names.
    ///
    /// # Errors
    /// A bad regularizer or constraint, named with its key.
    pub(crate) fn from_config(config: &Map<String, Value>) -> Result<Self, String> {
        WeightOptions::from_config_named(config, KEYS)
    }

    /// [`from_config`](Self::from_config) under the names `keys` (an option with an empty name
    /// stays unset).
    ///
    /// # Errors
    /// A bad regularizer or constraint, named with its key.
    pub(crate) fn from_config_named(config: &Map<String, Value>, keys: [&'static str; 5]) -> Result<Self, String> {
        let regularizer = |key: &str| match config.get(key).filter(|_| !key.is_empty()) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => Regularizer::from_json(v).map(Some).map_err(|e| format!("{key}: {e}")),
        };
        let constraint = |key: &str| match config.get(key).filter(|_| !key.is_empty()) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => Constraint::from_json(v).map(Some).map_err(|e| format!("{key}: {e}")),
        };
        Ok(WeightOptions {
            kernel_regularizer: regularizer(keys[0])?,
            bias_regularizer: regularizer(keys[1])?,
            activity_regularizer: regularizer(keys[2])?,
            kernel_constraint: constraint(keys[3])?,
            bias_constraint: constraint(keys[4])?,
            keys,
        })
    }
}

/// The five builder methods of [`WeightOptions`], one per Keras option, for a layer type with an
/// `options: WeightOptions` field (`Dense`, `Conv1D`/`Conv2D`): written once, expanded in each
/// layer's `impl` block.
macro_rules! weight_option_setters {
    () => {
        /// Keras' `kernel_regularizer`: `regularizer(kernel)` is added to the loss.
        pub fn kernel_regularizer(mut self, regularizer: Regularizer) -> Self {
            self.options.kernel_regularizer = Some(regularizer);
            self
        }
        /// Keras' `bias_regularizer`: `regularizer(bias)` is added to the loss.
        pub fn bias_regularizer(mut self, regularizer: Regularizer) -> Self {
            self.options.bias_regularizer = Some(regularizer);
            self
        }
        /// Keras' `activity_regularizer`: `regularizer(output) / batch` is added to the loss.
        pub fn activity_regularizer(mut self, regularizer: Regularizer) -> Self {
            self.options.activity_regularizer = Some(regularizer);
            self
        }
        /// Keras' `kernel_constraint`: the kernel is projected after every update.
        pub fn kernel_constraint(mut self, constraint: Constraint) -> Self {
            self.options.kernel_constraint = Some(constraint);
            self
        }
        /// Keras' `bias_constraint`: the bias is projected after every update.
        pub fn bias_constraint(mut self, constraint: Constraint) -> Self {
            self.options.bias_constraint = Some(constraint);
            self
        }
    };
}
pub(crate) use weight_option_setters;
