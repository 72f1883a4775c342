//! The parts of a checkpoint beyond weights and optimizer buffers: the optimizer's config, the
//! shuffling generator, and the callbacks' state (JSON in the checkpoint metadata, tensors under
//! `callbacks/`); and the model file `fit` saves for `ModelCheckpoint`.

use super::error::{model_err, ModelFileError};
use super::safetensors::SafeTensors;
use crate::tensor::{Float, Tensor};
use crate::train::callbacks::CallbackState;
use crate::train::CallbackRefs;
use serde_json::{json, Map, Value};

/// `fit`'s way to save the network for `ModelCheckpoint`: the model file, written atomically.
impl<T: Float> crate::train::WriteModelFile for crate::nn::Sequential<T> {
    fn write_model_file(&self, path: &std::path::Path) -> Result<(), String> {
        super::save_model(path, self, &Default::default()).map_err(|e| e.to_string())
    }
}

/// Callback state tensors are named `callbacks/INDEX/KEY/POSITION`, e.g. `callbacks/0/best_weights/3`.
pub const CALLBACKS_PREFIX: &str = "callbacks/";

/// Tensors with their names in the file.
type Named<T> = Vec<(String, Tensor<T>)>;

/// Each callback's state as JSON (class, values, tensor counts) and its tensors, named.
pub(crate) fn callbacks_to_json<T: Float>(callbacks: CallbackRefs<'_, T>) -> Result<(Value, Named<T>), String> {
    let mut list = Vec::with_capacity(callbacks.len());
    let mut tensors = Vec::new();
    for (i, cb) in callbacks.iter().enumerate() {
        let cb = cb.try_borrow().map_err(|_| format!("callback {i} is borrowed mutably elsewhere"))?;
        list.push(match cb.state() {
            None => Value::Null,
            Some(s) => {
                let mut counts = Map::new();
                for (key, list) in &s.tensors {
                    counts.insert(key.clone(), list.len().into());
                    for (j, t) in list.iter().enumerate() {
                        tensors.push((format!("{CALLBACKS_PREFIX}{i}/{key}/{j}"), t.clone()));
                    }
                }
                json!({"class": s.class, "values": s.values, "tensors": counts})
            }
        });
    }
    Ok((Value::Array(list), tensors))
}

/// Reads the callbacks' states for `callbacks` (the same callbacks, in the same order, as saved)
/// and checks them; nothing is loaded yet. `None` entries keep no state.
pub(crate) fn callbacks_from_json<T: Float>(
    file: &SafeTensors,
    saved: Option<&Value>,
    callbacks: CallbackRefs<'_, T>,
) -> Result<Vec<Option<CallbackState<T>>>, ModelFileError> {
    let bad = |what: String| model_err(format!("{}: callbacks: {what}", super::checkpoint::CHECKPOINT_KEY));
    if callbacks.is_empty() {
        // Loading without callbacks ignores their state.
        return Ok(Vec::new());
    }
    let saved = match saved {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => return Err(bad("must be a list".into())),
    };
    if saved.len() != callbacks.len() {
        return Err(super::checkpoint::mismatch(format!(
            "the file holds the state of {} callbacks but {} were given (pass the same callbacks, in the same order)",
            saved.len(),
            callbacks.len()
        )));
    }
    let mut out = Vec::with_capacity(saved.len());
    for (i, (entry, cb)) in saved.iter().zip(callbacks).enumerate() {
        let ours = cb.try_borrow().map_err(|_| bad(format!("callback {i} is borrowed mutably elsewhere")))?.state().map(|s| s.class);
        let Some(obj) = entry.as_object() else {
            if !entry.is_null() {
                return Err(bad(format!("entry {i} must be an object or null")));
            }
            if let Some(class) = ours {
                return Err(super::checkpoint::mismatch(format!("callback {i} is a {class} but the file kept no state for it")));
            }
            out.push(None);
            continue;
        };
        let class = obj.get("class").and_then(Value::as_str).ok_or_else(|| bad(format!("entry {i} has no \"class\"")))?;
        if ours.as_deref() != Some(class) {
            return Err(super::checkpoint::mismatch(format!(
                "callback {i} is {} but the file holds the state of a {class}",
                ours.map_or("one without state".to_string(), |c| format!("a {c}"))
            )));
        }
        let values = obj.get("values").and_then(Value::as_object).cloned().ok_or_else(|| bad(format!("entry {i} has no \"values\" object")))?;
        let mut state = CallbackState { class: class.to_string(), values, tensors: Vec::new() };
        for (key, n) in obj.get("tensors").and_then(Value::as_object).into_iter().flatten() {
            let n = n.as_u64().ok_or_else(|| bad(format!("entry {i}: tensor count of {key:?} must be a whole number")))?;
            let list = (0..n)
                .map(|j| {
                    let name = format!("{CALLBACKS_PREFIX}{i}/{key}/{j}");
                    file.info(&name).ok_or_else(|| bad(format!("tensor {name:?} is missing")))?;
                    file.tensor::<T>(&name)
                })
                .collect::<Result<Vec<_>, _>>()?;
            state.tensors.push((key.clone(), list));
        }
        out.push(Some(state));
    }
    if let Some(extra) = file.tensors().iter().find(|t| {
        t.name.starts_with(CALLBACKS_PREFIX) && {
            let rest = &t.name[CALLBACKS_PREFIX.len()..];
            let mut parts = rest.splitn(3, '/');
            let (i, key) = (parts.next().and_then(|i| i.parse::<usize>().ok()), parts.next());
            let j = parts.next().and_then(|j| j.parse::<usize>().ok());
            match (i, key, j) {
                (Some(i), Some(key), Some(j)) => !out.get(i).and_then(Option::as_ref).is_some_and(|s| {
                    s.tensors.iter().any(|(k, l)| k == key && j < l.len())
                }),
                _ => true,
            }
        }
    }) {
        return Err(bad(format!("tensor {:?} belongs to no callback's state", extra.name)));
    }
    Ok(out)
}

/// Whether the file's optimizer config and the model's describe the same optimizer: every key
/// equal, except a constant `learning_rate` (callbacks change it; the file's rate is restored).
pub(crate) fn same_optimizer(file: &Map<String, Value>, model: &Map<String, Value>) -> Result<(), String> {
    let keys: std::collections::BTreeSet<&String> = file.keys().chain(model.keys()).collect();
    let differ: Vec<String> = keys
        .into_iter()
        .filter(|k| {
            let (a, b) = (file.get(*k), model.get(*k));
            let constants = k.as_str() == "learning_rate" && a.is_some_and(Value::is_number) && b.is_some_and(Value::is_number);
            !constants && a != b
        })
        .map(|k| format!("{k}: file {} vs model {}", file.get(k).unwrap_or(&Value::Null), model.get(k).unwrap_or(&Value::Null)))
        .collect();
    if differ.is_empty() {
        Ok(())
    } else {
        Err(format!("the file's optimizer differs from the model's ({})", differ.join("; ")))
    }
}
