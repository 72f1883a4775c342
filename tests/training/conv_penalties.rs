//! Conv1D and Conv2D take Keras' penalties and constraints as Dense does: `kernel_regularizer`,
//! `bias_regularizer` and `activity_regularizer` add their terms to the training loss (and to
//! `evaluate`'s), `kernel_constraint` and `bias_constraint` project after every update, every
//! option saves and loads, and bad ones are errors naming them.

use std::collections::BTreeMap;
use tapegrad::io::{model_from_bytes, model_to_bytes};
use tapegrad::layers;
use tapegrad::nn::{Activation, Constraint, Conv1D, Conv2D, Dense, Flatten, LayerRegistry, Regularizer, Sequential};
use tapegrad::optim::{Adam, Sgd};
use tapegrad::train::LossFn;
use tapegrad::{Tape, Tensor};

fn images() -> (Tensor<f64>, Tensor<f64>) {
    let x = Tensor::from_vec((0..6 * 5 * 5 * 2).map(|i| ((i * 7 % 17) as f64 - 8.0) / 6.0).collect(), &[6, 5, 5, 2]);
    let y = Tensor::from_vec((0..6).map(|i| (i % 3) as f64 - 1.0).collect(), &[6, 1]);
    (x, y)
}

fn sum_sq(t: &Tensor<f64>) -> f64 {
    t.data().iter().map(|v| v * v).sum()
}

fn sum_abs(t: &Tensor<f64>) -> f64 {
    t.data().iter().map(|v| v.abs()).sum()
}

/// The training loss is the data loss plus L2 of the kernel, L1 of the bias and the activity
/// penalty of the conv's output over the batch size, each factor rounded through float32 as Keras.
#[test]
fn conv_penalties_are_added_to_the_loss_as_keras() {
    let (x, y) = images();
    let (k2, b1, a2) = (0.01, 0.02, 0.003);
    let conv = || Conv2D::new(3, [3, 3]).activation(Activation::Relu);
    let mut penalised = Sequential::<f64>::with_input_shape(
        &[5, 5, 2],
        layers![
            conv()
                .kernel_regularizer(Regularizer::l2(k2).unwrap())
                .bias_regularizer(Regularizer::l1(b1).unwrap())
                .activity_regularizer(Regularizer::l2(a2).unwrap()),
            Flatten::new(),
            Dense::new(1),
        ],
        4,
    );
    let mut plain = Sequential::<f64>::with_input_shape(&[5, 5, 2], layers![conv(), Flatten::new(), Dense::new(1)], 4);
    assert_eq!(penalised.parameters(), plain.parameters());
    // Give the bias non-zero values so its L1 term counts.
    let mut values = penalised.parameters();
    values[1] = Tensor::from_vec(vec![0.5, -0.25, 0.125], &[3]);
    penalised.set_parameters(&values);
    plain.set_parameters(&values);
    let conv_out = {
        let mut first = Sequential::<f64>::with_input_shape(&[5, 5, 2], vec![conv()], 4);
        first.set_parameters(&values[..2]);
        let tape = Tape::new();
        first.forward(&tape, tape.constant(x.clone())).value()
    };
    let f32r = |v: f64| v as f32 as f64;
    let penalty = f32r(k2) * sum_sq(&values[0]) + f32r(b1) * sum_abs(&values[1]) + f32r(a2) * sum_sq(&conv_out) / 6.0;
    let mut a = penalised.compile(LossFn::named("mse").unwrap(), Sgd::new(0.0), &[]);
    let mut b = plain.compile(LossFn::named("mse").unwrap(), Sgd::new(0.0), &[]);
    let (with, without) = (a.train_on_batch(&x, &y).unwrap(), b.train_on_batch(&x, &y).unwrap());
    assert!(penalty > 1e-3);
    assert!((with - (without + penalty)).abs() < 1e-12, "{with} vs {without} + {penalty}");
    assert!((a.evaluate(&x, &y, 6).unwrap()["loss"] - with).abs() < 1e-12, "evaluate counts the penalties too");
}

