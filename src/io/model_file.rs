//! A `Sequential` model as one safetensors file: weights as tensors, architecture as metadata.

use super::error::{model_err, ModelFileError};
use super::safetensors::{tensors_to_bytes, Dtype, SafeTensors};
use super::write_atomic;
use crate::nn::{Activation, Dense, Init, Sequential};
use crate::tensor::{Float, Tensor};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// Metadata key holding the architecture as JSON text.
pub const ARCHITECTURE_KEY: &str = "tapegrad.architecture";
/// Metadata key holding the file format version (`"1"`).
pub const FORMAT_KEY: &str = "tapegrad.format";
/// Metadata keys starting with this are tapegrad's own; user metadata may not use it.
pub const RESERVED_PREFIX: &str = "tapegrad.";
const FORMAT_VERSION: &str = "1";

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

/// One layer as the architecture metadata describes it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LayerSpec {
    pub name: String,
    pub units: usize,
    pub activation: Activation,
    pub use_bias: bool,
    pub kernel_initializer: Init,
    pub bias_initializer: Init,
}

/// The parsed `tapegrad.architecture` metadata.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Architecture {
    pub dtype: Dtype,
    pub input_width: usize,
    pub layers: Vec<LayerSpec>,
}

impl Architecture {
    /// The architecture of `net`, stored in `T`'s dtype.
    pub fn of<T: Float>(net: &Sequential<T>) -> Self {
        let layers = net
            .built()
            .iter()
            .map(|b| LayerSpec {
                name: b.name.clone(),
                units: b.config.units,
                activation: b.config.activation,
                use_bias: b.config.use_bias,
                kernel_initializer: b.config.kernel_initializer,
                bias_initializer: b.config.bias_initializer,
            })
            .collect();
        Architecture { dtype: Dtype::of::<T>(), input_width: net.input_width(), layers }
    }

    /// Whether two architectures compute the same function shape-wise (initializers and dtype aside).
    pub fn same_network(&self, other: &Architecture) -> bool {
        self.input_width == other.input_width
            && self.layers.len() == other.layers.len()
            && self.layers.iter().zip(&other.layers).all(|(a, b)| {
                a.name == b.name && a.units == b.units && a.activation == b.activation && a.use_bias == b.use_bias
            })
    }

    /// A one-line description, for mismatch messages.
    pub fn describe(&self) -> String {
        let layers: Vec<String> = self
            .layers
            .iter()
            .map(|l| format!("{}({} {}{})", l.name, l.units, l.activation, if l.use_bias { "" } else { " no bias" }))
            .collect();
        format!("input {} -> {}", self.input_width, layers.join(" -> "))
    }

