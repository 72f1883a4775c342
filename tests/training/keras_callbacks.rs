//! EarlyStopping and ReduceLROnPlateau decisions against Keras 3 on every fixture case
//! (tests/fixtures/keras_training.json), driven by a small loop that feeds each epoch's monitored
//! value to the callback as `fit` does; and the other callbacks' behaviour.


use crate::keras_training_support::{array, cases, fixture, num};
use serde_json::Value;
use std::path::Path;
use tapegrad::optim::{ExponentialDecay, Optimizer, Sgd};
use tapegrad::train::callbacks::{
    Callback, CallbackContext, CallbackError, CallbackList, CsvLogger, EarlyStopping, LearningRateScheduler, Mode,
    ModelCheckpoint, ModelHandle, ReduceLROnPlateau, TerminateOnNaN,
};
use tapegrad::train::Logs;
use tapegrad::Tensor;

/// A stand-in model: one weight holding the number of the epoch that produced it; counts restores
/// and saves its weight to files atomically.
struct Marker {
    w: Vec<Tensor<f64>>,
    restores: usize,
}
impl ModelHandle<f64> for Marker {
    fn get_weights(&self) -> Vec<Tensor<f64>> {
        self.w.clone()
    }
    fn set_weights(&mut self, w: &[Tensor<f64>]) -> Result<(), String> {
        if w.len() != self.w.len() {
            return Err(format!("{} tensors for {}", w.len(), self.w.len()));
        }
        self.w = w.to_vec();
        self.restores += 1;
        Ok(())
    }
    fn save(&self, path: &Path) -> Result<(), String> {
        tapegrad::io::write_atomic(path, self.w[0].item().to_string().as_bytes()).map_err(|e| e.to_string())
    }
}

struct Run {
    epochs_run: usize,
    lr_per_epoch: Vec<f64>,
    lr_final: f64,
    model: Marker,
}

/// `fit` for callbacks: each epoch "trains" (the weight becomes the epoch number), logs the
/// monitored value, runs on_epoch_end, and stops when asked.
fn drive(cb: &mut dyn Callback<f64>, opt: &mut dyn Optimizer<f64>, monitor: &str, values: &[f64], epochs: usize) -> Result<Run, CallbackError> {
    drive_from(cb, opt, monitor, values, 0, epochs)
}

/// [`drive`] for epochs `start..epochs` (Keras' `initial_epoch`).
fn drive_from(
    cb: &mut dyn Callback<f64>,
    opt: &mut dyn Optimizer<f64>,
    monitor: &str,
    values: &[f64],
    start: usize,
    epochs: usize,
) -> Result<Run, CallbackError> {
    let mut model = Marker { w: vec![Tensor::scalar(-1.0)], restores: 0 };
    let mut logs = Logs::new();
    cb.on_train_begin(&mut CallbackContext::new(start, epochs, &mut logs, opt, &mut model))?;
    let (mut epochs_run, mut lr_per_epoch) = (0, Vec::new());
    assert!(values.len() >= epochs, "{} monitor values for {epochs} epochs", values.len());
    for (epoch, &value) in values.iter().enumerate().take(epochs).skip(start) {
        let mut logs = Logs::new();
        cb.on_epoch_begin(&mut CallbackContext::new(epoch, epochs, &mut logs, opt, &mut model))?;
        lr_per_epoch.push(opt.learning_rate());
        model.w = vec![Tensor::scalar(epoch as f64)];
        epochs_run += 1;
        let mut logs: Logs = [(monitor.to_string(), value), ("loss".to_string(), 1.0)].into_iter().collect();
        let mut ctx = CallbackContext::new(epoch, epochs, &mut logs, opt, &mut model);
        cb.on_epoch_end(&mut ctx)?;
        if ctx.stop_requested() {
            break;
        }
    }
    let mut logs = Logs::new();
    cb.on_train_end(&mut CallbackContext::new(epochs_run, epochs, &mut logs, opt, &mut model))?;
    Ok(Run { epochs_run, lr_per_epoch, lr_final: opt.learning_rate(), model })
}

fn mode(args: &Value) -> Mode {
    Mode::parse("test", args.get("mode").and_then(Value::as_str).unwrap_or("auto")).unwrap()
}

fn opt_usize(v: &Value) -> Option<usize> {
    v.as_u64().map(|x| x as usize)
}

