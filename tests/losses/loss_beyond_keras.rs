//! The losses beyond Keras at their edges, against values derived here: CTC against a brute-force
//! sum over every alignment, impossible alignments, the binary focal factor at probabilities of 0
//! and 1 and at saturated logits, sample weights and masks by hand, packed and named inputs,
//! bad inputs (one error naming the loss, the argument and the value), f32 against f64, and
//! training with `fit`.

use rand::rngs::StdRng;
use rand::SeedableRng;
use tapegrad::gradcheck::gradcheck;
use tapegrad::losses::{registry, sample_batch, Loss, LossInputs, LossOptions, EPSILON};
use tapegrad::nn::{Dense, Sequential};
use tapegrad::optim::Sgd;
use tapegrad::train::{FitConfig, LossFn, Verbose};
use tapegrad::{Tape, Tensor};

fn t(data: &[f64], shape: &[usize]) -> Tensor<f64> {
    Tensor::from_vec(data.to_vec(), shape)
}

/// Value and gradient wrt y_pred of `loss` on `(y_true, y_pred)`.
fn eval(loss: &Loss, y: Tensor<f64>, p: Tensor<f64>) -> (f64, Vec<f64>) {
    let tape = Tape::new();
    let (yv, pv) = (tape.constant(y), tape.var(p));
    let v = loss.call(yv, pv);
    let g = v.backward();
    (v.item(), g[pv].to_vec())
}

fn err(loss: &Loss, inputs: impl for<'t> Fn(&'t Tape<f64>) -> LossInputs<'t, f64>) -> String {
    let tape = Tape::new();
    loss.call_inputs(&inputs(&tape)).map(|v| v.item()).unwrap_err().to_string()
}

/// -log of the summed probability of every alignment of `labels` (blank 0) in `probs` (T x C),
/// enumerating all C^T paths and collapsing each.
fn brute_force_ctc(probs: &[Vec<f64>], labels: &[usize]) -> f64 {
    let (frames, c) = (probs.len(), probs[0].len());
    let mut total = 0.0;
    for code in 0..c.pow(frames as u32) {
        let path: Vec<usize> = (0..frames).map(|i| (code / c.pow(i as u32)) % c).collect();
        let mut collapsed = Vec::new();
        let mut prev = usize::MAX;
        for &k in &path {
            if k != prev && k != 0 {
                collapsed.push(k);
            }
            prev = k;
        }
        if collapsed == labels {
            total += path.iter().enumerate().map(|(i, &k)| probs[i][k]).product::<f64>();
        }
    }
    -total.ln()
}

fn softmax_rows(logits: &[f64], c: usize) -> Vec<Vec<f64>> {
    logits
        .chunks(c)
        .map(|r| {
            let m = r.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let s: f64 = r.iter().map(|v| (v - m).exp()).sum();
            r.iter().map(|v| (v - m).exp() / s).collect()
        })
        .collect()
}

#[test]
fn ctc_equals_the_sum_over_every_alignment_and_its_gradient_checks() {
    // Two samples, 4 frames, 3 classes: labels [1, 2] and [2, 2] (a repeat needs a blank between).
    let logits: Vec<f64> = (0..24).map(|i| ((i * 7 % 11) as f64 - 5.0) * 0.3).collect();
    let y = t(&[1.0, 2.0, 2.0, 2.0], &[2, 2]);
    let loss = Loss::with_args("ctc", &[("reduction", "none")]).unwrap();
    let tape = Tape::new();
    let v = loss.call(tape.constant(y.clone()), tape.var(t(&logits, &[2, 4, 3])));
    let got = v.value().to_vec();
    for (n, labels) in [[1usize, 2], [2, 2]].iter().enumerate() {
        let want = brute_force_ctc(&softmax_rows(&logits[n * 12..(n + 1) * 12], 3), labels);
        assert!((got[n] - want).abs() < 1e-12 * want, "sample {n}: {} vs {want}", got[n]);
    }
    let mean = Loss::new("ctc").unwrap();
    gradcheck(|v| mean.call(v[0].tape().constant(y.clone()), v[0]), &[t(&logits, &[2, 4, 3])]).unwrap();
    // The same problem time-first through PyTorch's ctc_loss, with sum reduction.
    let mut time_first = vec![0.0; 24];
    for n in 0..2 {
        for f in 0..4 {
            for k in 0..3 {
                time_first[(f * 2 + n) * 3 + k] = logits[(n * 4 + f) * 3 + k];
            }
        }
    }
    let torch = Loss::with_args("ctc_loss", &[("reduction", "sum")]).unwrap();
    let (s, _) = eval(&torch, y, t(&time_first, &[4, 2, 3]));
    assert!((s - got[0] - got[1]).abs() < 1e-12 * s);
}

