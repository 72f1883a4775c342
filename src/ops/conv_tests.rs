//! The convolution kernels against PyTorch (tests/fixtures/torch_conv.json), against a direct
//! loop, and their argument checks. The fixture reader is shared with the pooling tests.

use super::*;
use serde_json::Value;

/// A flat tensor of the fixture: shape and row-major data.
pub(crate) struct Arr {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

/// One case of torch_conv.json: the inputs, torch's output and gradients for L = sum(out * w).
pub(crate) struct Case {
    pub name: String,
    pub args: Value,
    pub x: Arr,
    pub weight: Option<Arr>,
    pub bias: Option<Arr>,
    pub w: Arr,
    pub out: Arr,
    pub grad_x: Arr,
    pub grad_weight: Option<Arr>,
    pub grad_bias: Option<Arr>,
}

fn arr(v: &Value) -> Option<Arr> {
    if v.is_null() {
        return None;
    }
    let shape = v["shape"].as_array()?.iter().map(|d| d.as_u64().unwrap() as usize).collect();
    let data = v["data"].as_array()?.iter().map(|d| d.as_f64().unwrap()).collect();
    Some(Arr { shape, data })
}

/// Every case of the fixture whose op is `op`.
pub(crate) fn cases(op: &str) -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/torch_conv.json");
    let text = std::fs::read_to_string(path).expect("tests/fixtures/torch_conv.json is readable");
    let root: Value = serde_json::from_str(&text).expect("torch_conv.json is JSON");
    let list: Vec<Case> = root["cases"]
        .as_array()
        .expect("a cases array")
        .iter()
        .filter(|c| c["op"] == op)
        .map(|c| Case {
            name: c["name"].as_str().unwrap().to_string(),
            args: c["args"].clone(),
            x: arr(&c["x"]).expect("x"),
            weight: arr(&c["weight"]),
            bias: arr(&c["bias"]),
            w: arr(&c["w"]).expect("w"),
            out: arr(&c["out"]).expect("out"),
            grad_x: arr(&c["grad_x"]).expect("grad_x"),
            grad_weight: arr(&c["grad_weight"]),
            grad_bias: arr(&c["grad_bias"]),
        })
        .collect();
    assert!(!list.is_empty(), "no {op} case in the fixture");
    list
}

/// A per-dimension argument of the fixture: an int (1-D ops) or a list (2-D ops).
pub(crate) fn dims<const D: usize>(v: &Value) -> [usize; D] {
    match v.as_array() {
        Some(a) => std::array::from_fn(|d| a[d].as_u64().unwrap() as usize),
        None => [v.as_u64().unwrap() as usize; D],
    }
}

/// `got` equals `want` to 1e-10 relative (with a 1e-13 absolute floor for values that cancel to
/// about zero); the message names the case, the quantity and the first index that differs.
pub(crate) fn assert_close(case: &str, what: &str, got: &[f64], want: &Arr) {
    assert_eq!(got.len(), want.data.len(), "{case}: {what} has {} elements, torch {} (shape {:?})", got.len(), want.data.len(), want.shape);
    for (i, (&g, &w)) in got.iter().zip(&want.data).enumerate() {
        assert!((g - w).abs() <= 1e-10 * w.abs() + 1e-13, "{case}: {what}[{i}] = {g:e}, torch {w:e}");
    }
}

fn options<const D: usize>(args: &Value) -> ConvOptions<D> {
    let padding = if args["padding"] == "same" { Padding::Same } else { Padding::symmetric(dims::<D>(&args["padding"])) };
    ConvOptions {
        stride: dims::<D>(&args["stride"]),
        padding,
        dilation: dims::<D>(&args["dilation"]),
        groups: args["groups"].as_u64().unwrap() as usize,
    }
}

