//! The main job's regularisation group: an MLP large enough to over-fit a small training split of
//! `make_circles`, trained plain, with an L2 weight penalty, with dropout, with batch
//! normalisation, and with early stopping that restores the best weights — the tools of the
//! chapters around the tutorial, side by side on the tutorial's own kind of data.

use crate::data::{make_circles, CirclesParams};
use crate::metrics::Metric;
use crate::nn::{Activation, BatchNormalization, Dense, Dropout, Layer, Regularizer, Sequential};
use crate::optim::Adam;
use crate::report::{CompareSection, Curves, LossRuns};
use crate::train::callbacks::EarlyStopping;
use crate::train::{FitConfig, LossFn, Verbose};
use crate::Tensor;
use std::cell::RefCell;
use std::fmt::Write as _;
use std::time::Instant;

/// Points drawn: the first [`N_TRAIN`] train, the next [`N_VAL`] validate (the curves and early
/// stopping's monitor), the rest test.
pub const N_SAMPLES: usize = 600;
/// Training rows: few enough that the model below memorises them.
pub const N_TRAIN: usize = 40;
/// Validation rows.
pub const N_VAL: usize = 240;
/// Width of the two hidden layers.
pub const HIDDEN: usize = 128;
/// Epochs of every variant (early stopping may end sooner).
pub const EPOCHS: usize = 400;

/// One way of training the over-fitting model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// No regularisation.
    Plain,
    /// `kernel_regularizer=L2(1e-3)` on the hidden layers.
    L2,
    /// `Dropout(0.3)` after each hidden layer.
    Dropout,
    /// `BatchNormalization()` between each hidden layer's product and its relu.
    BatchNorm,
    /// `EarlyStopping(monitor="val_loss", patience=50, restore_best_weights=True)`.
    EarlyStopping,
}

/// Every variant, in the report's order.
pub const VARIANTS: [Variant; 5] = [Variant::Plain, Variant::L2, Variant::Dropout, Variant::BatchNorm, Variant::EarlyStopping];

impl Variant {
    /// File-name-safe name.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Plain => "plain",
            Variant::L2 => "l2",
            Variant::Dropout => "dropout",
            Variant::BatchNorm => "batchnorm",
            Variant::EarlyStopping => "early_stopping",
        }
    }

    /// What the variant adds, as a Keras user would write it.
    pub fn label(self) -> &'static str {
        match self {
            Variant::Plain => "plain",
            Variant::L2 => "L2(1e-3) on hidden kernels",
            Variant::Dropout => "Dropout(0.3) after hidden layers",
            Variant::BatchNorm => "BatchNormalization before hidden relus",
            Variant::EarlyStopping => "EarlyStopping(val_loss, patience 50, restore best)",
        }
    }

    /// The model: `2 -> 128 (relu) -> 128 (relu) -> 1 (sigmoid)` with the variant's layers.
    pub fn model(self, seed: u64) -> Sequential<f32> {
        let mut layers: Vec<Box<dyn Layer<f32>>> = Vec::new();
        for _ in 0..2 {
            let mut dense = Dense::new(HIDDEN).activation(Activation::Relu);
            match self {
                Variant::L2 => dense = dense.kernel_regularizer(Regularizer::l2(1e-3).expect("a positive factor")),
                // Dense (linear) -> BatchNormalization -> relu, as the batch-normalisation paper places it.
                Variant::BatchNorm => dense = dense.activation(Activation::Linear),
                _ => {}
            }
            layers.push(dense.into());
            match self {
                Variant::Dropout => layers.push(Dropout::new(0.3).into()),
                Variant::BatchNorm => {
                    layers.push(BatchNormalization::new().into());
                    layers.push(Activation::Relu.into());
                }
                _ => {}
            }
        }
        layers.push(Dense::new(1).activation(Activation::Sigmoid).into());
        Sequential::with_seed(2, layers, seed)
    }
}

