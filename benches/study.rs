//! The tutorial's nine experiments without plots, as a process:
//! `tapegrad study <the nine> --no-plots --out <tmp>`.
//! Skipped (with a note) when the binary has no `study` command yet.

use criterion::{criterion_group, criterion_main, Criterion};
use std::process::{Command, Stdio};

fn run(out: &std::path::Path) -> bool {
    let ok = Command::new(env!("CARGO_BIN_EXE_tapegrad"))
        .arg("study")
        .args(tapegrad::study::TUTORIAL_NINE)
        .args(["--no-plots", "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok && std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_some())
}

fn bench(c: &mut Criterion) {
    let out = std::env::temp_dir().join(format!("tapegrad-study-bench-{}", std::process::id()));
    if !run(&out) {
        eprintln!("study: this tapegrad binary has no `study --no-plots --out DIR`; skipped");
        return;
    }
    let mut group = c.benchmark_group("study");
    group.sample_size(10);
    group.bench_function("no_plots_whole_process", |b| b.iter(|| assert!(run(&out))));
    group.finish();
    let _ = std::fs::remove_dir_all(&out);
}

criterion_group!(benches, bench);
criterion_main!(benches);
