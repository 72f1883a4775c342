//! What a checkpoint keeps of a callback, and the reading of it back.

use super::CallbackError;
use crate::tensor::{Float, Tensor};
use serde_json::{Map, Value};

/// A callback's state for a checkpoint: its class, its counters and values as JSON, and named
/// lists of tensors (EarlyStopping's `best_weights`). `tapegrad::io::save_checkpoint_with` writes
/// it into the checkpoint file and `load_checkpoint_with` gives it back.
///
/// ```
/// use tapegrad::train::callbacks::{Callback, EarlyStopping};
/// let stop = EarlyStopping::<f64>::new("val_loss").patience(3);
/// let state = stop.state().unwrap();
/// assert_eq!(state.class, "EarlyStopping");
/// assert_eq!(state.values["wait"], 0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CallbackState<T: Float> {
    /// The callback's Keras class name; loading checks it.
    pub class: String,
    /// Counters and values by name. Non-finite numbers are strings (`"inf"`, `"-inf"`, `"NaN"`).
    pub values: Map<String, Value>,
    /// Lists of tensors by name.
    pub tensors: Vec<(String, Vec<Tensor<T>>)>,
}

impl<T: Float> CallbackState<T> {
    pub(crate) fn new(class: &str) -> Self {
        CallbackState { class: class.to_string(), values: Map::new(), tensors: Vec::new() }
    }

    pub(crate) fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.values.insert(key.to_string(), value.into());
    }

    pub(crate) fn set_number(&mut self, key: &str, value: Option<f64>) {
        let v = match value {
            None => Value::Null,
            Some(x) if x.is_finite() => x.into(),
            Some(x) => format!("{x}").into(),
        };
        self.values.insert(key.to_string(), v);
    }

    fn bad(&self, key: &str, what: &str) -> CallbackError {
        CallbackError::Argument {
            callback: "checkpoint",
            argument: "state",
            value: format!("{}.{key} = {}", self.class, self.values.get(key).unwrap_or(&Value::Null)),
            reason: what.to_string(),
        }
    }

    /// Checks the class before reading.
    pub(crate) fn expect_class(&self, class: &'static str) -> Result<(), CallbackError> {
        if self.class == class {
            Ok(())
        } else {
            Err(CallbackError::Argument {
                callback: class,
                argument: "state",
                value: format!("'{}'", self.class),
                reason: format!("is the state of another callback, not of {class}"),
            })
        }
    }

    pub(crate) fn count(&self, key: &str) -> Result<usize, CallbackError> {
        self.values
            .get(key)
            .and_then(Value::as_u64)
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| self.bad(key, "must be a whole number >= 0"))
    }

    pub(crate) fn opt_count(&self, key: &str) -> Result<Option<usize>, CallbackError> {
        match self.values.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.count(key).map(Some),
        }
    }

    pub(crate) fn number(&self, key: &str) -> Result<Option<f64>, CallbackError> {
        match self.values.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => match s.as_str() {
                "inf" => Ok(Some(f64::INFINITY)),
                "-inf" => Ok(Some(f64::NEG_INFINITY)),
                "NaN" => Ok(Some(f64::NAN)),
                _ => Err(self.bad(key, "must be a number, \"inf\", \"-inf\" or \"NaN\"")),
            },
            Some(v) => v.as_f64().map(Some).ok_or_else(|| self.bad(key, "must be a number")),
        }
    }

    pub(crate) fn take_tensors(&mut self, key: &str) -> Option<Vec<Tensor<T>>> {
        let i = self.tensors.iter().position(|(k, _)| k == key)?;
        Some(self.tensors.remove(i).1)
    }
}