/// The group's data: `make_circles(600, noise=0.25, factor=0.5, random_state=3)` (shuffled by
/// scikit-learn's rule) cut into training, validation and test rows.
pub struct SmallCircles {
    /// Training inputs and targets.
    pub train: (Tensor<f32>, Tensor<f32>),
    /// Validation inputs and targets.
    pub val: (Tensor<f32>, Tensor<f32>),
    /// Test inputs and targets.
    pub test: (Tensor<f32>, Tensor<f32>),
}

impl SmallCircles {
    /// Draws the points.
    pub fn generate() -> Self {
        let d = make_circles(&CirclesParams { n_samples: N_SAMPLES, shuffle: true, noise: Some(0.25), factor: 0.5, random_state: Some(3) });
        let (x, y) = (d.x.cast::<f32>(), d.y.cast::<f32>());
        let part = |a: usize, b: usize| (x.slice_rows(a, b), y.slice_rows(a, b));
        SmallCircles { train: part(0, N_TRAIN), val: part(N_TRAIN, N_TRAIN + N_VAL), test: part(N_TRAIN + N_VAL, N_SAMPLES) }
    }
}

/// One trained variant: its final accuracies, the epochs it ran and its curves.
#[derive(Clone, Debug)]
pub struct VariantRun {
    /// Accuracy on the training rows after training (inference mode).
    pub train: f64,
    /// Accuracy on the test rows.
    pub test: f64,
    /// Epochs run.
    pub epochs: usize,
    /// With early stopping, the epoch (from 1) whose weights were restored.
    pub best_epoch: Option<usize>,
    /// Learning curves (validation in the `*_test` fields).
    pub curves: Curves,
}

/// Trains `variant` with `seed` (weights, shuffles, dropout masks): Adam at 0.01, batch 32,
/// binary cross-entropy, accuracy tracked.
///
/// # Errors
/// A training failure, as text naming the variant.
pub fn run_variant(variant: Variant, data: &SmallCircles, seed: u64) -> Result<VariantRun, String> {
    let loss = LossFn::named("binary_crossentropy").map_err(|e| e.to_string())?;
    let mut model = variant.model(seed).compile(loss, Adam::new(0.01), &[Metric::Accuracy]);
    let stop = RefCell::new(EarlyStopping::new("val_loss").patience(50).restore_best_weights(true));
    let config = FitConfig::new(EPOCHS).batch_size(32).seed(seed).verbose(Verbose::Silent).validation_data(&data.val.0, &data.val.1);
    let fail = |e: crate::train::TrainError| format!("{}: {e}", variant.name());
    let history = if variant == Variant::EarlyStopping {
        model.fit(&data.train.0, &data.train.1, config.callbacks(&[&stop])).map_err(fail)?
    } else {
        model.fit(&data.train.0, &data.train.1, config).map_err(fail)?
    };
    let mut accuracy = |x: &Tensor<f32>, y: &Tensor<f32>| -> Result<f64, String> {
        let logs = model.evaluate(x, y, 256).map_err(fail)?;
        Ok(logs.get("accuracy").copied().unwrap_or(f64::NAN))
    };
    let (train, test) = (accuracy(&data.train.0, &data.train.1)?, accuracy(&data.test.0, &data.test.1)?);
    let best_epoch = if variant == Variant::EarlyStopping { stop.borrow().best_epoch().map(|e| e + 1) } else { None };
    Ok(VariantRun { train, test, epochs: history.epochs(), best_epoch, curves: super::curves(&history, "accuracy") })
}

