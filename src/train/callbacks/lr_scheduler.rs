//! Keras' `LearningRateScheduler`.

use super::{Callback, CallbackContext, CallbackError};
use crate::tensor::Float;

const NAME: &str = "LearningRateScheduler";

/// Sets the learning rate at the start of each epoch to `schedule(epoch, current_rate)` (epoch
/// from 0), as Keras; the epoch's logs gain `"learning_rate"`. A result that is negative or not
/// finite is an error naming it, and so is an optimizer that follows its own schedule.
///
/// ```
/// use tapegrad::train::callbacks::LearningRateScheduler;
/// // Keep the rate for 10 epochs, then shrink it by 10% per epoch.
/// let cb = LearningRateScheduler::new(|epoch, lr| if epoch < 10 { lr } else { lr * 0.9 });
/// # let _ = cb;
/// ```
pub struct LearningRateScheduler {
    schedule: Box<dyn FnMut(usize, f64) -> f64>,
}

impl LearningRateScheduler {
    /// The callback with `schedule(epoch, lr) -> new lr`.
    pub fn new(schedule: impl FnMut(usize, f64) -> f64 + 'static) -> Self {
        LearningRateScheduler { schedule: Box::new(schedule) }
    }
}

impl<T: Float> Callback<T> for LearningRateScheduler {
    fn on_epoch_begin(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        let lr = (self.schedule)(ctx.epoch, ctx.learning_rate());
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(CallbackError::Argument {
                callback: NAME,
                argument: "schedule",
                value: format!("{lr} at epoch {}", ctx.epoch),
                reason: "must return a finite learning rate >= 0".into(),
            });
        }
        ctx.set_learning_rate(NAME, lr)
    }

    fn on_epoch_end(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        let lr = ctx.learning_rate();
        ctx.logs.insert("learning_rate".to_string(), lr);
        Ok(())
    }
}
