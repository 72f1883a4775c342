//! The measurements behind each figure of `tapegrad bench`, one function per figure. Each returns
//! medians over repeated samples; [`run_bench`](super::run_bench) puts them side by side.

use super::{memory, op_chain, Head, HandMlp};
use crate::nn::{Activation, Dense, Sequential};
use crate::optim::Sgd;
use crate::tape::Tape;
use crate::train::{FitConfig, LossFn, Model, Verbose};
use crate::tensor::{Float, Tensor};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The median of `v` (sorted in place); `NaN` for an empty slice.
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

/// How many calls of `f` fill about `target`: doubles the count until one batch takes that long.
fn calibrate(target: Duration, f: &mut impl FnMut()) -> usize {
    let mut iters = 1usize;
    loop {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        let took = t.elapsed();
        if took >= target || iters >= 1 << 30 {
            return iters;
        }
        let grow = if took.is_zero() { 16.0 } else { (target.as_secs_f64() / took.as_secs_f64()).min(16.0) };
        iters = ((iters as f64 * grow).ceil() as usize).max(iters * 2);
    }
}

/// Seconds per call of `f` for each of `samples` batches, every batch lasting about `sample_time`.
pub(crate) fn sample_secs(samples: usize, sample_time: Duration, mut f: impl FnMut()) -> Vec<f64> {
    let iters = calibrate(sample_time, &mut f);
    (0..samples)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_secs_f64() / iters as f64
        })
        .collect()
}

/// Nanoseconds per recorded op (forward + backward) of [`op_chain`] with `n` ops on a reused
/// tape, median over `samples` samples.
pub fn op_overhead_ns(n: usize, samples: usize, sample_time: Duration) -> f64 {
    let mut tape = Tape::<f64>::new();
    let mut secs = sample_secs(samples, sample_time, || {
        black_box(op_chain(&mut tape, black_box(n)));
    });
    median(&mut secs) * 1e9 / n as f64
}

/// Which of the study's small MLPs a step comparison uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmallMlp {
    /// `2 -> 50 (relu) -> 1 (sigmoid)`, binary cross-entropy: the circles study.
    Circles2x50x1,
    /// `20 -> 25 (relu) -> 1 (linear)`, mean squared error: the regression study.
    Regression20x25x1,
}

impl SmallMlp {
    /// `(inputs, hidden, head, loss name)`.
    fn config(self) -> (usize, usize, Head, &'static str) {
        match self {
            SmallMlp::Circles2x50x1 => (2, 50, Head::SigmoidBce, "binary_crossentropy"),
            SmallMlp::Regression20x25x1 => (20, 25, Head::LinearMse, "mean_squared_error"),
        }
    }
}

/// A tape model and its hand-derived twin, with equal weights, and one batch to train on.
pub struct StepPair {
    /// The compiled model (`Sequential` + loss + SGD momentum 0.9, lr 0.01).
    pub model: Model<f32>,
    /// The same network and update written out by hand.
    pub hand: HandMlp<f32>,
    /// The batch's inputs `[batch, inputs]`.
    pub x: Tensor<f32>,
    /// The batch's targets `[batch]`.
    pub y: Tensor<f32>,
}

impl StepPair {
    /// Both twins for `which` at `batch` rows, weights drawn from `seed`.
    pub fn new(which: SmallMlp, batch: usize, seed: u64) -> Self {
        let (inputs, hidden, head, loss) = which.config();
        let out_act = if head == Head::SigmoidBce { Activation::Sigmoid } else { Activation::Linear };
        let net = Sequential::<f32>::with_seed(
            inputs,
            vec![Dense::new(hidden).activation(Activation::Relu), Dense::new(1).activation(out_act)],
            seed,
        );
        let p = net.parameters();
        let params = [p[0].to_vec(), p[1].to_vec(), p[2].to_vec(), p[3].to_vec()];
        let hand = HandMlp::new(inputs, hidden, head, params, 0.01, 0.9);
        let model = net.compile(LossFn::named(loss).expect("registry loss"), Sgd::new(0.01).momentum(0.9), &[]);
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
        let x = Tensor::uniform(&[batch, inputs], -1.0, 1.0, &mut rng);
        let y: Vec<f32> = match head {
            Head::SigmoidBce => (0..batch).map(|_| if rng.gen::<bool>() { 1.0 } else { 0.0 }).collect(),
            Head::LinearMse => (0..batch).map(|_| rng.gen_range(-1.0..1.0)).collect(),
        };
        StepPair { model, hand, x, y: Tensor::from_vec(y, &[batch]) }
    }

