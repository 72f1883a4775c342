//! Bad input: every panic names the op and the shapes involved, and its location (through
//! `#[track_caller]`) is the caller's line in this file, never a line inside `src/`.
//!
//! `crate::panics::catch` records each panic's message and location for the calling thread, so the
//! tests can run in parallel. Each `expect_panic!` must stay on one line: the expected location is `line!()`.

use crate::panics::catch;
use tapegrad::{Tape, Tensor, Var};

/// `expect_panic!(expression, "part", ...)`: the expression panics, at this line of this file, with
/// a message containing every part.
macro_rules! expect_panic {
    ($e:expr $(, $part:expr)+ $(,)?) => {{
        let here = line!();
        let (msg, file, line) = catch(|| $e);
        assert_eq!((file.as_str(), line), (file!(), here), "panic location leaked into the library; message: {msg}");
        for part in [$($part),+] {
            assert!(msg.contains(part), "panic message {msg:?} does not mention {part:?}");
        }
    }};
}

fn t(shape: &[usize]) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|i| i as f64 * 0.5 + 0.25).collect(), shape)
}

#[test]
fn elementwise_shape_mismatch_names_op_and_shapes() {
    let tape = Tape::<f64>::new();
    let (a, b) = (tape.var(t(&[2, 3])), tape.var(t(&[4])));
    expect_panic!(a + b, "add", "[2, 3]", "[4]");
    expect_panic!(a - b, "sub", "[2, 3]", "[4]");
    expect_panic!(a * b, "mul", "[2, 3]", "[4]");
    expect_panic!(a / b, "div", "[2, 3]", "[4]");
    expect_panic!(a.maximum(b), "maximum", "[2, 3]", "[4]");
    expect_panic!(a.minimum(b), "minimum", "[2, 3]", "[4]");
    let m = tape.constant(t(&[3, 2]));
    expect_panic!(Var::where_(m, a, a), "where", "[3, 2]", "[2, 3]");
}

#[test]
fn matmul_and_transpose_rank_and_size_errors() {
    let tape = Tape::<f64>::new();
    let (a, b) = (tape.var(t(&[2, 3])), tape.var(t(&[4, 2])));
    expect_panic!(a.matmul(b), "matmul", "[2, 3]", "[4, 2]");
    let v = tape.var(t(&[3]));
    expect_panic!(v.matmul(a), "matmul", "[3]", "[2, 3]");
    expect_panic!(tape.var(t(&[2, 2, 2])).t(), "transpose", "[2, 2, 2]");
    expect_panic!(v.transpose(0, 1), "transpose", "[3]");
}

#[test]
fn axis_out_of_range_names_op_axis_and_shape() {
    let tape = Tape::<f64>::new();
    let x = tape.var(t(&[2, 3]));
    expect_panic!(x.sum_axis(2, false), "sum", "axis 2", "[2, 3]");
    expect_panic!(x.mean_axis(-3, true), "mean", "axis -3", "[2, 3]");
    expect_panic!(x.max_axis(5, false), "max", "axis 5", "[2, 3]");
    expect_panic!(x.softmax(2), "softmax", "axis 2", "[2, 3]");
    expect_panic!(x.log_softmax(-3), "log_softmax", "axis -3", "[2, 3]");
    expect_panic!(x.logsumexp(7, false), "logsumexp", "axis 7", "[2, 3]");
    expect_panic!(x.gather(2, &[0]), "gather", "axis 2", "[2, 3]");
    expect_panic!(Var::concat(&[x, x], 3), "concat", "axis 3", "[2, 3]");
    let s = tape.var(Tensor::scalar(1.0));
    expect_panic!(s.sum_axis(0, false), "sum", "axis 0", "[]");
}

#[test]
fn shape_op_errors_name_the_shapes() {
    let tape = Tape::<f64>::new();
    let x = tape.var(t(&[2, 3]));
    expect_panic!(x.reshape(&[4, 2]), "reshape", "[2, 3]", "[4, 2]");
    expect_panic!(x.broadcast_to(&[3, 3]), "broadcast_to", "[2, 3]", "[3, 3]");
    expect_panic!(x.broadcast_to(&[3]), "broadcast_to", "[2, 3]", "[3]");
    let y = tape.var(t(&[3, 2]));
    expect_panic!(Var::concat(&[x, y], 0), "concat", "[3, 2]", "[2, 3]");
    expect_panic!(x.gather(1, &[0, 3]), "gather", "index 3", "[2, 3]");
    expect_panic!(tape.one_hot(&[0, 4], 3), "one_hot", "4", "3 classes");
    expect_panic!(x.clip(1.0, -1.0), "clip", "1", "-1");
}

