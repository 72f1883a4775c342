//! `report.md`: the tutorial lines, the summary table, the reference numbers and the figures.

use std::fmt::Write as _;

use super::reference::{self, Reference, RunRange, KERAS_SUITE_SECONDS, PYTORCH_SUITE_SECONDS};
use super::{fmt_value, mean, std_dev, tutorial_line, ExperimentResult};

/// Relative paths (from the report's directory) of the figures to link from `report.md`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// `(experiment name, path)` of each learning-curve figure.
    pub curves: Vec<(String, String)>,
    /// `(title, path)` of each data scatter plot.
    pub scatter: Vec<(String, String)>,
    /// Path of the repeated-evaluation box plot, if drawn.
    pub repeated: Option<String>,
}

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The reference row for a result: by its name, or for `repeated_NAME` by `NAME`.
fn reference_for(name: &str) -> Option<&'static Reference> {
    reference::lookup(name).or_else(|| name.strip_prefix("repeated_").and_then(reference::lookup))
}

fn mean_std(xs: &[f64]) -> String {
    if xs.len() > 1 {
        format!("{} ± {}", fmt_value(mean(xs)), fmt_value(std_dev(xs)))
    } else {
        fmt_value(mean(xs))
    }
}

fn run_range(r: Option<RunRange>) -> String {
    match r {
        Some(r) => format!(
            "{} ({}–{})",
            fmt_value(r.median),
            fmt_value(r.low),
            fmt_value(r.high)
        ),
        None => "–".to_string(),
    }
}

fn push_table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", " --- |".repeat(header.len()));
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out.push('\n');
}

fn tutorial_lines(out: &mut String, results: &[ExperimentResult]) {
    out.push_str("## What each experiment printed\n\n");
    out.push_str(
        "The tutorial prints the final train and test metric of each run; with repeats, the mean \
         and (in brackets) the standard deviation over runs.\n\n```text\n",
    );
    let width = results.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for r in results {
        let _ = writeln!(out, "{:width$}  {}", r.name, tutorial_line(r));
        for note in &r.notes {
            let _ = writeln!(out, "{:width$}    note: {}", "", one_line(note));
        }
    }
    out.push_str("```\n\n");
}

/// A "Notes" list: every experiment's notes, one bullet each.
fn notes(out: &mut String, results: &[ExperimentResult]) {
    if results.iter().all(|r| r.notes.is_empty()) {
        return;
    }
    out.push_str("## Notes\n\n");
    for r in results {
        for note in &r.notes {
            let _ = writeln!(out, "- `{}`: {}", r.name, one_line(note));
        }
    }
    out.push('\n');
}

/// `text` on one line: line breaks become spaces, so a note stays one list item.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn summary(out: &mut String, results: &[ExperimentResult]) {
    out.push_str("## Summary\n\n");
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            vec![
                cell(&r.name),
                cell(&r.loss),
                cell(&r.metric),
                r.repeats().to_string(),
                mean_std(&r.train),
                mean_std(&r.test),
                format!("{:.2}", r.seconds),
            ]
        })
        .collect();
    push_table(
        out,
        &[
            "experiment",
            "loss",
            "metric",
            "repeats",
            "train",
            "test",
            "seconds",
        ],
        &rows,
    );
    out.push_str(
        "The same numbers, unrounded, are in `summary.csv`; every epoch's are in `history/`.\n\n",
    );
}

fn comparison(out: &mut String, results: &[ExperimentResult]) {
    out.push_str("## Against the tutorial, Keras and PyTorch\n\n");
    out.push_str(
        "Test metric. Keras 3.15.1 (TensorFlow 2.21, CPU, 4 runs) and PyTorch 2.15 (CPU, 10 runs) \
         were re-run with the tutorial's set-up on the same data: median (lowest–highest). The last \
         column places our test metric against the span of all those runs.\n\n",
    );
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            let test = mean(&r.test);
            match reference_for(&r.name) {
                Some(rf) => vec![
                    cell(&r.name),
                    cell(&r.metric),
                    mean_std(&r.test),
                    cell(rf.tutorial),
                    run_range(rf.keras),
                    run_range(rf.pytorch),
                    rf.verdict(test, r.higher_is_better())
                        .map_or("–", |v| v.as_str())
                        .to_string(),
                ],
                None => vec![
                    cell(&r.name),
                    cell(&r.metric),
                    mean_std(&r.test),
                    "not run in the tutorial (a suggested extension)".to_string(),
                    "–".to_string(),
                    "–".to_string(),
                    "–".to_string(),
                ],
            }
        })
        .collect();
    push_table(
        out,
        &[
            "experiment",
            "metric",
            "ours",
            "the tutorial says",
            "Keras",
            "PyTorch",
            "ours vs. their runs",
        ],
        &rows,
    );
    out.push_str(
        "MSLE on standardised targets clips negative targets and predictions to epsilon, so some \
         runs collapse to a large MSE; that is the loss, not a bug.\n\n",
    );
}