    /// The JSON text stored under [`ARCHITECTURE_KEY`].
    pub fn to_json(&self) -> String {
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|l| {
                json!({
                    "name": l.name,
                    "units": l.units,
                    "activation": l.activation.name(),
                    "use_bias": l.use_bias,
                    "kernel_initializer": init_to_json(&l.kernel_initializer),
                    "bias_initializer": init_to_json(&l.bias_initializer),
                })
            })
            .collect();
        json!({
            "class_name": "Sequential",
            "dtype": self.dtype.name(),
            "input_width": self.input_width,
            "layers": layers,
        })
        .to_string()
    }

    /// Parses and checks the architecture JSON.
    pub fn from_json(text: &str) -> Result<Self, ModelFileError> {
        let bad = |what: String| model_err(format!("{ARCHITECTURE_KEY}: {what}"));
        let value: Value = serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let obj = value.as_object().ok_or_else(|| bad("not a JSON object".into()))?;
        only_keys(obj, &["class_name", "dtype", "input_width", "layers"]).map_err(|k| bad(format!("unknown key {k:?}")))?;
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
        let layers = obj.get("layers").and_then(Value::as_array).ok_or_else(|| bad("\"layers\" must be a list".into()))?;
        if layers.is_empty() {
            return Err(bad("\"layers\" is empty; a model needs at least one layer".into()));
        }
        let mut names = HashSet::new();
        let mut specs = Vec::with_capacity(layers.len());
        for (i, layer) in layers.iter().enumerate() {
            let bad = |what: String| bad(format!("layer {i}: {what}"));
            let l = layer.as_object().ok_or_else(|| bad("not an object".into()))?;
            only_keys(l, &["name", "units", "activation", "use_bias", "kernel_initializer", "bias_initializer"])
                .map_err(|k| bad(format!("unknown key {k:?}")))?;
            let name = match l.get("name") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                _ => return Err(bad("\"name\" must be a non-empty string".into())),
            };
            if !names.insert(name.clone()) {
                return Err(bad(format!("the name {name:?} is used by an earlier layer")));
            }
            let units = positive(l.get("units")).ok_or_else(|| bad("\"units\" must be a positive integer".into()))?;
            let activation = match l.get("activation") {
                Some(Value::String(s)) => s.parse::<Activation>().map_err(bad)?,
                _ => return Err(bad("\"activation\" must be a string".into())),
            };
            let use_bias = l.get("use_bias").and_then(Value::as_bool).ok_or_else(|| bad("\"use_bias\" must be true or false".into()))?;
            let init = |key: &str, default: Init| match l.get(key) {
                None => Ok(default),
                Some(v) => init_from_json(v).map_err(|e| bad(format!("{key}: {e}"))),
            };
            let kernel_initializer = init("kernel_initializer", Init::GlorotUniform)?;
            let bias_initializer = init("bias_initializer", Init::Zeros)?;
            specs.push(LayerSpec { name, units, activation, use_bias, kernel_initializer, bias_initializer });
        }
        Ok(Architecture { dtype, input_width, layers: specs })
    }

    /// Every parameter's name and shape, in slot order.
    pub fn parameter_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        let mut width = self.input_width;
        for l in &self.layers {
            out.push((format!("{}/kernel", l.name), vec![width, l.units]));
            if l.use_bias {
                out.push((format!("{}/bias", l.name), vec![l.units]));
            }
            width = l.units;
        }
        out
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

fn init_to_json(init: &Init) -> Value {
    match *init {
        Init::Constant(value) => json!({ "name": "constant", "value": value }),
        Init::RandomNormal { mean, stddev } => json!({ "name": "random_normal", "mean": mean, "stddev": stddev }),
        Init::RandomUniform { minval, maxval } => json!({ "name": "random_uniform", "minval": minval, "maxval": maxval }),
        ref other => json!({ "name": other.name() }),
    }
}

