//! The Winograd route against im2col's: f64 to 1e-12 of the terms' scale (the same sums in another
//! order), f32 to 1e-5 of it, over odd and even sizes, every padding it takes, a batch of one
//! image and batches that are not a whole number of blocks; and which geometries it takes.

use super::super::conv::{conv_backward_input_into, conv_backward_weight, conv_forward, conv_forward_add, conv_geometry, ConvGeom, ConvOptions, Padding};
use super::*;

fn geom(xs: [usize; 4], ws: [usize; 4], pad: [[usize; 2]; 2]) -> ConvGeom {
    let o = ConvOptions::<2>::default().padding(Padding::Explicit(pad));
    conv_geometry("conv2d", &xs, &ws, Some(&[ws[0]][..]), &o).unwrap()
}

/// Inputs of a case: x, w, bias, an output gradient, and the scale of one output's terms.
fn data(g: &ConvGeom) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let val = |i: usize, m: usize| ((i * m % 29) as f64 - 14.0) / 9.0;
    let x = (0..g.in_shape().iter().product()).map(|i| val(i, 7)).collect();
    let w = (0..g.weight_shape().iter().product()).map(|i| val(i, 5)).collect();
    let b = (0..g.c_out).map(|i| val(i, 3)).collect();
    let gout = (0..g.out_shape().iter().product()).map(|i| val(i, 11)).collect();
    (x, w, b, gout)
}

fn close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (p, q)) in got.iter().zip(want).enumerate() {
        assert!((p - q).abs() <= tol, "{what}[{i}]: winograd {p}, im2col {q} (tolerance {tol:e})");
    }
}

fn to32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

fn to64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

/// Input shape, weight shape and `[before, after]` padding per dimension.
type Case = ([usize; 4], [usize; 4], [[usize; 2]; 2]);

const CASES: [Case; 9] = [
    ([3, 8, 9, 9], [9, 8, 3, 3], [[1, 1], [1, 1]]),
    ([1, 9, 12, 10], [8, 9, 3, 3], [[0, 0], [0, 0]]),
    ([5, 8, 5, 8], [8, 8, 3, 3], [[2, 2], [2, 2]]),
    ([2, 10, 9, 9], [12, 10, 3, 3], [[1, 2], [0, 1]]),
    ([4, 8, 8, 8], [8, 8, 3, 3], [[2, 0], [0, 2]]),
    ([2, 8, 10, 7], [8, 8, 3, 3], [[1, 1], [1, 1]]),
    // Even widths with an odd left padding (the input's columns split whole, then placed).
    ([2, 8, 8, 10], [8, 8, 3, 3], [[1, 1], [1, 1]]),
    ([2, 8, 7, 12], [9, 8, 3, 3], [[1, 0], [1, 0]]),
    // More images than one block (512 tiles): the last block is partial.
    ([37, 8, 9, 9], [8, 8, 3, 3], [[1, 1], [1, 1]]),
];

#[test]
fn f64_equals_im2col_forward_input_and_weight_gradients() {
    for (xs, ws, pad) in CASES {
        let g = geom(xs, ws, pad);
        assert!(applies(&g), "{g:?}");
        let (x, w, b, gout) = data(&g);
        let scale = (g.c_in * 9) as f64 * 3.0;
        let what = format!("{xs:?} {ws:?} pad {pad:?}");
        // Forward, overwriting with a bias and adding without one.
        let (mut want, mut got) = (vec![0.0; gout.len()], vec![f64::NAN; gout.len()]);
        conv_forward(&g, &x, &w, Some(&b), &mut want);
        forward(&g, &x, &w, Some(&b), &mut got, false);
        close(&format!("{what} out"), &got, &want, 1e-12 * scale);
        conv_forward_add(&g, &x, &w, &mut want);
        forward(&g, &x, &w, None, &mut got, true);
        close(&format!("{what} out added"), &got, &want, 1e-12 * scale);
        // The input's gradient, overwritten and added.
        let (mut want, mut got) = (vec![0.25; x.len()], vec![f64::NAN; x.len()]);
        conv_backward_input_into(&g, &gout, &w, &mut want, true);
        backward_input(&g, &gout, &w, &mut got, true);
        close(&format!("{what} dx"), &got, &want, 1e-12 * scale);
        conv_backward_input_into(&g, &gout, &w, &mut want, false);
        backward_input(&g, &gout, &w, &mut got, false);
        close(&format!("{what} dx added"), &got, &want, 1e-12 * scale);
        // The weight's gradient, added to what the buffer holds.
        let (mut want, mut got) = (vec![0.5; w.len()], vec![0.5; w.len()]);
        conv_backward_weight(&g, &x, &gout, &mut want);
        backward_weight(&g, &x, &gout, &mut got);
        let terms = (g.n * g.out_hw[0] * g.out_hw[1]) as f64 * 3.0;
        close(&format!("{what} dw"), &got, &want, 1e-12 * terms);
    }
}

