//! Memory bandwidth of elementwise ops and reductions on 1M-element `f32` values, forward only,
//! against a plain copy of the same size (issue 14 asks for at least half of the copy's).
//!
//! Each op is recorded on a reused tape (`Tape::clear` keeps the arena, so no allocation and no
//! zeroing happens in steady state); its inputs are written onto the tape before the clock starts,
//! and only the op's recording (its forward kernel) is timed. Bytes counted: what the op must
//! read and write, 4 bytes per element (copy and unary ops read 1 and write 1, binary ops read 2
//! and write 1, full reductions read 1). Criterion reports each as throughput; a summary table
//! at the end gives GB/s (10^9 bytes/s, median of repeated runs) and the fraction of the copy's.
//!
//! The summary also gives a copy on two threads, each copying half (a persistent second thread
//! that spins between runs, so no wake-up is timed): the ops on 2^18 elements or more run in two
//! halves on tapegrad's helper thread, and their fraction of the two-thread copy is the one to
//! read for them.
//!
//! `cargo bench --bench bandwidth` (add `-- --measurement-time 1` for a short run).

use criterion::{black_box, Criterion, Throughput};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tapegrad::{Tape, Var};

const N: usize = 1 << 20;

/// The ops measured, with the bytes each moves per element.
#[derive(Clone, Copy)]
enum Kind {
    Copy,
    Add,
    Mul,
    Relu,
    Exp,
    Sigmoid,
    Sum,
    Max,
    Mean,
}

const KINDS: [(Kind, &str, u64); 9] = [
    (Kind::Copy, "copy", 8),
    (Kind::Add, "add", 12),
    (Kind::Mul, "mul", 12),
    (Kind::Relu, "relu", 8),
    (Kind::Exp, "exp", 8),
    (Kind::Sigmoid, "sigmoid", 8),
    (Kind::Sum, "sum", 4),
    (Kind::Max, "max", 4),
    (Kind::Mean, "mean", 4),
];

fn apply<'t>(kind: Kind, x: Var<'t, f32>, y: Var<'t, f32>) -> Var<'t, f32> {
    match kind {
        Kind::Copy => unreachable!("the copy is not a tape op"),
        Kind::Add => x + y,
        Kind::Mul => x * y,
        Kind::Relu => x.relu(),
        Kind::Exp => x.exp(),
        Kind::Sigmoid => x.sigmoid(),
        Kind::Sum => x.sum(),
        Kind::Max => x.max(),
        Kind::Mean => x.mean(),
    }
}

/// Inputs: values in about [-4, 4), deterministic.
struct Inputs {
    a: Vec<f32>,
    b: Vec<f32>,
    dst: Vec<f32>,
    tape: Tape<f32>,
}

impl Inputs {
    fn new() -> Self {
        let a = (0..N).map(|i| ((i * 7919 % 8192) as f32) / 1024.0 - 4.0).collect();
        let b = (0..N).map(|i| ((i * 104729 % 8192) as f32) / 2048.0 - 2.0).collect();
        Inputs { a, b, dst: vec![0.0; N], tape: Tape::new() }
    }

    /// The time of one run of `kind`, its inputs prepared off the clock.
    fn run(&mut self, kind: Kind) -> Duration {
        if let Kind::Copy = kind {
            let t0 = Instant::now();
            self.dst.copy_from_slice(black_box(&self.a));
            black_box(&self.dst);
            return t0.elapsed();
        }
        self.tape.clear();
        let x = self.tape.leaf(&[N], &self.a, false);
        let y = self.tape.leaf(&[N], &self.b, false);
        let t0 = Instant::now();
        let z = apply(kind, black_box(x), black_box(y));
        let t = t0.elapsed();
        black_box(z);
        t
    }
}

fn criterion_benches(c: &mut Criterion, inputs: &mut Inputs) {
    let mut group = c.benchmark_group("bandwidth_1M_f32");
    for &(kind, name, bytes) in &KINDS {
        group.throughput(Throughput::Bytes(bytes * N as u64));
        group.bench_function(name, |bch| bch.iter_custom(|iters| (0..iters).map(|_| inputs.run(kind)).sum()));
    }
    group.finish();
}

/// Median time of `reps` runs.
fn median(inputs: &mut Inputs, kind: Kind, reps: usize) -> Duration {
    let mut t: Vec<Duration> = (0..reps).map(|_| inputs.run(kind)).collect();
    t.sort();
    t[reps / 2]
}

/// Median time of `reps` copies of `src` into `dst`, each half on its own thread: the second
/// thread spins on a run counter and copies its half of each run.
fn two_thread_copy(src: &[f32], dst: &mut [f32], reps: usize) -> Duration {
    let half = src.len() / 2;
    let (lo, hi) = dst.split_at_mut(half);
    let (started, finished) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut times = Vec::with_capacity(reps);
    std::thread::scope(|s| {
        s.spawn(|| {
            for run in 1..=reps {
                while started.load(Ordering::Acquire) < run {
                    std::hint::spin_loop();
                }
                hi.copy_from_slice(black_box(&src[half..]));
                finished.store(run, Ordering::Release);
            }
        });
        for run in 1..=reps {
            let t0 = Instant::now();
            started.store(run, Ordering::Release);
            lo.copy_from_slice(black_box(&src[..half]));
            while finished.load(Ordering::Acquire) < run {
                std::hint::spin_loop();
            }
            times.push(t0.elapsed());
        }
    });
    times.sort();
    times[reps / 2]
}

fn summary(inputs: &mut Inputs) {
    let reps = 101;
    let gbs = |kind: Kind, bytes: u64, inputs: &mut Inputs| {
        median(inputs, kind, 5); // warm
        bytes as f64 * N as f64 / median(inputs, kind, reps).as_secs_f64() / 1e9
    };
    let copy = gbs(Kind::Copy, 8, inputs);
    two_thread_copy(&inputs.a, &mut inputs.dst, 5); // warm
    let copy2 = 8.0 * N as f64 / two_thread_copy(&inputs.a, &mut inputs.dst, reps).as_secs_f64() / 1e9;
    println!("\nMemory bandwidth, 1M f32 elements, forward only (median of {reps} runs)");
    println!("copy on two threads: {copy2:.1} GB/s ({:.0} us)", 8.0 * N as f64 / copy2 / 1e3);
    println!("{:<10} {:>10} {:>12} {:>10} {:>10}", "op", "GB/s", "time (us)", "of copy", "of 2-thr");
    for &(kind, name, bytes) in &KINDS {
        let g = if let Kind::Copy = kind { copy } else { gbs(kind, bytes, inputs) };
        let us = bytes as f64 * N as f64 / g / 1e3;
        println!("{name:<10} {g:>10.1} {us:>12.0} {:>9.0}% {:>9.0}%", 100.0 * g / copy, 100.0 * g / copy2);
    }
}

fn main() {
    let mut inputs = Inputs::new();
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    criterion_benches(&mut c, &mut inputs);
    c.final_summary();
    summary(&mut inputs);
}
