//! Resuming `fit` from a checkpoint is bit-identical to an unbroken run (shuffling, dropout, a
//! schedule and callbacks' state included), and every schedule and clipping option is saved in the
//! checkpoint's optimizer config and comes back.

use std::cell::RefCell;
use std::collections::BTreeMap;
use tapegrad::io::{checkpoint_from_bytes, checkpoint_from_bytes_with, checkpoint_to_bytes, checkpoint_to_bytes_with, ModelFileError};
use tapegrad::layers;
use tapegrad::nn::{Activation, Dense, Dropout, Sequential};
use tapegrad::optim::{
    from_keras_config, Adam, CosineDecay, CosineDecayRestarts, ExponentialDecay, InverseTimeDecay, LearningRate, Optimizer,
    PiecewiseConstantDecay, PolynomialDecay, Precision, RmsProp, Sgd,
};
use tapegrad::train::callbacks::{Callback, EarlyStopping, ReduceLROnPlateau};
use tapegrad::train::{FitConfig, History, LossFn, Model, RngState, Verbose};
use tapegrad::Tensor;

fn data() -> (Tensor<f64>, Tensor<f64>) {
    let x = Tensor::from_vec((0..60).map(|i| ((i * 7 % 17) as f64 / 17.0) - 0.5).collect(), &[30, 2]);
    let y = Tensor::from_vec((0..30).map(|i| if x.get(&[i, 0]) * x.get(&[i, 1]) > 0.0 { 1.0 } else { 0.0 }).collect(), &[30, 1]);
    (x, y)
}

fn compiled(opt: Box<dyn Optimizer<f64>>, seed: u64) -> Model<f64> {
    let net = Sequential::<f64>::with_seed(
        2,
        layers![Dense::new(8).activation(Activation::Relu), Dropout::new(0.25), Dense::new(1).activation(Activation::Sigmoid)],
        seed,
    );
    net.compile_boxed(LossFn::named("binary_crossentropy").unwrap(), opt, &[])
}

fn cfg<'a>(epochs: usize) -> FitConfig<'a, f64> {
    FitConfig::new(epochs).batch_size(7).verbose(Verbose::Silent)
}

/// EarlyStopping that never sees an improvement after the first epoch (min_delta 10), so its
/// `wait` decides when training stops: after epoch `patience`.
fn stopper() -> RefCell<EarlyStopping<f64>> {
    RefCell::new(EarlyStopping::new("loss").min_delta(10.0).patience(4))
}

/// A run of `epochs` from the start, and one of `k` epochs, a checkpoint, a fresh model and
/// callback loaded from it, and the rest.
struct Runs {
    straight: (Model<f64>, History),
    resumed: (Model<f64>, History),
    stop: RefCell<EarlyStopping<f64>>,
}

fn straight_and_resumed(k: usize, epochs: usize) -> Runs {
    let (x, y) = data();
    let sgd = || -> Box<dyn Optimizer<f64>> { Box::new(Sgd::new(ExponentialDecay::new(0.3, 4, 0.7).unwrap()).momentum(0.8).clipnorm(1.0)) };
    let mut straight = compiled(sgd(), 5);
    let stop = stopper();
    let hs = straight.fit(&x, &y, cfg(epochs).seed(11).callbacks(&[&stop])).unwrap();

    let mut first = compiled(sgd(), 5);
    let stop1 = stopper();
    first.fit(&x, &y, cfg(k).seed(11).callbacks(&[&stop1])).unwrap();
    let bytes = checkpoint_to_bytes_with(&first, k, &BTreeMap::new(), &[&stop1]).unwrap();
    drop(first);
    let mut resumed = compiled(sgd(), 99);
    let stop2 = stopper();
    let ckpt = checkpoint_from_bytes_with(bytes, &mut resumed, &[&stop2]).unwrap();
    assert_eq!(ckpt.epoch, k);
    let hr = resumed.fit(&x, &y, cfg(epochs).initial_epoch(ckpt.epoch).callbacks(&[&stop2])).unwrap();
    Runs { straight: (straight, hs), resumed: (resumed, hr), stop: stop2 }
}

