//! The autodiff toolbox's figures: forward mode through the large MLP against its forward pass, a
//! Hessian-vector product against one backward pass, checkpointing a deep MLP, and the cost of a
//! Jacobian by forward and by reverse mode.

use super::figures::{median, sample_secs, BIG_MLP};
use crate::autodiff::{checkpoint, func, jacfwd, jacrev};
use crate::tape::{Tape, Var};
use crate::tensor::{Float, Tensor};
use rand::{rngs::StdRng, SeedableRng};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The large MLP's weights (784-1024-1024-10, f32) and an input batch.
struct BigMlp {
    weights: Vec<Tensor<f32>>,
    x: Tensor<f32>,
}

impl BigMlp {
    fn new(batch: usize) -> Self {
        let mut rng = StdRng::seed_from_u64(5);
        let weights = BIG_MLP.windows(2).map(|w| Tensor::uniform(&[w[0], w[1]], -0.05, 0.05, &mut rng)).collect();
        BigMlp { weights, x: Tensor::uniform(&[batch, BIG_MLP[0]], 0.0, 1.0, &mut rng) }
    }

    /// relu layers, softmax output.
    fn forward<'t>(&self, tape: &'t Tape<f32>, x: Var<'t, f32>) -> Var<'t, f32> {
        let n = self.weights.len();
        self.weights.iter().enumerate().fold(x, |h, (i, w)| {
            let z = h.matmul(tape.constant(w.clone()));
            if i + 1 < n {
                z.relu()
            } else {
                z.softmax(-1)
            }
        })
    }
}

/// `(JVP seconds, forward seconds)` through the 784-1024-1024-10 MLP at `batch` in f32: the JVP
/// carries one tangent of the input through the network (forward mode), the forward pass records
/// the same ops without tangents. Medians over `samples`.
pub fn jvp_vs_forward(batch: usize, samples: usize) -> (f64, f64) {
    let m = BigMlp::new(batch);
    let dir: Vec<f32> = (0..m.x.len()).map(|i| ((i % 7) as f32 - 3.0) * 0.1).collect();
    let mut tape = Tape::<f32>::new();
    let mut run = |jvp: bool| {
        tape.clear();
        if jvp {
            tape.forward_mode(1);
        }
        let x = tape.constant(m.x.clone());
        if jvp {
            x.set_tangent(0, &dir);
        }
        let y = m.forward(&tape, x);
        black_box(y.len());
    };
    run(true);
    run(false);
    let (mut j, mut f) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let t = Instant::now();
        run(true);
        j.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        run(false);
        f.push(t.elapsed().as_secs_f64());
    }
    (median(&mut j), median(&mut f))
}

/// The 2-50-1 tanh/sigmoid MLP loss of `benches/higher_order.rs` (batch 32, f64).
struct SmallLoss {
    x: Tensor<f64>,
    y: Tensor<f64>,
    params: [Tensor<f64>; 3],
}

impl SmallLoss {
    fn new() -> Self {
        let mut rng = StdRng::seed_from_u64(7);
        SmallLoss {
            x: Tensor::uniform(&[32, 2], -1.0, 1.0, &mut rng),
            y: Tensor::uniform(&[32, 1], 0.0, 1.0, &mut rng),
            params: [Tensor::uniform(&[2, 50], -0.5, 0.5, &mut rng), Tensor::zeros(&[50]), Tensor::uniform(&[50, 1], -0.5, 0.5, &mut rng)],
        }
    }
    fn loss<'t>(&self, tape: &'t Tape<f64>) -> (Var<'t, f64>, [Var<'t, f64>; 3]) {
        let (x, y) = (tape.constant(self.x.clone()), tape.constant(self.y.clone()));
        let [w1, b1, w2] = self.params.clone().map(|p| tape.var(p));
        let p = (x.matmul(w1) + b1).tanh().matmul(w2).sigmoid();
        ((p - y).square().mean(), [w1, b1, w2])
    }
}

/// Seconds per `(forward + backward, hvp by forward over reverse, hvp by reverse over reverse)`
/// on the 2-50-1 MLP's loss, medians of `samples` samples of about `sample_time` each.
pub fn hvp_vs_backward(samples: usize, sample_time: Duration) -> (f64, f64, f64) {
    let m = SmallLoss::new();
    let v: Vec<Tensor<f64>> = m.params.iter().map(|p| p.map(|_| 1.0)).collect();
    let mut tape = Tape::<f64>::new();
    let mut backward = || {
        tape.clear();
        let (l, p) = m.loss(&tape);
        black_box(l.backward()[p[0]][0]);
    };
    let b = median(&mut sample_secs(samples, sample_time, &mut backward));
    let mut tape = Tape::<f64>::new();
    let mut fwd_over_rev = || {
        tape.clear();
        tape.forward_mode(1);
        let (l, p) = m.loss(&tape);
        for (pv, t) in p.iter().zip(&v) {
            pv.set_tangent(0, t.data());
        }
        let g = l.grad(&p);
        black_box(g[0].tangent(0).data()[0]);
    };
    let f = median(&mut sample_secs(samples, sample_time, &mut fwd_over_rev));
    let mut tape = Tape::<f64>::new();
    let mut rev_over_rev = || {
        tape.clear();
        let (l, p) = m.loss(&tape);
        let g = l.grad(&p);
        let mut s = (g[0] * tape.constant(v[0].clone())).sum();
        for (gi, vi) in g.iter().zip(&v).skip(1) {
            s = s + (*gi * tape.constant(vi.clone())).sum();
        }
        black_box(s.backward()[p[0]][0]);
    };
    let r = median(&mut sample_secs(samples, sample_time, &mut rev_over_rev));
    (b, f, r)
}

