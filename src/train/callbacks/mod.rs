//! Callbacks: code that `fit` runs at Keras' hooks (train, epoch and batch begin and end), able to
//! stop training, change the learning rate, and save or restore the model's weights.
//!
//! A callback implements [`Callback`]; every hook gets a [`CallbackContext`]: the epoch, the logs,
//! a stop flag, the optimizer's learning rate, and the model through the small [`ModelHandle`]
//! trait (weights out and in, and a save), so callbacks do not depend on the model type.
//!
//! | Callback | Keras | What it does |
//! |---|---|---|
//! | [`EarlyStopping`] | `EarlyStopping` | stops when the monitored value stops improving; can restore the best weights |
//! | [`ReduceLROnPlateau`] | `ReduceLROnPlateau` | multiplies the learning rate by `factor` on a plateau |
//! | [`LearningRateScheduler`] | `LearningRateScheduler` | sets the rate from `f(epoch, lr)` at each epoch's start |
//! | [`ModelCheckpoint`] | `ModelCheckpoint` | saves the model each epoch, or only when the monitored value improves |
//! | [`CsvLogger`] | `CSVLogger` | one CSV row of logs per epoch |
//! | [`TerminateOnNaN`] | `TerminateOnNaN` | stops when a batch's loss is NaN or infinite |
//!
//! How a training loop drives them (`fit` does this; here by hand with a stand-in model):
//!
//! ```
//! use tapegrad::optim::Sgd;
//! use tapegrad::train::callbacks::{Callback, CallbackContext, EarlyStopping, ModelHandle};
//! use tapegrad::train::Logs;
//! use tapegrad::Tensor;
//!
//! struct Weights(Vec<Tensor<f64>>);
//! impl ModelHandle<f64> for Weights {
//!     fn get_weights(&self) -> Vec<Tensor<f64>> { self.0.clone() }
//!     fn set_weights(&mut self, w: &[Tensor<f64>]) -> Result<(), String> { self.0 = w.to_vec(); Ok(()) }
//!     fn save(&self, _path: &std::path::Path) -> Result<(), String> { Ok(()) }
//! }
//!
//! let mut model = Weights(vec![Tensor::scalar(0.0)]);
//! let mut opt = Sgd::<f64>::new(0.1);
//! let mut stop = EarlyStopping::new("val_loss").patience(1);
//! let val_loss = [0.9, 0.8, 0.85, 0.86, 0.7];
//! let mut epochs_run = 0;
//! let mut logs = Logs::new();
//! stop.on_train_begin(&mut CallbackContext::new(0, 5, &mut logs, &mut opt, &mut model)).unwrap();
//! for (epoch, &v) in val_loss.iter().enumerate() {
//!     epochs_run += 1;
//!     let mut logs: Logs = [("val_loss".to_string(), v)].into_iter().collect();
//!     let mut ctx = CallbackContext::new(epoch, 5, &mut logs, &mut opt, &mut model);
//!     stop.on_epoch_end(&mut ctx).unwrap();
//!     if ctx.stop_requested() {
//!         break;
//!     }
//! }
//! assert_eq!((epochs_run, stop.stopped_epoch()), (3, Some(2)));
//! ```

mod checkpoint;
mod csv_logger;
mod early_stopping;
mod lr_scheduler;
mod monitor;
mod reduce_lr;
mod state;
mod terminate_nan;

pub use checkpoint::ModelCheckpoint;
pub use csv_logger::CsvLogger;
pub use early_stopping::EarlyStopping;
pub use lr_scheduler::LearningRateScheduler;
pub use monitor::Mode;
pub use reduce_lr::ReduceLROnPlateau;
pub use state::CallbackState;
pub use terminate_nan::TerminateOnNaN;

use super::Logs;
use crate::optim::Optimizer;
use crate::tensor::{Float, Tensor};
use std::fmt;
use std::path::Path;

