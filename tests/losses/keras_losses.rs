//! Every case of `tests/fixtures/keras_losses.json` (Keras 3, TensorFlow backend, float64):
//! the reduced value to 1e-9 relative and every element of d value / d y_pred to 1e-7 relative
//! plus 1e-12 absolute. The test dispatches on each case's `loss` name and `args`, so it runs
//! any file of that schema; an arg the loss does not know fails the test.

use serde_json::Value;
use tapegrad::losses::Loss;
use tapegrad::Tape;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keras_losses.json");

use crate::fixture::{arg_text, tensor};


#[test]
fn every_fixture_case_matches_keras() {
    let text = std::fs::read_to_string(FIXTURE).expect("read tests/fixtures/keras_losses.json");
    let root: Value = serde_json::from_str(&text).expect("parse the fixture");
    let cases = root["cases"].as_array().expect("a 'cases' array");
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let name = case["loss"].as_str().expect("case.loss");
        let args: Vec<(String, String)> = case["args"]
            .as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), arg_text(v))).collect())
            .unwrap_or_default();
        let arg_refs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let loss = Loss::with_args(name, &arg_refs).unwrap_or_else(|e| panic!("case {i} ({name} {args:?}): {e}"));
        let y_true = tensor(&case["y_true"], "y_true");
        let y_pred = tensor(&case["y_pred"], "y_pred");
        let expected_grad = tensor(&case["grad_y_pred"], "grad_y_pred");
        let expected = case["value"].as_f64().expect("case.value");
        let width = *y_pred.shape().last().unwrap();
        loss.validate(&y_true, width).unwrap_or_else(|e| panic!("case {i}: fixture targets rejected: {e}"));

        let tape = Tape::new();
        let t = tape.constant(y_true);
        let p = tape.var(y_pred);
        let value = loss.call(t, p);
        let got = value.item();
        let grads = value.backward();
        let tag = format!("case {i} ({name} {args:?})");
        if (got - expected).is_nan() || (got - expected).abs() > 1e-9 * expected.abs() {
            failures.push(format!("{tag}: value {got:.17e}, Keras {expected:.17e}"));
        }
        assert_eq!(grads.wrt(p).shape(), expected_grad.shape(), "{tag}: gradient shape");
        for (j, (&g, &k)) in grads[p].iter().zip(expected_grad.data()).enumerate() {
            if (g - k).is_nan() || (g - k).abs() > 1e-7 * k.abs() + 1e-12 {
                failures.push(format!("{tag}: grad[{j}] {g:.17e}, Keras {k:.17e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn fixture_covers_every_registered_loss() {
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    let root: Value = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = root["cases"].as_array().unwrap().iter().map(|c| c["loss"].as_str().unwrap()).collect();
    // The 19 Keras losses are here; the losses beyond Keras are in more_losses.json (its own test).
    let more = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/more_losses.json")).unwrap();
    let more: Value = serde_json::from_str(&more).unwrap();
    let more_names: Vec<String> = more["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Loss::new(c["loss"].as_str().unwrap()).unwrap().name().to_string())
        .collect();
    for (i, info) in tapegrad::losses::registry().iter().enumerate() {
        if i < 19 {
            assert!(names.contains(&info.name), "no Keras reference case for {}", info.name);
        } else {
            assert!(more_names.iter().any(|n| n == info.name), "no reference case for {}", info.name);
        }
    }
}
