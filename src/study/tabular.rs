//! Training on any table: the tutorial's protocol (seeded, stratified split; standardisation from
//! the training rows; Dense(hidden, relu) -> Dense(k); SGD with momentum; batch 32) with the loss
//! given by registry name or as a formula, the output layer and target encoding chosen to fit both
//! the loss and the task.

use super::Run;
use std::time::Instant;
use crate::data::{shuffle_split_indices, stratified_split_indices, to_categorical, Prepared, Preprocessing, Task};
use crate::formula::Formula;
use crate::losses::Loss;
use crate::metrics::Metric;
use crate::nn::{Activation, Dense, Init, Sequential};
use crate::train::{FitConfig, LossFn, TrainError, Verbose};
use crate::Tensor;

/// A loss by registry name or typed as a formula.
#[derive(Clone, Debug)]
pub enum LossSpec {
    /// A registry loss (Keras name or alias), resolved to its canonical name.
    Named(String),
    /// A formula over `t` and `p`.
    Formula(Formula),
}

impl LossSpec {
    /// A registry name, or else a formula.
    ///
    /// # Errors
    /// The formula's parse error (with its caret), or an unknown name.
    pub fn parse(text: &str) -> Result<LossSpec, String> {
        if text.trim().is_empty() {
            return Err("--loss: empty; give a registry name (`tapegrad losses` lists them) or a formula over t and p, e.g. \"mean(abs(t - p))\"".into());
        }
        match Loss::new(text) {
            Ok(l) => Ok(LossSpec::Named(l.name().to_string())),
            Err(e) if !Formula::looks_like_formula(text) => Err(format!("{e} (or write a formula over t and p, e.g. \"mean(abs(t - p))\")")),
            Err(_) => Formula::parse(text).map(LossSpec::Formula).map_err(|e| format!("--loss: {e}")),
        }
    }

    /// The name shown in reports: the registry name or the formula text.
    pub fn label(&self) -> String {
        match self {
            LossSpec::Named(n) => n.clone(),
            LossSpec::Formula(f) => f.text().to_string(),
        }
    }

    /// A file-name-safe short name.
    pub fn file_stem(&self, index: usize) -> String {
        match self {
            LossSpec::Named(n) => n.clone(),
            LossSpec::Formula(_) => format!("formula{}", index + 1),
        }
    }

    /// The loss for training.
    pub fn loss_fn(&self) -> LossFn<f32> {
        match self {
            LossSpec::Named(n) => LossFn::named(n).expect("resolved by parse"),
            LossSpec::Formula(f) => {
                let f = f.clone();
                LossFn::custom_named(f.text().to_string(), move |t, p| f.eval(t, p))
            }
        }
    }
}

/// How targets are given to the loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetForm {
    /// The standardised number, `[n, 1]`.
    Value,
    /// 0 or 1, `[n, 1]`.
    ZeroOne,
    /// -1 or 1, `[n, 1]` (hinge losses).
    Sign,
    /// One-hot rows `[n, k]`.
    OneHot,
    /// Class ids `[n]` (sparse losses).
    ClassId,
}

/// The output layer and target form for a loss on a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// Output activation.
    pub activation: Activation,
    /// Output units.
    pub units: usize,
    /// Target encoding.
    pub targets: TargetForm,
}

/// Which task each registry loss fits.
fn loss_task(name: &str) -> Option<Task> {
    Some(match name {
        "mean_squared_error" | "mean_absolute_error" | "mean_absolute_percentage_error" | "mean_squared_logarithmic_error"
        | "huber" | "log_cosh" | "poisson" | "smooth_l1" | "quantile" => Task::Regression,
        "binary_crossentropy" | "binary_focal_crossentropy" | "hinge" | "squared_hinge" | "dice" | "tversky" => Task::Binary,
        "categorical_crossentropy" | "categorical_focal_crossentropy" | "sparse_categorical_crossentropy" | "kl_divergence"
        | "categorical_hinge" => Task::Multiclass,
        _ => return None,
    })
}

