//! The pooling kernels against PyTorch (tests/fixtures/torch_conv.json), their tie and NaN
//! convention, global average pooling, and their argument checks.

use super::*;
use crate::ops::conv::tests::{assert_close, cases, dims, Case};

fn options<const D: usize>(c: &Case) -> PoolOptions<D> {
    let a = &c.args;
    assert_eq!(a["ceil_mode"], false, "{}: ceil_mode is not supported", c.name);
    PoolOptions {
        kernel_size: dims::<D>(&a["kernel_size"]),
        stride: dims::<D>(&a["stride"]),
        padding: dims::<D>(&a["padding"]),
        count_include_pad: a.get("count_include_pad").is_none_or(|v| v.as_bool().unwrap()),
    }
}

fn run_max<const D: usize>(c: &Case) {
    let g = pool_geometry::<D>(&c.name, &c.x.shape, &options::<D>(c)).unwrap_or_else(|e| panic!("{}: {e}", c.name));
    assert_eq!(g.out_shape(), c.out.shape, "{}: output shape", c.name);
    let (mut out, mut am) = (vec![f64::NAN; c.out.data.len()], vec![usize::MAX; c.out.data.len()]);
    max_pool_forward(&g, &c.x.data, &mut out, &mut am);
    assert_close(&c.name, "out", &out, &c.out);
    let mut dx = vec![0.0; c.x.data.len()];
    max_pool_backward(&am, &c.w.data, &mut dx);
    assert_close(&c.name, "grad_x", &dx, &c.grad_x);
    // The forward-mode derivative along the tangent x itself reads the maxima back.
    let mut tangent = vec![0.0; out.len()];
    gather_argmax(&am, &c.x.data, &mut tangent);
    assert_eq!(tangent, out, "{}: gather_argmax", c.name);
}

fn run_avg<const D: usize>(c: &Case) {
    let g = pool_geometry::<D>(&c.name, &c.x.shape, &options::<D>(c)).unwrap_or_else(|e| panic!("{}: {e}", c.name));
    assert_eq!(g.out_shape(), c.out.shape, "{}: output shape", c.name);
    let mut out = vec![f64::NAN; c.out.data.len()];
    avg_pool_forward(&g, &c.x.data, &mut out);
    assert_close(&c.name, "out", &out, &c.out);
    let mut dx = vec![0.0; c.x.data.len()];
    avg_pool_backward(&g, &c.w.data, &mut dx);
    assert_close(&c.name, "grad_x", &dx, &c.grad_x);
}

#[test]
fn max_pools_equal_pytorch_on_every_fixture_case() {
    let (one, two) = (cases("max_pool1d"), cases("max_pool2d"));
    assert_eq!((one.len(), two.len()), (12, 12));
    one.iter().for_each(run_max::<1>);
    two.iter().for_each(run_max::<2>);
}

#[test]
fn avg_pools_equal_pytorch_on_every_fixture_case() {
    let (one, two) = (cases("avg_pool1d"), cases("avg_pool2d"));
    assert_eq!((one.len(), two.len()), (18, 22));
    one.iter().for_each(run_avg::<1>);
    two.iter().for_each(run_avg::<2>);
}

