//! A `Sequential` model as one safetensors file: weights as tensors, architecture as metadata.

use super::error::{model_err, ModelFileError};
use super::safetensors::{tensors_to_bytes, Dtype, SafeTensors};
use super::write_atomic;
use crate::nn::{LayerRegistry, Sequential};
use crate::tensor::{Float, Tensor};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// Metadata key holding the architecture as JSON text.
pub const ARCHITECTURE_KEY: &str = "tapegrad.architecture";
/// Metadata key holding the file format version (`"2"`; files of version `"1"` still load).
pub const FORMAT_KEY: &str = "tapegrad.format";
/// Metadata keys starting with this are tapegrad's own; user metadata may not use it.
pub const RESERVED_PREFIX: &str = "tapegrad.";
const FORMAT_VERSION: &str = "2";

/// A model read back from a file: the network with its weights, the user's metadata (experiment
/// name, loss, metric, ...; tapegrad's own `tapegrad.*` keys removed) and the file's dtype.
#[derive(Clone, Debug)]
pub struct SavedModel<T: Float> {
    /// The rebuilt network.
    pub model: Sequential<T>,
    /// The metadata given to [`save_model`].
    pub metadata: BTreeMap<String, String>,
    /// The element type the weights were stored in.
    pub dtype: Dtype,
}

/// One layer as the architecture metadata describes it: its class, name and configuration.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LayerSpec {
    pub class_name: String,
    pub name: String,
    pub config: Map<String, Value>,
}

/// The parsed `tapegrad.architecture` metadata.
///
/// Format 2 stores each layer as `{"class_name": ..., "name": ..., <its config keys>}`; format 1
/// (before layers were a trait) had only `Dense` layers and no `class_name`, so a layer without
/// one is read as `Dense`: files of both formats load.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Architecture {
    pub dtype: Dtype,
    /// One sample's shape (`[width]` for a model of vectors).
    pub input_shape: Vec<usize>,
    pub layers: Vec<LayerSpec>,
}

impl Architecture {
    /// The architecture of `net`, stored in `T`'s dtype.
    pub fn of<T: Float>(net: &Sequential<T>) -> Self {
        let layers = net
            .layers()
            .zip(net.layer_names())
            .map(|(l, name)| LayerSpec {
                class_name: l.class_name().to_string(),
                name: name.to_string(),
                config: match l.config() {
                    Value::Object(m) => m,
                    Value::Null => Map::new(),
                    other => Map::from_iter([("config".to_string(), other)]),
                },
            })
            .collect();
        Architecture { dtype: Dtype::of::<T>(), input_shape: net.input_shape().to_vec(), layers }
    }

    /// Whether two architectures compute the same function shape-wise (initializers and dtype aside).
    pub fn same_network(&self, other: &Architecture) -> bool {
        let shape_config = |l: &LayerSpec| -> Map<String, Value> {
            l.config.iter().filter(|(k, _)| !k.ends_with("_initializer")).map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        self.input_shape == other.input_shape
            && self.layers.len() == other.layers.len()
            && self.layers.iter().zip(&other.layers).all(|(a, b)| {
                a.class_name == b.class_name && a.name == b.name && shape_config(a) == shape_config(b)
            })
    }

    /// A one-line description, for mismatch messages.
    pub fn describe(&self) -> String {
        let layers: Vec<String> = self
            .layers
            .iter()
            .map(|l| match (l.config.get("units"), l.config.get("activation").and_then(Value::as_str)) {
                (Some(units), Some(act)) if l.class_name == "Dense" => {
                    let no_bias = if l.config.get("use_bias") == Some(&Value::Bool(false)) { " no bias" } else { "" };
                    format!("{}({units} {act}{no_bias})", l.name)
                }
                _ => format!("{}({} {})", l.name, l.class_name, Value::Object(l.config.clone())),
            })
            .collect();
        let input = match &self.input_shape[..] {
            [w] => w.to_string(),
            s => format!("{s:?}"),
        };
        format!("input {input} -> {}", layers.join(" -> "))
    }

    /// The JSON text stored under [`ARCHITECTURE_KEY`].
    pub fn to_json(&self) -> String {
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|l| {
                let mut obj = Map::new();
                obj.insert("class_name".into(), Value::String(l.class_name.clone()));
                obj.insert("name".into(), Value::String(l.name.clone()));
                obj.extend(l.config.iter().map(|(k, v)| (k.clone(), v.clone())));
                Value::Object(obj)
            })
            .collect();
        let mut arch = json!({
            "class_name": "Sequential",
            "dtype": self.dtype.name(),
            "input_width": self.input_shape.iter().product::<usize>(),
            "layers": layers,
        });
        // Samples of more than one axis also store their shape (files of vector models are unchanged).
        if self.input_shape.len() > 1 {
            arch["input_shape"] = json!(self.input_shape);
        }
        arch.to_string()
    }

