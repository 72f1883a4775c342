//! `tapegrad losses`, `tapegrad gradcheck` and `tapegrad graph`: the loss registry from the command line.

use rand::rngs::StdRng;
use rand::SeedableRng;
use std::path::Path;
use tapegrad::formula::Formula;
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

/// The option settings worth checking for a loss: the defaults, the logits and smoothing paths, each
/// flag, a numeric option away from its default, and per-class weights.
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
    // Numeric options away from their defaults (inside the sampled batches' domains).
    let numeric: &[(&'static str, &'static str)] = match info.kind {
        LossKind::TripletMargin => &[("p", "1")],
        LossKind::SmoothL1 => &[("beta", "0")],
        LossKind::Quantile => &[("quantile", "0.9")],
        LossKind::Tweedie => &[("power", "1.2")],
        LossKind::GaussianNll => &[("eps", "0.1")],
        LossKind::CategoricalGeneralizedCrossEntropy => &[("q", "0.8")],
        _ => &[],
    };
    v.extend(numeric.iter().map(|&o| vec![o]));
    if info.options.contains(&"weight") {
        v.push(vec![("weight", if classes_for(info.kind) == 3 { "[0.5, 2, 1]" } else { "[0.5, 2]" })]);
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

/// A random batch for a formula: targets in {0, 1} (one-hot rows for several columns), predictions
/// in (0.05, 0.95) (rows summing to 1 for several columns), so logs of p and of 1 - p are defined.
fn formula_batch(rows: usize, cols: usize, rng: &mut StdRng) -> (Tensor<f64>, Tensor<f64>) {
    use rand::Rng;
    let mut t = vec![0.0; rows * cols];
    let mut p = vec![0.0; rows * cols];
    for r in 0..rows {
        if cols == 1 {
            t[r] = f64::from(u8::from(rng.gen_bool(0.5)));
            p[r] = rng.gen_range(0.05..0.95);
        } else {
            t[r * cols + rng.gen_range(0..cols)] = 1.0;
            let raw: Vec<f64> = (0..cols).map(|_| rng.gen_range(0.2..1.0)).collect();
            let sum: f64 = raw.iter().sum();
            for (c, v) in raw.iter().enumerate() {
                p[r * cols + c] = v / sum;
            }
        }
    }
    (Tensor::from_vec(t, &[rows, cols]), Tensor::from_vec(p, &[rows, cols]))
}

/// `tapegrad losses --check FORMULA`: gradchecks a formula on random batches of one and of three
/// columns (three seeds each) and prints the errors.
pub fn check_formula(text: &str) -> Result<(), String> {
    let f = Formula::parse(text).map_err(|e| e.to_string())?;
    println!("{:<10} {:>5} {:>8} {:>12} {:>12}  result", "batch", "seed", "elements", "max abs err", "max rel err");
    let (mut failures, mut checked) = (0, 0);
    for cols in [1, 3] {
        for seed in 0..3u64 {
            let mut rng = StdRng::seed_from_u64(seed);
            let (t, p) = formula_batch(4, cols, &mut rng);
            let shape = format!("[4, {cols}]");
            if let Err(e) = f.check_shapes(t.shape(), p.shape()) {
                println!("{shape:<10} {seed:>5} {:>8} {:>12} {:>12}  skipped: {}", "-", "-", "-", e.message);
                break;
            }
            if let Some(e) = f.first_non_finite(&t, &p) {
                failures += 1;
                println!("{shape:<10} {seed:>5} {:>8} {:>12} {:>12}  FAILED: {}", p.len(), "-", "-", e.message);
                continue;
            }
            checked += 1;
            // A loss with more than one element is averaged, as training and `graph` reduce it.
            let checked = gradcheck(
                |v| {
                    let l = f.eval(v[0].tape().constant(t.clone()), v[0]);
                    if l.len() == 1 { l } else { l.mean() }
                },
                std::slice::from_ref(&p),
            );
            match checked {
                Ok(r) => println!("{shape:<10} {seed:>5} {:>8} {:>12.3e} {:>12.3e}  ok", r.elements, r.max_abs_error, r.max_rel_error),
                Err(e) => {
                    failures += 1;
                    println!("{shape:<10} {seed:>5} {:>8} {:>12.3e} {:>12}  FAILED: {e}", p.len(), e.error, "-");
                }
            }
        }
    }
    if failures > 0 {
        return Err(format!("{failures} gradient check(s) of {text:?} failed"));
    }
    if checked == 0 {
        return Err(format!("{text:?} fits neither a [4, 1] nor a [4, 3] batch; nothing was checked"));
    }
    Ok(())
}

/// Records a loss (registry name or formula) on a random batch, runs backward, and writes the
/// graph with values and gradients.
pub fn graph(name: &str, batch: usize, out: Option<&Path>) -> Result<(), String> {
    if batch == 0 {
        return Err("--batch must be at least 1".into());
    }
    let mut rng = StdRng::seed_from_u64(0);
    let tape = Tape::<f64>::new();
    let value = match Loss::new(name) {
        Ok(loss) => {
            let (t, p) = sample_batch(loss.info().kind, batch, classes_for(loss.info().kind), &mut rng);
            let y_true = tape.constant(t);
            let y_pred = tape.var(p);
            loss.call(y_true, y_pred)
        }
        Err(e) if !Formula::looks_like_formula(name) => return Err(e.to_string()),
        Err(_) => {
            let f = Formula::parse(name).map_err(|e| e.to_string())?;
            let (t, p) = formula_batch(batch, 1, &mut rng);
            let (t, p) = if f.check_shapes(t.shape(), p.shape()).is_ok() { (t, p) } else { formula_batch(batch, 3, &mut rng) };
            f.check_shapes(t.shape(), p.shape()).map_err(|e| e.to_string())?;
            if let Some(e) = f.first_non_finite(&t, &p) {
                return Err(e.to_string());
            }
            let v = f.eval(tape.constant(t), tape.var(p));
            if v.len() == 1 { v } else { v.mean() }
        }
    };
    let grads = value.backward();
    let dot = tape.to_dot(&DotOptions { values: true, grads: Some(&grads), max_values: 6 });
    match out {
        Some(path) => {
            tapegrad::io::write_atomic(path, dot.as_bytes()).map_err(|e| e.to_string())?;
            println!("wrote {} ({} nodes); render with: dot -Tpng {} -o graph.png", path.display(), tape.len(), path.display());
        }
        None => print!("{dot}"),
    }
    Ok(())
}
