//! Dense's penalties and constraints, BatchNormalization and LayerNormalization in a model:
//! saved and loaded (model file and checkpoint) with every option and the moving statistics,
//! constraints applied only after updates, moving statistics only in training, and bad
//! arguments as errors naming the argument and the value.

use std::collections::BTreeMap;
use tapegrad::io::{checkpoint_from_bytes, checkpoint_to_bytes, model_from_bytes, model_to_bytes};
use tapegrad::layers;
use tapegrad::nn::{
    Activation, BatchNormalization, Constraint, Dense, Dropout, GaussianDropout, GaussianNoise, LayerNormalization, LayerRegistry,
    Regularizer, Sequential,
};
use tapegrad::optim::Adam;
use tapegrad::train::{FitConfig, LossFn, Model, TrainError, Verbose};
use tapegrad::{Tape, Tensor};

fn data() -> (Tensor<f64>, Tensor<f64>) {
    let x = Tensor::from_vec((0..60).map(|i| ((i * 7 % 13) as f64 - 6.0) * 0.3).collect(), &[20, 3]);
    let y = Tensor::from_vec(x.data().chunks(3).map(|r| (r[0] - 2.0 * r[1]).tanh() + 0.5 * r[2]).collect(), &[20, 1]);
    (x, y)
}

/// Every new option at once.
fn net() -> Sequential<f64> {
    Sequential::with_seed(
        3,
        layers![
            Dense::new(8)
                .activation(Activation::Relu)
                .kernel_regularizer(Regularizer::l1_l2(0.01, 0.02).unwrap())
                .bias_regularizer(Regularizer::l2(0.03).unwrap())
                .activity_regularizer(Regularizer::l1(0.001).unwrap())
                .kernel_constraint(Constraint::max_norm(0.8, &[0]).unwrap())
                .bias_constraint(Constraint::non_neg()),
            BatchNormalization::try_new(0.9, 1e-4).unwrap().center(false),
            Dropout::new(0.2),
            LayerNormalization::try_new(1e-5).unwrap().scale(false),
            GaussianNoise::new(0.1),
            GaussianDropout::new(0.1),
            Dense::new(1)
                .kernel_constraint(Constraint::min_max_norm(0.2, 0.9, 0.5, &[0]).unwrap())
                .bias_constraint(Constraint::unit_norm(&[0]).unwrap()),
        ],
        5,
    )
}

fn compile(net: Sequential<f64>) -> Model<f64> {
    net.compile(LossFn::named("mse").unwrap(), Adam::new(0.01), &[])
}

fn fit(model: &mut Model<f64>, epochs: usize) {
    let (x, y) = data();
    model.fit(&x, &y, FitConfig::new(epochs).batch_size(6).seed(9).verbose(Verbose::Silent)).unwrap();
}

/// The penalties the model adds in inference (weight and activity penalties), one by one.
fn penalties(net: &Sequential<f64>, x: &Tensor<f64>) -> Vec<f64> {
    let tape = Tape::new();
    let params = net.record_parameters(&tape);
    let out = net.call(&params, tape.constant(x.clone()), false, None);
    out.losses.iter().map(|p| p.item()).collect()
}