    /// Parses and checks the architecture JSON (each layer's configuration is checked when the
    /// layer is made, by [`build`](Self::build)).
    pub fn from_json(text: &str) -> Result<Self, ModelFileError> {
        let bad = |what: String| model_err(format!("{ARCHITECTURE_KEY}: {what}"));
        let value: Value = serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let obj = value.as_object().ok_or_else(|| bad("not a JSON object".into()))?;
        only_keys(obj, &["class_name", "dtype", "input_width", "input_shape", "layers"]).map_err(|k| bad(format!("unknown key {k:?}")))?;
        match obj.get("class_name") {
            Some(Value::String(s)) if s == "Sequential" => {}
            Some(other) => return Err(bad(format!("class_name is {other}; only \"Sequential\" is supported"))),
            None => return Err(bad("no \"class_name\"".into())),
        }
        let dtype = match obj.get("dtype").and_then(Value::as_str) {
            Some("F32") => Dtype::F32,
            Some("F64") => Dtype::F64,
            Some(other) => return Err(bad(format!("dtype {other:?} is not F32 or F64"))),
            None => return Err(bad("\"dtype\" is missing or not a string".into())),
        };
        let input_width = positive(obj.get("input_width")).ok_or_else(|| bad("\"input_width\" must be a positive integer".into()))?;
        let input_shape = match obj.get("input_shape") {
            None => vec![input_width],
            Some(Value::Array(dims)) => {
                let dims: Option<Vec<usize>> = dims.iter().map(|d| positive(Some(d))).collect();
                match dims {
                    Some(d) if !d.is_empty() && d.iter().product::<usize>() == input_width => d,
                    _ => return Err(bad(format!("\"input_shape\" must be positive integers whose product is input_width {input_width}"))),
                }
            }
            Some(_) => return Err(bad("\"input_shape\" must be a list of positive integers".into())),
        };
        let layers = obj.get("layers").and_then(Value::as_array).ok_or_else(|| bad("\"layers\" must be a list".into()))?;
        if layers.is_empty() {
            return Err(bad("\"layers\" is empty; a model needs at least one layer".into()));
        }
        let mut names = HashSet::new();
        let mut specs = Vec::with_capacity(layers.len());
        for (i, layer) in layers.iter().enumerate() {
            let bad = |what: String| bad(format!("layer {i}: {what}"));
            let l = layer.as_object().ok_or_else(|| bad("not an object".into()))?;
            let name = match l.get("name") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                _ => return Err(bad("\"name\" must be a non-empty string".into())),
            };
            if !names.insert(name.clone()) {
                return Err(bad(format!("the name {name:?} is used by an earlier layer")));
            }
            let class_name = match l.get("class_name") {
                None => "Dense".to_string(),
                Some(Value::String(s)) => s.clone(),
                Some(_) => return Err(bad("\"class_name\" must be a string".into())),
            };
            let config = l.iter().filter(|(k, _)| *k != "name" && *k != "class_name").map(|(k, v)| (k.clone(), v.clone())).collect();
            specs.push(LayerSpec { class_name, name, config });
        }
        Ok(Architecture { dtype, input_shape, layers: specs })
    }

    /// The network the architecture describes, its layers made by `registry`, with the weights'
    /// names and shapes but no values yet (nothing is allocated before the file's tensors are
    /// checked against them; then `fill_parameters`).
    pub fn build<T: Float>(&self, registry: &LayerRegistry<T>) -> Result<Sequential<T>, ModelFileError> {
        let bad = |i: usize, what: String| model_err(format!("{ARCHITECTURE_KEY}: layer {i}: {what}"));
        let mut layers = Vec::with_capacity(self.layers.len());
        for (i, l) in self.layers.iter().enumerate() {
            let layer = registry.from_config(&l.class_name, &Value::Object(l.config.clone())).map_err(|e| bad(i, e))?;
            layers.push((layer, Some(l.name.clone())));
        }
        Sequential::build_named(&self.input_shape, layers, 0, true).map_err(|e| model_err(format!("{ARCHITECTURE_KEY}: {e}")))
    }
}