#[test]
fn impossible_ctc_alignments_are_infinite_or_zero_with_zero_infinity() {
    // [1, 1] needs 3 frames (1, blank, 1); there are 2.
    let y = t(&[1.0, 1.0], &[1, 2]);
    let p = t(&[0.1, 0.2, 0.3, -0.1, 0.0, 0.4], &[2, 1, 3]);
    let (v, _) = eval(&Loss::with_args("ctc_loss", &[("reduction", "sum")]).unwrap(), y.clone(), p.clone());
    assert_eq!(v, f64::INFINITY);
    let zi = Loss::with_args("ctc_loss", &[("reduction", "sum"), ("zero_infinity", "true")]).unwrap();
    let (v, g) = eval(&zi, y, p);
    assert_eq!(v, 0.0);
    assert!(g.iter().all(|&x| x == 0.0), "{g:?}");
}

#[test]
fn binary_focal_factor_comes_from_the_unclipped_probability() {
    let focal = Loss::new("binary_focal_crossentropy").unwrap(); // gamma 2, no balancing
    // Completely wrong, saturated probabilities: bce is -log(eps) (clipped), the factor 1.
    let b1 = -EPSILON.ln();
    let b2 = -(1.0 - (1.0 - EPSILON)).ln();
    let (v, g) = eval(&focal, t(&[1.0, 0.0], &[1, 2]), t(&[0.0, 1.0], &[1, 2]));
    assert!((v - (b1 + b2) / 2.0).abs() < 1e-12 * v, "{v}");
    // d/dp (1 - p)^2 bce at p = 0 is -2 bce (the clipped bce has no gradient); mean over 2.
    assert!((g[0] + b1).abs() < 1e-12 * b1 && (g[1] - b2).abs() < 1e-12 * b2, "{g:?}");
    // A right, saturated prediction with gamma < 1: value 0, gradient 0 (Keras: inf or NaN).
    let half = Loss::with_args("binary_focal_crossentropy", &[("gamma", "0.5")]).unwrap();
    let (v, g) = eval(&half, t(&[1.0], &[1, 1]), t(&[1.0], &[1, 1]));
    assert_eq!((v, g), (0.0, vec![0.0]));
    // A logit whose sigmoid rounds to 1 against target 0: factor exactly 1, value the logit.
    let logits = Loss::with_args("binary_focal_crossentropy", &[("from_logits", "true")]).unwrap();
    let (v, g) = eval(&logits, t(&[0.0], &[1, 1]), t(&[40.0], &[1, 1]));
    assert_eq!(v, 40.0);
    assert_eq!(g, vec![1.0]);
    // A logit whose sigmoid is below eps: the factor's gradient is kept.
    let x = -20.0f64;
    let s = 1.0 / (1.0 + (-x).exp());
    let bce = (1.0 + x.exp()).ln() - x;
    let want_v = (1.0 - s).powi(2) * bce;
    let want_g = -2.0 * (1.0 - s) * s * (1.0 - s) * bce + (1.0 - s).powi(2) * (s - 1.0);
    let (v, g) = eval(&logits, t(&[1.0], &[1, 1]), t(&[x], &[1, 1]));
    assert!((v - want_v).abs() < 1e-12 * want_v, "{v} vs {want_v}");
    assert!((g[0] - want_g).abs() < 1e-12 * want_g.abs(), "{} vs {want_g}", g[0]);
}

