//! `tapegrad fit` and `tapegrad compare`: the tutorial's study on any CSV or bundled data set.

use clap::Args;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tapegrad::data::{dataset, parse_table, read_table, CsvOptions, Prepared, Preprocessing, TabularOptions, Table, Task};
use tapegrad::io::{preprocessing_to_json, save_model, PREPROCESSING_KEY};
use tapegrad::nn::Activation;
use tapegrad::report::{write_compare_report, CompareSection, LossRuns};
use tapegrad::study::tabular::{head_for, run_grid, split_table, summarise, task_metric, train, LossSpec, RunSummary, TargetForm, TrainOptions};
use tapegrad::study::Run;
use tapegrad::train::Verbose;

/// Where the rows come from and how to read them.
#[derive(Args, Clone, Debug, Default)]
pub struct DataArgs {
    /// The CSV file (with a header row).
    #[arg(long, conflicts_with = "dataset")]
    pub csv: Option<PathBuf>,
    /// A bundled data set instead of --csv: iris, wine, breast_cancer, diabetes, digits.
    #[arg(long)]
    pub dataset: Option<String>,
    /// The target column (default with --dataset: the data set's).
    #[arg(long)]
    pub target: Option<String>,
    /// Feature columns, comma-separated (default: every column but the target).
    #[arg(long, value_delimiter = ',')]
    pub features: Vec<String>,
    /// regression, binary or multiclass (default: inferred from the target column).
    #[arg(long)]
    pub task: Option<String>,
    /// The field separator: one character, or `tab`.
    #[arg(long, default_value = ",")]
    pub delimiter: String,
    /// Skip rows with an empty cell in a used column (default: such a cell is an error).
    #[arg(long)]
    pub drop_missing: bool,
}

/// How each model trains.
#[derive(Args, Clone, Debug)]
pub struct TrainArgs {
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "50")]
    pub hidden: Vec<usize>,
    /// Hidden activation: relu, tanh, sigmoid, linear.
    #[arg(long, default_value = "relu")]
    pub activation: String,
    /// sgd, adam, rmsprop or adagrad.
    #[arg(long, default_value = "sgd")]
    pub optimizer: String,
    /// Learning rate.
    #[arg(long, default_value_t = 0.01)]
    pub lr: f64,
    /// Momentum (sgd, rmsprop), in [0, 1].
    #[arg(long, default_value_t = 0.9)]
    pub momentum: f64,
    /// Epochs.
    #[arg(long, default_value_t = 200)]
    pub epochs: usize,
    /// Rows per batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Share of rows held out for testing, in (0, 1).
    #[arg(long, default_value_t = 0.3)]
    pub test_fraction: f64,
    /// Seed of the split, the weights and the shuffles (repeats use seed, seed+1, ...).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Options of `tapegrad fit`.
#[derive(Args, Clone, Debug)]
pub struct FitArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub train: TrainArgs,
    /// A registry loss or a formula over t and p (default: mse, binary_crossentropy or
    /// categorical_crossentropy by task). A formula may start with a minus: `--loss "-mean(t * log(p))"`.
    #[arg(long, allow_hyphen_values = true)]
    pub loss: Option<String>,
    /// Save the trained model (with its scaling and encodings) to this .safetensors file.
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Directory for the report.
    #[arg(long, default_value = "fit_report")]
    pub out: PathBuf,
    /// Skip the PNG figures.
    #[arg(long)]
    pub no_plots: bool,
}

/// Options of `tapegrad compare`.
#[derive(Args, Clone, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub train: TrainArgs,
    /// Losses, comma-separated: registry names or formulas (commas inside parentheses belong to the
    /// formula). Default: the main job's four for the task.
    #[arg(long, allow_hyphen_values = true)]
    pub losses: Option<String>,
    /// Runs per loss, each with its own seed (split, weights, shuffles).
    #[arg(long, default_value_t = 10)]
    pub repeats: usize,
    /// Directory for the report.
    #[arg(long, default_value = "compare_report")]
    pub out: PathBuf,
    /// Skip the PNG figures.
    #[arg(long)]
    pub no_plots: bool,
}

