//! Seeing inside: the tape inspector, DOT export and anomaly mode.

use std::panic::{catch_unwind, AssertUnwindSafe};
use tapegrad::tape::DotOptions;
use tapegrad::{Tape, Tensor};

fn panic_message(r: Result<(), Box<dyn std::any::Any + Send>>) -> String {
    let e = r.expect_err("expected a panic");
    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

#[test]
fn inspector_lists_every_node_with_bytes_and_totals() {
    let tape = Tape::<f32>::new();
    let x = tape.var(Tensor::ones(&[2, 3]));
    let w = tape.constant(Tensor::ones(&[3, 4]));
    let _y = x.matmul(w).relu().sum();
    let table = tape.to_string();
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 1 + 5 + 1, "header, five nodes, totals:\n{table}");
    assert!(rows[3].contains("matmul") && rows[3].contains("#0,#1") && rows[3].contains("[2, 4]") && rows[3].contains("32"));
    assert!(rows[1].contains("leaf") && rows[2].contains("constant"));
    assert!(rows[3].contains("tests/ops/inspect.rs"), "the recording line is shown: {}", rows[3]);
    // 6 + 12 + 8 + 8 + 1 elements of 4 bytes.
    assert!(rows[6].contains("5 nodes") && rows[6].contains("35 elements") && rows[6].contains("140 bytes"), "{}", rows[6]);
}

#[test]
fn dot_draws_one_node_per_op_and_one_edge_per_input() {
    let tape = Tape::<f64>::new();
    let a = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    let b = tape.constant(Tensor::from_vec(vec![3.0, 4.0], &[2]));
    let y = (a * b).sum();
    let g = y.backward();
    let dot = tape.to_dot(&DotOptions { values: true, grads: Some(&g), max_values: 4 });
    assert_eq!(dot.matches("[label=").count(), 4);
    assert_eq!(dot.matches(" -> ").count(), 3);
    assert!(dot.contains("\"n0\" -> \"n2\"") && dot.contains("\"n1\" -> \"n2\"") && dot.contains("\"n2\" -> \"n3\""));
    // Leaves and constants are boxes, ops ellipses; a's gradient is b.
    assert!(dot.contains("#0 leaf") && dot.contains("shape=box"));
    assert!(dot.contains("grad [3.0000, 4.0000]"), "{dot}");
    let plain = tape.to_dot(&DotOptions::default());
    assert!(!plain.contains("value"));
}

#[test]
fn anomaly_mode_names_the_first_non_finite_forward_op_and_its_line() {
    let tape = Tape::<f64>::new();
    tape.set_anomaly_detection(true);
    let x = tape.var(Tensor::from_vec(vec![1.0, 0.0], &[2]));
    let line = line!() + 2;
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| {
        let _ = x.log();
    })));
    assert!(msg.contains("log") && msg.contains("-inf") && msg.contains("element 1"), "{msg}");
    assert!(msg.contains(&format!("tests/ops/inspect.rs:{line}")), "{msg}");
}

#[test]
fn anomaly_mode_catches_a_non_finite_gradient_in_backward() {
    let tape = Tape::<f64>::new();
    tape.set_anomaly_detection(true);
    let x = tape.var(Tensor::from_vec(vec![0.0, 4.0], &[2]));
    let y = x.sqrt().sum(); // forward is finite, d sqrt / dx at 0 is infinite
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| drop(y.backward()))));
    assert!(msg.contains("backward of sqrt") && msg.contains("inf"), "{msg}");
}

#[test]
fn anomaly_mode_off_lets_non_finite_values_through() {
    let tape = Tape::<f64>::new();
    assert!(!tape.anomaly_detection());
    let x = tape.var(Tensor::from_vec(vec![0.0], &[1]));
    let y = x.log().sum();
    assert_eq!(y.item(), f64::NEG_INFINITY);
    assert!(y.backward()[x][0].is_infinite());
}
