//! The training loop: Keras' loss bookkeeping, partial batches, validation, errors, and a
//! two-ring classification reaching the tutorial's accuracy.

use rand::{rngs::StdRng, Rng, SeedableRng};
use tapegrad::metrics::Metric;
use tapegrad::nn::{Activation, Dense, Init, Sequential};
use tapegrad::optim::{Optimizer, Sgd};
use tapegrad::train::{FitConfig, LossFn, TrainError, Verbose};
use tapegrad::{Tape, Tensor};

/// Binary cross-entropy on probabilities, clipped as Keras does, from public ops.
fn bce() -> LossFn<f64> {
    LossFn::<f64>::custom_named("bce", |t, p| {
        let p = p.clip(1e-7, 1.0 - 1e-7);
        -(t * p.log() + (1.0 - t) * (1.0 - p).log()).mean()
    })
}

/// Two noisy concentric rings (radius 1 and `factor`), labels 0 (outer) and 1 (inner).
fn rings(n: usize, factor: f64, noise: f64, rng: &mut StdRng) -> (Tensor<f64>, Tensor<f64>) {
    let mut x = Vec::with_capacity(2 * n);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let inner = i % 2 == 1;
        let r = if inner { factor } else { 1.0 };
        let a = rng.gen::<f64>() * std::f64::consts::TAU;
        let mut gauss = || {
            let (u1, u2): (f64, f64) = (1.0 - rng.gen::<f64>(), rng.gen());
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        };
        let (nx, ny) = (gauss(), gauss());
        x.push(r * a.cos() + noise * nx);
        x.push(r * a.sin() + noise * ny);
        y.push(if inner { 1.0 } else { 0.0 });
    }
    (Tensor::from_vec(x, &[n, 2]), Tensor::from_vec(y, &[n, 1]))
}

fn circles_net(seed: u64) -> Sequential<f64> {
    Sequential::with_seed(
        2,
        vec![
            Dense::new(50).activation(Activation::Relu).kernel_initializer(Init::HeUniform),
            Dense::new(1).activation(Activation::Sigmoid),
        ],
        seed,
    )
}

#[test]
fn circles_reach_eighty_percent_test_accuracy() {
    let mut rng = StdRng::seed_from_u64(1);
    let (x, y) = rings(1000, 0.8, 0.1, &mut rng);
    let (train_x, test_x) = (x.slice_rows(0, 500), x.slice_rows(500, 1000));
    let (train_y, test_y) = (y.slice_rows(0, 500), y.slice_rows(500, 1000));
    let mut model = circles_net(1).compile(bce(), Sgd::new(0.01).momentum(0.9), &[Metric::Accuracy]);
    let history = model
        .fit(
            &train_x,
            &train_y,
            FitConfig::new(200).batch_size(32).seed(1).validation_data(&test_x, &test_y).verbose(Verbose::Silent),
        )
        .unwrap();
    assert_eq!(history.epochs(), 200);
    let loss = history.loss();
    assert!(loss[199] < loss[0], "loss did not fall: {} -> {}", loss[0], loss[199]);
    let test = model.evaluate(&test_x, &test_y, 32).unwrap();
    println!("circles: test accuracy {:.4}, loss {:.4}", test["accuracy"], test["loss"]);
    assert!(test["accuracy"] >= 0.80, "test accuracy {}", test["accuracy"]);
    // The last epoch's validation logs are the same computation as evaluate.
    assert!((history.get("val_accuracy").unwrap()[199] - test["accuracy"]).abs() < 1e-12);
    assert!((history.val_loss()[199] - test["loss"]).abs() < 1e-12);
    // Sigmoid outputs thresholded at 0.5 give the same accuracy by hand.
    let p = model.predict(&test_x).unwrap();
    let hits = p.data().iter().zip(test_y.data()).filter(|(p, t)| (**p > 0.5) == (**t > 0.5)).count();
    assert_eq!(hits as f64 / 500.0, test["accuracy"]);
}

