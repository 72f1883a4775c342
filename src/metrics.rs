//! Metrics: Keras' running means used by `fit`/`evaluate`, and scikit-learn's `mean_squared_error`
//! and `log_loss` as plain functions.
//!
//! ```
//! use tapegrad::metrics::{log_loss, mean_squared_error};
//! assert_eq!(mean_squared_error(&[1.0, 2.0], &[1.0, 4.0]).unwrap(), 2.0);
//! let l = log_loss(&[1.0, 0.0], &[0.9, 0.2]).unwrap();
//! assert!((l - (-(0.9f64.ln() + 0.8f64.ln()) / 2.0)).abs() < 1e-15);
//! ```

use crate::tensor::Float;
use std::fmt;
use std::str::FromStr;

/// A metric to track during training, by Keras' name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Keras' `"accuracy"`: resolved from the targets, output and loss to one of the specific
    /// accuracies below (see [`Metric::resolve_accuracy`]).
    Accuracy,
    /// Prediction above 0.5 counts as class 1 (`binary_accuracy`).
    BinaryAccuracy,
    /// Sign of the prediction against targets in {-1, 1} (a tanh output with hinge losses).
    SignAccuracy,
    /// Argmax of the prediction against argmax of one-hot targets (`categorical_accuracy`).
    CategoricalAccuracy,
    /// Argmax of the prediction against integer class ids (`sparse_categorical_accuracy`).
    SparseCategoricalAccuracy,
    /// Mean squared error.
    Mse,
    /// Root of the mean squared error over all elements seen.
    Rmse,
    /// Mean absolute error.
    Mae,
}

impl Metric {
    /// The name used in logs and in [`History`](crate::train::History).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::BinaryAccuracy => "binary_accuracy",
            Metric::SignAccuracy => "sign_accuracy",
            Metric::CategoricalAccuracy => "categorical_accuracy",
            Metric::SparseCategoricalAccuracy => "sparse_categorical_accuracy",
            Metric::Mse => "mse",
            Metric::Rmse => "rmse",
            Metric::Mae => "mae",
        }
    }

    /// Which accuracy Keras' `"accuracy"` means: sparse class ids when the loss is sparse or the
    /// targets have one column against a wider output; for one output, by sign when the output is
    /// tanh or any target is negative, else thresholded at 0.5; argmax for one-hot targets.
    pub fn resolve_accuracy(sparse_loss: bool, target_width: usize, output_width: usize, tanh_output: bool, any_negative_target: bool) -> Metric {
        if sparse_loss || (target_width == 1 && output_width > 1) {
            Metric::SparseCategoricalAccuracy
        } else if output_width == 1 {
            if tanh_output || any_negative_target {
                Metric::SignAccuracy
            } else {
                Metric::BinaryAccuracy
            }
        } else {
            Metric::CategoricalAccuracy
        }
    }

    /// The per-sample value of the metric's running mean, for one row of targets and
    /// predictions (sparse: one class id against the output row). For `Rmse` the squared error.
    /// `Accuracy` must be resolved first; it is scored as binary accuracy here.
    pub fn sample_value<T: Float>(self, y_true: &[T], y_pred: &[T]) -> f64 {
        let w = y_pred.len().max(1) as f64;
        match self {
            Metric::Accuracy | Metric::BinaryAccuracy => {
                let half = T::from_f64(0.5);
                let hits = y_true.iter().zip(y_pred).filter(|(t, p)| (**p > half) == (**t > half)).count();
                hits as f64 / w
            }
            Metric::SignAccuracy => {
                let hits = y_true.iter().zip(y_pred).filter(|(t, p)| (**p > T::ZERO) == (**t > T::ZERO)).count();
                hits as f64 / w
            }
            Metric::CategoricalAccuracy => (argmax(y_true) == argmax(y_pred)) as u8 as f64,
            Metric::SparseCategoricalAccuracy => {
                let label = y_true.first().map_or(usize::MAX, |t| t.to_f64() as usize);
                (label == argmax(y_pred)) as u8 as f64
            }
            Metric::Mse | Metric::Rmse => {
                y_true.iter().zip(y_pred).map(|(t, p)| (*p - *t).to_f64().powi(2)).sum::<f64>() / w
            }
            Metric::Mae => y_true.iter().zip(y_pred).map(|(t, p)| (*p - *t).to_f64().abs()).sum::<f64>() / w,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = String;
    /// Parses Keras' metric names and aliases (`"acc"`, `"mean_squared_error"`, ...).
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "accuracy" | "acc" => Metric::Accuracy,
            "binary_accuracy" => Metric::BinaryAccuracy,
            "sign_accuracy" => Metric::SignAccuracy,
            "categorical_accuracy" => Metric::CategoricalAccuracy,
            "sparse_categorical_accuracy" => Metric::SparseCategoricalAccuracy,
            "mse" | "mean_squared_error" => Metric::Mse,
            "rmse" | "root_mean_squared_error" => Metric::Rmse,
            "mae" | "mean_absolute_error" => Metric::Mae,
            _ => return Err(format!("unknown metric '{s}'; known: accuracy, binary_accuracy, sign_accuracy, categorical_accuracy, sparse_categorical_accuracy, mse, rmse, mae")),
        })
    }
}

