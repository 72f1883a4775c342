//! `fit`'s `sample_weight`, `class_weight` and `validation_split`, and `evaluate_weighted`, with
//! Keras' semantics, and the errors for bad values.

use std::collections::BTreeMap;
use tapegrad::nn::{Activation, Dense, Sequential};
use tapegrad::optim::Sgd;
use tapegrad::train::{FitConfig, LossFn, Model, Verbose};
use tapegrad::Tensor;

fn data() -> (Tensor<f64>, Tensor<f64>) {
    let x = Tensor::from_vec((0..40).map(|i| ((i * 7 % 13) as f64 - 6.0) / 4.0).collect(), &[20, 2]);
    let y = Tensor::from_vec(x.data().chunks(2).map(|r| if r[0] + 0.3 * r[1] > 0.0 { 1.0 } else { 0.0 }).collect(), &[20, 1]);
    (x, y)
}

fn model() -> Model<f64> {
    Sequential::<f64>::with_seed(2, vec![Dense::new(6).activation(Activation::Tanh), Dense::new(1).activation(Activation::Sigmoid)], 3)
        .compile(LossFn::named("binary_crossentropy").unwrap(), Sgd::new(0.1), &[])
}

fn quiet<'a>(epochs: usize) -> FitConfig<'a, f64> {
    FitConfig::new(epochs).batch_size(20).shuffle(false).verbose(Verbose::Silent)
}

#[test]
fn sample_weight_scales_each_rows_loss_and_divides_by_the_batch() {
    let (x, y) = data();
    // The first epoch's loss is computed before the update: sum(w * l) / 20.
    let per_row: Vec<f64> = (0..20)
        .map(|i| {
            let mut m = model();
            m.evaluate(&x.slice_rows(i, i + 1), &y.slice_rows(i, i + 1), 1).unwrap()["loss"]
        })
        .collect();
    let w: Vec<f64> = (0..20).map(|i| (i % 4) as f64 * 0.5).collect();
    let want = per_row.iter().zip(&w).map(|(l, w)| l * w).sum::<f64>() / 20.0;
    let wt = Tensor::from_vec(w.clone(), &[20]);
    let h = model().fit(&x, &y, quiet(1).sample_weight(&wt)).unwrap();
    assert!((h.loss()[0] - want).abs() < 1e-12, "{} vs {want}", h.loss()[0]);
    let e = model().evaluate_weighted(&x, &y, &wt, 7).unwrap()["loss"];
    assert!((e - want).abs() < 1e-12, "{e} vs {want}");
    // All ones is no weighting at all, bit for bit.
    let ones = Tensor::from_vec(vec![1.0; 20], &[20]);
    let (mut a, mut b) = (model(), model());
    assert_eq!(a.fit(&x, &y, quiet(3).sample_weight(&ones)).unwrap(), b.fit(&x, &y, quiet(3)).unwrap());
    assert_eq!(a.net().parameters(), b.net().parameters());
}

#[test]
fn class_weight_is_the_sample_weight_of_each_rows_class() {
    let (x, y) = data();
    let cw = BTreeMap::from([(0usize, 0.5), (1, 3.0)]);
    let w = Tensor::from_vec(y.data().iter().map(|&c| if c == 1.0 { 3.0 } else { 0.5 }).collect(), &[20]);
    let (mut a, mut b) = (model(), model());
    let ha = a.fit(&x, &y, FitConfig::new(4).batch_size(6).seed(1).verbose(Verbose::Silent).class_weight(&cw)).unwrap();
    let hb = b.fit(&x, &y, FitConfig::new(4).batch_size(6).seed(1).verbose(Verbose::Silent).sample_weight(&w)).unwrap();
    assert_eq!(ha, hb);
    assert_eq!(a.net().parameters(), b.net().parameters());
}

#[test]
fn validation_split_holds_out_the_last_rows_before_shuffling() {
    let (x, y) = data();
    let (mut a, mut b) = (model(), model());
    let cfg = FitConfig::new(3).batch_size(4).seed(9).verbose(Verbose::Silent);
    let ha = a.fit(&x, &y, cfg.validation_split(0.25)).unwrap();
    let (tx, ty, vx, vy) = (x.slice_rows(0, 15), y.slice_rows(0, 15), x.slice_rows(15, 20), y.slice_rows(15, 20));
    let hb = b.fit(&tx, &ty, cfg.validation_data(&vx, &vy)).unwrap();
    assert_eq!(ha, hb);
    assert!(ha.get("val_loss").is_some());
    // Sample weights are split with the rows: the validation loss is weighted by the tail's.
    let w = Tensor::from_vec((0..20).map(|i| 1.0 + i as f64 / 10.0).collect(), &[20]);
    let (mut c, mut d) = (model(), model());
    let hc = c.fit(&x, &y, cfg.validation_split(0.25).sample_weight(&w)).unwrap();
    let hd = d.fit(&tx, &ty, cfg.sample_weight(&w.slice_rows(0, 15))).unwrap();
    assert_eq!(hc.loss(), hd.loss());
    let want = d.evaluate_weighted(&vx, &vy, &w.slice_rows(15, 20), 4).unwrap()["loss"];
    assert_eq!(hc.get("val_loss").unwrap()[2], want);
}

#[test]
fn bad_weights_and_splits_name_the_argument_and_value() {
    let (x, y) = data();
    let short = Tensor::from_vec(vec![1.0; 19], &[19]);
    let negative = Tensor::from_vec((0..20).map(|i| if i == 4 { -2.0 } else { 1.0 }).collect(), &[20]);
    let absent = BTreeMap::from([(2usize, 1.5)]);
    let both = BTreeMap::from([(1usize, 1.5)]);
    let ones = Tensor::from_vec(vec![1.0; 20], &[20]);
    let cases: Vec<(FitConfig<'_, f64>, &str)> = vec![
        (quiet(1).sample_weight(&short), "sample_weight = a tensor of shape [19]: must hold one weight per row of x (20 rows)"),
        (quiet(1).sample_weight(&negative), "sample_weight = -2 at row 4: every weight must be finite and non-negative"),
        (quiet(1).class_weight(&absent), "class_weight = {2: 1.5}: class 2 is not in the targets (classes: 0, 1)"),
        (quiet(1).class_weight(&both).sample_weight(&ones), "class_weight = given with sample_weight"),
        (quiet(1).validation_split(1.0), "validation_split = 1: must be in [0, 1)"),
        (quiet(1).validation_split(0.97), "validation_split = 0.97: the training data has 20 rows, too few"),
    ];
    for (cfg, want) in cases {
        let mut m = model();
        let before = m.net().parameters();
        let e = m.fit(&x, &y, cfg).unwrap_err().to_string();
        assert!(e.starts_with(want), "{e}");
        assert_eq!(m.net().parameters(), before);
    }
    // A loss with one value per batch cannot be weighted.
    let mut m = Sequential::<f64>::with_seed(2, vec![Dense::new(1)], 0).compile(LossFn::custom(|t, p| (t - p).abs().mean()), Sgd::new(0.1), &[]);
    let e = m.fit(&x, &y, quiet(1).sample_weight(&ones)).unwrap_err().to_string();
    assert!(e.contains("gives one value per batch"), "{e}");
    let e = m.evaluate_weighted(&x, &y, &short, 4).unwrap_err().to_string();
    assert!(e.starts_with("sample_weight = a tensor of shape [19]"), "{e}");
}
