//! `tapegrad evaluate` and `tapegrad predict`: a saved model, rebuilt from its file alone.

use std::collections::BTreeMap;
use std::path::Path;
use tapegrad::data::read_features_csv;
use tapegrad::io::{load_model, save_model};
use tapegrad::optim::Sgd;
use tapegrad::study::{self, Experiment, Run, StudyData};
use tapegrad::train::LossFn;

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
pub fn evaluate(path: &Path) -> Result<(), String> {
    let saved = load_model::<f32>(path).map_err(|e| e.to_string())?;
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

/// Loads a model and prints its predictions for the rows of a CSV (every column is an input unless
/// `features` names them), one row per line.
pub fn predict(model_path: &Path, csv: &Path, features: &[String]) -> Result<(), String> {
    let saved = load_model::<f32>(model_path).map_err(|e| e.to_string())?;
    let names: Vec<&str> = features.iter().map(String::as_str).collect();
    let x = read_features_csv(csv, &names).map_err(|e| format!("{}: {e}", csv.display()))?;
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
    for row in y.data().chunks_exact(cols) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:.6}")).collect();
        println!("{}", cells.join(","));
    }
    Ok(())
}