/// Index of the largest element (the first on ties, as numpy's argmax).
fn argmax<T: Float>(row: &[T]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best
}

/// The running mean of one metric over the samples seen (Keras' stateful metric).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricState {
    /// The metric.
    pub metric: Metric,
    total: f64,
    count: f64,
}

impl MetricState {
    /// An empty running mean of `metric` (resolve `Accuracy` first).
    pub fn new(metric: Metric) -> Self {
        MetricState { metric, total: 0.0, count: 0.0 }
    }

    /// Adds a batch: `y_true` holds `target_width` values per row, `y_pred` `output_width`.
    pub fn update<T: Float>(&mut self, y_true: &[T], target_width: usize, y_pred: &[T], output_width: usize) {
        for (t, p) in y_true.chunks_exact(target_width.max(1)).zip(y_pred.chunks_exact(output_width.max(1))) {
            self.total += self.metric.sample_value(t, p);
            self.count += 1.0;
        }
    }

    /// The mean so far (NaN before any sample).
    pub fn result(&self) -> f64 {
        let mean = self.total / self.count;
        if self.metric == Metric::Rmse {
            mean.sqrt()
        } else {
            mean
        }
    }

    /// Forgets every sample.
    pub fn reset(&mut self) {
        self.total = 0.0;
        self.count = 0.0;
    }
}

/// Inputs a metric function cannot score; the message names what is wrong and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricError(pub String);

impl fmt::Display for MetricError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for MetricError {}

/// scikit-learn's `mean_squared_error`: the mean of `(y_true - y_pred)^2` over every element
/// (equal to the uniform average over output columns). Errors on different lengths or no data.
pub fn mean_squared_error<T: Float>(y_true: &[T], y_pred: &[T]) -> Result<f64, MetricError> {
    if y_true.len() != y_pred.len() {
        return Err(MetricError(format!(
            "mean_squared_error: y_true has {} values but y_pred has {}",
            y_true.len(),
            y_pred.len()
        )));
    }
    if y_true.is_empty() {
        return Err(MetricError("mean_squared_error: no values".into()));
    }
    let sum: f64 = y_true.iter().zip(y_pred).map(|(t, p)| (t.to_f64() - p.to_f64()).powi(2)).sum();
    Ok(sum / y_true.len() as f64)
}

/// scikit-learn's binary `log_loss`: `y_true` holds labels 0 or 1, `y_pred` the probability of
/// class 1. Both columns `[1 - p, p]` are clipped to `[eps, 1 - eps]` with `eps` the element type's
/// machine epsilon (as scikit-learn 1.9 does) before the mean negative log-likelihood.
pub fn log_loss<T: Float>(y_true: &[T], y_pred: &[T]) -> Result<f64, MetricError> {
    if y_true.len() != y_pred.len() {
        return Err(MetricError(format!(
            "log_loss: y_true has {} labels but y_pred has {} probabilities",
            y_true.len(),
            y_pred.len()
        )));
    }
    let labels: Vec<usize> = y_true
        .iter()
        .enumerate()
        .map(|(i, &t)| match t.to_f64() {
            0.0 => Ok(0),
            1.0 => Ok(1),
            v => Err(MetricError(format!("log_loss: y_true[{i}] = {v} is not a binary label 0 or 1"))),
        })
        .collect::<Result<_, _>>()?;
    let mut probs = Vec::with_capacity(2 * y_pred.len());
    for &p in y_pred {
        probs.push(T::ONE - p);
        probs.push(p);
    }
    log_loss_multiclass(&labels, &probs, 2)
}

/// scikit-learn's `log_loss` for `classes` columns: `labels[i]` is the class of row `i` of
/// `y_pred` (`labels.len() * classes` probabilities, row-major). Rows must sum to 1 (to a relative
/// tolerance of `sqrt(eps)`, as scikit-learn checks); probabilities are clipped to
/// `[eps, 1 - eps]` with `eps` the element type's machine epsilon.
pub fn log_loss_multiclass<T: Float>(labels: &[usize], y_pred: &[T], classes: usize) -> Result<f64, MetricError> {
    if classes < 2 {
        return Err(MetricError(format!("log_loss: needs at least 2 classes, got {classes}")));
    }
    if labels.is_empty() {
        return Err(MetricError("log_loss: no samples".into()));
    }
    if y_pred.len() != labels.len() * classes {
        return Err(MetricError(format!(
            "log_loss: {} labels need {} probabilities ({} classes), got {}",
            labels.len(),
            labels.len() * classes,
            classes,
            y_pred.len()
        )));
    }
    let eps = T::EPSILON;
    let tol = eps.to_f64().sqrt();
    let mut total = 0.0;
    for (i, (&label, row)) in labels.iter().zip(y_pred.chunks_exact(classes)).enumerate() {
        if label >= classes {
            return Err(MetricError(format!("log_loss: label {label} of sample {i} is not below {classes} classes")));
        }
        let sum: f64 = row.iter().map(|p| p.to_f64()).sum();
        if (sum - 1.0).abs() > tol + 1e-8 {
            return Err(MetricError(format!("log_loss: the probabilities of sample {i} sum to {sum}, not 1")));
        }
        let p = row[label].max(eps).min(T::ONE - eps);
        total -= p.ln().to_f64();
    }
    Ok(total / labels.len() as f64)
}
