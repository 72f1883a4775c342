//! `fit` runs callbacks at Keras' hooks: the order and logs each hook sees, stopping, changing the
//! learning rate, restoring the best weights through the model, saving model files, CSV logs,
//! TerminateOnNaN, and a monitor that `fit` does not log.

use std::cell::RefCell;
use std::path::PathBuf;
use tapegrad::metrics::Metric;
use tapegrad::nn::{Activation, Dense, Sequential};
use tapegrad::optim::{ExponentialDecay, Sgd};
use tapegrad::train::callbacks::{
    Callback, CallbackContext, CallbackError, CsvLogger, EarlyStopping, LearningRateScheduler, Mode, ModelCheckpoint,
    ReduceLROnPlateau, TerminateOnNaN,
};
use tapegrad::train::{FitConfig, LossFn, Model, TrainError, Verbose};
use tapegrad::Tensor;

fn data() -> (Tensor<f64>, Tensor<f64>) {
    let x = Tensor::from_vec((0..40).map(|i| ((i * 7 % 13) as f64 / 13.0) - 0.5).collect(), &[20, 2]);
    let y = Tensor::from_vec((0..20).map(|i| if x.get(&[i, 0]) - x.get(&[i, 1]) > 0.0 { 1.0 } else { 0.0 }).collect(), &[20, 1]);
    (x, y)
}

fn model(lr: f64) -> Model<f64> {
    Sequential::<f64>::with_seed(2, vec![Dense::new(5).activation(Activation::Tanh), Dense::new(1).activation(Activation::Sigmoid)], 7)
        .compile(LossFn::named("binary_crossentropy").unwrap(), Sgd::new(lr).momentum(0.5), &[Metric::Accuracy])
}

