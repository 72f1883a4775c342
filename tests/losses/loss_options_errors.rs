//! Options and inputs of the losses beyond Keras that the reference fixture does not reach:
//! per-class weights of `categorical_crossentropy` (against PyTorch's `cross_entropy` case of the
//! fixture), the `eps` options below and above their clamps, dice and tversky with per-sample
//! weights and masks (Keras broadcasts the batch's one value), Keras' `ctc` with an impossible
//! alignment, and one error naming the loss, the argument and the value for each bad input.

use serde_json::Value;
use tapegrad::losses::{Loss, LossInputs, LossOptions};
use tapegrad::{Tape, Tensor, Var};

use crate::fixture::{arg_text, tensor};

fn t(data: &[f64], shape: &[usize]) -> Tensor<f64> {
    Tensor::from_vec(data.to_vec(), shape)
}

/// The error of `loss` on the inputs `build` makes (the call must fail).
fn err(loss: &Loss, build: impl for<'t> Fn(&'t Tape<f64>) -> LossInputs<'t, f64>) -> String {
    let tape = Tape::new();
    match loss.call_inputs(&build(&tape)) {
        Ok(v) => panic!("{}: expected an error, got {:?}", loss.name(), v.value().data()),
        Err(e) => e.to_string(),
    }
}

/// A constant of zeros on `tp`.
fn z<'t>(tp: &'t Tape<f64>, s: &[usize]) -> Var<'t, f64> {
    tp.constant(Tensor::zeros(s))
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs() + 1e-15
}