fn positive(v: Option<&Value>) -> Option<usize> {
    v.and_then(Value::as_u64).and_then(|n| usize::try_from(n).ok()).filter(|&n| n > 0)
}

fn only_keys<'a>(obj: &'a Map<String, Value>, allowed: &[&str]) -> Result<(), &'a str> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(k),
        None => Ok(()),
    }
}

/// The metadata of a model file: the user's keys (checked) plus tapegrad's.
pub(crate) fn model_metadata<T: Float>(
    net: &Sequential<T>,
    user: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, String> {
    if let Some(k) = user.keys().find(|k| k.starts_with(RESERVED_PREFIX)) {
        return Err(format!("metadata key {k:?} uses the reserved prefix {RESERVED_PREFIX:?}"));
    }
    let mut meta = user.clone();
    meta.insert(ARCHITECTURE_KEY.into(), Architecture::of(net).to_json());
    meta.insert(FORMAT_KEY.into(), FORMAT_VERSION.into());
    Ok(meta)
}

/// The bytes of a model file (what [`save_model`] writes).
///
/// # Errors
/// [`ModelFileError::Save`] when a metadata key starts with `tapegrad.` (reserved).
pub fn model_to_bytes<T: Float>(net: &Sequential<T>, metadata: &BTreeMap<String, String>) -> Result<Vec<u8>, ModelFileError> {
    let meta = model_metadata(net, metadata)
        .map_err(|problem| ModelFileError::Save { path: super::error::BYTES.into(), problem })?;
    let named = net.named_parameters();
    let refs: Vec<(&str, &Tensor<T>)> = named.iter().map(|(n, t)| (*n, t)).collect();
    tensors_to_bytes(&refs, &meta)
}

/// Saves `net` to `path` as safetensors: each weight under its Keras-style name (`dense/kernel`
/// of shape `(inputs, units)`, `dense/bias`), the architecture as JSON under the metadata key
/// `tapegrad.architecture`, and your `metadata` (e.g. experiment, loss, metric) beside it. The
/// write is atomic: a crash leaves the previous file whole.
///
/// ```
/// use std::collections::BTreeMap;
/// use tapegrad::io::{load_model, save_model};
/// use tapegrad::nn::{Activation, Dense, Sequential};
/// let net = Sequential::<f32>::with_seed(2, vec![Dense::new(8).activation(Activation::Relu), Dense::new(1)], 0);
/// let path = std::env::temp_dir().join(format!("tapegrad-doc-save-{}.safetensors", std::process::id()));
/// let meta = BTreeMap::from([("loss".to_string(), "mse".to_string())]);
/// save_model(&path, &net, &meta).unwrap();
/// let saved = load_model::<f32>(&path).unwrap();
/// assert_eq!(saved.model.parameters(), net.parameters());
/// assert_eq!(saved.metadata["loss"], "mse");
/// std::fs::remove_file(&path).unwrap();
/// ```
///
/// # Errors
/// [`ModelFileError::Save`] for a metadata key starting with `tapegrad.`; [`ModelFileError::Io`]
/// when the file cannot be written.
pub fn save_model<T: Float>(
    path: impl AsRef<Path>,
    net: &Sequential<T>,
    metadata: &BTreeMap<String, String>,
) -> Result<(), ModelFileError> {
    let path = path.as_ref();
    let bytes = model_to_bytes(net, metadata).map_err(|e| e.at(path))?;
    write_atomic(path, &bytes)
}

/// Loads a model saved by [`save_model`] (or [`save_checkpoint`](super::save_checkpoint)),
/// rebuilding the network from the file's architecture metadata: no code has to describe it.
/// Weights stored as `F32` or `F64` load into either `T` (`F64` into `f32` rounds). Files of
/// format 1 (written before layers became a trait) load as they are. Layers of your own need
/// [`load_model_with`] and a registry that knows them.
///
/// # Errors
/// A one-line [`ModelFileError`]: `Io` when the file cannot be read; `Format` for an empty,
/// truncated or corrupted file or one that is not safetensors; `Model` for missing or invalid
/// architecture metadata, an unknown layer class, a missing, extra or wrongly shaped tensor, or a
/// tensor whose dtype is not the architecture's.
pub fn load_model<T: Float>(path: impl AsRef<Path>) -> Result<SavedModel<T>, ModelFileError> {
    load_model_with(path, &LayerRegistry::new())
}

/// [`load_model`] with the layer constructors of `registry` (Keras' `custom_objects`).
///
/// # Errors
/// As [`load_model`].
pub fn load_model_with<T: Float>(path: impl AsRef<Path>, registry: &LayerRegistry<T>) -> Result<SavedModel<T>, ModelFileError> {
    let path = path.as_ref();
    let file = SafeTensors::read(path)?;
    model_from_safetensors(&file, registry).map_err(|e| e.at(path))
}

/// As [`load_model`], from the bytes of a file.
///
/// # Errors
/// As [`load_model`], with the path `"<bytes>"`.
pub fn model_from_bytes<T: Float>(bytes: Vec<u8>) -> Result<SavedModel<T>, ModelFileError> {
    model_from_bytes_with(bytes, &LayerRegistry::new())
}

/// As [`load_model_with`], from the bytes of a file.
///
/// # Errors
/// As [`load_model`], with the path `"<bytes>"`.
pub fn model_from_bytes_with<T: Float>(bytes: Vec<u8>, registry: &LayerRegistry<T>) -> Result<SavedModel<T>, ModelFileError> {
    model_from_safetensors(&SafeTensors::from_bytes(bytes)?, registry)
}

/// Rebuilds the model of a validated file.
pub(crate) fn model_from_safetensors<T: Float>(file: &SafeTensors, registry: &LayerRegistry<T>) -> Result<SavedModel<T>, ModelFileError> {
    let arch = architecture_of(file)?;
    let mut net = arch.build(registry)?;
    let weights = read_weights::<T>(file, &arch, &net)?;
    net.fill_parameters(&weights);
    let metadata = file.metadata().iter().filter(|(k, _)| !k.starts_with(RESERVED_PREFIX)).map(|(k, v)| (k.clone(), v.clone())).collect();
    Ok(SavedModel { model: net, metadata, dtype: arch.dtype })
}

/// The checked architecture of a file of a format this version reads.
pub(crate) fn architecture_of(file: &SafeTensors) -> Result<Architecture, ModelFileError> {
    let meta = file.metadata();
    let text = meta.get(ARCHITECTURE_KEY).ok_or_else(|| {
        model_err(format!("no {ARCHITECTURE_KEY:?} metadata: the file holds tensors but no tapegrad model description"))
    })?;
    match meta.get(FORMAT_KEY).map(String::as_str) {
        Some("1") | Some(FORMAT_VERSION) | None => {}
        Some(v) => {
            return Err(model_err(format!(
                "{FORMAT_KEY} is {v:?}; this tapegrad reads versions 1 and {FORMAT_VERSION} (save it again with the tapegrad that wrote it, in format {FORMAT_VERSION})"
            )))
        }
    }
    Architecture::from_json(text)
}

/// The file's weights for `net` (built from `arch`), in slot order, each checked for name, dtype
/// and shape. Tensors under `optimizer/` and `callbacks/` are allowed only in a checkpoint (checked
/// by its loader).
pub(crate) fn read_weights<T: Float>(file: &SafeTensors, arch: &Architecture, net: &Sequential<T>) -> Result<Vec<Tensor<T>>, ModelFileError> {
    let infos = net.store().infos();
    let is_checkpoint = file.metadata().contains_key(super::checkpoint::CHECKPOINT_KEY);
    let expected: HashSet<&str> = infos.iter().map(|i| i.name.as_str()).collect();
    if let Some(extra) = file.tensors().iter().find(|t| {
        let state = is_checkpoint
            && (t.name.starts_with(super::checkpoint::OPTIMIZER_PREFIX) || t.name.starts_with(super::training_state::CALLBACKS_PREFIX));
        !state && !expected.contains(t.name.as_str())
    }) {
        return Err(model_err(format!("tensor {:?} is not a weight of the described architecture", extra.name)));
    }
    let mut params: Vec<Tensor<T>> = Vec::with_capacity(infos.len());
    for i in infos {
        let (name, shape) = (&i.name, &i.shape[..]);
        let info = file
            .info(name)
            .ok_or_else(|| model_err(format!("tensor {name:?} is missing (the architecture needs shape {shape:?})")))?;
        if info.dtype != arch.dtype {
            return Err(model_err(format!("tensor {name:?} has dtype {} but the architecture says {}", info.dtype, arch.dtype)));
        }
        if info.shape != shape {
            return Err(model_err(format!("tensor {name:?} has shape {:?} but the architecture needs {shape:?}", info.shape)));
        }
        params.push(file.tensor::<T>(name)?);
    }
    Ok(params)
}
