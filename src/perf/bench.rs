//! `tapegrad bench`: every performance figure of the project measured in one process, with its
//! target and the peers' numbers beside it.

use super::autodiff_figures::{self, CheckpointFigures};
use super::figures::{self, SmallMlp};
use super::layer_figures;
use std::fmt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How `run_bench` times the study.
pub enum StudyRun {
    /// Spawns `std::env::current_exe()` with `study <the tutorial's nine> --no-plots --out <temp dir>`: the whole
    /// process, start-up and output included. Counts as unsupported (`None`) when the command
    /// fails or writes nothing into the directory.
    SpawnSelf,
    /// Spawns this program with these arguments, then `--out <temp dir>` (as `SpawnSelf`).
    Spawn(PathBuf, Vec<String>),
    /// Calls this function in-process instead (no process start-up, no peak RSS).
    Closure(Box<dyn Fn() -> Result<(), String>>),
    /// Leaves the study out.
    Skip,
}

/// What `run_bench` measures and how long it tries.
pub struct BenchOptions {
    /// Samples per timed figure (medians are taken over them).
    pub samples: usize,
    /// Wall time of one sample of the fast figures (op chain, small steps).
    pub sample_time: Duration,
    /// Runs of the study.
    pub study_runs: usize,
    /// Batch of the large MLP.
    pub mlp_batch: usize,
    /// How the study is timed.
    pub study: StudyRun,
}

impl Default for BenchOptions {
    /// 15 samples of 20 ms, 3 study runs, batch 256, the study spawned from this executable.
    fn default() -> Self {
        BenchOptions { samples: 15, sample_time: Duration::from_millis(20), study_runs: 3, mlp_batch: 256, study: StudyRun::SpawnSelf }
    }
}

impl BenchOptions {
    /// Fewer, shorter samples (about a second in all without the study): for smoke tests.
    pub fn quick() -> Self {
        BenchOptions { samples: 3, sample_time: Duration::from_millis(5), study_runs: 1, mlp_batch: 64, study: StudyRun::Skip }
    }
}

/// Every figure of one bench run. Times are medians; `None` marks a figure that could not be
/// measured here (the study without a `study` command, RSS without `/proc`).
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    /// ns per recorded op, forward + backward, chain of 100 one-element ops.
    pub op_overhead_ns: f64,
    /// The same for a chain of 1000 ops.
    pub op_overhead_ns_1000: f64,
    /// Seconds for the tutorial's nine experiments without plots, whole process.
    pub study_seconds: Option<f64>,
    /// Peak resident memory of the study's process, bytes.
    pub study_peak_rss_bytes: Option<u64>,
    /// Tape step / hand-derived step, 2-50-1 MLP, batch 32.
    pub step_ratio_2_50_1: f64,
    /// Tape step / hand-derived step, 20-25-1 MLP, batch 32.
    pub step_ratio_20_25_1: f64,
    /// Seconds per step `(tape, hand)` for the 2-50-1 and 20-25-1 MLPs.
    pub step_seconds: [(f64, f64); 2],
    /// 784-1024-1024-10 MLP training step, GFLOP/s (matrix products counted).
    pub mlp_gflops: f64,
    /// The same products through raw `sgemm`, GFLOP/s.
    pub sgemm_gflops: f64,
    /// Batch of the MLP figure.
    pub mlp_batch: usize,
    /// RSS at epoch 100 minus RSS at epoch 10 of a fit, bytes.
    pub rss_growth_bytes: Option<i64>,
    /// Growth of the tape's capacity over the same epochs `(values, nodes)`.
    pub tape_growth: (i64, i64),
    /// Seconds `(JVP, forward alone)` through the 784-1024-1024-10 MLP, f32, batch `mlp_batch`.
    pub jvp_seconds: (f64, f64),
    /// Seconds `(forward + backward, hvp forward-over-reverse, hvp reverse-over-reverse)` on the
    /// 2-50-1 MLP loss, f64, batch 32.
    pub hvp_seconds: (f64, f64, f64),
    /// Checkpointing every 4 layers of a 32-layer, width-256 MLP at batch 256, f32.
    pub checkpoint: CheckpointFigures,
    /// Seconds per training step `(with BatchNormalization and Dropout, without)` of the
    /// 784-256-256-10 MLP, f32, batch `mlp_batch`.
    pub bn_dropout_seconds: (f64, f64),
    /// Peak resident memory of this process, bytes.
    pub bench_peak_rss_bytes: Option<u64>,
    /// The machine, as `/proc/cpuinfo` names it, and its thread count.
    pub machine: String,
}

