//! Random batches that suit each loss: targets of the right kind, predictions in the loss's domain
//! and away from its kinks. Used by `tapegrad gradcheck`, `tapegrad graph` and the tests.

use super::LossKind;
use crate::tensor::Tensor;
use rand::Rng;

/// A batch of `rows` samples with `classes` columns (1 for the binary and regression losses' own
/// width is not forced: every loss gets `classes` columns except class-id targets, which are ids).
/// Losses of several inputs get them packed along `y_pred`'s last axis (see
/// [`LossInfo::inputs`](super::LossInfo::inputs)); CTC gets 6 frames of at least 3 classes.
/// Returns `(y_true, y_pred)`.
pub fn sample_batch<R: Rng + ?Sized>(kind: LossKind, rows: usize, classes: usize, rng: &mut R) -> (Tensor<f64>, Tensor<f64>) {
    use LossKind::*;
    let n = rows * classes;
    let shape = [rows, classes];
    let uniform = |rng: &mut R, lo: f64, hi: f64, len: usize| -> Vec<f64> { (0..len).map(|_| rng.gen_range(lo..hi)).collect() };
    let labels: Vec<usize> = (0..rows).map(|_| rng.gen_range(0..classes)).collect();
    let one_hot = |labels: &[usize]| -> Vec<f64> {
        let mut t = vec![0.0; n];
        for (r, &c) in labels.iter().enumerate() {
            t[r * classes + c] = 1.0;
        }
        t
    };
    // Probability rows: positive and normalised.
    let probabilities = |rng: &mut R| -> Vec<f64> {
        let mut p = uniform(rng, 0.1, 1.0, n);
        for row in p.chunks_exact_mut(classes) {
            let s: f64 = row.iter().sum();
            row.iter_mut().for_each(|v| *v /= s);
        }
        p
    };
    let (t, p): (Vec<f64>, Vec<f64>) = match kind {
        MeanSquaredError | MeanAbsoluteError | MeanAbsolutePercentageError | MeanSquaredLogarithmicError | Huber | LogCosh => {
            let t = uniform(rng, 0.5, 2.0, n);
            // Offsets of 0.1 to 0.6 either way keep |p - t| off the kinks (and off huber's delta of 1).
            let p = t
                .iter()
                .map(|&v| v + if rng.gen::<bool>() { 1.0 } else { -1.0 } * rng.gen_range(0.1..0.6))
                .collect();
            (t, p)
        }
        Poisson => (uniform(rng, 0.0, 3.0, n), uniform(rng, 0.5, 2.0, n)),
        CosineSimilarity => (uniform(rng, -1.0, 1.0, n), uniform(rng, -1.0, 1.0, n)),
        Hinge | SquaredHinge => {
            let t = (0..n).map(|_| if rng.gen::<bool>() { 1.0 } else { -1.0 }).collect();
            (t, uniform(rng, -0.8, 0.8, n))
        }
        CategoricalHinge | CategoricalCrossentropy | CategoricalFocalCrossentropy | KlDivergence => {
            (one_hot(&labels), probabilities(rng))
        }
        BinaryCrossentropy | BinaryFocalCrossentropy | Dice | Tversky => {
            let t = (0..n).map(|_| if rng.gen::<bool>() { 1.0 } else { 0.0 }).collect();
            (t, uniform(rng, 0.05, 0.95, n))
        }
        SparseCategoricalCrossentropy | CategoricalGeneralizedCrossEntropy => {
            let t = labels.iter().map(|&c| c as f64).collect();
            return (Tensor::from_vec(t, &[rows]), Tensor::from_vec(probabilities(rng), &shape));
        }
        Nll | CrossEntropy => {
            let t = labels.iter().map(|&c| c as f64).collect();
            let mut p = probabilities(rng);
            if kind == Nll {
                p.iter_mut().for_each(|v| *v = v.ln());
            } else {
                p = uniform(rng, -2.0, 2.0, n);
            }
            return (Tensor::from_vec(t, &[rows]), Tensor::from_vec(p, &shape));
        }
        Circle => {
            let t: Vec<f64> = (0..rows).map(|_| rng.gen_range(0..2) as f64).collect();
            let mut p = uniform(rng, -1.0, 1.0, n);
            for row in p.chunks_exact_mut(classes) {
                let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-3);
                // Norm 0.8: a row's distance to itself (read when remove_diagonal is false) is off the kink at 0.
                row.iter_mut().for_each(|v| *v *= 0.8 / norm);
            }
            return (Tensor::from_vec(t, &[rows]), Tensor::from_vec(p, &shape));
        }
        Ctc | CtcLoss => {
            let (frames, c) = (6, classes.max(3));
            let mut t = vec![0.0; rows * 2];
            for r in 0..rows {
                for s in 0..rng.gen_range(1..=2) {
                    t[r * 2 + s] = rng.gen_range(1..c) as f64;
                }
            }
            let p = uniform(rng, -2.0, 2.0, rows * frames * c);
            let pshape = if kind == Ctc { [rows, frames, c] } else { [frames, rows, c] };
            return (Tensor::from_vec(t, &[rows, 2]), Tensor::from_vec(p, &pshape));
        }
        GaussianNll => {
            let t = uniform(rng, -1.0, 1.0, n);
            let mut p = Vec::with_capacity(2 * n);
            for row in 0..rows {
                p.extend(uniform(rng, -1.0, 1.0, classes));
                let _ = row;
                p.extend(uniform(rng, 0.2, 2.0, classes));
            }
            return (Tensor::from_vec(t, &shape), Tensor::from_vec(p, &[rows, 2 * classes]));
        }
        TripletMargin | CosineEmbedding | Contrastive | MarginRanking => {
            let parts = if kind == TripletMargin { 3 } else { 2 };
            let width = if kind == MarginRanking { 1 } else { classes };
            let t: Vec<f64> = (0..rows)
                .map(|_| match kind {
                    TripletMargin => 0.0,
                    Contrastive => rng.gen_range(0..2) as f64,
                    _ => if rng.gen::<bool>() { 1.0 } else { -1.0 },
                })
                .collect();
            let p = uniform(rng, -1.0, 1.0, rows * parts * width);
            return (Tensor::from_vec(t, &[rows]), Tensor::from_vec(p, &[rows, parts * width]));
        }
        // Positive rates serve both log_input settings.
        PoissonNll => ((0..n).map(|_| rng.gen_range(0..5) as f64).collect(), uniform(rng, 0.2, 1.5, n)),
        SoftMargin => ((0..n).map(|_| if rng.gen::<bool>() { 1.0 } else { -1.0 }).collect(), uniform(rng, -2.0, 2.0, n)),
        MultilabelSoftMargin => ((0..n).map(|_| if rng.gen::<bool>() { 1.0 } else { 0.0 }).collect(), uniform(rng, -2.0, 2.0, n)),
        SmoothL1 | Quantile => {
            let t = uniform(rng, 0.5, 2.0, n);
            let p = t.iter().map(|&v| v + if rng.gen::<bool>() { 1.0 } else { -1.0 } * rng.gen_range(0.1..0.6)).collect();
            (t, p)
        }
        Tweedie => (uniform(rng, 0.0, 3.0, n), uniform(rng, 0.5, 2.0, n)),
    };
    (Tensor::from_vec(t, &shape), Tensor::from_vec(p, &shape))
}
