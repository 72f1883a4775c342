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
    /// List every loss in the registry with its formula and options.
    Losses,
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
        /// The loss, by registry name (e.g. binary_crossentropy, mse).
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
    /// Rebuild a model saved by `study --save` and print its train and test metric.
    Evaluate {
        /// The .safetensors file.
        #[arg(long)]
        model: PathBuf,
    },
    /// Print a saved model's predictions for the rows of a CSV file (with a header row).
    Predict {
        /// The .safetensors file.
        #[arg(long)]
        model: PathBuf,
        /// The CSV file.
        #[arg(long)]
        csv: PathBuf,
        /// Input columns by name, comma-separated (default: every column).
        #[arg(long, value_delimiter = ',')]
        features: Vec<String>,
    },
}

fn main() -> ExitCode {
    cli::quiet_panics();
    let cli = Cli::parse();
    let result = match cli.command {
        None => cli::study::run(&cli::study::StudyArgs::default()),
        Some(Command::Study(args)) => cli::study::run(&args),
        Some(Command::Losses) => cli::losses::list(),
        Some(Command::Gradcheck { batch, seed }) => cli::losses::gradcheck_all(batch, seed),
        Some(Command::Graph { loss, batch, out }) => cli::losses::graph(&loss, batch, out.as_deref()),
        Some(Command::Bench { json, quick }) => cli::bench(json.as_deref(), quick),
        Some(Command::Evaluate { model }) => cli::model::evaluate(&model),
        Some(Command::Predict { model, csv, features }) => cli::model::predict(&model, &csv, &features),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
