//! Regularizers, constraints and normalisation against Keras 3 (tests/fixtures/keras_training.json):
//! values, outputs and gradients to 1e-9 relative.


use crate::keras_training_support::{array, assert_close, cases, fixture, num};
use serde_json::Value;
use rand::{rngs::StdRng, SeedableRng};
use tapegrad::nn::{
    batch_norm, layer_norm, BatchNormConfig, BatchNormalization, Constraint, LayerNormConfig, LayerNormalization, OrthogonalMode,
    Regularizer, Sequential,
};
use tapegrad::{Tape, Tensor};

fn tensor(v: &Value, what: &str) -> Tensor<f64> {
    let (data, shape) = array(v, what);
    Tensor::from_vec(data, &shape)
}

fn regularizer(name: &str, args: &Value) -> Regularizer {
    let f = |k: &str| num(&args[k], k);
    match name {
        "L1" => Regularizer::l1(f("l1")).unwrap(),
        "L2" => Regularizer::l2(f("l2")).unwrap(),
        "L1L2" => Regularizer::l1_l2(f("l1"), f("l2")).unwrap(),
        "OrthogonalRegularizer" => {
            let mode = match args["mode"].as_str().unwrap_or("rows") {
                "rows" => OrthogonalMode::Rows,
                "columns" => OrthogonalMode::Columns,
                m => panic!("unknown mode {m}"),
            };
            Regularizer::orthogonal(f("factor"), mode).unwrap()
        }
        other => panic!("unknown regularizer {other}"),
    }
}

#[test]
fn regularizer_values_and_gradients_match_keras() {
    let root = fixture();
    let mut kinds = std::collections::BTreeSet::new();
    for (ci, case) in cases(&root, "regularizers").iter().enumerate() {
        let name = case["regularizer"].as_str().unwrap();
        kinds.insert(name);
        let label = format!("regularizer case {ci} {name} {}", case["args"]);
        let r = regularizer(name, &case["args"]);
        assert_eq!(r.name(), name);
        assert_eq!(Regularizer::from_keras(name, &case["args"]).unwrap(), r, "{label}: from_keras");
        let tape = Tape::<f64>::new();
        let w = tape.var(tensor(&case["W"], "W"));
        let p = r.penalty(w);
        assert_close(&[p.item()], &[num(&case["value"], "value")], 1e-9, &format!("{label} value"));
        let g = p.backward().wrt(w);
        assert_close(g.data(), &array(&case["grad_W"], "grad_W").0, 1e-9, &format!("{label} grad_W"));
    }
    assert_eq!(kinds.len(), 4);
}

#[test]
fn negative_penalties_are_errors_naming_them() {
    for (r, arg) in [
        (Regularizer::l1(-0.1).map(drop), "l1"),
        (Regularizer::l2(f64::NAN).map(drop), "l2"),
        (Regularizer::l1_l2(0.1, -1.0).map(drop), "l2"),
        (Regularizer::orthogonal(-0.5, OrthogonalMode::Rows).map(drop), "factor"),
    ] {
        let e = r.expect_err("must fail").to_string();
        assert!(e.contains(arg), "{e}");
    }
}

fn axes(v: &Value) -> Vec<isize> {
    match v {
        Value::Array(a) => a.iter().map(|x| x.as_i64().unwrap() as isize).collect(),
        Value::Null => vec![0],
        x => vec![x.as_i64().unwrap() as isize],
    }
}

#[test]
fn constraints_match_keras() {
    let root = fixture();
    let mut kinds = std::collections::BTreeSet::new();
    for (ci, case) in cases(&root, "constraints").iter().enumerate() {
        let name = case["constraint"].as_str().unwrap();
        kinds.insert(name);
        let a = &case["args"];
        let f = |k: &str, d: f64| a.get(k).and_then(Value::as_f64).unwrap_or(d);
        let axis = axes(a.get("axis").unwrap_or(&Value::Null));
        let c = match name {
            "MaxNorm" => Constraint::max_norm(f("max_value", 2.0), &axis).unwrap(),
            "MinMaxNorm" => Constraint::min_max_norm(f("min_value", 0.0), f("max_value", 1.0), f("rate", 1.0), &axis).unwrap(),
            "NonNeg" => Constraint::non_neg(),
            "UnitNorm" => Constraint::unit_norm(&axis).unwrap(),
            other => panic!("unknown constraint {other}"),
        };
        assert_eq!(c.name(), name);
        assert_eq!(Constraint::from_keras(name, a).unwrap(), c, "case {ci}: from_keras");
        let mut w = tensor(&case["W"], "W");
        let before = w.clone();
        c.apply_tensor(&mut w);
        assert_ne!(w, before, "case {ci}: the constraint acts on this W");
        assert_close(w.data(), &array(&case["result"], "result").0, 1e-9, &format!("constraint case {ci} {name} {a}"));
    }
    assert_eq!(kinds.len(), 4);
}