/// The targets of issue 7.
pub mod targets {
    /// ns per op, upper bound.
    pub const OP_OVERHEAD_NS: f64 = 100.0;
    /// Seconds for the study, upper bound.
    pub const STUDY_SECONDS: f64 = 0.3;
    /// Tape step / hand step, upper bound.
    pub const STEP_RATIO: f64 = 1.5;
    /// MLP GFLOP/s / sgemm GFLOP/s, lower bound.
    pub const MLP_SGEMM_RATIO: f64 = 0.9;
    /// Peak RSS of the study, upper bound in bytes.
    pub const STUDY_PEAK_RSS: u64 = 30 * 1024 * 1024;
    /// JVP through the MLP / its forward pass, upper bound.
    pub const JVP_RATIO: f64 = 2.0;
    /// Hessian-vector product / one forward + backward pass, upper bound.
    pub const HVP_RATIO: f64 = 2.5;
}

/// The peers' figures, recorded (not measured by this run) on the project's 2-core AMD EPYC
/// machine in November 2026 by the scripts in `benches/peers/`, which re-measure them.
pub mod peers {
    /// When and where the figures below were recorded.
    pub const RECORDED: &str = "recorded 2026-11 on the project's 2-core AMD EPYC; benches/peers/ re-measures";
    /// PyTorch eager, ns per recorded elementwise op.
    pub const TORCH_OP_NS: f64 = 7800.0;
    /// micrograd, ns per scalar op.
    pub const MICROGRAD_OP_NS: f64 = 5500.0;
    /// PyTorch, seconds for the nine experiments.
    pub const TORCH_STUDY_S: f64 = 9.4;
    /// Keras 3, seconds for the nine experiments (fastest of its range).
    pub const KERAS_STUDY_S: f64 = 139.0;
    /// PyTorch, GFLOP/s on the large MLP.
    pub const TORCH_MLP_GFLOPS: f64 = 155.0;
    /// matrixmultiply's sgemm at 1024³, 2 threads, GFLOP/s.
    pub const SGEMM_GFLOPS: f64 = 165.0;
    /// PyTorch, ms per step of the 784-256-256-10 MLP at batch 256 `(with BatchNorm1d and
    /// Dropout, without)`, 2 threads (`bn_dropout_torch.py`, 2026-11-26 01:45 UTC, machine
    /// loaded: see `docs/performance.md`).
    pub const TORCH_BN_DROPOUT_MS: (f64, f64) = (52.35, 33.79);
}

