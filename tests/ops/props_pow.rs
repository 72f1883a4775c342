//! Property tests of `pow` with a tensor exponent (f64, 256 cases each), numpy broadcasting both
//! ways: forward values against `f64::powf` element by element over the broadcast, `gradcheck`
//! (reverse and forward mode) and `gradgradcheck`, for positive bases with any exponent and for
//! negative bases with integer exponents. The conventions at `x = 0` and for negative bases are
//! asserted against PyTorch 2.15's numbers (written here, not read from Python).


use proptest::prelude::*;
use crate::props_support::*;
use tapegrad::autodiff::jvp;
use tapegrad::gradcheck::gradgradcheck;
use tapegrad::{Tape, Tensor};

fn fail(e: impl ToString) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// Bases in `±[0.3, 2)`, the sign random per element.
fn signed(shape: Vec<usize>) -> impl Strategy<Value = Tensor<f64>> {
    let n: usize = shape.iter().product();
    (values(shape, 0.3, 2.0), prop::collection::vec(any::<bool>(), n)).prop_map(|(mut t, neg)| {
        for (v, s) in t.data_mut().iter_mut().zip(neg) {
            if s {
                *v = -*v;
            }
        }
        t
    })
}

/// Integer exponents in `-3..=3` (as f64).
fn integers(shape: Vec<usize>) -> impl Strategy<Value = Tensor<f64>> {
    let n: usize = shape.iter().product();
    prop::collection::vec(-3i32..=3, n).prop_map(move |v| Tensor::from_vec(v.into_iter().map(f64::from).collect(), &shape))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn pow_positive_base((x, y) in broadcast_pair().prop_flat_map(|(sa, sb)| (values(sa, 0.3, 2.0), values(sb, -2.0, 2.0)))) {
        let want = broadcast_by_hand(&x, &y, f64::powf);
        check(|v| v[0].pow(v[1]), &[x.clone(), y.clone()], &want)?;
        gradgradcheck(|v| probe(v[0].pow(v[1])), &[x, y]).map_err(fail)?;
    }

    #[test]
    fn pow_negative_base_integer_exponent((x, y) in broadcast_pair().prop_flat_map(|(sa, sb)| (signed(sa), integers(sb)))) {
        // The exponent is data here (its gradient is NaN at a negative base, see the unit test).
        let want = broadcast_by_hand(&x, &y, f64::powf);
        let e = y.clone();
        check(move |v| v[0].pow(v[0].tape().constant(e.clone())), std::slice::from_ref(&x), &want)?;
        let e = y.clone();
        gradgradcheck(move |v| probe(v[0].pow(v[0].tape().constant(e.clone()))), std::slice::from_ref(&x)).map_err(fail)?;
    }
}

/// `(x, y, x^y, ∂/∂x, ∂/∂y)` of `torch.pow` with both inputs requiring grad, PyTorch 2.15.
const TORCH: [(f64, f64, f64, f64, f64); 9] = [
    (0.0, 0.0, 1.0, 0.0, 0.0),
    (0.0, 0.5, 0.0, f64::INFINITY, 0.0),
    (0.0, 1.0, 0.0, 1.0, 0.0),
    (0.0, 2.0, 0.0, 0.0, 0.0),
    (0.0, -1.0, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY),
    (-2.0, 2.0, 4.0, -4.0, f64::NAN),
    (-2.0, 3.0, -8.0, 12.0, f64::NAN),
    (-2.0, 0.5, f64::NAN, f64::NAN, f64::NAN),
    (2.0, 0.0, 1.0, 0.0, std::f64::consts::LN_2),
];

fn same(got: f64, want: f64) -> bool {
    (got.is_nan() && want.is_nan()) || got == want || (got - want).abs() <= 1e-15
}

#[test]
fn pow_edges_follow_pytorch() {
    let xs: Vec<f64> = TORCH.iter().map(|c| c.0).collect();
    let ys: Vec<f64> = TORCH.iter().map(|c| c.1).collect();
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(xs.clone(), &[9]));
    let y = tape.var(Tensor::from_vec(ys.clone(), &[9]));
    let z = x.pow(y);
    let loss = z.sum();
    let recorded: Vec<Tensor<f64>> = loss.grad(&[x, y]).iter().map(|g| g.value()).collect();
    let g = loss.backward();
    for (i, &(xi, yi, v, gx, gy)) in TORCH.iter().enumerate() {
        let at = format!("x = {xi}, y = {yi}");
        assert!(same(z.value().data()[i], v), "value at {at}: {}", z.value().data()[i]);
        assert!(same(g[x][i], gx), "d/dx at {at}: {} (PyTorch {gx})", g[x][i]);
        assert!(same(g[y][i], gy), "d/dy at {at}: {} (PyTorch {gy})", g[y][i]);
        // The recorded rule (second order) gives the same first derivatives.
        assert!(same(recorded[0].data()[i], gx), "recorded d/dx at {at}: {}", recorded[0].data()[i]);
        assert!(same(recorded[1].data()[i], gy), "recorded d/dy at {at}: {}", recorded[1].data()[i]);
    }
    // Forward mode, tangent on x only (y is data): exactly the reverse-mode d/dx, finite at the
    // negative bases with an integer exponent (the exponent's NaN partial is never multiplied in).
    let e = Tensor::from_vec(ys.clone(), &[9]);
    let (_, t) = jvp(move |v| v[0].pow(v[0].tape().constant(e.clone())), &[Tensor::from_vec(xs.clone(), &[9])], &[Tensor::ones(&[9])]);
    for (i, &(xi, yi, _, gx, _)) in TORCH.iter().enumerate() {
        assert!(same(t.data()[i], gx), "jvp d/dx at x = {xi}, y = {yi}: {} (want {gx})", t.data()[i]);
    }
    // Tangent on y only: ln(x) x^y, 0 at x = 0 with y >= 0.
    let b = Tensor::from_vec(xs, &[9]);
    let (_, t) = jvp(move |v| v[0].tape().constant(b.clone()).pow(v[0]), &[Tensor::from_vec(ys, &[9])], &[Tensor::ones(&[9])]);
    for (i, &(xi, yi, _, _, gy)) in TORCH.iter().enumerate() {
        assert!(same(t.data()[i], gy), "jvp d/dy at x = {xi}, y = {yi}: {} (want {gy})", t.data()[i]);
    }
}

#[test]
#[should_panic(expected = "pow: shapes [2, 3] and [2] cannot be broadcast together")]
fn pow_names_incompatible_shapes() {
    let tape = Tape::<f64>::new();
    tape.var(Tensor::ones(&[2, 3])).pow(tape.var(Tensor::ones(&[2])));
}