/// The output head for `loss` on `task` with `classes` classes.
///
/// # Errors
/// One line when the loss does not fit the task (e.g. sparse labels for regression).
pub fn head_for(loss: &LossSpec, task: Task, classes: usize) -> Result<Head, String> {
    let name = match loss {
        LossSpec::Formula(_) => {
            return Ok(match task {
                Task::Regression => Head { activation: Activation::Linear, units: 1, targets: TargetForm::Value },
                Task::Binary => Head { activation: Activation::Sigmoid, units: 1, targets: TargetForm::ZeroOne },
                Task::Multiclass => Head { activation: Activation::Softmax, units: classes, targets: TargetForm::OneHot },
            })
        }
        LossSpec::Named(n) => n.as_str(),
    };
    let fits = loss_task(name).ok_or_else(|| format!("loss {name:?} is not offered for tables (it fits none of regression, binary, multiclass)"))?;
    // Categorical losses also fit two classes given as a two-way softmax with --task multiclass.
    if fits != task {
        return Err(format!(
            "loss {name:?} fits a {} task, but the task is {}{}",
            fits.name(),
            task.name(),
            match (fits, task) {
                (Task::Multiclass, Task::Binary) => " (use --task multiclass to train two classes with a softmax)",
                (_, Task::Regression) => " (class labels need a classification target)",
                _ => "",
            }
        ));
    }
    Ok(match name {
        "hinge" | "squared_hinge" => Head { activation: Activation::Tanh, units: 1, targets: TargetForm::Sign },
        "sparse_categorical_crossentropy" => Head { activation: Activation::Softmax, units: classes, targets: TargetForm::ClassId },
        _ => match task {
            Task::Regression => Head { activation: Activation::Linear, units: 1, targets: TargetForm::Value },
            Task::Binary => Head { activation: Activation::Sigmoid, units: 1, targets: TargetForm::ZeroOne },
            Task::Multiclass => Head { activation: Activation::Softmax, units: classes, targets: TargetForm::OneHot },
        },
    })
}

/// The targets for the loss: `y` holds class indices or standardised values.
pub fn encode_targets(y: &[f64], form: TargetForm, classes: usize) -> Tensor<f32> {
    let n = y.len();
    match form {
        TargetForm::Value | TargetForm::ZeroOne => Tensor::from_vec(y.iter().map(|&v| v as f32).collect(), &[n, 1]),
        TargetForm::Sign => Tensor::from_vec(y.iter().map(|&v| if v > 0.5 { 1.0 } else { -1.0 }).collect(), &[n, 1]),
        TargetForm::ClassId => Tensor::from_vec(y.iter().map(|&v| v as f32).collect(), &[n]),
        TargetForm::OneHot => {
            let labels: Vec<usize> = y.iter().map(|&v| v as usize).collect();
            to_categorical(&labels, Some(classes))
        }
    }
}

/// How to train.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainOptions {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// `sgd`, `adam`, `rmsprop` or `adagrad`.
    pub optimizer: String,
    /// Learning rate.
    pub lr: f64,
    /// Momentum (SGD, RMSprop).
    pub momentum: f64,
    /// Epochs.
    pub epochs: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Test fraction in (0, 1).
    pub test_fraction: f64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            hidden: vec![50],
            activation: Activation::Relu,
            optimizer: "sgd".into(),
            lr: 0.01,
            momentum: 0.9,
            epochs: 200,
            batch_size: 32,
            test_fraction: 0.3,
        }
    }
}

/// One split of a table, scaled with its training rows' statistics.
#[derive(Clone, Debug)]
pub struct SplitData {
    /// The preprocessing with the scaling fitted on the training rows.
    pub pre: Preprocessing,
    /// Standardised training inputs.
    pub x_train: Tensor<f32>,
    /// Standardised test inputs.
    pub x_test: Tensor<f32>,
    /// Training targets: class index, or standardised value.
    pub y_train: Vec<f64>,
    /// Test targets, as `y_train`.
    pub y_test: Vec<f64>,
}

