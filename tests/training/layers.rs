//! The regularising layers (Dropout, GaussianNoise, GaussianDropout, Activation,
//! ActivityRegularization) through the `Layer` trait: their statistics in training, the identity
//! in inference, reproducible seeded fits, bad arguments, and saving and loading each.

use rand::{rngs::StdRng, SeedableRng};
use std::collections::BTreeMap;
use tapegrad::io::{model_from_bytes, model_to_bytes};
use tapegrad::layers;
use tapegrad::nn::{Activation, ActivityRegularization, Dense, Dropout, GaussianDropout, GaussianNoise, Layer, Sequential};
use tapegrad::optim::Sgd;
use tapegrad::train::{FitConfig, LossFn, TrainError, Verbose};
use tapegrad::{Tape, Tensor};

const ROWS: usize = 200;
const WIDTH: usize = 500;

/// One training-mode pass of a single layer over `fill` (ROWS x WIDTH), returning the output.
fn run(layer: impl Into<Box<dyn Layer<f64>>>, fill: f64, training: bool, seed: u64) -> Vec<f64> {
    let net = Sequential::<f64>::with_seed(WIDTH, vec![layer.into()], 0);
    let tape = Tape::new();
    let x = tape.constant(Tensor::full(&[ROWS, WIDTH], fill));
    let params = net.record_parameters(&tape);
    let mut rng = StdRng::seed_from_u64(seed);
    net.call(&params, x, training, Some(&mut rng)).output.value().data().to_vec()
}

fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (m, v.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / n)
}

#[test]
fn dropout_keeps_one_minus_rate_scaled_up_and_is_the_identity_in_inference() {
    for rate in [0.1, 0.5, 0.8] {
        let out = run(Dropout::new(rate), 1.0, true, 7);
        let kept = out.iter().filter(|&&v| v != 0.0).count() as f64 / out.len() as f64;
        // 100 000 draws: the kept fraction's standard error is at most 0.0016.
        assert!((kept - (1.0 - rate)).abs() < 0.008, "rate {rate}: kept {kept}");
        let scale = 1.0 / (1.0 - rate);
        assert!(out.iter().all(|&v| v == 0.0 || v == scale), "rate {rate}: kept values are not 1/(1-rate)");
        // Inverted dropout keeps the mean.
        assert!((mean_var(&out).0 - 1.0).abs() < 0.03, "rate {rate}: mean {}", mean_var(&out).0);
        assert!(run(Dropout::new(rate), 1.5, false, 7).iter().all(|&v| v == 1.5));
    }
    // Rate 0 draws nothing and changes nothing.
    assert!(run(Dropout::new(0.0), 2.0, true, 7).iter().all(|&v| v == 2.0));
}

#[test]
fn gaussian_noise_adds_the_given_standard_deviation() {
    for stddev in [0.1, 1.0, 3.0] {
        let (m, var) = mean_var(&run(GaussianNoise::new(stddev), 0.0, true, 3));
        // Mean's standard error stddev/316; the variance's relative one about 0.45 %.
        assert!(m.abs() < 0.015 * stddev, "stddev {stddev}: mean {m}");
        assert!((var / (stddev * stddev) - 1.0).abs() < 0.025, "stddev {stddev}: variance {var}");
        assert!(run(GaussianNoise::new(stddev), 0.25, false, 3).iter().all(|&v| v == 0.25));
    }
}

#[test]
fn gaussian_dropout_multiplies_by_noise_of_mean_one() {
    for rate in [0.2, 0.5] {
        let (m, var) = mean_var(&run(GaussianDropout::new(rate), 1.0, true, 5));
        let want = rate / (1.0 - rate);
        assert!((m - 1.0).abs() < 0.015, "rate {rate}: mean {m}");
        assert!((var / want - 1.0).abs() < 0.025, "rate {rate}: variance {var}, want {want}");
        assert!(run(GaussianDropout::new(rate), -2.0, false, 5).iter().all(|&v| v == -2.0));
    }
}