/// Ties go to the first maximum in row-major window order; a NaN wins its window; overlapping
/// windows add their gradients; an element no window reaches gets none.
#[test]
fn max_pool_ties_nan_and_overlaps_follow_pytorch() {
    let o = PoolOptions { kernel_size: [2, 2], stride: [1, 1], padding: [0, 0], count_include_pad: true };
    let g = pool_geometry("max_pool2d", &[1, 1, 2, 3], &o).unwrap();
    let x = [1.0, 5.0, 5.0, 5.0, 5.0, f64::NAN];
    let (mut out, mut am) = ([0.0; 2], [0; 2]);
    max_pool_forward(&g, &x, &mut out, &mut am);
    assert_eq!(am, [1, 5], "the first 5 of the left window, the NaN of the right");
    assert!(out[0] == 5.0 && out[1].is_nan());
    let mut dx = [0.0; 6];
    max_pool_backward(&am, &[1.0, 2.0], &mut dx);
    assert_eq!(dx, [0.0, 1.0, 0.0, 0.0, 0.0, 2.0]);
    // Stride 3 over a kernel of 2: x[2] and x[5] lie in no window; x[1] is the max of both.
    let g = pool_geometry("max_pool1d", &[1, 1, 6], &PoolOptions { stride: [3], ..PoolOptions::new([2]) }).unwrap();
    let (mut out, mut am) = ([0.0; 2], [0; 2]);
    max_pool_forward(&g, &[0.0, 1.0, 9.0, 3.0, 2.0, 9.0], &mut out, &mut am);
    assert_eq!((out, am), ([1.0, 3.0], [1, 3]));
    let g = pool_geometry("max_pool1d", &[1, 1, 3], &PoolOptions { stride: [1], ..PoolOptions::new([2]) }).unwrap();
    let (mut out, mut am, mut dx) = ([0.0; 2], [0; 2], [0.0; 3]);
    max_pool_forward(&g, &[0.0, 7.0, 1.0], &mut out, &mut am);
    max_pool_backward(&am, &[1.0, 10.0], &mut dx);
    assert_eq!(dx, [0.0, 11.0, 0.0], "both windows send their gradient to x[1]");
}

#[test]
fn global_pool_checks_rank_and_size() {
    assert_eq!(global_pool_sizes("global_avg_pool2d", &[2, 3, 2, 5], 2), Ok((2, 3, 10)));
    let e = global_pool_sizes("global_avg_pool1d", &[2, 3], 1).unwrap_err();
    assert!(e.contains("global_avg_pool1d: input x must be 3-D [N, C, L]") && e.contains("[2, 3]"), "{e}");
    let e = global_pool_sizes("global_avg_pool2d", &[2, 3, 0, 4], 2).unwrap_err();
    assert!(e.contains("must not be empty") && e.contains("[2, 3, 0, 4]"), "{e}");
}

#[test]
fn arguments_torch_refuses_are_named_with_the_shapes() {
    let e = pool_geometry("max_pool1d", &[2, 3, 5], &PoolOptions { padding: [2], ..PoolOptions::new([3]) }).unwrap_err();
    assert!(e.contains("max_pool1d: padding [2] must be at most half of kernel_size [3]"), "{e}");
    let e = pool_geometry("avg_pool2d", &[2, 3, 5], &PoolOptions::new([2, 2])).unwrap_err();
    assert!(e.contains("avg_pool2d: input x must be 4-D [N, C, H, W]") && e.contains("[2, 3, 5]"), "{e}");
    let e = pool_geometry("avg_pool2d", &[1, 1, 5, 5], &PoolOptions { stride: [1, 0], ..PoolOptions::new([2, 2]) }).unwrap_err();
    assert!(e.contains("stride must be positive"), "{e}");
    let e = pool_geometry("avg_pool2d", &[1, 1, 5, 5], &PoolOptions::new([0, 2])).unwrap_err();
    assert!(e.contains("kernel_size must be positive"), "{e}");
    let e = pool_geometry("max_pool2d", &[1, 1, 2, 5], &PoolOptions::new([3, 3])).unwrap_err();
    assert!(e.contains("kernel_size [3, 3] is larger than the padded input") && e.contains("[1, 1, 2, 5]"), "{e}");
    // count_include_pad=false divides a border window by its elements inside the input.
    let g = pool_geometry("avg_pool1d", &[1, 1, 2], &PoolOptions { padding: [1], count_include_pad: false, ..PoolOptions::new([2]) }).unwrap();
    let mut out = [0.0; 2];
    avg_pool_forward(&g, &[4.0, 6.0], &mut out);
    assert_eq!(out, [4.0, 6.0]);
    let g = pool_geometry("avg_pool1d", &[1, 1, 2], &PoolOptions { padding: [1], ..PoolOptions::new([2]) }).unwrap();
    avg_pool_forward(&g, &[4.0, 6.0], &mut out);
    assert_eq!(out, [2.0, 3.0]);
}