/// In f32 the route `conv.rs` sends it through (the public entry points) stays within 1e-5 of the
/// terms' scale of the exact f64 values.
#[test]
fn f32_route_is_within_rounding_of_f64() {
    for (xs, ws, pad) in CASES {
        let g = geom(xs, ws, pad);
        let (x, w, b, gout) = data(&g);
        let (x32, w32, b32, g32) = (to32(&x), to32(&w), to32(&b), to32(&gout));
        let scale = (g.c_in * 9) as f64 * 3.0;
        let mut want = vec![0.0; gout.len()];
        conv_forward(&g, &x, &w, Some(&b), &mut want);
        let mut got = vec![0.0f32; gout.len()];
        conv_forward(&g, &x32, &w32, Some(&b32), &mut got);
        close("f32 out", &to64(&got), &want, 1e-5 * scale);
        let mut want = vec![0.0; x.len()];
        conv_backward_input_into(&g, &gout, &w, &mut want, true);
        let mut got = vec![0.0f32; x.len()];
        conv_backward_input_into(&g, &g32, &w32, &mut got, true);
        close("f32 dx", &to64(&got), &want, 1e-5 * scale);
        let mut want = vec![0.0; w.len()];
        conv_backward_weight(&g, &x, &gout, &mut want);
        let mut got = vec![0.0f32; w.len()];
        conv_backward_weight(&g, &x32, &g32, &mut got);
        close("f32 dw", &to64(&got), &want, 1e-5 * (g.n * g.out_hw[0] * g.out_hw[1]) as f64 * 3.0);
    }
}

#[test]
fn takes_only_3x3_stride_1_one_group_convolutions_with_enough_channels() {
    let o = |stride, dilation, groups, pad| ConvOptions::<2> { stride, dilation, groups, padding: Padding::symmetric(pad) };
    let g = |xs: [usize; 4], ws: [usize; 4], opts: ConvOptions<2>| conv_geometry("conv2d", &xs, &ws, None, &opts).unwrap();
    assert!(applies(&g([64, 32, 28, 28], [32, 32, 3, 3], o([1, 1], [1, 1], 1, [1, 1]))));
    assert!(!applies(&g([2, 32, 28, 28], [32, 32, 3, 3], o([2, 2], [1, 1], 1, [1, 1]))), "stride 2");
    assert!(!applies(&g([2, 32, 28, 28], [32, 32, 3, 3], o([1, 1], [2, 2], 1, [1, 1]))), "dilation 2");
    assert!(!applies(&g([2, 32, 28, 28], [32, 16, 3, 3], o([1, 1], [1, 1], 2, [1, 1]))), "groups");
    assert!(!applies(&g([2, 32, 28, 28], [32, 32, 5, 5], o([1, 1], [1, 1], 1, [2, 2]))), "5x5");
    assert!(!applies(&g([2, 1, 28, 28], [32, 1, 3, 3], o([1, 1], [1, 1], 1, [1, 1]))), "one channel in");
    assert!(!applies(&g([2, 32, 28, 28], [32, 32, 3, 3], o([1, 1], [1, 1], 1, [3, 3]))), "padding 3");
    assert!(!applies(&g([2, 32, 4, 4], [32, 32, 3, 3], o([1, 1], [1, 1], 1, [0, 0]))), "output 2x2");
    assert!(!applies(&g([2, 32, 4, 4], [32, 32, 3, 3], o([1, 1], [1, 1], 1, [1, 1]))), "output 4x4");
    assert!(applies(&g([2, 8, 8, 8], [8, 8, 3, 3], o([1, 1], [1, 1], 1, [1, 1]))), "output 8x8");
}