#[test]
fn epoch_loss_is_the_batch_weighted_mean_before_each_update() {
    // 5 rows, batch 3: batches of 3 and 2. Replay the two steps by hand.
    let x = Tensor::from_vec(vec![0.1, -0.4, 0.7, 0.2, -0.3, 0.9, 0.5, 0.5, -0.8, 0.1], &[5, 2]);
    let y = Tensor::from_vec(vec![1.0, 0.0, 1.0, 1.0, 0.0], &[5, 1]);
    let net = Sequential::<f64>::with_seed(2, vec![Dense::new(3).activation(Activation::Tanh), Dense::new(1)], 4);
    let mut params: Vec<Tensor<f64>> = net.parameters().to_vec();
    let mut opt = Sgd::<f64>::new(0.1);
    let mut expected = 0.0;
    for rows in [0..3usize, 3..5] {
        let tape = Tape::new();
        let vars: Vec<_> = params.iter().map(|p| tape.var(p.clone())).collect();
        let xb = tape.constant(x.slice_rows(rows.start, rows.end));
        let yb = tape.constant(y.slice_rows(rows.start, rows.end));
        let h = (xb.matmul(vars[0]) + vars[1]).tanh();
        let out = h.matmul(vars[2]) + vars[3];
        let l = (out - yb).square().mean();
        expected += l.item() * rows.len() as f64;
        let g = l.backward();
        opt.begin_step();
        for (i, p) in params.iter_mut().enumerate() {
            opt.update(i, p.data_mut(), &g[vars[i]]);
        }
    }
    expected /= 5.0;
    let mut model = net.compile(LossFn::named("mse").unwrap(), Sgd::new(0.1), &[Metric::Mse]);
    let h = model.fit(&x, &y, FitConfig::new(1).batch_size(3).shuffle(false).verbose(Verbose::Silent)).unwrap();
    assert!((h.loss()[0] - expected).abs() < 1e-14, "{} vs {expected}", h.loss()[0]);
    assert_eq!(model.optimizer().iterations(), 2, "a partial last batch is one more step");
    for (got, want) in model.net().parameters().iter().zip(&params) {
        for (a, b) in got.data().iter().zip(want.data()) {
            assert!((a - b).abs() < 1e-14);
        }
    }
    // The mse metric sees the same forward outputs as the loss.
    assert!((h.get("mse").unwrap()[0] - expected).abs() < 1e-14);
}

