//! The `Tensor` type: constructors, element access, printing, f32/f64 conversion, and the tape-free
//! ops (broadcast arithmetic, reductions, matmul), which must agree with the tape's ops exactly.

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tapegrad::{Tape, Tensor};

#[test]
fn constructors_fill_shape_and_data() {
    let t = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    assert_eq!(t.shape(), &[2, 3]);
    assert_eq!(t.rank(), 2);
    assert_eq!(t.len(), 6);
    assert_eq!(Tensor::from_slice(&[1.0f64, 2.0], &[2, 1]).shape(), &[2, 1]);
    let r = Tensor::from_rows(&[vec![1.0f64, 2.0, 3.0], vec![4.0, 5.0, 6.0]]);
    assert_eq!(r, t);
    assert_eq!(Tensor::<f32>::zeros(&[2, 2]).data(), &[0.0; 4]);
    assert_eq!(Tensor::<f32>::ones(&[3]).data(), &[1.0; 3]);
    assert_eq!(Tensor::full(&[2], 7.5f64).data(), &[7.5, 7.5]);
    let s = Tensor::scalar(2.5f64);
    assert_eq!(s.shape(), &[] as &[usize]);
    assert_eq!(s.item(), 2.5);
    assert_eq!(Tensor::arange(0.0f64, 1.0, 0.25).data(), &[0.0, 0.25, 0.5, 0.75]);
    assert!(Tensor::<f64>::zeros(&[0, 3]).is_empty());
}

#[test]
fn random_constructors_respect_their_ranges() {
    let mut rng = StdRng::seed_from_u64(7);
    let u = Tensor::uniform(&[1000], -2.0f64, 3.0, &mut rng);
    assert!(u.data().iter().all(|&x| (-2.0..3.0).contains(&x)));
    assert!((u.mean_all() - 0.5).abs() < 0.2);
    let n = Tensor::normal(&[4001], 1.0f64, 2.0, &mut rng);
    assert_eq!(n.len(), 4001);
    let mean = n.mean_all();
    let var = n.map(|x| (x - mean) * (x - mean)).mean_all();
    assert!((mean - 1.0).abs() < 0.15, "mean {mean}");
    assert!((var.sqrt() - 2.0).abs() < 0.15, "std {}", var.sqrt());
}

#[test]
fn element_access_is_row_major() {
    let mut t = Tensor::from_vec((0..24).map(|i| i as f64).collect(), &[2, 3, 4]);
    assert_eq!(t.get(&[0, 0, 0]), 0.0);
    assert_eq!(t.get(&[1, 2, 3]), 23.0);
    assert_eq!(t.get(&[1, 0, 2]), 14.0);
    assert_eq!(t.offset(&[0, 1, 1]), 5);
    t.set(&[0, 2, 1], -1.0);
    assert_eq!(t.data()[9], -1.0);
    t.data_mut()[0] = 9.0;
    assert_eq!(t.get(&[0, 0, 0]), 9.0);
    let r = t.clone().reshape(&[6, 4]);
    assert_eq!(r.get(&[5, 3]), 23.0);
    assert_eq!(t.slice_rows(1, 2).shape(), &[1, 3, 4]);
    assert_eq!(t.slice_rows(1, 2).get(&[0, 0, 0]), 12.0);
    let m = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]);
    assert_eq!(m.select_rows(&[2, 0, 2]).data(), &[5.0, 6.0, 1.0, 2.0, 5.0, 6.0]);
    assert_eq!(m.sum_all(), 21.0);
    assert_eq!(m.mean_all(), 3.5);
    assert_eq!(m.max_all(), 6.0);
    assert!(Tensor::from_vec(vec![1.0, f64::NAN], &[2]).max_all().is_nan());
}

#[test]
fn display_aligns_rows_like_numpy() {
    let t = Tensor::from_vec((0..12).map(|i| i as f64 - 5.5).collect(), &[2, 2, 3]);
    let want = "tensor([[[-5.5000, -4.5000, -3.5000],\n         [-2.5000, -1.5000, -0.5000]],\n\n        \
                [[ 0.5000,  1.5000,  2.5000],\n         [ 3.5000,  4.5000,  5.5000]]], shape=[2, 2, 3])";
    assert_eq!(t.to_string(), want);
    assert_eq!(Tensor::scalar(3.25f64).to_string(), "tensor(3.2500, shape=[])");
    assert_eq!(Tensor::from_vec(vec![1.0f32, 100.5, -3.0], &[3]).to_string(), "tensor([  1.0000, 100.5000,  -3.0000], shape=[3])");
    let p = Tensor::from_vec(vec![1.0f64, 100.5, -3.0, 0.001], &[2, 2]);
    assert_eq!(format!("{p:.2}"), "tensor([[  1.00, 100.50],\n        [ -3.00,   0.00]], shape=[2, 2])");
    // Every row of a matrix has the same width, so columns line up.
    let text = Tensor::from_vec(vec![-10.0f64, 2.0, 3.5, 1000.0, 0.25, -7.0], &[3, 2]).to_string();
    let commas: Vec<Option<usize>> = text.lines().map(|l| l.find(',')).collect();
    assert_eq!(commas.len(), 3);
    assert!(commas.iter().all(|&c| c == commas[0]), "columns do not line up:\n{text}");
}

