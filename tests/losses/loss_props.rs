//! Property tests: the tape's gradient of every loss, for every option combination and all three
//! reductions, agrees with central differences on random batches of random shapes. Inputs are
//! drawn away from kinks (|x| = 0 for MAE, the hinge's margin, huber's threshold, clip bounds),
//! where a finite difference is not a derivative.

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::gradcheck::gradcheck;
use tapegrad::losses::{Loss, Reduction};
use tapegrad::{Tensor, Var};

/// Draws `(y_true, y_pred)` data for an `n x w` batch.
type Gen = fn(&mut StdRng, usize, usize) -> (Vec<f64>, Vec<f64>);

/// A value in `[lo, hi]` with a random sign.
fn signed(r: &mut StdRng, lo: f64, hi: f64) -> f64 {
    let v = r.gen_range(lo..hi);
    if r.gen_bool(0.5) {
        v
    } else {
        -v
    }
}

fn uniform(r: &mut StdRng, k: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..k).map(|_| r.gen_range(lo..hi)).collect()
}

/// Gradchecks `name` with `args` on a random `n x w` batch, for every reduction; with
/// `wrt_true` also with respect to the targets.
fn check(name: &str, args: &[(&str, &str)], gen: Gen, n: usize, w: usize, seed: u64, wrt_true: bool) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (t, p) = gen(&mut rng, n, w);
    let sparse = name == "sparse_categorical_crossentropy";
    let t_shape: Vec<usize> = if sparse { vec![n] } else { vec![n, w] };
    let t = Tensor::from_vec(t, &t_shape);
    let p = Tensor::from_vec(p, &[n, w]);
    for reduction in ["sum_over_batch_size", "sum", "none"] {
        let mut all: Vec<(&str, &str)> = args.to_vec();
        all.push(("reduction", reduction));
        let loss = Loss::with_args(name, &all).unwrap();
        let overall = matches!(name, "dice" | "tversky");
        let per_sample = loss.options().reduction == Reduction::None && !overall;
        let t2 = t.clone();
        let res = gradcheck(|v| finish(loss.call(v[0].tape().constant(t2.clone()), v[0]), per_sample), std::slice::from_ref(&p));
        if let Err(e) = res {
            panic!("{name} {all:?} wrt y_pred, t={:?} p={:?}: {e}", t.data(), p.data());
        }
        if wrt_true {
            let res = gradcheck(|v| finish(loss.call(v[0], v[1]), per_sample), &[t.clone(), p.clone()]);
            if let Err(e) = res {
                panic!("{name} {all:?} wrt y_true, t={:?} p={:?}: {e}", t.data(), p.data());
            }
        }
    }
}

/// One number from a loss: per-sample values are weighted (so each sample's gradient is checked
/// on its own) and summed.
fn finish<'t>(v: Var<'t, f64>, per_sample: bool) -> Var<'t, f64> {
    if per_sample {
        let weights: Vec<f64> = (0..v.len()).map(|i| 0.5 + 0.3 * (i % 5) as f64).collect();
        (v * v.tape().leaf(&v.shape(), &weights, false)).sum()
    } else {
        v
    }
}

/// Real targets and predictions at least 0.05 apart.
fn apart(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    let t = uniform(r, n * w, -2.0, 2.0);
    let p = t.iter().map(|&v| v + signed(r, 0.05, 1.5)).collect();
    (t, p)
}

/// Targets off zero (for MAPE) and predictions apart from them.
fn off_zero(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    let t: Vec<f64> = (0..n * w).map(|_| signed(r, 0.2, 2.0)).collect();
    let p = t.iter().map(|&v| v + signed(r, 0.05, 1.0)).collect();
    (t, p)
}

/// Positive rates and counts.
fn positive(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    (uniform(r, n * w, 0.0, 5.0), uniform(r, n * w, 0.1, 5.0))
}

/// MSLE's inputs, negative ones included, off the `max(x, eps)` kink.
fn msle_data(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    ((0..n * w).map(|_| signed(r, 0.05, 3.0)).collect(), (0..n * w).map(|_| signed(r, 0.05, 3.0)).collect())
}