#[test]
fn a_resumed_shuffled_fit_with_a_schedule_dropout_and_a_callback_is_bit_identical() {
    let Runs { straight: (straight, hs), resumed: (resumed, hr), stop } = straight_and_resumed(2, 10);
    // The unbroken run stops at epoch 4 (patience 4 without improvement): so does the resumed one.
    assert_eq!(hs.epoch(), &[0, 1, 2, 3, 4]);
    assert_eq!(hr.epoch(), &[2, 3, 4]);
    assert_eq!(stop.borrow().stopped_epoch(), Some(4));
    assert_eq!(resumed.net().parameters(), straight.net().parameters(), "weights must match bit for bit");
    assert_eq!(resumed.optimizer().iterations(), straight.optimizer().iterations());
    assert_eq!(hr.loss(), &hs.loss()[2..]);
    assert_eq!(resumed.rng_state(), straight.rng_state());
}

/// Each saved piece is needed: without the callback's state, the generator or the schedule's step
/// the resumed run differs.
#[test]
fn without_each_saved_piece_the_resumed_run_differs() {
    let (x, y) = data();
    let sgd = || -> Box<dyn Optimizer<f64>> { Box::new(Sgd::new(ExponentialDecay::new(0.3, 4, 0.7).unwrap()).momentum(0.8)) };
    let mut straight = compiled(sgd(), 5);
    let stop = stopper();
    straight.fit(&x, &y, cfg(10).seed(11).callbacks(&[&stop])).unwrap();
    let mut first = compiled(sgd(), 5);
    let stop1 = stopper();
    first.fit(&x, &y, cfg(2).seed(11).callbacks(&[&stop1])).unwrap();
    let bytes = checkpoint_to_bytes_with(&first, 2, &BTreeMap::new(), &[&stop1]).unwrap();

    // Callback state ignored: a fresh EarlyStopping waits 4 more epochs.
    let mut a = compiled(sgd(), 99);
    let fresh = stopper();
    checkpoint_from_bytes(bytes.clone(), &mut a).unwrap();
    let h = a.fit(&x, &y, cfg(10).initial_epoch(2).callbacks(&[&fresh])).unwrap();
    assert_eq!(h.epoch(), &[2, 3, 4, 5, 6]);
    // The generator reseeded: other shuffles and dropout masks.
    let mut b = compiled(sgd(), 99);
    let s = stopper();
    checkpoint_from_bytes_with(bytes.clone(), &mut b, &[&s]).unwrap();
    b.set_seed(11);
    b.fit(&x, &y, cfg(10).initial_epoch(2).callbacks(&[&s])).unwrap();
    assert_ne!(b.net().parameters(), straight.net().parameters());
    // The step count reset: the schedule starts over.
    let mut c = compiled(sgd(), 99);
    let s = stopper();
    checkpoint_from_bytes_with(bytes, &mut c, &[&s]).unwrap();
    c.optimizer_mut().set_iterations(0);
    c.fit(&x, &y, cfg(10).initial_epoch(2).callbacks(&[&s])).unwrap();
    assert_ne!(c.net().parameters(), straight.net().parameters());
}

/// ReduceLROnPlateau's wait, cooldown and best, and the rate it set, carry over too.
#[test]
fn reduce_lr_on_plateau_resumes_with_its_counters_and_rate() {
    let (x, y) = data();
    let adam = || -> Box<dyn Optimizer<f64>> { Box::new(Adam::new(0.05).global_clipnorm(2.0)) };
    let plateau = || RefCell::new(ReduceLROnPlateau::new("loss").factor(0.5).patience(2).cooldown(1).min_delta(10.0));
    let mut straight = compiled(adam(), 3);
    let p = plateau();
    let hs = straight.fit(&x, &y, cfg(9).seed(4).callbacks(&[&p])).unwrap();
    assert_eq!(hs.get("learning_rate").unwrap(), &[0.05, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125, 0.00625, 0.00625]);
    for k in [2, 3, 4] {
        let mut first = compiled(adam(), 3);
        let p1 = plateau();
        first.fit(&x, &y, cfg(k).seed(4).callbacks(&[&p1])).unwrap();
        let bytes = checkpoint_to_bytes_with(&first, k, &BTreeMap::new(), &[&p1]).unwrap();
        let mut resumed = compiled(adam(), 1);
        let p2 = plateau();
        checkpoint_from_bytes_with(bytes, &mut resumed, &[&p2]).unwrap();
        assert_eq!((p2.borrow().wait(), p2.borrow().cooldown_counter()), (p1.borrow().wait(), p1.borrow().cooldown_counter()));
        let hr = resumed.fit(&x, &y, cfg(9).initial_epoch(k).callbacks(&[&p2])).unwrap();
        assert_eq!(hr.get("learning_rate").unwrap(), &hs.get("learning_rate").unwrap()[k..], "k = {k}");
        assert_eq!(resumed.net().parameters(), straight.net().parameters(), "k = {k}");
    }
}