/// The table, the name to show for it, and the target column.
fn load(d: &DataArgs) -> Result<(Table, String, String), String> {
    let options = csv_options(&d.delimiter)?;
    match (&d.csv, &d.dataset) {
        (Some(path), None) => {
            let target = d.target.clone().ok_or("--target COLUMN is needed with --csv")?;
            let table = read_table(path, options).map_err(|e| match e {
                tapegrad::data::CsvError::Io { .. } => e.to_string(),
                _ => format!("{}: {e}", path.display()),
            })?;
            Ok((table, path.display().to_string(), target))
        }
        (None, Some(name)) => {
            let ds = dataset(name)?;
            let table = parse_table(ds.csv, CsvOptions::default()).map_err(|e| format!("{name}: {e}"))?;
            Ok((table, format!("the bundled {name} data set"), d.target.clone().unwrap_or_else(|| ds.target.to_string())))
        }
        _ => Err("give the rows with --csv FILE --target COLUMN or with --dataset NAME".into()),
    }
}

/// `--delimiter`: one ASCII character, or `tab`.
pub fn csv_options(text: &str) -> Result<CsvOptions, String> {
    let delimiter = match text {
        "tab" | "\\t" | "\t" => b'\t',
        s if s.len() == 1 && s.is_ascii() && s != "\"" && s != "\n" && s != "\r" => s.as_bytes()[0],
        s => return Err(format!("--delimiter must be one ASCII character other than a quote or line break (or `tab`), got {s:?}")),
    };
    Ok(CsvOptions { delimiter })
}

/// Reads a CSV file; errors name the file, line and column.
pub fn read_csv_file(path: &Path, delimiter: &str) -> Result<Table, String> {
    read_table(path, csv_options(delimiter)?).map_err(|e| match e {
        tapegrad::data::CsvError::Io { .. } => e.to_string(),
        _ => format!("{}: {e}", path.display()),
    })
}

/// Reads and encodes the rows; prints what was inferred.
pub fn prepare(d: &DataArgs) -> Result<(Preprocessing, Prepared, String), String> {
    let (table, source, target) = load(d)?;
    let task = d.task.as_deref().map(Task::from_name).transpose().map_err(|e| format!("--task: {e}"))?;
    let opts = TabularOptions { target, features: d.features.clone(), task, drop_missing: d.drop_missing };
    let (pre, rows) = Preprocessing::prepare(&table, &opts).map_err(|e| format!("{source}: {e}"))?;
    Ok((pre, rows, source))
}

fn train_options(t: &TrainArgs) -> Result<TrainOptions, String> {
    if t.epochs == 0 {
        return Err("--epochs must be at least 1".into());
    }
    if t.batch_size == 0 {
        return Err("--batch-size must be at least 1".into());
    }
    if !(t.test_fraction > 0.0 && t.test_fraction < 1.0) {
        return Err(format!("--test-fraction must be strictly between 0 and 1, got {}", t.test_fraction));
    }
    if !(0.0..=1.0).contains(&t.momentum) {
        return Err(format!("--momentum must be between 0 and 1 (as Keras' SGD requires), got {}", t.momentum));
    }
    if t.hidden.contains(&0) {
        return Err("--hidden: every layer needs at least 1 unit".into());
    }
    if !(t.lr > 0.0 && t.lr.is_finite()) {
        return Err(format!("--lr must be a positive number, got {}", t.lr));
    }
    let activation: Activation = t.activation.parse().map_err(|e| format!("--activation: {e}"))?;
    Ok(TrainOptions {
        hidden: t.hidden.clone(),
        activation,
        optimizer: t.optimizer.clone(),
        lr: t.lr,
        momentum: t.momentum,
        epochs: t.epochs,
        batch_size: t.batch_size,
        test_fraction: t.test_fraction,
    })
}