/// What a callback needs of the model: its state out and back in (for `restore_best_weights`) and
/// a save (for [`ModelCheckpoint`]). The training loop implements it for its model.
pub trait ModelHandle<T: Float> {
    /// A copy of everything that restoring must bring back, in a fixed order: the trainable weights
    /// and the non-trainable state (such as batch normalisation's moving statistics), as Keras'
    /// `get_weights()`.
    fn get_weights(&self) -> Vec<Tensor<T>>;
    /// Puts back what [`get_weights`](Self::get_weights) gave; a mismatch is an error.
    fn set_weights(&mut self, weights: &[Tensor<T>]) -> Result<(), String>;
    /// Saves the model (its file format, e.g. tapegrad's safetensors model file) to `path`,
    /// atomically: a reader or a crash sees the old file or the new one, never a mix
    /// (`tapegrad::io::write_atomic` does that).
    fn save(&self, path: &Path) -> Result<(), String>;
}

/// Why a callback failed.
#[derive(Clone, Debug, PartialEq)]
pub enum CallbackError {
    /// The monitored name is not in the logs.
    UnknownMonitor {
        /// The callback (Keras' class name).
        callback: &'static str,
        /// The name it monitors.
        monitor: String,
        /// The names the logs have.
        available: Vec<String>,
    },
    /// A bad argument: the callback, the argument and its value.
    Argument {
        /// The callback.
        callback: &'static str,
        /// The argument.
        argument: &'static str,
        /// Its value, as given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The learning rate cannot be set (the optimizer follows a schedule).
    LearningRate {
        /// The callback.
        callback: &'static str,
        /// Why.
        reason: String,
    },
    /// Saving, restoring or writing failed.
    Io {
        /// The callback.
        callback: &'static str,
        /// The file or model concerned and the cause.
        message: String,
    },
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallbackError::UnknownMonitor { callback, monitor, available } => write!(
                f,
                "{callback}: monitor '{monitor}' is not in the logs (available: {})",
                if available.is_empty() { "none".to_string() } else { available.join(", ") }
            ),
            CallbackError::Argument { callback, argument, value, reason } => {
                write!(f, "{callback}: argument '{argument}' {reason} (got {value})")
            }
            CallbackError::LearningRate { callback, reason } => write!(f, "{callback}: {reason}"),
            CallbackError::Io { callback, message } => write!(f, "{callback}: {message}"),
        }
    }
}
impl std::error::Error for CallbackError {}

/// What a hook sees and may change. The training loop builds one per hook call (shared by every
/// callback of a [`CallbackList`]) and reads [`stop_requested`](Self::stop_requested) after it.
pub struct CallbackContext<'a, T: Float> {
    /// The epoch, from 0 (as Keras passes it to callbacks).
    pub epoch: usize,
    /// `fit(epochs=...)`.
    pub epochs: usize,
    /// The batch within the epoch, from 0, in the batch hooks; `None` elsewhere.
    pub batch: Option<usize>,
    /// Batches per epoch, when the training loop knows it (Keras' `params["steps"]`).
    pub steps: Option<usize>,
    /// The hook's logs: the epoch's (`"loss"`, metrics, `"val_..."`) at epoch end, the batch's at
    /// batch end, empty at the begin hooks. Callbacks may add entries (e.g. `"learning_rate"`).
    pub logs: &'a mut Logs,
    optimizer: &'a mut dyn Optimizer<T>,
    model: &'a mut dyn ModelHandle<T>,
    stop: bool,
}

impl<'a, T: Float> CallbackContext<'a, T> {
    /// A context for an epoch-level hook.
    pub fn new(
        epoch: usize,
        epochs: usize,
        logs: &'a mut Logs,
        optimizer: &'a mut dyn Optimizer<T>,
        model: &'a mut dyn ModelHandle<T>,
    ) -> Self {
        CallbackContext { epoch, epochs, batch: None, steps: None, logs, optimizer, model, stop: false }
    }

    /// The same context with the number of batches per epoch.
    pub fn with_steps(mut self, steps: usize) -> Self {
        self.steps = Some(steps);
        self
    }

    /// The same context for a batch hook.
    pub fn at_batch(mut self, batch: usize) -> Self {
        self.batch = Some(batch);
        self
    }

    /// Asks the training loop to stop (Keras' `model.stop_training = True`): it finishes the
    /// current hook's callbacks, then stops.
    pub fn stop_training(&mut self) {
        self.stop = true;
    }

    /// Whether a callback asked to stop.
    pub fn stop_requested(&self) -> bool {
        self.stop
    }

    /// The optimizer's current learning rate.
    pub fn learning_rate(&self) -> f64 {
        self.optimizer.learning_rate()
    }

