//! The domain edges: probabilities of exactly 0 and 1, logits of +-1000, zero targets in MAPE,
//! exact fits at the kinks of MAE and hinge, a zero row in categorical cross-entropy, label
//! validation, the registry's names and errors, reductions, and f32 against f64.

use tapegrad::losses::{self, Loss, LossOptions, Reduction, EPSILON};
use tapegrad::{Tape, Tensor};

/// Value and d value / d y_pred of `loss` (default reduction) in f64.
fn eval(loss: &Loss, t: Tensor<f64>, p: Tensor<f64>) -> (f64, Vec<f64>) {
    let tape = Tape::new();
    let (t, p) = (tape.constant(t), tape.var(p));
    let v = loss.call(t, p);
    let g = v.backward();
    (v.item(), g[p].to_vec())
}

fn m(rows: &[&[f64]]) -> Tensor<f64> {
    Tensor::from_rows(&rows.iter().map(|r| r.to_vec()).collect::<Vec<_>>())
}

fn assert_finite(name: &str, v: f64, g: &[f64]) {
    assert!(v.is_finite(), "{name}: value {v}");
    assert!(g.iter().all(|x| x.is_finite()), "{name}: gradient {g:?}");
}

#[test]
fn probabilities_of_exactly_zero_and_one_stay_finite() {
    let t = m(&[&[1.0, 0.0, 0.0], &[0.0, 1.0, 0.0]]);
    let p = m(&[&[0.0, 1.0, 0.0], &[1.0, 0.0, 0.0]]);
    for name in [
        "binary_crossentropy",
        "binary_focal_crossentropy",
        "categorical_crossentropy",
        "categorical_focal_crossentropy",
        "kl_divergence",
        "poisson",
        "mean_squared_logarithmic_error",
        "dice",
        "tversky",
        "hinge",
        "categorical_hinge",
    ] {
        for gamma in ["0.5", "2"] {
            let mut args = vec![];
            if name.contains("focal") {
                args.push(("gamma", gamma));
            }
            let loss = Loss::with_args(name, &args).unwrap();
            let (v, g) = eval(&loss, t.clone(), p.clone());
            assert_finite(name, v, &g);
        }
    }
    // Completely wrong, confident predictions cost -log(eps) per element, not infinity.
    let bce = Loss::new("binary_crossentropy").unwrap();
    let (v, _) = eval(&bce, m(&[&[1.0, 0.0]]), m(&[&[0.0, 1.0]]));
    assert!((v - -(EPSILON.ln())).abs() < 1e-6, "{v}");
    let sparse = Loss::new("sparse_categorical_crossentropy").unwrap();
    let (v, g) = eval(&sparse, Tensor::from_vec(vec![0.0, 1.0], &[2]), p.slice_rows(0, 2));
    assert_finite("sparse_categorical_crossentropy", v, &g);
}

#[test]
fn logits_of_plus_minus_1000_stay_finite_and_exact() {
    let logits = |name: &str| Loss::with_args(name, &[("from_logits", "true")]).unwrap();
    let t = m(&[&[1.0, 0.0], &[0.0, 1.0]]);
    let good = m(&[&[1000.0, -1000.0], &[-1000.0, 1000.0]]);
    let bad = m(&[&[-1000.0, 1000.0], &[1000.0, -1000.0]]);
    // Right answers cost nothing, wrong ones cost the logit gap; gradients are sigmoid - t.
    let (v, g) = eval(&logits("binary_crossentropy"), t.clone(), good.clone());
    assert_eq!(v, 0.0);
    assert!(g.iter().all(|&x| x == 0.0), "{g:?}");
    let (v, g) = eval(&logits("binary_crossentropy"), t.clone(), bad.clone());
    assert_eq!(v, 1000.0);
    assert_eq!(g, vec![-0.25, 0.25, 0.25, -0.25]);
    let (v, g) = eval(&logits("categorical_crossentropy"), t.clone(), bad.clone());
    assert_eq!(v, 2000.0);
    assert_eq!(g, vec![-0.5, 0.5, 0.5, -0.5]);
    let (v, _) = eval(&logits("categorical_crossentropy"), t.clone(), good.clone());
    assert_eq!(v, 0.0);
    let (v, g) = eval(&logits("sparse_categorical_crossentropy"), Tensor::from_vec(vec![0.0, 1.0], &[2]), bad.clone());
    assert_eq!(v, 2000.0);
    assert_eq!(g, vec![-0.5, 0.5, 0.5, -0.5]);
    for name in ["binary_focal_crossentropy", "categorical_focal_crossentropy"] {
        for p in [&good, &bad] {
            let (v, g) = eval(&logits(name), t.clone(), p.clone());
            assert_finite(name, v, &g);
        }
    }
}

