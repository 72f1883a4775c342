//! Shared strategies and checks for the property tests (`tests/props_*.rs`).
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tapegrad::{gradcheck, Tape, Tensor, Var};

/// Cases per property in the default `cargo test`.
pub const CASES: u32 = 256;

/// A shape of rank 0 to 3 with dimensions 1 to 4.
pub fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=4, 0..=3)
}

/// A shape of rank 1 to 3 with dimensions 1 to 4, and an axis of it (negative half the time).
pub fn shape_and_axis() -> impl Strategy<Value = (Vec<usize>, isize)> {
    prop::collection::vec(1usize..=4, 1..=3).prop_flat_map(|s| {
        let r = s.len() as isize;
        (Just(s), -r..r)
    })
}

/// Row-major elements of a shape, uniform in `[lo, hi)`.
pub fn values(shape: Vec<usize>, lo: f64, hi: f64) -> impl Strategy<Value = Tensor<f64>> {
    let n: usize = shape.iter().product();
    prop::collection::vec(lo..hi, n).prop_map(move |v| Tensor::from_vec(v, &shape))
}

/// A tensor of random shape with elements in `[lo, hi)`.
pub fn tensor(lo: f64, hi: f64) -> impl Strategy<Value = Tensor<f64>> {
    shape().prop_flat_map(move |s| values(s, lo, hi))
}

/// `shape` with the dimensions flagged in `ones` set to 1 and `drop` leading dimensions removed.
fn squeeze(shape: &[usize], ones: &[bool], drop: usize) -> Vec<usize> {
    shape.iter().zip(ones).skip(drop).map(|(&d, &one)| if one { 1 } else { d }).collect()
}

/// Two shapes that broadcast together: both come from one shape by setting random dimensions to 1
/// and dropping random leading dimensions (so size-1 dimensions, rank differences and equal
/// shapes all occur).
pub fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    shape()
        .prop_flat_map(|s| {
            let r = s.len();
            let flags = prop::collection::vec(prop::bool::weighted(0.3), r);
            (Just(s), flags.clone(), flags, 0..=r, 0..=r, any::<bool>())
        })
        .prop_map(|(s, ma, mb, da, db, full_a)| {
            // Leave one side whole half the time: the common `[n, k] + [k]` pattern.
            let a = if full_a { s.clone() } else { squeeze(&s, &ma, da / 2) };
            (a, squeeze(&s, &mb, db))
        })
}

/// A shape and another it broadcasts to (`small` derived from `big`).
pub fn broadcast_target() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    shape()
        .prop_flat_map(|s| {
            let r = s.len();
            (Just(s), prop::collection::vec(prop::bool::weighted(0.4), r), 0..=r)
        })
        .prop_map(|(s, m, d)| (squeeze(&s, &m, d), s))
}

/// Moves `x` at least `gap` away from `point` (keeps the side it was on).
pub fn away(x: f64, point: f64, gap: f64) -> f64 {
    if (x - point).abs() >= gap {
        x
    } else if x >= point {
        point + gap
    } else {
        point - gap
    }
}

/// Row-major offset to multi-index.
pub fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = i % shape[d];
        i /= shape[d];
    }
    idx
}

/// Multi-index to row-major offset.
pub fn ravel(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (i, d)| acc * d + i)
}

/// numpy's broadcast shape, written out by hand for the tests (inputs assumed compatible).
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Vec<usize> {
    let r = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| if i < r - s.len() { 1 } else { s[i - (r - s.len())] };
    (0..r).map(|i| dim(a, i).max(dim(b, i))).collect()
}

/// The element of `t` that position `out_idx` of a broadcast result reads.
pub fn broadcast_get(t: &Tensor<f64>, out_idx: &[usize]) -> f64 {
    let lead = out_idx.len() - t.rank();
    let idx: Vec<usize> = t.shape().iter().enumerate().map(|(d, &n)| if n == 1 { 0 } else { out_idx[lead + d] }).collect();
    t.data()[ravel(&idx, t.shape())]
}

/// `f(a, b)` elementwise over the broadcast shape, by multi-index: the hand computation the
/// tape's broadcasting is compared with.
pub fn broadcast_by_hand(a: &Tensor<f64>, b: &Tensor<f64>, f: impl Fn(f64, f64) -> f64) -> Tensor<f64> {
    let out = broadcast_shape(a.shape(), b.shape());
    let n: usize = out.iter().product();
    let data = (0..n)
        .map(|i| {
            let idx = unravel(i, &out);
            f(broadcast_get(a, &idx), broadcast_get(b, &idx))
        })
        .collect();
    Tensor::from_vec(data, &out)
}

/// A scalar that depends on every element of `y` with a different weight, so that gradcheck sees
/// a non-trivial upstream gradient (a plain sum would make softmax's gradient vanish).
pub fn probe<'t>(y: Var<'t, f64>) -> Var<'t, f64> {
    let n = y.len();
    let w: Vec<f64> = (0..n).map(|i| 1.0 + 0.5 * (1.7 * i as f64 + 0.3).sin()).collect();
    let w = y.tape().constant(Tensor::from_vec(w, &y.shape()));
    (y * w).sum()
}

/// Evaluates `f` on constants (no gradient) and returns its value.
pub fn eval<F>(f: F, inputs: &[Tensor<f64>]) -> Tensor<f64>
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    let tape = Tape::new();
    let vars: Vec<Var<'_, f64>> = inputs.iter().map(|x| tape.constant(x.clone())).collect();
    f(&vars).value()
}

/// Asserts two tensors have the same shape and (to rounding) the same elements.
pub fn assert_close(got: &Tensor<f64>, want: &Tensor<f64>) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.shape(), want.shape(), "shapes differ");
    for (i, (g, w)) in got.data().iter().zip(want.data()).enumerate() {
        prop_assert!((g - w).abs() <= 1e-10 * (1.0 + w.abs()), "element {}: got {}, want {}", i, g, w);
    }
    Ok(())
}

/// The two checks every op gets: its forward value against `expected` (computed by hand), and its
/// gradient against central differences through the public `gradcheck`.
pub fn check<F>(f: F, inputs: &[Tensor<f64>], expected: &Tensor<f64>) -> Result<(), TestCaseError>
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    assert_close(&eval(&f, inputs), expected)?;
    check_grad(f, inputs)
}

/// The gradient check alone (for ops whose forward value is tested separately).
pub fn check_grad<F>(f: F, inputs: &[Tensor<f64>]) -> Result<(), TestCaseError>
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    match gradcheck(|v| probe(f(v)), inputs) {
        Ok(_) => Ok(()),
        Err(e) => Err(TestCaseError::fail(e.to_string())),
    }
}