#[test]
fn bad_serialized_penalties_and_constraints_are_errors_naming_them() {
    let e = Regularizer::from_keras("L2", &serde_json::json!({"l3": 0.1})).unwrap_err().to_string();
    assert!(e.contains("l3"), "{e}");
    let e = Regularizer::from_keras("L1", &serde_json::json!({"l1": -0.1})).unwrap_err().to_string();
    assert!(e.contains("l1") && e.contains("-0.1"), "{e}");
    let e = Constraint::from_keras("UnitNorm", &serde_json::json!({"axis": "rows"})).unwrap_err().to_string();
    assert!(e.contains("axis") && e.contains("rows"), "{e}");
    let e = Constraint::from_keras("MaxNorm2", &serde_json::json!({})).unwrap_err().to_string();
    assert!(e.contains("MaxNorm2"), "{e}");
}

#[test]
fn bad_constraint_arguments_are_errors_naming_them() {
    let e = Constraint::max_norm(-1.0, &[0]).unwrap_err().to_string();
    assert!(e.contains("max_value") && e.contains("-1"), "{e}");
    let e = Constraint::min_max_norm(2.0, 1.0, 1.0, &[0]).unwrap_err().to_string();
    assert!(e.contains("min_value") && e.contains('2'), "{e}");
    let e = Constraint::min_max_norm(0.0, 1.0, 1.5, &[0]).unwrap_err().to_string();
    assert!(e.contains("rate") && e.contains("1.5"), "{e}");
    let e = Constraint::unit_norm(&[]).unwrap_err().to_string();
    assert!(e.contains("axis"), "{e}");
    let r = std::panic::catch_unwind(|| Constraint::unit_norm(&[2]).unwrap().apply(&mut [1.0f64, 2.0], &[1, 2]));
    assert!(r.is_err(), "an axis outside the shape panics");
}

fn opt_tensor(v: &Value, what: &str) -> Option<Tensor<f64>> {
    (!v.is_null()).then(|| tensor(v, what))
}

#[test]
fn batch_normalization_matches_keras_in_both_modes() {
    let root = fixture();
    let mut modes = std::collections::BTreeSet::new();
    for (ci, case) in cases(&root, "batch_normalization").iter().enumerate() {
        let cfg = &case["config"];
        assert_eq!(cfg["axis"].as_i64(), Some(-1));
        let training = case["training"].as_bool().unwrap();
        modes.insert(training);
        let label = format!("batch_normalization case {ci} (training {training}, {cfg})");
        let config = BatchNormConfig { momentum: num(&cfg["momentum"], "momentum"), epsilon: num(&cfg["epsilon"], "epsilon") };
        let tape = Tape::<f64>::new();
        let x = tape.var(tensor(&case["x"], "x"));
        let gamma = opt_tensor(&case["gamma"], "gamma").map(|t| tape.var(t));
        let beta = opt_tensor(&case["beta"], "beta").map(|t| tape.var(t));
        assert_eq!(gamma.is_some(), cfg["scale"].as_bool().unwrap());
        assert_eq!(beta.is_some(), cfg["center"].as_bool().unwrap());
        let (mm, _) = array(&case["moving_mean"], "moving_mean");
        let (mv, _) = array(&case["moving_variance"], "moving_variance");
        let out = batch_norm(x, gamma, beta, &mm, &mv, config, training);
        assert_close(out.y.value().data(), &array(&case["y"], "y").0, 1e-9, &format!("{label} y"));
        assert_close(&out.moving_mean, &array(&case["moving_mean_after"], "mma").0, 1e-9, &format!("{label} moving_mean_after"));
        assert_close(&out.moving_variance, &array(&case["moving_variance_after"], "mva").0, 1e-9, &format!("{label} moving_variance_after"));
        let probe = tape.constant(tensor(&case["w"], "w"));
        let grads = (out.y * probe).sum().backward();
        assert_close(grads.wrt(x).data(), &array(&case["grad_x"], "grad_x").0, 1e-9, &format!("{label} grad_x"));
        if let Some(g) = gamma {
            assert_close(grads.wrt(g).data(), &array(&case["grad_gamma"], "grad_gamma").0, 1e-9, &format!("{label} grad_gamma"));
        }
        if let Some(b) = beta {
            assert_close(grads.wrt(b).data(), &array(&case["grad_beta"], "grad_beta").0, 1e-9, &format!("{label} grad_beta"));
        }
    }
    assert_eq!(modes.len(), 2);
}

