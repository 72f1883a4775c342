//! What BatchNormalization and Dropout cost in a training step: the same 784-256-256-10 MLP
//! step with and without them (`tapegrad bench`'s row; `benches/peers/bn_dropout_torch.py`
//! measures the same two steps in PyTorch).

use super::figures::median;
use crate::layers;
use crate::nn::{Activation, BatchNormalization, Dense, Dropout, Sequential};
use crate::optim::Sgd;
use crate::tensor::Tensor;
use crate::train::{LossFn, Model};
use std::hint::black_box;
use std::time::Instant;

/// Widths of the MLP: inputs, two hidden layers, classes.
pub const BN_MLP: [usize; 4] = [784, 256, 256, 10];

/// Dropout rate of the figure's Dropout layers.
pub const BN_MLP_DROPOUT: f64 = 0.2;

/// The MLP (`Dense(relu)` hidden layers, softmax head, categorical cross-entropy, SGD 0.01) on a
/// random batch; `with_layers` puts `BatchNormalization` and `Dropout(0.2)` after each hidden
/// layer.
pub fn bn_dropout_mlp(batch: usize, seed: u64, with_layers: bool) -> (Model<f32>, Tensor<f32>, Tensor<f32>) {
    let [d, h1, h2, c] = BN_MLP;
    let layers = if with_layers {
        layers![
            Dense::new(h1).activation(Activation::Relu),
            BatchNormalization::new(),
            Dropout::new(BN_MLP_DROPOUT),
            Dense::new(h2).activation(Activation::Relu),
            BatchNormalization::new(),
            Dropout::new(BN_MLP_DROPOUT),
            Dense::new(c).activation(Activation::Softmax),
        ]
    } else {
        layers![
            Dense::new(h1).activation(Activation::Relu),
            Dense::new(h2).activation(Activation::Relu),
            Dense::new(c).activation(Activation::Softmax),
        ]
    };
    let net = Sequential::<f32>::with_seed(d, layers, seed);
    let mut model = net.compile(LossFn::named("categorical_crossentropy").expect("registry loss"), Sgd::new(0.01), &[]);
    model.set_seed(seed);
    let (x, y) = super::figures::random_batch(batch, d, c, seed);
    (model, x, y)
}

/// Median seconds of one training step `(with BatchNormalization and Dropout, without)` on a
/// batch of `batch`, `samples` steps each, the two interleaved (after one warm-up step each).
pub fn bn_dropout_step_seconds(batch: usize, samples: usize) -> (f64, f64) {
    let (mut with, x, y) = bn_dropout_mlp(batch, 3, true);
    let (mut without, _, _) = bn_dropout_mlp(batch, 3, false);
    with.train_on_batch(&x, &y).expect("valid batch");
    without.train_on_batch(&x, &y).expect("valid batch");
    let (mut a, mut b) = (Vec::with_capacity(samples), Vec::with_capacity(samples));
    for _ in 0..samples.max(1) {
        let t = Instant::now();
        black_box(with.train_on_batch(&x, &y).expect("valid batch"));
        a.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        black_box(without.train_on_batch(&x, &y).expect("valid batch"));
        b.push(t.elapsed().as_secs_f64());
    }
    (median(&mut a), median(&mut b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two models differ by the BatchNormalization and Dropout layers only, and a step of
    /// each is timed.
    #[test]
    fn both_steps_are_timed() {
        let (with, _, _) = bn_dropout_mlp(4, 1, true);
        let (without, _, _) = bn_dropout_mlp(4, 1, false);
        let classes = |m: &Model<f32>| m.net().layers().map(|l| l.class_name()).collect::<Vec<_>>();
        assert_eq!(classes(&with), ["Dense", "BatchNormalization", "Dropout", "Dense", "BatchNormalization", "Dropout", "Dense"]);
        assert_eq!(classes(&without), ["Dense", "Dense", "Dense"]);
        // Only the moving statistics and gamma/beta are added: 4 * 256 * 2 weights.
        assert_eq!(with.net().count_params() - without.net().count_params(), 4 * 256 * 2);
        let (a, b) = bn_dropout_step_seconds(4, 1);
        assert!(a > 0.0 && b > 0.0);
    }
}
