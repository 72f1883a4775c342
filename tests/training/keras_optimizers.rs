//! Every optimizer against Keras 3: the weights after each step of each fixture case, to 1e-12
//! relative in f64. The fixture is read at run time; any file of the same schema passes through the
//! same dispatch on `optimizer` and `config`.

use serde_json::Value;
use tapegrad::optim::from_keras_config;

fn matrix(v: &Value, what: &str) -> (Vec<f64>, usize) {
    let rows = v.as_array().unwrap_or_else(|| panic!("{what}: not a list of rows"));
    let mut flat = Vec::new();
    for row in rows {
        let row = row.as_array().unwrap_or_else(|| panic!("{what}: a row is not a list"));
        flat.extend(row.iter().map(|x| x.as_f64().unwrap_or_else(|| panic!("{what}: {x} is not a number"))));
    }
    (flat, rows.len())
}

#[test]
fn weights_match_keras_after_every_step() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keras_optimizers.json"))
        .expect("read tests/fixtures/keras_optimizers.json");
    let root: Value = serde_json::from_str(&text).expect("fixture is JSON");
    let cases = root["cases"].as_array().expect("fixture has a list 'cases'");
    assert!(!cases.is_empty());
    let mut checked = 0;
    for (ci, case) in cases.iter().enumerate() {
        let name = case["optimizer"].as_str().expect("case has an 'optimizer' string");
        let config = case["config"].as_object().expect("case has a 'config' object");
        let label = format!("case {ci} ({name} {})", case["config"]);
        let mut opt = from_keras_config::<f64>(name, config).unwrap_or_else(|e| panic!("{label}: {e}"));
        let (mut w, _) = matrix(&case["w0"], "w0");
        let grads = case["grads"].as_array().expect("grads");
        let expected = case["w_after_each_step"].as_array().expect("w_after_each_step");
        assert_eq!(grads.len(), expected.len(), "{label}: grads and w_after_each_step differ in length");
        for (step, (g, want)) in grads.iter().zip(expected).enumerate() {
            let (g, _) = matrix(g, "grads");
            let (want, _) = matrix(want, "w_after_each_step");
            opt.begin_step();
            opt.update(0, &mut w, &g);
            for (i, (&got, &exp)) in w.iter().zip(&want).enumerate() {
                let rel = (got - exp).abs() / exp.abs().max(1e-300);
                assert!(
                    rel <= 1e-12,
                    "{label}: step {} element {i}: got {got:e}, Keras {exp:e} (relative error {rel:e})",
                    step + 1
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
}

#[test]
fn unknown_key_or_optimizer_fails_loudly() {
    let cfg = serde_json::json!({"learning_rate": 0.1, "momentom": 0.9});
    let err = from_keras_config::<f64>("sgd", cfg.as_object().unwrap()).err().expect("unknown key must fail");
    assert!(err.to_string().contains("momentom"), "{err}");
    let cfg = serde_json::json!({"learning_rate": 0.1});
    assert!(from_keras_config::<f64>("lion", cfg.as_object().unwrap()).is_err());
    let cfg = serde_json::json!({"learning_rate": "fast"});
    assert!(from_keras_config::<f64>("adam", cfg.as_object().unwrap()).is_err());
    // An active feature tapegrad lacks (clipping is supported since issue 15; EMA is not).
    let cfg = serde_json::json!({"learning_rate": 0.1, "use_ema": true});
    assert!(from_keras_config::<f64>("adam", cfg.as_object().unwrap()).is_err());
    let cfg = serde_json::json!({"learning_rate": 0.1, "clipnorm": 1.0, "global_clipnorm": 1.0});
    assert!(from_keras_config::<f64>("adam", cfg.as_object().unwrap()).is_err());
    // The full form Keras 3's get_config writes is accepted.
    let full = serde_json::json!({
        "name": "adam", "learning_rate": 0.001, "weight_decay": null, "clipnorm": null,
        "global_clipnorm": null, "clipvalue": null, "use_ema": false, "ema_momentum": 0.99,
        "ema_overwrite_frequency": null, "loss_scale_factor": null, "gradient_accumulation_steps": null,
        "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": false
    });
    let opt = from_keras_config::<f64>("adam", full.as_object().unwrap()).unwrap();
    assert_eq!((opt.name(), opt.learning_rate()), ("adam", 0.001));
}
