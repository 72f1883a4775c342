//! Forward against reverse mode, measured: the cost of the whole Jacobian of
//! `f(x) = tanh(W2 tanh(W1 x))` from R^n to R^m by `jacfwd` (one pass, n tangent directions) and by
//! `jacrev` (m reverse sweeps), for a range of n at a fixed m, and the crossover drawn into
//! `docs/figures/jacobian_crossover.png` with the study's plotting.
//!
//! `cargo run --release --example forward_vs_reverse [OUT.png]`

use tapegrad::perf::autodiff_figures::jacobian_costs;
use tapegrad::report::plot_lines;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "docs/figures/jacobian_crossover.png".into());
    let m = 32;
    let sizes: Vec<(usize, usize)> = [1, 2, 4, 8, 16, 32, 64, 128, 256].iter().map(|&n| (n, m)).collect();
    let costs = jacobian_costs(&sizes, 7);
    println!("{:>5} {:>5} {:>12} {:>12} {:>8}", "n", "m", "jacfwd ms", "jacrev ms", "faster");
    for &(n, m, f, r) in &costs {
        println!("{n:>5} {m:>5} {:>12.3} {:>12.3} {:>8}", f * 1e3, r * 1e3, if f < r { "forward" } else { "reverse" });
    }
    let line = |pick: fn(&(usize, usize, f64, f64)) -> f64| -> Vec<(f64, f64)> {
        costs.iter().map(|c| ((c.0 as f64).log2(), (pick(c) * 1e3).log10())).collect()
    };
    let series = vec![
        ("jacfwd (forward mode, n directions in one pass)".to_string(), line(|c| c.2)),
        ("jacrev (reverse mode, one sweep per output)".to_string(), line(|c| c.3)),
    ];
    plot_lines(&out, &format!("Jacobian of f: R^n -> R^{m}, forward vs reverse mode"), "log2 n (inputs)", "log10 milliseconds", &series)?;
    println!("wrote {out}");
    Ok(())
}