/// The fixture case's EarlyStopping, from Keras' arguments.
fn early_stopping(a: &Value) -> EarlyStopping<f64> {
    EarlyStopping::<f64>::new(a["monitor"].as_str().unwrap())
        .patience(a.get("patience").and_then(Value::as_u64).unwrap_or(0) as usize)
        .min_delta(a.get("min_delta").and_then(Value::as_f64).unwrap_or(0.0))
        .mode(mode(a))
        .baseline(a.get("baseline").and_then(Value::as_f64))
        .start_from_epoch(a.get("start_from_epoch").and_then(Value::as_u64).unwrap_or(0) as usize)
        .restore_best_weights(a.get("restore_best_weights").and_then(Value::as_bool).unwrap_or(false))
}

/// The fixture case's ReduceLROnPlateau, from Keras' arguments.
fn reduce_lr(a: &Value) -> ReduceLROnPlateau {
    let f = |k: &str, d: f64| a.get(k).and_then(Value::as_f64).unwrap_or(d);
    ReduceLROnPlateau::new(a["monitor"].as_str().unwrap())
        .factor(f("factor", 0.1))
        .patience(a.get("patience").and_then(Value::as_u64).unwrap_or(10) as usize)
        .min_delta(f("min_delta", 1e-4))
        .cooldown(a.get("cooldown").and_then(Value::as_u64).unwrap_or(0) as usize)
        .min_lr(f("min_lr", 0.0))
        .mode(mode(a))
}

#[test]
fn early_stopping_decides_as_keras_on_every_case() {
    let root = fixture();
    let mut n = 0;
    for (ci, case) in cases(&root, "callbacks").iter().enumerate() {
        if case["callback"] != "EarlyStopping" {
            continue;
        }
        n += 1;
        let a = &case["args"];
        let monitor = a["monitor"].as_str().unwrap();
        let label = format!("EarlyStopping case {ci} {a}");
        let mut cb = early_stopping(a);
        let (values, _) = array(&case["monitor_values"], "monitor_values");
        let epochs = case["epochs"].as_u64().unwrap() as usize;
        let mut opt = Sgd::<f64>::new(0.1);
        let run = drive(&mut cb, &mut opt, monitor, &values, epochs).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(cb.stopped_epoch(), opt_usize(&case["stopped_epoch"]), "{label}: stopped_epoch");
        assert_eq!(run.epochs_run, case["epochs_run"].as_u64().unwrap() as usize, "{label}: epochs_run");
        assert_eq!(cb.best_epoch(), opt_usize(&case["best_epoch"]), "{label}: best_epoch");
        assert_eq!(cb.best(), Some(num(&case["best"], "best")), "{label}: best");
        let restored = (run.model.restores > 0).then(|| run.model.w[0].item() as usize);
        assert_eq!(restored, opt_usize(&case["restored_epoch"]), "{label}: restored_epoch");
    }
    assert!(n >= 10, "{n} EarlyStopping cases");
}

#[test]
fn reduce_lr_on_plateau_decides_as_keras_on_every_case() {
    let root = fixture();
    let mut n = 0;
    for (ci, case) in cases(&root, "callbacks").iter().enumerate() {
        if case["callback"] != "ReduceLROnPlateau" {
            continue;
        }
        n += 1;
        let a = &case["args"];
        let monitor = a["monitor"].as_str().unwrap();
        let label = format!("ReduceLROnPlateau case {ci} {a}");
        let mut cb = reduce_lr(a);
        let (values, _) = array(&case["monitor_values"], "monitor_values");
        let epochs = case["epochs"].as_u64().unwrap() as usize;
        let mut opt = Sgd::<f64>::new(num(&case["initial_lr"], "initial_lr"));
        let run = drive(&mut cb, &mut opt, monitor, &values, epochs).unwrap_or_else(|e| panic!("{label}: {e}"));
        let (want, _) = array(&case["lr_per_epoch"], "lr_per_epoch");
        assert_eq!(run.lr_per_epoch, want, "{label}: lr_per_epoch");
        assert_eq!(run.lr_final, num(&case["lr_final"], "lr_final"), "{label}: lr_final");
    }
    assert!(n >= 7, "{n} ReduceLROnPlateau cases");
}

