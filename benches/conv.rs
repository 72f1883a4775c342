//! conv2d forward + backward through the tape (input, weight and bias gradients) on a batch of 64
//! images of 28x28, 32 channels in and out, kernel 3, padding 1, f32 — beside raw sgemm on the same
//! lowered shapes (per image: `[32 x 288] [288 x 784]` forward, `[288 x 32] [32 x 784]` for the
//! input gradient, `[32 x 784] [784 x 288]` for the weight gradient), in one run. Throughput is in
//! FLOPs of the three products (2 per multiply-add), so criterion's rates are GFLOP/s comparable
//! between the two (the tape's f32 convolution takes the Winograd F(2x2, 3x3) route, fewer
//! multiply-adds for the same result, so its rate counts the direct convolution's work). The tape
//! row also pays what a user's step pays: copying the batch onto the tape, the `sum` that seeds
//! the sweep, and the Winograd transforms. A last line alternates the two steps
//! (medians, bests and their ratio), fairer than the two rows when the machine's load changes.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tapegrad::tensor::gemm;
use tapegrad::{ConvOptions, Padding, Tape};

fn bench(c: &mut Criterion) {
    let (n, ch, hw, k) = (64, 32, 28, 3);
    let (kg, p) = (ch * k * k, hw * hw);
    let flops = 3 * 2 * n * ch * p * kg;
    let val = |i: usize| ((i * 7919 % 1000) as f32 - 500.0) * 1e-3;
    let x: Vec<f32> = (0..n * ch * p).map(val).collect();
    let w: Vec<f32> = (0..ch * kg).map(|i| val(i * 3) * 0.1).collect();
    let bias: Vec<f32> = (0..ch).map(|i| val(i * 5)).collect();
    let o = ConvOptions::<2>::default().padding(Padding::symmetric([1, 1]));

    let mut group = c.benchmark_group("conv2d_b64_32x28x28_k3_f32");
    group.sample_size(10);
    group.warm_up_time(std::time::Duration::from_secs(1));
    group.measurement_time(std::time::Duration::from_secs(5));
    group.throughput(Throughput::Elements(flops as u64));
    let mut tape = Tape::<f32>::new();
    let mut tape_step = || {
        tape.clear();
        let xv = tape.leaf(&[n, ch, hw, hw], &x, true);
        let wv = tape.leaf(&[ch, ch, k, k], &w, true);
        let bv = tape.leaf(&[ch], &bias, true);
        let grads = xv.conv2d(wv, Some(bv), o).sum().backward();
        black_box((grads[xv][0], grads[wv][0], grads[bv][0]));
    };
    group.bench_function("tape_conv2d_fwd_bwd", |b| b.iter(&mut tape_step));
    // The same three products per image, operands already lowered (no im2col, no col2im).
    let col: Vec<f32> = (0..kg * p).map(val).collect();
    let gout: Vec<f32> = (0..n * ch * p).map(|i| val(i * 11)).collect();
    let (mut c_out, mut c_col, mut c_w) = (vec![0.0; ch * p], vec![0.0; kg * p], vec![0.0; ch * kg]);
    let mut raw_step = || {
        for i in 0..n {
            let gi = &gout[i * ch * p..(i + 1) * ch * p];
            gemm(ch, kg, p, &w, (kg, 1), &col, (p, 1), 0.0, &mut c_out);
            gemm(kg, ch, p, &w, (1, kg), gi, (p, 1), 0.0, &mut c_col);
            gemm(ch, p, kg, gi, (p, 1), &col, (1, p), 1.0, &mut c_w);
        }
        black_box((&c_out, &c_col, &c_w));
    };
    group.bench_function("raw_sgemm_lowered", |b| b.iter(&mut raw_step));
    group.finish();
    interleaved(flops, &mut tape_step, &mut raw_step);
}

/// On a shared machine the load changes between criterion's two rows: the two steps alternated
/// 31 times, each time's median and best, and the ratio of the medians.
fn interleaved(flops: usize, tape_step: &mut dyn FnMut(), raw_step: &mut dyn FnMut()) {
    let (mut t, mut r) = (Vec::new(), Vec::new());
    let time = |f: &mut dyn FnMut()| {
        let start = std::time::Instant::now();
        f();
        start.elapsed().as_secs_f64()
    };
    for _ in 0..31 {
        t.push(time(tape_step));
        r.push(time(raw_step));
    }
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0])
    };
    let ((tm, tb), (rm, rb)) = (stats(&mut t), stats(&mut r));
    let gf = |s: f64| flops as f64 / s * 1e-9;
    println!(
        "interleaved x31: tape {:.1} ms = {:.1} GFLOP/s (best {:.1} ms = {:.1}), raw sgemm {:.1} ms = {:.1} GFLOP/s (best {:.1} ms = {:.1}); tape / raw sgemm {:.2} (medians), {:.2} (bests)",
        tm * 1e3, gf(tm), tb * 1e3, gf(tb), rm * 1e3, gf(rm), rb * 1e3, gf(rb), rm / tm, rb / tb
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
