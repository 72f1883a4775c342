//! The callbacks `fit` runs at Keras' hooks: yours in order, then the `History` it returns, then
//! the progress bar (Keras' `CallbackList` with its default `History` and `ProgbarLogger`).

use super::callbacks::{Callback, CallbackContext, ModelHandle};
use super::progress::ProgbarLogger;
use super::{CallbackRefs, History, Logs, TrainError, Verbose};
use crate::nn::Sequential;
use crate::optim::Optimizer;
use crate::tensor::{Float, Tensor};
use std::path::Path;

/// The network as callbacks see it between steps (given back by the tape, so it is the one copy).
struct FitModel<'m, T: Float>(&'m mut Sequential<T>);

impl<T: Float> ModelHandle<T> for FitModel<'_, T> {
    fn get_weights(&self) -> Vec<Tensor<T>> {
        self.0.parameters()
    }

    fn set_weights(&mut self, weights: &[Tensor<T>]) -> Result<(), String> {
        let infos = self.0.store().infos();
        if weights.len() != infos.len() {
            return Err(format!("{} tensors for a model of {} weights", weights.len(), infos.len()));
        }
        if let Some((w, i)) = weights.iter().zip(infos).find(|(w, i)| w.shape() != &i.shape[..]) {
            return Err(format!("{} has shape {:?}, got {:?}", i.name, &i.shape[..], w.shape()));
        }
        self.0.set_parameters(weights);
        Ok(())
    }

    /// The model file of `tapegrad::io::save_model` (safetensors, written atomically).
    fn save(&self, path: &Path) -> Result<(), String> {
        self.0.write_model_file(path)
    }
}

/// How `fit` saves the network (for [`ModelCheckpoint`](super::callbacks::ModelCheckpoint)): the
/// io layer, above this one, implements it with its model file (`tapegrad::io::save_model`), so
/// training declares what it needs without depending on io.
pub(crate) trait WriteModelFile {
    /// Writes the model file to `path`, atomically.
    fn write_model_file(&self, path: &Path) -> Result<(), String>;
}

/// Keras' hooks.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Hook {
    TrainBegin,
    EpochBegin,
    BatchBegin,
    BatchEnd,
    EpochEnd,
    TrainEnd,
}

/// Everything `fit` calls at the hooks.
pub(crate) struct Hooks<'c, T: Float> {
    user: CallbackRefs<'c, T>,
    progbar: ProgbarLogger,
    pub history: History,
    epochs: usize,
    steps: usize,
}

impl<'c, T: Float> Hooks<'c, T> {
    /// The hooks of one `fit`; a callback given twice is an error naming both entries.
    pub fn new(user: CallbackRefs<'c, T>, verbose: Verbose, epochs: usize, steps: usize) -> Result<Self, TrainError> {
        for (j, b) in user.iter().enumerate() {
            if let Some(i) = user[..j].iter().position(|a| std::ptr::addr_eq(*a, *b)) {
                return Err(TrainError::argument("callbacks", format!("entry {j}"), format!("is the same callback as entry {i} (pass each once)")));
            }
        }
        Ok(Hooks { user, progbar: ProgbarLogger::new(verbose), history: History::new(), epochs, steps })
    }

    /// Whether any batch hook does something (so the batch logs are worth filling).
    pub fn at_batches(&self) -> bool {
        !self.user.is_empty() || self.progbar.is_on()
    }

    /// Runs `hook` for epoch `epoch` (and batch `batch`) with `logs`; `true` when a callback asked
    /// to stop training.
    pub fn run(
        &mut self,
        hook: Hook,
        epoch: usize,
        batch: Option<usize>,
        logs: &mut Logs,
        optimizer: &mut dyn Optimizer<T>,
        net: &mut Sequential<T>,
    ) -> Result<bool, TrainError> {
        let mut model = FitModel(net);
        let mut ctx = CallbackContext::new(epoch, self.epochs, logs, optimizer, &mut model).with_steps(self.steps);
        if let Some(b) = batch {
            ctx = ctx.at_batch(b);
        }
        for (i, cb) in self.user.iter().enumerate() {
            let mut cb = cb.try_borrow_mut().map_err(|_| {
                TrainError::argument("callbacks", format!("entry {i}"), "is borrowed elsewhere while fit runs")
            })?;
            call(&mut *cb, hook, &mut ctx)?;
        }
        if let Hook::EpochEnd = hook {
            Callback::<T>::on_epoch_end(&mut self.history, &mut ctx)?;
        }
        if self.progbar.is_on() {
            call(&mut self.progbar, hook, &mut ctx)?;
        }
        Ok(ctx.stop_requested())
    }
}

fn call<T: Float>(cb: &mut dyn Callback<T>, hook: Hook, ctx: &mut CallbackContext<'_, T>) -> Result<(), TrainError> {
    Ok(match hook {
        Hook::TrainBegin => cb.on_train_begin(ctx),
        Hook::EpochBegin => cb.on_epoch_begin(ctx),
        Hook::BatchBegin => cb.on_train_batch_begin(ctx),
        Hook::BatchEnd => cb.on_train_batch_end(ctx),
        Hook::EpochEnd => cb.on_epoch_end(ctx),
        Hook::TrainEnd => cb.on_train_end(ctx),
    }?)
}