#[test]
fn layer_normalization_matches_keras() {
    let root = fixture();
    for (ci, case) in cases(&root, "layer_normalization").iter().enumerate() {
        let cfg = &case["config"];
        assert_eq!(cfg["axis"].as_i64(), Some(-1));
        let label = format!("layer_normalization case {ci} ({cfg})");
        let config = LayerNormConfig {
            epsilon: num(&cfg["epsilon"], "epsilon"),
            rms_scaling: cfg["rms_scaling"].as_bool().unwrap(),
        };
        let tape = Tape::<f64>::new();
        let x = tape.var(tensor(&case["x"], "x"));
        let gamma = opt_tensor(&case["gamma"], "gamma").map(|t| tape.var(t));
        let beta = opt_tensor(&case["beta"], "beta").map(|t| tape.var(t));
        let y = layer_norm(x, gamma, beta, config);
        assert_close(y.value().data(), &array(&case["y"], "y").0, 1e-9, &format!("{label} y"));
        let probe = tape.constant(tensor(&case["w"], "w"));
        let grads = (y * probe).sum().backward();
        assert_close(grads.wrt(x).data(), &array(&case["grad_x"], "grad_x").0, 1e-9, &format!("{label} grad_x"));
        if let Some(g) = gamma {
            assert_close(grads.wrt(g).data(), &array(&case["grad_gamma"], "grad_gamma").0, 1e-9, &format!("{label} grad_gamma"));
        }
        if let Some(b) = beta {
            assert_close(grads.wrt(b).data(), &array(&case["grad_beta"], "grad_beta").0, 1e-9, &format!("{label} grad_beta"));
        }
    }
}

/// The statistics are over every axis but the last, for a rank-3 input too.
#[test]
fn batch_norm_reduces_every_axis_but_the_last() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec((0..12).map(|i| (i * i % 7) as f64).collect(), &[2, 3, 2]));
    let out = batch_norm(x, None, None, &[0.0, 0.0], &[1.0, 1.0], BatchNormConfig { momentum: 0.0, epsilon: 0.0 }, true);
    let y = out.y.value();
    assert_eq!(y.shape(), &[2, 3, 2]);
    for f in 0..2 {
        let col: Vec<f64> = (0..6).map(|r| y.data()[r * 2 + f]).collect();
        let mean = col.iter().sum::<f64>() / 6.0;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 6.0;
        assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12, "feature {f}: mean {mean}, var {var}");
    }
}

/// Sets the model's weights by name from `(name, values)` pairs.
fn set_named(net: &mut Sequential<f64>, values: &[(&str, Vec<f64>)]) {
    let mut all = net.parameters();
    for (name, v) in values {
        let i = net.store().infos().iter().position(|i| i.name == *name).unwrap_or_else(|| panic!("no weight {name}"));
        all[i] = Tensor::from_vec(v.clone(), &net.store().infos()[i].shape);
    }
    net.set_parameters(&all);
}