/// The losses of a `--losses` list: split at commas outside parentheses.
pub fn split_losses(text: &str) -> Vec<String> {
    let (mut out, mut depth, mut cur) = (Vec::new(), 0i32, String::new());
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth <= 0 => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur.trim().to_string());
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

/// The default losses of a task (the main job's).
pub fn default_losses(task: Task) -> &'static [&'static str] {
    match task {
        Task::Regression => &["mean_squared_error", "mean_absolute_error", "huber", "mean_squared_logarithmic_error"],
        Task::Binary => &["binary_crossentropy", "hinge", "squared_hinge", "binary_focal_crossentropy"],
        Task::Multiclass => &["categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence", "categorical_hinge"],
    }
}

/// Parses losses and checks each fits the task, before anything trains.
fn parse_losses(texts: &[String], pre: &Preprocessing) -> Result<Vec<LossSpec>, String> {
    texts
        .iter()
        .map(|t| {
            let spec = LossSpec::parse(t)?;
            head_for(&spec, pre.task, pre.labels.len()).map_err(|e| format!("--loss: {e}"))?;
            Ok(spec)
        })
        .collect()
}

fn protocol_line(o: &TrainOptions, rows: usize, pre: &Preprocessing) -> String {
    format!(
        "Protocol: {} rows, {} inputs; {}split {:.0}/{:.0} (seeded as scikit-learn's train_test_split); features standardised with the training rows' statistics{}; Dense({}, {}) -> output; {} lr {} momentum {}, batch {}, {} epochs.",
        rows,
        pre.input_width(),
        if pre.task.is_classification() { "stratified " } else { "" },
        100.0 * (1.0 - o.test_fraction),
        100.0 * o.test_fraction,
        if pre.task == Task::Regression { " (the target too: the metric is the MSE of the standardised target)" } else { "" },
        o.hidden.iter().map(usize::to_string).collect::<Vec<_>>().join(", "),
        o.activation.name(),
        o.optimizer,
        o.lr,
        o.momentum,
        o.batch_size,
        o.epochs
    )
}

/// `tapegrad fit`.
pub fn fit(a: &FitArgs) -> Result<(), String> {
    let opts = train_options(&a.train)?;
    let (pre, rows, source) = prepare(&a.data)?;
    println!("{source}: {} rows{}; {}", rows.y.len(), dropped(&rows), rows.inferred);
    let default = default_losses(pre.task)[0].to_string();
    let losses = parse_losses(&[a.loss.clone().unwrap_or(default)], &pre)?;
    let loss = &losses[0];
    let data = split_table(&pre, &rows, opts.test_fraction, opts.batch_size, a.train.seed)?;
    let start = Instant::now();
    let run = train(&data, loss, &opts, a.train.seed, Verbose::Auto)?;
    let metric = task_metric(pre.task).name();
    println!("{}: Train {metric}: {:.3}, Test {metric}: {:.3}", loss.label(), run.train_metric, run.test_metric);
    if let Some(why) = &run.diverged {
        println!("diverged: {why}");
    }
    if let Some(path) = &a.save {
        save(path, &run, loss, &data.pre, a.train.seed)?;
        println!("model saved to {}", path.display());
    }
    let runs = to_runs(loss, 0, &[summarise(&run, metric)], start.elapsed().as_secs_f64());
    let section = CompareSection {
        name: "fit".into(),
        title: format!("{} on {source}", loss.label()),
        intro: vec![rows.inferred.clone(), protocol_line(&opts, rows.y.len(), &pre)],
        metric: metric.into(),
        losses: vec![runs],
        extra: String::new(),
    };
    let path = write_compare_report(&a.out, "tapegrad fit", &[section], !a.no_plots).map_err(|e| e.to_string())?;
    println!("report written to {}", path.display());
    Ok(())
}

