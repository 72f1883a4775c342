//! Derivatives exactly at kinks, where central differences cannot decide: tapegrad follows PyTorch
//! and TensorFlow, and these unit tests pin the chosen values.

use tapegrad::{Tape, Tensor};

fn grad_of(x: &[f64], f: impl for<'t> Fn(tapegrad::Var<'t, f64>) -> tapegrad::Var<'t, f64>) -> Vec<f64> {
    let tape = Tape::new();
    let v = tape.var(Tensor::from_slice(x, &[x.len()]));
    let g = f(v).sum().backward();
    g[v].to_vec()
}

#[test]
fn abs_has_derivative_zero_at_zero() {
    assert_eq!(grad_of(&[-2.0, 0.0, 3.0], |x| x.abs()), vec![-1.0, 0.0, 1.0]);
    assert_eq!(grad_of(&[-0.0], |x| x.abs()), vec![0.0]);
}

#[test]
fn relu_has_derivative_zero_at_zero() {
    assert_eq!(grad_of(&[-1.0, 0.0, 0.5], |x| x.relu()), vec![0.0, 0.0, 1.0]);
}

#[test]
fn maximum_tie_sends_gradient_to_first_argument() {
    let tape = Tape::<f64>::new();
    let a = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]));
    let b = tape.var(Tensor::from_vec(vec![1.0, 5.0, 0.0], &[3]));
    let y = a.maximum(b);
    assert_eq!(y.value().data(), &[1.0, 5.0, 3.0]);
    let g = y.sum().backward();
    assert_eq!(&g[a], &[1.0, 0.0, 1.0]);
    assert_eq!(&g[b], &[0.0, 1.0, 0.0]);
    // Swapping the operands moves the tie's gradient with the first one.
    let g = b.maximum(a).sum().backward();
    assert_eq!(&g[b], &[1.0, 1.0, 0.0]);
    assert_eq!(&g[a], &[0.0, 0.0, 1.0]);
}

#[test]
fn minimum_tie_sends_gradient_to_first_argument() {
    let tape = Tape::<f64>::new();
    let a = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]));
    let b = tape.var(Tensor::from_vec(vec![1.0, 5.0, 0.0], &[3]));
    let y = a.minimum(b);
    assert_eq!(y.value().data(), &[1.0, 2.0, 0.0]);
    let g = y.sum().backward();
    assert_eq!(&g[a], &[1.0, 1.0, 0.0]);
    assert_eq!(&g[b], &[0.0, 0.0, 1.0]);
}

#[test]
fn maximum_tie_with_broadcast_scalar_goes_to_first_argument() {
    // relu written as maximum(x, 0): at x = 0 the gradient goes to x (PyTorch's torch.maximum).
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(vec![-1.0, 0.0, 2.0], &[3]));
    let zero = tape.var(Tensor::scalar(0.0));
    let g = x.maximum(zero).sum().backward();
    assert_eq!(&g[x], &[0.0, 1.0, 1.0]);
    assert_eq!(&g[zero], &[1.0]);
}

#[test]
fn clip_passes_gradient_on_the_closed_interval_only() {
    let x = [-2.0, -1.0, -0.5, 0.0, 1.0, 1.5];
    assert_eq!(grad_of(&x, |v| v.clip(-1.0, 1.0)), vec![0.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
    assert_eq!(grad_of(&x, |v| v.clamp(-1.0, 1.0)), vec![0.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
    let tape = Tape::<f64>::new();
    let v = tape.var(Tensor::from_slice(&x, &[6]));
    assert_eq!(v.clip(-1.0, 1.0).value().data(), &[-1.0, -1.0, -0.5, 0.0, 1.0, 1.0]);
    // A degenerate interval [c, c] still passes the gradient at c.
    assert_eq!(grad_of(&[0.5, 0.7], |v| v.clip(0.5, 0.5)), vec![1.0, 0.0]);
}

#[test]
fn max_reduction_tie_shares_the_gradient() {
    // Documented choice (TensorFlow's reduce_max): tied maxima share the gradient equally.
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(vec![3.0, 1.0, 3.0, 2.0, 2.0, 2.0], &[2, 3]));
    let g = x.max_axis(1, false).sum().backward();
    assert_eq!(&g[x], &[0.5, 0.0, 0.5, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0]);
}

#[test]
fn sqrt_gradient_at_zero_is_infinite() {
    assert_eq!(grad_of(&[0.0], |v| v.sqrt()), vec![f64::INFINITY]);
}

#[test]
fn pow_with_zero_exponent_has_zero_gradient_even_at_zero() {
    assert_eq!(grad_of(&[0.0, 2.0], |v| v.powf(0.0)), vec![0.0, 0.0]);
}