/// Splits (stratified for classification, as scikit-learn with `random_state = seed`) and scales.
///
/// # Errors
/// A test fraction outside (0, 1), a class too small to stratify, or fewer training rows than one
/// batch.
pub fn split_table(pre: &Preprocessing, rows: &Prepared, test_fraction: f64, batch_size: usize, seed: u64) -> Result<SplitData, String> {
    let seed32 = (seed % (1u64 << 32)) as u32;
    let idx = if pre.task.is_classification() {
        let labels: Vec<usize> = rows.y.iter().map(|&v| v as usize).collect();
        stratified_split_indices(&labels, test_fraction, seed32)
    } else {
        shuffle_split_indices(rows.y.len(), test_fraction, seed32)
    }
    .map_err(|e| format!("--test-fraction: {e}"))?;
    if idx.train.len() < batch_size {
        return Err(format!(
            "{} training rows are fewer than one batch (--batch-size {batch_size}); lower --batch-size or give more rows",
            idx.train.len()
        ));
    }
    let pick = |ids: &[usize]| ids.iter().map(|&i| rows.y[i]).collect::<Vec<f64>>();
    let (x_train, x_test) = (rows.x.select_rows(&idx.train), rows.x.select_rows(&idx.test));
    let (mut y_train, mut y_test) = (pick(&idx.train), pick(&idx.test));
    let mut pre = pre.clone();
    pre.fit_scaling(&x_train, &y_train);
    if pre.task == Task::Regression {
        for v in y_train.iter_mut().chain(y_test.iter_mut()) {
            *v = (*v - pre.target_mean) / pre.target_scale;
        }
    }
    Ok(SplitData { x_train: pre.scale_inputs(&x_train).to_f32(), x_test: pre.scale_inputs(&x_test).to_f32(), pre, y_train, y_test })
}

/// The network: hidden Dense layers (He uniform) and the head (Glorot uniform), weights from `seed`.
pub fn network(inputs: usize, head: Head, opts: &TrainOptions, seed: u64) -> Sequential<f32> {
    let mut layers: Vec<Dense> = opts
        .hidden
        .iter()
        .map(|&u| Dense::new(u).activation(opts.activation).kernel_initializer(Init::HeUniform))
        .collect();
    layers.push(Dense::new(head.units).activation(head.activation));
    Sequential::with_seed(inputs, layers, seed)
}

/// The metric the task is judged by: accuracy, or MSE on the standardised target.
pub fn task_metric(task: Task) -> Metric {
    if task.is_classification() {
        Metric::Accuracy
    } else {
        Metric::Mse
    }
}

/// Trains `loss` on a split with weights and shuffles from `seed` and evaluates it.
///
/// # Errors
/// A loss that does not fit the task, a formula whose shapes do not fit, or whose value on the first
/// batch is not finite (naming the op), an unknown optimizer, or a training failure.
pub fn train(data: &SplitData, loss: &LossSpec, opts: &TrainOptions, seed: u64, verbose: Verbose) -> Result<Run, String> {
    let task = data.pre.task;
    let classes = data.pre.labels.len();
    let head = head_for(loss, task, classes)?;
    let y_train = encode_targets(&data.y_train, head.targets, classes);
    let y_test = encode_targets(&data.y_test, head.targets, classes);
    let net = network(data.x_train.shape()[1], head, opts, seed);
    if let LossSpec::Formula(f) = loss {
        let rows = opts.batch_size.min(data.x_train.shape()[0]);
        let xb = data.x_train.slice_rows(0, rows);
        let tape = crate::Tape::<f32>::new();
        let p0 = net.forward(&tape, tape.constant(xb)).value();
        let tb = y_train.slice_rows(0, rows);
        f.check_shapes(tb.shape(), p0.shape()).map_err(|e| format!("--loss: {e}"))?;
        if let Some(e) = f.first_non_finite(&to_f64(&tb), &to_f64(&p0)) {
            return Err(format!("--loss: {e}"));
        }
    }
    let optimizer = optimizer(opts)?;
    let metric = task_metric(task);
    let mut model = net.compile_boxed(loss.loss_fn(), optimizer, &[metric]);
    let config = FitConfig::new(opts.epochs)
        .batch_size(opts.batch_size)
        .shuffle(true)
        .validation_data(&data.x_test, &y_test)
        .verbose(verbose)
        .seed(seed);
    let (history, diverged) = match model.fit(&data.x_train, &y_train, config) {
        Ok(h) => (h, None),
        Err(TrainError::Diverged { epoch, batch, loss, history }) => (history, Some(format!("the loss became {loss} at epoch {epoch}, batch {batch}"))),
        Err(e) => return Err(e.to_string()),
    };
    if diverged.is_some() {
        return Ok(Run { model, history, train_metric: f64::NAN, test_metric: f64::NAN, diverged });
    }
    let key = metric.name();
    let train = model.evaluate(&data.x_train, &y_train, 256).map_err(|e| e.to_string())?;
    let test = model.evaluate(&data.x_test, &y_test, 256).map_err(|e| e.to_string())?;
    Ok(Run {
        model,
        history,
        train_metric: train.get(key).copied().unwrap_or(f64::NAN),
        test_metric: test.get(key).copied().unwrap_or(f64::NAN),
        diverged: None,
    })
}

