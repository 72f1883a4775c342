//! Memory figures, printed rather than timed: RSS and tape capacity growth between epoch 10 and
//! epoch 100 of a fit. Criterion times the 100-epoch fit itself.

use criterion::{criterion_group, criterion_main, Criterion};
use tapegrad::perf::figures::fit_memory_growth;

fn bench(c: &mut Criterion) {
    let (rss, values, nodes) = fit_memory_growth();
    println!("fit epoch 10 -> 100: RSS growth {rss:?} bytes, tape capacity +{values} values, +{nodes} nodes");
    let mut group = c.benchmark_group("memory");
    group.sample_size(10);
    group.bench_function("fit_2_50_1_100_epochs", |b| b.iter(fit_memory_growth));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