/// Runs every figure (see [`BenchOptions`]); takes tens of seconds with the defaults.
///
/// ```
/// use std::time::Duration;
/// use tapegrad::perf::{run_bench, BenchOptions};
/// // A smoke run; `BenchOptions::default()` takes the real medians (and times the study).
/// let opts = BenchOptions { samples: 1, sample_time: Duration::from_millis(1), mlp_batch: 8, ..BenchOptions::quick() };
/// let report = run_bench(&opts);
/// assert!(report.op_overhead_ns > 0.0 && report.study_seconds.is_none());
/// println!("{report}");
/// let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
/// assert!(json["mlp_gflops"].as_f64().unwrap() > 0.0);
/// ```
pub fn run_bench(options: &BenchOptions) -> BenchReport {
    let (samples, st) = (options.samples.max(1), options.sample_time);
    // The study first: the children's peak RSS is then the study's own.
    let (study_seconds, study_peak_rss_bytes) = time_study(&options.study, options.study_runs.max(1));
    let op_overhead_ns = figures::op_overhead_ns(100, samples, st);
    let op_overhead_ns_1000 = figures::op_overhead_ns(1000, samples, st);
    let a = figures::step_ratio(SmallMlp::Circles2x50x1, samples, st);
    let b = figures::step_ratio(SmallMlp::Regression20x25x1, samples, st);
    let (mlp_gflops, sgemm_gflops) = figures::mlp_vs_sgemm(options.mlp_batch, samples);
    let (rss_growth_bytes, values, nodes) = figures::fit_memory_growth();
    let jvp_seconds = autodiff_figures::jvp_vs_forward(options.mlp_batch, samples);
    let hvp_seconds = autodiff_figures::hvp_vs_backward(samples, st);
    let bn_dropout_seconds = layer_figures::bn_dropout_step_seconds(options.mlp_batch, samples);
    let checkpoint = if options.mlp_batch >= 256 {
        autodiff_figures::checkpoint_figures(32, 256, 256, 4, samples.min(5))
    } else {
        autodiff_figures::checkpoint_figures(8, 32, options.mlp_batch, 4, 1)
    };
    BenchReport {
        op_overhead_ns,
        op_overhead_ns_1000,
        study_seconds,
        study_peak_rss_bytes,
        step_ratio_2_50_1: a.2,
        step_ratio_20_25_1: b.2,
        step_seconds: [(a.0, a.1), (b.0, b.1)],
        mlp_gflops,
        sgemm_gflops,
        mlp_batch: options.mlp_batch,
        rss_growth_bytes,
        tape_growth: (values, nodes),
        jvp_seconds,
        hvp_seconds,
        checkpoint,
        bn_dropout_seconds,
        bench_peak_rss_bytes: super::memory().map(|m| m.1),
        machine: machine(),
    }
}

