//! CSV files: one history per experiment and the summary of all experiments.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{check_name, mean, std_dev, Curves, ExperimentResult, ReportError};

/// The header line of `summary.csv`.
pub const SUMMARY_HEADER: &str =
    "experiment,loss,metric,repeats,train_mean,train_std,test_mean,test_std,seconds";

/// Quotes a CSV field when it holds a comma, quote or line break (RFC 4180).
pub(crate) fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes `text` to `path` atomically (beside, then renamed), mapping failure to a
/// [`ReportError`] naming the file.
fn write_file(path: &Path, text: &str) -> Result<(), ReportError> {
    super::compare::write_file(path, text.as_bytes())
}

/// The text of a history CSV (see [`write_history_csv`]).
pub(crate) fn history_text(metric: &str, curves: &Curves, name: &str) -> Result<String, ReportError> {
    let epochs = curves.epochs(name)?;
    let mut text = String::with_capacity(32 * (epochs + 1));
    let metric = field(metric);
    let _ = writeln!(text, "epoch,loss,val_loss,{metric},val_{metric}");
    for i in 0..epochs {
        let _ = writeln!(
            text,
            "{},{},{},{},{}",
            i + 1,
            curves.loss_train[i],
            curves.loss_test[i],
            curves.metric_train[i],
            curves.metric_test[i]
        );
    }
    Ok(text)
}

/// Writes `dir/NAME.csv` with one row per epoch and returns its path.
///
/// The header is `epoch,loss,val_loss,METRIC,val_METRIC` (Keras' history keys); epochs count
/// from 1. Numbers are written in full precision (shortest text that reads back exactly).
///
/// ```
/// use tapegrad::report::{write_history_csv, Curves};
/// let dir = std::env::temp_dir().join("tapegrad_doc_history");
/// std::fs::create_dir_all(&dir).unwrap();
/// let c = Curves { loss_train: vec![0.5], loss_test: vec![0.6],
///                  metric_train: vec![0.75], metric_test: vec![0.7] };
/// let path = write_history_csv(&dir, "demo", "accuracy", &c).unwrap();
/// let text = std::fs::read_to_string(path).unwrap();
/// assert_eq!(text, "epoch,loss,val_loss,accuracy,val_accuracy\n1,0.5,0.6,0.75,0.7\n");
/// ```
pub fn write_history_csv(
    dir: impl AsRef<Path>,
    name: &str,
    metric: &str,
    curves: &Curves,
) -> Result<PathBuf, ReportError> {
    check_name(name, name)?;
    let path = dir.as_ref().join(format!("{name}.csv"));
    let text = history_text(metric, curves, name)?;
    write_file(&path, &text)?;
    Ok(path)
}

/// Writes `dir/summary.csv` (header [`SUMMARY_HEADER`], one row per result) and returns its path.
///
/// `train_mean`/`train_std` and `test_mean`/`test_std` are over the repeats (population std).
pub fn write_summary_csv(
    dir: impl AsRef<Path>,
    results: &[ExperimentResult],
) -> Result<PathBuf, ReportError> {
    let path = dir.as_ref().join("summary.csv");
    let mut text = String::with_capacity(80 * (results.len() + 1));
    text.push_str(SUMMARY_HEADER);
    text.push('\n');
    for r in results {
        let _ = writeln!(
            text,
            "{},{},{},{},{},{},{},{},{}",
            field(&r.name),
            field(&r.loss),
            field(&r.metric),
            r.repeats(),
            mean(&r.train),
            std_dev(&r.train),
            mean(&r.test),
            std_dev(&r.test),
            r.seconds
        );
    }
    write_file(&path, &text)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("mse"), "mse");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