fn to_f64(t: &Tensor<f32>) -> Tensor<f64> {
    Tensor::from_vec(t.data().iter().map(|&v| f64::from(v)).collect(), t.shape())
}

/// The optimizer `opts` names.
fn optimizer(opts: &TrainOptions) -> Result<Box<dyn crate::optim::Optimizer<f32>>, String> {
    let mut config = serde_json::Map::new();
    config.insert("learning_rate".into(), opts.lr.into());
    let name = opts.optimizer.to_ascii_lowercase();
    if matches!(name.as_str(), "sgd" | "rmsprop") {
        config.insert("momentum".into(), opts.momentum.into());
    }
    crate::optim::from_keras_config::<f32>(&name, &config).map_err(|e| format!("--optimizer: {e}"))
}

/// What the report keeps of a run (plain data, so it can leave a worker thread).
pub struct RunSummary {
    /// Final training metric.
    pub train: f64,
    /// Final test metric.
    pub test: f64,
    /// Learning curves.
    pub curves: crate::report::Curves,
    /// Why it stopped early.
    pub diverged: Option<String>,
}

/// The plain-data summary of a run.
pub fn summarise(run: &Run, metric: &str) -> RunSummary {
    RunSummary { train: run.train_metric, test: run.test_metric, curves: super::curves(&run.history, metric), diverged: run.diverged.clone() }
}

/// Trains every (loss, repeat) on up to two threads; results in loss order, then repeat order.
pub fn run_grid(
    pre: &Preprocessing,
    rows: &Prepared,
    losses: &[LossSpec],
    opts: &TrainOptions,
    seeds: &[u64],
) -> Result<Vec<(Vec<RunSummary>, f64)>, String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    // Splits first (they are shared by the losses), so a bad split fails before any training.
    let splits = seeds.iter().map(|&s| split_table(pre, rows, opts.test_fraction, opts.batch_size, s)).collect::<Result<Vec<_>, _>>()?;
    let jobs: Vec<(usize, usize)> = (0..losses.len()).flat_map(|l| (0..seeds.len()).map(move |r| (l, r))).collect();
    let next = AtomicUsize::new(0);
    type Slot = Option<(Result<RunSummary, String>, f64)>;
    let metric = task_metric(pre.task).name();
    let slots: Mutex<Vec<Slot>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(&(l, r)) = jobs.get(i) else { break };
        let start = Instant::now();
        let run = train(&splits[r], &losses[l], opts, seeds[r], Verbose::Silent).map(|run| summarise(&run, metric));
        slots.lock().unwrap_or_else(|p| p.into_inner())[i] = Some((run, start.elapsed().as_secs_f64()));
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(jobs.len()).max(1);
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(work);
        }
        work();
    });
    let mut out: Vec<(Vec<RunSummary>, f64)> = (0..losses.len()).map(|_| (Vec::new(), 0.0)).collect();
    for (slot, &(l, _)) in slots.into_inner().unwrap_or_else(|p| p.into_inner()).into_iter().zip(&jobs) {
        let (run, secs) = slot.expect("every job ran");
        out[l].0.push(run.map_err(|e| format!("{}: {e}", losses[l].label()))?);
        out[l].1 += secs;
    }
    Ok(out)
}

