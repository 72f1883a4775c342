//! Property tests of `cumprod` (f64, 256 cases each), on values where about a third of the
//! elements are exactly 0: the forward value against products written out here, the gradient
//! against the exact derivative `Σ_(i≥j) w_i ∏_(k≤i, k≠j) x_k` summed here term by term (no
//! division anywhere), `gradcheck` (reverse and forward mode against central differences),
//! `gradgradcheck`, and the Hessian by forward-over-reverse against reverse-over-reverse.


use proptest::prelude::*;
use crate::props_support::*;
use tapegrad::autodiff::{hessian, jacrev};
use tapegrad::gradcheck::gradgradcheck;
use tapegrad::{Tape, Tensor};

/// A shape, an axis of it, and values in `[-2, 2)` of which about 30% are exactly 0.
fn with_zeros() -> impl Strategy<Value = (Tensor<f64>, isize)> {
    shape_and_axis().prop_flat_map(|(s, axis)| {
        let n: usize = s.iter().product();
        let zeros = prop::collection::vec(prop::bool::weighted(0.3), n);
        (values(s, -2.0, 2.0), zeros, Just(axis)).prop_map(|(mut x, z, axis)| {
            for (v, zero) in x.data_mut().iter_mut().zip(z) {
                if zero {
                    *v = 0.0;
                }
            }
            (x, axis)
        })
    })
}

fn axis_of(axis: isize, rank: usize) -> usize {
    if axis < 0 {
        (axis + rank as isize) as usize
    } else {
        axis as usize
    }
}

/// `∏_(k ≤ idx[a], k ≠ skip) x[.., k, ..]`.
fn product_to(x: &Tensor<f64>, a: usize, idx: &[usize], skip: Option<usize>) -> f64 {
    let mut at = idx.to_vec();
    (0..=idx[a])
        .filter(|&k| Some(k) != skip)
        .map(|k| {
            at[a] = k;
            x.get(&at)
        })
        .product()
}

fn cumprod_by_hand(x: &Tensor<f64>, a: usize) -> Tensor<f64> {
    let data = (0..x.len()).map(|i| product_to(x, a, &unravel(i, x.shape()), None)).collect();
    Tensor::from_vec(data, x.shape())
}

/// `d(Σ w_i y_i)/dx_j = Σ_(i ≥ j along a) w_i ∏_(k ≤ i, k ≠ j) x_k`, term by term.
fn cumprod_grad_by_hand(x: &Tensor<f64>, a: usize, w: &Tensor<f64>) -> Tensor<f64> {
    let data = (0..x.len())
        .map(|j| {
            let jdx = unravel(j, x.shape());
            (jdx[a]..x.shape()[a])
                .map(|i| {
                    let mut idx = jdx.clone();
                    idx[a] = i;
                    w.get(&idx) * product_to(x, a, &idx, Some(jdx[a]))
                })
                .sum()
        })
        .collect();
    Tensor::from_vec(data, x.shape())
}

fn weights(shape: &[usize]) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|i| 1.0 + 0.5 * (1.7 * i as f64 + 0.3).sin()).collect(), shape)
}

fn fail(e: impl ToString) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn cumprod_values_and_gradients((x, axis) in with_zeros()) {
        let a = axis_of(axis, x.rank());
        check(move |v| v[0].cumprod(axis), std::slice::from_ref(&x), &cumprod_by_hand(&x, a))?;
        gradgradcheck(move |v| probe(v[0].cumprod(axis)), std::slice::from_ref(&x)).map_err(fail)?;

        // The reverse sweep against the exact derivative, zeros included.
        let tape = Tape::<f64>::new();
        let xv = tape.var(x.clone());
        let w = weights(x.shape());
        let loss = (xv.cumprod(axis) * tape.constant(w.clone())).sum();
        let got = loss.backward()[xv].to_vec();
        assert_close(&Tensor::from_vec(got, x.shape()), &cumprod_grad_by_hand(&x, a, &w))?;
    }

    #[test]
    fn cumprod_hessian_forward_over_reverse((x, axis) in with_zeros()) {
        // Forward mode through cumprod's recorded rule (its `scan`) against reverse over reverse.
        let f = tapegrad::autodiff::func(move |v| probe(v[0].cumprod(axis)));
        let h = hessian(f, std::slice::from_ref(&x));
        let rr = jacrev(move |v| f(v).grad(&[v[0]])[0], std::slice::from_ref(&x));
        let n = x.len();
        prop_assert_eq!(h[0][0].len(), n * n);
        assert_close(&Tensor::from_vec(h[0][0].data().to_vec(), &[n * n]), &Tensor::from_vec(rr[0].data().to_vec(), &[n * n]))?;
    }
}

/// Several zeros in one lane, asserted number by number: `x = [2, 0, 3, 0, 5]`, `L = Σ y`.
/// Only the elements up to the second zero can move `L`; `∂L/∂x_1 = 2 + 2·3 + 0 + 0`,
/// `∂L/∂x_3 = 2·0·3 = 0`, `∂L/∂x_0 = 1 + 0 = 1`.
#[test]
fn cumprod_gradient_with_several_zeros() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(vec![2.0, 0.0, 3.0, 0.0, 5.0], &[5]));
    let y = x.cumprod(0);
    assert_eq!(y.value().data(), &[2.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(&y.sum().backward()[x], &[1.0, 8.0, 0.0, 0.0, 0.0]);
    // One zero: `∂L/∂x_1` of `x = [2, 0, 3]` is `2 + 2·3`; the second derivative `∂²L/∂x_1∂x_2 = 2`.
    let x = tape.var(Tensor::from_vec(vec![2.0, 0.0, 3.0], &[3]));
    let g = x.cumprod(0).sum().grad(&[x])[0];
    assert_eq!(g.value().data(), &[1.0, 8.0, 0.0]);
    let h = g.narrow(0, 1, 1).sum().backward();
    assert_eq!(&h[x], &[4.0, 0.0, 2.0]);
}

#[test]
#[should_panic(expected = "cumprod: axis 2 is out of range")]
fn cumprod_names_a_bad_axis() {
    let tape = Tape::<f64>::new();
    tape.var(Tensor::zeros(&[2, 2])).cumprod(2);
}
