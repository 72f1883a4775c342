//! Property tests of matmul and the ops that move elements: transpose, reshape, broadcast_to,
//! concat, gather, one_hot and where. Forward values against hand-written index loops, gradients
//! through the public `gradcheck`.


use proptest::prelude::*;
use crate::props_support::*;
use tapegrad::{Tape, Tensor, Var};

fn matmul_pair() -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>)> {
    (1usize..=4, 1usize..=4, 1usize..=4)
        .prop_flat_map(|(m, k, n)| (values(vec![m, k], -2.0, 2.0), values(vec![k, n], -2.0, 2.0)))
}

fn matmul_by_hand(a: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
    let mut out = Tensor::zeros(&[m, n]);
    for i in 0..m {
        for j in 0..n {
            let s: f64 = (0..k).map(|p| a.get(&[i, p]) * b.get(&[p, j])).sum();
            out.set(&[i, j], s);
        }
    }
    out
}

/// A tensor and another shape with as many elements: reversed, flattened, or with a 1 inserted.
fn reshape_case() -> impl Strategy<Value = (Tensor<f64>, Vec<usize>)> {
    (shape(), 0usize..3).prop_flat_map(|(s, how)| {
        let n: usize = s.iter().product();
        let target = match how {
            0 => s.iter().rev().cloned().collect(),
            1 => vec![n],
            _ => {
                let mut t = s.clone();
                t.insert(t.len() / 2, 1);
                t
            }
        };
        (values(s, -2.0, 2.0), Just(target))
    })
}

/// Parts to concatenate along an axis: same shape except on that axis.
fn concat_case() -> impl Strategy<Value = (Vec<Tensor<f64>>, isize)> {
    (shape_and_axis(), prop::collection::vec(1usize..=3, 1..=3)).prop_flat_map(|((s, axis), sizes)| {
        let a = if axis < 0 { (axis + s.len() as isize) as usize } else { axis as usize };
        let parts: Vec<_> = sizes
            .iter()
            .map(|&k| {
                let mut p = s.clone();
                p[a] = k;
                values(p, -2.0, 2.0)
            })
            .collect();
        (parts, Just(axis))
    })
}

/// A tensor, an axis and indices along it (repeats allowed).
fn gather_case() -> impl Strategy<Value = (Tensor<f64>, isize, Vec<usize>)> {
    shape_and_axis().prop_flat_map(|(s, axis)| {
        let a = if axis < 0 { (axis + s.len() as isize) as usize } else { axis as usize };
        let d = s[a];
        (values(s, -2.0, 2.0), Just(axis), prop::collection::vec(0..d, 1..=5))
    })
}

/// A 0/1 mask and two branches whose three shapes broadcast together.
fn where_case() -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>, Tensor<f64>)> {
    (broadcast_pair(), any::<bool>()).prop_flat_map(|((sa, sb), mask_like_a)| {
        let sm = if mask_like_a { sa.clone() } else { sb.clone() };
        let n: usize = sm.iter().product();
        let mask = prop::collection::vec(any::<bool>(), n)
            .prop_map(move |m| Tensor::from_vec(m.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect(), &sm));
        (mask, values(sa, -2.0, 2.0), values(sb, -2.0, 2.0))
    })
}

