//! `tapegrad losses`, `tapegrad gradcheck` and `tapegrad graph`: the loss registry from the command line.

use rand::rngs::StdRng;
use rand::SeedableRng;
use std::path::Path;
use tapegrad::gradcheck::gradcheck;
use tapegrad::losses::{registry, sample_batch, Loss, LossInfo, LossKind};
use tapegrad::tape::DotOptions;
use tapegrad::{Tape, Tensor};

/// Prints every registered loss with its aliases, formula and options.
pub fn list() -> Result<(), String> {
    for info in registry() {
        println!("{}", info.name);
        if !info.aliases.is_empty() {
            println!("    aliases: {}", info.aliases.join(", "));
        }
        println!("    formula: {}", info.formula);
        println!("    options: {}", info.options.join(", "));
        if info.inputs != ["y_true", "y_pred"] {
            println!("    inputs: {} (packed along y_pred's last axis by `call`)", info.inputs.join(", "));
        }
    }
    Ok(())
}

/// The option settings worth checking for a loss: the defaults, and the logits and smoothing paths.
fn variants(info: &LossInfo) -> Vec<Vec<(&'static str, &'static str)>> {
    let mut v = vec![vec![]];
    if info.options.contains(&"from_logits") {
        v.push(vec![("from_logits", "true")]);
    }
    if info.options.contains(&"label_smoothing") {
        v.push(vec![("label_smoothing", "0.1")]);
    }
    if info.options.contains(&"apply_class_balancing") {
        v.push(vec![("apply_class_balancing", "true")]);
    }
    for (opt, value) in [("full", "true"), ("log_input", "false"), ("swap", "true"), ("zero_infinity", "true"), ("remove_diagonal", "false")] {
        if info.options.contains(&opt) {
            v.push(vec![(opt, value)]);
        }
    }
    v
}

/// Turns sampled probabilities into logits with the same softmax / sigmoid.
fn to_logits(kind: LossKind, p: &Tensor<f64>) -> Tensor<f64> {
    match kind {
        LossKind::BinaryCrossentropy | LossKind::BinaryFocalCrossentropy => p.map(|v| (v / (1.0 - v)).ln()),
        _ => p.map(f64::ln),
    }
}

fn classes_for(kind: LossKind) -> usize {
    match kind {
        LossKind::CategoricalCrossentropy
        | LossKind::CategoricalFocalCrossentropy
        | LossKind::SparseCategoricalCrossentropy
        | LossKind::KlDivergence
        | LossKind::CategoricalHinge
        | LossKind::CosineSimilarity => 3,
        _ => 2,
    }
}

/// Gradchecks every loss and option setting with respect to `y_pred` and prints a table.
pub fn gradcheck_all(batch: usize, seed: u64) -> Result<(), String> {
    if batch == 0 {
        return Err("--batch must be at least 1".into());
    }
    let mut rng = StdRng::seed_from_u64(seed);
    println!("{:<38} {:<26} {:>8} {:>12} {:>12}  result", "loss", "options", "elements", "max abs err", "max rel err");
    let mut failures = 0;
    for info in registry() {
        for args in variants(info) {
            let loss = Loss::with_args(info.name, &args).map_err(|e| e.to_string())?;
            let (t, mut p) = sample_batch(info.kind, batch, classes_for(info.kind), &mut rng);
            if args.contains(&("from_logits", "true")) {
                p = to_logits(info.kind, &p);
            }
            let opts: Vec<String> = args.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let res = gradcheck(|v| loss.call(v[0].tape().constant(t.clone()), v[0]), std::slice::from_ref(&p));
            let (elements, abs, rel, verdict) = match &res {
                Ok(r) => (r.elements, r.max_abs_error, r.max_rel_error, "ok".to_string()),
                Err(e) => {
                    failures += 1;
                    (p.len(), e.error, f64::NAN, format!("FAILED: {e}"))
                }
            };
            println!("{:<38} {:<26} {:>8} {:>12.3e} {:>12.3e}  {verdict}", info.name, opts.join(","), elements, abs, rel);
        }
    }
    if failures > 0 {
        return Err(format!("{failures} gradient check(s) failed"));
    }
    Ok(())
}

/// Records a loss on a random batch, runs backward, and writes the graph with values and gradients.
pub fn graph(name: &str, batch: usize, out: Option<&Path>) -> Result<(), String> {
    if batch == 0 {
        return Err("--batch must be at least 1".into());
    }
    let loss = Loss::new(name).map_err(|e| e.to_string())?;
    let mut rng = StdRng::seed_from_u64(0);
    let (t, p) = sample_batch(loss.info().kind, batch, classes_for(loss.info().kind), &mut rng);
    let tape = Tape::<f64>::new();
    let y_true = tape.constant(t);
    let y_pred = tape.var(p);
    let value = loss.call(y_true, y_pred);
    let grads = value.backward();
    let dot = tape.to_dot(&DotOptions { values: true, grads: Some(&grads), max_values: 6 });
    match out {
        Some(path) => {
            std::fs::write(path, dot).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!("wrote {} ({} nodes); render with: dot -Tpng {} -o graph.png", path.display(), tape.len(), path.display());
        }
        None => print!("{dot}"),
    }
    Ok(())
}