/// Forward, and the three backward products with the probe `w` as the output's gradient.
fn run_case<const D: usize>(c: &Case) {
    let weight = c.weight.as_ref().expect("a weight");
    let o = options::<D>(&c.args);
    let g = conv_geometry::<D>(&c.name, &c.x.shape, &weight.shape, c.bias.as_ref().map(|b| &b.shape[..]), &o)
        .unwrap_or_else(|e| panic!("{}: {e}", c.name));
    assert_eq!(g.out_shape(), c.out.shape, "{}: output shape", c.name);
    let mut out = vec![f64::NAN; c.out.data.len()];
    conv_forward(&g, &c.x.data, &weight.data, c.bias.as_ref().map(|b| &b.data[..]), &mut out);
    assert_close(&c.name, "out", &out, &c.out);
    let mut dx = vec![0.0; c.x.data.len()];
    conv_backward_input(&g, &c.w.data, &weight.data, &mut dx);
    assert_close(&c.name, "grad_x", &dx, &c.grad_x);
    let mut dw = vec![0.0; weight.data.len()];
    conv_backward_weight(&g, &c.x.data, &c.w.data, &mut dw);
    assert_close(&c.name, "grad_weight", &dw, c.grad_weight.as_ref().unwrap());
    match (&c.bias, &c.grad_bias) {
        (Some(b), Some(gb)) => {
            let mut db = vec![0.0; b.data.len()];
            conv_backward_bias(&g, &c.w.data, &mut db);
            assert_close(&c.name, "grad_bias", &db, gb);
        }
        (None, None) => {}
        _ => panic!("{}: bias and grad_bias disagree on presence", c.name),
    }
}

#[test]
fn conv1d_equals_pytorch_on_every_fixture_case() {
    let all = cases("conv1d");
    assert_eq!(all.len(), 32);
    all.iter().for_each(run_case::<1>);
}

#[test]
fn conv2d_equals_pytorch_on_every_fixture_case() {
    let all = cases("conv2d");
    assert_eq!(all.len(), 32);
    all.iter().for_each(run_case::<2>);
}