/// Runs every variant over `repeats` seeds (from `seed`) and returns the report section: the
/// table of test accuracies, the curves of each variant, and one figure-ready series per variant
/// (validation loss by epoch, first seed) in [`RegularizationGroup::val_loss`].
///
/// # Errors
/// A training failure.
pub fn run_group(repeats: usize, seed: u64) -> Result<RegularizationGroup, String> {
    let data = SmallCircles::generate();
    let mut losses = Vec::new();
    let mut val_loss = Vec::new();
    let mut epochs_run = Vec::new();
    let timed = |v: Variant| {
        let start = Instant::now();
        let runs = (0..repeats as u64).map(|r| run_variant(v, &data, seed + r)).collect::<Result<Vec<_>, String>>();
        runs.map(|r| (r, start.elapsed().as_secs_f64()))
    };
    // The variants are independent: one thread each, sharing the cores (the seconds column is
    // each variant's wall time while the others run too).
    let results: Vec<Result<(Vec<VariantRun>, f64), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = VARIANTS.map(|v| s.spawn(move || timed(v))).into_iter().collect();
        handles.into_iter().map(|h| h.join().expect("a variant's thread panicked")).collect()
    });
    for (v, result) in VARIANTS.into_iter().zip(results) {
        let (runs, seconds) = result?;
        let first = &runs[0];
        val_loss.push((v.name().to_string(), first.curves.loss_test.iter().enumerate().map(|(e, &l)| ((e + 1) as f64, l)).collect()));
        let per_seed = runs.iter().map(|r| match r.best_epoch {
            Some(b) => format!("{} (restored epoch {b})", r.epochs),
            None => r.epochs.to_string(),
        });
        epochs_run.push((v, per_seed.collect::<Vec<_>>()));
        losses.push(LossRuns {
            name: v.name().to_string(),
            label: v.label().to_string(),
            train: runs.iter().map(|r| r.train).collect(),
            test: runs.iter().map(|r| r.test).collect(),
            curves: first.curves.clone(),
            seconds,
            notes: Vec::new(),
        });
    }
    let mut extra = String::from(
        "\nEpochs run per seed (early stopping ends 50 epochs after its best validation loss and restores that epoch's \
         weights; where the best is one of the first epochs, the restored model is barely trained):\n\n",
    );
    for (v, e) in &epochs_run {
        let _ = writeln!(extra, "- `{}`: {}", v.name(), e.join(", "));
    }
    let section = CompareSection {
        name: "regularization".to_string(),
        title: format!("Regularisation on a small make_circles split ({N_TRAIN} training rows)"),
        intro: vec![format!(
            "make_circles({N_SAMPLES}, noise=0.25, factor=0.5, random_state=3): the first {N_TRAIN} points train, the next {N_VAL} \
             validate (the curves; early stopping's monitor), the last {} test. Model 2 -> {HIDDEN} (relu) -> {HIDDEN} (relu) -> 1 \
             (sigmoid), Adam 0.01, batch 32, binary cross-entropy, {EPOCHS} epochs, {repeats} seeds (weights, shuffles, dropout \
             masks). Plain training all but memorises the {N_TRAIN} rows (the train column) while its validation loss climbs; \
             each variant adds one tool. The curves' \"test\" lines are the validation rows.",
            N_SAMPLES - N_TRAIN - N_VAL
        )],
        metric: "accuracy".to_string(),
        losses,
        extra,
    };
    Ok(RegularizationGroup { section, val_loss })
}

/// The group's results: the report section and the validation-loss curves for the one figure.
pub struct RegularizationGroup {
    /// Table, per-variant curves and box plot.
    pub section: CompareSection,
    /// `(variant, [(epoch, validation loss)])` of the first seed, every variant.
    pub val_loss: Vec<(String, Vec<(f64, f64)>)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_has_the_stated_sizes_and_both_classes_in_training() {
        let d = SmallCircles::generate();
        assert_eq!(d.train.0.shape(), &[N_TRAIN, 2]);
        assert_eq!(d.val.0.shape(), &[N_VAL, 2]);
        assert_eq!(d.test.0.shape(), &[N_SAMPLES - N_TRAIN - N_VAL, 2]);
        let ones = d.train.1.data().iter().filter(|&&v| v == 1.0).count();
        assert!(ones > 10 && ones < N_TRAIN - 10, "{ones} of {N_TRAIN} training rows are class 1");
    }

    #[test]
    fn variants_add_their_layers() {
        let count = |v: Variant| v.model(0).layers().count();
        assert_eq!(count(Variant::Plain), 3);
        assert_eq!(count(Variant::Dropout), 5);
        assert_eq!(count(Variant::BatchNorm), 7);
        assert_eq!(count(Variant::EarlyStopping), 3);
    }
}
