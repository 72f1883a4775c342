//! The main job's real-data chapter: the tutorial's comparison repeated on the bundled data sets
//! (diabetes, breast cancer, wine, digits), each loss over ten seeds with the reference protocol,
//! and the synthetic extensions (MAPE, categorical hinge) over seeds too.

use super::tabular::{run_grid, LossSpec, RunSummary, TrainOptions};
use super::{find, run_plan, StudyData, StudyError, StudyOptions};
use crate::data::{dataset, parse_table, CsvOptions, Preprocessing, TabularOptions};
use crate::report::real_reference::beside_references;
use crate::report::{CompareSection, LossRuns};

/// One data set of the chapter and its losses.
#[derive(Clone, Copy, Debug)]
pub struct RealExperiment {
    /// Bundled data set name.
    pub dataset: &'static str,
    /// Registry losses.
    pub losses: &'static [&'static str],
    /// Epochs in the main job (the reference protocol runs 200; see [`REAL`]).
    pub epochs: usize,
}

/// The chapter's data sets and losses. Every set trains the reference protocol's 200 epochs, digits
/// included (1257 training rows, 64 inputs, 10 classes: 40 batches per epoch, about 5 s of the
/// main job's 8 on two cores).
pub const REAL: &[RealExperiment] = &[
    RealExperiment {
        dataset: "diabetes",
        losses: &["mean_squared_error", "mean_absolute_error", "huber", "mean_squared_logarithmic_error"],
        epochs: 200,
    },
    RealExperiment {
        dataset: "breast_cancer",
        losses: &["binary_crossentropy", "hinge", "squared_hinge", "binary_focal_crossentropy"],
        epochs: 200,
    },
    RealExperiment {
        dataset: "wine",
        losses: &["categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence", "categorical_hinge"],
        epochs: 200,
    },
    RealExperiment {
        dataset: "digits",
        losses: &["categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence", "categorical_hinge"],
        epochs: DIGITS_EPOCHS,
    },
];

/// Epochs of the digits runs in the main job: the protocol's 200 (see [`REAL`]).
pub const DIGITS_EPOCHS: usize = 200;

/// The synthetic experiments run over seeds as well (the tutorial's suggested extensions).
pub const SYNTHETIC_REPEATED: &[&str] = &["regression_mape", "blobs_categorical_hinge"];

/// Runs one data set's losses over `repeats` seeds (0, 1, ...) for `epochs` epochs and returns
/// its report section (whose text says when `epochs` is not the reference protocol's 200).
///
/// # Errors
/// A message naming the data set when preparing or training fails.
pub fn run_real(e: &RealExperiment, repeats: usize, epochs: usize) -> Result<CompareSection, String> {
    let d = dataset(e.dataset)?;
    let table = parse_table(d.csv, CsvOptions::default()).map_err(|err| format!("{}: {err}", e.dataset))?;
    let (pre, rows) = Preprocessing::prepare(&table, &TabularOptions { target: d.target.into(), ..Default::default() })
        .map_err(|err| format!("{}: {err}", e.dataset))?;
    let losses: Vec<LossSpec> = e.losses.iter().map(|l| LossSpec::parse(l)).collect::<Result<_, _>>()?;
    let opts = TrainOptions { epochs, ..TrainOptions::default() };
    let seeds: Vec<u64> = (0..repeats as u64).collect();
    let grid = run_grid(&pre, &rows, &losses, &opts, &seeds).map_err(|err| format!("{}: {err}", e.dataset))?;
    let metric = super::tabular::task_metric(pre.task).name();
    let runs: Vec<LossRuns> = grid.iter().zip(&losses).enumerate().map(|(i, ((r, secs), l))| loss_runs(l, i, r, *secs)).collect();
    let extra = beside_references(e.dataset, metric, &runs);
    Ok(CompareSection {
        name: e.dataset.to_string(),
        title: format!("{} ({}; {} rows, {} features)", e.dataset, pre.task.name(), rows.y.len(), pre.input_width()),
        intro: vec![format!(
            "{} losses x {repeats} seeds; seed s splits 70/30 as scikit-learn's train_test_split(random_state=s){}, \
             standardises with the training rows{}, and draws the weights and epoch shuffles. Dense(50, relu) -> output, \
             SGD lr 0.01 momentum 0.9, batch 32, {epochs} epochs{}.",
            losses.len(),
            if pre.task.is_classification() { " stratified by class" } else { "" },
            if pre.task.is_classification() { "" } else { " (the target too; the metric is the test MSE on that scale)" },
            if epochs == 200 { String::new() } else { format!(" (the references ran 200; the main job runs {epochs} here to stay within its time budget)") },
        )],
        metric: metric.to_string(),
        losses: runs,
        extra,
    })
}

fn loss_runs(l: &LossSpec, i: usize, runs: &[RunSummary], seconds: f64) -> LossRuns {
    LossRuns {
        name: l.file_stem(i),
        label: l.label(),
        train: runs.iter().map(|r| r.train).collect(),
        test: runs.iter().map(|r| r.test).collect(),
        curves: runs[0].curves.clone(),
        seconds,
        notes: runs.iter().enumerate().filter_map(|(s, r)| r.diverged.as_ref().map(|w| format!("seed {s}: {w}"))).collect(),
    }
}

/// Runs the synthetic extensions over `repeats` seeds (from `seed`), both at once, and returns one
/// section each.
///
/// # Errors
/// A training failure.
pub fn run_synthetic_repeats(data: &StudyData, repeats: usize, seed: u64, epochs: Option<usize>) -> Result<Vec<CompareSection>, StudyError> {
    let opts = StudyOptions { epochs, seed, ..StudyOptions::default() };
    let plan: Vec<_> = SYNTHETIC_REPEATED.iter().map(|n| (find(n).expect("SYNTHETIC_REPEATED names experiments"), repeats)).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let results = run_plan(&plan, data, &opts, threads, &|_, _, _, _| Ok(()))?;
    let mut sections = Vec::new();
    for (&(e, _), r) in plan.iter().zip(&results) {
        let runs = LossRuns {
            name: e.loss.to_string(),
            label: e.loss.to_string(),
            train: r.train.clone(),
            test: r.test.clone(),
            curves: r.curves.clone().unwrap_or_default(),
            seconds: r.seconds,
            notes: r.notes.clone(),
        };
        sections.push(CompareSection {
            name: format!("synthetic_{}", e.name),
            title: format!("{} over {repeats} seeds", e.name),
            intro: vec![format!(
                "The tutorial's {} experiment (loss `{}`) with seeds {seed}..{}: the weights and shuffles change, the data do not.",
                e.name,
                e.loss,
                seed + repeats as u64 - 1
            )],
            metric: e.metric().to_string(),
            losses: vec![runs],
            extra: String::new(),
        });
    }
    Ok(sections)
}
