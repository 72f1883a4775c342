//! Reading the reference fixtures' JSON: nested number arrays as tensors, option values as the
//! text `LossOptions::set` parses. Shared by the Keras and the PyTorch reference tests.

use serde_json::Value;
use tapegrad::Tensor;

/// A JSON number or nested array of numbers as a tensor (a number is rank 0).
pub fn tensor(v: &Value, what: &str) -> Tensor<f64> {
    fn walk(v: &Value, depth: usize, shape: &mut Vec<usize>, data: &mut Vec<f64>, what: &str) {
        match v {
            Value::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len());
                } else {
                    assert_eq!(shape[depth], items.len(), "{what}: ragged array at depth {depth}");
                }
                items.iter().for_each(|x| walk(x, depth + 1, shape, data, what));
            }
            Value::Number(n) => data.push(n.as_f64().unwrap()),
            other => panic!("{what}: expected a number, got {other}"),
        }
    }
    let (mut shape, mut data) = (Vec::new(), Vec::new());
    walk(v, 0, &mut shape, &mut data, what);
    Tensor::from_vec(data, &shape)
}

/// A JSON arg value as the text `LossOptions::set` parses (lists as `[a, b]`).
pub fn arg_text(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(arg_text).collect::<Vec<_>>().join(", ")),
        other => panic!("unsupported arg value {other}"),
    }
}
