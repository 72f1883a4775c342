//! Keras-style progress lines (`verbose=1`), printed by the `ProgbarLogger` callback.

use super::callbacks::{Callback, CallbackContext, CallbackError};
use super::Logs;
use crate::tensor::Float;
use std::io::{IsTerminal, Write};
use std::time::Instant;

/// Whether `fit` prints progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verbose {
    /// Progress bar per epoch when standard output is a terminal, nothing otherwise.
    #[default]
    Auto,
    /// Nothing.
    Silent,
}

const BAR: usize = 20;

/// The line Keras prints for `step` of `steps`: counter, bar, time and the logs.
///
/// ```
/// use tapegrad::train::progress::format_line;
/// let logs = [("accuracy".to_string(), 0.75), ("loss".to_string(), 0.5)].into_iter().collect();
/// let line = format_line(32, 32, 0.064, &logs);
/// assert_eq!(line, "32/32 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.7500 - loss: 0.5000");
/// ```
pub fn format_line(step: usize, steps: usize, elapsed_s: f64, logs: &Logs) -> String {
    let width = steps.to_string().len();
    let filled = (BAR * step).checked_div(steps).unwrap_or(BAR).min(BAR);
    let mut line = format!("{step:>width$}/{steps} ");
    line.extend(std::iter::repeat_n('━', filled));
    line.extend(std::iter::repeat_n('─', BAR - filled));
    let per_step = if step > 0 { elapsed_s / step as f64 } else { 0.0 };
    if step >= steps {
        line += &format!(" {}s {}/step", elapsed_s.round() as u64, per_step_text(per_step));
    } else {
        let eta = per_step * (steps - step) as f64;
        line += &format!(" {}s {}/step", eta.round() as u64, per_step_text(per_step));
    }
    for (name, value) in logs {
        line += &format!(" - {name}: {value:.4}");
    }
    line
}

fn per_step_text(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{}s", seconds.round() as u64)
    } else if seconds >= 1e-3 {
        format!("{}ms", (seconds * 1e3).round() as u64)
    } else {
        format!("{}us", (seconds * 1e6).round() as u64)
    }
}

/// Keras' `ProgbarLogger`: prints `Epoch i/N` at each epoch's start, redraws the progress line
/// in place after batches (at most every 50 ms) and prints the epoch's final line with every log
/// (validation included) at its end. `fit` adds one after your callbacks when `verbose` is
/// [`Verbose::Auto`] and standard output is a terminal.
///
/// ```
/// use tapegrad::train::progress::ProgbarLogger;
/// use tapegrad::train::Verbose;
/// assert!(!ProgbarLogger::new(Verbose::Silent).is_on());
/// ```
pub struct ProgbarLogger {
    on: bool,
    start: Instant,
    last_draw: Instant,
    steps: usize,
}

impl ProgbarLogger {
    /// The logger for `verbose`: on only for `Auto` with a terminal on standard output.
    pub fn new(verbose: Verbose) -> Self {
        let on = verbose == Verbose::Auto && std::io::stdout().is_terminal();
        ProgbarLogger { on, start: Instant::now(), last_draw: Instant::now(), steps: 0 }
    }

    /// Whether anything is printed.
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Starts epoch `epoch` (from 1) of `epochs`, with `steps` batches.
    fn begin_epoch(&mut self, epoch: usize, epochs: usize, steps: usize) {
        self.start = Instant::now();
        self.last_draw = self.start;
        self.steps = steps;
        if self.on {
            println!("Epoch {epoch}/{epochs}");
        }
    }

    /// Redraws after `step` batches (at most every 50 ms).
    fn step(&mut self, step: usize, logs: &Logs) {
        if !self.on || step >= self.steps || self.last_draw.elapsed().as_millis() < 50 {
            return;
        }
        self.last_draw = Instant::now();
        let line = format_line(step, self.steps, self.start.elapsed().as_secs_f64(), logs);
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "\r{line}\x1b[K");
        let _ = out.flush();
    }

    /// The epoch's final line with every log (validation included).
    fn end_epoch(&mut self, logs: &Logs) {
        if self.on {
            let line = format_line(self.steps, self.steps, self.start.elapsed().as_secs_f64(), logs);
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "\r{line}\x1b[K");
        }
    }
}

impl<T: Float> Callback<T> for ProgbarLogger {
    fn on_epoch_begin(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        self.begin_epoch(ctx.epoch + 1, ctx.epochs, ctx.steps.unwrap_or(0));
        Ok(())
    }
    fn on_train_batch_end(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        self.step(ctx.batch.map_or(0, |b| b + 1), ctx.logs);
        Ok(())
    }
    fn on_epoch_end(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        self.end_epoch(ctx.logs);
        Ok(())
    }
}
