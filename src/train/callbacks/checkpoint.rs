//! Keras' `ModelCheckpoint`.

use super::monitor::{direction, improves, Mode};
use super::{Callback, CallbackContext, CallbackError, CallbackState};
use crate::train::Logs;
use crate::tensor::Float;
use std::path::PathBuf;

const NAME: &str = "ModelCheckpoint";

/// Saves the model at the end of every epoch, or with `save_best_only` only when the monitored
/// value improves on the best so far, as Keras. The save itself is the model's
/// [`ModelHandle::save`](super::ModelHandle::save), which writes atomically, so an interrupted run
/// leaves the previous checkpoint whole.
///
/// The path is a template filled as Python's `str.format` with `epoch` (from 1, as Keras) and the
/// epoch's logs: `"ckpt-{epoch:02d}-{val_loss:.4f}.safetensors"`. Supported fields: `{name}`,
/// `{name:0Nd}` / `{name:Nd}` (integers), `{name:.Nf}` (fixed decimals); `{{` and `}}` are braces.
/// A field the logs do not have is an error naming it.
///
/// ```
/// use tapegrad::train::callbacks::{Mode, ModelCheckpoint};
/// let cb = ModelCheckpoint::new("best.safetensors").monitor("val_accuracy").mode(Mode::Max).save_best_only(true);
/// assert_eq!(cb.best(), None);
/// ```
pub struct ModelCheckpoint {
    filepath: String,
    monitor: String,
    mode: Mode,
    save_best_only: bool,
    initial_value_threshold: Option<f64>,
    direction: Mode,
    best: Option<f64>,
    saved: Vec<PathBuf>,
    resumed: bool,
}

impl ModelCheckpoint {
    /// Saves to `filepath` (a template) every epoch, monitoring `"val_loss"` for `save_best_only`.
    pub fn new(filepath: &str) -> Self {
        ModelCheckpoint {
            filepath: filepath.to_string(),
            monitor: "val_loss".into(),
            mode: Mode::Auto,
            save_best_only: false,
            initial_value_threshold: None,
            direction: Mode::Min,
            best: None,
            saved: Vec::new(),
            resumed: false,
        }
    }
    /// The value `save_best_only` watches.
    pub fn monitor(mut self, monitor: &str) -> Self {
        self.monitor = monitor.to_string();
        self
    }
    /// Min, max, or auto (min for a loss, the metric's direction otherwise).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
    /// Saves only when the monitored value improves.
    pub fn save_best_only(mut self, best_only: bool) -> Self {
        self.save_best_only = best_only;
        self
    }
    /// The value the first save must beat (Keras' `initial_value_threshold`).
    pub fn initial_value_threshold(mut self, threshold: Option<f64>) -> Self {
        self.initial_value_threshold = threshold;
        self
    }
    /// The best monitored value so far.
    pub fn best(&self) -> Option<f64> {
        self.best
    }
    /// Every path saved to, in order.
    pub fn saved(&self) -> &[PathBuf] {
        &self.saved
    }
}

/// Fills `{field[:spec]}` from `epoch` and `logs`.
fn fill(template: &str, epoch: usize, logs: &Logs) -> Result<String, CallbackError> {
    let bad = |field: &str, reason: &str| CallbackError::Argument {
        callback: NAME,
        argument: "filepath",
        value: format!("'{template}'"),
        reason: format!("field '{field}' {reason}"),
    };
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out += &rest[..i];
        let c = rest.as_bytes()[i];
        if rest[i + 1..].starts_with(c as char) {
            out.push(c as char);
            rest = &rest[i + 2..];
            continue;
        }
        if c == b'}' {
            return Err(bad("}", "closes no field"));
        }
        let end = rest[i..].find('}').ok_or_else(|| bad(&rest[i..], "is not closed"))? + i;
        let field = &rest[i + 1..end];
        let (name, spec) = field.split_once(':').unwrap_or((field, ""));
        let value = if name == "epoch" {
            (epoch + 1) as f64
        } else {
            *logs.get(name).ok_or_else(|| bad(name, &format!("is not in the logs ({})", logs.keys().cloned().collect::<Vec<_>>().join(", "))))?
        };
        out += &if spec.is_empty() {
            if name == "epoch" { (epoch + 1).to_string() } else { format!("{value:?}") }
        } else if let Some(d) = spec.strip_suffix('d') {
            let width: usize = d.trim_start_matches('0').parse().unwrap_or(0);
            let v = value.round() as i64;
            if d.starts_with('0') { format!("{v:0width$}") } else { format!("{v:width$}") }
        } else if let Some(p) = spec.strip_prefix('.').and_then(|p| p.strip_suffix('f')) {
            let prec: usize = p.parse().map_err(|_| bad(field, "has a bad precision"))?;
            format!("{value:.prec$}")
        } else {
            return Err(bad(field, "has a format other than d or .Nf"));
        };
        rest = &rest[end + 1..];
    }
    out += rest;
    Ok(out)
}

impl<T: Float> Callback<T> for ModelCheckpoint {
    fn on_train_begin(&mut self, _ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        self.direction = if self.save_best_only { direction(NAME, &self.monitor, self.mode)? } else { Mode::Min };
        if !std::mem::take(&mut self.resumed) {
            self.best = self.initial_value_threshold;
        }
        // The template is checked now, with the epoch only, so a typo fails before training.
        let _ = fill(&self.filepath, 0, &Logs::new()).or_else(|e| match &e {
            CallbackError::Argument { reason, .. } if reason.contains("is not in the logs") => Ok(String::new()),
            _ => Err(e),
        })?;
        Ok(())
    }

    /// The best monitored value (what `save_best_only` must beat).
    fn state(&self) -> Option<CallbackState<T>> {
        let mut s = CallbackState::new(NAME);
        s.set_number("best", self.best);
        Some(s)
    }

    fn load_state(&mut self, state: CallbackState<T>) -> Result<(), CallbackError> {
        state.expect_class(NAME)?;
        self.best = state.number("best")?;
        self.resumed = true;
        Ok(())
    }

    fn on_epoch_end(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        if self.save_best_only {
            let current = ctx.monitor(NAME, &self.monitor)?;
            if !improves(self.direction, current, 0.0, self.best) {
                return Ok(());
            }
            self.best = Some(current);
        }
        let path = PathBuf::from(fill(&self.filepath, ctx.epoch, ctx.logs)?);
        ctx.save_model(NAME, &path)?;
        self.saved.push(path);
        Ok(())
    }
}
