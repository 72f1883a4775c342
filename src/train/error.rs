//! What can go wrong in `fit`, `evaluate` and `predict`.

use super::History;
use crate::losses::LossError;
use std::fmt;

/// A training input or run the library refuses, with what and where.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainError {
    /// `x` and `y` of one data set have different row counts.
    RowMismatch {
        /// Which data set ("training" or "validation").
        data: &'static str,
        /// Rows of `x`.
        x_rows: usize,
        /// Rows of `y`.
        y_rows: usize,
    },
    /// `x` is not a matrix with the model's input width.
    InputShape {
        /// Which data set.
        data: &'static str,
        /// The model's input width.
        expected: usize,
        /// The shape given.
        got: Vec<usize>,
    },
    /// A data set has no rows.
    Empty {
        /// Which data set.
        data: &'static str,
    },
    /// A NaN or infinity in the inputs or targets.
    NonFinite {
        /// Which tensor ("x", "y", "validation x", ...).
        what: &'static str,
        /// The row of the first bad value.
        row: usize,
        /// Its column.
        col: usize,
    },
    /// The targets do not fit the loss and the output width.
    Loss(LossError),
    /// A setting is out of range (batch size 0, ...).
    Config(String),
    /// An argument of `fit`, `evaluate` or a layer with a value it cannot take, named.
    Argument {
        /// The argument (`"sample_weight"`, `"class_weight"`, `"validation_split"`, `"rate"`).
        argument: String,
        /// The value given (or the offending part of it).
        value: String,
        /// What it must be.
        expected: String,
    },
    /// A callback refused its arguments or the logs (a `monitor` that `fit` does not log, found at
    /// the end of the first epoch), or failed to save or restore.
    Callback(crate::train::callbacks::CallbackError),
    /// The loss became NaN or infinite; training stopped. The history holds the epochs completed
    /// before.
    Diverged {
        /// Epoch (1-based) of the bad batch.
        epoch: usize,
        /// Batch (1-based) within the epoch.
        batch: usize,
        /// The loss value.
        loss: f64,
        /// Epochs finished before the divergence.
        history: History,
    },
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::RowMismatch { data, x_rows, y_rows } => write!(
                f,
                "{data} data: x has {x_rows} rows but y has {y_rows}; every sample needs one target row"
            ),
            TrainError::InputShape { data, expected, got } => write!(
                f,
                "{data} data: x must have shape (rows, {expected}) for this model, got {got:?}"
            ),
            TrainError::Empty { data } => write!(f, "{data} data: no rows"),
            TrainError::NonFinite { what, row, col } => {
                write!(f, "{what} holds a NaN or infinite value at row {row}, column {col}")
            }
            TrainError::Loss(e) => write!(f, "targets do not fit the loss: {e}"),
            TrainError::Config(msg) => f.write_str(msg),
            TrainError::Callback(e) => write!(f, "{e}"),
            TrainError::Argument { argument, value, expected } => write!(f, "{argument} = {value}: {expected}"),
            TrainError::Diverged { epoch, batch, loss, .. } => write!(
                f,
                "training stopped: the loss became {loss} at epoch {epoch}, batch {batch} \
                 (try a smaller learning rate or scaled inputs)"
            ),
        }
    }
}

impl std::error::Error for TrainError {}

impl From<crate::nn::ArgumentError> for TrainError {
    fn from(e: crate::nn::ArgumentError) -> Self {
        TrainError::Argument {
            argument: format!("{}({})", e.layer, e.argument),
            value: e.value.to_string(),
            expected: format!("must be {}", e.expected),
        }
    }
}

impl TrainError {
    pub(crate) fn argument(argument: &str, value: impl std::fmt::Display, expected: impl Into<String>) -> Self {
        TrainError::Argument { argument: argument.to_string(), value: value.to_string(), expected: expected.into() }
    }
}

impl From<crate::train::callbacks::CallbackError> for TrainError {
    fn from(e: crate::train::callbacks::CallbackError) -> Self {
        TrainError::Callback(e)
    }
}

impl From<LossError> for TrainError {
    fn from(e: LossError) -> Self {
        TrainError::Loss(e)
    }
}