/// The textbook sum, written independently of the lowering, for shapes larger than the fixture's
/// (more channels, groups 3, asymmetric explicit padding, a 1x1 kernel that skips the lowering).
#[test]
fn conv2d_equals_the_direct_sum_beyond_the_fixture() {
    let settings: [([usize; 4], [usize; 4], ConvOptions<2>); 4] = [
        ([3, 6, 7, 5], [9, 2, 3, 2], ConvOptions { stride: [2, 1], padding: Padding::Explicit([[0, 2], [1, 0]]), dilation: [1, 2], groups: 3 }),
        ([2, 4, 6, 6], [5, 4, 1, 1], ConvOptions::default()),
        ([2, 4, 6, 6], [4, 1, 3, 3], ConvOptions { stride: [3, 3], padding: Padding::symmetric([1, 1]), dilation: [1, 1], groups: 4 }),
        ([1, 2, 9, 4], [3, 2, 4, 2], ConvOptions { stride: [1, 1], padding: Padding::Same, dilation: [2, 3], groups: 1 }),
    ];
    for (xs, ws, o) in settings {
        let val = |i: usize, m: usize| ((i * m % 17) as f64 - 8.0) / 7.0;
        let x: Vec<f64> = (0..xs.iter().product()).map(|i| val(i, 5)).collect();
        let w: Vec<f64> = (0..ws.iter().product()).map(|i| val(i, 3)).collect();
        let b: Vec<f64> = (0..ws[0]).map(|i| val(i, 7)).collect();
        let g = conv_geometry("conv2d", &xs, &ws, Some(&[ws[0]][..]), &o).unwrap();
        let mut out = vec![0.0; g.out_shape().iter().product()];
        conv_forward(&g, &x, &w, Some(&b), &mut out);
        let ([oh, ow], cig, cog) = (g.out_hw, xs[1] / o.groups, ws[0] / o.groups);
        for n in 0..xs[0] {
            for co in 0..ws[0] {
                for y in 0..oh {
                    for z in 0..ow {
                        let mut s = b[co];
                        for ci in 0..cig {
                            let c = co / cog * cig + ci;
                            for i in 0..ws[2] {
                                for j in 0..ws[3] {
                                    let ih = (y * g.stride[0] + i * g.dilation[0]) as isize - g.pad[0] as isize;
                                    let iw = (z * g.stride[1] + j * g.dilation[1]) as isize - g.pad[1] as isize;
                                    if (0..xs[2] as isize).contains(&ih) && (0..xs[3] as isize).contains(&iw) {
                                        let xi = ((n * xs[1] + c) * xs[2] + ih as usize) * xs[3] + iw as usize;
                                        s += x[xi] * w[((co * cig + ci) * ws[2] + i) * ws[3] + j];
                                    }
                                }
                            }
                        }
                        let got = out[((n * ws[0] + co) * oh + y) * ow + z];
                        assert!((got - s).abs() < 1e-12, "{xs:?} {ws:?} {o:?}: out[{n},{co},{y},{z}] = {got}, want {s}");
                    }
                }
            }
        }
        // The backward products are the adjoints of the forward: <conv(x, w), G> = <x, dx> = <w, dw>.
        let gout: Vec<f64> = (0..out.len()).map(|i| val(i, 11)).collect();
        let mut plain = vec![0.0; out.len()];
        conv_forward(&g, &x, &w, None, &mut plain);
        let inner: f64 = plain.iter().zip(&gout).map(|(a, b)| a * b).sum();
        let (mut dx, mut dw) = (vec![0.0; x.len()], vec![0.0; w.len()]);
        conv_backward_input(&g, &gout, &w, &mut dx);
        conv_backward_weight(&g, &x, &gout, &mut dw);
        let via_x: f64 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
        let via_w: f64 = w.iter().zip(&dw).map(|(a, b)| a * b).sum();
        assert!((inner - via_x).abs() < 1e-9 && (inner - via_w).abs() < 1e-9, "{o:?}: {inner} {via_x} {via_w}");
    }
}

/// The backward products add to what the buffers hold (the tape accumulates gradients).
#[test]
fn backward_products_accumulate() {
    let o = ConvOptions::<1> { padding: Padding::symmetric([1]), ..Default::default() };
    let g = conv_geometry("conv1d", &[1, 1, 4], &[1, 1, 3], Some(&[1][..]), &o).unwrap();
    let (x, w, gout) = ([1.0, 2.0, 3.0, 4.0], [1.0, 10.0, 100.0], [1.0; 4]);
    let (mut dx, mut dw, mut db) = ([5.0; 4], [5.0; 3], [5.0]);
    conv_backward_input(&g, &gout, &w, &mut dx);
    conv_backward_weight(&g, &x, &gout, &mut dw);
    conv_backward_bias(&g, &gout, &mut db);
    assert_eq!(dx, [5.0 + 11.0, 5.0 + 111.0, 5.0 + 111.0, 5.0 + 110.0]);
    assert_eq!(dw, [5.0 + 6.0, 5.0 + 10.0, 5.0 + 9.0]);
    assert_eq!(db, [9.0]);
}