#[test]
fn display_summarises_large_tensors() {
    let s = Tensor::<f64>::zeros(&[40, 40]).to_string();
    assert!(s.contains("..."));
    assert_eq!(s.lines().count(), 7, "three rows, an ellipsis row, three rows:\n{s}");
    assert!(s.ends_with("shape=[40, 40])"));
}

#[test]
fn f32_and_f64_convert_both_ways() {
    let d = Tensor::from_vec(vec![0.1f64, -2.5, 1e10, 1.0 / 3.0], &[2, 2]);
    let f: Tensor<f32> = d.to_f32();
    assert_eq!(f.shape(), &[2, 2]);
    assert_eq!(f.data(), &[0.1f32, -2.5, 1e10, 1.0 / 3.0]);
    let back = f.to_f64();
    assert_eq!(back.data()[1], -2.5);
    assert!((back.data()[0] - 0.1).abs() < 1e-8 && back.data()[0] != 0.1);
    assert_eq!(d.cast::<f64>(), d);
    assert_eq!(f.cast::<f64>(), back);
}

#[test]
fn tensor_arithmetic_broadcasts() {
    let a = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let row = Tensor::from_vec(vec![10.0, 20.0, 30.0], &[3]);
    let col = Tensor::from_vec(vec![1.0, -1.0], &[2, 1]);
    assert_eq!((&a + &row).data(), &[11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
    assert_eq!((&a - &col).data(), &[0.0, 1.0, 2.0, 5.0, 6.0, 7.0]);
    assert_eq!((&a * &col).data(), &[1.0, 2.0, 3.0, -4.0, -5.0, -6.0]);
    assert_eq!((&row / &a).data(), &[10.0, 10.0, 10.0, 2.5, 4.0, 5.0]);
    assert_eq!((&col + &row).shape(), &[2, 3]);
    assert_eq!((a.clone() + row.clone()).data(), (&a + &row).data());
    assert_eq!((-&a).data(), &[-1.0, -2.0, -3.0, -4.0, -5.0, -6.0]);
    assert_eq!((-a.clone()).data(), (-&a).data());
    assert_eq!(a.maximum(&Tensor::scalar(3.5)).data(), &[3.5, 3.5, 3.5, 4.0, 5.0, 6.0]);
    assert_eq!(a.minimum(&col).data(), &[1.0, 1.0, 1.0, -1.0, -1.0, -1.0]);
    assert_eq!(col.broadcast_to(&[2, 3]).data(), &[1.0, 1.0, 1.0, -1.0, -1.0, -1.0]);
}

#[test]
fn tensor_scalar_operators_on_both_sides() {
    let a = Tensor::from_vec(vec![1.0f64, 2.0, 4.0], &[3]);
    assert_eq!((&a + 1.0).data(), &[2.0, 3.0, 5.0]);
    assert_eq!((&a - 1.0).data(), &[0.0, 1.0, 3.0]);
    assert_eq!((&a * 2.0).data(), &[2.0, 4.0, 8.0]);
    assert_eq!((&a / 2.0).data(), &[0.5, 1.0, 2.0]);
    assert_eq!((a.clone() * 2.0).data(), &[2.0, 4.0, 8.0]);
    assert_eq!((1.0 + &a).data(), &[2.0, 3.0, 5.0]);
    assert_eq!((1.0 - &a).data(), &[0.0, -1.0, -3.0]);
    assert_eq!((3.0 * &a).data(), &[3.0, 6.0, 12.0]);
    assert_eq!((4.0 / &a).data(), &[4.0, 2.0, 1.0]);
    let f = Tensor::from_vec(vec![1.0f32, 2.0], &[2]);
    assert_eq!((2.0f32 * &f).data(), &[2.0, 4.0]);
}

#[test]
fn tensor_reductions_along_an_axis() {
    let x = Tensor::from_vec((0..24).map(|i| i as f64).collect(), &[2, 3, 4]);
    let s = x.sum_axis(1, false);
    assert_eq!(s.shape(), &[2, 4]);
    assert_eq!(s.data(), &[12.0, 15.0, 18.0, 21.0, 48.0, 51.0, 54.0, 57.0]);
    assert_eq!(x.sum_axis(-2, true).shape(), &[2, 1, 4]);
    assert_eq!(x.mean_axis(2, false).data(), &[1.5, 5.5, 9.5, 13.5, 17.5, 21.5]);
    assert_eq!(x.max_axis(0, false).data(), &(12..24).map(|i| i as f64).collect::<Vec<_>>()[..]);
    assert_eq!(x.max_axis(-1, true).shape(), &[2, 3, 1]);
    assert_eq!(x.max_axis(-1, true).data(), &[3.0, 7.0, 11.0, 15.0, 19.0, 23.0]);
}

#[test]
fn tensor_matmul_and_transpose() {
    let a = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let b = Tensor::from_vec(vec![1.0, 0.0, -1.0, 2.0, 0.5, 1.0], &[3, 2]);
    assert_eq!(a.matmul(&b).data(), &[0.5, 7.0, 2.0, 16.0]);
    assert_eq!(a.t().data(), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    assert_eq!(a.transpose(0, 1).shape(), &[3, 2]);
    assert_eq!(a.transpose(1, 0).data(), a.t().data());
    // Any two axes of a rank-4 tensor, against the element-wise definition.
    let x = Tensor::from_vec((0..120).map(f64::from).collect(), &[2, 3, 4, 5]);
    let y = x.transpose(1, -1);
    assert_eq!(y.shape(), &[2, 5, 4, 3]);
    for idx in [[0, 0, 0, 0], [1, 4, 3, 2], [1, 2, 1, 0], [0, 3, 2, 1]] {
        assert_eq!(y.get(&idx), x.get(&[idx[0], idx[3], idx[2], idx[1]]));
    }
    // Large enough for the GEMM kernel, in f32 and f64, against a plain triple loop.
    let mut rng = StdRng::seed_from_u64(3);
    let p = Tensor::uniform(&[33, 20], -1.0f64, 1.0, &mut rng);
    let q = Tensor::uniform(&[20, 17], -1.0f64, 1.0, &mut rng);
    let c = p.matmul(&q);
    let cf = p.to_f32().matmul(&q.to_f32());
    for i in 0..33 {
        for j in 0..17 {
            let want: f64 = (0..20).map(|k| p.get(&[i, k]) * q.get(&[k, j])).sum();
            assert!((c.get(&[i, j]) - want).abs() < 1e-12);
            assert!((cf.get(&[i, j]) as f64 - want).abs() < 1e-4);
        }
    }
}

fn pair() -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>, isize, bool)> {
    (prop::collection::vec(1usize..=4, 1..=3), any::<u8>(), any::<bool>()).prop_flat_map(|(s, mask, keep)| {
        let b: Vec<usize> = s.iter().enumerate().map(|(i, &d)| if mask >> i & 1 == 1 { 1 } else { d }).collect();
        let (na, nb) = (s.iter().product::<usize>(), b.iter().product::<usize>());
        let r = s.len() as isize;
        (
            prop::collection::vec(-3.0..3.0f64, na).prop_map(move |v| Tensor::from_vec(v, &s)),
            prop::collection::vec(0.5..3.0f64, nb).prop_map(move |v| Tensor::from_vec(v, &b)),
            -r..r,
            Just(keep),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The tape-free ops run the tape's kernels, so both give the same bits.
    #[test]
    fn tensor_ops_agree_with_tape_ops((a, b, axis, keep) in pair()) {
        let tape = Tape::<f64>::new();
        let (va, vb) = (tape.constant(a.clone()), tape.constant(b.clone()));
        prop_assert_eq!(&a + &b, (va + vb).value());
        prop_assert_eq!(&b - &a, (vb - va).value());
        prop_assert_eq!(&a * &b, (va * vb).value());
        prop_assert_eq!(&a / &b, (va / vb).value());
        prop_assert_eq!(a.maximum(&b), va.maximum(vb).value());
        prop_assert_eq!(a.minimum(&b), va.minimum(vb).value());
        prop_assert_eq!(&a * 1.5, (va * 1.5).value());
        prop_assert_eq!(2.0 / &b, (2.0 / vb).value());
        prop_assert_eq!(a.sum_axis(axis, keep), va.sum_axis(axis, keep).value());
        prop_assert_eq!(a.mean_axis(axis, keep), va.mean_axis(axis, keep).value());
        prop_assert_eq!(a.max_axis(axis, keep), va.max_axis(axis, keep).value());
        prop_assert_eq!(b.broadcast_to(a.shape()), vb.broadcast_to(a.shape()).value());
        let m = a.clone().reshape(&[a.len() / a.shape()[0], a.shape()[0]]);
        let vm = tape.constant(m.clone());
        prop_assert_eq!(m.t(), vm.t().value());
        prop_assert_eq!(a.clone().reshape(&[a.shape()[0], a.len() / a.shape()[0]]).matmul(&m),
            tape.constant(a.clone().reshape(&[a.shape()[0], a.len() / a.shape()[0]])).matmul(vm).value());
    }
}
