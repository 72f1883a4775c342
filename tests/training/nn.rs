//! Layers, initializers, the summary table, metrics and optimizer defaults.

use rand::{rngs::StdRng, SeedableRng};
use tapegrad::metrics::{log_loss, log_loss_multiclass, mean_squared_error, Metric, MetricState};
use tapegrad::nn::{Activation, Dense, Init, Sequential};
use tapegrad::optim::{Adagrad, Adam, AdamW, Optimizer, RmsProp, Sgd};
use tapegrad::{gradcheck, Tape, Tensor};

fn stats(t: &Tensor<f64>) -> (f64, f64, f64) {
    let n = t.len() as f64;
    let mean = t.data().iter().sum::<f64>() / n;
    let var = t.data().iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let max = t.data().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    (mean, var, max)
}

#[test]
fn initializers_follow_keras_fan_rules() {
    let mut rng = StdRng::seed_from_u64(0);
    let (fan_in, fan_out) = (200usize, 100usize);
    let shape = [fan_in, fan_out];
    // Uniform(-l, l) has variance l^2 / 3.
    let cases = [
        (Init::GlorotUniform, (6.0 / 300.0f64).sqrt(), 2.0 / 300.0),
        (Init::HeUniform, (6.0 / 200.0f64).sqrt(), 2.0 / 200.0),
    ];
    for (init, limit, var) in cases {
        let w = init.sample::<f64, _>(&shape, &mut rng);
        let (m, v, max) = stats(&w);
        assert!(max <= limit, "{init}: {max} beyond {limit}");
        assert!(max > 0.99 * limit, "{init}: draws do not reach the limit");
        assert!(m.abs() < 0.01 * limit.max(1.0), "{init}: mean {m}");
        assert!((v / var - 1.0).abs() < 0.05, "{init}: variance {v} vs {var}");
    }
    // Truncated normals keep the target variance (Keras' 0.8796 correction) and stay within 2 std.
    for (init, var) in [(Init::GlorotNormal, 2.0 / 300.0), (Init::HeNormal, 2.0 / 200.0f64)] {
        let w = init.sample::<f64, _>(&shape, &mut rng);
        let (_, v, max) = stats(&w);
        let std = var.sqrt() / 0.879_625_661_034_239_8;
        assert!(max <= 2.0 * std + 1e-12, "{init}: {max} beyond two std");
        assert!((v / var - 1.0).abs() < 0.05, "{init}: variance {v} vs {var}");
    }
    assert!(Init::Zeros.sample::<f32, _>(&[3], &mut rng).data().iter().all(|&v| v == 0.0));
    assert!(Init::Ones.sample::<f32, _>(&[3], &mut rng).data().iter().all(|&v| v == 1.0));
    assert!(Init::Constant(0.25).sample::<f64, _>(&[2, 2], &mut rng).data().iter().all(|&v| v == 0.25));
    assert_eq!(Init::fans(&[3, 4]), (3.0, 4.0));
    assert_eq!(Init::from_name("he_normal"), Some(Init::HeNormal));
}

fn two_layer(seed: u64) -> Sequential<f64> {
    Sequential::with_seed(
        2,
        vec![
            Dense::new(5).activation(Activation::Relu).kernel_initializer(Init::HeNormal),
            Dense::new(3).activation(Activation::Softmax).bias_initializer(Init::Constant(0.1)),
        ],
        seed,
    )
}

#[test]
fn sequential_is_seeded_named_and_counted() {
    let (a, b, c) = (two_layer(1), two_layer(1), two_layer(2));
    assert_eq!(a.parameters(), b.parameters());
    assert_ne!(a.parameters()[0], c.parameters()[0]);
    let names: Vec<&str> = a.named_parameters().iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"]);
    assert_eq!(a.parameter("dense_1/kernel").unwrap().shape(), &[5, 3]);
    assert!(a.parameter("dense/bias").unwrap().data().iter().all(|&v| v == 0.0));
    assert!(a.parameter("dense_1/bias").unwrap().data().iter().all(|&v| v == 0.1));
    assert_eq!(a.count_params(), 2 * 5 + 5 + 5 * 3 + 3);
    assert_eq!(a.output_width(), 3);
    let no_bias = Sequential::<f64>::with_seed(4, vec![Dense::new(2).use_bias(false).name("head")], 0);
    assert_eq!(no_bias.named_parameters().len(), 1);
    assert_eq!(no_bias.named_parameters()[0].0, "head/kernel");
}