    /// One step of the tape model ([`Model::train_on_batch`]); returns its loss.
    pub fn tape_step(&mut self) -> f64 {
        self.model.train_on_batch(&self.x, &self.y).expect("the benchmark batch is valid")
    }

    /// One step of the hand-derived twin; returns its loss.
    pub fn hand_step(&mut self) -> f64 {
        self.hand.step(self.x.data(), self.y.data()).to_f64()
    }
}

/// Seconds per step of the tape and of the hand-derived step, and their ratio, for `which` at
/// batch 32. Samples alternate between the two so that load on a shared machine hits both alike;
/// the ratio is the median of the per-sample ratios.
pub fn step_ratio(which: SmallMlp, samples: usize, sample_time: Duration) -> (f64, f64, f64) {
    let mut pair = StepPair::new(which, 32, 7);
    let tape_iters = calibrate(sample_time, &mut || {
        black_box(pair.tape_step());
    });
    let hand_iters = calibrate(sample_time, &mut || {
        black_box(pair.hand_step());
    });
    let (mut tape, mut hand, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..samples {
        let t = Instant::now();
        for _ in 0..tape_iters {
            black_box(pair.tape_step());
        }
        let ts = t.elapsed().as_secs_f64() / tape_iters as f64;
        let t = Instant::now();
        for _ in 0..hand_iters {
            black_box(pair.hand_step());
        }
        let hs = t.elapsed().as_secs_f64() / hand_iters as f64;
        tape.push(ts);
        hand.push(hs);
        ratio.push(ts / hs);
    }
    (median(&mut tape), median(&mut hand), median(&mut ratio))
}

/// Layer widths of the large MLP figure.
pub const BIG_MLP: [usize; 4] = [784, 1024, 1024, 10];

/// Floating-point operations of one training step of an MLP with `widths` at `batch` rows,
/// counting only the matrix products: forward `x W` per layer, backward `dW = hᵀ g` per layer and
/// `dh = g Wᵀ` for every layer but the first (the input needs no gradient).
pub fn mlp_step_flops(widths: &[usize], batch: usize) -> f64 {
    let mut flops = 0.0;
    for (i, w) in widths.windows(2).enumerate() {
        let macs = (batch * w[0] * w[1]) as f64;
        flops += 2.0 * macs * if i == 0 { 2.0 } else { 3.0 };
    }
    flops
}

/// The large MLP (`784-1024-1024-10`, relu, softmax, categorical cross-entropy, plain SGD) and a
/// batch of random inputs with one-hot targets.
pub fn big_mlp(batch: usize, seed: u64) -> (Model<f32>, Tensor<f32>, Tensor<f32>) {
    let [d, h1, h2, c] = BIG_MLP;
    let net = Sequential::<f32>::with_seed(
        d,
        vec![
            Dense::new(h1).activation(Activation::Relu),
            Dense::new(h2).activation(Activation::Relu),
            Dense::new(c).activation(Activation::Softmax),
        ],
        seed,
    );
    let model = net.compile(LossFn::named("categorical_crossentropy").expect("registry loss"), Sgd::new(0.01), &[]);
    let (x, y) = random_batch(batch, d, c, seed);
    (model, x, y)
}

/// A batch of `batch` rows of `d` uniform inputs in [0, 1) and one-hot targets of `c` classes,
/// drawn from `seed`.
pub(crate) fn random_batch(batch: usize, d: usize, c: usize, seed: u64) -> (Tensor<f32>, Tensor<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = Tensor::uniform(&[batch, d], 0.0, 1.0, &mut rng);
    let mut y = vec![0.0f32; batch * c];
    for row in y.chunks_exact_mut(c) {
        row[rng.gen_range(0..c)] = 1.0;
    }
    (x, Tensor::from_vec(y, &[batch, c]))
}

/// The matrix products of one step of an MLP, run straight through matrixmultiply's `sgemm` on
/// preallocated buffers with the strides the tape's rules use.
pub struct RawGemms {
    widths: Vec<usize>,
    batch: usize,
    /// Activations per layer boundary `[batch, widths[i]]`.
    acts: Vec<Vec<f32>>,
    /// Weights per layer `[widths[i], widths[i + 1]]` and their gradients.
    weights: Vec<Vec<f32>>,
    wgrads: Vec<Vec<f32>>,
    /// Gradients of the activations.
    dacts: Vec<Vec<f32>>,
}

impl RawGemms {
    /// Buffers for `widths` at `batch` rows, filled with small values.
    pub fn new(widths: &[usize], batch: usize) -> Self {
        let fill = |n: usize| (0..n).map(|i| ((i % 17) as f32 - 8.0) * 0.01).collect::<Vec<f32>>();
        let acts = widths.iter().map(|&w| fill(batch * w)).collect();
        let dacts = widths.iter().map(|&w| fill(batch * w)).collect();
        let weights = widths.windows(2).map(|w| fill(w[0] * w[1])).collect();
        let wgrads = widths.windows(2).map(|w| vec![0.0; w[0] * w[1]]).collect();
        RawGemms { widths: widths.to_vec(), batch, acts, weights, wgrads, dacts }
    }

    /// Every product of one step, in the order a training step runs them.
    pub fn run(&mut self) {
        let b = self.batch;
        let layers = self.widths.len() - 1;
        for l in 0..layers {
            let (k, n) = (self.widths[l], self.widths[l + 1]);
            let (lo, hi) = self.acts.split_at_mut(l + 1);
            sgemm(b, k, n, &lo[l], (k, 1), &self.weights[l], (n, 1), 0.0, &mut hi[0]);
        }
        for l in (0..layers).rev() {
            let (k, n) = (self.widths[l], self.widths[l + 1]);
            // dW = hᵀ g, accumulated; dh = g Wᵀ for every layer but the first.
            sgemm(k, b, n, &self.acts[l], (1, k), &self.dacts[l + 1], (n, 1), 1.0, &mut self.wgrads[l]);
            if l > 0 {
                let (lo, hi) = self.dacts.split_at_mut(l + 1);
                sgemm(b, n, k, &hi[0], (n, 1), &self.weights[l], (1, n), 1.0, &mut lo[l]);
            }
        }
    }
}

/// `C <- A B + beta C` through matrixmultiply, with the bounds checked once.
#[allow(clippy::too_many_arguments)]
fn sgemm(m: usize, k: usize, n: usize, a: &[f32], (rsa, csa): (usize, usize), b: &[f32], (rsb, csb): (usize, usize), beta: f32, c: &mut [f32]) {
    assert!(m > 0 && k > 0 && n > 0 && c.len() == m * n);
    assert!(a.len() > (m - 1) * rsa + (k - 1) * csa && b.len() > (k - 1) * rsb + (n - 1) * csb);
    // SAFETY: the asserts above bound every element read and written.
    unsafe {
        matrixmultiply::sgemm(
            m, k, n, 1.0,
            a.as_ptr(), rsa as isize, csa as isize,
            b.as_ptr(), rsb as isize, csb as isize,
            beta, c.as_mut_ptr(), n as isize, 1,
        );
    }
}

/// GFLOP/s of the large MLP's training step through the tape and of the same products through raw
/// `sgemm`, both counted with [`mlp_step_flops`], at `batch` rows; samples alternate between the
/// two. Returns `(mlp, sgemm)`.
pub fn mlp_vs_sgemm(batch: usize, samples: usize) -> (f64, f64) {
    let (mut model, x, y) = big_mlp(batch, 3);
    let mut raw = RawGemms::new(&BIG_MLP, batch);
    let flops = mlp_step_flops(&BIG_MLP, batch);
    // One warm-up call each: first-touch of the buffers and the tape's growth.
    model.train_on_batch(&x, &y).expect("valid batch");
    raw.run();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let t = Instant::now();
        black_box(model.train_on_batch(&x, &y).expect("valid batch"));
        ours.push(flops / t.elapsed().as_secs_f64() * 1e-9);
        let t = Instant::now();
        raw.run();
        black_box(&raw.wgrads);
        theirs.push(flops / t.elapsed().as_secs_f64() * 1e-9);
    }
    (median(&mut ours), median(&mut theirs))
}