fn quiet<'a>(epochs: usize) -> FitConfig<'a, f64> {
    FitConfig::new(epochs).batch_size(8).seed(1).verbose(Verbose::Silent)
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tapegrad-fit-callbacks-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes down every hook with its epoch, batch and logs; keeps each epoch's weights.
#[derive(Default)]
struct Recorder {
    events: Vec<String>,
    batch_logs: Vec<(usize, usize, f64)>,
    weights: Vec<Vec<Tensor<f64>>>,
    stop_at: Option<(usize, Option<usize>)>,
}

impl Recorder {
    fn log(&mut self, hook: &str, ctx: &CallbackContext<'_, f64>) {
        let keys: Vec<&str> = ctx.logs.keys().map(String::as_str).collect();
        let batch = ctx.batch.map_or(String::new(), |b| format!(" b{b}"));
        self.events.push(format!("{hook} e{}{batch} [{}]", ctx.epoch, keys.join(",")));
    }
    fn maybe_stop(&self, ctx: &mut CallbackContext<'_, f64>) {
        if self.stop_at == Some((ctx.epoch, ctx.batch)) {
            ctx.stop_training();
        }
    }
}

impl Callback<f64> for Recorder {
    fn on_train_begin(&mut self, ctx: &mut CallbackContext<'_, f64>) -> Result<(), CallbackError> {
        self.log("train_begin", ctx);
        Ok(())
    }
    fn on_epoch_begin(&mut self, ctx: &mut CallbackContext<'_, f64>) -> Result<(), CallbackError> {
        self.log("epoch_begin", ctx);
        assert_eq!(ctx.steps, Some(3));
        Ok(())
    }
    fn on_train_batch_begin(&mut self, ctx: &mut CallbackContext<'_, f64>) -> Result<(), CallbackError> {
        self.log("batch_begin", ctx);
        Ok(())
    }
    fn on_train_batch_end(&mut self, ctx: &mut CallbackContext<'_, f64>) -> Result<(), CallbackError> {
        self.log("batch_end", ctx);
        self.batch_logs.push((ctx.epoch, ctx.batch.unwrap(), ctx.logs["loss"]));
        self.maybe_stop(ctx);
        Ok(())
    }
    fn on_epoch_end(&mut self, ctx: &mut CallbackContext<'_, f64>) -> Result<(), CallbackError> {
        self.log("epoch_end", ctx);
        self.weights.push(ctx.get_weights());
        self.maybe_stop(ctx);
        Ok(())
    }
    fn on_train_end(&mut self, ctx: &mut CallbackContext<'_, f64>) -> Result<(), CallbackError> {
        self.log("train_end", ctx);
        Ok(())
    }
}

#[test]
fn every_hook_runs_in_keras_order_with_keras_logs() {
    let (x, y) = data();
    let mut m = model(0.1);
    let rec = RefCell::new(Recorder::default());
    let h = m.fit(&x, &y, quiet(2).validation_data(&x, &y).callbacks(&[&rec])).unwrap();
    let rec = rec.into_inner();
    let mut want = vec!["train_begin e0 []".to_string()];
    for e in 0..2 {
        want.push(format!("epoch_begin e{e} []"));
        for b in 0..3 {
            want.push(format!("batch_begin e{e} b{b} []"));
            want.push(format!("batch_end e{e} b{b} [accuracy,loss]"));
        }
        want.push(format!("epoch_end e{e} [accuracy,loss,val_accuracy,val_loss]"));
    }
    want.push("train_end e1 [accuracy,loss,val_accuracy,val_loss]".into());
    assert_eq!(rec.events, want);
    // Batch logs are the epoch's running means: the last batch's is the epoch's loss.
    assert_eq!(rec.batch_logs[2].2, h.loss()[0]);
    assert_eq!(rec.batch_logs[5].2, h.loss()[1]);
    assert_ne!(rec.batch_logs[0].2, rec.batch_logs[2].2);
    assert_eq!(h.epoch(), &[0, 1]);
    // The weights a callback reads at the epoch's end are the model's.
    assert_eq!(rec.weights[1], m.net().parameters());

    // Callbacks that change nothing change no number.
    let mut plain = model(0.1);
    let h2 = plain.fit(&x, &y, quiet(2).validation_data(&x, &y)).unwrap();
    assert_eq!(h, h2);
    assert_eq!(plain.net().parameters(), m.net().parameters());
}

#[test]
fn a_callback_stops_training_at_a_batch_or_an_epoch() {
    let (x, y) = data();
    // At epoch 1's batch 0: that epoch ends there (logs, validation, epoch_end), as Keras.
    let rec = RefCell::new(Recorder { stop_at: Some((1, Some(0))), ..Default::default() });
    let h = model(0.1).fit(&x, &y, quiet(5).validation_data(&x, &y).callbacks(&[&rec])).unwrap();
    assert_eq!(h.epochs(), 2);
    let rec = rec.into_inner();
    assert_eq!(rec.batch_logs.len(), 4);
    assert!(rec.events.iter().any(|e| e.starts_with("epoch_end e1")));
    assert!(rec.events.last().unwrap().starts_with("train_end e1"));
    assert_eq!(h.loss()[1], rec.batch_logs[3].2);

    let rec = RefCell::new(Recorder { stop_at: Some((2, None)), ..Default::default() });
    let h = model(0.1).fit(&x, &y, quiet(5).callbacks(&[&rec])).unwrap();
    assert_eq!(h.epochs(), 3);
}

#[test]
fn learning_rate_callbacks_change_the_optimizers_rate_between_epochs() {
    let (x, y) = data();
    let sched = RefCell::new(LearningRateScheduler::new(|epoch, lr| if epoch == 0 { 0.2 } else { lr * 0.5 }));
    let mut a = model(0.1);
    let h = a.fit(&x, &y, quiet(3).shuffle(false).callbacks(&[&sched])).unwrap();
    assert_eq!(h.get("learning_rate").unwrap(), &[0.2, 0.1, 0.05]);
    // The same as three one-epoch fits with the rate set by hand.
    let mut b = model(0.1);
    for lr in [0.2, 0.1, 0.05] {
        b.optimizer_mut().set_learning_rate(lr);
        b.fit(&x, &y, quiet(1).shuffle(false)).unwrap();
    }
    assert_eq!(a.net().parameters(), b.net().parameters());

    // ReduceLROnPlateau halves the rate when the loss stops improving by 10.
    let plateau = RefCell::new(ReduceLROnPlateau::new("loss").factor(0.5).patience(1).min_delta(10.0));
    let mut c = model(0.1);
    let h = c.fit(&x, &y, quiet(3).callbacks(&[&plateau])).unwrap();
    assert_eq!(h.get("learning_rate").unwrap(), &[0.1, 0.1, 0.05]);
    assert_eq!(c.optimizer().learning_rate(), 0.025);

    // An optimizer that follows a schedule refuses, and fit says so.
    let mut d = Sequential::<f64>::with_seed(2, vec![Dense::new(1)], 0)
        .compile(LossFn::named("mse").unwrap(), Sgd::new(ExponentialDecay::new(0.1, 10, 0.5).unwrap()), &[]);
    let plateau = RefCell::new(ReduceLROnPlateau::new("loss").patience(0).min_delta(10.0));
    let e = d.fit(&x, &y, quiet(3).callbacks(&[&plateau])).unwrap_err();
    assert!(matches!(e, TrainError::Callback(CallbackError::LearningRate { .. })), "{e}");
    assert!(e.to_string().contains("ExponentialDecay schedule"), "{e}");
}

#[test]
fn early_stopping_restores_the_best_epochs_weights_through_the_model() {
    let (x, y) = data();
    let (vx, vy) = (x.slice_rows(0, 6), y.slice_rows(0, 6).map(|v| 1.0 - v)); // worsens as training fits
    let rec = RefCell::new(Recorder::default());
    let stop = RefCell::new(EarlyStopping::new("val_loss").patience(2).restore_best_weights(true));
    let mut m = model(0.5);
    let h = m.fit(&x, &y, quiet(30).validation_data(&vx, &vy).callbacks(&[&rec, &stop])).unwrap();
    let stop = stop.into_inner();
    let best = stop.best_epoch().unwrap();
    let vl = h.val_loss();
    let argmin = (0..vl.len()).min_by(|&i, &j| vl[i].total_cmp(&vl[j])).unwrap();
    assert_eq!(best, argmin);
    assert!(stop.stopped_epoch().is_some() && h.epochs() < 30, "{vl:?}");
    assert_ne!(best + 1, h.epochs(), "the test needs a best epoch before the last: {vl:?}");
    assert_eq!(m.net().parameters(), rec.borrow().weights[best]);
    assert_ne!(m.net().parameters(), *rec.borrow().weights.last().unwrap());
}

#[test]
fn model_checkpoint_saves_model_files_atomically() {
    let (x, y) = data();
    let dir = scratch("ckpt");
    let rec = RefCell::new(Recorder::default());
    let every = RefCell::new(ModelCheckpoint::new(dir.join("e{epoch:02d}.safetensors").to_str().unwrap()));
    let best = RefCell::new(ModelCheckpoint::new(dir.join("best.safetensors").to_str().unwrap()).monitor("val_accuracy").mode(Mode::Max).save_best_only(true));
    let mut m = model(0.3);
    let h = m.fit(&x, &y, quiet(4).validation_data(&x, &y).callbacks(&[&rec, &every, &best])).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    // Nothing else: no temporary file is left behind.
    assert_eq!(names, ["best.safetensors", "e01.safetensors", "e02.safetensors", "e03.safetensors", "e04.safetensors"]);
    for e in 0..4 {
        let saved = tapegrad::io::load_model::<f64>(dir.join(format!("e{:02}.safetensors", e + 1))).unwrap();
        assert_eq!(saved.model.parameters(), rec.borrow().weights[e]);
    }
    let acc = h.get("val_accuracy").unwrap();
    let first_best = (0..4).fold(0, |b, i| if acc[i] > acc[b] { i } else { b });
    let saved = tapegrad::io::load_model::<f64>(dir.join("best.safetensors")).unwrap();
    assert_eq!(saved.model.parameters(), rec.borrow().weights[first_best]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn csv_logger_writes_the_history() {
    let (x, y) = data();
    let dir = scratch("csv");
    let path = dir.join("log.csv");
    let csv = RefCell::new(CsvLogger::new(&path));
    let h = model(0.1).fit(&x, &y, quiet(3).validation_split(0.25).callbacks(&[&csv])).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "epoch,accuracy,loss,val_accuracy,val_loss");
    assert_eq!(lines.len(), 4);
    for (e, line) in lines[1..].iter().enumerate() {
        let v: Vec<f64> = line.split(',').map(|f| f.parse().unwrap()).collect();
        assert_eq!(v, vec![e as f64, h.get("accuracy").unwrap()[e], h.loss()[e], h.get("val_accuracy").unwrap()[e], h.val_loss()[e]]);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn terminate_on_nan_ends_training_instead_of_an_error() {
    let (x, y) = data();
    let diverging = || {
        Sequential::<f64>::with_seed(2, vec![Dense::new(1)], 0).compile(LossFn::named("mse").unwrap(), Sgd::new(1e12), &[])
    };
    let e = diverging().fit(&x, &y, quiet(20)).unwrap_err();
    let TrainError::Diverged { epoch, batch, .. } = e else { panic!("{e}") };
    let nan = RefCell::new(TerminateOnNaN::new());
    let mut m = diverging();
    let h = m.fit(&x, &y, quiet(20).callbacks(&[&nan])).unwrap();
    let (e0, b0) = nan.borrow().terminated_at().unwrap();
    assert_eq!((e0 + 1, b0 + 1), (epoch, batch));
    assert_eq!(h.epochs(), epoch);
    assert!(!h.loss()[epoch - 1].is_finite());
    // The bad step changed no weight.
    assert!(m.net().parameters().iter().all(|t| t.data().iter().all(|v| v.is_finite())));
}

#[test]
fn a_monitor_fit_does_not_log_is_an_error_naming_it_and_the_logged_names() {
    let (x, y) = data();
    let stop = RefCell::new(EarlyStopping::new("val_loss"));
    let mut m = model(0.1);
    let e = m.fit(&x, &y, quiet(5).callbacks(&[&stop])).unwrap_err();
    assert_eq!(e.to_string(), "EarlyStopping: monitor 'val_loss' is not in the logs (available: accuracy, loss)");
    let plateau = RefCell::new(ReduceLROnPlateau::new("val_acc"));
    let e = m.fit(&x, &y, quiet(5).validation_data(&x, &y).callbacks(&[&plateau])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "ReduceLROnPlateau: monitor 'val_acc' is not in the logs (available: accuracy, learning_rate, loss, val_accuracy, val_loss)"
    );
    let best = RefCell::new(ModelCheckpoint::new("unused.safetensors").monitor("los").mode(Mode::Min).save_best_only(true));
    let e = m.fit(&x, &y, quiet(5).callbacks(&[&best])).unwrap_err();
    assert!(e.to_string().starts_with("ModelCheckpoint: monitor 'los' is not in the logs"), "{e}");
    assert!(!std::path::Path::new("unused.safetensors").exists());
    // Found at the end of the first epoch, as Keras: one epoch ran.
    let rec = RefCell::new(Recorder::default());
    let stop = RefCell::new(EarlyStopping::new("val_loss"));
    let _ = m.fit(&x, &y, quiet(5).callbacks(&[&rec, &stop]));
    assert_eq!(rec.borrow().weights.len(), 1);
}

#[test]
fn bad_epochs_and_a_callback_passed_twice_are_errors() {
    let (x, y) = data();
    let e = model(0.1).fit(&x, &y, quiet(2).initial_epoch(3)).unwrap_err();
    assert_eq!(e.to_string(), "initial_epoch = 3: must not exceed epochs (2)");
    let stop = RefCell::new(EarlyStopping::new("loss"));
    let e = model(0.1).fit(&x, &y, quiet(2).callbacks(&[&stop, &stop])).unwrap_err();
    assert_eq!(e.to_string(), "callbacks = entry 1: is the same callback as entry 0 (pass each once)");
    // initial_epoch runs epochs initial_epoch..epochs, numbered so.
    let rec = RefCell::new(Recorder::default());
    let h = model(0.1).fit(&x, &y, quiet(5).initial_epoch(3).callbacks(&[&rec])).unwrap();
    assert_eq!(h.epoch(), &[3, 4]);
    assert_eq!(rec.borrow().events[1], "epoch_begin e3 []");
}
