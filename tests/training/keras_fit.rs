//! `fit` against Keras 3 (float64) on `tests/fixtures/keras_training.json`: whole trajectories
//! with `sample_weight` and with `class_weight`, with weight and activity penalties,
//! BatchNormalization and a MaxNorm constraint, and the first epoch's penalties.

use serde_json::Value;
use std::collections::BTreeMap;
use tapegrad::layers;
use rand::{rngs::StdRng, SeedableRng};
use tapegrad::nn::{Activation, ActivityRegularization, BatchNormalization, Constraint, Dense, IntoLayer, Layer, Regularizer, Sequential};
use tapegrad::optim::{Adam, Optimizer, Sgd};
use tapegrad::train::{FitConfig, LossFn, Verbose};
use tapegrad::{Tape, Tensor};

fn fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/keras_training.json")).unwrap()
}

fn flat(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().flat_map(flat).collect(),
        other => vec![other.as_f64().unwrap()],
    }
}

fn matrix(v: &Value) -> Tensor<f64> {
    let rows = v.as_array().unwrap().len();
    let data = flat(v);
    let cols = data.len() / rows;
    Tensor::from_vec(data, &[rows, cols])
}

fn optimizer(case: &Value) -> Box<dyn Optimizer<f64>> {
    let c = &case["optimizer_config"];
    let lr = c["learning_rate"].as_f64().unwrap();
    match case["optimizer"].as_str().unwrap() {
        "sgd" => Box::new(Sgd::new(lr).momentum(c["momentum"].as_f64().unwrap())),
        "adam" => Box::new(Adam::new(lr)),
        other => panic!("optimizer {other}"),
    }
}

/// The Dense layers of a case, named as Keras named them, with Keras' initial weights.
fn dense_net(case: &Value, extra_after_first: Option<ActivityRegularization>) -> Sequential<f64> {
    let specs = case["model"]["layers"].as_array().unwrap();
    let dense = |l: &Value| {
        Dense::new(l["units"].as_u64().unwrap() as usize)
            .activation(l["activation"].as_str().unwrap().parse::<Activation>().unwrap())
            .name(l["name"].as_str().unwrap())
    };
    let input = case["model"]["input_dim"].as_u64().unwrap() as usize;
    let mut net = match extra_after_first {
        Some(a) => Sequential::with_seed(input, layers![dense(&specs[0]), a, dense(&specs[1])], 0),
        None => Sequential::with_seed(input, vec![dense(&specs[0]), dense(&specs[1])], 0),
    };
    set_weights(&mut net, &case["initial_weights"]);
    net
}