#[test]
fn weights_and_masks_reduce_as_keras_by_hand() {
    // Per-sample MSE losses of (2, 3) time steps: l = p^2 with y_true = 0 and one feature.
    let p: Vec<f64> = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let l: Vec<f64> = p.iter().map(|v| v * v).collect();
    let w = [2.0, 0.5]; // (2, 1) weights
    let m = [1.0, 0.0, 1.0, 1.0, 1.0, 0.0];
    let run = |reduction: &str, weights: bool, mask: bool| -> f64 {
        let loss = Loss::with_args("mse", &[("reduction", reduction)]).unwrap();
        let tape = Tape::new();
        let sw = weights.then(|| tape.constant(t(&w, &[2, 1])));
        let mk = mask.then(|| tape.constant(t(&m, &[2, 3])));
        loss.call_weighted(tape.constant(Tensor::zeros(&[2, 3, 1])), tape.var(t(&p, &[2, 3, 1])), sw, mk).unwrap().item()
    };
    let wl: f64 = (0..6).map(|i| l[i] * w[i / 3] * m[i]).sum();
    assert_eq!(run("sum", true, true), wl);
    assert!((run("sum_over_batch_size", true, true) - wl / 4.0).abs() < 1e-12);
    let wsum: f64 = (0..6).map(|i| w[i / 3] * m[i]).sum();
    assert!((run("mean_with_sample_weight", true, true) - wl / wsum).abs() < 1e-12);
    let wl_all: f64 = (0..6).map(|i| l[i] * w[i / 3]).sum();
    assert!((run("mean_with_sample_weight", true, false) - wl_all / 2.5).abs() < 1e-12);
    assert!((run("sum_over_batch_size", true, false) - wl_all / 6.0).abs() < 1e-12);
    let ml: f64 = (0..6).map(|i| l[i] * m[i]).sum();
    assert!((run("mean_with_sample_weight", false, true) - ml / 4.0).abs() < 1e-12);
    // All weights zero: divide_no_nan gives 0 with gradient 0.
    let loss = Loss::with_args("mse", &[("reduction", "mean_with_sample_weight")]).unwrap();
    let tape = Tape::new();
    let pv = tape.var(t(&p, &[6, 1]));
    let v = loss.call_weighted(tape.constant(Tensor::zeros(&[6, 1])), pv, Some(tape.constant(Tensor::zeros(&[6]))), None).unwrap();
    assert_eq!(v.item(), 0.0);
    assert!(v.backward()[pv].iter().all(|&g| g == 0.0));
}

#[test]
fn sparse_labels_any_axis_smoothing_and_ignore_class() {
    // Sparse with smoothing equals categorical cross-entropy with smoothing on one-hot targets.
    let logits = t(&[0.3, -1.2, 2.0, 0.7, 0.1, -0.4], &[2, 3]);
    let sparse = Loss::with_args("sparse_categorical_crossentropy", &[("from_logits", "true"), ("label_smoothing", "0.2")]).unwrap();
    let cat = Loss::with_args("categorical_crossentropy", &[("from_logits", "true"), ("label_smoothing", "0.2")]).unwrap();
    let (a, ga) = eval(&sparse, t(&[2.0, 0.0], &[2]), logits.clone());
    let (b, gb) = eval(&cat, t(&[0.0, 0.0, 1.0, 1.0, 0.0, 0.0], &[2, 3]), logits.clone());
    assert!((a - b).abs() < 1e-12 && ga.iter().zip(&gb).all(|(x, y)| (x - y).abs() < 1e-12));
    // Classes on axis 0: the transposed problem.
    let ax0 = Loss::with_args("sparse_categorical_crossentropy", &[("from_logits", "true"), ("axis", "0")]).unwrap();
    let plain = Loss::with_args("sparse_categorical_crossentropy", &[("from_logits", "true")]).unwrap();
    let (c, _) = eval(&ax0, t(&[2.0, 0.0], &[2]), t(&[0.3, 0.7, -1.2, 0.1, 2.0, -0.4], &[3, 2]));
    let (d, _) = eval(&plain, t(&[2.0, 0.0], &[2]), logits.clone());
    assert!((c - d).abs() < 1e-12);
    // ignore_class 255: the mean is over the kept label only.
    let ign = Loss::with_args("sparse_categorical_crossentropy", &[("from_logits", "true"), ("ignore_class", "255")]).unwrap();
    let (e, g) = eval(&ign, t(&[2.0, 255.0], &[2]), logits.clone());
    let (f, _) = eval(&plain, t(&[2.0], &[1]), logits.slice_rows(0, 1));
    assert!((e - f).abs() < 1e-12);
    assert!(g[3..].iter().all(|&x| x == 0.0));
}