/// Memory at epoch 10 and at epoch 100 of a `fit` of the 2-50-1 MLP on 500 rows (batch 32,
/// validation every epoch): `(rss growth in bytes, tape value-capacity growth in elements,
/// tape node-capacity growth)`. The RSS growth is `None` without `/proc`.
pub fn fit_memory_growth() -> (Option<i64>, i64, i64) {
    let mut rng = StdRng::seed_from_u64(11);
    let x = Tensor::<f32>::uniform(&[500, 2], -1.0, 1.0, &mut rng);
    let y = Tensor::from_vec(
        x.data().chunks_exact(2).map(|r| if r[0] * r[0] + r[1] * r[1] < 0.5 { 1.0 } else { 0.0 }).collect(),
        &[500],
    );
    let net = Sequential::<f32>::with_seed(
        2,
        vec![Dense::new(50).activation(Activation::Relu), Dense::new(1).activation(Activation::Sigmoid)],
        5,
    );
    let mut model = net.compile(LossFn::named("binary_crossentropy").expect("registry loss"), Sgd::new(0.01).momentum(0.9), &[]);
    let cfg = FitConfig::new(10).batch_size(32).seed(1).verbose(Verbose::Silent).validation_data(&x, &y);
    model.fit(&x, &y, cfg).expect("fit");
    let (nodes10, values10) = model.tape().capacity();
    let rss10 = memory().map(|m| m.0);
    model.fit(&x, &y, FitConfig { epochs: 90, seed: None, ..cfg }).expect("fit");
    let (nodes100, values100) = model.tape().capacity();
    let rss100 = memory().map(|m| m.0);
    let rss = rss10.zip(rss100).map(|(a, b)| b as i64 - a as i64);
    (rss, values100 as i64 - values10 as i64, nodes100 as i64 - nodes10 as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn flops_of_a_two_layer_mlp() {
        // forward 2*4*(3*5 + 5*2) = 200; dW: 200; dh of layer 2 only: 2*4*5*2 = 80.
        assert_eq!(mlp_step_flops(&[3, 5, 2], 4), 480.0);
    }

    /// The tape's step and the hand-derived one do the same work: same losses, same weights.
    #[test]
    fn tape_step_matches_hand_step() {
        for which in [SmallMlp::Circles2x50x1, SmallMlp::Regression20x25x1] {
            let mut pair = StepPair::new(which, 32, 3);
            for step in 0..5 {
                let (a, b) = (pair.tape_step(), pair.hand_step());
                assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{which:?} step {step}: loss {a} vs {b}");
            }
            for (slot, (p, q)) in pair.model.net().parameters().iter().zip(&pair.hand.params).enumerate() {
                for (i, (u, v)) in p.data().iter().zip(q).enumerate() {
                    assert!((u - v).abs() <= 1e-5, "{which:?} param {slot}[{i}]: {u} vs {v}");
                }
            }
        }
    }

    /// The raw products fill the same shapes as the step counted by `mlp_step_flops`.
    #[test]
    fn raw_gemms_run_on_small_shapes() {
        let mut raw = RawGemms::new(&[3, 5, 2], 4);
        raw.run();
        assert!(raw.wgrads.iter().all(|g| g.iter().any(|v| *v != 0.0)));
    }

    #[test]
    fn fit_keeps_the_tape_flat() {
        let (_, values, nodes) = fit_memory_growth();
        assert_eq!((values, nodes), (0, 0));
    }
}
