//! Elementwise ops on buffers large enough to run in two halves on two threads give exactly the
//! element-by-element values and gradients (the split must not shift or skip an element).

use tapegrad::{Tape, Tensor};

#[test]
fn unary_forward_and_backward_on_a_split_buffer_equal_the_element_rule() {
    // Odd length above the two-thread cut (2^18), so the halves differ in size.
    let n = (1 << 18) + 3;
    let xs: Vec<f32> = (0..n).map(|i| ((i * 7919 % 2003) as f32 - 1001.0) / 250.0).collect();
    let tape = Tape::<f32>::new();
    let x = tape.var(Tensor::from_vec(xs.clone(), &[n]));
    let (r, e) = (x.relu(), x.square());
    let v = r.value();
    let w = e.value();
    for (i, &xi) in xs.iter().enumerate() {
        assert_eq!(v.data()[i], if xi > 0.0 { xi } else { 0.0 }, "relu at {i}");
        assert_eq!(w.data()[i], xi * xi, "square at {i}");
    }
    // d/dx sum(relu(x) * 3 + x^2) = 3 [x > 0] + 2x, with x's gradient first written by a
    // unary rule (split) and then added to by the other.
    let grads = (r * 3.0 + e).sum().backward();
    for (i, &xi) in xs.iter().enumerate() {
        let want = if xi > 0.0 { 3.0 } else { 0.0 } + 2.0 * xi;
        assert_eq!(grads[x][i], want, "gradient at {i}");
    }
}
