//! First-order `backward` against a Hessian-vector product through `Var::grad` (the gradient
//! recorded as ops, then swept again), on the loss of a 2-50-1 MLP at batch 32. First-order speed
//! must not pay for the higher-order path: the two are separate sweeps.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rand::{rngs::StdRng, SeedableRng};
use tapegrad::{Tape, Tensor, Var};

struct Mlp {
    x: Tensor<f64>,
    y: Tensor<f64>,
    w1: Tensor<f64>,
    b1: Tensor<f64>,
    w2: Tensor<f64>,
}

fn mlp() -> Mlp {
    let mut rng = StdRng::seed_from_u64(7);
    Mlp {
        x: Tensor::uniform(&[32, 2], -1.0, 1.0, &mut rng),
        y: Tensor::uniform(&[32, 1], 0.0, 1.0, &mut rng),
        w1: Tensor::uniform(&[2, 50], -0.5, 0.5, &mut rng),
        b1: Tensor::zeros(&[50]),
        w2: Tensor::uniform(&[50, 1], -0.5, 0.5, &mut rng),
    }
}

/// Records the MLP's loss; returns it and the three parameters.
fn loss<'t>(tape: &'t Tape<f64>, m: &Mlp) -> (Var<'t, f64>, [Var<'t, f64>; 3]) {
    let (x, y) = (tape.constant(m.x.clone()), tape.constant(m.y.clone()));
    let (w1, b1, w2) = (tape.var(m.w1.clone()), tape.var(m.b1.clone()), tape.var(m.w2.clone()));
    let p = (x.matmul(w1) + b1).tanh().matmul(w2).sigmoid();
    ((p - y).square().mean(), [w1, b1, w2])
}

fn bench(c: &mut Criterion) {
    let m = mlp();
    let mut group = c.benchmark_group("higher_order");
    let mut tape = Tape::<f64>::new();
    group.bench_function("backward", |b| {
        b.iter(|| {
            tape.clear();
            let (l, [w1, _, _]) = loss(&tape, &m);
            let g = l.backward();
            black_box(g[w1][0])
        })
    });
    let mut tape = Tape::<f64>::new();
    group.bench_function("hessian_vector_product", |b| {
        b.iter(|| {
            tape.clear();
            let (l, params) = loss(&tape, &m);
            let gw = l.grad(&params);
            let v = tape.constant(Tensor::ones(&[2, 50]));
            let hv = (gw[0] * v).sum().backward();
            black_box(hv[params[0]][0])
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