#[test]
fn early_stoppings_best_weights_come_back_from_a_checkpoint() {
    let (x, y) = data();
    let mut m = compiled(Box::new(Sgd::new(0.1)), 2);
    let stop = RefCell::new(EarlyStopping::new("loss").patience(50).restore_best_weights(true));
    m.fit(&x, &y, cfg(3).seed(1).callbacks(&[&stop])).unwrap();
    let bytes = checkpoint_to_bytes_with(&m, 3, &BTreeMap::new(), &[&stop]).unwrap();
    let file = tapegrad::io::SafeTensors::from_bytes(bytes.clone()).unwrap();
    assert!(file.info("callbacks/0/best_weights/0").is_some());
    let back = RefCell::new(EarlyStopping::new("loss").patience(50).restore_best_weights(true));
    let mut other = compiled(Box::new(Sgd::new(0.1)), 8);
    checkpoint_from_bytes_with(bytes.clone(), &mut other, &[&back]).unwrap();
    assert_eq!(back.borrow().state(), stop.borrow().state());
    assert!(back.borrow().state().unwrap().tensors[0].1.len() == 4);

    // Other callbacks, or another number of them, are refused, and nothing changes.
    let before = other.net().parameters();
    let wrong = RefCell::new(ReduceLROnPlateau::new("loss"));
    let e = checkpoint_from_bytes_with(bytes.clone(), &mut other, &[&wrong]).unwrap_err();
    assert!(matches!(e, ModelFileError::Mismatch { .. }), "{e}");
    assert!(e.to_string().contains("callback 0 is a ReduceLROnPlateau but the file holds the state of a EarlyStopping"), "{e}");
    let e = checkpoint_from_bytes_with(bytes, &mut other, &[&back, &wrong]).unwrap_err();
    assert!(e.to_string().contains("the state of 1 callbacks but 2 were given"), "{e}");
    assert_eq!(other.net().parameters(), before);
}

#[test]
fn the_generators_state_is_saved_when_known() {
    let (x, y) = data();
    let mut m = compiled(Box::new(Sgd::new(0.1)), 2);
    m.set_seed(5);
    assert_eq!(m.rng_state(), Some(RngState::SeedFromU64(5)));
    m.fit(&x, &y, cfg(1)).unwrap();
    let state = m.rng_state().expect("known after an epoch");
    assert!(matches!(state, RngState::FromSeed(_)));
    let mut other = compiled(Box::new(Sgd::new(0.1)), 2);
    checkpoint_from_bytes(checkpoint_to_bytes(&m, 1, &BTreeMap::new()).unwrap(), &mut other).unwrap();
    assert_eq!(other.rng_state(), Some(state));
    // A train_on_batch through dropout draws from it: no longer a known seed, saved as none.
    m.train_on_batch(&x, &y).unwrap();
    assert_eq!(m.rng_state(), None);
    let ckpt = checkpoint_from_bytes(checkpoint_to_bytes(&m, 1, &BTreeMap::new()).unwrap(), &mut other).unwrap();
    assert_eq!(ckpt.rng, None);
}

