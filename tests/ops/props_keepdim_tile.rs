//! Property tests (f64, 256 cases each) of the full reductions that keep their axes
//! (`sum_keepdim`, `mean_keepdim`, `max_keepdim`, `min_keepdim`, `var_keepdim`, `std_keepdim`),
//! of `tile` (`np.tile`: counts shorter or longer than the rank) and of the flat `argmax` /
//! `argmin`: values against direct computations here, `gradcheck` (reverse and forward mode) and
//! `gradgradcheck`.


use proptest::prelude::*;
use crate::props_support::*;
use tapegrad::gradcheck::gradgradcheck;
use tapegrad::{Tape, Tensor};

fn fail(e: impl ToString) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// A tensor of random shape (rank 0 to 3, dimensions 1 to 4) with elements in `[-2, 2)`.
fn any_tensor() -> impl Strategy<Value = Tensor<f64>> {
    tensor(-2.0, 2.0)
}

fn kept(x: &Tensor<f64>, v: f64) -> Tensor<f64> {
    Tensor::from_vec(vec![v], &vec![1; x.rank()])
}

/// `np.tile` by hand: output index `i` reads input index `i mod shape` (shapes lifted to one rank).
fn tile_by_hand(x: &Tensor<f64>, reps: &[usize]) -> Tensor<f64> {
    let r = x.rank().max(reps.len());
    let mut shape = vec![1; r - x.rank()];
    shape.extend_from_slice(x.shape());
    let mut counts = vec![1; r - reps.len()];
    counts.extend_from_slice(reps);
    let out: Vec<usize> = shape.iter().zip(&counts).map(|(s, c)| s * c).collect();
    let n: usize = out.iter().product();
    let lifted = Tensor::from_slice(x.data(), &shape);
    let data = (0..n)
        .map(|i| {
            let idx: Vec<usize> = unravel(i, &out).iter().zip(&shape).map(|(i, s)| i % s).collect();
            lifted.get(&idx)
        })
        .collect();
    Tensor::from_vec(data, &out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn full_reductions_keep_their_axes(x in any_tensor()) {
        let n = x.len() as f64;
        let sum: f64 = x.data().iter().sum();
        let mean = sum / n;
        let max = x.data().iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let min = x.data().iter().cloned().fold(f64::INFINITY, f64::min);
        check(|v| v[0].sum_keepdim(), std::slice::from_ref(&x), &kept(&x, sum))?;
        check(|v| v[0].mean_keepdim(), std::slice::from_ref(&x), &kept(&x, mean))?;
        check(|v| v[0].max_keepdim(), std::slice::from_ref(&x), &kept(&x, max))?;
        check(|v| v[0].min_keepdim(), std::slice::from_ref(&x), &kept(&x, min))?;
        gradgradcheck(|v| probe(v[0] * v[0].sum_keepdim() + v[0] * v[0].mean_keepdim()), std::slice::from_ref(&x)).map_err(fail)?;
        if x.len() >= 2 {
            let ss: f64 = x.data().iter().map(|v| (v - mean).powi(2)).sum();
            for c in [0usize, 1] {
                let var = ss / (n - c as f64);
                check(move |v| v[0].var_keepdim(c), std::slice::from_ref(&x), &kept(&x, var))?;
                gradgradcheck(move |v| probe(v[0].var_keepdim(c) * v[0]), std::slice::from_ref(&x)).map_err(fail)?;
                if var > 1e-3 {
                    check(move |v| v[0].std_keepdim(c), std::slice::from_ref(&x), &kept(&x, var.sqrt()))?;
                }
            }
        }
    }

    #[test]
    fn tile_like_numpy(x in any_tensor(), reps in prop::collection::vec(1usize..=3, 0..=4)) {
        let want = tile_by_hand(&x, &reps);
        let r = reps.clone();
        check(move |v| v[0].tile(&r), std::slice::from_ref(&x), &want)?;
        gradgradcheck(move |v| probe(v[0].tile(&reps) * v[0].tile(&reps)), std::slice::from_ref(&x)).map_err(fail)?;
    }

    #[test]
    fn flat_argmax_argmin(x in any_tensor()) {
        let d = x.data();
        let first = |better: fn(f64, f64) -> bool| (0..d.len()).fold(0, |b, i| if better(d[i], d[b]) { i } else { b }) as f64;
        let tape = Tape::<f64>::new();
        let v = tape.var(x.clone());
        let (am, an) = (v.argmax(), v.argmin());
        prop_assert!(am.shape().is_empty() && !am.requires_grad());
        prop_assert_eq!(am.item(), first(|a, b| a > b));
        prop_assert_eq!(an.item(), first(|a, b| a < b));
    }
}

#[test]
fn flat_argmax_takes_the_first_tie() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(vec![0.0, 3.0, -1.0, 3.0, -1.0], &[5]));
    assert_eq!(x.argmax().item(), 1.0);
    assert_eq!(x.argmin().item(), 2.0);
}

#[test]
#[should_panic(expected = "tile: counts [2, 0] for shape [3] must be positive")]
fn tile_rejects_a_zero_count() {
    let tape = Tape::<f64>::new();
    tape.var(Tensor::ones(&[3])).tile(&[2, 0]);
}