fn set_weights(net: &mut Sequential<f64>, weights: &Value) {
    let values: Vec<Tensor<f64>> = net
        .store()
        .infos()
        .iter()
        .map(|i| Tensor::from_vec(flat(&weights[format!("mlp/{}", i.name)]), &i.shape))
        .collect();
    net.set_parameters(&values);
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

#[test]
fn weighted_fits_follow_keras_trajectories() {
    let f = fixture();
    let mut checked = 0;
    for case in f["fit_trajectories"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        if name != "sample_weight" && name != "binary_class_weight" {
            continue;
        }
        let (x, y) = (matrix(&case["x"]), matrix(&case["y"]));
        let sw = case["sample_weight"].as_array().map(|w| Tensor::from_vec(flat(&Value::Array(w.clone())), &[w.len()]));
        let cw: Option<BTreeMap<usize, f64>> = case["class_weight"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.parse().unwrap(), v.as_f64().unwrap())).collect());
        let loss = LossFn::named(case["loss"].as_str().unwrap()).unwrap();
        let mut model = dense_net(case, None).compile_boxed(loss, optimizer(case), &[]);
        let batch = case["batch_size"].as_u64().unwrap() as usize;
        for (epoch, want) in case["weights_after_each_epoch"].as_array().unwrap().iter().enumerate() {
            let mut cfg = FitConfig::new(1).batch_size(batch).shuffle(false).verbose(Verbose::Silent);
            if let Some(w) = &sw {
                cfg = cfg.sample_weight(w);
            }
            if let Some(c) = &cw {
                cfg = cfg.class_weight(c);
            }
            let h = model.fit(&x, &y, cfg).unwrap();
            let want_loss = case["history_loss"][epoch].as_f64().unwrap();
            assert!(close(h.loss()[0], want_loss, 1e-9), "{name} {}: epoch {epoch} loss {} vs {want_loss}", case["optimizer"], h.loss()[0]);
            for (pname, got) in model.net().named_parameters() {
                let w = flat(&want[format!("mlp/{pname}")]);
                for (a, b) in got.data().iter().zip(&w) {
                    assert!((a - b).abs() <= 1e-10 * b.abs(), "{name} {}: epoch {epoch} {pname}: {a} vs {b}", case["optimizer"]);
                }
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn activity_penalty_is_keras_first_epoch_penalty() {
    let f = fixture();
    let case = f["fit_trajectories"].as_array().unwrap().iter().find(|c| c["name"] == "dense_activity_maxnorm").unwrap();
    let l2 = case["model"]["layers"][0]["activity_regularizer"]["args"]["l2"].as_f64().unwrap();
    let (x, y) = (matrix(&case["x"]), matrix(&case["y"]));
    let net = dense_net(case, Some(ActivityRegularization::new(0.0, l2)));
    let mut model = net.compile(LossFn::named("mse").unwrap(), Sgd::new(0.1), &[]);
    let got = model.train_on_batch(&x, &y).unwrap();
    let penalty = case["epoch1_penalties"][0]["value"].as_f64().unwrap();
    let data = case["epoch1_loss_without_penalties"].as_f64().unwrap();
    assert!(close(got, data + penalty, 1e-9), "{got} vs {data} + {penalty}");
    assert!(close(got, case["history_loss"][0].as_f64().unwrap(), 1e-9));
}

/// A layer of a case's model as Keras described it: Dense with its regularizers and
/// constraints, or BatchNormalization.
fn keras_layer(l: &Value) -> Box<dyn Layer<f64>> {
    let name = l["name"].as_str().unwrap();
    let given = |key: &str| Some(&l[key]).filter(|v| !v.is_null());
    let reg = |v: &Value| Regularizer::from_keras(v["class"].as_str().unwrap(), &v["args"]).unwrap();
    let con = |v: &Value| Constraint::from_keras(v["class"].as_str().unwrap(), &v["args"]).unwrap();
    match l["class"].as_str().unwrap() {
        "Dense" => {
            let mut d = Dense::new(l["units"].as_u64().unwrap() as usize)
                .activation(l["activation"].as_str().unwrap().parse::<Activation>().unwrap())
                .name(name);
            if let Some(r) = given("kernel_regularizer") {
                d = d.kernel_regularizer(reg(r));
            }
            if let Some(r) = given("bias_regularizer") {
                d = d.bias_regularizer(reg(r));
            }
            if let Some(r) = given("activity_regularizer") {
                d = d.activity_regularizer(reg(r));
            }
            if let Some(c) = given("kernel_constraint") {
                d = d.kernel_constraint(con(c));
            }
            if let Some(c) = given("bias_constraint") {
                d = d.bias_constraint(con(c));
            }
            d.into_layer()
        }
        "BatchNormalization" => {
            BatchNormalization::try_new(l["momentum"].as_f64().unwrap(), l["epsilon"].as_f64().unwrap()).unwrap().name(name).into_layer()
        }
        other => panic!("layer class {other}"),
    }
}

fn keras_net(case: &Value) -> Sequential<f64> {
    let layers: Vec<Box<dyn Layer<f64>>> = case["model"]["layers"].as_array().unwrap().iter().map(keras_layer).collect();
    let mut net = Sequential::with_seed(case["model"]["input_dim"].as_u64().unwrap() as usize, layers, 0);
    set_weights(&mut net, &case["initial_weights"]);
    net
}

/// Whole fits with weight penalties, BatchNormalization (moving statistics included in the
/// weights), an activity penalty and a MaxNorm constraint, with SGD and Adam: every weight after
/// every epoch to 1e-10 and `History`'s loss (data loss plus every penalty) to 1e-9.
#[test]
fn penalised_normalised_constrained_fits_follow_keras_trajectories() {
    let f = fixture();
    let mut checked = 0;
    for case in f["fit_trajectories"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        if name != "dense_l2_l1_batchnorm" && name != "dense_activity_maxnorm" {
            continue;
        }
        let (x, y) = (matrix(&case["x"]), matrix(&case["y"]));
        let loss = LossFn::named(case["loss"].as_str().unwrap()).unwrap();
        let mut model = keras_net(case).compile_boxed(loss, optimizer(case), &[]);
        let batch = case["batch_size"].as_u64().unwrap() as usize;
        let epochs = case["weights_after_each_epoch"].as_array().unwrap();
        assert_eq!(epochs.len(), case["epochs"].as_u64().unwrap() as usize);
        for (epoch, want) in epochs.iter().enumerate() {
            let cfg = FitConfig::new(1).batch_size(batch).shuffle(false).verbose(Verbose::Silent);
            let h = model.fit(&x, &y, cfg).unwrap();
            let want_loss = case["history_loss"][epoch].as_f64().unwrap();
            assert!(close(h.loss()[0], want_loss, 1e-9), "{name} {}: epoch {epoch} loss {} vs {want_loss}", case["optimizer"], h.loss()[0]);
            let named = model.net().named_parameters();
            assert_eq!(named.len(), want.as_object().unwrap().len(), "{name}: every Keras weight is a weight of the model");
            for (pname, got) in named {
                let w = flat(&want[format!("mlp/{pname}")]);
                assert_eq!(got.len(), w.len(), "{name} {pname}");
                for (a, b) in got.data().iter().zip(&w) {
                    assert!((a - b).abs() <= 1e-10 * b.abs(), "{name} {}: epoch {epoch} {pname}: {a} vs {b}", case["optimizer"]);
                }
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 4);
}

/// Before the first update, the model's penalties are Keras' `epoch1_penalties` one by one and the
/// data loss is `epoch1_loss_without_penalties` (training mode: BatchNormalization on batch
/// statistics).
#[test]
fn first_epoch_penalties_are_keras_terms() {
    let f = fixture();
    for name in ["dense_l2_l1_batchnorm", "dense_activity_maxnorm"] {
        let case = f["fit_trajectories"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap();
        let net = keras_net(case);
        let (x, y) = (matrix(&case["x"]), matrix(&case["y"]));
        let tape = Tape::new();
        let params = net.record_parameters(&tape);
        let mut rng = StdRng::seed_from_u64(0);
        let out = net.call(&params, tape.constant(x), true, Some(&mut rng));
        let data = LossFn::<f64>::named("mse").unwrap().call(tape.constant(y), out.output).item();
        assert!(close(data, case["epoch1_loss_without_penalties"].as_f64().unwrap(), 1e-9), "{name}: data loss {data}");
        let mut got: Vec<f64> = out.losses.iter().map(|p| p.item()).collect();
        let mut want: Vec<f64> = case["epoch1_penalties"].as_array().unwrap().iter().map(|p| p["value"].as_f64().unwrap()).collect();
        got.sort_by(f64::total_cmp);
        want.sort_by(f64::total_cmp);
        assert_eq!(got.len(), want.len(), "{name}: penalties {got:?} vs {want:?}");
        for (a, b) in got.iter().zip(&want) {
            assert!(close(*a, *b, 1e-12), "{name}: penalty {a} vs {b}");
        }
    }
}
