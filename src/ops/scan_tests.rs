//! The crate-private linear recurrence `scan`, which only cumprod's derivatives record: its value
//! against the recurrence written out, and every derivative rule (reverse, forward, recorded)
//! through `gradcheck` and `gradgradcheck`, both directions, on random shapes (256 cases).

use crate::gradcheck::{gradcheck, gradgradcheck};
use crate::tape::{Tape, Var};
use crate::tensor::Tensor;
use proptest::prelude::*;

/// `r_i = a_i r_(i∓1) + u_i` along `axis`, element by element over multi-indices.
fn scan_by_hand(a: &Tensor<f64>, u: &Tensor<f64>, axis: usize, reverse: bool) -> Tensor<f64> {
    let shape = a.shape().to_vec();
    let mut r = Tensor::zeros(&shape);
    let n = shape[axis];
    let mut order: Vec<usize> = (0..n).collect();
    if reverse {
        order.reverse();
    }
    let flat: usize = shape.iter().product();
    for i in 0..flat {
        // Visit each lane once, from its position 0.
        let mut idx = vec![0; shape.len()];
        let mut rest = i;
        for d in (0..shape.len()).rev() {
            idx[d] = rest % shape[d];
            rest /= shape[d];
        }
        if idx[axis] != 0 {
            continue;
        }
        let mut acc = 0.0;
        for &k in &order {
            idx[axis] = k;
            acc = a.get(&idx) * acc + u.get(&idx);
            r.set(&idx, acc);
        }
    }
    r
}

/// Two tensors of one random shape (rank 1 to 3, dimensions 1 to 4).
fn case() -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>)> {
    prop::collection::vec(1usize..=4, 1..=3).prop_flat_map(|s| {
        let n: usize = s.iter().product();
        let (s1, s2) = (s.clone(), s);
        (
            prop::collection::vec(-1.5f64..1.5, n).prop_map(move |v| Tensor::from_vec(v, &s1)),
            prop::collection::vec(-1.5f64..1.5, n).prop_map(move |v| Tensor::from_vec(v, &s2)),
        )
    })
}

fn weighted<'t>(y: Var<'t, f64>) -> Var<'t, f64> {
    let w: Vec<f64> = (0..y.len()).map(|i| 1.0 + 0.5 * (1.3 * i as f64).sin()).collect();
    (y * y.tape().constant(Tensor::from_vec(w, &y.shape()))).sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn scan_value_and_every_derivative((a, u) in case(), axis_pick in 0usize..3, reverse in any::<bool>()) {
        let axis = axis_pick % a.rank();
        let tape = Tape::<f64>::new();
        let r = Var::scan(tape.constant(a.clone()), tape.constant(u.clone()), axis, reverse).value();
        let want = scan_by_hand(&a, &u, axis, reverse);
        for (g, w) in r.data().iter().zip(want.data()) {
            prop_assert!((g - w).abs() <= 1e-12 * (1.0 + w.abs()), "value {} against {}", g, w);
        }
        let f = crate::autodiff::func(move |v| weighted(Var::scan(v[0], v[1], axis, reverse)));
        gradcheck(f, &[a.clone(), u.clone()]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        gradgradcheck(f, &[a, u]).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}
