//! Losses as graph expressions over public ops. (Initial interface; the full Keras set follows.)

use crate::tape::Var;
use crate::tensor::{Float, Tensor};
use std::fmt;

/// How per-sample losses become one number (Keras' `reduction`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// Mean over the batch (Keras' default `sum_over_batch_size`).
    #[default]
    SumOverBatchSize,
    /// Sum over the batch.
    Sum,
    /// One value per sample.
    None,
}

/// Options as Keras names them; each loss reads the ones it knows.
#[derive(Clone, Debug, PartialEq)]
pub struct LossOptions {
    /// Predictions are logits, not probabilities.
    pub from_logits: bool,
    /// Label smoothing for cross-entropies.
    pub label_smoothing: f64,
    /// Huber's threshold.
    pub delta: f64,
    /// Focal losses' focusing parameter.
    pub gamma: f64,
    /// Focal losses' weight; tversky's false-positive weight.
    pub alpha: f64,
    /// Tversky's false-negative weight.
    pub beta: f64,
    /// Focal losses' class balancing.
    pub apply_class_balancing: bool,
    /// Axis of cosine similarity and categorical losses.
    pub axis: isize,
    /// The reduction.
    pub reduction: Reduction,
}

impl Default for LossOptions {
    fn default() -> Self {
        LossOptions {
            from_logits: false,
            label_smoothing: 0.0,
            delta: 1.0,
            gamma: 2.0,
            alpha: 0.25,
            beta: 0.5,
            apply_class_balancing: false,
            axis: -1,
            reduction: Reduction::SumOverBatchSize,
        }
    }
}

/// An unknown loss name or a bad option.
#[derive(Clone, Debug, PartialEq)]
pub struct LossError(pub String);

impl fmt::Display for LossError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for LossError {}

/// A loss from the registry with its options.
#[derive(Clone, Debug, PartialEq)]
pub struct Loss {
    name: &'static str,
    options: LossOptions,
}

impl Loss {
    /// The loss registered under `name` (or a Keras alias) with default options.
    pub fn new(name: &str) -> Result<Loss, LossError> {
        Self::with_options(name, LossOptions::default())
    }

    /// The loss registered under `name` with the given options.
    pub fn with_options(name: &str, options: LossOptions) -> Result<Loss, LossError> {
        match name {
            "mean_squared_error" | "mse" => Ok(Loss { name: "mean_squared_error", options }),
            _ => Err(LossError(format!("unknown loss '{name}'; known: mean_squared_error"))),
        }
    }

    /// The canonical name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The options.
    pub fn options(&self) -> &LossOptions {
        &self.options
    }

    /// Checks that targets of this shape and content fit a model output of `output_width` columns.
    pub fn validate<T: Float>(&self, y_true: &Tensor<T>, output_width: usize) -> Result<(), LossError> {
        let _ = (y_true, output_width);
        Ok(())
    }

    /// The loss of predictions `y_pred` against targets `y_true`, reduced as the options say.
    #[track_caller]
    pub fn call<'t, T: Float>(&self, y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
        let per_sample = (y_pred - y_true).square().mean_axis(-1, false);
        match self.options.reduction {
            Reduction::SumOverBatchSize => per_sample.mean(),
            Reduction::Sum => per_sample.sum(),
            Reduction::None => per_sample,
        }
    }
}