#[test]
fn mape_with_zero_targets_is_finite() {
    let mape = Loss::new("mape").unwrap();
    let (v, g) = eval(&mape, m(&[&[0.0, 2.0]]), m(&[&[0.5, 1.0]]));
    assert_finite("mape", v, &g);
    // 100 * mean(|0 - 0.5| / eps, |2 - 1| / 2)
    let expected = 100.0 * (0.5 / EPSILON + 0.5) / 2.0;
    assert!((v - expected).abs() <= 1e-9 * expected, "{v} vs {expected}");
    assert!((g[0] - 50.0 / EPSILON).abs() <= 1e-6 * g[0], "{g:?}");
}

#[test]
fn exact_fits_at_kinks_have_tensorflows_subgradients() {
    // |x| has gradient 0 at 0.
    let (v, g) = eval(&Loss::new("mae").unwrap(), m(&[&[1.0, -2.0]]), m(&[&[1.0, -2.0]]));
    assert_eq!((v, g), (0.0, vec![0.0, 0.0]));
    // A margin of exactly 0: maximum's tie sends the gradient to the margin, d/dp = -t / n.
    let (v, g) = eval(&Loss::new("hinge").unwrap(), m(&[&[1.0, -1.0]]), m(&[&[1.0, -1.0]]));
    assert_eq!((v, g), (0.0, vec![-0.5, 0.5]));
    let (v, g) = eval(&Loss::new("squared_hinge").unwrap(), m(&[&[1.0, -1.0]]), m(&[&[1.0, -1.0]]));
    assert_eq!((v, g), (0.0, vec![0.0, 0.0]));
    // Categorical hinge: two wrong classes tie for the maximum and share its gradient.
    let (v, g) = eval(&Loss::new("categorical_hinge").unwrap(), m(&[&[0.0, 0.0, 1.0]]), m(&[&[0.5, 0.5, 0.2]]));
    assert!((v - 1.3).abs() < 1e-12);
    assert_eq!(g, vec![0.5, 0.5, -1.0]);
    // Huber exactly at the threshold takes the quadratic branch: gradient e = delta.
    let (_, g) = eval(&Loss::new("huber").unwrap(), m(&[&[0.0]]), m(&[&[1.0]]));
    assert_eq!(g, vec![1.0]);
}

#[test]
fn categorical_crossentropy_of_a_zero_row_is_finite_where_keras_gives_nan() {
    let cce = Loss::new("categorical_crossentropy").unwrap();
    let (v, g) = eval(&cce, m(&[&[0.0, 1.0, 0.0], &[1.0, 0.0, 0.0]]), m(&[&[0.0, 0.0, 0.0], &[0.5, 0.25, 0.25]]));
    let expected = (-(EPSILON.ln()) - 0.5f64.ln()) / 2.0;
    assert!((v - expected).abs() < 1e-12, "{v} vs {expected}");
    assert_eq!(&g[..3], &[0.0, 0.0, 0.0]);
    assert!(g.iter().all(|x| x.is_finite()));
}

#[test]
fn cosine_similarity_of_a_zero_vector_is_zero_with_finite_gradient() {
    let (v, g) = eval(&Loss::new("cosine_similarity").unwrap(), m(&[&[1.0, 0.0]]), m(&[&[0.0, 0.0]]));
    assert_eq!(v, 0.0);
    assert_finite("cosine_similarity", v, &g);
    let (v, _) = eval(&Loss::new("cosine_similarity").unwrap(), m(&[&[1.0, 2.0]]), m(&[&[2.0, 4.0]]));
    assert!((v + 1.0).abs() < 1e-12);
}

