//! conv2d forward + backward (input, weight and bias gradients) on a batch of 64 images of 28x28,
//! 32 channels in and out, kernel 3, padding 1, f32 — beside raw sgemm on the same lowered shapes
//! (per image: `[32 x 288] [288 x 784]` forward, `[288 x 32] [32 x 784]` for the input gradient,
//! `[32 x 784] [784 x 288]` for the weight gradient), in one run. Throughput is in FLOPs of the
//! three products (2 per multiply-add), so criterion's rates are GFLOP/s comparable between the two.
//!
//! The kernels are crate-internal until they are wired as op units; the bench compiles the kernel
//! file itself, over the crate's public GEMM (`tapegrad::tensor::gemm`), the one every product runs.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

/// What the kernel file imports from its crate: the element trait and the crate's one GEMM.
mod tensor {
    pub use tapegrad::tensor::gemm;
    pub use tapegrad::Float;
}
use tensor::gemm;

#[allow(dead_code)]
#[path = "../src/ops/conv.rs"]
mod conv;
use conv::{conv_backward_bias, conv_backward_input, conv_backward_weight, conv_forward, conv_geometry, ConvOptions, Padding};

fn bench(c: &mut Criterion) {
    let (n, ch, hw, k) = (64, 32, 28, 3);
    let o = ConvOptions::<2> { padding: Padding::symmetric([1, 1]), ..Default::default() };
    let g = conv_geometry("conv2d", &[n, ch, hw, hw], &[ch, ch, k, k], Some(&[ch][..]), &o).expect("valid shapes");
    let val = |i: usize| ((i * 7919 % 1000) as f32 - 500.0) * 1e-3;
    let x: Vec<f32> = (0..n * ch * hw * hw).map(val).collect();
    let w: Vec<f32> = (0..ch * ch * k * k).map(|i| val(i * 3) * 0.1).collect();
    let bias: Vec<f32> = (0..ch).map(|i| val(i * 5)).collect();
    let gout: Vec<f32> = (0..n * ch * hw * hw).map(|i| val(i * 11)).collect();
    let (mut out, mut dx, mut dw, mut db) = (vec![0.0; gout.len()], vec![0.0; x.len()], vec![0.0; w.len()], vec![0.0; ch]);

    let mut group = c.benchmark_group("conv2d_b64_32x28x28_k3_f32");
    group.sample_size(10);
    group.warm_up_time(std::time::Duration::from_secs(1));
    group.measurement_time(std::time::Duration::from_secs(4));
    group.throughput(Throughput::Elements(6 * g.macs() as u64));
    group.bench_function("conv_fwd_bwd", |b| {
        b.iter(|| {
            conv_forward(&g, &x, &w, Some(&bias), &mut out);
            dx.fill(0.0);
            dw.fill(0.0);
            db.fill(0.0);
            conv_backward_input(&g, &gout, &w, &mut dx);
            conv_backward_weight(&g, &x, &gout, &mut dw);
            conv_backward_bias(&g, &gout, &mut db);
            black_box((&out, &dx, &dw, &db));
        })
    });
    // The same three products per image, operands already lowered (no im2col, no col2im).
    let (kg, p) = (ch * k * k, hw * hw);
    let col: Vec<f32> = (0..kg * p).map(val).collect();
    let (mut c_out, mut c_col, mut c_w) = (vec![0.0; ch * p], vec![0.0; kg * p], vec![0.0; ch * kg]);
    group.bench_function("raw_sgemm_lowered", |b| {
        b.iter(|| {
            for i in 0..n {
                let gi = &gout[i * ch * p..(i + 1) * ch * p];
                gemm(ch, kg, p, &w, (kg, 1), &col, (p, 1), 0.0, &mut c_out);
                gemm(kg, ch, p, &w, (1, kg), gi, (p, 1), 0.0, &mut c_col);
                gemm(ch, p, kg, gi, (p, 1), &col, (1, p), 1.0, &mut c_w);
            }
            black_box((&c_out, &c_col, &c_w));
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
