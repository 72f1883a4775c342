//! Second derivatives: for every op whose derivative is differentiable, the gradient recorded by
//! `Var::grad` is checked against central differences of the first gradient (`gradgradcheck`).

use proptest::prelude::*;
use tapegrad::gradcheck::gradgradcheck;
use tapegrad::{Tape, Tensor, Var};

fn tensor(shape: Vec<usize>, lo: f64, hi: f64) -> impl Strategy<Value = Tensor<f64>> {
    let n: usize = shape.iter().product();
    prop::collection::vec(lo..hi, n).prop_map(move |v| Tensor::from_vec(v, &shape))
}

fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..4, 1..3)
}

/// Values away from 0 (kinks of abs/relu) on both sides.
fn off_zero(shape: Vec<usize>) -> impl Strategy<Value = Tensor<f64>> {
    tensor(shape, 0.2, 1.5).prop_flat_map(|t| {
        let n = t.len();
        prop::collection::vec(any::<bool>(), n).prop_map(move |signs| {
            let mut t = t.clone();
            for (v, s) in t.data_mut().iter_mut().zip(signs) {
                if s {
                    *v = -*v;
                }
            }
            t
        })
    })
}

fn check(f: impl for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>, inputs: &[Tensor<f64>]) -> Result<(), TestCaseError> {
    gradgradcheck(f, inputs).map(|_| ()).map_err(|e| TestCaseError::fail(e.to_string()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn smooth_unary(x in shape().prop_flat_map(off_zero)) {
        check(|v| (v[0].square() + v[0].exp() + v[0].sigmoid() + v[0].tanh() + v[0].softplus() - v[0]).sum(), std::slice::from_ref(&x))?;
        check(|v| (v[0].abs().log() + v[0].abs().sqrt() + v[0].abs().log1p()).sum(), std::slice::from_ref(&x))?;
        check(|v| (v[0].relu() * v[0] + v[0].abs() * v[0] + v[0].clip(-0.5, 0.5) * v[0]).sum(), &[x])?;
    }

    #[test]
    fn scalar_forms(x in shape().prop_flat_map(|s| tensor(s, 0.3, 2.0))) {
        check(|v| ((v[0] + 1.5) * (v[0] - 0.5) * (v[0] * 2.0) + (v[0] / 3.0) * (2.0 - v[0]) + 1.0 / v[0] + v[0].powf(2.5)).sum(), &[x])?;
    }

    #[test]
    fn binary_broadcast((a, b) in shape().prop_flat_map(|s| {
        let mut sb = s.clone();
        sb[0] = 1;
        (tensor(s, 0.5, 2.0), tensor(sb, 0.5, 2.0))
    })) {
        check(|v| (v[0] * v[1] + v[0] / v[1] - v[1] * v[1] * v[0]).sum(), &[a.clone(), b.clone()])?;
        check(|v| (v[0].maximum(v[1] + 0.05) * v[0] + v[0].minimum(v[1] + 0.05) * v[1]).sum(), &[a, b])?;
    }

    #[test]
    fn reductions(x in prop::collection::vec(1usize..4, 2..3).prop_flat_map(|s| tensor(s, -1.0, 1.0))) {
        check(|v| (v[0].sum_axis(0, true) * v[0]).sum() + v[0].mean().square(), std::slice::from_ref(&x))?;
        check(|v| (v[0].mean_axis(-1, false).square()).sum() + v[0].logsumexp(-1, false).sum() * v[0].sum(), std::slice::from_ref(&x))?;
        check(|v| (v[0].softmax(-1) * v[0]).sum() + (v[0].log_softmax(0) * v[0]).sum(), std::slice::from_ref(&x))?;
        check(|v| (v[0].max_axis(-1, true) * v[0]).sum(), &[x])?;
    }

    #[test]
    fn linalg_and_shape((a, b) in (1usize..4, 1usize..4, 1usize..4).prop_flat_map(|(m, k, n)| (tensor(vec![m, k], -1.0, 1.0), tensor(vec![k, n], -1.0, 1.0)))) {
        check(|v| (v[0].matmul(v[1]).square()).sum(), &[a.clone(), b.clone()])?;
        check(|v| (v[0].t().reshape(&[v[0].len()]).square()).sum() + (v[1].broadcast_to(&[2, v[1].shape()[0], v[1].shape()[1]]).exp()).sum(), &[a.clone(), b.clone()])?;
        check(|v| {
            let c = Var::concat(&[v[0], v[0] * v[0]], 1);
            let rows = c.shape()[0];
            let idx: Vec<usize> = (0..rows).rev().chain(0..1).collect();
            (c.gather(0, &idx).square()).sum() + (v[0].square().scatter_add(0, &vec![0; rows], 2).exp()).sum()
        }, std::slice::from_ref(&a))?;
        check(|v| {
            let mask = v[0].tape().constant(v[0].value().map(|x| if x > 0.0 { 1.0 } else { 0.0 }));
            (Var::where_(mask, v[0].square(), v[0].exp())).sum()
        }, &[a])?;
    }
}

#[test]
fn hessian_vector_product_of_a_quadratic() {
    // f(x) = 1/2 x^T A x with symmetric A has Hessian A, so H v = A v.
    let tape = Tape::<f64>::new();
    let a = tape.constant(Tensor::from_vec(vec![2.0, 1.0, 1.0, 3.0], &[2, 2]));
    let x = tape.var(Tensor::from_vec(vec![0.5, -1.0], &[2, 1]));
    let f = (x.t().matmul(a).matmul(x)).sum() * 0.5;
    let g = f.grad(&[x])[0];
    let v = tape.constant(Tensor::from_vec(vec![1.0, 2.0], &[2, 1]));
    let hv = (g * v).sum().backward();
    assert_eq!(&hv[x], &[2.0 + 2.0, 1.0 + 6.0]);
}