fn init_from_json(v: &Value) -> Result<Init, String> {
    let obj = v.as_object().ok_or("must be an object with a \"name\"")?;
    let name = obj.get("name").and_then(Value::as_str).ok_or("\"name\" must be a string")?;
    let num = |key: &str| -> Result<f64, String> {
        obj.get(key).and_then(Value::as_f64).ok_or_else(|| format!("{name} needs a number {key:?}"))
    };
    let (init, keys): (Init, &[&str]) = match name {
        "constant" => (Init::Constant(num("value")?), &["name", "value"]),
        "random_normal" => (Init::RandomNormal { mean: num("mean")?, stddev: num("stddev")? }, &["name", "mean", "stddev"]),
        "random_uniform" => {
            (Init::RandomUniform { minval: num("minval")?, maxval: num("maxval")? }, &["name", "minval", "maxval"])
        }
        other => (Init::from_name(other).ok_or_else(|| format!("unknown initializer {other:?}"))?, &["name"]),
    };
    only_keys(obj, keys).map_err(|k| format!("unknown key {k:?} for {name}"))?;
    Ok(init)
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
    tensors_to_bytes(&named, &meta)
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
/// Weights stored as `F32` or `F64` load into either `T` (`F64` into `f32` rounds).
///
/// # Errors
/// A one-line [`ModelFileError`]: `Io` when the file cannot be read; `Format` for an empty,
/// truncated or corrupted file or one that is not safetensors; `Model` for missing or invalid
/// architecture metadata, a missing, extra or wrongly shaped tensor, or a tensor whose dtype is not
/// the architecture's.
pub fn load_model<T: Float>(path: impl AsRef<Path>) -> Result<SavedModel<T>, ModelFileError> {
    let path = path.as_ref();
    let file = SafeTensors::read(path)?;
    model_from_safetensors(&file).map_err(|e| e.at(path))
}

/// As [`load_model`], from the bytes of a file.
///
/// # Errors
/// As [`load_model`], with the path `"<bytes>"`.
pub fn model_from_bytes<T: Float>(bytes: Vec<u8>) -> Result<SavedModel<T>, ModelFileError> {
    model_from_safetensors(&SafeTensors::from_bytes(bytes)?)
}

/// Rebuilds the model of a validated file.
pub(crate) fn model_from_safetensors<T: Float>(file: &SafeTensors) -> Result<SavedModel<T>, ModelFileError> {
    let (net, arch) = network_from_safetensors(file)?;
    let metadata = file.metadata().iter().filter(|(k, _)| !k.starts_with(RESERVED_PREFIX)).map(|(k, v)| (k.clone(), v.clone())).collect();
    Ok(SavedModel { model: net, metadata, dtype: arch.dtype })
}

/// The network and architecture of a validated file. Tensors under `optimizer/` are allowed only
/// in a checkpoint (checked by the checkpoint loader).
pub(crate) fn network_from_safetensors<T: Float>(file: &SafeTensors) -> Result<(Sequential<T>, Architecture), ModelFileError> {
    let meta = file.metadata();
    let text = meta.get(ARCHITECTURE_KEY).ok_or_else(|| {
        model_err(format!("no {ARCHITECTURE_KEY:?} metadata: the file holds tensors but no tapegrad model description"))
    })?;
    match meta.get(FORMAT_KEY).map(String::as_str) {
        Some(FORMAT_VERSION) | None => {}
        Some(v) => return Err(model_err(format!("{FORMAT_KEY} is {v:?}; this tapegrad reads version {FORMAT_VERSION}"))),
    }
    let arch = Architecture::from_json(text)?;
    let shapes = arch.parameter_shapes();
    let is_checkpoint = meta.contains_key(super::checkpoint::CHECKPOINT_KEY);
    let expected: HashSet<&str> = shapes.iter().map(|(n, _)| n.as_str()).collect();
    if let Some(extra) = file
        .tensors()
        .iter()
        .find(|t| {
            let state = is_checkpoint && t.name.starts_with(super::checkpoint::OPTIMIZER_PREFIX);
            !state && !expected.contains(t.name.as_str())
        })
    {
        return Err(model_err(format!("tensor {:?} is not a weight of the described architecture", extra.name)));
    }
    let mut params: Vec<Tensor<T>> = Vec::with_capacity(shapes.len());
    for (name, shape) in &shapes {
        let info = file
            .info(name)
            .ok_or_else(|| model_err(format!("tensor {name:?} is missing (the architecture needs shape {shape:?})")))?;
        if info.dtype != arch.dtype {
            return Err(model_err(format!("tensor {name:?} has dtype {} but the architecture says {}", info.dtype, arch.dtype)));
        }
        if &info.shape != shape {
            return Err(model_err(format!(
                "tensor {name:?} has shape {:?} but the architecture needs {shape:?}",
                info.shape
            )));
        }
        params.push(file.tensor::<T>(name)?);
    }
    let layers = arch
        .layers
        .iter()
        .map(|l| {
            Dense::new(l.units)
                .activation(l.activation)
                .use_bias(l.use_bias)
                .name(l.name.clone())
                .kernel_initializer(l.kernel_initializer)
                .bias_initializer(l.bias_initializer)
        })
        .collect();
    // The architecture was checked (positive widths), and every weight exists with its shape, so
    // building cannot panic; the drawn weights are replaced at once.
    let mut net = Sequential::<T>::with_seed(arch.input_width, layers, 0);
    for (slot, p) in net.parameters_mut().iter_mut().zip(params) {
        *slot = p;
    }
    Ok((net, arch))
}