#[test]
fn a_monitor_the_logs_lack_is_an_error_naming_it() {
    let mut opt = Sgd::<f64>::new(0.1);
    let mut es = EarlyStopping::<f64>::new("train_loss");
    let e = drive(&mut es, &mut opt, "val_loss", &[1.0], 1).err().expect("must fail");
    assert!(e.to_string().contains("'train_loss'") && e.to_string().contains("val_loss"), "{e}");
    let mut rl = ReduceLROnPlateau::new("val_acc");
    let e = drive(&mut rl, &mut opt, "val_accuracy", &[1.0], 1).err().expect("must fail");
    assert!(e.to_string().contains("'val_acc'"), "{e}");
    let mut ck = ModelCheckpoint::new("x.bin").save_best_only(true).monitor("val_mae");
    let e = drive(&mut ck, &mut opt, "val_loss", &[1.0], 1).err().expect("must fail");
    assert!(e.to_string().contains("'val_mae'"), "{e}");
    // A name without a known direction needs a mode.
    let mut es = EarlyStopping::<f64>::new("val_custom");
    let e = drive(&mut es, &mut opt, "val_custom", &[1.0], 1).err().expect("must fail");
    assert!(e.to_string().contains("val_custom") && e.to_string().contains("mode"), "{e}");
    assert!(Mode::parse("EarlyStopping", "maximum").is_err());
}

#[test]
fn bad_callback_arguments_are_errors_naming_them() {
    let mut opt = Sgd::<f64>::new(0.1);
    let e = drive(&mut ReduceLROnPlateau::new("val_loss").factor(1.5), &mut opt, "val_loss", &[1.0], 1).err().unwrap();
    assert!(e.to_string().contains("factor") && e.to_string().contains("1.5"), "{e}");
    let e = drive(&mut EarlyStopping::<f64>::new("val_loss").min_delta(-0.1), &mut opt, "val_loss", &[1.0], 1).err().unwrap();
    assert!(e.to_string().contains("min_delta") && e.to_string().contains("-0.1"), "{e}");
    let e = drive(&mut LearningRateScheduler::new(|_, _| f64::NAN), &mut opt, "val_loss", &[1.0], 1).err().unwrap();
    assert!(e.to_string().contains("NaN"), "{e}");
}

#[test]
fn learning_rate_scheduler_sets_each_epochs_rate_and_refuses_a_scheduled_optimizer() {
    let mut opt = Sgd::<f64>::new(0.1);
    let mut cb = LearningRateScheduler::new(|epoch, lr| if epoch < 2 { lr } else { lr * 0.5 });
    let run = drive(&mut cb, &mut opt, "val_loss", &[1.0; 4], 4).unwrap();
    assert_eq!(run.lr_per_epoch, vec![0.1, 0.1, 0.05, 0.025]);
    let mut scheduled = Sgd::<f64>::new(ExponentialDecay::new(0.1, 10, 0.5).unwrap());
    let e = drive(&mut cb, &mut scheduled, "val_loss", &[1.0; 4], 4).err().expect("must fail");
    assert!(e.to_string().contains("ExponentialDecay"), "{e}");
}