/// Errors kept 0.05 away from huber's two thresholds at delta = 1 and 0.5.
fn huber_data(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    let t = uniform(r, n * w, -2.0, 2.0);
    let mags: [(f64, f64); 3] = [(0.0, 0.45), (0.55, 0.95), (1.05, 2.5)];
    let p = t
        .iter()
        .map(|&v| {
            let (lo, hi) = mags[r.gen_range(0..3)];
            v + signed(r, lo.max(1e-3), hi)
        })
        .collect();
    (t, p)
}

/// Vectors with norms well above zero.
fn vectors(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    ((0..n * w).map(|_| signed(r, 0.3, 2.0)).collect(), (0..n * w).map(|_| signed(r, 0.3, 2.0)).collect())
}

/// Labels in {-1, 1} or {0, 1} (per batch) and scores with the margin `1 - t p` off zero.
fn hinge_data(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    let zero_one = r.gen_bool(0.5);
    let t: Vec<f64> = (0..n * w).map(|_| if r.gen_bool(0.5) { 1.0 } else if zero_one { 0.0 } else { -1.0 }).collect();
    let p = t
        .iter()
        .map(|&v| {
            let s = if zero_one { 2.0 * v - 1.0 } else { v };
            // 1 - s p = m with |m| >= 0.05  =>  p = (1 - m) / s
            (1.0 - signed(r, 0.05, 1.5)) / s
        })
        .collect();
    (t, p)
}

/// One-hot targets and scores whose wrong-class maximum is unique and whose margin is off zero.
fn categorical_hinge_data(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut t, mut p) = (vec![0.0; n * w], vec![0.0; n * w]);
    for i in 0..n {
        let hot = r.gen_range(0..w);
        t[i * w + hot] = 1.0;
        // Distinct wrong-class scores 0.1 apart.
        let mut base = r.gen_range(-1.0..1.0);
        for j in 0..w {
            if j != hot {
                p[i * w + j] = base;
                base += 0.1 + r.gen_range(0.0..0.3);
            }
        }
        let top = if w > 1 { base - 0.1 } else { 0.0 };
        // correct-class score so that 1 + top - pos = m, |m| >= 0.05
        p[i * w + hot] = 1.0 + top - signed(r, 0.05, 1.0);
    }
    (t, p)
}

/// Targets in [0, 1] and probabilities inside (0.05, 0.95).
fn probabilities(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    (uniform(r, n * w, 0.0, 1.0), uniform(r, n * w, 0.05, 0.95))
}

/// Hard 0/1 targets and probabilities.
fn binary_probabilities(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    ((0..n * w).map(|_| if r.gen_bool(0.5) { 1.0 } else { 0.0 }).collect(), uniform(r, n * w, 0.05, 0.95))
}

/// Hard 0/1 targets and logits.
fn binary_logits(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    ((0..n * w).map(|_| if r.gen_bool(0.5) { 1.0 } else { 0.0 }).collect(), uniform(r, n * w, -6.0, 6.0))
}

/// One-hot targets (for `w` classes) and positive, unnormalised scores.
fn one_hot_scores(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    let mut t = vec![0.0; n * w];
    for i in 0..n {
        t[i * w + r.gen_range(0..w)] = 1.0;
    }
    (t, uniform(r, n * w, 0.05, 1.0))
}

/// One-hot targets and logits.
fn one_hot_logits(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    let (t, _) = one_hot_scores(r, n, w);
    (t, uniform(r, n * w, -5.0, 5.0))
}

/// Class ids and probabilities below 1.
fn sparse_probabilities(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    ((0..n).map(|_| r.gen_range(0..w) as f64).collect(), uniform(r, n * w, 0.05, 0.99))
}

/// Class ids and logits.
fn sparse_logits(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    ((0..n).map(|_| r.gen_range(0..w) as f64).collect(), uniform(r, n * w, -5.0, 5.0))
}

