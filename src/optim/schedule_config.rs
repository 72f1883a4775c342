//! Building a learning-rate schedule from Keras' serialized form.

use super::{
    CosineDecay, CosineDecayRestarts, ExponentialDecay, InverseTimeDecay, LearningRate, OptimError, PiecewiseConstantDecay,
    PolynomialDecay, Precision,
};
use serde_json::{Map, Value};

/// Reads the keys of one schedule config.
struct Args<'a> {
    class: &'a str,
    config: &'a Map<String, Value>,
}

impl Args<'_> {
    fn err(&self, key: &str, what: &str) -> OptimError {
        OptimError(format!("{}: argument '{key}' {what} (got {})", self.class, self.config.get(key).unwrap_or(&Value::Null)))
    }
    fn f64(&self, key: &str, default: Option<f64>) -> Result<f64, OptimError> {
        match (self.config.get(key), default) {
            (None | Some(Value::Null), Some(d)) => Ok(d),
            (Some(v), _) => v.as_f64().ok_or_else(|| self.err(key, "must be a number")),
            (None, None) => Err(self.err(key, "is required")),
        }
    }
    fn steps(&self, key: &str, default: Option<u64>) -> Result<u64, OptimError> {
        match (self.config.get(key), default) {
            (None | Some(Value::Null), Some(d)) => Ok(d),
            (Some(v), _) => v
                .as_u64()
                .or_else(|| v.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0).map(|f| f as u64))
                .ok_or_else(|| self.err(key, "must be a whole number of steps >= 0")),
            (None, None) => Err(self.err(key, "is required")),
        }
    }
    fn bool(&self, key: &str) -> Result<bool, OptimError> {
        match self.config.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(v) => v.as_bool().ok_or_else(|| self.err(key, "must be true or false")),
        }
    }
    fn check_keys(&self, known: &[&str]) -> Result<(), OptimError> {
        for key in self.config.keys() {
            if !known.contains(&key.as_str()) && key != "name" && key != "precision" {
                return Err(OptimError(format!("{}: unknown argument '{key}'; known: {}", self.class, known.join(", "))));
            }
        }
        Ok(())
    }
}