fn axis_index(axis: isize, rank: usize) -> usize {
    if axis < 0 {
        (axis + rank as isize) as usize
    } else {
        axis as usize
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn matmul((a, b) in matmul_pair()) {
        check(|v| v[0].matmul(v[1]), &[a.clone(), b.clone()], &matmul_by_hand(&a, &b))?;
    }

    #[test]
    fn transpose(x in (1usize..=4, 1usize..=4).prop_flat_map(|(r, c)| values(vec![r, c], -2.0, 2.0))) {
        let (r, c) = (x.shape()[0], x.shape()[1]);
        let mut want = Tensor::zeros(&[c, r]);
        for i in 0..r {
            for j in 0..c {
                want.set(&[j, i], x.get(&[i, j]));
            }
        }
        check(|v| v[0].t(), std::slice::from_ref(&x), &want)?;
        check(|v| v[0].transpose(0, 1), std::slice::from_ref(&x), &want)?;
        check(|v| v[0].transpose(-1, -2), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn reshape((x, target) in reshape_case()) {
        let want = Tensor::from_slice(x.data(), &target);
        check(move |v| v[0].reshape(&target), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn broadcast_to((x, target) in broadcast_target().prop_flat_map(|(s, t)| (values(s, -2.0, 2.0), Just(t)))) {
        let n: usize = target.iter().product();
        let data = (0..n).map(|i| broadcast_get(&x, &unravel(i, &target))).collect();
        let want = Tensor::from_vec(data, &target);
        check(move |v| v[0].broadcast_to(&target), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn concat((parts, axis) in concat_case()) {
        let a = axis_index(axis, parts[0].rank());
        let mut shape = parts[0].shape().to_vec();
        shape[a] = parts.iter().map(|p| p.shape()[a]).sum();
        let mut want = Tensor::zeros(&shape);
        let mut at = 0;
        for p in &parts {
            for i in 0..p.len() {
                let mut idx = unravel(i, p.shape());
                let v = p.data()[i];
                idx[a] += at;
                want.set(&idx, v);
            }
            at += p.shape()[a];
        }
        check(move |v| Var::concat(v, axis), &parts, &want)?;
    }

    #[test]
    fn gather((x, axis, indices) in gather_case()) {
        let a = axis_index(axis, x.rank());
        let mut shape = x.shape().to_vec();
        shape[a] = indices.len();
        let n: usize = shape.iter().product();
        let data = (0..n).map(|i| {
            let mut idx = unravel(i, &shape);
            idx[a] = indices[idx[a]];
            x.get(&idx)
        }).collect();
        let want = Tensor::from_vec(data, &shape);
        check(move |v| v[0].gather(axis, &indices), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn where_by_mask((mask, a, b) in where_case()) {
        let shape = broadcast_shape(&broadcast_shape(mask.shape(), a.shape()), b.shape());
        let n: usize = shape.iter().product();
        let data = (0..n).map(|i| {
            let idx = unravel(i, &shape);
            if broadcast_get(&mask, &idx) != 0.0 { broadcast_get(&a, &idx) } else { broadcast_get(&b, &idx) }
        }).collect();
        let want = Tensor::from_vec(data, &shape);
        let m = mask.clone();
        check(move |v| {
            let mask = v[0].tape().constant(m.clone());
            Var::where_(mask, v[0], v[1])
        }, &[a.clone(), b.clone()], &want)?;
    }

    #[test]
    fn one_hot(labels in prop::collection::vec(0usize..5, 0..6), extra in 0usize..3) {
        let classes = labels.iter().max().map_or(1, |m| m + 1) + extra;
        let tape = Tape::<f64>::new();
        let oh = tape.one_hot(&labels, classes);
        prop_assert_eq!(&oh.shape()[..], &[labels.len(), classes][..]);
        prop_assert!(!oh.requires_grad());
        let value = oh.value();
        for (r, &l) in labels.iter().enumerate() {
            for c in 0..classes {
                prop_assert_eq!(value.get(&[r, c]), if c == l { 1.0 } else { 0.0 });
            }
        }
        // Multiplying by it passes a gradient to the other operand only.
        if !labels.is_empty() {
            let x = Tensor::from_vec((0..labels.len() * classes).map(|i| i as f64 * 0.1 - 0.3).collect(), &[labels.len(), classes]);
            let picked = labels.iter().enumerate().map(|(r, &l)| x.get(&[r, l])).sum::<f64>();
            let lab = labels.clone();
            check(move |v| (v[0] * v[0].tape().one_hot(&lab, classes)).sum(), std::slice::from_ref(&x), &Tensor::scalar(picked))?;
            let xv = tape.var(x);
            let y = (xv * oh).sum();
            let grads = y.backward();
            prop_assert!(!grads.reached(oh));
            prop_assert_eq!(grads[xv].to_vec(), value.data().to_vec());
        }
    }
}

/// The GEMM kernel path (above the small-size loop) gets its own gradient check.
#[test]
fn matmul_large_enough_for_gemm_kernel() {
    let a = Tensor::from_vec((0..20 * 16).map(|i| ((i * 7 % 13) as f64 - 6.0) * 0.1).collect(), &[20, 16]);
    let b = Tensor::from_vec((0..16 * 14).map(|i| ((i * 5 % 11) as f64 - 5.0) * 0.1).collect(), &[16, 14]);
    let want = matmul_by_hand(&a, &b);
    check(|v| v[0].matmul(v[1]), &[a, b], &want).unwrap();
}
