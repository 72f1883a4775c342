//! Reading tests/fixtures/keras_training.json (schema in the fixture's README section).
#![allow(dead_code)]

use serde_json::Value;

/// The whole fixture.
pub fn fixture() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keras_training.json"))
        .expect("read tests/fixtures/keras_training.json");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// The list of cases of one group.
pub fn cases<'a>(root: &'a Value, group: &str) -> &'a [Value] {
    let cases = root[group].as_array().unwrap_or_else(|| panic!("fixture has no list '{group}'"));
    assert!(!cases.is_empty(), "group '{group}' is empty");
    cases
}

pub fn num(v: &Value, what: &str) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{what}: {v} is not a number"))
}

/// A nested list of numbers, flattened, with its shape.
pub fn array(v: &Value, what: &str) -> (Vec<f64>, Vec<usize>) {
    fn walk(v: &Value, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<f64>, what: &str) {
        match v {
            Value::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len());
                } else {
                    assert_eq!(shape[depth], items.len(), "{what}: ragged list");
                }
                for it in items {
                    walk(it, depth + 1, shape, out, what);
                }
            }
            x => out.push(num(x, what)),
        }
    }
    let (mut shape, mut out) = (Vec::new(), Vec::new());
    walk(v, 0, &mut shape, &mut out, what);
    (out, shape)
}

/// Asserts `got` equals `want` to `rel` relative (absolute below 1e-300 of scale).
#[track_caller]
pub fn assert_close(got: &[f64], want: &[f64], rel: f64, label: &str) {
    assert_eq!(got.len(), want.len(), "{label}: {} values, expected {}", got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs() / w.abs().max(1e-300);
        assert!(
            err <= rel || (g - w).abs() <= 1e-300,
            "{label}: element {i}: got {g:e}, Keras {w:e} (relative error {err:e})"
        );
    }
}