#[test]
fn validate_reports_bad_targets_without_panicking() {
    let sparse = Loss::new("sparse_categorical_crossentropy").unwrap();
    let ok = Tensor::from_vec(vec![0.0, 2.0], &[2, 1]);
    assert!(sparse.validate(&ok, 3).is_ok());
    assert!(sparse.validate(&Tensor::from_vec(vec![0.0, 2.0], &[2]), 3).is_ok());
    let e = sparse.validate(&Tensor::from_vec(vec![0.0, 3.0], &[2]), 3).unwrap_err().to_string();
    assert!(e.contains("label 3") && e.contains("row 1") && e.contains("3 classes"), "{e}");
    let e = sparse.validate(&Tensor::from_vec(vec![0.5], &[1]), 3).unwrap_err().to_string();
    assert!(e.contains("0.5") && e.contains("integer"), "{e}");
    let e = sparse.validate(&Tensor::from_vec(vec![-1.0], &[1]), 3).unwrap_err().to_string();
    assert!(e.contains("-1"), "{e}");
    let e = sparse.validate(&Tensor::from_vec(vec![0.0; 6], &[2, 3]), 3).unwrap_err().to_string();
    assert!(e.contains("(n,)") && e.contains("categorical_crossentropy"), "{e}");

    let cce = Loss::new("categorical_crossentropy").unwrap();
    let e = cce.validate(&Tensor::<f64>::zeros(&[4, 2]), 3).unwrap_err().to_string();
    assert!(e.contains("2 column") && e.contains("outputs 3"), "{e}");
    let e = Loss::new("hinge").unwrap().validate(&m(&[&[1.0, 2.0]]), 2).unwrap_err().to_string();
    assert!(e.contains("{-1, 0, 1}") && e.contains('2'), "{e}");
    let e = Loss::new("bce").err().unwrap().to_string();
    assert!(e.contains("binary_crossentropy"));
    let e = Loss::new("binary_crossentropy").unwrap().validate(&m(&[&[1.5]]), 1).unwrap_err().to_string();
    assert!(e.contains("[0, 1]"), "{e}");
    let e = Loss::new("mse").unwrap().validate(&m(&[&[f64::NAN]]), 1).unwrap_err().to_string();
    assert!(e.contains("NaN"), "{e}");
    assert!(Loss::new("mse").unwrap().validate(&Tensor::from_vec(vec![1.0, 2.0], &[2]), 1).is_ok());
}

#[test]
#[should_panic(expected = "label 5 at row 0")]
fn calling_sparse_with_a_bad_label_panics_with_its_row() {
    let tape = Tape::new();
    let loss = Loss::new("sparse_categorical_crossentropy").unwrap();
    loss.call(tape.constant(Tensor::from_vec(vec![5.0], &[1])), tape.var(m(&[&[0.5, 0.5]])));
}

#[test]
#[should_panic(expected = "mean_squared_error: y_true of shape [2, 3] does not match y_pred of shape [2, 2]")]
fn mismatched_shapes_panic_naming_the_loss() {
    let tape = Tape::<f64>::new();
    Loss::new("mse").unwrap().call(tape.constant(Tensor::zeros(&[2, 3])), tape.var(Tensor::zeros(&[2, 2])));
}

#[test]
fn registry_names_aliases_and_errors() {
    let aliases = [
        ("mse", "mean_squared_error"),
        ("MAE", "mean_absolute_error"),
        ("mape", "mean_absolute_percentage_error"),
        ("msle", "mean_squared_logarithmic_error"),
        ("kld", "kl_divergence"),
        ("kullback_leibler_divergence", "kl_divergence"),
        ("logcosh", "log_cosh"),
        ("BinaryCrossentropy", "binary_crossentropy"),
    ];
    for (alias, name) in aliases {
        assert_eq!(Loss::new(alias).unwrap().name(), name);
    }
    let reg = losses::registry();
    assert_eq!(reg.len(), 36);
    let err = Loss::new("nope").unwrap_err().to_string();
    for info in reg {
        assert!(err.contains(info.name), "{err} lacks {}", info.name);
        for a in info.aliases {
            assert!(err.contains(a), "{err} lacks {a}");
        }
        assert!(!info.formula.is_empty() && info.options.contains(&"reduction"));
        assert_eq!(Loss::new(info.name).unwrap().info(), info);
        let twice = reg.iter().filter(|o| o.name == info.name || o.aliases.iter().any(|a| info.aliases.contains(a))).count();
        assert_eq!(twice, 1, "{} shares a name", info.name);
    }
    let e = Loss::with_args("mse", &[("from_logits", "true")]).unwrap_err().to_string();
    assert!(e.contains("does not read option 'from_logits'") && e.contains("reduction"), "{e}");
    let e = Loss::with_args("huber", &[("delta", "abc")]).unwrap_err().to_string();
    assert!(e.contains("delta") && e.contains("abc"), "{e}");
    let e = LossOptions::default().set("colour", "1").unwrap_err().to_string();
    assert!(e.contains("colour") && e.contains("label_smoothing"), "{e}");
    assert_eq!(Loss::new("tversky").unwrap().options().alpha, 0.5);
    assert_eq!(Loss::new("binary_focal_crossentropy").unwrap().options().alpha, 0.25);
}

