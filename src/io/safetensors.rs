//! The safetensors format, read and written by hand: an 8-byte little-endian header length `N`,
//! `N` bytes of JSON describing each tensor (`dtype`, `shape`, `data_offsets` relative to the data
//! start) plus an optional `"__metadata__"` object of strings, then the raw little-endian bytes.
//! Files written here open in PyTorch (`safetensors.torch.load_file`) and candle.

use super::atomic::write_atomic;
use super::error::{format_err, ModelFileError};
use crate::tensor::{Float, Tensor};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

/// The largest header accepted (as the reference implementation: 100 MB).
const MAX_HEADER: u64 = 100_000_000;

/// The metadata key of the safetensors header.
const METADATA_KEY: &str = "__metadata__";

/// A tensor element type as safetensors names it. tapegrad reads and writes `F32` and `F64`; the
/// others are recognised so a file holding them gets a clear error rather than a parse failure.
#[allow(missing_docs, non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    F64,
    F32,
    F16,
    BF16,
    F8_E4M3,
    F8_E5M2,
    I64,
    I32,
    I16,
    I8,
    U64,
    U32,
    U16,
    U8,
    BOOL,
}

impl Dtype {
    const ALL: [Dtype; 15] = [
        Dtype::F64,
        Dtype::F32,
        Dtype::F16,
        Dtype::BF16,
        Dtype::F8_E4M3,
        Dtype::F8_E5M2,
        Dtype::I64,
        Dtype::I32,
        Dtype::I16,
        Dtype::I8,
        Dtype::U64,
        Dtype::U32,
        Dtype::U16,
        Dtype::U8,
        Dtype::BOOL,
    ];

