//! Every figure in one process, as `tapegrad bench` prints it: `cargo bench --bench report`
//! (set `TAPEGRAD_BENCH_JSON=FILE` to also write the JSON).

use tapegrad::perf::{run_bench, BenchOptions, StudyRun};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let study = StudyRun::Spawn(env!("CARGO_BIN_EXE_tapegrad").into(), vec!["study".into(), "--no-plots".into()]);
    let report = run_bench(&BenchOptions { study, ..BenchOptions::default() });
    println!("{report}");
    if let Ok(path) = std::env::var("TAPEGRAD_BENCH_JSON") {
        std::fs::write(&path, report.to_json()).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
    }
}