#[test]
fn arguments_torch_refuses_are_named_with_the_shapes() {
    let d1 = ConvOptions::<1>::default();
    let err = |r: Result<ConvGeom, String>| r.expect_err("an error");
    let e = err(conv_geometry("conv1d", &[2, 3, 5], &[4, 3, 2, 2], None, &d1));
    assert!(e.starts_with("conv1d: weight must be 3-D") && e.contains("[4, 3, 2, 2]"), "{e}");
    let e = err(conv_geometry("conv1d", &[2, 5], &[4, 3, 2], None, &d1));
    assert!(e.contains("input x must be 3-D [N, C_in, L]") && e.contains("[2, 5]"), "{e}");
    let e = err(conv_geometry("conv1d", &[2, 3, 5], &[4, 2, 2], None, &d1));
    assert!(e.contains("expects 2 input channels") && e.contains("[2, 3, 5]") && e.contains("[4, 2, 2]"), "{e}");
    let e = err(conv_geometry("conv1d", &[2, 4, 5], &[3, 2, 2], None, &ConvOptions { groups: 2, ..d1 }));
    assert!(e.contains("groups=2 must divide") && e.contains("output channels (3"), "{e}");
    let e = err(conv_geometry("conv1d", &[2, 4, 5], &[4, 4, 2], None, &ConvOptions { groups: 0, ..d1 }));
    assert!(e.contains("groups must be positive"), "{e}");
    let e = err(conv_geometry("conv1d", &[2, 3, 5], &[4, 3, 2], Some(&[3][..]), &d1));
    assert!(e.contains("bias must have shape [4]") && e.contains("got [3]"), "{e}");
    let same2 = ConvOptions::<2> { stride: [1, 2], padding: Padding::Same, ..Default::default() };
    let e = err(conv_geometry("conv2d", &[1, 1, 5, 5], &[1, 1, 3, 3], None, &same2));
    assert!(e.contains("padding=\"same\" needs stride 1") && e.contains("[1, 2]"), "{e}");
    let e = err(conv_geometry("conv2d", &[1, 1, 5, 5], &[1, 1, 3, 3], None, &ConvOptions::<2> { stride: [0, 1], ..Default::default() }));
    assert!(e.contains("stride must be positive"), "{e}");
    let e = err(conv_geometry("conv2d", &[1, 1, 5, 5], &[1, 1, 3, 3], None, &ConvOptions::<2> { dilation: [3, 1], ..Default::default() }));
    assert!(e.contains("the kernel spans 7") && e.contains("only 5 long"), "{e}");
    let e = err(conv_geometry("conv2d", &[1, 1, 5, 5], &[1, 1, 0, 3], None, &ConvOptions::<2>::default()));
    assert!(e.contains("kernel must not be empty"), "{e}");
    // Padding makes room for a kernel longer than the input.
    let g = conv_geometry("conv1d", &[1, 1, 2], &[1, 1, 4], None, &ConvOptions { padding: Padding::symmetric([1]), ..d1 }).unwrap();
    assert_eq!(g.out_shape(), [1, 1, 1]);
}

/// A batch large enough to be split over two threads gives what one thread gives (the weight's
/// gradient up to the order of its sum). Small images: larger ones leave the threads to the GEMMs.
#[test]
fn split_batch_equals_one_thread() {
    let o = ConvOptions::<2>::default().padding(Padding::symmetric([1, 1])).stride([1, 2]);
    let g = conv_geometry("conv2d", &[320, 16, 8, 8], &[16, 16, 3, 3], None, &o).unwrap();
    assert!(halves(&g).is_some() || cores() < 2);
    let big = conv_geometry("conv2d", &[5, 16, 32, 32], &[16, 16, 3, 3], None, &o).unwrap();
    assert!(halves(&big).is_none(), "matrixmultiply threads these products itself");
    let val = |i: usize, m: usize| ((i * m % 19) as f64 - 9.0) / 9.0;
    let x: Vec<f64> = (0..320 * 16 * 8 * 8).map(|i| val(i, 7)).collect();
    let w: Vec<f64> = (0..16 * 16 * 9).map(|i| val(i, 5)).collect();
    let out_len = g.out_shape().iter().product();
    let gout: Vec<f64> = (0..out_len).map(|i| val(i, 3)).collect();
    let (mut a, mut b) = (vec![0.0; out_len], vec![0.0; out_len]);
    conv_forward(&g, &x, &w, None, &mut a);
    forward_serial(&g, &x, &w, None, &mut b, false);
    assert_eq!(a, b);
    let (mut a, mut b) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    conv_backward_input(&g, &gout, &w, &mut a);
    backward_input_serial(&g, &gout, &w, &mut b, false);
    assert_eq!(a, b);
    let (mut a, mut b) = (vec![0.0; w.len()], vec![0.0; w.len()]);
    conv_backward_weight(&g, &x, &gout, &mut a);
    backward_weight_serial(&g, &x, &gout, &mut b);
    for (p, q) in a.iter().zip(&b) {
        assert!((p - q).abs() <= 1e-12 * (1.0 + q.abs()), "{p} vs {q}");
    }
}