    /// The name in the header (`"F32"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F64 => "F64",
            Dtype::F32 => "F32",
            Dtype::F16 => "F16",
            Dtype::BF16 => "BF16",
            Dtype::F8_E4M3 => "F8_E4M3",
            Dtype::F8_E5M2 => "F8_E5M2",
            Dtype::I64 => "I64",
            Dtype::I32 => "I32",
            Dtype::I16 => "I16",
            Dtype::I8 => "I8",
            Dtype::U64 => "U64",
            Dtype::U32 => "U32",
            Dtype::U16 => "U16",
            Dtype::U8 => "U8",
            Dtype::BOOL => "BOOL",
        }
    }

    /// The dtype called `name`, if safetensors has one.
    pub fn from_name(name: &str) -> Option<Dtype> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::F64 | Dtype::I64 | Dtype::U64 => 8,
            Dtype::F32 | Dtype::I32 | Dtype::U32 => 4,
            Dtype::F16 | Dtype::BF16 | Dtype::I16 | Dtype::U16 => 2,
            Dtype::F8_E4M3 | Dtype::F8_E5M2 | Dtype::I8 | Dtype::U8 | Dtype::BOOL => 1,
        }
    }

    /// The dtype tapegrad writes for elements of type `T` (`F32` for `f32`, `F64` for `f64`).
    pub fn of<T: Float>() -> Dtype {
        if std::mem::size_of::<T>() == 4 {
            Dtype::F32
        } else {
            Dtype::F64
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One tensor's entry in the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// The tensor's name (e.g. `dense/kernel`).
    pub name: String,
    /// Element type.
    pub dtype: Dtype,
    /// Shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// Byte range within the data section.
    pub data_offsets: (usize, usize),
}

impl TensorInfo {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A safetensors file read into memory and fully validated: the header is JSON with no duplicate
/// keys, every tensor has a known dtype and a byte range matching its shape, and the ranges tile
/// the data section exactly (no gap, overlap or trailing byte).
///
/// ```
/// use std::collections::BTreeMap;
/// use tapegrad::io::{tensors_to_bytes, SafeTensors};
/// use tapegrad::Tensor;
/// let w = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
/// let meta = BTreeMap::from([("note".to_string(), "hello".to_string())]);
/// let bytes = tensors_to_bytes(&[("w", &w)], &meta).unwrap();
/// let file = SafeTensors::from_bytes(bytes).unwrap();
/// assert_eq!(file.metadata()["note"], "hello");
/// assert_eq!(file.tensor::<f32>("w").unwrap(), w);
/// // Cut anywhere, the file is refused with a message rather than a panic.
/// let mut cut = tensors_to_bytes(&[("w", &w)], &meta).unwrap();
/// cut.truncate(cut.len() - 3);
/// assert!(SafeTensors::from_bytes(cut).unwrap_err().to_string().contains("data section"));
/// ```
#[derive(Clone, Debug)]
pub struct SafeTensors {
    metadata: BTreeMap<String, String>,
    tensors: Vec<TensorInfo>,
    bytes: Vec<u8>,
    data_start: usize,
}

impl SafeTensors {
    /// Reads and validates the file at `path`.
    ///
    /// # Errors
    /// [`ModelFileError::Io`] when the file cannot be read, [`ModelFileError::Format`] naming the
    /// first problem otherwise.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, ModelFileError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| ModelFileError::io(path, &e))?;
        Self::from_bytes(bytes).map_err(|e| e.at(path))
    }

    /// Validates `bytes` as a safetensors file.
    ///
    /// # Errors
    /// [`ModelFileError::Format`] naming the first problem (with the path `"<bytes>"`).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, ModelFileError> {
        let total = bytes.len() as u64;
        if total == 0 {
            return Err(format_err("the file is empty"));
        }
        if total < 8 {
            return Err(format_err(format!("the file is {total} bytes, shorter than the 8-byte header length")));
        }
        let mut len_bytes = [0u8; 8];
        len_bytes.copy_from_slice(&bytes[..8]);
        let n = u64::from_le_bytes(len_bytes);
        if n > MAX_HEADER {
            return Err(format_err(format!("the header length {n} is larger than the limit of {MAX_HEADER} bytes")));
        }
        if n > total - 8 {
            return Err(format_err(format!(
                "the header length is {n} bytes but only {} bytes follow it (truncated file?)",
                total - 8
            )));
        }
        let data_start = 8 + n as usize;
        let header = &bytes[8..data_start];
        let text = std::str::from_utf8(header)
            .map_err(|e| format_err(format!("the header is not UTF-8 text (byte {})", e.valid_up_to())))?;
        if !text.starts_with('{') {
            return Err(format_err("the header does not start with a JSON object '{'"));
        }
        let value: Value =
            serde_json::from_str(text).map_err(|e| format_err(format!("the header is not valid JSON: {e}")))?;
        check_duplicate_keys(text)?;
        let Value::Object(entries) = value else {
            return Err(format_err("the header is not a JSON object"));
        };
        let data_len = bytes.len() - data_start;
        let mut metadata = BTreeMap::new();
        let mut tensors = Vec::with_capacity(entries.len());
        for (name, entry) in &entries {
            if name == METADATA_KEY {
                metadata = parse_metadata(entry)?;
            } else {
                tensors.push(parse_entry(name, entry, data_len)?);
            }
        }
        check_tiling(&tensors, data_len)?;
        tensors.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        Ok(SafeTensors { metadata, tensors, bytes, data_start })
    }

    /// The `"__metadata__"` strings (empty when the file has none).
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// Every tensor's header entry, sorted by name.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// The header entry of the tensor called `name`.
    pub fn info(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// The raw little-endian bytes of the tensor called `name`.
    pub fn raw(&self, name: &str) -> Option<&[u8]> {
        self.info(name).map(|t| &self.bytes[self.data_start + t.data_offsets.0..self.data_start + t.data_offsets.1])
    }

    /// The tensor called `name` as a `Tensor<T>`. `F32` and `F64` data convert to either element
    /// type (`F64` into `f32` rounds).
    ///
    /// # Errors
    /// [`ModelFileError::Model`] when there is no such tensor or its dtype is not `F32`/`F64`.
    pub fn tensor<T: Float>(&self, name: &str) -> Result<Tensor<T>, ModelFileError> {
        let info = self
            .info(name)
            .ok_or_else(|| super::error::model_err(format!("the file has no tensor named {name:?}")))?;
        let raw = self.raw(name).unwrap_or_default();
        let data: Vec<T> = match info.dtype {
            Dtype::F32 => raw
                .chunks_exact(4)
                .map(|c| T::from_f64(f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64))
                .collect(),
            Dtype::F64 => raw
                .chunks_exact(8)
                .map(|c| T::from_f64(f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])))
                .collect(),
            other => {
                return Err(super::error::model_err(format!(
                    "tensor {name:?} has dtype {other}; tapegrad reads only F32 and F64"
                )))
            }
        };
        Ok(Tensor::from_vec(data, &info.shape))
    }
}

