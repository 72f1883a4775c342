//! Keras' `EarlyStopping`.

use super::monitor::{check_non_negative, direction, improves, Mode};
use super::{Callback, CallbackContext, CallbackError, CallbackState};
use crate::tensor::{Float, Tensor};

const NAME: &str = "EarlyStopping";

/// Stops training when the monitored value has not improved for `patience` epochs, as Keras.
///
/// At each epoch's end (from `start_from_epoch` on): `wait += 1`; on an improvement (or the first
/// value) the value becomes the best, its epoch the best epoch (and its weights are kept with
/// `restore_best_weights`), and `wait` goes back to 0 unless a `baseline` is set and not beaten;
/// otherwise training stops after this epoch when `wait >= patience` and it is not epoch 0. So
/// patience 0 and 1 act alike, and improving epochs that miss the baseline still count. With
/// `restore_best_weights` the best epoch's weights are put back at the end of training, stopped
/// early or not (the first considered epoch's, if none improved).
///
/// ```
/// use tapegrad::train::callbacks::{EarlyStopping, Mode};
/// let cb = EarlyStopping::<f64>::new("val_accuracy").mode(Mode::Max).patience(3).min_delta(0.01).restore_best_weights(true);
/// assert_eq!(cb.best(), None);
/// ```
pub struct EarlyStopping<T: Float> {
    monitor: String,
    min_delta: f64,
    patience: usize,
    mode: Mode,
    baseline: Option<f64>,
    start_from_epoch: usize,
    restore_best_weights: bool,
    direction: Mode,
    wait: usize,
    best: Option<f64>,
    best_epoch: Option<usize>,
    stopped_epoch: Option<usize>,
    best_weights: Option<Vec<Tensor<T>>>,
    resumed: bool,
}

impl<T: Float> EarlyStopping<T> {
    /// Monitors `monitor` (Keras' default is `"val_loss"`) with Keras' other defaults: `min_delta`
    /// 0, `patience` 0, mode auto, no baseline, from epoch 0, no restore.
    pub fn new(monitor: &str) -> Self {
        EarlyStopping {
            monitor: monitor.to_string(),
            min_delta: 0.0,
            patience: 0,
            mode: Mode::Auto,
            baseline: None,
            start_from_epoch: 0,
            restore_best_weights: false,
            direction: Mode::Min,
            wait: 0,
            best: None,
            best_epoch: None,
            stopped_epoch: None,
            best_weights: None,
            resumed: false,
        }
    }
    /// The smallest change that counts as an improvement (>= 0; checked at train begin).
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta;
        self
    }
    /// Epochs without improvement before stopping.
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }
    /// Min, max, or auto (min for a loss, the metric's direction otherwise).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
    /// A value the monitor must beat for `wait` to reset.
    pub fn baseline(mut self, baseline: Option<f64>) -> Self {
        self.baseline = baseline;
        self
    }
    /// Epochs to skip before monitoring (a warm-up).
    pub fn start_from_epoch(mut self, epoch: usize) -> Self {
        self.start_from_epoch = epoch;
        self
    }
    /// Puts the best epoch's weights back at the end of training.
    pub fn restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best_weights = restore;
        self
    }

    /// The best value so far.
    pub fn best(&self) -> Option<f64> {
        self.best
    }
    /// The epoch (from 0) of the best value.
    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }
    /// The epoch whose end stopped training, if it stopped early.
    pub fn stopped_epoch(&self) -> Option<usize> {
        self.stopped_epoch
    }
    /// Epochs without improvement counted so far.
    pub fn wait(&self) -> usize {
        self.wait
    }
}

impl<T: Float> Callback<T> for EarlyStopping<T> {
    fn on_train_begin(&mut self, _ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        check_non_negative(NAME, "min_delta", self.min_delta)?;
        if let Some(b) = self.baseline.filter(|b| !b.is_finite()) {
            return Err(CallbackError::Argument { callback: NAME, argument: "baseline", value: b.to_string(), reason: "must be finite".into() });
        }
        self.direction = direction(NAME, &self.monitor, self.mode)?;
        if std::mem::take(&mut self.resumed) {
            // Continues from a checkpoint's state (see `load_state`).
            return Ok(());
        }
        self.wait = 0;
        self.best = None;
        self.best_epoch = None;
        self.stopped_epoch = None;
        self.best_weights = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        let current = ctx.monitor(NAME, &self.monitor)?;
        let epoch = ctx.epoch;
        if epoch < self.start_from_epoch {
            return Ok(());
        }
        if self.restore_best_weights && self.best_weights.is_none() {
            self.best_weights = Some(ctx.get_weights());
            self.best_epoch = Some(epoch);
        }
        self.wait += 1;
        if improves(self.direction, current, self.min_delta, self.best) {
            self.best = Some(current);
            self.best_epoch = Some(epoch);
            if self.restore_best_weights {
                self.best_weights = Some(ctx.get_weights());
            }
            if self.baseline.is_none_or(|b| improves(self.direction, current, self.min_delta, Some(b))) {
                self.wait = 0;
            }
            return Ok(());
        }
        if self.wait >= self.patience && epoch > 0 {
            self.stopped_epoch = Some(epoch);
            ctx.stop_training();
        }
        Ok(())
    }

    /// `wait`, `best`, `best_epoch`, `stopped_epoch` and the `best_weights` (Keras keeps these
    /// attributes between epochs).
    fn state(&self) -> Option<CallbackState<T>> {
        let mut s = CallbackState::new(NAME);
        s.set("wait", self.wait);
        s.set_number("best", self.best);
        s.set("best_epoch", self.best_epoch);
        s.set("stopped_epoch", self.stopped_epoch);
        if let Some(w) = &self.best_weights {
            s.tensors.push(("best_weights".into(), w.clone()));
        }
        Some(s)
    }

    fn load_state(&mut self, mut state: CallbackState<T>) -> Result<(), CallbackError> {
        state.expect_class(NAME)?;
        let (wait, best) = (state.count("wait")?, state.number("best")?);
        let (best_epoch, stopped_epoch) = (state.opt_count("best_epoch")?, state.opt_count("stopped_epoch")?);
        self.best_weights = state.take_tensors("best_weights");
        (self.wait, self.best, self.best_epoch, self.stopped_epoch) = (wait, best, best_epoch, stopped_epoch);
        self.resumed = true;
        Ok(())
    }

    fn on_train_end(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        if self.restore_best_weights {
            if let Some(w) = &self.best_weights {
                ctx.set_weights(NAME, w)?;
            }
        }
        Ok(())
    }
}
