//! Per-op overhead: a chain of 1-element elementwise ops, recorded and swept backward, on a reused tape.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tapegrad::Tape;

/// Records `n` elementwise ops on one-element values and runs backward; returns the gradient.
fn chain(tape: &mut Tape<f64>, n: usize) -> f64 {
    tape.clear();
    let x = tape.leaf(&[1], &[0.5], true);
    let mut y = x;
    for i in 0..n {
        y = match i % 4 {
            0 => y * 1.0001,
            1 => y + x,
            2 => y.tanh(),
            _ => y - 0.25,
        };
    }
    let g = y.backward();
    g[x][0]
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("op_overhead");
    for n in [100usize, 1000] {
        group.throughput(Throughput::Elements(n as u64));
        let mut tape = Tape::new();
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| b.iter(|| black_box(chain(&mut tape, n))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
