//! Checkpoints: a model file plus what resuming `fit` needs: the optimizer's config, state and
//! step count, the epoch, the shuffling generator and the callbacks' state.

use super::error::{model_err, ModelFileError};
use super::model_file::{architecture_of, model_metadata, read_weights, Architecture, RESERVED_PREFIX};
use super::safetensors::{tensors_to_bytes, SafeTensors};
use super::training_state::{callbacks_from_json, callbacks_to_json, same_optimizer};
use super::write_atomic;
use crate::tensor::{Float, Tensor};
use crate::train::{CallbackRefs, Model, RngState};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// Metadata key of a checkpoint's JSON (`epoch`, `optimizer`, `learning_rate`, `iterations`,
/// `optimizer_config`, `rng`, `callbacks`).
pub const CHECKPOINT_KEY: &str = "tapegrad.checkpoint";
/// Optimizer state tensors are named `optimizer/BUFFER/PARAMETER`, e.g. `optimizer/m/dense/kernel`.
pub const OPTIMIZER_PREFIX: &str = "optimizer/";

/// What a checkpoint recorded besides the weights and state buffers.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// Epochs finished when it was saved (Keras' `initial_epoch` to resume from).
    pub epoch: usize,
    /// The optimizer's name (`"adam"`, ...).
    pub optimizer: String,
    /// The optimizer's learning rate when saved (restored into the model).
    pub learning_rate: f64,
    /// Optimizer steps taken (restored into the model): the schedule's step.
    pub iterations: u64,
    /// The optimizer as Keras' `get_config()` writes it (schedule and clipping included): what
    /// [`from_keras_config`](crate::optim::from_keras_config) rebuilds it from. Empty in
    /// checkpoints written before it was kept.
    pub optimizer_config: Map<String, Value>,
    /// The shuffling generator's state (restored into the model), if it was known when saved
    /// (see [`Model::rng_state`]).
    pub rng: Option<RngState>,
    /// The user's metadata.
    pub metadata: BTreeMap<String, String>,
}

