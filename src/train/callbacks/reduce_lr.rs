//! Keras' `ReduceLROnPlateau`.

use super::monitor::{check_non_negative, direction_by_acc, improves, Mode};
use super::{Callback, CallbackContext, CallbackError, CallbackState};
use crate::tensor::Float;

const NAME: &str = "ReduceLROnPlateau";

/// Multiplies the learning rate by `factor` when the monitored value has not improved for
/// `patience` epochs, as Keras.
///
/// At each epoch's end: in cooldown, the cooldown counter goes down by one and `wait` is reset; on
/// an improvement (`current + min_delta < best` for min) the value becomes the best and `wait` is
/// reset; otherwise, out of cooldown, `wait += 1`, and when `wait >= patience` and the rate is
/// above `min_lr` (compared as float32, as Keras), the rate becomes `max(lr * factor, min_lr)`
/// (in f64), the cooldown starts and `wait` is reset. The new rate applies from the next epoch.
/// Mode auto is max when the name contains `"acc"`, else min (Keras' rule for this callback). The
/// epoch's logs gain `"learning_rate"` (the rate the epoch used), as Keras.
///
/// ```
/// use tapegrad::train::callbacks::ReduceLROnPlateau;
/// let cb = ReduceLROnPlateau::new("val_loss").factor(0.5).patience(2).cooldown(1).min_lr(1e-4);
/// assert_eq!(cb.wait(), 0);
/// ```
pub struct ReduceLROnPlateau {
    monitor: String,
    factor: f64,
    patience: usize,
    mode: Mode,
    min_delta: f64,
    cooldown: usize,
    min_lr: f64,
    direction: Mode,
    best: Option<f64>,
    wait: usize,
    cooldown_counter: usize,
    resumed: bool,
}

impl ReduceLROnPlateau {
    /// Monitors `monitor` (Keras' default `"val_loss"`) with Keras' other defaults: `factor` 0.1,
    /// `patience` 10, mode auto, `min_delta` 1e-4, `cooldown` 0, `min_lr` 0.
    pub fn new(monitor: &str) -> Self {
        ReduceLROnPlateau {
            monitor: monitor.to_string(),
            factor: 0.1,
            patience: 10,
            mode: Mode::Auto,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            direction: Mode::Min,
            best: None,
            wait: 0,
            cooldown_counter: 0,
            resumed: false,
        }
    }
    /// The factor the rate is multiplied by (in [0, 1); checked at train begin).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }
    /// Epochs without improvement before reducing.
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }
    /// Min, max, or auto.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
    /// The smallest change that counts as an improvement.
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta;
        self
    }
    /// Epochs to wait after a reduction before counting again.
    pub fn cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }
    /// The rate is never reduced below this.
    pub fn min_lr(mut self, min_lr: f64) -> Self {
        self.min_lr = min_lr;
        self
    }
    /// Epochs without improvement counted so far.
    pub fn wait(&self) -> usize {
        self.wait
    }
    /// Epochs of cooldown left.
    pub fn cooldown_counter(&self) -> usize {
        self.cooldown_counter
    }
    /// The best value so far.
    pub fn best(&self) -> Option<f64> {
        self.best
    }
}

impl<T: Float> Callback<T> for ReduceLROnPlateau {
    fn on_train_begin(&mut self, _ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        if !(self.factor >= 0.0 && self.factor < 1.0) {
            return Err(CallbackError::Argument {
                callback: NAME,
                argument: "factor",
                value: self.factor.to_string(),
                reason: "must be in [0, 1)".into(),
            });
        }
        check_non_negative(NAME, "min_delta", self.min_delta)?;
        check_non_negative(NAME, "min_lr", self.min_lr)?;
        self.direction = direction_by_acc(&self.monitor, self.mode);
        if std::mem::take(&mut self.resumed) {
            return Ok(());
        }
        self.best = None;
        self.wait = 0;
        self.cooldown_counter = 0;
        Ok(())
    }

    /// `wait`, `cooldown_counter` and `best` (the rate itself is the optimizer's, which the
    /// checkpoint keeps).
    fn state(&self) -> Option<CallbackState<T>> {
        let mut s = CallbackState::new(NAME);
        s.set("wait", self.wait);
        s.set("cooldown_counter", self.cooldown_counter);
        s.set_number("best", self.best);
        Some(s)
    }

    fn load_state(&mut self, state: CallbackState<T>) -> Result<(), CallbackError> {
        state.expect_class(NAME)?;
        (self.wait, self.cooldown_counter, self.best) = (state.count("wait")?, state.count("cooldown_counter")?, state.number("best")?);
        self.resumed = true;
        Ok(())
    }

    fn on_epoch_end(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        let lr = ctx.learning_rate();
        ctx.logs.insert("learning_rate".to_string(), lr);
        let current = ctx.monitor(NAME, &self.monitor)?;
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if improves(self.direction, current, self.min_delta, self.best) {
            self.best = Some(current);
            self.wait = 0;
        } else if self.cooldown_counter == 0 {
            self.wait += 1;
            if self.wait >= self.patience && lr > self.min_lr as f32 as f64 {
                let new_lr = (lr * self.factor).max(self.min_lr);
                ctx.set_learning_rate(NAME, new_lr)?;
                self.cooldown_counter = self.cooldown;
                self.wait = 0;
            }
        }
        Ok(())
    }
}
