//! CTC through `compile`/`fit`: a model whose samples are sequences of class scores `(T, C)`
//! (a channels-last `Conv1D`) trains on label rows `(S,)` with Keras' `ctc`.

use tapegrad::losses::Loss;
use tapegrad::nn::{Conv1D, Dense, PaddingMode, Sequential};
use tapegrad::optim::Adam;
use tapegrad::tape::Tape;
use tapegrad::train::{FitConfig, LossFn, Verbose};
use tapegrad::Tensor;

const T: usize = 6;
const C: usize = 4; // blank 0 and labels 1..3

/// Every sample's frames show its two labels (one-hot, channel = label), each for three frames;
/// the targets are those two labels.
fn data(n: usize) -> (Tensor<f64>, Tensor<f64>) {
    let mut x = vec![0.0; n * T * C];
    let mut y = Vec::with_capacity(n * 2);
    for i in 0..n {
        let (a, b) = (1 + i % 3, 1 + (i / 3 + 1 + i % 3) % 3);
        for t in 0..T {
            let label = if t < T / 2 { a } else { b };
            x[(i * T + t) * C + label] = 1.0;
        }
        y.extend([a as f64, b as f64]);
    }
    (Tensor::from_vec(x, &[n, T, C]), Tensor::from_vec(y, &[n, 2]))
}

fn model() -> tapegrad::train::Model<f64> {
    let net = Sequential::<f64>::with_input_shape(&[T, C], vec![Conv1D::new(C, [3]).padding(PaddingMode::Same)], 4);
    net.compile(LossFn::named("ctc").unwrap(), Adam::new(0.05), &[])
}

#[test]
fn ctc_trains_through_fit_and_evaluate_equals_the_loss_on_predictions() {
    let (x, y) = data(18);
    let mut m = model();
    // Before training: evaluate's loss is the registry's ctc on predict's (N, T, C) output.
    let logs = m.evaluate(&x, &y, 18).unwrap();
    let p = m.predict(&x).unwrap();
    assert_eq!(p.shape(), &[18, T, C]);
    let tape = Tape::<f64>::new();
    let direct = Loss::new("ctc").unwrap().call(tape.constant(y.clone()), tape.constant(p)).item();
    assert!((logs["loss"] - direct).abs() <= 1e-12 * direct.abs(), "{} vs {direct}", logs["loss"]);
    let h = m.fit(&x, &y, FitConfig::new(60).batch_size(6).seed(1).verbose(Verbose::Silent)).unwrap();
    let (first, last) = (h.loss()[0], *h.loss().last().unwrap());
    assert!(last < 0.2 * first, "ctc loss went from {first} to {last}");
}

#[test]
fn ctc_refuses_a_flat_output_and_labels_outside_the_classes() {
    let (x, y) = data(6);
    // One score per class for the whole sample: no time axis for the alignment.
    let mut flat = Sequential::<f64>::with_seed(T * C, vec![Dense::new(C)], 0).compile(LossFn::named("ctc").unwrap(), Adam::new(0.05), &[]);
    let xf = Tensor::from_vec(x.data().to_vec(), &[6, T * C]);
    let e = flat.fit(&xf, &y, FitConfig::new(1).verbose(Verbose::Silent)).unwrap_err().to_string();
    assert!(e.contains("ctc") && e.contains("needs (N, T, C) predictions") && e.contains("[4]"), "{e}");
    let mut m = model();
    let bad = Tensor::from_vec(y.data().iter().map(|v| v + 2.0).collect(), &[6, 2]);
    let e = m.fit(&x, &bad, FitConfig::new(1).verbose(Verbose::Silent)).unwrap_err().to_string();
    assert!(e.contains("ctc") && e.contains("not a label id in 0..4"), "{e}");
}