/// Serializes `tensors` (in the given order) and `metadata` as safetensors bytes, in `T`'s dtype.
///
/// # Errors
/// [`ModelFileError::Save`] for an empty or repeated tensor name or the reserved name
/// `"__metadata__"` (path `"<bytes>"`).
pub fn tensors_to_bytes<T: Float>(
    tensors: &[(&str, &Tensor<T>)],
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>, ModelFileError> {
    let save_err = |problem: String| ModelFileError::Save { path: super::error::BYTES.into(), problem };
    let dtype = Dtype::of::<T>();
    let mut header = Map::new();
    let mut seen = HashSet::with_capacity(tensors.len());
    let mut offset = 0usize;
    for (name, t) in tensors {
        if name.is_empty() || *name == METADATA_KEY {
            return Err(save_err(format!("{name:?} cannot be a tensor name")));
        }
        if !seen.insert(*name) {
            return Err(save_err(format!("the tensor name {name:?} is used twice")));
        }
        let end = offset + t.len() * dtype.size();
        let entry = serde_json::json!({
            "dtype": dtype.name(),
            "shape": t.shape(),
            "data_offsets": [offset, end],
        });
        header.insert(name.to_string(), entry);
        offset = end;
    }
    if !metadata.is_empty() {
        let meta: Map<String, Value> = metadata.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        header.insert(METADATA_KEY.to_string(), Value::Object(meta));
    }
    let mut json = serde_json::to_vec(&Value::Object(header)).expect("a JSON value always serializes");
    // Pad with spaces so the data section starts 8-byte aligned.
    while !json.len().is_multiple_of(8) {
        json.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + json.len() + offset);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    for (_, t) in tensors {
        if dtype == Dtype::F32 {
            for v in t.data() {
                out.extend_from_slice(&(v.to_f64() as f32).to_le_bytes());
            }
        } else {
            for v in t.data() {
                out.extend_from_slice(&v.to_f64().to_le_bytes());
            }
        }
    }
    Ok(out)
}

/// Writes `tensors` and `metadata` to `path` as safetensors, atomically (see
/// [`write_atomic`](super::write_atomic)).
///
/// # Errors
/// As [`tensors_to_bytes`], and [`ModelFileError::Io`] when the file cannot be written.
pub fn save_tensors<T: Float>(
    path: impl AsRef<Path>,
    tensors: &[(&str, &Tensor<T>)],
    metadata: &BTreeMap<String, String>,
) -> Result<(), ModelFileError> {
    let path = path.as_ref();
    let bytes = tensors_to_bytes(tensors, metadata).map_err(|e| e.at(path))?;
    write_atomic(path, &bytes)
}

fn parse_metadata(entry: &Value) -> Result<BTreeMap<String, String>, ModelFileError> {
    let Value::Object(map) = entry else {
        return Err(format_err(format!("\"{METADATA_KEY}\" must be an object of strings")));
    };
    map.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            _ => Err(format_err(format!("metadata value of {k:?} is not a string"))),
        })
        .collect()
}