#[test]
fn reductions() {
    let t = m(&[&[0.0, 1.0], &[1.0, 1.0], &[0.5, 0.0]]);
    let p = m(&[&[1.0, 1.0], &[0.0, 3.0], &[0.5, 0.5]]);
    let tape = Tape::new();
    let (tv, pv) = (tape.constant(t), tape.var(p));
    let with = |r| Loss::with_options("mse", LossOptions { reduction: r, ..Default::default() }).unwrap().call(tv, pv);
    let none = with(Reduction::None);
    assert_eq!(none.value().data(), &[0.5, 2.5, 0.125]);
    assert_eq!(with(Reduction::Sum).item(), 3.125);
    assert!((with(Reduction::SumOverBatchSize).item() - 3.125 / 3.0).abs() < 1e-15);
    // Dice is one value for the whole batch under every reduction.
    let dice = |r| Loss::with_options("dice", LossOptions { reduction: r, ..Default::default() }).unwrap().call(tv, pv);
    let d = dice(Reduction::None);
    assert!(d.shape().is_empty());
    assert_eq!(d.item(), dice(Reduction::Sum).item());
    assert_eq!(d.item(), dice(Reduction::SumOverBatchSize).item());
}

#[test]
fn keras_label_conventions() {
    // Hinge: {0, 1} labels mean {-1, 1}.
    let p = m(&[&[0.3, -0.7], &[2.0, 0.1]]);
    let (a, ga) = eval(&Loss::new("hinge").unwrap(), m(&[&[1.0, 0.0], &[0.0, 1.0]]), p.clone());
    let (b, gb) = eval(&Loss::new("hinge").unwrap(), m(&[&[1.0, -1.0], &[-1.0, 1.0]]), p.clone());
    assert_eq!((a, ga), (b, gb));
    // Sparse labels of shape (n,) and (n, 1), and their one-hot categorical twin, agree.
    let probs = m(&[&[0.2, 0.7, 0.1], &[0.6, 0.3, 0.1]]);
    let sparse = Loss::new("sparse_categorical_crossentropy").unwrap();
    let (a, ga) = eval(&sparse, Tensor::from_vec(vec![1.0, 0.0], &[2]), probs.clone());
    let (b, gb) = eval(&sparse, Tensor::from_vec(vec![1.0, 0.0], &[2, 1]), probs.clone());
    let (c, _) = eval(&Loss::new("categorical_crossentropy").unwrap(), m(&[&[0.0, 1.0, 0.0], &[1.0, 0.0, 0.0]]), probs);
    assert_eq!((a, &ga), (b, &gb));
    assert!((a - c).abs() < 1e-12);
    // Tversky with alpha = beta = 0.5 is dice (their eps terms differ by a factor 2).
    let (t, p) = (m(&[&[1.0, 0.0], &[1.0, 1.0]]), m(&[&[0.8, 0.3], &[0.4, 0.9]]));
    let (a, ga) = eval(&Loss::new("tversky").unwrap(), t.clone(), p.clone());
    let (b, gb) = eval(&Loss::new("dice").unwrap(), t, p);
    assert!((a - b).abs() < 1e-6 && ga.iter().zip(&gb).all(|(x, y)| (x - y).abs() < 1e-6));
}

#[test]
fn f32_agrees_with_f64_for_every_loss() {
    let t64 = m(&[&[0.0, 1.0, 0.0], &[1.0, 0.0, 0.0]]);
    let p64 = m(&[&[0.2, 0.5, 0.3], &[0.6, 0.1, 0.3]]);
    // The 19 Keras losses on one batch; the losses beyond Keras are checked in loss_beyond_keras.rs.
    for info in losses::registry().iter().take(19) {
        let loss = Loss::new(info.name).unwrap();
        let t = if info.name.starts_with("sparse") { Tensor::from_vec(vec![1.0, 0.0], &[2]) } else { t64.clone() };
        let (v64, g64) = eval(&loss, t.clone(), p64.clone());
        let tape = Tape::<f32>::new();
        let (tv, pv) = (tape.constant(t.cast::<f32>()), tape.var(p64.cast::<f32>()));
        let v = loss.call(tv, pv);
        let g = v.backward();
        assert!((v.item() as f64 - v64).abs() <= 1e-4 * v64.abs().max(1.0), "{}: {} vs {v64}", info.name, v.item());
        for (a, b) in g[pv].iter().zip(&g64) {
            assert!((*a as f64 - b).abs() <= 1e-3 * b.abs().max(1.0), "{}: grad {a} vs {b}", info.name);
        }
    }
}