/// Each training call draws a fresh mask, independent of the previous call's and between
/// neighbouring elements: the fraction kept in both of two calls, and of adjacent pairs kept
/// together, is `(1 - rate)^2` (a reused or row-repeated mask gives `1 - rate`); likewise two
/// calls' Gaussian noises are uncorrelated.
#[test]
fn every_call_draws_fresh_independent_noise() {
    let (rate, n) = (0.4, (ROWS * WIDTH) as f64);
    let net = Sequential::<f64>::with_seed(WIDTH, vec![Dropout::new(rate)], 0);
    let tape = Tape::new();
    let x = tape.constant(Tensor::full(&[ROWS, WIDTH], 1.0));
    let mut rng = StdRng::seed_from_u64(11);
    let a = net.call(&[], x, true, Some(&mut rng)).output.value();
    let b = net.call(&[], x, true, Some(&mut rng)).output.value();
    let both = a.data().iter().zip(b.data()).filter(|(p, q)| **p != 0.0 && **q != 0.0).count() as f64 / n;
    let pairs = a.data().windows(2).filter(|w| w[0] != 0.0 && w[1] != 0.0).count() as f64 / (n - 1.0);
    let kept2 = (1.0 - rate) * (1.0 - rate);
    // Standard errors about 0.0015: the bounds are five of them, far from 1 - rate = 0.6.
    assert!((both - kept2).abs() < 0.008, "kept in both calls: {both}, want {kept2}");
    assert!((pairs - kept2).abs() < 0.008, "adjacent pairs kept: {pairs}, want {kept2}");
    assert_ne!(a.data()[..WIDTH], a.data()[WIDTH..2 * WIDTH], "rows share a mask");

    let net = Sequential::<f64>::with_seed(WIDTH, vec![GaussianNoise::new(1.0)], 0);
    let x = tape.constant(Tensor::zeros(&[ROWS, WIDTH]));
    let a = net.call(&[], x, true, Some(&mut rng)).output.value();
    let b = net.call(&[], x, true, Some(&mut rng)).output.value();
    let corr = a.data().iter().zip(b.data()).map(|(p, q)| p * q).sum::<f64>() / n;
    assert!(corr.abs() < 0.016, "two calls' noises correlate: {corr}");
}

#[test]
fn dropout_gradient_is_its_mask() {
    let net = Sequential::<f64>::with_seed(4, vec![Dropout::new(0.5)], 0);
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec((0..40).map(|i| i as f64 * 0.1 + 0.05).collect(), &[10, 4]));
    let mut rng = StdRng::seed_from_u64(1);
    let y = net.call(&[], x, true, Some(&mut rng)).output;
    let (yv, xv) = (y.value(), x.value());
    let g = y.sum().backward();
    for ((gi, yi), xi) in g[x].iter().zip(yv.data()).zip(xv.data()) {
        assert_eq!(*gi, yi / xi);
    }
}

#[test]
fn bad_arguments_name_the_layer_argument_and_value() {
    for rate in [1.0, -0.1, 1.5, f64::NAN] {
        let e = TrainError::from(Dropout::try_new(rate).unwrap_err()).to_string();
        assert!(e.starts_with(&format!("Dropout(rate) = {rate}: must be in [0, 1)")), "{e}");
        assert!(GaussianDropout::try_new(rate).is_err());
    }
    assert_eq!(GaussianNoise::try_new(-1.0).unwrap_err().to_string(), "GaussianNoise: stddev must be finite and >= 0, got -1");
    assert!(ActivityRegularization::try_new(0.0, -1e-3).unwrap_err().to_string().contains("l2 must be finite and >= 0, got -0.001"));
    let r = std::panic::catch_unwind(|| Dropout::new(2.0));
    assert!(r.is_err());
}

fn data() -> (Tensor<f64>, Tensor<f64>) {
    let x = Tensor::from_vec((0..96).map(|i| ((i * 17 % 23) as f64 - 11.0) / 8.0).collect(), &[32, 3]);
    let y = Tensor::from_vec(x.data().chunks(3).map(|r| r[0] * r[1] - r[2]).collect(), &[32, 1]);
    (x, y)
}

fn noisy_net() -> Sequential<f64> {
    Sequential::with_seed(
        3,
        layers![
            GaussianNoise::new(0.1),
            Dense::new(16),
            Activation::Relu,
            Dropout::new(0.3),
            GaussianDropout::new(0.2),
            ActivityRegularization::new(1e-3, 1e-4),
            Dense::new(1),
        ],
        5,
    )
}

