//! Every case of `tests/fixtures/more_losses.json` (Keras 3.15 on TensorFlow, PyTorch 2.15 and
//! torch autograd of formula losses, float64): the value (every element for reduction `none`) to
//! 1e-9 relative and every element of the gradient of each prediction input to 1e-7 relative plus
//! 1e-12 absolute. The test dispatches on each case's `loss`, `args` and `inputs`, with its
//! `sample_weight` and `mask`; an arg the loss does not read fails the test.

use serde_json::Value;
use tapegrad::losses::{Loss, LossInputs};
use tapegrad::Tape;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/more_losses.json");

use crate::fixture::{arg_text, tensor};


fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(FIXTURE).expect("read tests/fixtures/more_losses.json");
    let root: Value = serde_json::from_str(&text).expect("parse the fixture");
    root["cases"].as_array().expect("a 'cases' array").clone()
}

/// Runs one case; returns its mismatches.
fn run(i: usize, case: &Value) -> Vec<String> {
    let name = case["loss"].as_str().expect("case.loss");
    let args: Vec<(String, String)> =
        case["args"].as_object().map(|o| o.iter().map(|(k, v)| (k.clone(), arg_text(v))).collect()).unwrap_or_default();
    let arg_refs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let tag = format!("case {i} ({name} {} {args:?})", case["tag"].as_str().unwrap_or(""));
    let loss = Loss::with_args(name, &arg_refs).unwrap_or_else(|e| panic!("{tag}: {e}"));
    let grads_expected = case["grads"].as_object().expect("case.grads");
    let tape = Tape::new();
    let mut inputs = LossInputs::empty();
    let mut tracked = Vec::new();
    for (k, v) in case["inputs"].as_object().expect("case.inputs") {
        let t = tensor(v, k);
        let var = if grads_expected.contains_key(k) { tape.var(t) } else { tape.constant(t) };
        if grads_expected.contains_key(k) {
            tracked.push((k.clone(), var));
        }
        inputs = inputs.with(k, var);
    }
    if let Some(w) = case.get("sample_weight") {
        inputs = inputs.sample_weight(tape.constant(tensor(w, "sample_weight")));
    }
    if let Some(m) = case.get("mask") {
        inputs = inputs.mask(tape.constant(tensor(m, "mask")));
    }
    let value = loss.call_inputs(&inputs).unwrap_or_else(|e| panic!("{tag}: {e}"));
    let expected = tensor(&case["value"], "value");
    let mut failures = Vec::new();
    if value.shape().as_slice() != expected.shape() {
        return vec![format!("{tag}: value shape {:?}, reference {:?}", &value.shape()[..], expected.shape())];
    }
    for (j, (&g, &e)) in value.value().data().iter().zip(expected.data()).enumerate() {
        if (g - e).is_nan() || (g - e).abs() > 1e-9 * e.abs() + 1e-300 && g != e {
            failures.push(format!("{tag}: value[{j}] {g:.17e}, reference {e:.17e}"));
        }
    }
    let total = if value.len() == 1 { value } else { value.sum() };
    let grads = total.backward();
    for (k, var) in tracked {
        let want = tensor(&grads_expected[&k], &k);
        let got = grads.wrt(var);
        if got.shape() != want.shape() {
            failures.push(format!("{tag}: grad {k} shape {:?}, reference {:?}", got.shape(), want.shape()));
            continue;
        }
        for (j, (&g, &w)) in got.data().iter().zip(want.data()).enumerate() {
            if (g - w).is_nan() || (g - w).abs() > 1e-7 * w.abs() + 1e-12 {
                failures.push(format!("{tag}: grad {k}[{j}] {g:.17e}, reference {w:.17e}"));
            }
        }
    }
    failures
}

#[test]
fn every_fixture_case_matches_its_reference() {
    let cases = cases();
    assert_eq!(cases.len(), 205, "the fixture's case count changed");
    let failures: Vec<String> = cases.iter().enumerate().flat_map(|(i, c)| run(i, c)).collect();
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn fixture_covers_every_new_loss_and_the_keras_reductions() {
    let cases = cases();
    let names: Vec<&str> = cases.iter().map(|c| c["loss"].as_str().unwrap()).collect();
    let keras_19 = tapegrad::losses::registry().iter().take(19).map(|i| i.name).collect::<Vec<_>>();
    for info in tapegrad::losses::registry().iter().skip(19) {
        let covered = names.iter().any(|n| Loss::new(n).map(|l| l.name() == info.name).unwrap_or(false));
        assert!(covered, "no reference case for {}", info.name);
    }
    assert!(keras_19.contains(&"mean_squared_error"));
    for r in ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"] {
        assert!(cases.iter().any(|c| c["args"]["reduction"] == r), "no case for reduction {r}");
    }
    assert!(cases.iter().any(|c| c.get("mask").is_some()));
}
