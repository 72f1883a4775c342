//! Keras' `CSVLogger`.

use super::{Callback, CallbackContext, CallbackError};
use crate::tensor::Float;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

const NAME: &str = "CSVLogger";

/// Writes one row per epoch to a CSV file: `epoch` (from 0) and every log in name order, the header
/// taken from the first epoch's logs, as Keras. Each row is flushed as it is written. With
/// `append`, an existing file is continued (its header kept; a header is written only to an empty
/// file). Floats are written in Rust's shortest round-trip form (`nan`, `inf` for non-finite).
///
/// ```
/// use tapegrad::train::callbacks::CsvLogger;
/// let cb = CsvLogger::new(std::env::temp_dir().join("training.csv")).separator(';').append(true);
/// # let _ = cb;
/// ```
pub struct CsvLogger {
    path: PathBuf,
    separator: char,
    append: bool,
    keys: Option<Vec<String>>,
    file: Option<BufWriter<File>>,
}

impl CsvLogger {
    /// Logs to `path` with `,` between fields, replacing the file.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CsvLogger { path: path.into(), separator: ',', append: false, keys: None, file: None }
    }
    /// The field separator.
    pub fn separator(mut self, separator: char) -> Self {
        self.separator = separator;
        self
    }
    /// Continues an existing file instead of replacing it.
    pub fn append(mut self, append: bool) -> Self {
        self.append = append;
        self
    }

    fn io(&self, e: std::io::Error) -> CallbackError {
        CallbackError::Io { callback: NAME, message: format!("{}: {e}", self.path.display()) }
    }
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        format!("{v:?}")
    }
}

impl<T: Float> Callback<T> for CsvLogger {
    fn on_train_begin(&mut self, _ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        let mut opts = OpenOptions::new();
        if self.append {
            opts.create(true).append(true);
        } else {
            opts.create(true).write(true).truncate(true);
        }
        let file = opts.open(&self.path).map_err(|e| self.io(e))?;
        let empty = file.metadata().map(|m| m.len() == 0).unwrap_or(true);
        // With append and a non-empty file, the header is already there.
        self.keys = None;
        if self.append && !empty {
            self.keys = Some(Vec::new());
        }
        self.file = Some(BufWriter::new(file));
        Ok(())
    }

    fn on_epoch_end(&mut self, ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        let sep = self.separator.to_string();
        let mut text = String::new();
        match &self.keys {
            None => {
                let keys: Vec<String> = ctx.logs.keys().cloned().collect();
                text += &std::iter::once("epoch".to_string()).chain(keys.iter().cloned()).collect::<Vec<_>>().join(&sep);
                text.push('\n');
                self.keys = Some(keys);
            }
            Some(k) if k.is_empty() => self.keys = Some(ctx.logs.keys().cloned().collect()),
            Some(_) => {}
        }
        let keys = self.keys.as_ref().expect("set above");
        let mut row = vec![ctx.epoch.to_string()];
        row.extend(keys.iter().map(|k| ctx.logs.get(k).map_or(String::new(), |&v| number(v))));
        text += &row.join(&sep);
        text.push('\n');
        let Some(file) = self.file.as_mut() else {
            return Err(CallbackError::Io { callback: NAME, message: "on_epoch_end before on_train_begin".into() });
        };
        let r = file.write_all(text.as_bytes()).and_then(|_| file.flush());
        r.map_err(|e| self.io(e))
    }

    fn on_train_end(&mut self, _ctx: &mut CallbackContext<'_, T>) -> Result<(), CallbackError> {
        if let Some(mut f) = self.file.take() {
            f.flush().map_err(|e| self.io(e))?;
        }
        Ok(())
    }
}
