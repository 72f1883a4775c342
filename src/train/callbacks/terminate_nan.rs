//! Keras' `TerminateOnNaN`.

use super::{Callback, CallbackContext, CallbackError};
use crate::tensor::Float;

/// Stops training after a batch whose `"loss"` is NaN or infinite, as Keras.
///
/// ```
/// use tapegrad::train::callbacks::TerminateOnNaN;
/// let cb = TerminateOnNaN::new();
/// assert_eq!(cb.terminated_at(), None);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TerminateOnNaN {
    at: Option<(usize, usize)>,
}

impl TerminateOnNaN {
    /// The callback.
    pub fn new() -> Self {
        Self::default()
    }
    /// The (epoch, batch), from 0, of the batch that stopped training.
    pub fn terminated_at(&self) -> Option<(usize, usize)> {
        self.at
    }
}

impl<T: Float> Callback<T> for TerminateOnNaN {
    fn on_train_batch_end(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        if let Some(&loss) = ctx.logs.get("loss") {
            if !loss.is_finite() {
                self.at = Some((ctx.epoch, ctx.batch.unwrap_or(0)));
                ctx.stop_training();
            }
        }
        Ok(())
    }
}
