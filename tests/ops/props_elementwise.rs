//! Property tests of the elementwise ops: binary ops with broadcasting, the scalar forms, pow,
//! the unary functions, clip, maximum and minimum. Each checks the forward value against a hand
//! computation and the gradient with the public `gradcheck`.


use proptest::prelude::*;
use crate::props_support::*;
use tapegrad::Tensor;

/// Two broadcastable tensors with elements in `[lo, hi)`.
fn pair(lo: f64, hi: f64) -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>)> {
    broadcast_pair().prop_flat_map(move |(sa, sb)| (values(sa, lo, hi), values(sb, lo, hi)))
}

/// Values on two interleaved lattices, `0.5 k + u` and `0.5 k + 0.25 + u` with `u` in [0, 0.1]:
/// any element of one is at least 0.15 from any element of the other, so maximum/minimum never tie.
fn lattice(shape: Vec<usize>, shift: f64) -> impl Strategy<Value = Tensor<f64>> {
    let n: usize = shape.iter().product();
    prop::collection::vec((-4i32..4, 0.0..0.1f64), n)
        .prop_map(move |v| Tensor::from_vec(v.iter().map(|&(k, u)| 0.5 * k as f64 + shift + u).collect(), &shape))
}

fn untied_pair() -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>)> {
    broadcast_pair().prop_flat_map(|(sa, sb)| (lattice(sa, 0.0), lattice(sb, 0.25)))
}