/// The `BatchNormalization` layer in a model, in training and inference, gives Keras' output,
/// gradients (input, gamma, beta) and moving statistics after the call (inference: unchanged,
/// and no state update is asked for).
#[test]
fn batch_normalization_layer_matches_keras_in_both_modes() {
    let root = fixture();
    for (ci, case) in cases(&root, "batch_normalization").iter().enumerate() {
        let cfg = &case["config"];
        let training = case["training"].as_bool().unwrap();
        let label = format!("BatchNormalization layer case {ci} (training {training}, {cfg})");
        let x = tensor(&case["x"], "x");
        let layer = BatchNormalization::try_new(num(&cfg["momentum"], "momentum"), num(&cfg["epsilon"], "epsilon"))
            .unwrap()
            .center(cfg["center"].as_bool().unwrap())
            .scale(cfg["scale"].as_bool().unwrap());
        // Every axis but the last is a batch axis (one case has rank 3).
        let mut net = Sequential::<f64>::with_seed(x.shape()[x.rank() - 1], vec![layer], 0);
        let mut values = vec![
            ("batch_normalization/moving_mean", array(&case["moving_mean"], "mm").0),
            ("batch_normalization/moving_variance", array(&case["moving_variance"], "mv").0),
        ];
        if let Some(g) = opt_tensor(&case["gamma"], "gamma") {
            values.push(("batch_normalization/gamma", g.data().to_vec()));
        }
        if let Some(b) = opt_tensor(&case["beta"], "beta") {
            values.push(("batch_normalization/beta", b.data().to_vec()));
        }
        set_named(&mut net, &values);
        let before = net.parameters();
        let tape = Tape::<f64>::new();
        let params = net.record_parameters(&tape);
        let xv = tape.var(x);
        let mut rng = StdRng::seed_from_u64(0);
        let out = net.call(&params, xv, training, Some(&mut rng));
        assert_close(out.output.value().data(), &array(&case["y"], "y").0, 1e-9, &format!("{label} y"));
        if training {
            assert_eq!(out.updates.len(), 2, "{label}");
            let after = [("moving_mean", &case["moving_mean_after"]), ("moving_variance", &case["moving_variance_after"])];
            for ((p, v), (what, want)) in out.updates.iter().zip(after) {
                assert_eq!(net.store().infos()[p.index()].name, format!("batch_normalization/{what}"));
                assert_close(v.value().data(), &array(want, what).0, 1e-9, &format!("{label} {what}_after"));
            }
        } else {
            assert!(out.updates.is_empty(), "{label}: inference asks for no state update");
        }
        let probe = tape.constant(tensor(&case["w"], "w"));
        let grads = (out.output * probe).sum().backward();
        assert_close(grads.wrt(xv).data(), &array(&case["grad_x"], "grad_x").0, 1e-9, &format!("{label} grad_x"));
        for (i, info) in net.store().infos().iter().enumerate() {
            let key = format!("grad_{}", info.name.trim_start_matches("batch_normalization/"));
            if info.trainable {
                assert_close(grads.wrt(params[i]).data(), &array(&case[key.as_str()], &key).0, 1e-9, &format!("{label} {key}"));
            }
        }
        assert_eq!(net.parameters(), before, "{label}: a forward pass changes no weight");
    }
}

/// The `LayerNormalization` layer gives Keras' output and gradients (the cases without the
/// deprecated `rms_scaling`, which the layer does not offer).
#[test]
fn layer_normalization_layer_matches_keras() {
    let root = fixture();
    let mut checked = 0;
    for (ci, case) in cases(&root, "layer_normalization").iter().enumerate() {
        let cfg = &case["config"];
        if cfg["rms_scaling"].as_bool().unwrap() {
            continue;
        }
        let label = format!("LayerNormalization layer case {ci} ({cfg})");
        let x = tensor(&case["x"], "x");
        let layer = LayerNormalization::try_new(num(&cfg["epsilon"], "epsilon"))
            .unwrap()
            .center(cfg["center"].as_bool().unwrap())
            .scale(cfg["scale"].as_bool().unwrap());
        let width = x.shape()[x.rank() - 1];
        let mut net = Sequential::<f64>::with_seed(width, vec![layer], 0);
        let mut values = Vec::new();
        if let Some(g) = opt_tensor(&case["gamma"], "gamma") {
            values.push(("layer_normalization/gamma", g.data().to_vec()));
        }
        if let Some(b) = opt_tensor(&case["beta"], "beta") {
            values.push(("layer_normalization/beta", b.data().to_vec()));
        }
        set_named(&mut net, &values);
        let tape = Tape::<f64>::new();
        let params = net.record_parameters(&tape);
        let xv = tape.var(x);
        for training in [true, false] {
            let y = net.call(&params, xv, training, None).output;
            assert_close(y.value().data(), &array(&case["y"], "y").0, 1e-9, &format!("{label} y (training {training})"));
        }
        let y = net.forward_with(&params, xv);
        let probe = tape.constant(tensor(&case["w"], "w"));
        let grads = (y * probe).sum().backward();
        assert_close(grads.wrt(xv).data(), &array(&case["grad_x"], "grad_x").0, 1e-9, &format!("{label} grad_x"));
        for (i, info) in net.store().infos().iter().enumerate() {
            let key = format!("grad_{}", info.name.trim_start_matches("layer_normalization/"));
            assert_close(grads.wrt(params[i]).data(), &array(&case[key.as_str()], &key).0, 1e-9, &format!("{label} {key}"));
        }
        checked += 1;
    }
    assert_eq!(checked, 5);
}