#[test]
fn forward_matches_the_formula_and_its_gradient_checks() {
    let net = two_layer(3);
    let x = Tensor::from_vec(vec![0.3, -1.2, 0.8, 0.5, -0.1, 0.05], &[3, 2]);
    let tape = Tape::new();
    let out = net.forward(&tape, tape.constant(x.clone())).value();
    let p = net.parameters();
    for r in 0..3 {
        let h: Vec<f64> = (0..5)
            .map(|j| (x.get(&[r, 0]) * p[0].get(&[0, j]) + x.get(&[r, 1]) * p[0].get(&[1, j]) + p[1].data()[j]).max(0.0))
            .collect();
        let z: Vec<f64> = (0..3).map(|k| (0..5).map(|j| h[j] * p[2].get(&[j, k])).sum::<f64>() + p[3].data()[k]).collect();
        let zmax = z.iter().cloned().fold(f64::MIN, f64::max);
        let s: f64 = z.iter().map(|v| (v - zmax).exp()).sum();
        for (k, zk) in z.iter().enumerate() {
            let want = (zk - zmax).exp() / s;
            assert!((out.get(&[r, k]) - want).abs() < 1e-14);
        }
    }
    // Gradients through forward_with agree with finite differences.
    let report = gradcheck(
        |v| {
            let params = [v[1], v[2], v[3], v[4]];
            (net.forward_with(&params, v[0]) * v[0].sum_axis(-1, true)).sum()
        },
        &[x, p[0].clone(), p[1].clone(), p[2].clone(), p[3].clone()],
    );
    assert!(report.is_ok(), "{:?}", report.err());
}

#[test]
fn summary_is_a_keras_table() {
    let net = Sequential::<f32>::with_seed(
        2,
        vec![Dense::new(50).activation(Activation::Relu), Dense::new(1).activation(Activation::Sigmoid)],
        0,
    );
    let s = net.summary();
    println!("{s}");
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines[0], "Model: \"sequential\"");
    assert!(lines[2].contains("Layer (type)") && lines[2].contains("Output Shape") && lines[2].contains("Param #"));
    let row = lines.iter().find(|l| l.contains("dense (Dense)")).unwrap();
    assert!(row.contains("(None, 50)") && row.trim_end_matches(['│', ' ']).ends_with("150"), "{row}");
    assert!(lines.iter().any(|l| l.contains("dense_1 (Dense)") && l.contains("51")));
    assert!(s.contains(" Total params: 201 (804.00 B)"));
    assert!(s.contains(" Trainable params: 201 (804.00 B)"));
    assert!(s.contains(" Non-trainable params: 0 (0.00 B)"));
    // Every table line has the same width.
    let widths: Vec<usize> = lines[1..lines.len() - 3].iter().map(|l| l.chars().count()).collect();
    assert!(widths.windows(2).all(|w| w[0] == w[1]), "{widths:?}");
}

