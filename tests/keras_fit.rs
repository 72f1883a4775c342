//! `fit` against Keras 3 (float64) on `tests/fixtures/keras_training.json`: whole trajectories
//! with `sample_weight` and with `class_weight`, and the first epoch's activity penalty.

use serde_json::Value;
use std::collections::BTreeMap;
use tapegrad::layers;
use tapegrad::nn::{Activation, ActivityRegularization, Dense, Sequential};
use tapegrad::optim::{Adam, Optimizer, Sgd};
use tapegrad::train::{FitConfig, LossFn, Verbose};
use tapegrad::Tensor;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/keras_training.json")).unwrap()
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
                    assert!((a - b).abs() <= 1e-10 * b.abs().max(1.0), "{name} {}: epoch {epoch} {pname}: {a} vs {b}", case["optimizer"]);
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