/// Builds the schedule Keras names `class_name` from its `get_config()` (the arguments as Keras
/// names them; `name` is ignored), or from tapegrad's [`LearningRateSchedule::config`], which may
/// add `"precision": "float32" | "float64"` (default float32, as Keras). An unknown class or key, a
/// value of the wrong kind, or a bad value (negative rate, mismatched boundaries and values, ...)
/// is an error naming it.
///
/// [`LearningRateSchedule::config`]: super::LearningRateSchedule::config
///
/// ```
/// use tapegrad::optim::schedule_from_keras;
/// let cfg = serde_json::json!({"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": true});
/// let lr = schedule_from_keras("ExponentialDecay", cfg.as_object().unwrap()).unwrap();
/// assert_eq!(lr.at(10), 0.05f32 as f64);
/// let bad = serde_json::json!({"boundaries": [10], "values": [0.1]});
/// assert!(schedule_from_keras("PiecewiseConstantDecay", bad.as_object().unwrap()).is_err());
/// ```
pub fn schedule_from_keras(class_name: &str, config: &Map<String, Value>) -> Result<LearningRate, OptimError> {
    let a = Args { class: class_name, config };
    let p = match config.get("precision") {
        None | Some(Value::Null) => Precision::Float32,
        Some(Value::String(s)) if s == "float32" => Precision::Float32,
        Some(Value::String(s)) if s == "float64" => Precision::Float64,
        Some(_) => return Err(a.err("precision", "must be \"float32\" or \"float64\"")),
    };
    Ok(match class_name {
        "ExponentialDecay" | "InverseTimeDecay" => {
            a.check_keys(&["initial_learning_rate", "decay_steps", "decay_rate", "staircase"])?;
            let (lr0, steps, rate) = (a.f64("initial_learning_rate", None)?, a.steps("decay_steps", None)?, a.f64("decay_rate", None)?);
            if class_name == "ExponentialDecay" {
                ExponentialDecay::new(lr0, steps, rate)?.staircase(a.bool("staircase")?).precision(p).into()
            } else {
                InverseTimeDecay::new(lr0, steps, rate)?.staircase(a.bool("staircase")?).precision(p).into()
            }
        }
        "PiecewiseConstantDecay" => {
            a.check_keys(&["boundaries", "values"])?;
            let list = |key: &str| -> Result<&Vec<Value>, OptimError> {
                config.get(key).and_then(Value::as_array).ok_or_else(|| a.err(key, "must be a list"))
            };
            let boundaries = list("boundaries")?
                .iter()
                .map(|v| v.as_u64().ok_or_else(|| a.err("boundaries", "must hold whole step counts")))
                .collect::<Result<Vec<_>, _>>()?;
            let values = list("values")?
                .iter()
                .map(|v| v.as_f64().ok_or_else(|| a.err("values", "must hold numbers")))
                .collect::<Result<Vec<_>, _>>()?;
            PiecewiseConstantDecay::new(&boundaries, &values)?.precision(p).into()
        }
        "PolynomialDecay" => {
            a.check_keys(&["initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle"])?;
            let end = a.f64("end_learning_rate", Some(0.0001))?;
            if !(end.is_finite() && end >= 0.0) {
                return Err(a.err("end_learning_rate", "must be a finite number >= 0"));
            }
            let power = a.f64("power", Some(1.0))?;
            if !(power.is_finite() && power >= 0.0) {
                return Err(a.err("power", "must be a finite number >= 0"));
            }
            PolynomialDecay::new(a.f64("initial_learning_rate", None)?, a.steps("decay_steps", None)?)?
                .end_learning_rate(end)
                .power(power)
                .cycle(a.bool("cycle")?)
                .precision(p)
                .into()
        }
        "CosineDecay" => {
            a.check_keys(&["initial_learning_rate", "decay_steps", "alpha", "warmup_target", "warmup_steps"])?;
            let alpha = a.f64("alpha", Some(0.0))?;
            if !(0.0..=1.0).contains(&alpha) {
                return Err(a.err("alpha", "must be in [0, 1]"));
            }
            let mut s = CosineDecay::new(a.f64("initial_learning_rate", None)?, a.steps("decay_steps", None)?)?.alpha(alpha);
            if config.get("warmup_target").is_some_and(|v| !v.is_null()) {
                s = s.warmup(a.f64("warmup_target", None)?, a.steps("warmup_steps", Some(0))?)?;
            }
            s.precision(p).into()
        }
        "CosineDecayRestarts" => {
            a.check_keys(&["initial_learning_rate", "first_decay_steps", "t_mul", "m_mul", "alpha"])?;
            let (t_mul, m_mul, alpha) = (a.f64("t_mul", Some(2.0))?, a.f64("m_mul", Some(1.0))?, a.f64("alpha", Some(0.0))?);
            if !(t_mul > 0.0 && t_mul.is_finite()) {
                return Err(a.err("t_mul", "must be > 0"));
            }
            if !(m_mul >= 0.0 && m_mul.is_finite()) {
                return Err(a.err("m_mul", "must be >= 0"));
            }
            if !(0.0..=1.0).contains(&alpha) {
                return Err(a.err("alpha", "must be in [0, 1]"));
            }
            CosineDecayRestarts::new(a.f64("initial_learning_rate", None)?, a.steps("first_decay_steps", None)?)?
                .t_mul(t_mul)
                .m_mul(m_mul)
                .alpha(alpha)
                .precision(p)
                .into()
        }
        other => {
            return Err(OptimError(format!(
                "unknown learning-rate schedule '{other}'; known: ExponentialDecay, PiecewiseConstantDecay, \
                 PolynomialDecay, InverseTimeDecay, CosineDecay, CosineDecayRestarts"
            )))
        }
    })
}

/// An optimizer config's `learning_rate`: a number, or a serialized schedule
/// (`{"class_name": "...", "config": {...}}`, as Keras writes it).
pub(crate) fn learning_rate_from_keras(optimizer: &str, value: Option<&Value>, default: f64) -> Result<LearningRate, OptimError> {
    match value {
        None => Ok(LearningRate::Constant(default)),
        Some(Value::Object(o)) => {
            let class = o.get("class_name").and_then(Value::as_str);
            let config = o.get("config").and_then(Value::as_object);
            match (class, config) {
                (Some(c), Some(cfg)) => schedule_from_keras(c, cfg),
                _ => Err(OptimError(format!(
                    "{optimizer} config: key 'learning_rate' must be a number or a schedule with 'class_name' and 'config' (got {})",
                    Value::Object(o.clone())
                ))),
            }
        }
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .map(LearningRate::Constant)
            .ok_or_else(|| OptimError(format!("{optimizer} config: key 'learning_rate' must be a number >= 0 or a schedule (got {v})"))),
    }
}
