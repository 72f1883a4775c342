//! The main job: the tutorial's loss-function study, run end to end.
//!
//! Each experiment trains the tutorial's model on its data with one loss, by SGD (learning rate 0.01,
//! momentum 0.9), batch 32, shuffling every epoch, with the test set as validation data, and reports
//! the final train and test metric. `run_study` runs a list of them and writes the report.

mod data;
pub mod real;
pub mod regularization;
pub mod tabular;

pub use data::{StudyData, N_TRAIN};

use crate::data::Split;
use crate::metrics::Metric;
use crate::nn::{Activation, Dense, Init, Sequential};
use crate::optim::Sgd;
use crate::report::{Curves, ExperimentResult};
use crate::train::{FitConfig, History, LossFn, Model, TrainError, Verbose};
use std::fmt;
use std::time::Instant;

/// Which data set and model an experiment uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// 20-25 (relu) - 1 (linear) on the regression data; metric mse.
    Regression,
    /// 2-50 (relu) - 1 (sigmoid) on the circles; metric accuracy.
    Circles,
    /// 2-50 (relu) - 1 (tanh) on the circles with targets in {-1, 1} (hinge losses).
    CirclesSigned,
    /// 2-50 (relu) - 3 (softmax) on the blobs with one-hot targets.
    Blobs,
    /// 2-50 (relu) - 3 (softmax) on the blobs with class ids (sparse losses).
    BlobsSparse,
}

/// One experiment of the study.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Experiment {
    /// Name, used on the command line and for the report's files.
    pub name: &'static str,
    /// Data and model.
    pub family: Family,
    /// The loss, by registry name.
    pub loss: &'static str,
    /// Epochs, as in the tutorial.
    pub epochs: usize,
}

impl Experiment {
    /// The metric it tracks: mean squared error for regression, accuracy otherwise.
    pub fn tracked_metric(&self) -> Metric {
        match self.family {
            Family::Regression => Metric::Mse,
            _ => Metric::Accuracy,
        }
    }

    /// The name of the metric it reports (`mse` or `accuracy`).
    pub fn metric(&self) -> &'static str {
        self.tracked_metric().name()
    }
}

const fn exp(name: &'static str, family: Family, loss: &'static str, epochs: usize) -> Experiment {
    Experiment { name, family, loss, epochs }
}

/// The tutorial's experiments and its suggested extensions (MAPE, categorical hinge).
pub const EXPERIMENTS: &[Experiment] = &[
    exp("regression_mse", Family::Regression, "mean_squared_error", 100),
    exp("regression_msle", Family::Regression, "mean_squared_logarithmic_error", 100),
    exp("regression_mae", Family::Regression, "mean_absolute_error", 100),
    exp("regression_mape", Family::Regression, "mean_absolute_percentage_error", 100),
    exp("circles_bce", Family::Circles, "binary_crossentropy", 200),
    exp("circles_hinge", Family::CirclesSigned, "hinge", 200),
    exp("circles_squared_hinge", Family::CirclesSigned, "squared_hinge", 200),
    exp("blobs_cce", Family::Blobs, "categorical_crossentropy", 100),
    exp("blobs_sparse_cce", Family::BlobsSparse, "sparse_categorical_crossentropy", 100),
    exp("blobs_kld", Family::Blobs, "kl_divergence", 100),
    exp("blobs_categorical_hinge", Family::Blobs, "categorical_hinge", 100),
];

/// The tutorial's own nine experiments (without the extensions and the repeated evaluation): the
/// set the peers' timings cover.
pub const TUTORIAL_NINE: &[&str] = &[
    "regression_mse",
    "regression_msle",
    "regression_mae",
    "circles_bce",
    "circles_hinge",
    "circles_squared_hinge",
    "blobs_cce",
    "blobs_sparse_cce",
    "blobs_kld",
];

/// The experiments the repeated evaluation runs, once per seed.
pub const REPEATED: &[&str] = &["blobs_cce", "blobs_sparse_cce", "blobs_kld"];

/// The name that selects the repeated evaluation.
pub const REPEATED_NAME: &str = "repeated";

/// Every name `tapegrad study` accepts.
pub fn known_names() -> Vec<&'static str> {
    EXPERIMENTS.iter().map(|e| e.name).chain([REPEATED_NAME]).collect()
}

/// The experiment called `name`.
pub fn find(name: &str) -> Option<&'static Experiment> {
    EXPERIMENTS.iter().find(|e| e.name == name)
}

