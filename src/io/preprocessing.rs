//! What a model trained on a table needs at prediction time, kept in its file's metadata (key
//! [`PREPROCESSING_KEY`], JSON): feature columns and their encodings, the scaler's mean and scale,
//! the task, the class names, and the target's scaling. Also the load-time check that weights are
//! finite.

use super::{load_model, ModelFileError, SavedModel};
use crate::data::{ColumnKind, FeatureColumn, Preprocessing, Task};
use crate::Float;
use serde_json::{json, Value};
use std::path::Path;

/// Metadata key of the preprocessing JSON.
pub const PREPROCESSING_KEY: &str = "preprocessing";

/// The preprocessing as JSON text (numbers written so they read back exactly).
///
/// ```
/// use tapegrad::data::{ColumnKind, FeatureColumn, Preprocessing, Task};
/// use tapegrad::io::{preprocessing_from_json, preprocessing_to_json};
/// let pre = Preprocessing {
///     features: vec![FeatureColumn { name: "colour".into(), kind: ColumnKind::Categories(vec!["blue".into(), "red".into()]) }],
///     mean: vec![0.5, 0.5], scale: vec![0.5, 0.5], target: "kind".into(), task: Task::Binary,
///     labels: vec!["cat".into(), "dog".into()], target_mean: 0.0, target_scale: 1.0,
/// };
/// assert_eq!(preprocessing_from_json(&preprocessing_to_json(&pre)).unwrap(), pre);
/// ```
pub fn preprocessing_to_json(pre: &Preprocessing) -> String {
    let features: Vec<Value> = pre
        .features
        .iter()
        .map(|f| match &f.kind {
            ColumnKind::Numeric => json!({"name": f.name, "kind": "numeric"}),
            ColumnKind::Categories(c) => json!({"name": f.name, "kind": "one_hot", "categories": c}),
        })
        .collect();
    json!({
        "features": features,
        "mean": pre.mean,
        "scale": pre.scale,
        "target": pre.target,
        "task": pre.task.name(),
        "labels": pre.labels,
        "target_mean": pre.target_mean,
        "target_scale": pre.target_scale,
    })
    .to_string()
}

/// Reads [`preprocessing_to_json`]'s text back.
///
/// # Errors
/// One line naming the missing or malformed field.
pub fn preprocessing_from_json(text: &str) -> Result<Preprocessing, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("{PREPROCESSING_KEY} metadata is not JSON: {e}"))?;
    let bad = |field: &str| format!("{PREPROCESSING_KEY} metadata: field {field:?} is missing or malformed");
    let numbers = |field: &str| -> Result<Vec<f64>, String> {
        v[field].as_array().ok_or_else(|| bad(field))?.iter().map(|x| x.as_f64().ok_or_else(|| bad(field))).collect()
    };
    let strings = |x: &Value, field: &str| -> Result<Vec<String>, String> {
        x.as_array().ok_or_else(|| bad(field))?.iter().map(|s| s.as_str().map(String::from).ok_or_else(|| bad(field))).collect()
    };
    let mut features = Vec::new();
    for f in v["features"].as_array().ok_or_else(|| bad("features"))? {
        let name = f["name"].as_str().ok_or_else(|| bad("features"))?.to_string();
        let kind = match f["kind"].as_str() {
            Some("numeric") => ColumnKind::Numeric,
            Some("one_hot") => ColumnKind::Categories(strings(&f["categories"], "categories")?),
            _ => return Err(bad("features")),
        };
        features.push(FeatureColumn { name, kind });
    }
    let pre = Preprocessing {
        features,
        mean: numbers("mean")?,
        scale: numbers("scale")?,
        target: v["target"].as_str().ok_or_else(|| bad("target"))?.to_string(),
        task: Task::from_name(v["task"].as_str().unwrap_or("")).map_err(|_| bad("task"))?,
        labels: strings(&v["labels"], "labels")?,
        target_mean: v["target_mean"].as_f64().ok_or_else(|| bad("target_mean"))?,
        target_scale: v["target_scale"].as_f64().ok_or_else(|| bad("target_scale"))?,
    };
    let width = pre.input_width();
    if pre.mean.len() != width || pre.scale.len() != width || pre.scale.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(format!("{PREPROCESSING_KEY} metadata: mean and scale must hold {width} values, scales finite and positive"));
    }
    if pre.task.is_classification() && pre.labels.len() < 2 {
        return Err(bad("labels"));
    }
    Ok(pre)
}

/// As [`load_model`], refusing a model whose weights hold NaN or infinity (one line naming the
/// tensor and element) unless `allow_nonfinite`.
///
/// # Errors
/// As [`load_model`], and [`ModelFileError::Model`] for a non-finite weight.
pub fn load_model_finite<T: Float>(path: impl AsRef<Path>, allow_nonfinite: bool) -> Result<SavedModel<T>, ModelFileError> {
    let path = path.as_ref();
    let saved = load_model::<T>(path)?;
    if !allow_nonfinite {
        for (name, t) in saved.model.named_parameters() {
            if let Some(i) = t.data().iter().position(|v| !v.is_finite()) {
                return Err(ModelFileError::Model {
                    path: path.display().to_string(),
                    problem: format!(
                        "weight {name:?} holds {} at element {i}; the model is broken (load it anyway with --allow-nonfinite)",
                        t.data()[i]
                    ),
                });
            }
        }
    }
    Ok(saved)
}
