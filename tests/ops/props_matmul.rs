//! Property tests of `matmul` with `torch.matmul`'s rules (f64, 256 cases each): batch dimensions
//! that broadcast (size-1 and missing dimensions on either side), 1-D operands on either side,
//! and the 2-D case. Forward values against sums written out here over multi-indices, gradients
//! through `gradcheck` (reverse and forward mode) and `gradgradcheck`.


use proptest::prelude::*;
use crate::props_support::*;
use tapegrad::gradcheck::gradgradcheck;
use tapegrad::{Tape, Tensor};

fn fail(e: impl ToString) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// `batch` with flagged dimensions set to 1 and `drop` leading ones removed.
fn thin(batch: &[usize], ones: &[bool], drop: usize) -> Vec<usize> {
    batch.iter().zip(ones).skip(drop).map(|(&d, &one)| if one { 1 } else { d }).collect()
}

/// Two operand shapes for `torch.matmul`: batch shapes derived from one (so they broadcast),
/// matrices `[m, k]` and `[k, n]`, and now and then a 1-D operand `[k]` instead.
fn matmul_shapes() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (
        prop::collection::vec(1usize..=3, 0..=2),
        prop::collection::vec(prop::bool::weighted(0.3), 2),
        prop::collection::vec(prop::bool::weighted(0.3), 2),
        (0usize..=2, 0usize..=2),
        (1usize..=3, 1usize..=3, 1usize..=3),
        (prop::bool::weighted(0.2), prop::bool::weighted(0.2)),
    )
        .prop_map(|(batch, fa, fb, (da, db), (m, k, n), (a1, b1))| {
            let mut sa = thin(&batch, &fa, da);
            sa.extend([m, k]);
            let mut sb = thin(&batch, &fb, db);
            sb.extend([k, n]);
            (if a1 { vec![k] } else { sa }, if b1 { vec![k] } else { sb })
        })
}

fn matmul_case() -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>)> {
    matmul_shapes().prop_flat_map(|(sa, sb)| (values(sa, -2.0, 2.0), values(sb, -2.0, 2.0)))
}

/// `torch.matmul` written out: promote 1-D operands, broadcast the batch, sum over `k`, drop the
/// promoted axes.
fn matmul_by_hand(a: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    let pa = if a.rank() == 1 { vec![1, a.len()] } else { a.shape().to_vec() };
    let pb = if b.rank() == 1 { vec![b.len(), 1] } else { b.shape().to_vec() };
    let (a1, b1) = (a.rank() == 1, b.rank() == 1);
    let a2 = Tensor::from_slice(a.data(), &pa);
    let b2 = Tensor::from_slice(b.data(), &pb);
    let (ra, rb) = (pa.len(), pb.len());
    let (m, k, n) = (pa[ra - 2], pa[ra - 1], pb[rb - 1]);
    let batch = broadcast_shape(&pa[..ra - 2], &pb[..rb - 2]);
    let mut out_shape = batch.clone();
    out_shape.extend([m, n]);
    let count: usize = out_shape.iter().product();
    let data: Vec<f64> = (0..count)
        .map(|o| {
            let idx = unravel(o, &out_shape);
            let bidx = &idx[..batch.len()];
            let (i, j) = (idx[batch.len()], idx[batch.len() + 1]);
            // The batch element of an operand: broadcast over its own (right-aligned) batch dims.
            let at = |t: &Tensor<f64>, r: usize, row: usize, col: usize| {
                let lead = bidx.len() - (r - 2);
                let mut ix: Vec<usize> = t.shape()[..r - 2].iter().enumerate().map(|(d, &s)| if s == 1 { 0 } else { bidx[lead + d] }).collect();
                ix.extend([row, col]);
                t.get(&ix)
            };
            (0..k).map(|p| at(&a2, ra, i, p) * at(&b2, rb, p, j)).sum()
        })
        .collect();
    let mut shape = out_shape;
    let r = shape.len();
    if b1 {
        shape.remove(r - 1);
    }
    if a1 {
        shape.remove(r - 2);
    }
    Tensor::from_vec(data, &shape)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn matmul_torch_rules((a, b) in matmul_case()) {
        let want = matmul_by_hand(&a, &b);
        check(|v| v[0].matmul(v[1]), &[a.clone(), b.clone()], &want)?;
        gradgradcheck(|v| probe(v[0].matmul(v[1])), &[a, b]).map_err(fail)?;
    }
}

