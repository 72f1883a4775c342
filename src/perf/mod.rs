//! Measurement helpers behind `tapegrad bench` and the criterion benches: the per-op overhead
//! chain, the hand-derived reference training step, and the process's memory.

pub mod autodiff_figures;
mod bench;
pub mod figures;
pub mod layer_figures;
mod reference;

pub use bench::{peers, run_bench, targets, BenchOptions, BenchReport, StudyRun};
pub use reference::{Head, HandMlp};

use crate::tape::Tape;

/// Records `n` elementwise ops on one-element values (a mix of `*c`, `+`, `tanh`, `-c`), runs
/// backward, and returns the gradient of the chain's end with respect to its start.
pub fn op_chain(tape: &mut Tape<f64>, n: usize) -> f64 {
    tape.clear();
    let x = tape.leaf(&[1], &[0.5], true);
    let mut y = x;
    for i in 0..n {
        y = match i % 4 {
            0 => y * 1.0001,
            1 => y + x,
            2 => y.tanh(),
            _ => y - 0.25,
        };
    }
    let g = y.backward();
    g[x][0]
}

/// Resident and peak resident memory of this process in bytes (`VmRSS`, `VmHWM` from
/// `/proc/self/status`), or `None` where that file does not exist.
pub fn memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