    /// Sets the optimizer's learning rate. An optimizer that follows a schedule refuses (as
    /// Keras), and so does a rate that is negative or not finite.
    pub fn set_learning_rate(&mut self, callback: &'static str, learning_rate: f64) -> Result<(), CallbackError> {
        if let Some(s) = self.optimizer.schedule() {
            return Err(CallbackError::LearningRate {
                callback,
                reason: format!("the optimizer follows a {} schedule, so its learning rate cannot be set", s.name()),
            });
        }
        if !(learning_rate.is_finite() && learning_rate >= 0.0) {
            return Err(CallbackError::LearningRate {
                callback,
                reason: format!("the new learning rate must be a finite number >= 0 (got {learning_rate})"),
            });
        }
        self.optimizer.set_learning_rate(learning_rate);
        Ok(())
    }

    /// The model's weights (see [`ModelHandle::get_weights`]).
    pub fn get_weights(&self) -> Vec<Tensor<T>> {
        self.model.get_weights()
    }

    /// Restores the model's weights.
    pub fn set_weights(&mut self, callback: &'static str, weights: &[Tensor<T>]) -> Result<(), CallbackError> {
        self.model.set_weights(weights).map_err(|m| CallbackError::Io { callback, message: format!("restoring the weights: {m}") })
    }

    /// Saves the model to `path` (atomically, by [`ModelHandle::save`]).
    pub fn save_model(&self, callback: &'static str, path: &Path) -> Result<(), CallbackError> {
        self.model
            .save(path)
            .map_err(|m| CallbackError::Io { callback, message: format!("saving to {}: {m}", path.display()) })
    }

    /// The logged value `monitor`, or an error naming it and the names the logs have.
    pub fn monitor(&self, callback: &'static str, monitor: &str) -> Result<f64, CallbackError> {
        self.logs.get(monitor).copied().ok_or_else(|| CallbackError::UnknownMonitor {
            callback,
            monitor: monitor.to_string(),
            available: self.logs.keys().cloned().collect(),
        })
    }
}

/// Code run at Keras' training hooks. Every hook has a default that does nothing; an error stops
/// training and `fit` returns it.
#[allow(unused_variables)]
pub trait Callback<T: Float> {
    /// Before the first epoch.
    fn on_train_begin(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        Ok(())
    }
    /// After the last epoch (or the one that stopped training).
    fn on_train_end(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        Ok(())
    }
    /// Before each epoch's first batch.
    fn on_epoch_begin(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        Ok(())
    }
    /// After each epoch, validation included; `ctx.logs` holds the epoch's logs.
    fn on_epoch_end(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        Ok(())
    }
    /// Before each training batch.
    fn on_train_batch_begin(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        Ok(())
    }
    /// After each training batch's update; `ctx.logs` holds the running means of the epoch so
    /// far (`"loss"`, metrics), as Keras 3 passes them.
    fn on_train_batch_end(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        Ok(())
    }
    /// What a checkpoint keeps of the callback so that a resumed `fit` continues as an unbroken
    /// one (Keras' attributes such as EarlyStopping's `wait`, `best` and `best_weights`), or `None`
    /// for a callback without such state (the default).
    fn state(&self) -> Option<CallbackState<T>> {
        None
    }
    /// Puts back what [`state`](Self::state) gave; the next `on_train_begin` then continues from
    /// it instead of starting afresh. The default refuses any state.
    fn load_state(&mut self, state: CallbackState<T>) -> Result<(), CallbackError> {
        Err(CallbackError::Argument {
            callback: "Callback",
            argument: "state",
            value: format!("'{}'", state.class),
            reason: "cannot be loaded into a callback that keeps no state".into(),
        })
    }
}

/// Several callbacks run in order at each hook (the first error stops the hook).
pub struct CallbackList<T: Float>(pub Vec<Box<dyn Callback<T>>>);

macro_rules! each {
    ($($hook:ident),*) => {
        $(fn $hook(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
            self.0.iter_mut().try_for_each(|c| c.$hook(ctx))
        })*
    };
}

impl<T: Float> Callback<T> for CallbackList<T> {
    each!(on_train_begin, on_train_end, on_epoch_begin, on_epoch_end, on_train_batch_begin, on_train_batch_end);
}

/// The training guide, `docs/training.md`: its examples run as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/training.md")]
pub struct TrainingGuide;
