//! The loss-function study's report: tutorial lines, tables, CSV files, figures and `report.md`.
//!
//! Everything here takes plain data (numbers per epoch and per repeat), so the experiments that
//! train the models and this module that writes about them stay independent. The main entry point is
//! [`write_report`], which fills a directory with:
//!
//! ```text
//! DIR/report.md            tables, the tutorial's numbers next to ours, and the figures
//! DIR/summary.csv          one row per experiment (mean and std over repeats)
//! DIR/history/NAME.csv     every epoch's loss and metric, train and test
//! DIR/plots/NAME.png       learning curves (top: loss, bottom: metric; train blue, test orange)
//! DIR/plots/data_NAME.png  scatter plots of the data sets, coloured by class
//! DIR/plots/repeated.png   box plot of per-seed test scores for repeated experiments
//! ```
//!
//! Figures are drawn with `plotters` into PNG files using the bundled DejaVu Sans font, so no system
//! font is needed.

mod boxplot;
pub mod compare;
mod csv;
mod lines;
mod markdown;
mod plots;
pub mod reference;
pub mod real_reference;
mod stats;
mod ticks;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use self::boxplot::plot_repeated;
pub use self::compare::{
    append_chapter, best_loss, best_loss_sentence, compare_table, median_ties, median_min_max, mode_groups, modes_note, split_modes, write_compare_report, write_section, CompareSection,
    LossRuns,
};
pub use self::csv::{write_history_csv, write_summary_csv, SUMMARY_HEADER};
pub use self::lines::plot_lines;
pub use self::markdown::{render_markdown, Figures};
pub use self::plots::{plot_learning_curves, plot_scatter, points_from_tensor};
pub use self::stats::{mean, std_dev};

/// Per-epoch numbers of one training run, as Keras' `History` holds them.
///
/// All four vectors have one entry per epoch (index 0 is epoch 1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curves {
    /// Training loss after each epoch (`loss`).
    pub loss_train: Vec<f64>,
    /// Test loss after each epoch (`val_loss`).
    pub loss_test: Vec<f64>,
    /// Training metric after each epoch (e.g. `accuracy`).
    pub metric_train: Vec<f64>,
    /// Test metric after each epoch (e.g. `val_accuracy`).
    pub metric_test: Vec<f64>,
}

impl Curves {
    /// Number of epochs, or an error naming `what` when the four series differ in length.
    pub fn epochs(&self, what: &str) -> Result<usize, ReportError> {
        let n = self.loss_train.len();
        let lens = [
            self.loss_test.len(),
            self.metric_train.len(),
            self.metric_test.len(),
        ];
        if lens.iter().any(|&l| l != n) {
            return Err(ReportError::InvalidData {
                what: what.to_string(),
                detail: format!(
                    "curves have different lengths: loss_train {n}, loss_test {}, metric_train {}, metric_test {}",
                    lens[0], lens[1], lens[2]
                ),
            });
        }
        Ok(n)
    }
}

/// What one experiment produced: the final metric of every repeat, and the curves of the first run.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentResult {
    /// Experiment name, also used as a file name (e.g. `circles_bce`).
    pub name: String,
    /// The loss the model was trained with (e.g. `binary_crossentropy`).
    pub loss: String,
    /// The metric reported (`mse` or `accuracy`).
    pub metric: String,
    /// Final training metric, one per repeat.
    pub train: Vec<f64>,
    /// Final test metric, one per repeat.
    pub test: Vec<f64>,
    /// Wall-clock seconds for all repeats together.
    pub seconds: f64,
    /// Learning curves of the first run, if recorded.
    pub curves: Option<Curves>,
    /// Remarks on the runs, one line each (e.g. `seed 1: the loss became inf at epoch 3, batch 13`),
    /// listed under the experiment in `report.md`.
    pub notes: Vec<String>,
}

impl ExperimentResult {
    /// Number of repeats (runs) behind the final numbers.
    pub fn repeats(&self) -> usize {
        self.train.len().max(self.test.len())
    }

    /// Whether a larger metric is better (accuracy) rather than smaller (mse, mae, ...).
    pub fn higher_is_better(&self) -> bool {
        metric_higher_is_better(&self.metric)
    }

    /// Whether the first run (the one whose curves are kept) stopped early: its final train or
    /// test metric is not finite, as the study reports a diverged run.
    pub fn first_run_diverged(&self) -> bool {
        [self.train.first(), self.test.first()]
            .into_iter()
            .flatten()
            .any(|v| !v.is_finite())
    }
}

/// Whether a larger value of `metric` means a better model (`accuracy`, `acc`, `auc`).
pub fn metric_higher_is_better(metric: &str) -> bool {
    let m = metric.to_ascii_lowercase();
    m.contains("acc") || m == "auc"
}