#[test]
fn accuracies_resolve_and_score_as_keras() {
    assert_eq!(Metric::resolve_accuracy(false, 1, 1, false, false), Metric::BinaryAccuracy);
    assert_eq!(Metric::resolve_accuracy(false, 1, 1, true, false), Metric::SignAccuracy);
    assert_eq!(Metric::resolve_accuracy(false, 1, 1, false, true), Metric::SignAccuracy);
    assert_eq!(Metric::resolve_accuracy(false, 3, 3, false, false), Metric::CategoricalAccuracy);
    assert_eq!(Metric::resolve_accuracy(true, 1, 3, false, false), Metric::SparseCategoricalAccuracy);
    let score = |m: Metric, t: &[f64], tw: usize, p: &[f64], pw: usize| {
        let mut s = MetricState::new(m);
        s.update(t, tw, p, pw);
        s.result()
    };
    assert_eq!(score(Metric::BinaryAccuracy, &[1.0, 0.0, 1.0, 0.0], 1, &[0.7, 0.2, 0.4, 0.6], 1), 0.5);
    assert_eq!(score(Metric::SignAccuracy, &[1.0, -1.0, 1.0], 1, &[0.3, -0.2, -0.9], 1), 2.0 / 3.0);
    let onehot = [0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
    assert_eq!(score(Metric::CategoricalAccuracy, &onehot, 3, &[0.1, 0.8, 0.1, 0.2, 0.5, 0.3], 3), 0.5);
    assert_eq!(score(Metric::SparseCategoricalAccuracy, &[1.0, 2.0], 1, &[0.1, 0.8, 0.1, 0.2, 0.5, 0.3], 3), 0.5);
    assert_eq!(score(Metric::Mse, &[1.0, 2.0], 1, &[2.0, 4.0], 1), 2.5);
    assert_eq!(score(Metric::Rmse, &[1.0, 2.0], 1, &[2.0, 4.0], 1), 2.5f64.sqrt());
    assert_eq!(score(Metric::Mae, &[1.0, 2.0], 1, &[2.0, 4.0], 1), 1.5);
    assert_eq!("acc".parse::<Metric>(), Ok(Metric::Accuracy));
    assert!("f1".parse::<Metric>().is_err());
}

#[test]
fn sklearn_functions() {
    assert_eq!(mean_squared_error(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0]).unwrap(), 0.375);
    assert!(mean_squared_error(&[1.0], &[1.0, 2.0]).is_err());
    // sklearn: log_loss([0, 1, 1, 0], [0.1, 0.8, 0.6, 0.3]) by the formula.
    let want = -(0.9f64.ln() + 0.8f64.ln() + 0.6f64.ln() + 0.7f64.ln()) / 4.0;
    assert!((log_loss(&[0.0, 1.0, 1.0, 0.0], &[0.1, 0.8, 0.6, 0.3]).unwrap() - want).abs() < 1e-15);
    // Clipping at machine epsilon: a confident miss costs -ln(eps), by element type.
    let l64 = log_loss(&[1.0f64], &[0.0]).unwrap();
    assert!((l64 - -(f64::EPSILON).ln()).abs() < 1e-12, "{l64}");
    let l32 = log_loss(&[1.0f32], &[0.0]).unwrap();
    assert!((l32 - -(f32::EPSILON as f64).ln()).abs() < 1e-5, "{l32}");
    assert!(log_loss(&[2.0], &[0.5]).is_err());
    let probs = [0.2, 0.7, 0.1, 0.6, 0.3, 0.1];
    let want = -(0.7f64.ln() + 0.6f64.ln()) / 2.0;
    assert!((log_loss_multiclass(&[1, 0], &probs, 3).unwrap() - want).abs() < 1e-15);
    assert!(log_loss_multiclass(&[1, 0], &[0.5, 0.7, 0.1, 0.6, 0.3, 0.1], 3).is_err());
    assert!(log_loss_multiclass(&[3, 0], &probs, 3).is_err());
}

#[test]
fn optimizer_defaults_are_keras() {
    assert_eq!(Optimizer::<f64>::learning_rate(&Sgd::<f64>::default()), 0.01);
    assert_eq!(Optimizer::<f64>::learning_rate(&Adam::<f64>::default()), 0.001);
    assert_eq!(Optimizer::<f64>::learning_rate(&AdamW::<f64>::default()), 0.001);
    assert_eq!(Optimizer::<f64>::learning_rate(&RmsProp::<f64>::default()), 0.001);
    assert_eq!(Optimizer::<f64>::learning_rate(&Adagrad::<f64>::default()), 0.001);
    assert_eq!(tapegrad::optim::DEFAULT_EPSILON, 1e-7);
    // State survives across steps and reset clears it.
    let mut opt = Sgd::<f64>::new(1.0).momentum(0.5);
    let mut w = [0.0];
    for _ in 0..2 {
        opt.begin_step();
        opt.update(0, &mut w, &[1.0]);
    }
    assert_eq!(w[0], -1.0 - 1.5);
    opt.reset();
    assert_eq!(opt.iterations(), 0);
}