#[test]
fn packed_and_named_inputs_agree() {
    let tape = Tape::new();
    let y = tape.constant(t(&[0.5, -0.2], &[2, 1]));
    let mean = tape.var(t(&[0.1, 0.3], &[2, 1]));
    let var = tape.var(t(&[0.4, 1.5], &[2, 1]));
    let nll = Loss::new("gaussian_nll").unwrap();
    let named = nll.call_inputs(&LossInputs::new(y, mean).with("var", var)).unwrap().item();
    let packed = nll.call(y, tape.var(t(&[0.1, 0.4, 0.3, 1.5], &[2, 2]))).item();
    assert_eq!(named, packed);
    let d2 = [(0.1f64 - 0.5).powi(2) / 0.4, (0.3f64 + 0.2).powi(2) / 1.5];
    let want = 0.25 * (0.4f64.ln() + d2[0] + 1.5f64.ln() + d2[1]);
    assert!((named - want).abs() < 1e-14);
}

#[test]
fn bad_inputs_are_one_error_naming_loss_argument_and_value() {
    let mse = Loss::new("mse").unwrap();
    let e = err(&mse, |tp| {
        LossInputs::new(tp.constant(Tensor::zeros(&[2, 1])), tp.var(Tensor::zeros(&[2, 1]))).sample_weight(tp.constant(t(&[1.0, -0.5], &[2])))
    });
    assert!(e.contains("mean_squared_error") && e.contains("sample_weight") && e.contains("-0.5"), "{e}");
    let e = err(&mse, |tp| {
        LossInputs::new(tp.constant(Tensor::zeros(&[2, 3, 1])), tp.var(Tensor::zeros(&[2, 3, 1]))).sample_weight(tp.constant(t(&[1.0, 2.0], &[2])))
    });
    assert!(e.contains("sample_weight of shape [2]") && e.contains("[2, 3]") && e.contains("(2, 1)"), "{e}");
    let e = err(&mse, |tp| LossInputs::new(tp.constant(Tensor::zeros(&[2, 1])), tp.var(Tensor::zeros(&[2, 1]))).mask(tp.constant(Tensor::ones(&[3]))));
    assert!(e.contains("mask of shape [3]") && e.contains("[2]"), "{e}");
    let sparse = Loss::with_args("sparse_categorical_crossentropy", &[("ignore_class", "-1")]).unwrap();
    let e = err(&sparse, |tp| LossInputs::new(tp.constant(t(&[-1.0, 7.0], &[2])), tp.var(Tensor::ones(&[2, 3]))));
    assert!(e.contains("sparse_categorical_crossentropy") && e.contains("label 7") && e.contains("ignored class -1"), "{e}");
    let ctc = Loss::new("ctc").unwrap();
    let e = err(&ctc, |tp| LossInputs::new(tp.constant(t(&[1.0, 2.0, 1.0], &[1, 3])), tp.var(Tensor::zeros(&[1, 2, 3]))));
    assert!(e.contains("ctc: target 0 has 3 labels") && e.contains("2 frames"), "{e}");
    let e = Loss::with_args("quantile", &[("quantile", "1.5")]).unwrap_err().to_string();
    assert!(e.contains("quantile") && e.contains("1.5") && e.contains("(0, 1)"), "{e}");
    let e = Loss::with_args("tweedie", &[("power", "2.5")]).unwrap_err().to_string();
    assert!(e.starts_with("tweedie") && e.contains("power") && e.contains("2.5"), "{e}");
    // Options set directly are checked when the loss is called.
    let q = Loss::with_options("quantile", LossOptions { quantile: 0.0, ..LossOptions::default() }).unwrap();
    let e = err(&q, |tp| LossInputs::new(tp.constant(Tensor::zeros(&[1, 1])), tp.var(Tensor::zeros(&[1, 1]))));
    assert!(e.contains("quantile: quantile is 0"), "{e}");
    let g = Loss::new("gaussian_nll").unwrap();
    let e = err(&g, |tp| {
        LossInputs::new(tp.constant(Tensor::zeros(&[2, 1])), tp.var(Tensor::zeros(&[2, 1]))).with("var", tp.var(t(&[1.0, 0.0], &[2, 1])))
    });
    assert!(e.contains("gaussian_nll: var element 1 is 0"), "{e}");
    let e = err(&g, |tp| LossInputs::new(tp.constant(Tensor::zeros(&[2, 1])), tp.var(Tensor::zeros(&[2, 1]))));
    assert!(e.contains("missing input 'var'"), "{e}");
}

