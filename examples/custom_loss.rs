//! Writing a new loss, end to end: the quantile (pinball) loss as an expression of `Var` ops,
//! checked against finite differences, then used to fit a line to the 90th percentile of noisy
//! data with a hand-written training loop on the tape.
//!
//! Run with `cargo run --release --example custom_loss`.

use rand::rngs::StdRng;
use rand::SeedableRng;
use tapegrad::losses::{reduce, Reduction};
use tapegrad::{gradcheck, Float, Tape, Tensor, Var};

/// Pinball loss per sample for quantile `q`: with `e = t - p`, `max(q e, (q - 1) e)`, averaged
/// over the last axis. Under-predictions cost `q` per unit, over-predictions `1 - q`, so the
/// minimiser is the `q`-quantile of the targets.
fn pinball<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, q: f64) -> Var<'t, T> {
    let e = y_true - y_pred;
    (e * T::from_f64(q)).maximum(e * T::from_f64(q - 1.0)).mean_axis(-1, false)
}

fn main() {
    // 1. Check the gradient the tape derives against central differences (away from e = 0).
    let t = Tensor::from_vec(vec![1.0, -0.5, 2.0, 0.3], &[4, 1]);
    let p = Tensor::from_vec(vec![0.2, 0.4, 2.6, -0.1], &[4, 1]);
    let report = gradcheck(|v| pinball(v[0], v[1], 0.9).mean(), &[t, p]).expect("pinball gradient");
    println!("gradcheck: {} elements, max error {:.2e}", report.elements, report.max_abs_error);

    // 2. Synthetic data: y = 2x + 1 with noise whose spread grows with x.
    let n = 512;
    let mut rng = StdRng::seed_from_u64(7);
    let x = Tensor::uniform(&[n, 1], 0.0, 1.0, &mut rng);
    let noise = Tensor::normal(&[n, 1], 0.0, 1.0, &mut rng);
    let y: Vec<f64> = x.data().iter().zip(noise.data()).map(|(&x, &z)| 2.0 * x + 1.0 + (0.1 + 0.5 * x) * z).collect();
    let y = Tensor::from_vec(y, &[n, 1]);

    for q in [0.5, 0.9] {
        // 3. Train y_hat = w x + b. The parameters live outside the tape; each step records a
        //    fresh graph, reads the gradients and updates the parameters by hand (plain SGD).
        let (mut w, mut b) = (0.0f64, 0.0f64);
        let mut tape = Tape::<f64>::new();
        let lr = 0.5;
        let steps = 3000;
        let mut last = 0.0;
        for step in 0..steps {
            tape.clear(); // drops the previous graph, keeps the memory
            let wv = tape.leaf(&[1, 1], &[w], true);
            let bv = tape.leaf(&[1], &[b], true);
            let xv = tape.constant(x.clone());
            let yv = tape.constant(y.clone());
            let pred = xv.matmul(wv) + bv;
            let loss = reduce(pinball(yv, pred, q), Reduction::SumOverBatchSize);
            let grads = loss.backward();
            // A slowly decaying step: the pinball loss has kinks, so SGD needs the decay to settle.
            let step_lr = lr / (1.0 + step as f64 / 500.0);
            w -= step_lr * grads[wv][0];
            b -= step_lr * grads[bv][0];
            last = loss.item();
        }
        let below = x.data().iter().zip(y.data()).filter(|(&x, &y)| y <= w * x + b).count();
        // The true q-quantile line: 2x + 1 + z_q (0.1 + 0.5x), z_0.5 = 0, z_0.9 = 1.2816.
        let z = if q == 0.5 { 0.0 } else { 1.2816 };
        println!(
            "q = {q}: y = {w:.3} x + {b:.3} (true quantile line {:.3} x + {:.3}), loss {last:.4}, \
             {:.1}% of points on or below it",
            2.0 + 0.5 * z,
            1.0 + 0.1 * z,
            100.0 * below as f64 / n as f64
        );
    }
}
