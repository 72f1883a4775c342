//! Property tests of the reductions (sum, mean, max over everything or one axis, with and without
//! keepdim), logsumexp, softmax and log_softmax: forward against hand computations line by line,
//! gradients through the public `gradcheck`.


use proptest::prelude::*;
use crate::props_support::*;
use tapegrad::Tensor;

/// Normalises a possibly negative axis.
fn axis_index(axis: isize, rank: usize) -> usize {
    if axis < 0 {
        (axis + rank as isize) as usize
    } else {
        axis as usize
    }
}

/// Every line of `x` along `axis`, as (line elements, multi-index of the line's first element).
fn lines(x: &Tensor<f64>, axis: usize) -> Vec<(Vec<f64>, Vec<usize>)> {
    let s = x.shape();
    let n: usize = s.iter().product();
    (0..n)
        .map(|i| unravel(i, s))
        .filter(|idx| idx[axis] == 0)
        .map(|start| {
            let line = (0..s[axis])
                .map(|k| {
                    let mut idx = start.clone();
                    idx[axis] = k;
                    x.get(&idx)
                })
                .collect();
            (line, start)
        })
        .collect()
}

/// `f` of every line along `axis`: the expected value of a reduction.
fn reduce_by_hand(x: &Tensor<f64>, axis: isize, keepdim: bool, f: impl Fn(&[f64]) -> f64) -> Tensor<f64> {
    let a = axis_index(axis, x.rank());
    let mut shape = x.shape().to_vec();
    if keepdim {
        shape[a] = 1;
    } else {
        shape.remove(a);
    }
    // Lines come in row-major order of their start index, which is the reduced tensor's order.
    let data = lines(x, a).iter().map(|(l, _)| f(l)).collect();
    Tensor::from_vec(data, &shape)
}

/// `f` applied to every line along `axis`, written back in place: the expected softmax.
fn map_lines_by_hand(x: &Tensor<f64>, axis: isize, f: impl Fn(&[f64]) -> Vec<f64>) -> Tensor<f64> {
    let a = axis_index(axis, x.rank());
    let mut out = x.clone();
    for (line, start) in lines(x, a) {
        for (k, v) in f(&line).into_iter().enumerate() {
            let mut idx = start.clone();
            idx[a] = k;
            out.set(&idx, v);
        }
    }
    out
}

fn sum(l: &[f64]) -> f64 {
    l.iter().sum()
}

fn logsumexp(l: &[f64]) -> f64 {
    l.iter().map(|v| v.exp()).sum::<f64>().ln()
}

/// A tensor of the given shape whose elements are all distinct (at least 0.15 apart), so a
/// maximum never ties: a shuffled ladder plus a little noise.
fn distinct(shape: Vec<usize>) -> impl Strategy<Value = Tensor<f64>> {
    let n: usize = shape.iter().product();
    (Just((0..n).collect::<Vec<usize>>()).prop_shuffle(), prop::collection::vec(0.0..0.05f64, n)).prop_map(move |(perm, noise)| {
        let data = perm.iter().zip(&noise).map(|(&p, &u)| 0.2 * p as f64 - 0.1 * n as f64 + u).collect();
        Tensor::from_vec(data, &shape)
    })
}

fn with_axis(lo: f64, hi: f64) -> impl Strategy<Value = (Tensor<f64>, isize, bool)> {
    shape_and_axis().prop_flat_map(move |(s, a)| (values(s, lo, hi), Just(a), any::<bool>()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn sum_all(x in tensor(-2.0, 2.0)) {
        let want = Tensor::scalar(x.data().iter().sum());
        check(|v| v[0].sum(), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn mean_all(x in tensor(-2.0, 2.0)) {
        let want = Tensor::scalar(x.data().iter().sum::<f64>() / x.len() as f64);
        check(|v| v[0].mean(), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn sum_along_axis((x, axis, keepdim) in with_axis(-2.0, 2.0)) {
        let want = reduce_by_hand(&x, axis, keepdim, sum);
        check(move |v| v[0].sum_axis(axis, keepdim), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn mean_along_axis((x, axis, keepdim) in with_axis(-2.0, 2.0)) {
        let want = reduce_by_hand(&x, axis, keepdim, |l| sum(l) / l.len() as f64);
        check(move |v| v[0].mean_axis(axis, keepdim), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn max_all(x in shape().prop_flat_map(distinct)) {
        let want = Tensor::scalar(x.data().iter().cloned().fold(f64::NEG_INFINITY, f64::max));
        check(|v| v[0].max(), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn max_along_axis((x, axis, keepdim) in shape_and_axis().prop_flat_map(|(s, a)| (distinct(s), Just(a), any::<bool>()))) {
        let want = reduce_by_hand(&x, axis, keepdim, |l| l.iter().cloned().fold(f64::NEG_INFINITY, f64::max));
        check(move |v| v[0].max_axis(axis, keepdim), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn logsumexp_along_axis((x, axis, keepdim) in with_axis(-3.0, 3.0)) {
        let want = reduce_by_hand(&x, axis, keepdim, logsumexp);
        check(move |v| v[0].logsumexp(axis, keepdim), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn softmax_along_axis((x, axis, _k) in with_axis(-3.0, 3.0)) {
        let want = map_lines_by_hand(&x, axis, |l| {
            let z: f64 = l.iter().map(|v| v.exp()).sum();
            l.iter().map(|v| v.exp() / z).collect()
        });
        check(move |v| v[0].softmax(axis), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn log_softmax_along_axis((x, axis, _k) in with_axis(-3.0, 3.0)) {
        let want = map_lines_by_hand(&x, axis, |l| {
            let lse = logsumexp(l);
            l.iter().map(|v| v - lse).collect()
        });
        check(move |v| v[0].log_softmax(axis), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn softmax_family_is_shift_invariant((x, axis, _k) in with_axis(-3.0, 3.0), shift in -800.0..800.0f64) {
        // Stable forms: adding a large constant to a line changes neither softmax nor log_softmax,
        // and moves logsumexp by exactly that constant, with no overflow.
        let shifted = x.map(|a| a + shift);
        for (p, q) in eval(move |v| v[0].softmax(axis), std::slice::from_ref(&x)).data().iter()
            .zip(eval(move |v| v[0].softmax(axis), std::slice::from_ref(&shifted)).data()) {
            prop_assert!((p - q).abs() < 1e-9, "softmax {} vs shifted {}", p, q);
        }
        for (p, q) in eval(move |v| v[0].log_softmax(axis), std::slice::from_ref(&x)).data().iter()
            .zip(eval(move |v| v[0].log_softmax(axis), std::slice::from_ref(&shifted)).data()) {
            prop_assert!((p - q).abs() < 1e-9, "log_softmax {} vs shifted {}", p, q);
        }
        for (p, q) in eval(move |v| v[0].logsumexp(axis, false), std::slice::from_ref(&x)).data().iter()
            .zip(eval(move |v| v[0].logsumexp(axis, false), std::slice::from_ref(&shifted)).data()) {
            prop_assert!((p + shift - q).abs() < 1e-9 * (1.0 + shift.abs()), "logsumexp {} + {} vs {}", p, shift, q);
        }
    }
}