#[test]
fn every_option_and_the_moving_statistics_save_and_load() {
    let (x, y) = data();
    let mut model = compile(net());
    let initial = model.net().parameter("batch_normalization/moving_mean").unwrap();
    fit(&mut model, 3);
    let trained_mean = model.net().parameter("batch_normalization/moving_mean").unwrap();
    assert_ne!(trained_mean, initial, "training moves the moving mean");
    assert_ne!(model.net().parameter("batch_normalization/moving_variance").unwrap(), Tensor::ones(&[8]));

    let bytes = model_to_bytes(model.net(), &BTreeMap::new()).unwrap();
    let back = model_from_bytes::<f64>(bytes).unwrap().model;
    let (a, b) = (model.net(), &back);
    assert_eq!(a.layer_names().collect::<Vec<_>>(), b.layer_names().collect::<Vec<_>>());
    for (la, lb) in a.layers().zip(b.layers()) {
        assert_eq!((la.class_name(), la.config()), (lb.class_name(), lb.config()));
    }
    let dense = b.layers().next().unwrap().downcast_ref::<Dense>().unwrap();
    assert_eq!(dense.regularizers()[0], Some(&Regularizer::l1_l2(0.01, 0.02).unwrap()));
    assert_eq!(dense.get_constraints()[0], Some(&Constraint::max_norm(0.8, &[0]).unwrap()));
    let bn = b.layers().nth(1).unwrap().downcast_ref::<BatchNormalization>().unwrap();
    assert_eq!((bn.momentum(), bn.epsilon()), (0.9, 1e-4));
    assert_eq!(a.named_parameters(), b.named_parameters(), "every weight, moving statistics included");
    let infos = |n: &Sequential<f64>| n.store().infos().iter().map(|i| (i.name.clone(), i.trainable)).collect::<Vec<_>>();
    assert_eq!(infos(a), infos(b), "the moving statistics stay non-trainable");

    // Inference: the same predictions and penalties, bit for bit.
    let mut loaded = compile(back);
    assert_eq!(model.predict(&x).unwrap(), loaded.predict(&x).unwrap());
    let (pa, pb) = (penalties(model.net(), &x), penalties(loaded.net(), &x));
    assert_eq!(pa.len(), 3, "kernel, bias and activity penalties");
    assert!(pa.iter().all(|&p| p > 0.0));
    assert_eq!(pa, pb);
    assert_eq!(model.evaluate(&x, &y, 7).unwrap(), loaded.evaluate(&x, &y, 7).unwrap());

    // A checkpoint holds the moving statistics too, and the resumed fit (constraints and
    // penalties restored with the layers) is the unbroken one.
    let ckpt = checkpoint_to_bytes(&model, 3, &BTreeMap::new()).unwrap();
    let mut resumed = compile(net());
    checkpoint_from_bytes(ckpt, &mut resumed).unwrap();
    assert_eq!(resumed.net().parameters(), model.net().parameters());
    fit(&mut model, 2);
    fit(&mut resumed, 2);
    assert_eq!(resumed.net().parameters(), model.net().parameters());
}

/// A model file naming a bad option is refused with the key and the value.
#[test]
fn bad_saved_options_are_errors_naming_them() {
    let registry = LayerRegistry::<f64>::new();
    let cases = [
        ("Dense", serde_json::json!({"units": 2, "activation": "relu", "use_bias": true, "kernel_regularizer": {"class": "L2", "args": {"l2": -0.5}}}), ["kernel_regularizer", "-0.5"]),
        ("Dense", serde_json::json!({"units": 2, "activation": "relu", "use_bias": true, "bias_constraint": {"class": "MaxNorm", "args": {"max_value": -1.0}}}), ["bias_constraint", "-1"]),
        ("Dense", serde_json::json!({"units": 2, "activation": "relu", "use_bias": true, "activity_regularizer": {"class": "L7"}}), ["activity_regularizer", "L7"]),
        ("BatchNormalization", serde_json::json!({"momentum": 1.5}), ["momentum", "1.5"]),
        ("BatchNormalization", serde_json::json!({"epsilon": 0.0}), ["epsilon", "0"]),
        ("BatchNormalization", serde_json::json!({"axis": 1}), ["axis", "1"]),
        ("BatchNormalization", serde_json::json!({"center": "yes"}), ["center", "yes"]),
        ("LayerNormalization", serde_json::json!({"epsilon": -1e-3}), ["epsilon", "-0.001"]),
        ("LayerNormalization", serde_json::json!({"rms_scaling": true}), ["rms_scaling", "unknown"]),
        ("Dropout", serde_json::json!({"rate": 1.0}), ["rate", "1"]),
    ];
    for (class, config, words) in cases {
        let e = registry.from_config(class, &config).unwrap_err();
        for w in words {
            assert!(e.contains(w), "{class} {config}: {e:?} does not name {w:?}");
        }
    }
}

