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
    /// Leave out the real-data chapter (bundled data sets) and the synthetic repeats of a full run.
    #[arg(long)]
    pub no_real_data: bool,
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
            no_real_data: false,
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
    if args.names.is_empty() && !args.no_real_data {
        real_chapter(args, &data)?;
        regularization_chapter(args)?;
    }
    println!("report written to {}", paths.markdown.display());
    Ok(())
}

/// The real-data chapter and the synthetic repeats, appended to the report.
fn real_chapter(args: &StudyArgs, data: &StudyData) -> Result<(), String> {
    use tapegrad::study::real::{run_real, run_synthetic_repeats, REAL};
    let start = std::time::Instant::now();
    let mut sections = Vec::new();
    for e in REAL {
        let s = run_real(e, args.repeats, args.epochs.unwrap_or(e.epochs))?;
        println!("\n{} ({} repeats)\n{}", s.title, args.repeats, tapegrad::report::compare_table(&s.metric, &s.losses));
        sections.push(s);
    }
    let synthetic = run_synthetic_repeats(data, args.repeats, args.seed, args.epochs).map_err(|e| e.to_string())?;
    for s in &synthetic {
        for l in &s.losses {
            let finite = l.test.iter().filter(|v| v.is_finite()).count();
            let modes = match tapegrad::report::modes_note(&s.metric, &l.test) {
                Some(note) => note,
                None if finite == 0 => "every run diverged".into(),
                None => "no split into modes".into(),
            };
            println!("{:<34} {} over {} seeds: {modes}", s.name, s.metric, l.test.len());
        }
    }
    sections.extend(synthetic);
    let intro = format!(
        "The tutorial's comparison on real data sets bundled with tapegrad (`data/`, with their sources and licences), \
         each loss over {} seeds, beside PyTorch and scikit-learn with the same protocol; then the synthetic \
         extensions over seeds, where one seed can mislead. Chapter time: {:.1} s.",
        args.repeats,
        start.elapsed().as_secs_f64()
    );
    tapegrad::report::append_chapter(&args.out, "Real data, and the extensions over seeds", &intro, &sections, !args.no_plots)
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The regularisation group (plain, L2, dropout, batch normalisation, early stopping on a small
/// make_circles split), appended to the report with one figure of every variant's validation loss.
fn regularization_chapter(args: &StudyArgs) -> Result<(), String> {
    use tapegrad::study::regularization::run_group;
    let start = std::time::Instant::now();
    let mut group = run_group(args.repeats.min(5), args.seed)?;
    let s = &mut group.section;
    println!("\n{}\n{}", s.title, tapegrad::report::compare_table(&s.metric, &s.losses));
    if !args.no_plots {
        let dir = args.out.join("plots");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let file = "regularization_val_loss.png";
        tapegrad::report::plot_lines(dir.join(file), "validation loss per variant (first seed)", "epoch", "validation loss", &group.val_loss)
            .map_err(|e| e.to_string())?;
        s.extra.push_str(&format!("\n![validation loss of every variant, side by side (first seed)](plots/{file})\n"));
    }
    let intro = format!(
        "The tools of the chapters around the tutorial (weight penalties, dropout, batch normalisation, early stopping) on an \
         over-fitting MLP, side by side. Chapter time: {:.1} s.",
        start.elapsed().as_secs_f64()
    );
    tapegrad::report::append_chapter(&args.out, "Regularisation", &intro, std::slice::from_ref(&group.section), !args.no_plots)
        .map_err(|e| e.to_string())?;
    Ok(())
}
