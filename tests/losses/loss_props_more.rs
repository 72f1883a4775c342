//! Property tests for the losses beyond Keras and for sample weights and masks: for every new loss
//! and option combination, under all four reductions, without and with a random sample weight and
//! mask, the tape's gradient of every prediction input agrees with central differences on random
//! batches. Inputs are drawn away from kinks (the hinges' margins, smooth L1's threshold and 0).

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::gradcheck::gradcheck;
use tapegrad::losses::{Loss, LossInputs};
use tapegrad::{Tape, Tensor, Var};

/// Constant inputs (labels, lengths) and tracked inputs (predictions) by name.
type Case = (Vec<(&'static str, Tensor<f64>)>, Vec<(&'static str, Tensor<f64>)>);

fn uniform(r: &mut StdRng, k: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..k).map(|_| r.gen_range(lo..hi)).collect()
}

fn signed(r: &mut StdRng, k: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..k).map(|_| r.gen_range(lo..hi) * if r.gen_bool(0.5) { 1.0 } else { -1.0 }).collect()
}

fn tn(data: Vec<f64>, shape: &[usize]) -> Tensor<f64> {
    Tensor::from_vec(data, shape)
}

fn labels(r: &mut StdRng, k: usize, classes: usize) -> Vec<f64> {
    (0..k).map(|_| r.gen_range(0..classes) as f64).collect()
}

fn build<'t>(consts: &[(&'static str, Tensor<f64>)], names: &[&'static str], vars: &[Var<'t, f64>]) -> LossInputs<'t, f64> {
    let tape = vars[0].tape();
    let mut inputs = LossInputs::empty();
    for (n, t) in consts {
        inputs = inputs.with(n, tape.constant(t.clone()));
    }
    for (n, v) in names.iter().zip(vars) {
        inputs = inputs.with(n, *v);
    }
    inputs
}

/// Gradchecks `name` with `args` on `case` for every reduction, plain and with a random sample
/// weight and mask of the per-sample losses' shape.
fn check(name: &str, args: &[(&str, &str)], case: Case, seed: u64) {
    let (consts, tracked) = case;
    let names: Vec<&'static str> = tracked.iter().map(|(n, _)| *n).collect();
    let values: Vec<Tensor<f64>> = tracked.iter().map(|(_, t)| t.clone()).collect();
    // The per-sample losses' shape.
    let mut none_args = args.to_vec();
    none_args.push(("reduction", "none"));
    let shape = {
        let tape = Tape::new();
        let vars: Vec<_> = values.iter().map(|t| tape.var(t.clone())).collect();
        let l = Loss::with_args(name, &none_args).unwrap();
        l.call_inputs(&build(&consts, &names, &vars)).unwrap().shape().to_vec()
    };
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let k: usize = shape.iter().product();
    let weight = tn(uniform(&mut rng, k, 0.2, 2.0), &shape);
    let mut mask: Vec<f64> = (0..k).map(|_| if rng.gen_bool(0.7) { 1.0 } else { 0.0 }).collect();
    mask[0] = 1.0;
    let mask = tn(mask, &shape);
    for reduction in ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"] {
        let mut all = args.to_vec();
        all.push(("reduction", reduction));
        let loss = Loss::with_args(name, &all).unwrap();
        for weighted in [false, true] {
            let res = gradcheck(
                |v| {
                    let mut inputs = build(&consts, &names, v);
                    if weighted {
                        let tape = v[0].tape();
                        inputs = inputs.sample_weight(tape.constant(weight.clone())).mask(tape.constant(mask.clone()));
                    }
                    let out = loss.call_inputs(&inputs).unwrap();
                    if out.len() == 1 {
                        out
                    } else {
                        let w: Vec<f64> = (0..out.len()).map(|i| 0.5 + 0.3 * (i % 5) as f64).collect();
                        (out * out.tape().leaf(&out.shape(), &w, false)).sum()
                    }
                },
                &values,
            );
            if let Err(e) = res {
                panic!("{name} {all:?} weighted={weighted} consts={consts:?} inputs={values:?}: {e}");
            }
        }
    }
}

fn yp(y: Tensor<f64>, p: Tensor<f64>) -> Case {
    (vec![("y_true", y)], vec![("y_pred", p)])
}

