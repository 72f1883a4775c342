//! Random batches that suit each loss: targets of the right kind, predictions in the loss's domain
//! and away from its kinks. Used by `tapegrad gradcheck`, `tapegrad graph` and the tests.

use super::LossKind;
use crate::tensor::Tensor;
use rand::Rng;

/// A batch of `rows` samples with `classes` columns (1 for the binary and regression losses' own
/// width is not forced: every loss gets `classes` columns except sparse targets, which are ids).
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
        SparseCategoricalCrossentropy => {
            let t = labels.iter().map(|&c| c as f64).collect();
            return (Tensor::from_vec(t, &[rows]), Tensor::from_vec(probabilities(rng), &shape));
        }
    };
    (Tensor::from_vec(t, &shape), Tensor::from_vec(p, &shape))
}