/// Median seconds of `runs` runs of the study, and the peak RSS of a spawned study.
fn time_study(how: &StudyRun, runs: usize) -> (Option<f64>, Option<u64>) {
    let (program, args) = match how {
        StudyRun::Skip => return (None, None),
        StudyRun::Closure(f) => {
            let mut secs = Vec::with_capacity(runs);
            for _ in 0..runs {
                let t = Instant::now();
                if f().is_err() {
                    return (None, None);
                }
                secs.push(t.elapsed().as_secs_f64());
            }
            return (Some(figures::median(&mut secs)), None);
        }
        StudyRun::SpawnSelf => match std::env::current_exe() {
            Ok(exe) => {
                let mut args: Vec<String> = vec!["study".into()];
                args.extend(crate::study::TUTORIAL_NINE.iter().map(|s| s.to_string()));
                args.push("--no-plots".into());
                (exe, args)
            }
            Err(_) => return (None, None),
        },
        StudyRun::Spawn(p, a) => (p.clone(), a.clone()),
    };
    let mut secs = Vec::with_capacity(runs);
    for run in 0..runs {
        // Unique per process and per call: concurrent callers must not share a directory.
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let call = CALLS.fetch_add(1, Ordering::Relaxed);
        let out = std::env::temp_dir().join(format!("tapegrad-bench-study-{}-{call}-{run}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let t = Instant::now();
        let status = Command::new(&program)
            .args(&args)
            .arg("--out")
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let took = t.elapsed().as_secs_f64();
        let wrote = std::fs::read_dir(&out).map(|mut d| d.next().is_some()).unwrap_or(false);
        let _ = std::fs::remove_dir_all(&out);
        if !matches!(status, Ok(s) if s.success()) || !wrote {
            return (None, None);
        }
        secs.push(took);
    }
    (Some(figures::median(&mut secs)), children_peak_rss())
}

/// The largest peak RSS of any child this process has waited for (`getrusage(RUSAGE_CHILDREN)`).
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn children_peak_rss() -> Option<u64> {
    /// Linux's `struct rusage` on 64-bit targets: two `timeval`s, then fourteen `long`s, the
    /// first of which is `ru_maxrss` in KiB.
    #[repr(C)]
    struct RUsage {
        times: [i64; 4],
        fields: [i64; 14],
    }
    extern "C" {
        fn getrusage(who: i32, usage: *mut RUsage) -> i32;
    }
    const RUSAGE_CHILDREN: i32 = -1;
    let mut u = RUsage { times: [0; 4], fields: [0; 14] };
    // SAFETY: `u` has the layout of `struct rusage` on this target and outlives the call.
    let rc = unsafe { getrusage(RUSAGE_CHILDREN, &mut u) };
    (rc == 0 && u.fields[0] > 0).then(|| u.fields[0] as u64 * 1024)
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn children_peak_rss() -> Option<u64> {
    None
}

/// The CPU's model name and the number of threads this process may use.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|m| m.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu}, {threads} threads")
}

impl BenchReport {
    /// The figures as a JSON object: `op_overhead_ns`, `op_overhead_ns_1000`, `study_seconds`,
    /// `step_ratio_2_50_1`, `step_ratio_20_25_1`, `mlp_gflops`, `sgemm_gflops`, `rss_growth_bytes`
    /// (`null` where not measured), then the supporting figures.
    pub fn to_json(&self) -> String {
        let v = serde_json::json!({
            "op_overhead_ns": self.op_overhead_ns,
            "op_overhead_ns_1000": self.op_overhead_ns_1000,
            "study_seconds": self.study_seconds,
            "step_ratio_2_50_1": self.step_ratio_2_50_1,
            "step_ratio_20_25_1": self.step_ratio_20_25_1,
            "mlp_gflops": self.mlp_gflops,
            "sgemm_gflops": self.sgemm_gflops,
            "rss_growth_bytes": self.rss_growth_bytes,
            "study_peak_rss_bytes": self.study_peak_rss_bytes,
            "step_seconds_2_50_1": [self.step_seconds[0].0, self.step_seconds[0].1],
            "step_seconds_20_25_1": [self.step_seconds[1].0, self.step_seconds[1].1],
            "mlp_batch": self.mlp_batch,
            "tape_capacity_growth": [self.tape_growth.0, self.tape_growth.1],
            "bench_peak_rss_bytes": self.bench_peak_rss_bytes,
            "jvp_seconds": [self.jvp_seconds.0, self.jvp_seconds.1],
            "bn_dropout_step_seconds": [self.bn_dropout_seconds.0, self.bn_dropout_seconds.1],
            "hvp_seconds": [self.hvp_seconds.0, self.hvp_seconds.1, self.hvp_seconds.2],
            "checkpoint_step_seconds": [self.checkpoint.step_seconds.0, self.checkpoint.step_seconds.1],
            "checkpoint_peak_tape_bytes": [self.checkpoint.peak_tape_bytes.0, self.checkpoint.peak_tape_bytes.1],
            "checkpoint_identical": self.checkpoint.identical,
            "machine": self.machine,
            "peers": peers::RECORDED,
        });
        serde_json::to_string_pretty(&v).expect("a JSON value always serializes")
    }

    /// `(figure, ours, target, peer, ratio, met)` for each row of the table.
    fn rows(&self) -> Vec<[String; 6]> {
        let mib = |b: u64| format!("{:.1} MiB", b as f64 / 1048576.0);
        let opt = |v: Option<String>| v.unwrap_or_else(|| "n/a".into());
        let met = |ok: Option<bool>| match ok {
            Some(true) => "yes".to_string(),
            Some(false) => "NO".to_string(),
            None => "-".to_string(),
        };
        let op = |ns: f64| {
            [
                format!("{ns:.1} ns"),
                format!("<= {} ns", targets::OP_OVERHEAD_NS),
                format!("torch {} ns, micrograd {} ns", peers::TORCH_OP_NS, peers::MICROGRAD_OP_NS),
                format!("{:.0}x faster than torch", peers::TORCH_OP_NS / ns),
                met(Some(ns <= targets::OP_OVERHEAD_NS)),
            ]
        };
        let step = |r: f64, (t, h): (f64, f64)| {
            [
                format!("{:.2} us / {:.2} us", t * 1e6, h * 1e6),
                format!("<= {}", targets::STEP_RATIO),
                "-".into(),
                format!("{r:.2}"),
                met(Some(r <= targets::STEP_RATIO)),
            ]
        };
        let with = |name: &str, r: [String; 5]| {
            let [a, b, c, d, e] = r;
            [name.to_string(), a, b, c, d, e]
        };
        let mlp_ratio = self.mlp_gflops / self.sgemm_gflops;
        vec![
            with("op overhead, chain of 100", op(self.op_overhead_ns)),
            with("op overhead, chain of 1000", op(self.op_overhead_ns_1000)),
            [
                "study, no plots (whole process)".into(),
                opt(self.study_seconds.map(|s| format!("{s:.3} s"))),
                format!("<= {} s", targets::STUDY_SECONDS),
                format!("torch {} s, keras {}+ s", peers::TORCH_STUDY_S, peers::KERAS_STUDY_S),
                opt(self.study_seconds.map(|s| format!("{:.0}x faster than torch", peers::TORCH_STUDY_S / s))),
                met(self.study_seconds.map(|s| s <= targets::STUDY_SECONDS)),
            ],
            [
                "study peak RSS".into(),
                opt(self.study_peak_rss_bytes.map(mib)),
                format!("<= {}", mib(targets::STUDY_PEAK_RSS)),
                "-".into(),
                "-".into(),
                met(self.study_peak_rss_bytes.map(|b| b <= targets::STUDY_PEAK_RSS)),
            ],
            with("step tape/hand, 2-50-1 b32", step(self.step_ratio_2_50_1, self.step_seconds[0])),
            with("step tape/hand, 20-25-1 b32", step(self.step_ratio_20_25_1, self.step_seconds[1])),
            [
                format!("MLP 784-1024-1024-10 b{} f32", self.mlp_batch),
                format!("{:.1} GFLOP/s", self.mlp_gflops),
                format!(">= {} x sgemm", targets::MLP_SGEMM_RATIO),
                format!("torch {} GFLOP/s", peers::TORCH_MLP_GFLOPS),
                format!("{mlp_ratio:.3} of sgemm"),
                met(Some(mlp_ratio >= targets::MLP_SGEMM_RATIO)),
            ],
            [
                "raw sgemm, same shapes".into(),
                format!("{:.1} GFLOP/s", self.sgemm_gflops),
                "-".into(),
                format!("{} GFLOP/s at 1024^3", peers::SGEMM_GFLOPS),
                format!("{:.2} of peer", self.sgemm_gflops / peers::SGEMM_GFLOPS),
                "-".into(),
            ],
            [
                "RSS growth, fit epoch 10 -> 100".into(),
                opt(self.rss_growth_bytes.map(|b| format!("{b} B"))),
                "0 B".into(),
                "-".into(),
                format!("tape capacity +{} values, +{} nodes", self.tape_growth.0, self.tape_growth.1),
                met(self.rss_growth_bytes.map(|b| b <= 0 && self.tape_growth == (0, 0))),
            ],
            {
                let (j, f) = self.jvp_seconds;
                [
                    format!("JVP / forward, MLP b{} f32", self.mlp_batch),
                    format!("{:.2} ms / {:.2} ms", j * 1e3, f * 1e3),
                    format!("<= {}", targets::JVP_RATIO),
                    "-".into(),
                    format!("{:.2}", j / f),
                    met(Some(j / f <= targets::JVP_RATIO)),
                ]
            },
            {
                let (b, f, r) = self.hvp_seconds;
                [
                    "hvp / backward, 2-50-1 b32 f64".into(),
                    format!("{:.1} us / {:.1} us", f * 1e6, b * 1e6),
                    format!("<= {}", targets::HVP_RATIO),
                    format!("reverse over reverse {:.2}", r / b),
                    format!("{:.2}", f / b),
                    met(Some(f / b <= targets::HVP_RATIO)),
                ]
            },
            {
                let (w, p) = self.bn_dropout_seconds;
                let (tw, tp) = peers::TORCH_BN_DROPOUT_MS;
                [
                    format!("MLP 784-256-256-10 b{} f32, BN+Dropout / plain", self.mlp_batch),
                    format!("{:.2} ms / {:.2} ms", w * 1e3, p * 1e3),
                    "-".into(),
                    format!("torch b256 {tw:.2} ms / {tp:.2} ms ({:.2})", tw / tp),
                    format!("{:.2}", w / p),
                    "-".into(),
                ]
            },
            {
                let c = &self.checkpoint;
                let (l, w, b) = c.shape;
                [
                    format!("checkpoint every {} of {l}x{w} b{b}", c.every),
                    format!("{} -> {}, {:.1} -> {:.1} ms", mib(c.peak_tape_bytes.0 as u64), mib(c.peak_tape_bytes.1 as u64), c.step_seconds.0 * 1e3, c.step_seconds.1 * 1e3),
                    "bit-identical gradients".into(),
                    "-".into(),
                    format!("{:.2}x memory, {:.2}x time", c.peak_tape_bytes.1 as f64 / c.peak_tape_bytes.0 as f64, c.step_seconds.1 / c.step_seconds.0),
                    met(Some(c.identical)),
                ]
            },
        ]
    }
}

impl fmt::Display for BenchReport {
    /// A table: figure, ours, target, peer, ratio, whether the target is met.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = ["figure", "ours", "target", "peer", "ratio", "met"].map(String::from);
        let mut rows = vec![header];
        rows.extend(self.rows());
        let mut widths = [0usize; 6];
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        writeln!(f, "machine: {}", self.machine)?;
        writeln!(f, "peers: {}", peers::RECORDED)?;
        for (i, r) in rows.iter().enumerate() {
            let cells: Vec<String> = r.iter().zip(&widths).map(|(c, &w)| format!("{c:<w$}")).collect();
            writeln!(f, "{}", cells.join(" | ").trim_end())?;
            if i == 0 {
                let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
                writeln!(f, "{}", rule.join("-|-"))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_run_fills_every_figure() {
        let opts = BenchOptions { samples: 1, sample_time: Duration::from_millis(1), mlp_batch: 8, ..BenchOptions::quick() };
        let r = run_bench(&opts);
        assert!(r.op_overhead_ns > 0.0 && r.op_overhead_ns.is_finite());
        assert!(r.step_ratio_2_50_1 > 0.0 && r.step_ratio_20_25_1 > 0.0);
        assert!(r.mlp_gflops > 0.0 && r.sgemm_gflops > 0.0);
        assert_eq!(r.study_seconds, None);
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        for key in ["op_overhead_ns", "op_overhead_ns_1000", "study_seconds", "step_ratio_2_50_1", "step_ratio_20_25_1", "mlp_gflops", "sgemm_gflops", "rss_growth_bytes", "bn_dropout_step_seconds"] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert!(json["study_seconds"].is_null());
        let table = r.to_string();
        assert!(table.contains("op overhead, chain of 100") && table.contains("ratio"));
        assert!(table.contains("BN+Dropout / plain") && r.bn_dropout_seconds.0 > 0.0 && r.bn_dropout_seconds.1 > 0.0);
    }

    #[test]
    fn a_study_command_that_writes_nothing_is_unsupported() {
        let how = StudyRun::Spawn(PathBuf::from("true"), vec![]);
        assert_eq!(time_study(&how, 1), (None, None));
    }

    #[test]
    fn a_study_command_that_writes_its_output_is_timed() {
        let script = r#"mkdir -p "$2" && echo done > "$2/result.txt""#;
        let how = StudyRun::Spawn(PathBuf::from("sh"), vec!["-c".into(), script.into(), "sh".into()]);
        let (s, _) = time_study(&how, 1);
        assert!(s.unwrap() > 0.0);
    }

    #[test]
    fn a_closure_study_is_timed() {
        let how = StudyRun::Closure(Box::new(|| {
            std::thread::sleep(Duration::from_millis(2));
            Ok(())
        }));
        let (s, rss) = time_study(&how, 2);
        assert!(s.unwrap() >= 0.002);
        assert_eq!(rss, None);
    }
}