#[test]
fn a_seeded_fit_with_random_layers_repeats_exactly() {
    let (x, y) = data();
    let fit = |seed: u64| {
        let mut m = noisy_net().compile(LossFn::named("mse").unwrap(), Sgd::new(0.05).momentum(0.9), &[]);
        let h = m.fit(&x, &y, FitConfig::new(20).batch_size(8).seed(seed).verbose(Verbose::Silent)).unwrap();
        (h, m.net().parameters())
    };
    let (a, b, c) = (fit(1), fit(1), fit(2));
    assert_eq!(a, b);
    assert_ne!(a.0, c.0);
    assert!(a.0.loss()[19] < 0.5 * a.0.loss()[0], "{:?}", a.0.loss());
}

#[test]
fn activity_regularization_adds_its_penalty_to_the_loss() {
    let (x, y) = data();
    let (l1, l2) = (0.01, 0.002);
    let net = Sequential::<f64>::with_seed(3, layers![Dense::new(4), ActivityRegularization::new(l1, l2), Dense::new(1)], 2);
    let first = Sequential::<f64>::with_seed(3, vec![Dense::new(4)], 2);
    let tape = Tape::new();
    let h = first.forward(&tape, tape.constant(x.clone())).value();
    let out = net.forward(&tape, tape.constant(x.clone())).value();
    let mse = out.data().iter().zip(y.data()).map(|(p, t)| (p - t) * (p - t)).sum::<f64>() / 32.0;
    // Keras 3 divides an activity penalty by the batch size, and rounds the factors through
    // float32 (its L1L2 regularizer; see keras_fit.rs's activity case, exact to the last bit).
    let (l1, l2) = (l1 as f32 as f64, l2 as f32 as f64);
    let penalty = (l1 * h.data().iter().map(|v| v.abs()).sum::<f64>() + l2 * h.data().iter().map(|v| v * v).sum::<f64>()) / 32.0;
    let mut model = net.compile(LossFn::named("mse").unwrap(), Sgd::new(0.0), &[]);
    let got = model.train_on_batch(&x, &y).unwrap();
    assert!((got - (mse + penalty)).abs() < 1e-12, "{got} vs {mse} + {penalty}");
    // Evaluation counts it too, as Keras' val_loss does; per batch, over that batch's size.
    assert!((model.evaluate(&x, &y, 32).unwrap()["loss"] - (mse + penalty)).abs() < 1e-12);
    let per_batch: f64 = (0..4)
        .map(|k| {
            let hb = &h.data()[k * 32..(k + 1) * 32];
            (l1 * hb.iter().map(|v| v.abs()).sum::<f64>() + l2 * hb.iter().map(|v| v * v).sum::<f64>()) / 8.0 * 8.0
        })
        .sum::<f64>()
        / 32.0;
    assert!((model.evaluate(&x, &y, 8).unwrap()["loss"] - (mse + per_batch)).abs() < 1e-12);
}

#[test]
fn activation_layer_equals_the_dense_activation() {
    let (x, _) = data();
    let a = Sequential::<f64>::with_seed(3, layers![Dense::new(4), Activation::Tanh], 9);
    let b = Sequential::<f64>::with_seed(3, vec![Dense::new(4).activation(Activation::Tanh)], 9);
    let tape = Tape::new();
    assert_eq!(a.forward(&tape, tape.constant(x.clone())).value(), b.forward(&tape, tape.constant(x)).value());
    assert_eq!(a.output_activation(), Activation::Tanh);
}

#[test]
fn every_layer_saves_and_loads() {
    let (x, _) = data();
    let net = noisy_net();
    let bytes = model_to_bytes(&net, &BTreeMap::new()).unwrap();
    let back = model_from_bytes::<f64>(bytes).unwrap().model;
    let names: Vec<&str> = back.layer_names().collect();
    assert_eq!(names, ["gaussian_noise", "dense", "activation", "dropout", "gaussian_dropout", "activity_regularization", "dense_1"]);
    let classes = |n: &Sequential<f64>| n.layers().map(|l| (l.class_name(), l.config())).collect::<Vec<_>>();
    assert_eq!(classes(&back), classes(&net));
    assert_eq!(back.named_parameters(), net.named_parameters());
    let tape = Tape::new();
    assert_eq!(back.forward(&tape, tape.constant(x.clone())).value(), net.forward(&tape, tape.constant(x)).value());
    assert_eq!(back.layers().nth(3).unwrap().downcast_ref::<Dropout>().unwrap().rate(), 0.3);
}