/// `t` with every element moved at least `gap` away from `point`.
fn off(t: &Tensor<f64>, point: f64, gap: f64) -> Tensor<f64> {
    t.map(|x| away(x, point, gap))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn add((a, b) in pair(-2.0, 2.0)) {
        check(|v| v[0] + v[1], &[a.clone(), b.clone()], &broadcast_by_hand(&a, &b, |x, y| x + y))?;
    }

    #[test]
    fn sub((a, b) in pair(-2.0, 2.0)) {
        check(|v| v[0] - v[1], &[a.clone(), b.clone()], &broadcast_by_hand(&a, &b, |x, y| x - y))?;
    }

    #[test]
    fn mul((a, b) in pair(-2.0, 2.0)) {
        check(|v| v[0] * v[1], &[a.clone(), b.clone()], &broadcast_by_hand(&a, &b, |x, y| x * y))?;
    }

    #[test]
    fn div((a, b) in pair(-2.0, 2.0)) {
        let b = off(&b, 0.0, 0.5);
        check(|v| v[0] / v[1], &[a.clone(), b.clone()], &broadcast_by_hand(&a, &b, |x, y| x / y))?;
    }

    #[test]
    fn neg(x in tensor(-2.0, 2.0)) {
        check(|v| -v[0], std::slice::from_ref(&x), &x.map(|a| -a))?;
        check(|v| v[0].neg(), std::slice::from_ref(&x), &x.map(|a| -a))?;
    }

    #[test]
    fn add_scalar(x in tensor(-2.0, 2.0), c in -3.0..3.0f64) {
        check(move |v| v[0] + c, std::slice::from_ref(&x), &x.map(|a| a + c))?;
        check(move |v| c + v[0], std::slice::from_ref(&x), &x.map(|a| c + a))?;
    }

    #[test]
    fn sub_scalar(x in tensor(-2.0, 2.0), c in -3.0..3.0f64) {
        check(move |v| v[0] - c, std::slice::from_ref(&x), &x.map(|a| a - c))?;
    }

    #[test]
    fn rsub_scalar(x in tensor(-2.0, 2.0), c in -3.0..3.0f64) {
        check(move |v| c - v[0], std::slice::from_ref(&x), &x.map(|a| c - a))?;
    }

    #[test]
    fn mul_scalar(x in tensor(-2.0, 2.0), c in -3.0..3.0f64) {
        check(move |v| v[0] * c, std::slice::from_ref(&x), &x.map(|a| a * c))?;
        check(move |v| c * v[0], std::slice::from_ref(&x), &x.map(|a| c * a))?;
    }

    #[test]
    fn div_scalar(x in tensor(-2.0, 2.0), c in -3.0..3.0f64) {
        let c = away(c, 0.0, 0.3);
        check(move |v| v[0] / c, std::slice::from_ref(&x), &x.map(|a| a / c))?;
    }

    #[test]
    fn rdiv_scalar(x in tensor(-2.0, 2.0), c in -3.0..3.0f64) {
        let x = off(&x, 0.0, 0.4);
        check(move |v| c / v[0], std::slice::from_ref(&x), &x.map(|a| c / a))?;
    }

    #[test]
    fn pow_scalar(x in tensor(0.3, 2.0), p in -2.0..3.0f64) {
        check(move |v| v[0].powf(p), std::slice::from_ref(&x), &x.map(|a| a.powf(p)))?;
    }

    #[test]
    fn pow_integer_exponent_of_negative_base(x in tensor(-2.0, 2.0), p in 1i32..4) {
        // A whole exponent is defined for negative bases too (x^1, x^2, x^3).
        let x = off(&x, 0.0, 0.1);
        let p = p as f64;
        check(move |v| v[0].powf(p), std::slice::from_ref(&x), &x.map(|a| a.powi(p as i32)))?;
    }

    #[test]
    fn square(x in tensor(-2.0, 2.0)) {
        check(|v| v[0].square(), std::slice::from_ref(&x), &x.map(|a| a * a))?;
    }

    #[test]
    fn sqrt(x in tensor(0.2, 3.0)) {
        check(|v| v[0].sqrt(), std::slice::from_ref(&x), &x.map(f64::sqrt))?;
    }

    #[test]
    fn exp(x in tensor(-2.0, 2.0)) {
        check(|v| v[0].exp(), std::slice::from_ref(&x), &x.map(f64::exp))?;
    }

    #[test]
    fn log(x in tensor(0.2, 3.0)) {
        check(|v| v[0].log(), std::slice::from_ref(&x), &x.map(f64::ln))?;
    }

    #[test]
    fn log1p(x in tensor(-0.7, 2.0)) {
        check(|v| v[0].log1p(), std::slice::from_ref(&x), &x.map(|a| (1.0 + a).ln()))?;
    }

    #[test]
    fn abs(x in tensor(-2.0, 2.0)) {
        let x = off(&x, 0.0, 0.1);
        check(|v| v[0].abs(), std::slice::from_ref(&x), &x.map(|a| if a < 0.0 { -a } else { a }))?;
    }

    #[test]
    fn relu(x in tensor(-2.0, 2.0)) {
        let x = off(&x, 0.0, 0.1);
        check(|v| v[0].relu(), std::slice::from_ref(&x), &x.map(|a| if a > 0.0 { a } else { 0.0 }))?;
    }

    #[test]
    fn sigmoid(x in tensor(-6.0, 6.0)) {
        check(|v| v[0].sigmoid(), std::slice::from_ref(&x), &x.map(|a| 1.0 / (1.0 + (-a).exp())))?;
    }

    #[test]
    fn tanh(x in tensor(-3.0, 3.0)) {
        check(|v| v[0].tanh(), std::slice::from_ref(&x), &x.map(|a| (a.exp() - (-a).exp()) / (a.exp() + (-a).exp())))?;
    }

    #[test]
    fn softplus(x in tensor(-6.0, 6.0)) {
        check(|v| v[0].softplus(), std::slice::from_ref(&x), &x.map(|a| (1.0 + a.exp()).ln()))?;
    }

    #[test]
    fn clip(x in tensor(-3.0, 3.0), lo in -1.0..0.0f64, width in 0.2..2.0f64) {
        let hi = lo + width;
        let x = x.map(|a| away(away(a, lo, 0.05), hi, 0.05));
        let want = x.map(|a| if a < lo { lo } else if a > hi { hi } else { a });
        check(move |v| v[0].clip(lo, hi), std::slice::from_ref(&x), &want)?;
        check(move |v| v[0].clamp(lo, hi), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn maximum((a, b) in untied_pair()) {
        let want = broadcast_by_hand(&a, &b, |x, y| if x > y { x } else { y });
        check(|v| v[0].maximum(v[1]), &[a.clone(), b.clone()], &want)?;
    }

    #[test]
    fn minimum((a, b) in untied_pair()) {
        let want = broadcast_by_hand(&a, &b, |x, y| if x < y { x } else { y });
        check(|v| v[0].minimum(v[1]), &[a.clone(), b.clone()], &want)?;
    }
}
