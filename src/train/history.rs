//! What `fit` returns: the logs of every epoch, recorded by the `History` callback.

use super::callbacks::{Callback, CallbackContext, CallbackError};
use crate::tensor::Float;
use std::collections::BTreeMap;

/// Per-epoch logs, as Keras' `History.history`: `"loss"`, each metric by name, and the same with
/// a `val_` prefix when validation data was given, plus what callbacks add (`"learning_rate"`).
///
/// It is Keras' `History` callback: `fit` runs it at every epoch's end after your callbacks
/// (so it sees what they add to the logs) and returns it.
///
/// ```
/// use tapegrad::optim::Sgd;
/// use tapegrad::train::callbacks::{Callback, CallbackContext, ModelHandle};
/// use tapegrad::train::{History, Logs};
/// # struct NoModel;
/// # impl ModelHandle<f64> for NoModel {
/// #     fn get_weights(&self) -> Vec<tapegrad::Tensor<f64>> { vec![] }
/// #     fn set_weights(&mut self, _: &[tapegrad::Tensor<f64>]) -> Result<(), String> { Ok(()) }
/// #     fn save(&self, _: &std::path::Path) -> Result<(), String> { Ok(()) }
/// # }
/// let (mut history, mut opt, mut model) = (History::new(), Sgd::<f64>::new(0.1), NoModel);
/// for (epoch, loss) in [(3, 0.5), (4, 0.25)] {
///     let mut logs: Logs = [("loss".to_string(), loss)].into_iter().collect();
///     history.on_epoch_end(&mut CallbackContext::new(epoch, 5, &mut logs, &mut opt, &mut model)).unwrap();
/// }
/// assert_eq!((history.loss(), history.epoch()), (&[0.5, 0.25][..], &[3, 4][..]));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Every series by name, one value per epoch.
    pub history: BTreeMap<String, Vec<f64>>,
    epochs: usize,
    epoch: Vec<usize>,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one epoch's logs (its epoch number one after the last recorded, or 0).
    pub fn push(&mut self, logs: &Logs) {
        let epoch = self.epoch.last().map_or(0, |e| e + 1);
        self.push_epoch(epoch, logs);
    }

    fn push_epoch(&mut self, epoch: usize, logs: &Logs) {
        for (name, value) in logs {
            self.history.entry(name.clone()).or_default().push(*value);
        }
        self.epochs += 1;
        self.epoch.push(epoch);
    }

    /// Epochs recorded.
    pub fn epochs(&self) -> usize {
        self.epochs
    }

    /// The number (from 0) of each recorded epoch, Keras' `History.epoch`: `0..epochs` for a
    /// plain `fit`, `initial_epoch..epochs` for a resumed one.
    pub fn epoch(&self) -> &[usize] {
        &self.epoch
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

impl<T: Float> Callback<T> for History {
    fn on_epoch_end(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        self.push_epoch(ctx.epoch, ctx.logs);
        Ok(())
    }
}

/// One set of named values: `"loss"` and the metrics (Keras' `logs` dict).
pub type Logs = BTreeMap<String, f64>;
