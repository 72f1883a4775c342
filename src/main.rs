//! `tapegrad`: the loss-function study and the tools around it. Run `tapegrad --help`.

mod cli;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// tapegrad: a tape-based autodiff framework, and the Keras loss-function tutorial reproduced with it.
#[derive(Parser)]
#[command(name = "tapegrad", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the tutorial's loss-function study and write the report (the default command).
    Study(cli::study::StudyArgs),
    /// List every loss in the registry with its formula and options, or gradcheck a formula.
    Losses {
        /// Gradcheck this loss formula over t and p on random batches and print the errors.
        #[arg(long, value_name = "FORMULA", allow_hyphen_values = true)]
        check: Option<String>,
    },
    /// Train one model on a CSV file or bundled data set and write a report.
    Fit(cli::table::FitArgs),
    /// Compare losses on a CSV file or bundled data set over repeated seeds and write a report.
    Compare(cli::table::CompareArgs),
    /// Gradcheck every loss on random batches and print the largest errors.
    Gradcheck {
        /// Rows per random batch.
        #[arg(long, default_value_t = 4)]
        batch: usize,
        /// Seed of the random batches.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Write the recorded graph of a loss on a small random batch as Graphviz DOT.
    Graph {
        /// The loss, by registry name (e.g. binary_crossentropy, mse) or as a formula over t and p.
        #[arg(allow_hyphen_values = true)]
        loss: String,
        /// Rows in the batch.
        #[arg(long, default_value_t = 2)]
        batch: usize,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Measure the performance figures (op overhead, step ratios, MLP GFLOP/s, study time, memory).
    Bench {
        /// Also write the figures as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Fewer, shorter samples (a smoke run; the study is left out).
        #[arg(long)]
        quick: bool,
    },
    /// Print a saved model's metric: on a labelled CSV (`--csv`, for a model saved by `fit`), or on
    /// its study data (a model saved by `study --save`).
    Evaluate {
        /// The .safetensors file.
        #[arg(long)]
        model: PathBuf,
        /// A labelled CSV file.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// The target column (default: the one the model was trained on).
        #[arg(long)]
        target: Option<String>,
        /// The CSV field separator: one character, or `tab`.
        #[arg(long, default_value = ",")]
        delimiter: String,
        /// Load a model even when its weights hold NaN or infinity.
        #[arg(long)]
        allow_nonfinite: bool,
    },
    /// Print a saved model's predictions for the rows of a CSV file (with a header row).
    Predict {
        /// The .safetensors file.
        #[arg(long)]
        model: PathBuf,
        /// The CSV file.
        #[arg(long)]
        csv: PathBuf,
        /// Input columns by name, comma-separated (default: every column; a model saved by `fit`
        /// finds its own columns by name).
        #[arg(long, value_delimiter = ',')]
        features: Vec<String>,
        /// Write the predictions as CSV (full precision) to this file instead of printing them.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The CSV field separator: one character, or `tab`.
        #[arg(long, default_value = ",")]
        delimiter: String,
        /// Load a model even when its weights hold NaN or infinity.
        #[arg(long)]
        allow_nonfinite: bool,
    },
}

fn main() -> ExitCode {
    cli::quiet_panics();
    let cli = Cli::parse();
    let result = match cli.command {
        None => cli::study::run(&cli::study::StudyArgs::default()),
        Some(Command::Study(args)) => cli::study::run(&args),
        Some(Command::Losses { check: None }) => cli::losses::list(),
        Some(Command::Losses { check: Some(formula) }) => cli::losses::check_formula(&formula),
        Some(Command::Fit(args)) => cli::table::fit(&args),
        Some(Command::Compare(args)) => cli::table::compare(&args),
        Some(Command::Gradcheck { batch, seed }) => cli::losses::gradcheck_all(batch, seed),
        Some(Command::Graph { loss, batch, out }) => cli::losses::graph(&loss, batch, out.as_deref()),
        Some(Command::Bench { json, quick }) => cli::bench(json.as_deref(), quick),
        Some(Command::Evaluate { model, csv: None, allow_nonfinite, .. }) => cli::model::evaluate(&model, allow_nonfinite),
        Some(Command::Evaluate { model, csv: Some(csv), target, delimiter, allow_nonfinite }) => {
            cli::model::evaluate_csv(&model, &csv, target.as_deref(), &delimiter, allow_nonfinite)
        }
        Some(Command::Predict { model, csv, features, out, delimiter, allow_nonfinite }) => {
            cli::model::predict(&model, &csv, &features, out.as_deref(), &delimiter, allow_nonfinite)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