#[test]
fn terminate_on_nan_stops_after_the_bad_batch() {
    let mut opt = Sgd::<f64>::new(0.1);
    let mut model = Marker { w: vec![Tensor::scalar(0.0)], restores: 0 };
    let mut cb = TerminateOnNaN::new();
    let mut stopped = None;
    'outer: for epoch in 0..3 {
        for batch in 0..4 {
            let loss = if (epoch, batch) == (1, 2) { f64::NAN } else { 0.5 };
            let mut logs: Logs = [("loss".to_string(), loss)].into_iter().collect();
            let mut ctx = CallbackContext::new(epoch, 3, &mut logs, &mut opt, &mut model).at_batch(batch);
            Callback::<f64>::on_train_batch_end(&mut cb, &mut ctx).unwrap();
            if ctx.stop_requested() {
                stopped = Some((epoch, batch));
                break 'outer;
            }
        }
    }
    assert_eq!(stopped, Some((1, 2)));
    assert_eq!(cb.terminated_at(), Some((1, 2)));
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tapegrad-callbacks-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn model_checkpoint_saves_only_improvements_with_best_only() {
    let dir = temp_dir("ckpt");
    let mut opt = Sgd::<f64>::new(0.1);
    let template = dir.join("m-{epoch:02d}-{val_loss:.2f}.txt");
    let mut cb = ModelCheckpoint::new(template.to_str().unwrap()).save_best_only(true);
    drive(&mut cb, &mut opt, "val_loss", &[0.9, 0.8, 0.85, 0.7, 0.75], 5).unwrap();
    let names: Vec<String> = cb.saved().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, vec!["m-01-0.90.txt", "m-02-0.80.txt", "m-04-0.70.txt"]);
    // Each file holds the weights of its epoch (the marker).
    assert_eq!(std::fs::read_to_string(dir.join("m-04-0.70.txt")).unwrap(), "3");
    // One fixed path keeps the best epoch's model.
    let best = dir.join("best.txt");
    let mut cb = ModelCheckpoint::new(best.to_str().unwrap()).monitor("val_accuracy").save_best_only(true);
    drive(&mut cb, &mut opt, "val_accuracy", &[0.5, 0.7, 0.6, 0.65], 4).unwrap();
    assert_eq!(std::fs::read_to_string(&best).unwrap(), "1");
    assert_eq!(cb.best(), Some(0.7));
    // Without best-only, every epoch is saved; an unknown template field is an error naming it.
    let mut cb = ModelCheckpoint::new(dir.join("e{epoch}.txt").to_str().unwrap());
    drive(&mut cb, &mut opt, "val_loss", &[1.0, 2.0], 2).unwrap();
    assert_eq!(cb.saved().len(), 2);
    let mut cb = ModelCheckpoint::new(dir.join("e{epoch:x}.txt").to_str().unwrap());
    let e = drive(&mut cb, &mut opt, "val_loss", &[1.0], 1).err().expect("bad format");
    assert!(e.to_string().contains("epoch:x"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn csv_logger_writes_a_header_and_one_row_per_epoch() {
    let dir = temp_dir("csv");
    let path = dir.join("log.csv");
    let mut opt = Sgd::<f64>::new(0.1);
    let mut cb = CsvLogger::new(&path);
    drive(&mut cb, &mut opt, "val_loss", &[0.5, 0.25], 2).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "epoch,loss,val_loss\n0,1.0,0.5\n1,1.0,0.25\n");
    let mut cb = CsvLogger::new(&path).append(true).separator(';');
    drive(&mut cb, &mut opt, "val_loss", &[0.125], 1).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "epoch,loss,val_loss\n0,1.0,0.5\n1,1.0,0.25\n0;1.0;0.125\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A list runs its callbacks in order and shares the stop flag.
#[test]
fn callback_list_runs_every_callback() {
    let dir = temp_dir("list");
    let path = dir.join("log.csv");
    let mut opt = Sgd::<f64>::new(0.1);
    let mut list = CallbackList(vec![
        Box::new(EarlyStopping::new("val_loss").patience(1)),
        Box::new(ReduceLROnPlateau::new("val_loss").patience(1).factor(0.5)),
        Box::new(CsvLogger::new(&path)),
    ]);
    let run = drive(&mut list, &mut opt, "val_loss", &[1.0, 2.0, 3.0, 4.0], 4).unwrap();
    assert_eq!(run.epochs_run, 2);
    assert_eq!(run.lr_final, 0.05);
    // ReduceLROnPlateau put the rate in the logs before the logger wrote them.
    assert!(std::fs::read_to_string(&path).unwrap().starts_with("epoch,learning_rate,loss,val_loss\n"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Broken at every epoch boundary, the callbacks' state handed to fresh callbacks (as a checkpoint
/// does), both decide as Keras on every fixture case: the same stop, best and learning rates.
#[test]
fn callbacks_resumed_from_their_state_decide_as_keras() {
    let root = fixture();
    let mut n = 0;
    for (ci, case) in cases(&root, "callbacks").iter().enumerate() {
        let (a, name) = (&case["args"], case["callback"].as_str().unwrap());
        let monitor = a["monitor"].as_str().unwrap();
        let (values, _) = array(&case["monitor_values"], "monitor_values");
        let epochs = case["epochs"].as_u64().unwrap() as usize;
        let runs = case["epochs_run"].as_u64().map_or(epochs, |r| r as usize);
        for k in 1..runs {
            let label = format!("{name} case {ci} broken after {k} epochs");
            n += 1;
            if name == "EarlyStopping" {
                let mut opt = Sgd::<f64>::new(0.1);
                let mut first = early_stopping(a);
                drive(&mut first, &mut opt, monitor, &values, k).unwrap();
                let mut second = early_stopping(a);
                Callback::<f64>::load_state(&mut second, first.state().unwrap()).unwrap();
                let run = drive_from(&mut second, &mut opt, monitor, &values, k, epochs).unwrap();
                assert_eq!(second.stopped_epoch(), opt_usize(&case["stopped_epoch"]), "{label}: stopped_epoch");
                assert_eq!(k + run.epochs_run, runs, "{label}: epochs_run");
                assert_eq!(second.best_epoch(), opt_usize(&case["best_epoch"]), "{label}: best_epoch");
                assert_eq!(second.best(), Some(num(&case["best"], "best")), "{label}: best");
            } else {
                let mut opt = Sgd::<f64>::new(num(&case["initial_lr"], "initial_lr"));
                let mut first = reduce_lr(a);
                let head = drive(&mut first, &mut opt, monitor, &values, k).unwrap();
                let mut second = reduce_lr(a);
                Callback::<f64>::load_state(&mut second, Callback::<f64>::state(&first).unwrap()).unwrap();
                let tail = drive_from(&mut second, &mut opt, monitor, &values, k, epochs).unwrap();
                let lrs: Vec<f64> = head.lr_per_epoch.iter().chain(&tail.lr_per_epoch).copied().collect();
                assert_eq!(lrs, array(&case["lr_per_epoch"], "lr_per_epoch").0, "{label}: lr_per_epoch");
                assert_eq!(tail.lr_final, num(&case["lr_final"], "lr_final"), "{label}: lr_final");
            }
        }
    }
    assert!(n >= 40, "{n} broken runs");
    // A state goes only into its own kind of callback.
    let es = EarlyStopping::<f64>::new("loss").state().unwrap();
    let e = Callback::<f64>::load_state(&mut ReduceLROnPlateau::new("loss"), es).unwrap_err();
    assert_eq!(e.to_string(), "ReduceLROnPlateau: argument 'state' is the state of another callback, not of ReduceLROnPlateau (got 'EarlyStopping')");
}

/// ModelCheckpoint with `save_best_only`, broken at every epoch and resumed from its state (as a
/// checkpoint keeps it), saves exactly the epochs the unbroken run saves after the break; without
/// the state it would save the first epoch after the break whether or not it improves.
/// `initial_value_threshold` is the best the first save must beat, as Keras.
#[test]
fn model_checkpoint_resumed_from_its_state_saves_what_an_unbroken_run_saves() {
    let dir = temp_dir("ckpt-resume");
    let mut opt = Sgd::<f64>::new(0.1);
    let values = [0.9, 0.8, 0.85, 0.7, 0.75, 0.72, 0.6];
    let template = dir.join("m-{epoch:02d}.txt");
    let best_only = || ModelCheckpoint::new(template.to_str().unwrap()).save_best_only(true);
    let names = |cb: &ModelCheckpoint| -> Vec<String> {
        cb.saved().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect()
    };
    let mut straight = best_only();
    drive(&mut straight, &mut opt, "val_loss", &values, values.len()).unwrap();
    let all = names(&straight);
    assert_eq!(all, ["m-01.txt", "m-02.txt", "m-04.txt", "m-07.txt"]);
    for k in 1..values.len() {
        let mut first = best_only();
        drive(&mut first, &mut opt, "val_loss", &values, k).unwrap();
        let mut second = best_only();
        Callback::<f64>::load_state(&mut second, Callback::<f64>::state(&first).unwrap()).unwrap();
        assert_eq!(second.best(), first.best(), "k = {k}");
        drive_from(&mut second, &mut opt, "val_loss", &values, k, values.len()).unwrap();
        let joined: Vec<String> = names(&first).into_iter().chain(names(&second)).collect();
        assert_eq!(joined, all, "broken after {k} epochs");
    }
    // A fresh callback after epoch 4 (best 0.7) would save epoch 5 (0.75), which is no improvement.
    let mut fresh = best_only();
    drive_from(&mut fresh, &mut opt, "val_loss", &values, 4, values.len()).unwrap();
    assert_eq!(names(&fresh)[0], "m-05.txt");

    let mut threshold = best_only().initial_value_threshold(Some(0.75));
    drive(&mut threshold, &mut opt, "val_loss", &values, values.len()).unwrap();
    assert_eq!(names(&threshold), ["m-04.txt", "m-07.txt"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