fn dropped(rows: &Prepared) -> String {
    if rows.dropped > 0 {
        format!(" ({} with empty cells dropped)", rows.dropped)
    } else {
        String::new()
    }
}

fn to_runs(loss: &LossSpec, index: usize, runs: &[RunSummary], seconds: f64) -> LossRuns {
    LossRuns {
        name: loss.file_stem(index),
        label: loss.label(),
        train: runs.iter().map(|r| r.train).collect(),
        test: runs.iter().map(|r| r.test).collect(),
        curves: runs[0].curves.clone(),
        seconds,
        notes: runs.iter().enumerate().filter_map(|(i, r)| r.diverged.as_ref().map(|w| format!("repeat {i}: {w}"))).collect(),
    }
}

fn target_form_name(f: TargetForm) -> &'static str {
    match f {
        TargetForm::Value => "value",
        TargetForm::ZeroOne => "zero_one",
        TargetForm::Sign => "sign",
        TargetForm::OneHot => "one_hot",
        TargetForm::ClassId => "class_id",
    }
}

/// Saves a model trained on a table with everything `predict` and `evaluate` need.
fn save(path: &Path, run: &Run, loss: &LossSpec, pre: &Preprocessing, seed: u64) -> Result<(), String> {
    let head = head_for(loss, pre.task, pre.labels.len())?;
    let meta: BTreeMap<String, String> = [
        ("loss", loss.label()),
        ("metric", task_metric(pre.task).name().to_string()),
        ("task", pre.task.name().to_string()),
        ("targets", target_form_name(head.targets).to_string()),
        ("seed", seed.to_string()),
        (PREPROCESSING_KEY, preprocessing_to_json(pre)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    super::ensure_parent(path, "--save")?;
    save_model(path, run.model.net(), &meta).map_err(|e| format!("--save {}: {e}", path.display()))
}

/// `tapegrad compare`.
pub fn compare(a: &CompareArgs) -> Result<(), String> {
    let opts = train_options(&a.train)?;
    if a.repeats == 0 {
        return Err("--repeats must be at least 1".into());
    }
    let (pre, rows, source) = prepare(&a.data)?;
    println!("{source}: {} rows{}; {}", rows.y.len(), dropped(&rows), rows.inferred);
    let texts: Vec<String> = match &a.losses {
        Some(t) => split_losses(t),
        None => default_losses(pre.task).iter().map(|s| s.to_string()).collect(),
    };
    if texts.is_empty() {
        return Err("--losses: no loss given".into());
    }
    let losses = parse_losses(&texts, &pre)?;
    let seeds: Vec<u64> = (0..a.repeats as u64).map(|r| a.train.seed + r).collect();
    let metric = task_metric(pre.task).name();
    let grid = run_grid(&pre, &rows, &losses, &opts, &seeds)?;
    let all: Vec<LossRuns> = grid.iter().zip(&losses).enumerate().map(|(i, ((runs, secs), l))| to_runs(l, i, runs, *secs)).collect();
    println!("\n{}", tapegrad::report::compare_table(metric, &all));
    if let Some(sentence) = tapegrad::report::best_loss_sentence(metric, &all) {
        let plain = sentence.replace("**", "").replace('`', "");
        println!("best{}", plain.strip_prefix("Best").unwrap_or(&plain));
    }
    let section = CompareSection {
        name: "compare".into(),
        title: format!("{} losses on {source}, {} repeats", losses.len(), a.repeats),
        intro: vec![rows.inferred.clone(), protocol_line(&opts, rows.y.len(), &pre)],
        metric: metric.into(),
        losses: all,
        extra: String::new(),
    };
    let path = write_compare_report(&a.out, "tapegrad compare", &[section], !a.no_plots).map_err(|e| e.to_string())?;
    println!("report written to {}", path.display());
    Ok(())
}