/// Distributions' entries off the clip bound `eps`.
fn distributions(r: &mut StdRng, n: usize, w: usize) -> (Vec<f64>, Vec<f64>) {
    (uniform(r, n * w, 0.01, 0.99), uniform(r, n * w, 0.01, 0.99))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn regression_losses(n in 1usize..5, w in 1usize..5, seed in any::<u64>()) {
        check("mean_squared_error", &[], apart, n, w, seed, true);
        check("mean_absolute_error", &[], apart, n, w, seed, true);
        check("mean_absolute_percentage_error", &[], off_zero, n, w, seed, true);
        check("mean_squared_logarithmic_error", &[], msle_data, n, w, seed, true);
        check("log_cosh", &[], apart, n, w, seed, true);
        check("poisson", &[], positive, n, w, seed, true);
        for delta in ["1.0", "0.5"] {
            check("huber", &[("delta", delta)], huber_data, n, w, seed, true);
        }
    }

    #[test]
    fn cosine_similarity(n in 1usize..5, w in 1usize..5, seed in any::<u64>()) {
        check("cosine_similarity", &[], vectors, n, w, seed, true);
        check("cosine_similarity", &[("axis", "0")], vectors, n, w, seed, true);
    }

    #[test]
    fn hinge_losses(n in 1usize..5, w in 1usize..5, seed in any::<u64>()) {
        check("hinge", &[], hinge_data, n, w, seed, false);
        check("squared_hinge", &[], hinge_data, n, w, seed, false);
        check("categorical_hinge", &[], categorical_hinge_data, n, w.max(2), seed, false);
    }

    #[test]
    fn binary_crossentropy(n in 1usize..5, w in 1usize..5, seed in any::<u64>(), s in prop::sample::select(vec!["0", "0.1", "0.3"])) {
        check("binary_crossentropy", &[("label_smoothing", s)], probabilities, n, w, seed, true);
        check("binary_crossentropy", &[("label_smoothing", s), ("from_logits", "true")], binary_logits, n, w, seed, true);
    }

    #[test]
    fn binary_focal_crossentropy(
        n in 1usize..5, w in 1usize..5, seed in any::<u64>(),
        gamma in prop::sample::select(vec!["0", "0.5", "1", "2", "2.5"]),
        balance in any::<bool>(), logits in any::<bool>(),
        s in prop::sample::select(vec!["0", "0.2"]),
    ) {
        let args = [("gamma", gamma), ("alpha", "0.3"), ("apply_class_balancing", if balance { "true" } else { "false" }),
            ("from_logits", if logits { "true" } else { "false" }), ("label_smoothing", s)];
        let gen: Gen = if logits { binary_logits } else { binary_probabilities };
        check("binary_focal_crossentropy", &args, gen, n, w, seed, false);
    }

    #[test]
    fn categorical_crossentropies(
        n in 1usize..5, w in 2usize..5, seed in any::<u64>(),
        s in prop::sample::select(vec!["0", "0.1"]),
        gamma in prop::sample::select(vec!["0", "1", "2"]),
    ) {
        check("categorical_crossentropy", &[("label_smoothing", s)], one_hot_scores, n, w, seed, true);
        check("categorical_crossentropy", &[("label_smoothing", s), ("from_logits", "true")], one_hot_logits, n, w, seed, true);
        check("categorical_crossentropy", &[("axis", "0")], one_hot_scores, n.max(2), w, seed, false);
        let focal = [("label_smoothing", s), ("gamma", gamma), ("alpha", "0.4")];
        check("categorical_focal_crossentropy", &focal, one_hot_scores, n, w, seed, true);
        let focal_logits = [("label_smoothing", s), ("gamma", gamma), ("from_logits", "true")];
        check("categorical_focal_crossentropy", &focal_logits, one_hot_logits, n, w, seed, true);
        check("sparse_categorical_crossentropy", &[], sparse_probabilities, n, w, seed, false);
        check("sparse_categorical_crossentropy", &[("from_logits", "true")], sparse_logits, n, w, seed, false);
    }

    #[test]
    fn divergence_and_overlap(n in 1usize..5, w in 1usize..5, seed in any::<u64>(),
        alpha in prop::sample::select(vec!["0.3", "0.5", "0.7"]), beta in prop::sample::select(vec!["0.3", "0.5", "0.7"])) {
        check("kl_divergence", &[], distributions, n, w, seed, true);
        check("dice", &[], probabilities, n, w, seed, true);
        check("tversky", &[("alpha", alpha), ("beta", beta)], probabilities, n, w, seed, true);
    }
}