/// The stride-1 weight gradient through the channels-last view equals the im2col route: f64 to
/// 1e-12 and f32 to 1e-5 relative to the sum of the absolute terms' scale, over a batch that is
/// not a whole number of the view's chunks, asymmetric padding, 1-D and a 1x1 kernel.
#[test]
fn channels_last_weight_gradient_equals_im2col() {
    let two = |pad| ConvOptions::<2>::default().padding(Padding::Explicit(pad));
    let cases = [
        ([11, 5, 7, 6], [4, 5, 3, 3], two([[1, 0], [2, 1]])),
        ([3, 3, 5, 9], [6, 3, 2, 4], two([[0, 0], [0, 0]])),
        ([2, 4, 6, 6], [5, 4, 1, 1], two([[0, 0], [1, 1]])),
        ([9, 2, 1, 12], [3, 2, 1, 5], two([[0, 0], [2, 2]])),
    ];
    for (xs, ws, o) in cases {
        let g = conv_geometry("conv2d", &xs, &ws, None, &o).unwrap();
        assert!(conv_wgrad::applies(&g));
        let val = |i: usize, m: usize| ((i * m % 23) as f64 - 11.0) / 5.0;
        let x: Vec<f64> = (0..xs.iter().product()).map(|i| val(i, 7)).collect();
        let gout: Vec<f64> = (0..g.out_shape().iter().product()).map(|i| val(i, 3)).collect();
        let wl = ws.iter().product();
        let (mut a, mut b) = (vec![0.5; wl], vec![0.5; wl]);
        conv_wgrad::backward_weight(&g, &x, &gout, &mut a);
        backward_weight_im2col(&g, &x, &gout, &mut b);
        let terms = (g.n * g.out_hw[0] * g.out_hw[1]) as f64 * 5.0;
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() <= 1e-12 * terms, "{xs:?} {ws:?}: {p} vs {q}");
        }
        let (x32, g32): (Vec<f32>, Vec<f32>) = (x.iter().map(|&v| v as f32).collect(), gout.iter().map(|&v| v as f32).collect());
        let mut a32 = vec![0.5f32; wl];
        conv_wgrad::backward_weight(&g, &x32, &g32, &mut a32);
        for (p, q) in a32.iter().zip(&b) {
            assert!((*p as f64 - q).abs() <= 1e-5 * terms, "f32 {xs:?} {ws:?}: {p} vs {q}");
        }
    }
}

/// Overwriting the input's gradient ignores what the buffer held (even NaN) and equals adding to
/// zeros, with and without a lowering.
#[test]
fn input_gradient_overwrites() {
    for (ws, pad) in [([4, 3, 3, 3], 1), ([4, 3, 1, 1], 0)] {
        let o = ConvOptions::<2>::default().padding(Padding::symmetric([pad, pad]));
        let g = conv_geometry("conv2d", &[2, 3, 5, 4], &ws, None, &o).unwrap();
        let w: Vec<f64> = (0..ws.iter().product()).map(|i| (i % 7) as f64 - 3.0).collect();
        let gout: Vec<f64> = (0..g.out_shape().iter().product()).map(|i| (i % 5) as f64 - 2.0).collect();
        let (mut a, mut b) = (vec![f64::NAN; 120], vec![0.0; 120]);
        conv_backward_input_into(&g, &gout, &w, &mut a, true);
        conv_backward_input(&g, &gout, &w, &mut b);
        assert_eq!(a, b, "{ws:?}");
    }
}