/// One training step (forward + backward) of a deep tanh MLP, plain and with every `every` layers
/// checkpointed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CheckpointFigures {
    /// Layers, width and batch of the MLP.
    pub shape: (usize, usize, usize),
    /// Layers per checkpointed segment.
    pub every: usize,
    /// Median seconds per step, `(plain, checkpointed)`.
    pub step_seconds: (f64, f64),
    /// Peak tape memory in bytes, `(plain, checkpointed)`: the values the tape keeps for the
    /// reverse sweep at its largest (with checkpointing: the outer tape plus one segment replayed).
    pub peak_tape_bytes: (usize, usize),
    /// Whether the two steps gave bit-identical gradients.
    pub identical: bool,
}

/// [`CheckpointFigures`] for `layers` tanh layers of `width`, batch `batch`, f32.
pub fn checkpoint_figures(layers: usize, width: usize, batch: usize, every: usize, samples: usize) -> CheckpointFigures {
    let mut rng = StdRng::seed_from_u64(3);
    let scale = 1.0 / (width as f32).sqrt();
    let weights: Vec<Tensor<f32>> = (0..layers).map(|_| Tensor::uniform(&[width, width], -scale, scale, &mut rng)).collect();
    let x = Tensor::uniform(&[batch, width], -1.0, 1.0, &mut rng);
    fn block<'s>(v: &[Var<'s, f32>]) -> Var<'s, f32> {
        v[1..].iter().fold(v[0], |h, &w| h.matmul(w).tanh())
    }
    let step = |checked: bool| -> (f64, usize, Vec<f32>) {
        let tape = Tape::new();
        let t = Instant::now();
        let ws: Vec<Var<'_, f32>> = weights.iter().map(|w| tape.var(w.clone())).collect();
        let mut h = tape.constant(x.clone());
        for chunk in ws.chunks(every) {
            let mut inputs = vec![h];
            inputs.extend_from_slice(chunk);
            h = if checked { checkpoint(block, &inputs) } else { block(&inputs) };
        }
        let loss = h.square().mean();
        let kept = tape.values_len();
        let g = loss.backward();
        let first = g[ws[0]].to_vec();
        (t.elapsed().as_secs_f64(), kept, first)
    };
    // One segment replayed alone: what the reverse sweep holds on its scratch tape at a time.
    let segment_values = {
        let tape = Tape::new();
        let mut inputs = vec![tape.constant(x.clone())];
        inputs.extend(weights[..every].iter().map(|w| tape.var(w.clone())));
        let y = block(&inputs);
        let _ = (y * y).sum();
        tape.values_len()
    };
    let (mut plain, mut checked) = (Vec::new(), Vec::new());
    let (mut kept_plain, mut kept_checked, mut identical) = (0, 0, true);
    for _ in 0..samples.max(1) {
        let (a, ka, ga) = step(false);
        let (b, kb, gb) = step(true);
        plain.push(a);
        checked.push(b);
        kept_plain = ka;
        kept_checked = kb;
        identical &= ga == gb;
    }
    let bytes = std::mem::size_of::<f32>();
    CheckpointFigures {
        shape: (layers, width, batch),
        every,
        step_seconds: (median(&mut plain), median(&mut checked)),
        peak_tape_bytes: (kept_plain * bytes, (kept_checked + segment_values) * bytes),
        identical,
    }
}

/// Seconds for the full Jacobian of `f: R^n -> R^m` (`f(x) = tanh(W2 tanh(W1 x))` with a hidden
/// width of 64, f64) by forward mode (`jacfwd`) and by reverse mode (`jacrev`): `(n, m, fwd, rev)`
/// for each pair, medians of `samples`.
pub fn jacobian_costs(sizes: &[(usize, usize)], samples: usize) -> Vec<(usize, usize, f64, f64)> {
    sizes
        .iter()
        .map(|&(n, m)| {
            let mut rng = StdRng::seed_from_u64(9);
            let w1 = Tensor::<f64>::uniform(&[n, 64], -0.3, 0.3, &mut rng);
            let w2 = Tensor::<f64>::uniform(&[64, m], -0.3, 0.3, &mut rng);
            let x = [Tensor::uniform(&[1, n], -1.0, 1.0, &mut rng)];
            let f = func(move |v| jac_f(v, &w1, &w2));
            let time = |fwd: bool| {
                let mut s: Vec<f64> = (0..samples.max(1))
                    .map(|_| {
                        let t = Instant::now();
                        let j = if fwd { jacfwd(&f, &x) } else { jacrev(&f, &x) };
                        black_box(j[0].len());
                        t.elapsed().as_secs_f64()
                    })
                    .collect();
                median(&mut s)
            };
            (n, m, time(true), time(false))
        })
        .collect()
}

fn jac_f<'t, T: Float>(v: &[Var<'t, T>], w1: &Tensor<T>, w2: &Tensor<T>) -> Var<'t, T> {
    let tape = v[0].tape();
    v[0].matmul(tape.constant(w1.clone())).tanh().matmul(tape.constant(w2.clone())).tanh()
}
