//! `tapegrad evaluate` and `tapegrad predict`: a saved model, rebuilt from its file alone.

use super::table::read_csv_file;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use tapegrad::data::{Preprocessing, Table};
use tapegrad::io::{load_model_finite, preprocessing_from_json, save_model, write_atomic, SavedModel, PREPROCESSING_KEY};
use tapegrad::Tensor;
use tapegrad::optim::Sgd;
use tapegrad::study::{self, Experiment, Run, StudyData};
use tapegrad::train::LossFn;

/// Quotes a CSV field when needed.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Saves a study run as `DIR/NAME.safetensors`, with its experiment, loss, metric and seed.
pub fn save_run(dir: &Path, file_stem: &str, e: &Experiment, seed: u64, run: &Run) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    let meta: BTreeMap<String, String> = [
        ("experiment", e.name.to_string()),
        ("loss", e.loss.to_string()),
        ("metric", e.metric().to_string()),
        ("seed", seed.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let path = dir.join(format!("{file_stem}.safetensors"));
    save_model(&path, run.model.net(), &meta).map_err(|err| err.to_string())
}

/// Loads a model saved by `study --save`, finds its experiment, and prints its train and test metric.
pub fn evaluate(path: &Path, allow_nonfinite: bool) -> Result<(), String> {
    let saved = load_model_finite::<f32>(path, allow_nonfinite).map_err(|e| e.to_string())?;
    if saved.metadata.contains_key(PREPROCESSING_KEY) {
        return Err(format!("{}: a model trained on a table; evaluate it with --csv FILE (and --target COLUMN)", path.display()));
    }
    let name = saved
        .metadata
        .get("experiment")
        .ok_or_else(|| format!("{}: no 'experiment' in the metadata; evaluate needs a model saved by `tapegrad study --save`", path.display()))?;
    let e = study::find(name).ok_or_else(|| format!("{}: unknown experiment '{name}' in the metadata", path.display()))?;
    let split = study::split_for(e.family, &StudyData::generate());
    let expected = study::model_for(e.family, 0);
    if saved.model.input_width() != expected.input_width() || saved.model.output_width() != expected.output_width() {
        return Err(format!(
            "{}: the model maps {} inputs to {} outputs, but {} needs {} to {}",
            path.display(),
            saved.model.input_width(),
            saved.model.output_width(),
            e.name,
            expected.input_width(),
            expected.output_width()
        ));
    }
    let metric = e.tracked_metric();
    let loss = LossFn::named(e.loss).map_err(|err| err.to_string())?;
    let mut model = saved.model.compile(loss, Sgd::new(0.01), &[metric]);
    let train = model.evaluate(&split.x_train, &split.y_train, 32).map_err(|err| err.to_string())?;
    let test = model.evaluate(&split.x_test, &split.y_test, 32).map_err(|err| err.to_string())?;
    let key = metric.name();
    println!("{}: {} ({} loss)", e.name, path.display(), e.loss);
    println!("Train: {:.3}, Test: {:.3}", train[key], test[key]);
    Ok(())
}

/// A model saved by `fit` with its preprocessing, ready to predict.
struct TableModel {
    saved: SavedModel<f32>,
    pre: Preprocessing,
    targets: String,
}

fn load_table_model(path: &Path, allow_nonfinite: bool) -> Result<Option<TableModel>, String> {
    let saved = load_model_finite::<f32>(path, allow_nonfinite).map_err(|e| e.to_string())?;
    let Some(json) = saved.metadata.get(PREPROCESSING_KEY) else { return Ok(None) };
    let pre = preprocessing_from_json(json).map_err(|e| format!("{}: {e}", path.display()))?;
    let targets = saved.metadata.get("targets").cloned().unwrap_or_default();
    let (w, k) = (saved.model.input_width(), saved.model.output_width());
    let k_ok = match targets.as_str() {
        "one_hot" | "class_id" => k == pre.labels.len(),
        "value" | "zero_one" | "sign" => k == 1,
        _ => false,
    };
    if w != pre.input_width() || !k_ok {
        return Err(format!(
            "{}: the network ({w} inputs, {k} outputs) does not match its preprocessing ({} inputs, targets {targets:?})",
            path.display(),
            pre.input_width()
        ));
    }
    Ok(Some(TableModel { saved, pre, targets }))
}

impl TableModel {
    /// Raw network outputs `[rows, k]` for a table.
    fn outputs(&self, table: &Table, csv: &Path) -> Result<Tensor<f32>, String> {
        let x = self.pre.transform(table).map_err(|e| format!("{}: {e}", csv.display()))?;
        let net = self.saved.model.clone();
        let mut model = net.compile(LossFn::named("mse").map_err(|e| e.to_string())?, Sgd::new(0.01), &[]);
        model.predict(&x.to_f32()).map_err(|e| e.to_string())
    }

    /// Per row: predicted class index (classification) or the prediction on the target's scale.
    fn decide(&self, out: &Tensor<f32>) -> Vec<f64> {
        let k = self.saved.model.output_width();
        out.data()
            .chunks_exact(k)
            .map(|row| match self.targets.as_str() {
                "one_hot" | "class_id" => {
                    (0..k).fold(0, |best, j| if row[j] > row[best] { j } else { best }) as f64
                }
                "zero_one" => f64::from(u8::from(row[0] > 0.5)),
                "sign" => f64::from(u8::from(row[0] > 0.0)),
                _ => f64::from(row[0]) * self.pre.target_scale + self.pre.target_mean,
            })
            .collect()
    }
}

/// Loads a model and predicts the rows of a CSV: a model saved by `fit` reads its feature columns
/// by name and applies its scaling and encodings; its classes come back as labels with each class's
/// probability. Printed, or written in full precision to `out` (atomically).
pub fn predict(model_path: &Path, csv: &Path, features: &[String], out: Option<&Path>, delimiter: &str, allow_nonfinite: bool) -> Result<(), String> {
    let text = if let Some(tm) = load_table_model(model_path, allow_nonfinite)? {
        let table = read_csv_file(csv, delimiter)?;
        let y = tm.outputs(&table, csv)?;
        let decided = tm.decide(&y);
        let k = tm.saved.model.output_width();
        let pre = &tm.pre;
        let mut text = String::new();
        match tm.targets.as_str() {
            "value" => {
                let _ = writeln!(text, "{}", field(&pre.target));
                for v in &decided {
                    let _ = writeln!(text, "{v}");
                }
            }
            form => {
                let probs: Vec<String> = pre.labels.iter().map(|l| field(&format!("p_{l}"))).collect();
                let _ = writeln!(text, "{},{}", field(&pre.target), probs.join(","));
                for (row, &c) in y.data().chunks_exact(k).zip(&decided) {
                    let p: Vec<String> = match form {
                        "zero_one" => vec![format!("{}", 1.0 - row[0]), format!("{}", row[0])],
                        // tanh output in [-1, 1] read as P(class 1) = (1 + y) / 2.
                        "sign" => vec![format!("{}", (1.0 - row[0]) / 2.0), format!("{}", (1.0 + row[0]) / 2.0)],
                        _ => row.iter().map(|v| format!("{v}")).collect(),
                    };
                    let _ = writeln!(text, "{},{}", field(&pre.labels[c as usize]), p.join(","));
                }
            }
        }
        text
    } else {
        let saved = load_model_finite::<f32>(model_path, allow_nonfinite).map_err(|e| e.to_string())?;
        let names: Vec<&str> = features.iter().map(String::as_str).collect();
        let table = read_csv_file(csv, delimiter)?;
        let cols: Vec<usize> = if names.is_empty() {
            (0..table.header.len()).collect()
        } else {
            names.iter().map(|n| table.column(n)).collect::<Result<_, _>>().map_err(|e| format!("{}: {e}", csv.display()))?
        };
        let mut xs = Vec::with_capacity(table.rows.len() * cols.len());
        for r in 0..table.rows.len() {
            for &c in &cols {
                xs.push(table.number(r, c).map_err(|e| format!("{}: {e}", csv.display()))?);
            }
        }
        let x = Tensor::from_vec(xs, &[table.rows.len(), cols.len()]);
        let width = saved.model.input_width();
        if x.shape()[1] != width {
            return Err(format!(
                "{}: {} input columns, but the model takes {width} (choose them with --features a,b,...)",
                csv.display(),
                x.shape()[1]
            ));
        }
        let loss = LossFn::named("mse").map_err(|e| e.to_string())?;
        let mut model = saved.model.compile(loss, Sgd::new(0.01), &[]);
        let y = model.predict(&x.to_f32()).map_err(|e| e.to_string())?;
        let cols = y.shape().get(1).copied().unwrap_or(1);
        let mut text = String::new();
        for row in y.data().chunks_exact(cols) {
            // On screen six decimals; in a file the shortest text that reads back exactly.
            let cells: Vec<String> = row.iter().map(|v| if out.is_some() { format!("{v}") } else { format!("{v:.6}") }).collect();
            let _ = writeln!(text, "{}", cells.join(","));
        }
        text
    };
    match out {
        Some(path) => {
            super::ensure_parent(path, "--out")?;
            write_atomic(path, text.as_bytes()).map_err(|e| format!("--out {}: {e}", path.display()))?;
            println!("wrote {} predictions to {}", text.lines().count().saturating_sub(1).max(1), path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// `evaluate --model FILE --csv FILE [--target COLUMN]`: the model's metric on a labelled CSV.
pub fn evaluate_csv(model_path: &Path, csv: &Path, target: Option<&str>, delimiter: &str, allow_nonfinite: bool) -> Result<(), String> {
    let mut tm = load_table_model(model_path, allow_nonfinite)?.ok_or_else(|| {
        format!("{}: no preprocessing in the model file; --csv needs a model saved by `tapegrad fit --save`", model_path.display())
    })?;
    if let Some(t) = target {
        tm.pre.target = t.to_string();
    }
    let table = read_csv_file(csv, delimiter)?;
    let y = tm.pre.targets(&table).map_err(|e| format!("{}: {e}", csv.display()))?;
    let out = tm.outputs(&table, csv)?;
    let decided = tm.decide(&out);
    let n = y.len() as f64;
    let (name, value) = if tm.pre.task.is_classification() {
        ("accuracy", decided.iter().zip(&y).filter(|(a, b)| a == b).count() as f64 / n)
    } else {
        // MSE on the standardised target, as training reports it.
        let s = tm.pre.target_scale;
        ("mse", decided.iter().zip(&y).map(|(p, t)| ((p - t) / s).powi(2)).sum::<f64>() / n)
    };
    println!("{}: {name} {value:.4} on {} rows of {} (target {:?})", model_path.display(), y.len(), csv.display(), tm.pre.target);
    Ok(())
}