#[test]
fn same_seed_same_history_and_tape_is_reused() {
    let mut rng = StdRng::seed_from_u64(3);
    let (x, y) = rings(200, 0.5, 0.05, &mut rng);
    let run = || {
        let mut m = circles_net(5).compile(bce(), Sgd::new(0.05), &[Metric::Accuracy, Metric::Mae]);
        let h = m.fit(&x, &y, FitConfig::new(3).batch_size(16).seed(9).verbose(Verbose::Silent)).unwrap();
        let cap = m.tape().capacity();
        m.fit(&x, &y, FitConfig::new(2).batch_size(16).verbose(Verbose::Silent)).unwrap();
        assert_eq!(m.tape().capacity(), cap, "the tape grew after the first epochs");
        h
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    assert_eq!(a.get("accuracy").unwrap().len(), 3);
    assert!(a.get("mae").is_some());
}

#[test]
fn f32_models_train_too() {
    let x = Tensor::<f32>::from_vec((0..16).map(|i| i as f32 / 16.0).collect(), &[16, 1]);
    let y = x.map(|v| 3.0 * v + 0.5);
    let net = Sequential::<f32>::with_seed(1, vec![Dense::new(1)], 0);
    let mut model = net.compile(LossFn::named("mse").unwrap(), tapegrad::optim::Adam::new(0.05), &[Metric::Rmse]);
    let h = model.fit(&x, &y, FitConfig::new(300).batch_size(8).seed(0).verbose(Verbose::Silent)).unwrap();
    assert!(h.get("rmse").unwrap()[299] < 0.05, "{:?}", &h.get("rmse").unwrap()[295..]);
}

#[test]
fn bad_input_gives_clear_errors() {
    let net = || circles_net(0);
    let mut m = net().compile(bce(), Sgd::default(), &[Metric::Accuracy]);
    let x = Tensor::<f64>::zeros(&[10, 2]);
    let y = Tensor::<f64>::zeros(&[9, 1]);
    let quiet = FitConfig::new(1).verbose(Verbose::Silent);
    let e = m.fit(&x, &y, quiet).unwrap_err();
    assert_eq!(e, TrainError::RowMismatch { data: "training", x_rows: 10, y_rows: 9 });
    assert!(e.to_string().contains("10 rows") && e.to_string().contains("9"), "{e}");

    let mut bad = Tensor::<f64>::zeros(&[10, 2]);
    bad.data_mut()[7] = f64::NAN;
    let e = m.fit(&bad, &Tensor::zeros(&[10, 1]), quiet).unwrap_err();
    assert_eq!(e, TrainError::NonFinite { what: "x", row: 3, col: 1 });

    let e = m.fit(&Tensor::zeros(&[10, 3]), &Tensor::zeros(&[10, 1]), quiet).unwrap_err();
    assert!(matches!(e, TrainError::InputShape { expected: 2, .. }), "{e}");

    let e = m.fit(&x, &Tensor::zeros(&[10, 2]), quiet).unwrap_err();
    assert!(e.to_string().contains("2 values per row"), "{e}");

    let e = m.fit(&x, &Tensor::zeros(&[10, 1]), quiet.batch_size(0)).unwrap_err();
    assert!(matches!(e, TrainError::Config(_)));

    let vx = Tensor::<f64>::zeros(&[4, 2]);
    let e = m.fit(&x, &Tensor::zeros(&[10, 1]), quiet.validation_data(&vx, &Tensor::zeros(&[5, 1]))).unwrap_err();
    assert_eq!(e, TrainError::RowMismatch { data: "validation", x_rows: 4, y_rows: 5 });

    assert!(m.predict(&Tensor::zeros(&[0, 2])).is_err());
    assert!(LossFn::<f64>::named("no_such_loss").is_err());
}

#[test]
fn a_diverging_loss_stops_training_with_the_history_so_far() {
    let x = Tensor::from_vec((0..32).map(|i| i as f64).collect(), &[32, 1]);
    let y = x.map(|v| 10.0 * v);
    let net = Sequential::<f64>::with_seed(1, vec![Dense::new(1)], 0);
    let mut m = net.compile(LossFn::named("mse").unwrap(), Sgd::new(1.0), &[]);
    let e = m.fit(&x, &y, FitConfig::new(100).batch_size(32).verbose(Verbose::Silent)).unwrap_err();
    match &e {
        TrainError::Diverged { epoch, loss, history, .. } => {
            assert!(!loss.is_finite());
            assert_eq!(history.epochs(), epoch - 1);
            assert!(*epoch > 1);
        }
        other => panic!("expected Diverged, got {other}"),
    }
    assert!(e.to_string().contains("learning rate"), "{e}");
}

#[test]
fn sparse_labels_with_a_custom_loss_and_accuracy() {
    // Three separable clusters along x, labels as class ids.
    let x = Tensor::from_vec((0..30).map(|i| (i / 10) as f64 * 2.0 - 2.0 + (i % 10) as f64 * 0.01).collect(), &[30, 1]);
    let labels: Vec<f64> = (0..30).map(|i| (i / 10) as f64).collect();
    let y = Tensor::from_vec(labels.clone(), &[30]);
    let ids: Vec<usize> = labels.iter().map(|&v| v as usize).collect();
    let net = Sequential::<f64>::with_seed(1, vec![Dense::new(3).activation(Activation::Softmax)], 0);
    // Sparse cross-entropy by hand: the targets arrive as a (batch,) vector of class ids.
    let loss = LossFn::<f64>::custom(|t, p| {
        let classes = p.shape()[1];
        let ids: Vec<usize> = t.value().data().iter().map(|v| *v as usize).collect();
        let onehot = p.tape().one_hot(&ids, classes);
        -(onehot * p.clip(1e-7, 1.0).log()).sum_axis(-1, false).mean()
    });
    let mut m = net.compile(loss, tapegrad::optim::Adam::new(0.1), &[Metric::Accuracy]);
    let h = m.fit(&x, &y, FitConfig::new(100).batch_size(10).seed(2).verbose(Verbose::Silent)).unwrap();
    assert_eq!(h.get("accuracy").unwrap()[99], 1.0);
    let p = m.predict(&x).unwrap();
    for (row, &id) in ids.iter().enumerate() {
        let r = &p.data()[row * 3..row * 3 + 3];
        let best = (0..3).max_by(|&a, &b| r[a].partial_cmp(&r[b]).unwrap()).unwrap();
        assert_eq!(best, id);
    }
}