#[test]
fn f32_agrees_with_f64_for_every_loss_beyond_keras() {
    for info in registry().iter().skip(19) {
        let mut rng = StdRng::seed_from_u64(3);
        let (y, p) = sample_batch(info.kind, 3, 3, &mut rng);
        let loss = Loss::new(info.name).unwrap();
        let (v64, g64) = eval(&loss, y.clone(), p.clone());
        let tape = Tape::<f32>::new();
        let (yv, pv) = (tape.constant(y.cast::<f32>()), tape.var(p.cast::<f32>()));
        let v = loss.call(yv, pv);
        let g = v.backward();
        assert!((v.item() as f64 - v64).abs() <= 1e-4 * v64.abs().max(1.0), "{}: {} vs {v64}", info.name, v.item());
        for (a, b) in g[pv].iter().zip(&g64) {
            assert!((*a as f64 - b).abs() <= 1e-3 * b.abs().max(1.0), "{}: grad {a} vs {b}", info.name);
        }
    }
}

#[test]
fn fit_trains_on_class_ids_and_on_packed_outputs() {
    let x = t(&[0.0, 1.0, 1.0, 0.0, 0.5, 0.5, -1.0, 0.3], &[4, 2]);
    // cross_entropy on class ids of 3 classes.
    let net = Sequential::<f64>::with_seed(2, vec![Dense::new(3)], 1);
    let mut model = net.compile(LossFn::named("cross_entropy").unwrap(), Sgd::new(0.1), &[]);
    let h = model.fit(&x, &t(&[0.0, 2.0, 1.0, 2.0], &[4]), FitConfig::new(20).batch_size(4).verbose(Verbose::Silent)).unwrap();
    assert!(h.loss()[19] < h.loss()[0], "{:?}", h.loss());
    // smooth_l1 on two outputs, and contrastive on an output packing [x1 | x2].
    let net = Sequential::<f64>::with_seed(2, vec![Dense::new(2)], 0);
    let mut model = net.compile(LossFn::named("smooth_l1").unwrap(), Sgd::new(0.1), &[]);
    let h = model.fit(&x, &t(&[1.0, 0.0, 0.5, 0.5, 0.5, 0.5, -1.0, 0.0], &[4, 2]), FitConfig::new(20).batch_size(2).verbose(Verbose::Silent)).unwrap();
    assert!(h.loss()[19] < h.loss()[0], "{:?}", h.loss());
    let net = Sequential::<f64>::with_seed(2, vec![Dense::new(4)], 0);
    let mut model = net.compile(LossFn::named("contrastive").unwrap(), Sgd::new(0.05), &[]);
    let h = model.fit(&x, &t(&[1.0, 0.0, 1.0, 0.0], &[4]), FitConfig::new(20).batch_size(4).verbose(Verbose::Silent)).unwrap();
    assert!(h.loss()[19] < h.loss()[0], "{:?}", h.loss());
}
