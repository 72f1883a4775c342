//! One training step of the study's small MLPs at batch 32: through the tape
//! (`Model::train_on_batch`) and hand-derived in plain Rust (`HandMlp`). Their ratio is the figure.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tapegrad::perf::figures::{SmallMlp, StepPair};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("train_step");
    for (name, which) in [("2-50-1", SmallMlp::Circles2x50x1), ("20-25-1", SmallMlp::Regression20x25x1)] {
        let mut pair = StepPair::new(which, 32, 7);
        group.bench_function(format!("tape/{name}"), |b| b.iter(|| black_box(pair.tape_step())));
        group.bench_function(format!("hand/{name}"), |b| b.iter(|| black_box(pair.hand_step())));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