/// A study that could not run.
#[derive(Debug)]
pub enum StudyError {
    /// A name that is neither an experiment nor `repeated`.
    UnknownExperiment(String),
    /// Training failed.
    Train {
        /// The experiment's name.
        experiment: String,
        /// What went wrong.
        error: TrainError,
    },
    /// Handing a trained run on (saving it) failed.
    Output {
        /// The experiment's name.
        experiment: String,
        /// What went wrong.
        message: String,
    },
}

impl fmt::Display for StudyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StudyError::UnknownExperiment(n) => {
                write!(f, "unknown experiment '{n}'; known: {}", known_names().join(", "))
            }
            StudyError::Train { experiment, error } => write!(f, "{experiment}: {error}"),
            StudyError::Output { experiment, message } => write!(f, "{experiment}: {message}"),
        }
    }
}

impl std::error::Error for StudyError {}

/// One trained run: its model, history and final metrics (from `evaluate`, as the tutorial prints).
pub struct Run {
    /// The trained model.
    pub model: Model<f32>,
    /// Per-epoch logs.
    pub history: History,
    /// Final metric on the training rows.
    pub train_metric: f64,
    /// Final metric on the test rows.
    pub test_metric: f64,
    /// Why training stopped early, when the loss diverged (the metrics are then NaN).
    pub diverged: Option<String>,
}

/// The data split (targets shaped for the loss) an experiment trains on.
pub fn split_for(family: Family, data: &StudyData) -> Split<f32> {
    match family {
        Family::Regression => data.regression.clone(),
        Family::Circles => data.circles.clone(),
        Family::CirclesSigned => data.circles_signed(),
        Family::Blobs => data.blobs_one_hot(),
        Family::BlobsSparse => data.blobs.clone(),
    }
}

/// The tutorial's model for a family, with weights drawn from `seed`.
pub fn model_for(family: Family, seed: u64) -> Sequential<f32> {
    let hidden = |units| Dense::new(units).activation(Activation::Relu).kernel_initializer(Init::HeUniform);
    let (inputs, layers) = match family {
        Family::Regression => (20, vec![hidden(25), Dense::new(1).activation(Activation::Linear)]),
        Family::Circles => (2, vec![hidden(50), Dense::new(1).activation(Activation::Sigmoid)]),
        Family::CirclesSigned => (2, vec![hidden(50), Dense::new(1).activation(Activation::Tanh)]),
        Family::Blobs | Family::BlobsSparse => (2, vec![hidden(50), Dense::new(3).activation(Activation::Softmax)]),
    };
    Sequential::with_seed(inputs, layers, seed)
}

/// Trains one experiment with one seed (weights and shuffling) for `epochs` epochs.
pub fn run_once(e: &Experiment, data: &StudyData, seed: u64, epochs: usize, verbose: Verbose) -> Result<Run, StudyError> {
    let split = split_for(e.family, data);
    let wrap = |error| StudyError::Train { experiment: e.name.to_string(), error };
    let loss = LossFn::named(e.loss).map_err(|l| wrap(TrainError::Loss(l)))?;
    let metric = e.tracked_metric();
    let mut model = model_for(e.family, seed).compile(loss, Sgd::new(0.01).momentum(0.9), &[metric]);
    let config = FitConfig::new(epochs)
        .batch_size(32)
        .shuffle(true)
        .validation_data(&split.x_test, &split.y_test)
        .verbose(verbose)
        .seed(seed);
    let history = match model.fit(&split.x_train, &split.y_train, config) {
        Ok(h) => h,
        // A diverged loss is a result of the study (MAPE on standardised targets does this), not a
        // failure of it: keep the epochs that finished and report NaN.
        Err(TrainError::Diverged { epoch, batch, loss, history }) => {
            let diverged = Some(format!("the loss became {loss} at epoch {epoch}, batch {batch}"));
            return Ok(Run { model, history, train_metric: f64::NAN, test_metric: f64::NAN, diverged });
        }
        Err(e) => return Err(wrap(e)),
    };
    let key = metric.name();
    let train = model.evaluate(&split.x_train, &split.y_train, 32).map_err(wrap)?;
    let test = model.evaluate(&split.x_test, &split.y_test, 32).map_err(wrap)?;
    let train_metric = train.get(key).copied().unwrap_or(f64::NAN);
    let test_metric = test.get(key).copied().unwrap_or(f64::NAN);
    Ok(Run { model, history, train_metric, test_metric, diverged: None })
}