/// The bytes of a checkpoint file (what [`save_checkpoint`] writes).
///
/// # Errors
/// As [`save_checkpoint`], with the path `"<bytes>"`.
pub fn checkpoint_to_bytes<T: Float>(
    model: &Model<T>,
    epoch: usize,
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>, ModelFileError> {
    checkpoint_to_bytes_with(model, epoch, metadata, &[])
}

/// As [`checkpoint_to_bytes`], with the state of `callbacks` (see [`save_checkpoint_with`]).
///
/// # Errors
/// As [`save_checkpoint`], with the path `"<bytes>"`.
pub fn checkpoint_to_bytes_with<T: Float>(
    model: &Model<T>,
    epoch: usize,
    metadata: &BTreeMap<String, String>,
    callbacks: CallbackRefs<'_, T>,
) -> Result<Vec<u8>, ModelFileError> {
    let save_err = |problem: String| ModelFileError::Save { path: super::error::BYTES.into(), problem };
    let net = model.net();
    let opt = model.optimizer();
    let mut meta = model_metadata(net, metadata).map_err(save_err)?;
    let (callback_json, callback_tensors) = callbacks_to_json(callbacks).map_err(save_err)?;
    let info = json!({
        "epoch": epoch,
        "optimizer": opt.name(),
        "learning_rate": opt.learning_rate(),
        "iterations": opt.iterations(),
        "optimizer_config": opt.keras_config(),
        "rng": model.rng_state().map(|s| s.to_string()),
        "callbacks": callback_json,
    });
    meta.insert(CHECKPOINT_KEY.into(), info.to_string());

    let named = net.named_parameters();
    let buffers = opt.state_buffers();
    // State tensors own their data here (a slot's buffer is a flat Vec); weights are borrowed.
    let mut state: Vec<(String, Tensor<T>)> = Vec::new();
    for (buffer, slots) in &buffers {
        for (slot, data) in slots.iter().enumerate() {
            if data.is_empty() {
                continue;
            }
            let (pname, p) = named
                .get(slot)
                .ok_or_else(|| save_err(format!("optimizer buffer {buffer:?} has state for slot {slot} but the model has {} parameters", named.len())))?;
            if data.len() != p.len() {
                return Err(save_err(format!("optimizer buffer {buffer:?} of {pname:?} has {} values for {} weights", data.len(), p.len())));
            }
            state.push((format!("{OPTIMIZER_PREFIX}{buffer}/{pname}"), Tensor::from_vec(data.clone(), p.shape())));
        }
    }
    let mut all: Vec<(&str, &Tensor<T>)> = named.iter().map(|(n, t)| (*n, t)).collect();
    all.extend(state.iter().chain(&callback_tensors).map(|(n, t)| (n.as_str(), t)));
    tensors_to_bytes(&all, &meta)
}

/// Saves everything needed to resume training `model`: its weights and architecture (so the file
/// also loads with [`load_model`](super::load_model)), the optimizer's name, config (its schedule
/// and clipping), learning rate, step count and state buffers (as tensors
/// `optimizer/BUFFER/PARAMETER`), the shuffling generator's state, the number of finished
/// `epoch`s and your `metadata`. The write is atomic. [`save_checkpoint_with`] also keeps the
/// callbacks' state.
///
/// ```
/// use std::collections::BTreeMap;
/// use tapegrad::io::{load_checkpoint, save_checkpoint};
/// use tapegrad::nn::{Dense, Sequential};
/// use tapegrad::optim::{Adam, Optimizer};
/// use tapegrad::train::{FitConfig, LossFn, Verbose};
/// use tapegrad::Tensor;
/// let x = Tensor::from_vec(vec![0.0, 1.0, 2.0, 3.0], &[4, 1]);
/// let y = x.map(|v| 3.0 * v);
/// let compile = || Sequential::<f64>::with_seed(1, vec![Dense::new(1)], 0)
///     .compile(LossFn::named("mse").unwrap(), Adam::new(0.1), &[]);
/// let mut model = compile();
/// model.fit(&x, &y, FitConfig::new(3).shuffle(false).verbose(Verbose::Silent)).unwrap();
/// let path = std::env::temp_dir().join(format!("tapegrad-doc-ckpt-{}.safetensors", std::process::id()));
/// save_checkpoint(&path, &model, 3, &BTreeMap::new()).unwrap();
///
/// let mut resumed = compile();
/// let ckpt = load_checkpoint(&path, &mut resumed).unwrap();
/// assert_eq!((ckpt.epoch, resumed.optimizer().iterations()), (3, 3));
/// assert_eq!(resumed.net().parameters(), model.net().parameters());
/// std::fs::remove_file(&path).unwrap();
/// ```
///
/// # Errors
/// [`ModelFileError::Save`] for a metadata key starting with `tapegrad.`; [`ModelFileError::Io`]
/// when the file cannot be written.
pub fn save_checkpoint<T: Float>(
    path: impl AsRef<Path>,
    model: &Model<T>,
    epoch: usize,
    metadata: &BTreeMap<String, String>,
) -> Result<(), ModelFileError> {
    save_checkpoint_with(path, model, epoch, metadata, &[])
}

/// [`save_checkpoint`] plus the state of `callbacks` (EarlyStopping's `wait`, `best` and
/// `best_weights`, ReduceLROnPlateau's `wait`, `cooldown_counter` and `best`, ModelCheckpoint's
/// `best`: see [`Callback::state`](crate::train::callbacks::Callback::state)), as JSON in the
/// metadata and tensors `callbacks/INDEX/KEY/POSITION`. Save between `fit` calls (after the
/// epochs you ran) and resume with [`load_checkpoint_with`] and the same callbacks:
///
/// ```
/// use std::cell::RefCell;
/// use std::collections::BTreeMap;
/// use tapegrad::io::{load_checkpoint_with, save_checkpoint_with};
/// use tapegrad::nn::{Dense, Sequential};
/// use tapegrad::optim::{ExponentialDecay, Sgd};
/// use tapegrad::train::callbacks::EarlyStopping;
/// use tapegrad::train::{FitConfig, LossFn, Verbose};
/// use tapegrad::Tensor;
/// let x = Tensor::from_vec((0..12).map(|i| i as f64 / 12.0).collect(), &[12, 1]);
/// let y = x.map(|v| 2.0 * v);
/// let compile = || {
///     let lr = ExponentialDecay::new(0.1, 5, 0.5).unwrap();
///     Sequential::<f64>::with_seed(1, vec![Dense::new(1)], 0).compile(LossFn::named("mse").unwrap(), Sgd::new(lr), &[])
/// };
/// let cfg = |epochs| FitConfig::new(epochs).batch_size(4).verbose(Verbose::Silent);
/// // Unbroken: 6 epochs.
/// let (mut straight, stop) = (compile(), RefCell::new(EarlyStopping::new("loss").patience(10)));
/// straight.fit(&x, &y, cfg(6).seed(3).callbacks(&[&stop])).unwrap();
/// // Broken after 2 epochs: checkpoint, then a fresh model and callback resume.
/// let (mut first, stop1) = (compile(), RefCell::new(EarlyStopping::new("loss").patience(10)));
/// first.fit(&x, &y, cfg(2).seed(3).callbacks(&[&stop1])).unwrap();
/// let path = std::env::temp_dir().join(format!("tapegrad-doc-resume-{}.safetensors", std::process::id()));
/// save_checkpoint_with(&path, &first, 2, &BTreeMap::new(), &[&stop1]).unwrap();
/// let (mut resumed, stop2) = (compile(), RefCell::new(EarlyStopping::new("loss").patience(10)));
/// let ckpt = load_checkpoint_with(&path, &mut resumed, &[&stop2]).unwrap();
/// resumed.fit(&x, &y, cfg(6).initial_epoch(ckpt.epoch).callbacks(&[&stop2])).unwrap();
/// assert_eq!(resumed.net().parameters(), straight.net().parameters());
/// assert_eq!(stop2.borrow().best(), stop.borrow().best());
/// std::fs::remove_file(&path).unwrap();
/// ```
///
/// # Errors
/// As [`save_checkpoint`], and [`ModelFileError::Save`] when a callback is mutably borrowed.
pub fn save_checkpoint_with<T: Float>(
    path: impl AsRef<Path>,
    model: &Model<T>,
    epoch: usize,
    metadata: &BTreeMap<String, String>,
    callbacks: CallbackRefs<'_, T>,
) -> Result<(), ModelFileError> {
    let path = path.as_ref();
    let bytes = checkpoint_to_bytes_with(model, epoch, metadata, callbacks).map_err(|e| e.at(path))?;
    write_atomic(path, &bytes)
}

/// Restores a checkpoint saved by [`save_checkpoint`] into `model`, compiled with the same
/// architecture and the same optimizer (kind, hyperparameters, schedule and clipping; a constant
/// learning rate may differ): the weights, the optimizer's learning rate, step count and state
/// buffers, and the shuffling generator. Then `fit` with `initial_epoch(checkpoint.epoch)` (and
/// no `seed`, which would restart the generator) continues exactly where the saved run stopped.
/// Everything is checked before anything changes, so on error `model` is as it was. Callbacks'
/// state in the file is ignored (see [`load_checkpoint_with`]).
///
/// # Errors
/// As [`load_model`](super::load_model) for a bad file; [`ModelFileError::Model`] when the file is
/// not a checkpoint or holds an unknown or wrongly shaped state tensor;
/// [`ModelFileError::Mismatch`] when its architecture or optimizer differs from `model`'s.
pub fn load_checkpoint<T: Float>(path: impl AsRef<Path>, model: &mut Model<T>) -> Result<Checkpoint, ModelFileError> {
    load_checkpoint_with(path, model, &[])
}

/// [`load_checkpoint`] plus the callbacks' state, into `callbacks`: the same callbacks, in the
/// same order, as given to [`save_checkpoint_with`]. Each continues from its saved state at the
/// next `on_train_begin` instead of starting afresh.
///
/// # Errors
/// As [`load_checkpoint`], and [`ModelFileError::Mismatch`] when the callbacks differ in number or
/// class from the saved ones. The model and callbacks are unchanged on error, except that a
/// callback refusing its state (a corrupted value) leaves those before it loaded.
pub fn load_checkpoint_with<T: Float>(
    path: impl AsRef<Path>,
    model: &mut Model<T>,
    callbacks: CallbackRefs<'_, T>,
) -> Result<Checkpoint, ModelFileError> {
    let path = path.as_ref();
    let file = SafeTensors::read(path)?;
    checkpoint_from_safetensors(&file, model, callbacks).map_err(|e| e.at(path))
}

/// As [`load_checkpoint`], from the bytes of a file.
///
/// # Errors
/// As [`load_checkpoint`], with the path `"<bytes>"`.
pub fn checkpoint_from_bytes<T: Float>(bytes: Vec<u8>, model: &mut Model<T>) -> Result<Checkpoint, ModelFileError> {
    checkpoint_from_bytes_with(bytes, model, &[])
}

/// As [`load_checkpoint_with`], from the bytes of a file.
///
/// # Errors
/// As [`load_checkpoint_with`], with the path `"<bytes>"`.
pub fn checkpoint_from_bytes_with<T: Float>(bytes: Vec<u8>, model: &mut Model<T>, callbacks: CallbackRefs<'_, T>) -> Result<Checkpoint, ModelFileError> {
    checkpoint_from_safetensors(&SafeTensors::from_bytes(bytes)?, model, callbacks)
}

pub(crate) fn mismatch(problem: String) -> ModelFileError {
    ModelFileError::Mismatch { path: super::error::BYTES.into(), problem }
}

fn checkpoint_from_safetensors<T: Float>(file: &SafeTensors, model: &mut Model<T>, callbacks: CallbackRefs<'_, T>) -> Result<Checkpoint, ModelFileError> {
    let text = file.metadata().get(CHECKPOINT_KEY).ok_or_else(|| {
        model_err(format!("no {CHECKPOINT_KEY:?} metadata: this is a model file, not a checkpoint (use load_model)"))
    })?;
    let arch = architecture_of(file)?;
    let ours = Architecture::of(model.net());
    if !arch.same_network(&ours) {
        return Err(mismatch(format!("the file's network is {} but the model's is {}", arch.describe(), ours.describe())));
    }
    // Same architecture: the model's own parameters name and shape the file's.
    let weights = read_weights::<T>(file, &arch, model.net())?;
    let (info, saved_callbacks) = parse_info(text)?;
    let opt = model.optimizer();
    if info.optimizer != opt.name() {
        return Err(mismatch(format!("the file holds {:?} optimizer state but the model uses {:?}", info.optimizer, opt.name())));
    }
    if !info.optimizer_config.is_empty() {
        same_optimizer(&info.optimizer_config, &opt.keras_config()).map_err(mismatch)?;
    }
    let callback_states = callbacks_from_json(file, saved_callbacks.as_ref(), callbacks)?;

    // Stage every state buffer before touching the model.
    let shapes: Vec<(String, Vec<usize>)> = model.net().store().infos().iter().map(|i| (i.name.clone(), i.shape.to_vec())).collect();
    let mut used: HashSet<String> = HashSet::new();
    let mut staged: Vec<Vec<Vec<T>>> = Vec::new();
    for (buffer, _) in opt.state_buffers() {
        let mut slots = Vec::with_capacity(shapes.len());
        for (pname, shape) in &shapes {
            let name = format!("{OPTIMIZER_PREFIX}{buffer}/{pname}");
            match file.info(&name) {
                None => slots.push(Vec::new()),
                Some(t) => {
                    if t.dtype != arch.dtype {
                        return Err(model_err(format!("tensor {name:?} has dtype {} but the architecture says {}", t.dtype, arch.dtype)));
                    }
                    if &t.shape != shape {
                        return Err(model_err(format!("tensor {name:?} has shape {:?} but its weight has shape {shape:?}", t.shape)));
                    }
                    slots.push(file.tensor::<T>(&name)?.data().to_vec());
                    used.insert(name);
                }
            }
        }
        staged.push(slots);
    }
    if let Some(extra) = file.tensors().iter().find(|t| t.name.starts_with(OPTIMIZER_PREFIX) && !used.contains(&t.name)) {
        return Err(model_err(format!("tensor {:?} is not part of the {} optimizer's state", extra.name, info.optimizer)));
    }

    for (i, (cb, state)) in callbacks.iter().zip(callback_states).enumerate() {
        if let Some(state) = state {
            let mut cb = cb.try_borrow_mut().map_err(|_| model_err(format!("callback {i} is borrowed elsewhere")))?;
            cb.load_state(state).map_err(|e| model_err(format!("callback {i}: {e}")))?;
        }
    }
    model.net_mut().set_parameters(&weights);
    if let Some(rng) = info.rng {
        model.set_rng_state(rng);
    }
    let opt = model.optimizer_mut();
    opt.set_learning_rate(info.learning_rate);
    opt.set_iterations(info.iterations);
    for ((_, slots), new) in opt.state_buffers_mut().into_iter().zip(staged) {
        *slots = new;
    }
    let metadata = file.metadata().iter().filter(|(k, _)| !k.starts_with(RESERVED_PREFIX)).map(|(k, v)| (k.clone(), v.clone())).collect();
    Ok(Checkpoint { metadata, ..info })
}

fn parse_info(text: &str) -> Result<(Checkpoint, Option<Value>), ModelFileError> {
    let bad = |what: &str| model_err(format!("{CHECKPOINT_KEY}: {what}"));
    let v: Value = serde_json::from_str(text).map_err(|e| bad(&format!("not valid JSON: {e}")))?;
    let epoch = v.get("epoch").and_then(Value::as_u64).and_then(|e| usize::try_from(e).ok()).ok_or_else(|| bad("\"epoch\" must be a non-negative integer"))?;
    let optimizer = v.get("optimizer").and_then(Value::as_str).ok_or_else(|| bad("\"optimizer\" must be a string"))?.to_string();
    let learning_rate = v
        .get("learning_rate")
        .and_then(Value::as_f64)
        .filter(|lr| lr.is_finite())
        .ok_or_else(|| bad("\"learning_rate\" must be a finite number"))?;
    let iterations = v.get("iterations").and_then(Value::as_u64).ok_or_else(|| bad("\"iterations\" must be a non-negative integer"))?;
    let optimizer_config = match v.get("optimizer_config") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(bad("\"optimizer_config\" must be an object")),
    };
    let rng = match v.get("rng") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(RngState::parse(s).map_err(|e| bad(&format!("\"rng\": {e}")))?),
        Some(_) => return Err(bad("\"rng\" must be a string or null")),
    };
    let checkpoint = Checkpoint { epoch, optimizer, learning_rate, iterations, optimizer_config, rng, metadata: BTreeMap::new() };
    Ok((checkpoint, v.get("callbacks").cloned()))
}