/// CTC labels `(n, 2)` in 1..c padded with `pad` and logits; `time_first` for PyTorch's layout.
fn ctc_case(r: &mut StdRng, n: usize, frames: usize, c: usize, blank: usize, time_first: bool, lengths: bool) -> Case {
    let (mut y, mut tl, mut il) = (vec![blank as f64; n * 2], vec![], vec![]);
    for b in 0..n {
        let len = r.gen_range(0..=2);
        for s in 0..len {
            let mut k = r.gen_range(0..c - 1);
            if k >= blank {
                k += 1;
            }
            y[b * 2 + s] = k as f64;
        }
        tl.push(len as f64);
        il.push(r.gen_range(5.min(frames)..=frames) as f64);
    }
    let shape = if time_first { [frames, n, c] } else { [n, frames, c] };
    let mut consts = vec![("y_true", tn(y, &[n, 2]))];
    if lengths {
        consts.push(("target_lengths", tn(tl, &[n])));
        consts.push(("input_lengths", tn(il, &[n])));
    }
    (consts, vec![("y_pred", tn(uniform(r, n * frames * c, -2.0, 2.0), &shape))])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn ctc_both_conventions(n in 1usize..4, frames in 5usize..8, c in 3usize..5, seed in any::<u64>(), zi in any::<bool>()) {
        let mut r = StdRng::seed_from_u64(seed);
        // Keras: blank 0, labels padded with 0, all frames.
        check("ctc", &[], ctc_case(&mut r, n, frames, c, 0, false, false), seed);
        let zi = if zi { "true" } else { "false" };
        for blank in [0, c - 1] {
            let b = blank.to_string();
            check("ctc_loss", &[("blank", &b), ("zero_infinity", zi)], ctc_case(&mut r, n, frames, c, blank, true, true), seed);
        }
    }

    #[test]
    fn class_id_losses(n in 1usize..5, c in 2usize..5, d in 1usize..3, seed in any::<u64>(),
        s in prop::sample::select(vec!["0", "0.1", "0.3"]), logits in any::<bool>()) {
        let mut r = StdRng::seed_from_u64(seed);
        let fl = if logits { "true" } else { "false" };
        let p = if logits { tn(uniform(&mut r, n * c * d, -3.0, 3.0), &[n, d, c]) } else { tn(uniform(&mut r, n * c * d, 0.05, 0.95), &[n, d, c]) };
        let mut y = labels(&mut r, n * d, c);
        y[0] = -1.0;
        check("sparse_categorical_crossentropy", &[("from_logits", fl), ("label_smoothing", s), ("ignore_class", "-1")], yp(tn(y.clone(), &[n, d]), p.clone()), seed);
        check("sparse_categorical_crossentropy", &[("from_logits", fl), ("axis", "1")], yp(tn(labels(&mut r, n * c, d), &[n, c]), p), seed);
        let probs = tn(uniform(&mut r, n * c, 0.05, 1.0), &[n, c]);
        for q in ["0.3", "0.7", "1"] {
            check("categorical_generalized_cross_entropy", &[("q", q)], yp(tn(labels(&mut r, n, c), &[n]), probs.clone()), seed);
        }
        let w: Vec<String> = uniform(&mut r, c, 0.2, 2.0).iter().map(|v| v.to_string()).collect();
        let w = format!("[{}]", w.join(", "));
        let lg = tn(uniform(&mut r, n * c * d, -3.0, 3.0), &[n, c, d]);
        // One ignored target and one kept (all ignored is PyTorch's 0 / 0 = NaN mean).
        let mut yi = labels(&mut r, n * d, c);
        yi[0] = 0.0;
        if n * d > 1 {
            yi[n * d - 1] = 1.0;
        }
        let yi_all = n * d == 1;
        let yi = tn(yi, &[n, d]);
        let ignore = if yi_all { "-100" } else { "0" };
        check("nll", &[("weight", &w), ("ignore_index", ignore)], yp(yi.clone(), lg.clone()), seed);
        check("cross_entropy", &[("weight", &w), ("ignore_index", ignore), ("label_smoothing", s)], yp(yi, lg.clone()), seed);
        let probs_t = tn(uniform(&mut r, n * c * d, 0.0, 1.0), &[n, c, d]);
        check("cross_entropy", &[("weight", &w), ("label_smoothing", s)], yp(probs_t, lg), seed);
        let one_hot: Vec<f64> = (0..n * c).map(|i| if i % c == 0 { 1.0 } else { 0.0 }).collect();
        check("categorical_crossentropy", &[("weight", &w), ("from_logits", fl), ("label_smoothing", s)], yp(tn(one_hot, &[n, c]), tn(uniform(&mut r, n * c, 0.05, 1.0), &[n, c])), seed);
    }

    #[test]
    fn elementwise_torch_losses(n in 1usize..5, w in 1usize..4, seed in any::<u64>(), full in any::<bool>(), log_input in any::<bool>(),
        eps in prop::sample::select(vec![0, 1])) {
        let mut r = StdRng::seed_from_u64(seed);
        let full = if full { "true" } else { "false" };
        let y = tn(uniform(&mut r, n * w, -1.0, 1.0), &[n, w]);
        let mu = tn(uniform(&mut r, n * w, -1.0, 1.0), &[n, w]);
        for vshape in [vec![n, w], vec![n, 1], vec![n]] {
            let k: usize = vshape.iter().product();
            let case = (vec![("y_true", y.clone())], vec![("y_pred", mu.clone()), ("var", tn(uniform(&mut r, k, 0.1, 2.0), &vshape))]);
            // Variances of at least 0.1 stay above either eps, where the clamp is the identity.
            check("gaussian_nll", &[("full", full), ("eps", ["1e-6", "0.05"][eps])], case, seed);
        }
        let counts = tn(labels(&mut r, n * w, 5), &[n, w]);
        let x = if log_input { tn(uniform(&mut r, n * w, -1.0, 1.0), &[n, w]) } else { tn(uniform(&mut r, n * w, 0.1, 3.0), &[n, w]) };
        let li = if log_input { "true" } else { "false" };
        check("poisson_nll", &[("full", full), ("log_input", li), ("eps", ["1e-8", "0.1"][eps])], yp(counts, x), seed);
        let signs = tn((0..n * w).map(|_| if r.gen_bool(0.5) { 1.0 } else { -1.0 }).collect(), &[n, w]);
        check("soft_margin", &[], yp(signs, tn(uniform(&mut r, n * w, -3.0, 3.0), &[n, w])), seed);
        let bits = tn((0..n * w).map(|_| if r.gen_bool(0.5) { 1.0 } else { 0.0 }).collect(), &[n, w]);
        let wt: Vec<String> = uniform(&mut r, w, 0.2, 2.0).iter().map(|v| v.to_string()).collect();
        check("multilabel_soft_margin", &[("weight", &format!("[{}]", wt.join(",")))], yp(bits, tn(uniform(&mut r, n * w, -3.0, 3.0), &[n, w])), seed);
        // Errors 0.05 away from 0 and from beta (1 or 0.5).
        let t0 = uniform(&mut r, n * w, -1.0, 1.0);
        let bands = [(0.05, 0.45), (0.55, 0.95), (1.05, 2.0)];
        let p: Vec<f64> = t0.iter().map(|v| { let (lo, hi) = bands[r.gen_range(0..3)]; v + signed(&mut r, 1, lo, hi)[0] }).collect();
        for beta in ["1", "0.5", "0"] {
            check("smooth_l1", &[("beta", beta)], yp(tn(t0.clone(), &[n, w]), tn(p.clone(), &[n, w])), seed);
        }
        for q in ["0.1", "0.5", "0.9"] {
            check("quantile", &[("quantile", q)], yp(tn(t0.clone(), &[n, w]), tn(p.clone(), &[n, w])), seed);
        }
        for power in ["1.2", "1.5", "1.8"] {
            check("tweedie", &[("power", power)], yp(tn(uniform(&mut r, n * w, 0.0, 3.0), &[n, w]), tn(uniform(&mut r, n * w, 0.2, 3.0), &[n, w])), seed);
        }
    }

    #[test]
    fn pair_and_triplet_losses(n in 2usize..6, d in 1usize..4, seed in any::<u64>(), swap in any::<bool>(),
        margin in prop::sample::select(vec!["0", "0.3", "1"]), p in prop::sample::select(vec!["1", "2", "3"]),
        eps in prop::sample::select(vec!["1e-6", "0.1"]), cos_margin in prop::sample::select(vec!["-0.9", "0", "0.5"]),
        far in prop::sample::select(vec!["1", "2"]), circle_margin in prop::sample::select(vec!["0.25", "0.4"])) {
        let mut r = StdRng::seed_from_u64(seed);
        let emb = |r: &mut StdRng| tn(signed(r, n * d, 0.1, 1.5), &[n, d]);
        let swap = if swap { "true" } else { "false" };
        let case = (vec![], vec![("anchor", emb(&mut r)), ("positive", emb(&mut r)), ("negative", emb(&mut r))]);
        check("triplet_margin", &[("margin", margin), ("p", p), ("swap", swap), ("eps", eps)], case, seed);
        let pm: Vec<f64> = (0..n).map(|_| if r.gen_bool(0.5) { 1.0 } else { -1.0 }).collect();
        // x1 - x2 kept 0.05 away from the margin's kink: -y (x1 - x2) + margin = m, |m| >= 0.05.
        let x2 = uniform(&mut r, n, -1.0, 1.0);
        let mg: f64 = margin.parse().unwrap();
        let x1: Vec<f64> = x2.iter().zip(&pm).map(|(b, y)| b + (mg - signed(&mut r, 1, 0.05, 1.0)[0]) / y).collect();
        let case = (vec![("y_true", tn(pm.clone(), &[n]))], vec![("input1", tn(x1, &[n])), ("input2", tn(x2, &[n]))]);
        check("margin_ranking", &[("margin", margin)], case, seed);
        let case = (vec![("y_true", tn(pm, &[n]))], vec![("input1", emb(&mut r)), ("input2", emb(&mut r))]);
        check("cosine_embedding", &[("margin", cos_margin)], case, seed);
        let similar = tn((0..n).map(|_| if r.gen_bool(0.5) { 1.0 } else { 0.0 }).collect(), &[n]);
        let case = (vec![("y_true", similar)], vec![("x1", emb(&mut r)), ("x2", emb(&mut r))]);
        check("contrastive", &[("margin", far)], case, seed);
        // Circle: unit rows, two labels so that both sets are usually non-empty.
        let mut e = signed(&mut r, n * d.max(2), 0.1, 1.0);
        for row in e.chunks_mut(d.max(2)) {
            let s = row.iter().map(|v| v * v).sum::<f64>().sqrt();
            row.iter_mut().for_each(|v| *v /= s);
        }
        let circle_labels = tn(labels(&mut r, n, 2), &[n]);
        for (gamma, rd) in [("80", "true"), ("16", "false")] {
            let case = yp(circle_labels.clone(), tn(e.iter().map(|v| v * if rd == "false" { 0.8 } else { 1.0 }).collect(), &[n, d.max(2)]));
            check("circle", &[("gamma", gamma), ("margin", circle_margin), ("remove_diagonal", rd)], case, seed);
        }
    }

    #[test]
    fn keras_losses_with_weights_and_masks(n in 1usize..4, steps in 1usize..4, f in 1usize..4, seed in any::<u64>()) {
        let mut r = StdRng::seed_from_u64(seed);
        let y = tn(uniform(&mut r, n * steps * f, -1.0, 1.0), &[n, steps, f]);
        let p = tn(uniform(&mut r, n * steps * f, -1.0, 1.0), &[n, steps, f]);
        check("mean_squared_error", &[], yp(y.clone(), p.clone()), seed);
        check("log_cosh", &[], yp(y, p.clone()), seed);
        let bits = tn((0..n * steps * f).map(|_| if r.gen_bool(0.5) { 1.0 } else { 0.0 }).collect(), &[n, steps, f]);
        check("binary_crossentropy", &[("from_logits", "true")], yp(bits.clone(), p.clone()), seed);
        check("binary_focal_crossentropy", &[("from_logits", "true"), ("gamma", "1.5")], yp(bits, p), seed);
    }
}