/// Every schedule, in both precisions: the checkpoint's optimizer config rebuilds the same
/// optimizer, a checkpoint loads only into a model with the same schedule, and the resumed
/// optimizer takes the same rates.
#[test]
fn every_schedule_and_clipping_round_trips_through_a_checkpoint() {
    let (x, y) = data();
    type Make = fn(Precision) -> LearningRate;
    let schedules: Vec<(&str, Make)> = vec![
        ("ExponentialDecay", |p| ExponentialDecay::new(0.1, 3, 0.5).unwrap().staircase(true).precision(p).into()),
        ("PiecewiseConstantDecay", |p| PiecewiseConstantDecay::new(&[3, 7], &[0.1, 0.05, 0.01]).unwrap().precision(p).into()),
        ("PolynomialDecay", |p| PolynomialDecay::new(0.1, 9).unwrap().end_learning_rate(0.01).power(2.0).cycle(true).precision(p).into()),
        ("InverseTimeDecay", |p| InverseTimeDecay::new(0.1, 2, 0.3).unwrap().precision(p).into()),
        ("CosineDecay", |p| CosineDecay::new(0.02, 8).unwrap().alpha(0.1).warmup(0.1, 3).unwrap().precision(p).into()),
        ("CosineDecayRestarts", |p| CosineDecayRestarts::new(0.1, 3).unwrap().t_mul(1.5).m_mul(0.8).alpha(0.05).precision(p).into()),
    ];
    let clippings: [fn(Sgd<f64>) -> Sgd<f64>; 3] = [|o| o.clipnorm(0.5), |o| o.clipvalue(0.1), |o| o.global_clipnorm(0.7)];
    for (ci, (name, make)) in schedules.iter().enumerate() {
        for precision in [Precision::Float32, Precision::Float64] {
            let clip = clippings[ci % 3];
            let opt = || -> Box<dyn Optimizer<f64>> { Box::new(clip(Sgd::new(make(precision)).momentum(0.5))) };
            let mut m = compiled(opt(), 1);
            m.fit(&x, &y, cfg(2).seed(2)).unwrap();
            let bytes = checkpoint_to_bytes(&m, 2, &BTreeMap::new()).unwrap();
            let mut back = compiled(opt(), 7);
            let ckpt = checkpoint_from_bytes(bytes.clone(), &mut back).unwrap();
            let label = format!("{name} {precision:?}");
            assert_eq!(ckpt.optimizer_config, m.optimizer().keras_config(), "{label}");
            let rebuilt = from_keras_config::<f64>("sgd", &ckpt.optimizer_config).unwrap_or_else(|e| panic!("{label}: {e}"));
            assert_eq!(rebuilt.keras_config(), ckpt.optimizer_config, "{label}");
            assert_eq!(rebuilt.clipping(), m.optimizer().clipping(), "{label}");
            let (s0, s1) = (m.optimizer().schedule().unwrap(), rebuilt.schedule().unwrap());
            assert_eq!((s1.name(), s1.precision()), (*name, precision), "{label}");
            for k in 0..40 {
                assert_eq!(s0.rate(k), s1.rate(k), "{label} step {k}");
            }
            // The resumed model continues as the original.
            m.fit(&x, &y, cfg(4).initial_epoch(2)).unwrap();
            back.fit(&x, &y, cfg(4).initial_epoch(2)).unwrap();
            assert_eq!(back.net().parameters(), m.net().parameters(), "{label}");
            // A model with another schedule (or precision) is refused, naming the difference.
            let other = if precision == Precision::Float32 { Precision::Float64 } else { Precision::Float32 };
            let mut wrong = compiled(Box::new(clip(Sgd::new(make(other)).momentum(0.5))), 7);
            let e = checkpoint_from_bytes(bytes, &mut wrong).unwrap_err();
            assert!(matches!(e, ModelFileError::Mismatch { .. }) && e.to_string().contains("learning_rate: file"), "{label}: {e}");
        }
    }
    // Another clipping is refused too; a constant rate the callbacks changed is not a difference.
    let mut m = compiled(Box::new(RmsProp::new(0.01).clipnorm(1.0)), 1);
    m.fit(&x, &y, cfg(1)).unwrap();
    m.optimizer_mut().set_learning_rate(0.003);
    let bytes = checkpoint_to_bytes(&m, 1, &BTreeMap::new()).unwrap();
    let e = checkpoint_from_bytes(bytes.clone(), &mut compiled(Box::new(RmsProp::new(0.01).clipvalue(1.0)), 1)).unwrap_err();
    assert!(e.to_string().contains("clipnorm: file 1.0 vs model null"), "{e}");
    let mut same = compiled(Box::new(RmsProp::new(0.01).clipnorm(1.0)), 1);
    checkpoint_from_bytes(bytes, &mut same).unwrap();
    assert_eq!(same.optimizer().learning_rate(), 0.003);
}