fn parse_entry(name: &str, entry: &Value, data_len: usize) -> Result<TensorInfo, ModelFileError> {
    let bad = |what: String| format_err(format!("tensor {name:?}: {what}"));
    if name.is_empty() {
        return Err(format_err("a tensor has an empty name"));
    }
    let Value::Object(fields) = entry else {
        return Err(bad("the entry is not an object".into()));
    };
    if let Some(extra) = fields.keys().find(|k| !matches!(k.as_str(), "dtype" | "shape" | "data_offsets")) {
        return Err(bad(format!("unknown field {extra:?}")));
    }
    let dtype_name = match fields.get("dtype") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(bad("\"dtype\" is not a string".into())),
        None => return Err(bad("no \"dtype\"".into())),
    };
    let dtype = Dtype::from_name(dtype_name).ok_or_else(|| bad(format!("unknown dtype {dtype_name:?}")))?;
    let shape = match fields.get("shape") {
        Some(Value::Array(dims)) => dims
            .iter()
            .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| bad("\"shape\" must be a list of non-negative integers".into()))?,
        Some(_) => return Err(bad("\"shape\" is not a list".into())),
        None => return Err(bad("no \"shape\"".into())),
    };
    let offsets = match fields.get("data_offsets") {
        Some(Value::Array(o)) if o.len() == 2 => {
            match (o[0].as_u64().and_then(|v| usize::try_from(v).ok()), o[1].as_u64().and_then(|v| usize::try_from(v).ok())) {
                (Some(a), Some(b)) => (a, b),
                _ => return Err(bad("\"data_offsets\" must be two non-negative integers".into())),
            }
        }
        Some(_) => return Err(bad("\"data_offsets\" must be a list [begin, end]".into())),
        None => return Err(bad("no \"data_offsets\"".into())),
    };
    if offsets.0 > offsets.1 {
        return Err(bad(format!("data_offsets [{}, {}] end before they begin", offsets.0, offsets.1)));
    }
    if offsets.1 > data_len {
        return Err(bad(format!(
            "data_offsets [{}, {}] run past the data section of {data_len} bytes (truncated file?)",
            offsets.0, offsets.1
        )));
    }
    let elements = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .and_then(|n| n.checked_mul(dtype.size()))
        .ok_or_else(|| bad(format!("shape {shape:?} is too large")))?;
    if elements != offsets.1 - offsets.0 {
        return Err(bad(format!(
            "{dtype} of shape {shape:?} needs {elements} bytes but data_offsets [{}, {}] hold {}",
            offsets.0,
            offsets.1,
            offsets.1 - offsets.0
        )));
    }
    Ok(TensorInfo { name: name.to_string(), dtype, shape, data_offsets: offsets })
}

/// The byte ranges must cover `0..data_len` exactly once, in some order.
fn check_tiling(tensors: &[TensorInfo], data_len: usize) -> Result<(), ModelFileError> {
    let mut ranges: Vec<(usize, usize, &str)> =
        tensors.iter().map(|t| (t.data_offsets.0, t.data_offsets.1, t.name.as_str())).collect();
    ranges.sort_unstable();
    let mut end = 0usize;
    let mut last = "";
    for (a, b, name) in ranges {
        if a < end {
            return Err(format_err(format!("the data of tensors {last:?} and {name:?} overlap")));
        }
        if a > end {
            return Err(format_err(format!("bytes {end}..{a} of the data section belong to no tensor")));
        }
        end = b;
        last = name;
    }
    if end != data_len {
        return Err(format_err(format!(
            "the data section has {data_len} bytes but the tensors describe {end} (extra bytes at the end)"
        )));
    }
    Ok(())
}

/// Refuses a header in which some object repeats a key (serde_json keeps the last silently).
/// `text` is already known to be valid JSON, so only strings and brackets need tracking.
fn check_duplicate_keys(text: &str) -> Result<(), ModelFileError> {
    enum Frame {
        Object { keys: HashSet<String>, expect_key: bool },
        Array,
    }
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => stack.push(Frame::Object { keys: HashSet::new(), expect_key: true }),
            b'[' => stack.push(Frame::Array),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => {
                if let Some(Frame::Object { expect_key, .. }) = stack.last_mut() {
                    *expect_key = true;
                }
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if let Some(Frame::Object { keys, expect_key }) = stack.last_mut() {
                    if *expect_key {
                        *expect_key = false;
                        let raw = &text[start..=i.min(bytes.len() - 1)];
                        let key: String = serde_json::from_str(raw).unwrap_or_else(|_| raw.to_string());
                        if !keys.insert(key.clone()) {
                            return Err(format_err(format!("the header repeats the key {key:?}")));
                        }
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}