/// A bias row, `a` and `b` for `addmm`, sizes 1 to 4 (1 is the broadcasting edge of the row).
fn addmm_case() -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>, Tensor<f64>)> {
    (1usize..=4, 1usize..=4, 1usize..=4)
        .prop_flat_map(|(m, k, n)| (values(vec![n], -2.0, 2.0), values(vec![m, k], -2.0, 2.0), values(vec![k, n], -2.0, 2.0)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// `bias.addmm(a, b)` is `a b + bias` in every row: value by hand, gradients of all three
    /// operands (reverse and forward mode, through `check`) and second order.
    #[test]
    fn addmm_is_a_bias_row_plus_the_product((c, a, b) in addmm_case()) {
        let prod = matmul_by_hand(&a, &b);
        let n = c.len();
        let want = Tensor::from_vec(prod.data().iter().enumerate().map(|(i, v)| v + c.data()[i % n]).collect(), prod.shape());
        check(|v| v[0].addmm(v[1], v[2]), &[c.clone(), a.clone(), b.clone()], &want)?;
        gradgradcheck(|v| probe(v[0].addmm(v[1], v[2])), &[c, a, b]).map_err(fail)?;
    }
}

/// Shapes `addmm` does not fuse (a full bias, a batch) fall back to `bias + a.matmul(b)`.
#[test]
fn addmm_falls_back_to_broadcasting_for_other_shapes() {
    let t = |shape: &[usize], s: usize| {
        let n: usize = shape.iter().product();
        Tensor::from_vec((0..n).map(|i| ((i * s % 7) as f64 - 3.0) * 0.2).collect(), shape)
    };
    for (sc, sa, sb) in [(vec![2, 3], vec![2, 4], vec![4, 3]), (vec![3], vec![2, 2, 4], vec![4, 3]), (vec![1, 3], vec![2, 4], vec![4, 3])] {
        let (c, a, b) = (t(&sc, 3), t(&sa, 5), t(&sb, 2));
        let tape = Tape::<f64>::new();
        let (vc, va, vb) = (tape.var(c), tape.var(a), tape.var(b));
        let fused = vc.addmm(va, vb).value();
        let plain = (vc + va.matmul(vb)).value();
        assert_eq!(fused.shape(), plain.shape());
        assert_eq!(fused.data(), plain.data());
    }
}

/// Batches large enough for the GEMM kernel (above its small-size loop), both lowerings: a batch
/// times one matrix (one GEMM over the folded rows) and a broadcast batch times a batch.
#[test]
fn batched_matmul_through_the_gemm_kernel() {
    let t = |shape: &[usize], s: usize| {
        let n: usize = shape.iter().product();
        Tensor::from_vec((0..n).map(|i| ((i * s % 13) as f64 - 6.0) * 0.1).collect(), shape)
    };
    for (sa, sb) in [(vec![3, 20, 16], vec![16, 14]), (vec![2, 1, 20, 16], vec![3, 16, 14]), (vec![16], vec![2, 16, 14])] {
        let (a, b) = (t(&sa, 7), t(&sb, 5));
        let want = matmul_by_hand(&a, &b);
        check(|v| v[0].matmul(v[1]), &[a, b], &want).unwrap();
    }
}

#[test]
fn batched_matmul_shape_errors_name_both_shapes() {
    let tape = Tape::<f64>::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tape.var(Tensor::ones(&[2, 3, 4])).matmul(tape.var(Tensor::ones(&[3, 4, 5])));
    }));
    let msg = r.unwrap_err().downcast::<String>().unwrap();
    assert!(msg.contains("matmul") && msg.contains("[2, 3, 4]") && msg.contains("[3, 4, 5]"), "{msg}");
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tape.var(Tensor::ones(&[2, 3, 4])).matmul(tape.var(Tensor::ones(&[3])));
    }));
    let msg = r.unwrap_err().downcast::<String>().unwrap();
    assert!(msg.contains("matmul") && msg.contains("[2, 3, 4]") && msg.contains("[3]"), "{msg}");
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tape.scalar(1.0).matmul(tape.var(Tensor::ones(&[3])));
    }));
    let msg = r.unwrap_err().downcast::<String>().unwrap();
    assert!(msg.contains("matmul") && msg.contains("at least one axis"), "{msg}");
}