/// A two-dimensional data set to draw as a scatter plot coloured by class.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterData {
    /// Short name, used in the file name `plots/data_NAME.png` (e.g. `circles`).
    pub name: String,
    /// Figure title.
    pub title: String,
    /// Point coordinates.
    pub points: Vec<[f64; 2]>,
    /// Class of each point (0, 1, 2, ...), same length as `points`.
    pub labels: Vec<usize>,
}

/// Switches for [`write_report`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportOptions {
    /// Draw the PNG figures (and link them from `report.md`).
    pub plots: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions { plots: true }
    }
}

/// The files [`write_report`] wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportPaths {
    /// `DIR/report.md`.
    pub markdown: PathBuf,
    /// `DIR/summary.csv`.
    pub summary_csv: PathBuf,
    /// `DIR/history/NAME.csv`, one per experiment with curves.
    pub histories: Vec<PathBuf>,
    /// Every PNG figure drawn (empty when plots are off).
    pub figures: Vec<PathBuf>,
}

/// Why a report file could not be written.
#[derive(Debug)]
pub enum ReportError {
    /// Creating or writing a file or directory failed.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Drawing a figure failed.
    Plot {
        /// The PNG file being drawn.
        path: PathBuf,
        /// What the plotting library reported.
        message: String,
    },
    /// The data handed in cannot be reported (mismatched lengths, bad names, ...).
    InvalidData {
        /// Which experiment or data set.
        what: String,
        /// What is wrong with it.
        detail: String,
    },
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Io { path, source } => {
                write!(f, "report: cannot write {}: {source}", path.display())
            }
            ReportError::Plot { path, message } => {
                write!(f, "report: cannot draw {}: {message}", path.display())
            }
            ReportError::InvalidData { what, detail } => {
                write!(f, "report: invalid data for {what}: {detail}")
            }
        }
    }
}

impl std::error::Error for ReportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReportError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl ReportError {
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        ReportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Checks that `name` can be used as a file name: non-empty, letters, digits, `_`, `-` and `.` only.
pub(crate) fn check_name(name: &str, what: &str) -> Result<(), ReportError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(ReportError::InvalidData {
            what: what.to_string(),
            detail: format!(
                "name {name:?} cannot be a file name (use letters, digits, '_', '-', '.')"
            ),
        })
    }
}

/// Formats a metric with three decimals, the way the tutorial prints it.
fn three(v: f64) -> String {
    format!("{v:.3}")
}

/// The line the tutorial prints after training: `Train: 0.832, Test: 0.846`.
///
/// Values are the mean over repeats with three decimals (for MSE as well, as the tutorial does).
/// With more than one repeat the (population) standard deviation follows in brackets.
///
/// ```
/// use tapegrad::report::{tutorial_line, ExperimentResult};
/// let r = ExperimentResult {
///     name: "circles_bce".into(), loss: "binary_crossentropy".into(), metric: "accuracy".into(),
///     train: vec![0.8321], test: vec![0.8459], seconds: 1.5, curves: None, notes: vec![],
/// };
/// assert_eq!(tutorial_line(&r), "Train: 0.832, Test: 0.846");
/// ```
pub fn tutorial_line(r: &ExperimentResult) -> String {
    if r.repeats() > 1 {
        format!(
            "Train: {} ({}), Test: {} ({})",
            three(mean(&r.train)),
            three(std_dev(&r.train)),
            three(mean(&r.test)),
            three(std_dev(&r.test))
        )
    } else {
        format!(
            "Train: {}, Test: {}",
            three(mean(&r.train)),
            three(mean(&r.test))
        )
    }
}

/// Formats a summary value: four decimals, or scientific notation for very small or large values.
pub(crate) fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        format!("{v}")
    } else if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e5) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// An aligned text table of all results for the terminal: mean ± std of train and test metric.