/// The learning curves of a history, for the report.
pub fn curves(history: &History, metric: &str) -> Curves {
    let get = |k: &str| history.get(k).map(<[f64]>::to_vec).unwrap_or_default();
    Curves {
        loss_train: get("loss"),
        loss_test: get("val_loss"),
        metric_train: get(metric),
        metric_test: get(&format!("val_{metric}")),
    }
}

/// How a study runs (how often each experiment repeats is part of its [`plan`]).
#[derive(Clone, Debug)]
pub struct StudyOptions {
    /// Overrides every experiment's epoch count.
    pub epochs: Option<usize>,
    /// Seed of the single runs, and first seed of the repeated runs.
    pub seed: u64,
    /// Progress bars on a terminal.
    pub verbose: Verbose,
}

impl Default for StudyOptions {
    fn default() -> Self {
        StudyOptions { epochs: None, seed: 1, verbose: Verbose::Silent }
    }
}

/// Runs experiment `e` once (or, for the repeated evaluation, `repeats` times) and gathers its result,
/// with a note for every run whose loss diverged (in `notes`). `on_run` sees every trained run with
/// its seed (to save the model, for instance); its error stops the experiment.
pub fn run_experiment(
    e: &Experiment,
    data: &StudyData,
    opts: &StudyOptions,
    repeats: usize,
    mut on_run: impl FnMut(&Run, u64) -> Result<(), String>,
) -> Result<ExperimentResult, StudyError> {
    let start = Instant::now();
    let epochs = opts.epochs.unwrap_or(e.epochs);
    let mut result = ExperimentResult {
        name: if repeats > 1 { format!("{REPEATED_NAME}_{}", e.name) } else { e.name.to_string() },
        loss: e.loss.to_string(),
        metric: e.metric().to_string(),
        train: Vec::with_capacity(repeats),
        test: Vec::with_capacity(repeats),
        seconds: 0.0,
        curves: None,
        notes: Vec::new(),
    };
    for r in 0..repeats {
        let run = run_once(e, data, opts.seed + r as u64, epochs, opts.verbose)?;
        result.train.push(run.train_metric);
        result.test.push(run.test_metric);
        if result.curves.is_none() {
            result.curves = Some(curves(&run.history, e.metric()));
        }
        if let Some(why) = &run.diverged {
            result.notes.push(format!("seed {}: {why}", opts.seed + r as u64));
        }
        let seed = opts.seed + r as u64;
        on_run(&run, seed).map_err(|message| StudyError::Output { experiment: e.name.to_string(), message })?;
    }
    result.seconds = start.elapsed().as_secs_f64();
    Ok(result)
}

/// Resolves names (empty: every experiment and the repeated evaluation) into the runs to do:
/// each experiment with its repeat count. Unknown names are an error listing the known ones.
pub fn plan(names: &[String], repeats: usize) -> Result<Vec<(&'static Experiment, usize)>, StudyError> {
    let all: Vec<String>;
    let names = if names.is_empty() {
        all = known_names().into_iter().map(String::from).collect();
        &all[..]
    } else {
        names
    };
    let mut out = Vec::new();
    for n in names {
        if n == REPEATED_NAME {
            for r in REPEATED {
                out.push((find(r).expect("REPEATED names experiments"), repeats.max(1)));
            }
        } else {
            out.push((find(n).ok_or_else(|| StudyError::UnknownExperiment(n.clone()))?, 1));
        }
    }
    Ok(out)
}

/// Runs a plan (from [`plan`]) on up to `threads` threads, one experiment per thread at a time; the
/// results come back in the plan's order and do not depend on the thread count (every run has its
/// own seed). `on_run(experiment, repeats, run, seed)` sees every trained run, on its worker thread.
pub fn run_plan<F>(
    plan: &[(&'static Experiment, usize)],
    data: &StudyData,
    opts: &StudyOptions,
    threads: usize,
    on_run: &F,
) -> Result<Vec<ExperimentResult>, StudyError>
where
    F: Fn(&Experiment, usize, &Run, u64) -> Result<(), String> + Sync,
{
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Result<ExperimentResult, StudyError>>>> = Mutex::new((0..plan.len()).map(|_| None).collect());
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(&(e, repeats)) = plan.get(i) else { break };
        let r = run_experiment(e, data, opts, repeats, |run, seed| on_run(e, repeats, run, seed));
        slots.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
    };
    std::thread::scope(|s| {
        for _ in 1..threads.clamp(1, plan.len().max(1)) {
            s.spawn(work);
        }
        work();
    });
    slots
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| r.expect("every planned experiment ran"))
        .collect()
}