fn wall_time(out: &mut String, results: &[ExperimentResult]) {
    let tutorial_runs: Vec<&ExperimentResult> = results
        .iter()
        .filter(|r| reference::lookup(&r.name).is_some())
        .collect();
    if tutorial_runs.is_empty() {
        return;
    }
    let ours: f64 = tutorial_runs.iter().map(|r| r.seconds).sum();
    let all: f64 = results.iter().map(|r| r.seconds).sum();
    out.push_str("## Wall time\n\n");
    let _ = writeln!(
        out,
        "The tutorial's experiments ({} of {}): {ours:.1} s here; Keras {:.0}–{:.0} s, PyTorch \
         {:.1}–{:.1} s (median {:.1} s). All experiments in this report: {all:.1} s.\n",
        tutorial_runs.len(),
        reference::REFERENCES.len(),
        KERAS_SUITE_SECONDS.0,
        KERAS_SUITE_SECONDS.1,
        PYTORCH_SUITE_SECONDS.0,
        PYTORCH_SUITE_SECONDS.2,
        PYTORCH_SUITE_SECONDS.1,
    );
}

fn repeated(out: &mut String, results: &[ExperimentResult], figure: Option<&str>) {
    let reps: Vec<&ExperimentResult> = results.iter().filter(|r| r.repeats() > 1).collect();
    if reps.is_empty() {
        return;
    }
    out.push_str("## Repeated evaluation\n\n");
    out.push_str(
        "Each loss trained from several seeds; final test metric over the runs \
         (population standard deviation).\n\n",
    );
    let rows: Vec<Vec<String>> = reps
        .iter()
        .map(|r| {
            let lo = r.test.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = r.test.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            vec![
                cell(&r.name),
                cell(&r.loss),
                r.repeats().to_string(),
                fmt_value(mean(&r.test)),
                fmt_value(std_dev(&r.test)),
                fmt_value(lo),
                fmt_value(hi),
            ]
        })
        .collect();
    push_table(
        out,
        &[
            "experiment",
            "loss",
            "runs",
            "test mean",
            "test std",
            "min",
            "max",
        ],
        &rows,
    );
    if let Some(path) = figure {
        let _ = writeln!(
            out,
            "![Per-run test scores of the repeated evaluation]({path})\n"
        );
    }
}

/// Renders `report.md` for `results`, linking the figures listed in `figures`.
///
/// Sections: what each experiment printed (the tutorial's `Train: …, Test: …` lines, each followed
/// by the experiment's notes), a "Notes" list (when there are notes), a summary
/// table, our test metric next to the tutorial's words and the Keras and PyTorch medians, wall
/// time, the data scatter plots, the learning curves, and the repeated evaluation.
///
/// ```
/// use tapegrad::report::{render_markdown, ExperimentResult, Figures};
/// let r = ExperimentResult {
///     name: "blobs_cce".into(), loss: "categorical_crossentropy".into(), metric: "accuracy".into(),
///     train: vec![0.82], test: vec![0.822], seconds: 1.0, curves: None, notes: vec![],
/// };
/// let md = render_markdown(&[r], &Figures::default());
/// assert!(md.contains("blobs_cce  Train: 0.820, Test: 0.822"));
/// assert!(md.contains("0.8220 (0.8180–0.8240)")); // Keras' median and range
/// ```
pub fn render_markdown(results: &[ExperimentResult], figures: &Figures) -> String {
    let mut out = String::with_capacity(8192);
    out.push_str("# Loss functions for neural networks: the tutorial re-run with tapegrad\n\n");
    out.push_str(
        "Each experiment trains the tutorial's small MLP with one loss and reports a metric on the \
         train and test halves of the data: mean squared error (lower is better) for regression, \
         accuracy (higher is better) for classification.\n\n",
    );
    tutorial_lines(&mut out, results);
    notes(&mut out, results);
    summary(&mut out, results);
    comparison(&mut out, results);
    wall_time(&mut out, results);
    if !figures.scatter.is_empty() {
        out.push_str("## Data\n\n");
        for (title, path) in &figures.scatter {
            let _ = writeln!(out, "![{title}]({path})\n");
        }
    }
    if !figures.curves.is_empty() {
        out.push_str("## Learning curves\n\n");
        out.push_str(
            "Top: loss per epoch; bottom: the metric; train blue, test orange. Loss and error \
             panels whose values span more than two orders of magnitude use a log-scale y axis \
             (said in the axis label).\n\n",
        );
        for (name, path) in &figures.curves {
            let _ = writeln!(out, "### {name}\n");
            if let Some(r) = results.iter().find(|r| &r.name == name) {
                let _ = writeln!(out, "Loss `{}`. {}\n", r.loss, tutorial_line(r));
                for note in &r.notes {
                    let _ = writeln!(out, "- Note: {}", one_line(note));
                }
                if !r.notes.is_empty() {
                    out.push('\n');
                }
            }
            let _ = writeln!(out, "![Learning curves of {name}]({path})\n");
        }
    }
    repeated(&mut out, results, figures.repeated.as_deref());
    out
}
