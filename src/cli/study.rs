//! `tapegrad study`: runs the experiments and writes the report.

use clap::Args;
use std::path::PathBuf;
use tapegrad::report::{self, ReportOptions};
use tapegrad::study::{self, Experiment, Run, StudyData, StudyOptions};
use tapegrad::train::Verbose;

/// Options of `tapegrad study`.
#[derive(Args, Clone, Debug)]
pub struct StudyArgs {
    /// Experiments to run (default: all). `repeated` runs the repeated evaluation.
    pub names: Vec<String>,
    /// Epochs for every experiment (default: the tutorial's, 100 or 200).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Seeds per loss in the repeated evaluation.
    #[arg(long, default_value_t = 10)]
    pub repeats: usize,
    /// Seed of the weights and shuffles (the repeated runs use seed, seed+1, ...).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Directory for the report.
    #[arg(long, default_value = "report")]
    pub out: PathBuf,
    /// Skip the PNG figures.
    #[arg(long)]
    pub no_plots: bool,
    /// Show a progress bar per epoch (on a terminal).
    #[arg(long)]
    pub verbose: bool,
    /// Save each trained model as DIR/NAME.safetensors (repeated runs as NAME_seedN).
    #[arg(long, value_name = "DIR")]
    pub save: Option<PathBuf>,
}

impl Default for StudyArgs {
    fn default() -> Self {
        StudyArgs {
            names: Vec::new(),
            epochs: None,
            repeats: 10,
            seed: 1,
            out: PathBuf::from("report"),
            no_plots: false,
            verbose: false,
            save: None,
        }
    }
}

/// Runs the study and writes the report.
pub fn run(args: &StudyArgs) -> Result<(), String> {
    if args.epochs == Some(0) {
        return Err("--epochs must be at least 1".into());
    }
    if args.repeats == 0 {
        return Err("--repeats must be at least 1".into());
    }
    let plan = study::plan(&args.names, args.repeats).map_err(|e| e.to_string())?;
    let data = StudyData::generate();
    let opts = StudyOptions {
        epochs: args.epochs,
        seed: args.seed,
        verbose: if args.verbose { Verbose::Auto } else { Verbose::Silent },
    };
    let save = |e: &Experiment, repeats: usize, run: &Run, seed: u64| -> Result<(), String> {
        match &args.save {
            Some(dir) => {
                let stem = if repeats > 1 { format!("{}_{}_seed{seed}", study::REPEATED_NAME, e.name) } else { e.name.to_string() };
                super::model::save_run(dir, &stem, e, seed, run)
            }
            None => Ok(()),
        }
    };
    // Experiments are independent: spread them over the cores (progress bars want one thread).
    let threads = if args.verbose { 1 } else { std::thread::available_parallelism().map_or(1, |n| n.get()) };
    let results = study::run_plan(&plan, &data, &opts, threads, &save).map_err(|e| e.to_string())?;
    for r in &results {
        println!("{:<34} {}", r.name, report::tutorial_line(r));
        for n in &r.notes {
            println!("{:<34}   diverged: {n}", "");
        }
    }
    println!("\n{}", report::summary_table(&results));
    let paths = report::write_report(&args.out, &results, &data.scatter, ReportOptions { plots: !args.no_plots })
        .map_err(|e| e.to_string())?;
    println!("report written to {}", paths.markdown.display());
    Ok(())
}