#[test]
fn categorical_crossentropy_class_weights_equal_pytorch_cross_entropy_on_probability_targets() {
    // The fixture's PyTorch case: cross_entropy(logits, probability targets, weight, label_smoothing).
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/more_losses.json")).unwrap();
    let root: Value = serde_json::from_str(&text).unwrap();
    let case = root["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["loss"] == "cross_entropy" && c["tag"] == "class-probability targets")
        .expect("the fixture's probability-target cross_entropy case")
        .clone();
    let weight = arg_text(&case["args"]["weight"]);
    let smoothing = arg_text(&case["args"]["label_smoothing"]);
    assert_eq!(case["args"]["reduction"], "mean");
    // Keras' categorical cross-entropy from logits with the same class weights and smoothing; its
    // sum_over_batch_size divides by the samples, as PyTorch's mean for probability targets.
    let cce = Loss::with_args(
        "categorical_crossentropy",
        &[("from_logits", "true"), ("weight", &weight), ("label_smoothing", &smoothing)],
    )
    .unwrap();
    let tape = Tape::new();
    let y = tape.constant(tensor(&case["inputs"]["y_true"], "y_true"));
    let p = tape.var(tensor(&case["inputs"]["y_pred"], "y_pred"));
    let v = cce.call(y, p);
    let want = case["value"].as_f64().unwrap();
    assert!(close(v.item(), want, 1e-9), "{} vs {want}", v.item());
    let g = v.backward();
    let gw = tensor(&case["grads"]["y_pred"], "grads");
    for (a, b) in g[p].iter().zip(gw.data()) {
        assert!((a - b).abs() <= 1e-7 * b.abs() + 1e-12, "grad {a} vs {b}");
    }
    // From probabilities, by hand: -sum_c w_c t_c log(p_c / sum(p)).
    let w = [0.5, 2.0, 1.0];
    let probs = [0.2, 0.5, 0.3, 0.6, 0.3, 0.1];
    let targets = [0.0, 1.0, 0.0, 0.3, 0.0, 0.7];
    let cce = Loss::with_args("categorical_crossentropy", &[("weight", "[0.5, 2, 1]"), ("reduction", "none")]).unwrap();
    let tape = Tape::new();
    let v = cce.call(tape.constant(t(&targets, &[2, 3])), tape.var(t(&probs, &[2, 3])));
    for (r, &got) in v.value().data().iter().enumerate() {
        let want: f64 = (0..3).map(|c| -w[c] * targets[r * 3 + c] * probs[r * 3 + c].ln()).sum();
        assert!(close(got, want, 1e-12), "row {r}: {got} vs {want}");
    }
}

#[test]
fn eps_options_clamp_as_pytorch() {
    // gaussian_nll: v = max(var, eps) in value, the gradient passed through to var (PyTorch clamps
    // a copy under no_grad).
    let (y, mu) = ([0.5, -0.2], [0.1, 0.4]);
    for (eps, var) in [("1e-6", [1e-8, 0.3]), ("0.5", [0.3, 2.0])] {
        let e: f64 = eps.parse().unwrap();
        let loss = Loss::with_args("gaussian_nll", &[("eps", eps), ("reduction", "none")]).unwrap();
        let tape = Tape::new();
        let (mv, vv) = (tape.var(t(&mu, &[2, 1])), tape.var(t(&var, &[2, 1])));
        let out = loss.call_inputs(&LossInputs::new(tape.constant(t(&y, &[2, 1])), mv).with("var", vv)).unwrap();
        let g = out.sum().backward();
        for i in 0..2 {
            let v = var[i].max(e);
            let d = mu[i] - y[i];
            assert!(close(out.value().data()[i], 0.5 * (v.ln() + d * d / v), 1e-12), "eps {eps} value {i}");
            assert!(close(g[mv][i], d / v, 1e-12), "eps {eps} d/dmean {i}");
            assert!(close(g[vv][i], 0.5 * (1.0 / v - d * d / (v * v)), 1e-12), "eps {eps} d/dvar {i}");
        }
    }
    // poisson_nll without log_input: x - t log(x + eps).
    let (counts, rate) = ([2.0, 0.0, 3.0], [0.5, 1.5, 0.01]);
    let loss = Loss::with_args("poisson_nll", &[("log_input", "false"), ("eps", "0.1"), ("reduction", "none")]).unwrap();
    let tape = Tape::new();
    let x = tape.var(t(&rate, &[3]));
    let out = loss.call(tape.constant(t(&counts, &[3])), x);
    let g = out.sum().backward();
    for i in 0..3 {
        assert!(close(out.value().data()[i], rate[i] - counts[i] * (rate[i] + 0.1).ln(), 1e-12));
        assert!(close(g[x][i], 1.0 - counts[i] / (rate[i] + 0.1), 1e-12));
    }
    // triplet_margin: d(x, y) = ||x - y + eps||_p.
    let (a, p, n) = ([0.0, 1.0], [0.5, 0.5], [1.0, 2.0]);
    let loss = Loss::with_args("triplet_margin", &[("eps", "0.1"), ("margin", "2")]).unwrap();
    let tape = Tape::new();
    let inputs = LossInputs::empty()
        .with("anchor", tape.var(t(&a, &[1, 2])))
        .with("positive", tape.var(t(&p, &[1, 2])))
        .with("negative", tape.var(t(&n, &[1, 2])));
    let d = |x: [f64; 2], y: [f64; 2]| ((x[0] - y[0] + 0.1).powi(2) + (x[1] - y[1] + 0.1).powi(2)).sqrt();
    let want = 2.0 + d(a, p) - d(a, n);
    assert!(close(loss.call_inputs(&inputs).unwrap().item(), want, 1e-12));
}

#[test]
fn dice_and_tversky_broadcast_their_batch_value_over_weights_and_masks() {
    let y = t(&[1.0, 0.0, 1.0, 1.0, 0.0, 0.0], &[3, 2]);
    let p = t(&[0.8, 0.3, 0.4, 0.9, 0.2, 0.1], &[3, 2]);
    let w = [2.0, 0.5, 1.0];
    let m = [1.0, 0.0, 1.0];
    for name in ["dice", "tversky"] {
        let plain = Loss::new(name).unwrap();
        let tape = Tape::new();
        let pv = tape.var(p.clone());
        let d = plain.call(tape.constant(y.clone()), pv);
        let gd = d.backward()[pv].to_vec();
        let d = d.item();
        let run = |reduction: &str, mask: bool| -> (Vec<f64>, Vec<f64>) {
            let loss = Loss::with_args(name, &[("reduction", reduction)]).unwrap();
            let tape = Tape::new();
            let pv = tape.var(p.clone());
            let mk = mask.then(|| tape.constant(t(&m, &[3])));
            let v = loss.call_weighted(tape.constant(y.clone()), pv, Some(tape.constant(t(&w, &[3]))), mk).unwrap();
            let g = v.sum().backward()[pv].to_vec();
            (v.value().to_vec(), g)
        };
        let wm: Vec<f64> = w.iter().zip(&m).map(|(a, b)| a * b).collect();
        // (reduction, mask, expected values, factor of dice's gradient)
        let expected: [(&str, bool, Vec<f64>, f64); 6] = [
            ("none", false, w.iter().map(|x| d * x).collect(), 3.5),
            ("sum", false, vec![3.5 * d], 3.5),
            ("sum_over_batch_size", false, vec![3.5 * d / 3.0], 3.5 / 3.0),
            ("mean_with_sample_weight", false, vec![d], 1.0),
            ("sum_over_batch_size", true, vec![3.0 * d / 2.0], 1.5),
            ("none", true, wm.iter().map(|x| d * x).collect(), 3.0),
        ];
        for (reduction, mask, want, factor) in expected {
            let (got, g) = run(reduction, mask);
            assert_eq!(got.len(), want.len(), "{name} {reduction} mask={mask}");
            for (a, b) in got.iter().zip(&want) {
                assert!(close(*a, *b, 1e-12), "{name} {reduction} mask={mask}: {got:?} vs {want:?}");
            }
            for (a, b) in g.iter().zip(&gd) {
                assert!(close(*a, factor * b, 1e-12), "{name} {reduction} mask={mask}: grad {a} vs {}", factor * b);
            }
        }
    }
}

#[test]
fn keras_ctc_with_an_impossible_alignment_is_infinite() {
    // [1, 1] needs 3 frames (1, blank, 1); there are 2. Keras' ctc has no zero_infinity.
    let loss = Loss::with_args("ctc", &[("reduction", "none")]).unwrap();
    let tape = Tape::new();
    let v = loss.call(tape.constant(t(&[1.0, 1.0, 2.0, 0.0], &[2, 2])), tape.var(t(&[0.1, 0.2, 0.3, -0.1, 0.0, 0.4, 0.3, 0.1, 0.2, 0.5, -0.2, 0.0], &[2, 2, 3])));
    assert_eq!(v.value().data()[0], f64::INFINITY);
    assert!(v.value().data()[1].is_finite());
}

#[test]
fn each_bad_input_is_one_error_naming_loss_argument_and_value() {
    // Labels outside the class range that are not the ignored index.
    let nll = Loss::new("nll").unwrap();
    let e = err(&nll, |tp| LossInputs::new(tp.constant(t(&[0.0, 5.0], &[2])), tp.var(Tensor::zeros(&[2, 3]))));
    assert!(e.starts_with("nll:") && e.contains("y_true label 5") && e.contains("0..3") && e.contains("-100"), "{e}");
    let ce = Loss::with_args("cross_entropy", &[("ignore_index", "1")]).unwrap();
    let e = err(&ce, |tp| LossInputs::new(tp.constant(t(&[1.0, -2.0], &[2])), tp.var(Tensor::zeros(&[2, 3]))));
    assert!(e.starts_with("cross_entropy:") && e.contains("y_true label -2") && e.contains("ignored class 1"), "{e}");
    let gce = Loss::new("categorical_generalized_cross_entropy").unwrap();
    let e = err(&gce, |tp| LossInputs::new(tp.constant(t(&[3.0], &[1])), tp.var(Tensor::ones(&[1, 3]))));
    assert!(e.starts_with("categorical_generalized_cross_entropy:") && e.contains("label 3"), "{e}");
    // Class weights of the wrong count or sign, given as text or set directly.
    let e = err(&Loss::with_args("cross_entropy", &[("weight", "[1, 2]")]).unwrap(), |tp| {
        LossInputs::new(tp.constant(t(&[0.0], &[1])), tp.var(Tensor::zeros(&[1, 3])))
    });
    assert!(e.contains("cross_entropy: weight has 2 entries") && e.contains("3 classes"), "{e}");
    let e = Loss::with_args("nll", &[("weight", "[1, -2]")]).unwrap_err().to_string();
    assert!(e.starts_with("nll:") && e.contains("'weight'") && e.contains("[1, -2]"), "{e}");
    for (name, y) in [("categorical_crossentropy", [0.0, 1.0]), ("nll", [1.0, 0.0]), ("multilabel_soft_margin", [0.0, 1.0])] {
        let opts = LossOptions { weight: Some(vec![1.0, -0.5]), ..LossOptions::for_loss(name).unwrap() };
        let loss = Loss::with_options(name, opts).unwrap();
        let y = if name == "nll" { t(&y[..1], &[1]) } else { t(&y, &[1, 2]) };
        let e = err(&loss, |tp| LossInputs::new(tp.constant(y.clone()), tp.var(Tensor::ones(&[1, 2]))));
        assert!(e.starts_with(&format!("{name}: weight element 1 is -0.5")), "{e}");
        let opts = LossOptions { weight: Some(vec![1.0, 1.0, 1.0]), ..LossOptions::for_loss(name).unwrap() };
        let e = err(&Loss::with_options(name, opts).unwrap(), |tp| LossInputs::new(tp.constant(y.clone()), tp.var(Tensor::ones(&[1, 2]))));
        assert!(e.starts_with(&format!("{name}: weight has 3 entries")) && e.contains("2 classes"), "{e}");
    }
    // Sample weights that are not finite, masks that are not 0/1.
    let mse = Loss::new("mse").unwrap();
    let e = err(&mse, |tp| LossInputs::new(z(tp, &[2, 1]), tp.var(Tensor::zeros(&[2, 1]))).sample_weight(tp.constant(t(&[1.0, f64::NAN], &[2]))));
    assert!(e.starts_with("mean_squared_error: sample_weight element 1 is NaN"), "{e}");
    let e = err(&mse, |tp| LossInputs::new(z(tp, &[2, 1]), tp.var(Tensor::zeros(&[2, 1]))).mask(tp.constant(t(&[1.0, 0.5], &[2]))));
    assert!(e.starts_with("mean_squared_error: mask element 1 is 0.5"), "{e}");
    let e = err(&mse, |tp| LossInputs::new(z(tp, &[2, 1]), tp.var(Tensor::zeros(&[2, 1]))).sample_weight(tp.constant(t(&[1.0, 1.0, 1.0], &[3]))));
    assert!(e.contains("sample_weight of shape [3]") && e.contains("[2]"), "{e}");
    // Variances that are not positive, or of a shape that does not fit.
    let g = Loss::new("gaussian_nll").unwrap();
    let e = err(&g, |tp| LossInputs::new(z(tp, &[2, 1]), tp.var(Tensor::zeros(&[2, 1]))).with("var", tp.var(t(&[-0.5, 1.0], &[2, 1]))));
    assert!(e.starts_with("gaussian_nll: var element 0 is -0.5"), "{e}");
    let e = err(&g, |tp| LossInputs::new(z(tp, &[2, 2]), tp.var(Tensor::zeros(&[2, 2]))).with("var", tp.var(Tensor::ones(&[3]))));
    assert!(e.starts_with("gaussian_nll: var of shape [3]") && e.contains("[2, 2]"), "{e}");
    // Tweedie: power outside (1, 2) set directly, predictions that are not positive, negative targets.
    let tw = Loss::with_options("tweedie", LossOptions { power: 2.0, ..LossOptions::for_loss("tweedie").unwrap() }).unwrap();
    let e = err(&tw, |tp| LossInputs::new(z(tp, &[1]), tp.var(Tensor::ones(&[1]))));
    assert!(e.starts_with("tweedie: power is 2"), "{e}");
    let tw = Loss::new("tweedie").unwrap();
    let e = err(&tw, |tp| LossInputs::new(z(tp, &[2]), tp.var(t(&[1.0, 0.0], &[2]))));
    assert!(e.starts_with("tweedie: y_pred element 1 is 0"), "{e}");
    let e = err(&tw, |tp| LossInputs::new(tp.constant(t(&[-1.0, 1.0], &[2])), tp.var(Tensor::ones(&[2]))));
    assert!(e.starts_with("tweedie: y_true element 0 is -1"), "{e}");
    let e = Loss::with_args("tweedie", &[("power", "1")]).unwrap_err().to_string();
    assert!(e.starts_with("tweedie:") && e.contains("'power'") && e.contains("'1'"), "{e}");
    // Quantiles outside (0, 1).
    for q in ["0", "1", "-0.2"] {
        let e = Loss::with_args("quantile", &[("quantile", q)]).unwrap_err().to_string();
        assert!(e.starts_with("quantile:") && e.contains("'quantile'") && e.contains(&format!("'{q}'")), "{e}");
    }
    // PyTorch's CTC: a target longer than its input length.
    let ctc = Loss::new("ctc_loss").unwrap();
    let e = err(&ctc, |tp| {
        LossInputs::new(tp.constant(t(&[1.0, 2.0, 1.0], &[1, 3])), tp.var(Tensor::zeros(&[4, 1, 3])))
            .with("input_lengths", tp.constant(t(&[2.0], &[1])))
            .with("target_lengths", tp.constant(t(&[3.0], &[1])))
    });
    assert!(e.starts_with("ctc_loss: target 0 has 3 labels") && e.contains("only 2 frames"), "{e}");
    // A norm degree below 1 set directly.
    let tm = Loss::with_options("triplet_margin", LossOptions { p: 0.5, ..LossOptions::for_loss("triplet_margin").unwrap() }).unwrap();
    let e = err(&tm, |tp| {
        LossInputs::empty().with("anchor", tp.var(Tensor::ones(&[1, 2]))).with("positive", tp.var(Tensor::ones(&[1, 2]))).with("negative", tp.var(Tensor::zeros(&[1, 2])))
    });
    assert!(e.starts_with("triplet_margin: p is 0.5"), "{e}");
}

#[test]
fn mean_with_sample_weight_without_weights_is_the_mean_for_pytorch_losses_too() {
    // nll with class weights divides by the kept targets' weights; ctc_loss by the target lengths.
    let y = t(&[0.0, 2.0, 1.0], &[3]);
    let x = t(&[-0.5, -1.2, -2.0, -0.3, -0.9, -1.4, -2.2, -0.1, -0.7], &[3, 3]);
    let w = "[0.5, 2, 1.5]";
    let values = |name: &str, args: &[(&str, &str)], y: &Tensor<f64>, x: &Tensor<f64>| -> Vec<(f64, Vec<f64>)> {
        ["mean", "mean_with_sample_weight"]
            .iter()
            .map(|r| {
                let mut a = args.to_vec();
                a.push(("reduction", r));
                let loss = Loss::with_args(name, &a).unwrap();
                let tape = Tape::new();
                let xv = tape.var(x.clone());
                let v = loss.call(tape.constant(y.clone()), xv);
                let g = v.backward()[xv].to_vec();
                (v.item(), g)
            })
            .collect()
    };
    let nll = values("nll", &[("weight", w)], &y, &x);
    let want = (0.5 * 0.5 + 1.5 * 1.4 + 2.0 * 0.1) / (0.5 + 1.5 + 2.0);
    assert!(close(nll[0].0, want, 1e-12), "{} vs {want}", nll[0].0);
    assert_eq!(nll[0], nll[1]);
    let ctc_y = t(&[1.0, 2.0, 2.0, 0.0], &[2, 2]);
    let ctc_x = t(&(0..24).map(|i| ((i * 5 % 7) as f64 - 3.0) * 0.2).collect::<Vec<_>>(), &[4, 2, 3]);
    let ctc = values("ctc_loss", &[], &ctc_y, &ctc_x);
    let none = Loss::with_args("ctc_loss", &[("reduction", "none")]).unwrap();
    let tape = Tape::new();
    let per = none.call_inputs(&LossInputs::new(tape.constant(ctc_y.clone()), tape.var(ctc_x.clone())).with("target_lengths", tape.constant(t(&[2.0, 1.0], &[2])))).unwrap();
    // PyTorch's mean: the batch mean of loss / target length; rows padded with the blank 0.
    let want = (per.value().data()[0] / 2.0 + per.value().data()[1]) / 2.0;
    assert!(close(ctc[0].0, want, 1e-12), "{} vs {want}", ctc[0].0);
    assert_eq!(ctc[0], ctc[1]);
}

#[test]
fn fit_refuses_negative_tweedie_targets_before_training() {
    let e = Loss::new("tweedie").unwrap().validate(&t(&[1.0, -0.5], &[2, 1]), 1).unwrap_err().to_string();
    assert!(e.starts_with("tweedie: target -0.5 at element 1 is negative"), "{e}");
    assert!(Loss::new("tweedie").unwrap().validate(&t(&[1.0, 0.0], &[2, 1]), 1).is_ok());
}
