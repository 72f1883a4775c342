//! Per-op overhead: a chain of 1-element elementwise ops, recorded and swept backward, on a reused
//! tape. Divide the time by the chain length for nanoseconds per op (forward + backward).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tapegrad::perf::op_chain;
use tapegrad::Tape;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("op_overhead");
    for n in [100usize, 1000] {
        group.throughput(Throughput::Elements(n as u64));
        let mut tape = Tape::new();
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| b.iter(|| black_box(op_chain(&mut tape, n))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
