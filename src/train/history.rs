//! What `fit` returns: the logs of every epoch.

use std::collections::BTreeMap;

/// Per-epoch logs, as Keras' `History.history`: `"loss"`, each metric by name, and the same with
/// a `val_` prefix when validation data was given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Every series by name, one value per epoch.
    pub history: BTreeMap<String, Vec<f64>>,
    epochs: usize,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one epoch's logs.
    pub fn push(&mut self, logs: &Logs) {
        for (name, value) in logs {
            self.history.entry(name.clone()).or_default().push(*value);
        }
        self.epochs += 1;
    }

    /// Epochs recorded.
    pub fn epochs(&self) -> usize {
        self.epochs
    }

    /// The series called `name` (e.g. `"val_accuracy"`).
    pub fn get(&self, name: &str) -> Option<&[f64]> {
        self.history.get(name).map(Vec::as_slice)
    }

    /// Training loss per epoch.
    pub fn loss(&self) -> &[f64] {
        self.get("loss").unwrap_or(&[])
    }

    /// Validation loss per epoch (empty without validation data).
    pub fn val_loss(&self) -> &[f64] {
        self.get("val_loss").unwrap_or(&[])
    }

    /// The last epoch's logs.
    pub fn last(&self) -> Logs {
        self.history.iter().filter_map(|(k, v)| v.last().map(|x| (k.clone(), *x))).collect()
    }
}

/// One set of named values: `"loss"` and the metrics (Keras' `logs` dict).
pub type Logs = BTreeMap<String, f64>;