///
/// ```
/// use tapegrad::report::{summary_table, ExperimentResult};
/// let r = ExperimentResult {
///     name: "regression_mse".into(), loss: "mse".into(), metric: "mse".into(),
///     train: vec![0.004], test: vec![0.006], seconds: 2.0, curves: None, notes: vec![],
/// };
/// let table = summary_table(&[r]);
/// assert!(table.lines().nth(2).unwrap().starts_with("regression_mse"));
/// ```
pub fn summary_table(results: &[ExperimentResult]) -> String {
    let header = [
        "experiment",
        "loss",
        "metric",
        "repeats",
        "train (mean ± std)",
        "test (mean ± std)",
        "seconds",
    ];
    let rows: Vec<[String; 7]> = results
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.loss.clone(),
                r.metric.clone(),
                r.repeats().to_string(),
                format!(
                    "{} ± {}",
                    fmt_value(mean(&r.train)),
                    fmt_value(std_dev(&r.train))
                ),
                format!(
                    "{} ± {}",
                    fmt_value(mean(&r.test)),
                    fmt_value(std_dev(&r.test))
                ),
                format!("{:.2}", r.seconds),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut push_row = |cells: &[&str]| {
        let mut line = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = w - cell.chars().count();
            // Text columns left-aligned, numbers right-aligned.
            if i >= 3 {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    push_row(&header);
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    push_row(&rule.iter().map(String::as_str).collect::<Vec<_>>());
    for row in &rows {
        push_row(&row.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}

fn create_dir(path: &Path) -> Result<(), ReportError> {
    fs::create_dir_all(path).map_err(|e| ReportError::io(path, e))
}

/// Writes the whole report into `dir` (created if missing) and returns the paths written.
///
/// For each result with curves: `history/NAME.csv` and (with `options.plots`) `plots/NAME.png`.
/// For each data set in `scatter`: `plots/data_NAME.png`. Results with more than one repeat are
/// gathered into `plots/repeated.png`. Then `summary.csv` and `report.md`.
///
/// ```
/// use tapegrad::report::{write_report, Curves, ExperimentResult, ReportOptions};
/// let dir = std::env::temp_dir().join("tapegrad_doc_report");
/// let r = ExperimentResult {
///     name: "circles_bce".into(), loss: "binary_crossentropy".into(), metric: "accuracy".into(),
///     train: vec![0.83], test: vec![0.85], seconds: 1.0,
///     curves: Some(Curves { loss_train: vec![0.7, 0.4], loss_test: vec![0.7, 0.45],
///                           metric_train: vec![0.5, 0.8], metric_test: vec![0.5, 0.82] }),
///     notes: vec![],
/// };
/// let paths = write_report(&dir, &[r], &[], ReportOptions { plots: false }).unwrap();
/// assert!(std::fs::read_to_string(&paths.markdown).unwrap().contains("circles_bce"));
/// ```
pub fn write_report(
    dir: impl AsRef<Path>,
    results: &[ExperimentResult],
    scatter: &[ScatterData],
    options: ReportOptions,
) -> Result<ReportPaths, ReportError> {
    let dir = dir.as_ref();
    for r in results {
        check_name(&r.name, &r.name)?;
        if let Some(c) = &r.curves {
            c.epochs(&r.name)?;
        }
    }
    for s in scatter {
        check_name(&s.name, &s.name)?;
    }
    create_dir(dir)?;
    let mut paths = ReportPaths::default();

    let history_dir = dir.join("history");
    if results.iter().any(|r| r.curves.is_some()) {
        create_dir(&history_dir)?;
    }
    for r in results {
        if let Some(c) = &r.curves {
            paths
                .histories
                .push(write_history_csv(&history_dir, &r.name, &r.metric, c)?);
        }
    }
    paths.summary_csv = write_summary_csv(dir, results)?;

    let mut figures = markdown::Figures::default();
    if options.plots {
        let plot_dir = dir.join("plots");
        create_dir(&plot_dir)?;
        for r in results {
            if let Some(c) = &r.curves {
                let file = format!("{}.png", r.name);
                plots::plot_curves_figure(
                    &plot_dir.join(&file),
                    &r.name,
                    &r.loss,
                    &r.metric,
                    c,
                    r.first_run_diverged(),
                )?;
                figures
                    .curves
                    .push((r.name.clone(), format!("plots/{file}")));
            }
        }
        for s in scatter {
            let file = format!("data_{}.png", s.name);
            plot_scatter(plot_dir.join(&file), &s.title, &s.points, &s.labels)?;
            figures
                .scatter
                .push((s.title.clone(), format!("plots/{file}")));
        }
        let repeated: Vec<(String, Vec<f64>)> = results
            .iter()
            .filter(|r| r.repeats() > 1)
            .map(|r| (r.name.clone(), r.test.clone()))
            .collect();
        if !repeated.is_empty() {
            let metric = results
                .iter()
                .find(|r| r.repeats() > 1)
                .map_or("metric", |r| r.metric.as_str());
            plot_repeated(plot_dir.join("repeated.png"), "Repeated evaluation", metric, &repeated)?;
            figures.repeated = Some("plots/repeated.png".to_string());
        }
        paths.figures = figures
            .curves
            .iter()
            .chain(&figures.scatter)
            .map(|(_, p)| dir.join(p))
            .chain(figures.repeated.iter().map(|p| dir.join(p)))
            .collect();
    }

    let md = render_markdown(results, &figures);
    let md_path = dir.join("report.md");
    compare::write_file(&md_path, md.as_bytes())?;
    paths.markdown = md_path;
    Ok(paths)
}