#[test]
fn backward_from_more_than_one_element_names_the_shape() {
    let tape = Tape::<f64>::new();
    let x = tape.var(t(&[2, 3]));
    let y = x.exp();
    expect_panic!(y.backward(), "backward", "[2, 3]", "6 elements");
    expect_panic!(y.item(), "item", "[2, 3]");
}

#[test]
fn mixing_two_tapes_names_the_op_and_shapes() {
    let (t1, t2) = (Tape::<f64>::new(), Tape::<f64>::new());
    let a = t1.var(t(&[2, 2]));
    let b = t2.var(t(&[2, 3]));
    expect_panic!(a + b, "add", "two different tapes", "[2, 2]", "[2, 3]");
    expect_panic!(a * b, "mul", "two different tapes");
    expect_panic!(a.matmul(b), "matmul", "two different tapes", "[2, 2]", "[2, 3]");
    expect_panic!(a.maximum(b), "maximum", "two different tapes");
    expect_panic!(Var::concat(&[a, b], 0), "concat", "two different tapes");
    expect_panic!(Var::where_(a, a, b), "where", "two different tapes");
    let g = a.sum().backward();
    expect_panic!(g[b].len(), "Gradients", "another tape");
    expect_panic!(g.wrt(b), "Gradients", "another tape");
}

#[test]
fn gradients_of_a_value_recorded_after_the_output() {
    let tape = Tape::<f64>::new();
    let x = tape.var(t(&[2]));
    let y = x.sum();
    let later = x.exp();
    let g = y.backward();
    expect_panic!(g[later].len(), "Gradients", "recorded after the output");
}

#[test]
fn tensor_constructor_and_access_errors() {
    expect_panic!(Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[2, 2]), "from_vec", "3 values", "[2, 2]");
    expect_panic!(Tensor::from_rows(&[vec![1.0f64, 2.0], vec![3.0]]), "from_rows", "row 1");
    let x = t(&[2, 3]);
    expect_panic!(x.get(&[2, 0]), "index [2, 0]", "[2, 3]");
    expect_panic!(x.get(&[1]), "index [1]", "[2, 3]");
    expect_panic!(x.clone().reshape(&[5]), "reshape", "[2, 3]", "[5]");
    expect_panic!(x.item(), "item", "[2, 3]");
    expect_panic!(x.slice_rows(1, 3), "slice_rows", "[2, 3]");
    expect_panic!(x.select_rows(&[2]), "select_rows", "row 2", "[2, 3]");
    // Regression: on a rank-0 tensor these used to panic inside src/ with a slice-index message.
    let s = Tensor::scalar(1.0f64);
    expect_panic!(s.slice_rows(0, 0), "slice_rows", "rank-0");
    expect_panic!(s.select_rows(&[0]), "select_rows", "rank-0");
    let tape = Tape::<f64>::new();
    expect_panic!(tape.leaf(&[2, 2], &[1.0, 2.0], true), "leaf", "2 values", "[2, 2]");
}

#[test]
fn tensor_ops_errors_name_the_op_and_shapes() {
    let (a, b) = (t(&[2, 3]), t(&[2]));
    expect_panic!(&a + &b, "add", "[2, 3]", "[2]");
    expect_panic!(&a * &b, "mul", "[2, 3]", "[2]");
    expect_panic!(a.clone() - b.clone(), "sub", "[2, 3]", "[2]");
    expect_panic!(&a / &b, "div", "[2, 3]", "[2]");
    expect_panic!(a.maximum(&b), "maximum", "[2, 3]", "[2]");
    expect_panic!(a.matmul(&a), "matmul", "[2, 3]");
    expect_panic!(b.t(), "transpose", "[2]");
    expect_panic!(a.sum_axis(2, false), "sum", "axis 2", "[2, 3]");
    expect_panic!(a.mean_axis(-3, false), "mean", "axis -3", "[2, 3]");
    expect_panic!(a.max_axis(4, true), "max", "axis 4", "[2, 3]");
    expect_panic!(a.broadcast_to(&[3, 3]), "broadcast_to", "[2, 3]", "[3, 3]");
}
