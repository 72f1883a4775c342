//! Which way a monitored value improves, and the comparison Keras' callbacks make.

use super::CallbackError;

/// Whether the monitored value should go down or up (Keras' `mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// From the name (see each callback).
    #[default]
    Auto,
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

impl Mode {
    /// `"auto"`, `"min"` or `"max"`; anything else is an error naming the value.
    pub fn parse(callback: &'static str, mode: &str) -> Result<Mode, CallbackError> {
        match mode {
            "auto" => Ok(Mode::Auto),
            "min" => Ok(Mode::Min),
            "max" => Ok(Mode::Max),
            _ => Err(CallbackError::Argument {
                callback,
                argument: "mode",
                value: format!("'{mode}'"),
                reason: "must be 'auto', 'min' or 'max'".into(),
            }),
        }
    }
}

/// Metric names (without `val_`) whose larger values are better.
const HIGHER_IS_BETTER: &[&str] = &[
    "accuracy",
    "acc",
    "binary_accuracy",
    "sign_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "auc",
    "precision",
    "recall",
    "f1_score",
    "r2_score",
];

/// Metric names (without `val_`) whose smaller values are better.
const LOWER_IS_BETTER: &[&str] = &[
    "loss",
    "mse",
    "rmse",
    "mae",
    "mape",
    "msle",
    "mean_squared_error",
    "root_mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "hinge",
    "squared_hinge",
    "kl_divergence",
    "poisson",
    "log_cosh",
];

/// EarlyStopping's and ModelCheckpoint's rule (Keras' `_set_monitor_op`): `min` / `max` as given;
/// `auto` is min for a loss and the metric's own direction otherwise (accuracy: max). A name whose
/// direction is unknown is an error asking for `mode`, as Keras.
pub(crate) fn direction(callback: &'static str, monitor: &str, mode: Mode) -> Result<Mode, CallbackError> {
    match mode {
        Mode::Min | Mode::Max => Ok(mode),
        Mode::Auto => {
            let name = monitor.strip_prefix("val_").unwrap_or(monitor);
            if name.ends_with("loss") || LOWER_IS_BETTER.contains(&name) {
                Ok(Mode::Min)
            } else if HIGHER_IS_BETTER.contains(&name) {
                Ok(Mode::Max)
            } else {
                Err(CallbackError::Argument {
                    callback,
                    argument: "monitor",
                    value: format!("'{monitor}'"),
                    reason: "has no known direction with mode 'auto'; pass mode 'min' or 'max'".into(),
                })
            }
        }
    }
}

/// ReduceLROnPlateau's rule (Keras): `auto` is max when the name contains `"acc"`, else min.
pub(crate) fn direction_by_acc(monitor: &str, mode: Mode) -> Mode {
    match mode {
        Mode::Auto if monitor.contains("acc") => Mode::Max,
        Mode::Auto => Mode::Min,
        m => m,
    }
}

/// Keras' `op(current - min_delta, best)` with `min_delta` negated for min: for min an
/// improvement is `current + min_delta < best`, for max `current - min_delta > best`, strictly;
/// no best yet is an improvement.
pub(crate) fn improves(direction: Mode, current: f64, min_delta: f64, best: Option<f64>) -> bool {
    let Some(best) = best else { return true };
    match direction {
        Mode::Max => current - min_delta > best,
        _ => current + min_delta < best,
    }
}

#[track_caller]
pub(crate) fn check_non_negative(callback: &'static str, argument: &'static str, v: f64) -> Result<(), CallbackError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(CallbackError::Argument { callback, argument, value: v.to_string(), reason: "must be a finite number >= 0".into() })
    }
}