/// A MaxNorm over each filter's taps and input channels (axis [0, 1, 2]) and NonNeg on the bias
/// hold after every update, not before the first.
#[test]
fn conv_constraints_project_after_each_update() {
    let (x, y) = images();
    let net = Sequential::<f64>::with_input_shape(
        &[5, 5, 2],
        layers![
            Conv2D::new(3, [3, 3])
                .kernel_constraint(Constraint::max_norm(0.3, &[0, 1, 2]).unwrap())
                .bias_constraint(Constraint::non_neg()),
            Flatten::new(),
            Dense::new(1),
        ],
        2,
    );
    let norms = |k: &Tensor<f64>| -> Vec<f64> { (0..3).map(|f| k.data().iter().skip(f).step_by(3).map(|v| v * v).sum::<f64>().sqrt()).collect() };
    let initial = net.parameter("conv2d/kernel").unwrap();
    assert!(norms(&initial).iter().any(|&n| n > 0.3), "the initial kernel is outside the bound: {:?}", norms(&initial));
    let mut model = net.compile(LossFn::named("mse").unwrap(), Adam::new(0.05), &[]);
    model.predict(&x).unwrap();
    assert_eq!(model.net().parameter("conv2d/kernel").unwrap(), initial, "inference projects nothing");
    for _ in 0..3 {
        model.train_on_batch(&x, &y).unwrap();
        let k = model.net().parameter("conv2d/kernel").unwrap();
        assert!(norms(&k).iter().all(|&n| n <= 0.3), "{:?}", norms(&k));
        assert!(model.net().parameter("conv2d/bias").unwrap().data().iter().all(|&b| b >= 0.0));
    }
}

/// Every option goes into the saved configuration and comes back; a bad one in a file, or a
/// penalty or constraint that cannot take its weight, is an error naming it.
#[test]
fn conv_options_save_load_and_refuse_bad_values() {
    let net = Sequential::<f64>::with_input_shape(
        &[7, 2],
        layers![
            Conv1D::new(4, [3])
                .kernel_regularizer(Regularizer::l1_l2(0.01, 0.02).unwrap())
                .bias_regularizer(Regularizer::l2(0.03).unwrap())
                .activity_regularizer(Regularizer::l1(0.001).unwrap())
                .kernel_constraint(Constraint::unit_norm(&[0, 1]).unwrap())
                .bias_constraint(Constraint::min_max_norm(0.1, 2.0, 0.5, &[0]).unwrap()),
            Flatten::new(),
            Dense::new(1),
        ],
        3,
    );
    let back = model_from_bytes::<f64>(model_to_bytes(&net, &BTreeMap::new()).unwrap()).unwrap().model;
    assert_eq!(configs(&back), configs(&net));
    assert_eq!(back.layers().next().unwrap().config()["kernel_constraint"]["class"], "UnitNorm");
    let x = Tensor::from_vec((0..3 * 14).map(|i| (i % 5) as f64 - 2.0).collect(), &[3, 7, 2]);
    assert_eq!(penalties(&back, &x).len(), 3);
    assert_eq!(penalties(&back, &x), penalties(&net, &x));

    let registry = LayerRegistry::<f64>::new();
    let bad = serde_json::json!({"filters": 2, "kernel_size": 3, "kernel_regularizer": {"class": "L2", "args": {"l2": -0.5}}});
    let e = registry.from_config("Conv2D", &bad).unwrap_err();
    assert!(e.contains("kernel_regularizer") && e.contains("-0.5"), "{e}");
    let bad = serde_json::json!({"filters": 2, "kernel_size": 3, "bias_constraint": {"class": "MaxNorm2"}});
    let e = registry.from_config("Conv1D", &bad).unwrap_err();
    assert!(e.contains("bias_constraint") && e.contains("MaxNorm2"), "{e}");
    // A rank-4 kernel has no axis 4; OrthogonalRegularizer needs a matrix.
    let e = Sequential::<f64>::try_with_input_shape(&[5, 5, 2], vec![Conv2D::new(2, [3, 3]).kernel_constraint(Constraint::max_norm(1.0, &[4]).unwrap())], 0)
        .unwrap_err();
    assert!(e.contains("kernel_constraint") && e.contains("axis 4"), "{e}");
    let ortho = Regularizer::orthogonal(0.1, tapegrad::nn::OrthogonalMode::Rows).unwrap();
    let e = Sequential::<f64>::try_with_input_shape(&[5, 5, 2], vec![Conv2D::new(2, [3, 3]).kernel_regularizer(ortho)], 0).unwrap_err();
    assert!(e.contains("kernel_regularizer") && e.contains("[3, 3, 2, 2]"), "{e}");
}

/// Each layer's class name and configuration, in order (to compare a model with its reload).
pub(crate) fn configs(net: &Sequential<f64>) -> Vec<(&'static str, serde_json::Value)> {
    net.layers().map(|l| (l.class_name(), l.config())).collect()
}

/// The penalty terms the layers add on a training-mode forward pass over `x`.
pub(crate) fn penalties(net: &Sequential<f64>, x: &Tensor<f64>) -> Vec<f64> {
    let tape = Tape::new();
    let params = net.record_parameters(&tape);
    net.call(&params, tape.constant(x.clone()), false, None).losses.iter().map(|p| p.item()).collect()
}