#[test]
fn bad_arguments_are_errors_naming_the_argument_and_the_value() {
    for m in [-0.1, 1.01, f64::NAN] {
        let e = BatchNormalization::try_new(m, 1e-3).unwrap_err();
        assert_eq!((e.layer, e.argument), ("BatchNormalization", "momentum"));
        assert!(e.to_string().contains(&m.to_string()), "{e}");
    }
    for m in [0.0, 1.0] {
        assert!(BatchNormalization::try_new(m, 1e-3).is_ok(), "momentum {m} is allowed");
    }
    for eps in [0.0, -1e-5, f64::NAN, f64::INFINITY] {
        let e = BatchNormalization::try_new(0.99, eps).unwrap_err();
        assert_eq!(e.argument, "epsilon");
        let e = TrainError::from(LayerNormalization::try_new(eps).unwrap_err()).to_string();
        assert!(e.contains("LayerNormalization(epsilon)") && e.contains(&eps.to_string()), "{e}");
    }
    for rate in [-0.01, 1.0, 2.0] {
        assert_eq!(Dropout::try_new(rate).unwrap_err().value, rate);
        assert_eq!(GaussianDropout::try_new(rate).unwrap_err().argument, "rate");
    }
    assert!(GaussianNoise::try_new(-1.0).unwrap_err().to_string().contains("stddev"));
    for (e, want) in [
        (Regularizer::l1(-0.1).unwrap_err().to_string(), "'l1'"),
        (Regularizer::l2(-2.0).unwrap_err().to_string(), "'l2'"),
        (Regularizer::l1_l2(0.1, -3.0).unwrap_err().to_string(), "'l2'"),
    ] {
        assert!(e.contains(want) && e.contains('-'), "{e}");
    }
    // A penalty or constraint that cannot take its weight is refused when the model is built.
    let e = Sequential::<f64>::try_with_seed(3, vec![Dense::new(2).kernel_constraint(Constraint::max_norm(1.0, &[2]).unwrap())], 0).unwrap_err();
    assert!(e.contains("kernel_constraint") && e.contains("axis 2"), "{e}");
    let ortho = Regularizer::orthogonal(0.1, tapegrad::nn::OrthogonalMode::Rows).unwrap();
    let e = Sequential::<f64>::try_with_seed(3, vec![Dense::new(2).bias_regularizer(ortho)], 0).unwrap_err();
    assert!(e.contains("bias_regularizer") && e.contains("[2]"), "{e}");
}

/// Constraints act after each update only: the initial weights and inference are untouched.
#[test]
fn constraints_apply_after_each_update_only() {
    let (x, y) = data();
    let max = 0.05;
    let net = Sequential::<f64>::with_seed(3, vec![Dense::new(4).kernel_constraint(Constraint::max_norm(max, &[0]).unwrap()), Dense::new(1)], 2);
    let initial = net.parameter("dense/kernel").unwrap();
    let norms = |k: &Tensor<f64>| (0..4).map(|j| (0..3).map(|i| k.data()[i * 4 + j].powi(2)).sum::<f64>().sqrt()).collect::<Vec<_>>();
    assert!(norms(&initial).iter().any(|&n| n > max), "the initial kernel is outside the bound");
    let mut model = net.compile(LossFn::named("mse").unwrap(), Adam::new(0.01), &[]);
    model.predict(&x).unwrap();
    model.evaluate(&x, &y, 4).unwrap();
    assert_eq!(model.net().parameter("dense/kernel").unwrap(), initial, "inference projects nothing");
    model.train_on_batch(&x, &y).unwrap();
    assert!(norms(&model.net().parameter("dense/kernel").unwrap()).iter().all(|&n| n <= max), "after an update every column is inside");
}

/// The moving statistics change only in training steps; inference uses them, so a model whose
/// moving statistics are set by hand predicts `(x - mean) / sqrt(var + eps)`.
#[test]
fn moving_statistics_change_in_training_only_and_serve_inference() {
    let (x, _) = data();
    let mut net = Sequential::<f64>::with_seed(3, vec![BatchNormalization::try_new(0.5, 0.25).unwrap()], 0);
    let mut values = net.parameters();
    values[2] = Tensor::from_vec(vec![1.0, -2.0, 0.5], &[3]);
    values[3] = Tensor::from_vec(vec![4.0, 0.75, 2.0], &[3]);
    net.set_parameters(&values);
    let mut model = net.compile(LossFn::custom(|_, p| p.square().mean()), Adam::new(0.01), &[]);
    let out = model.predict(&x).unwrap();
    for (i, (&o, &v)) in out.data().iter().zip(x.data()).enumerate() {
        let j = i % 3;
        let want = (v - values[2].data()[j]) / (values[3].data()[j] + 0.25f64).sqrt();
        assert!((o - want).abs() < 1e-14, "{o} vs {want}");
    }
    model.evaluate(&x, &x, 5).unwrap();
    assert_eq!(model.net().parameters(), values, "inference moves no statistic");
    model.train_on_batch(&x, &x).unwrap();
    let mean: Vec<f64> = (0..3).map(|j| x.data().iter().skip(j).step_by(3).sum::<f64>() / 20.0).collect();
    let got = model.net().parameter("batch_normalization/moving_mean").unwrap();
    for (j, ((&g, &old), &m)) in got.data().iter().zip(values[2].data()).zip(&mean).enumerate() {
        let want = old * 0.5 + m * 0.5;
        assert!((g - want).abs() < 1e-14, "feature {j}: {g} vs {want}");
    }
}
