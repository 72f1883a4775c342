//! Building an optimizer from a Keras config (`optimizer.get_config()` as JSON).

use super::schedule_config::learning_rate_from_keras;
use super::{Adagrad, Adam, AdamW, Clipping, Optimizer, RmsProp, Sgd};
use crate::tensor::Float;
use serde_json::{Map, Value};
use std::fmt;

/// A config that names an unknown optimizer or key, or gives a key a value of the wrong kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptimError(pub String);

impl fmt::Display for OptimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for OptimError {}

/// Reads the keys of one config, remembering which were used.
struct Reader<'a> {
    optimizer: &'a str,
    config: &'a Map<String, Value>,
}

impl Reader<'_> {
    fn err(&self, key: &str, what: &str) -> OptimError {
        OptimError(format!("{} config: key '{key}' {what} (got {})", self.optimizer, self.config[key]))
    }
    fn f64(&self, key: &str, default: f64) -> Result<f64, OptimError> {
        match self.config.get(key) {
            None => Ok(default),
            Some(v) => v.as_f64().ok_or_else(|| self.err(key, "must be a number")),
        }
    }
    fn opt_f64(&self, key: &str) -> Result<Option<f64>, OptimError> {
        match self.config.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or_else(|| self.err(key, "must be a number or null")),
        }
    }
    fn bool(&self, key: &str, default: bool) -> Result<bool, OptimError> {
        match self.config.get(key) {
            None => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| self.err(key, "must be true or false")),
        }
    }
    /// Keys Keras has on every optimizer that tapegrad does not implement: accepted only at their
    /// inactive values.
    fn inactive(&self, key: &str, value: &Value) -> Result<(), OptimError> {
        let ok = match key {
            "name" => value.is_string(),
            "ema_overwrite_frequency" | "loss_scale_factor" | "gradient_accumulation_steps" => value.is_null(),
            // Read below.
            "clipnorm" | "clipvalue" | "global_clipnorm" => true,
            "use_ema" => value == &Value::Bool(false),
            // Only read when use_ema is on.
            "ema_momentum" => value.is_number(),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(self.err(key, "is not supported by tapegrad at this value"))
        }
    }
}

const COMMON: &[&str] = &[
    "name",
    "clipnorm",
    "clipvalue",
    "global_clipnorm",
    "use_ema",
    "ema_momentum",
    "ema_overwrite_frequency",
    "loss_scale_factor",
    "gradient_accumulation_steps",
];

/// Builds the optimizer Keras names `optimizer` (`"sgd"`, `"adam"`, `"adamw"`, `"rmsprop"`,
/// `"adagrad"`, any case) from its config object. Every key Keras writes is mapped; an unknown key,
/// a value of the wrong kind, or an active feature tapegrad lacks (EMA, loss scaling, gradient
/// accumulation) is an error naming it. `clipnorm`, `clipvalue` and `global_clipnorm` set the
/// optimizer's [`Clipping`] (at most one of them, a number > 0). `learning_rate` is a number or a
/// serialized schedule (`{"class_name": "CosineDecay", "config": {...}}`, see
/// [`schedule_from_keras`](super::schedule_from_keras)).
///
/// ```
/// use tapegrad::optim::from_keras_config;
/// let config = serde_json::json!({"learning_rate": 0.01, "momentum": 0.9, "nesterov": true});
/// let opt = from_keras_config::<f64>("SGD", config.as_object().unwrap()).unwrap();
/// assert_eq!(opt.name(), "sgd");
/// let bad = serde_json::json!({"learning_rate": 0.01, "betas": 0.9});
/// assert!(from_keras_config::<f64>("adam", bad.as_object().unwrap()).is_err());
/// ```
pub fn from_keras_config<T: Float + 'static>(
    optimizer: &str,
    config: &Map<String, Value>,
) -> Result<Box<dyn Optimizer<T>>, OptimError> {
    let name = optimizer.to_ascii_lowercase();
    let r = Reader { optimizer: &name, config };
    let own: &[&str] = match name.as_str() {
        "sgd" => &["learning_rate", "weight_decay", "momentum", "nesterov"],
        "adam" | "adamw" => &["learning_rate", "weight_decay", "beta_1", "beta_2", "epsilon", "amsgrad"],
        "rmsprop" => &["learning_rate", "weight_decay", "rho", "momentum", "epsilon", "centered"],
        "adagrad" => &["learning_rate", "weight_decay", "initial_accumulator_value", "epsilon"],
        _ => {
            return Err(OptimError(format!(
                "unknown optimizer '{optimizer}'; known: sgd, adam, adamw, rmsprop, adagrad"
            )))
        }
    };
    for (key, value) in config {
        if own.contains(&key.as_str()) {
            continue;
        }
        if COMMON.contains(&key.as_str()) {
            r.inactive(key, value)?;
        } else {
            return Err(OptimError(format!(
                "{name} config: unknown key '{key}'; known: {}",
                own.iter().chain(COMMON).copied().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let wd = r.opt_f64("weight_decay")?;
    let clip = Clipping::from_keras(r.opt_f64("clipnorm")?, r.opt_f64("clipvalue")?, r.opt_f64("global_clipnorm")?)
        .map_err(|e| OptimError(format!("{name} config: {e}")))?;
    Ok(match name.as_str() {
        "sgd" => Box::new(
            Sgd::new(learning_rate_from_keras(&name, config.get("learning_rate"), 0.01)?)
                .momentum(r.f64("momentum", 0.0)?)
                .nesterov(r.bool("nesterov", false)?)
                .weight_decay(wd)
                .with_clipping(clip),
        ),
        "adam" | "adamw" => {
            let adam = Adam::new(learning_rate_from_keras(&name, config.get("learning_rate"), 0.001)?)
                .beta_1(r.f64("beta_1", 0.9)?)
                .beta_2(r.f64("beta_2", 0.999)?)
                .epsilon(r.f64("epsilon", 1e-7)?)
                .amsgrad(r.bool("amsgrad", false)?)
                .with_clipping(clip);
            if name == "adam" {
                Box::new(adam.weight_decay(wd))
            } else {
                let mut w = AdamW::new(0.001);
                w.0 = adam.weight_decay(Some(wd.unwrap_or(0.004)));
                w.0.name = "adamw";
                Box::new(w)
            }
        }
        "rmsprop" => Box::new(
            RmsProp::new(learning_rate_from_keras(&name, config.get("learning_rate"), 0.001)?)
                .rho(r.f64("rho", 0.9)?)
                .momentum(r.f64("momentum", 0.0)?)
                .epsilon(r.f64("epsilon", 1e-7)?)
                .centered(r.bool("centered", false)?)
                .weight_decay(wd)
                .with_clipping(clip),
        ),
        _ => Box::new(
            Adagrad::new(learning_rate_from_keras(&name, config.get("learning_rate"), 0.001)?)
                .initial_accumulator_value(r.f64("initial_accumulator_value", 0.1)?)
                .epsilon(r.f64("epsilon", 1e-7)?)
                .weight_decay(wd)
                .with_clipping(clip),
        ),
    })
}
