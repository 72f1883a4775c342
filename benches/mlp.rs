//! The 784-1024-1024-10 MLP (softmax cross-entropy, SGD, f32, batch 256): one training step through
//! the tape, and the same matrix products through raw sgemm. Throughput is in FLOPs of the
//! products, so criterion's rates are GFLOP/s comparable between the two.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tapegrad::perf::figures::{big_mlp, mlp_step_flops, RawGemms, BIG_MLP};

fn bench(c: &mut Criterion) {
    let batch = 256;
    let mut group = c.benchmark_group("mlp_784_1024_1024_10");
    group.sample_size(20);
    group.throughput(Throughput::Elements(mlp_step_flops(&BIG_MLP, batch) as u64));
    let (mut model, x, y) = big_mlp(batch, 3);
    group.bench_function("tape_step", |b| b.iter(|| black_box(model.train_on_batch(&x, &y).unwrap())));
    let mut raw = RawGemms::new(&BIG_MLP, batch);
    group.bench_function("raw_sgemm", |b| b.iter(|| raw.run()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
