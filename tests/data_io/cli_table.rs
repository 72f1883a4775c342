//! `fit`, `compare`, `predict`, `evaluate` and formula losses from the command line: good runs, and
//! every bad input the issue lists as one line naming what and where, a non-zero exit, no panic
//! and no output left behind.

use std::path::{Path, PathBuf};
use std::process::Command;

fn tapegrad(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tapegrad")).args(args).output().expect("the binary runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tapegrad_cli_table_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Runs a command that must fail with exactly one error line containing `expect`, and leaves the
/// report directory unwritten.
fn fails_with(args: &[&str], expect: &str) {
    let out_dir = std::env::temp_dir().join(format!("tapegrad_never_written_{}", std::process::id()));
    let mut all: Vec<&str> = args.to_vec();
    let out = out_dir.display().to_string();
    if matches!(args[0], "fit" | "compare") {
        all.extend(["--out", &out]);
    }
    let (ok, _, err) = tapegrad(&all);
    assert!(!ok, "{args:?} should fail");
    assert!(!err.contains("panicked") && !err.contains("internal error"), "{err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line expected:\n{err}");
    assert!(err.contains(expect), "{args:?}: expected {expect:?} in:\n{err}");
    assert!(!out_dir.exists(), "{args:?} left {out_dir:?} behind");
}

#[test]
fn bad_inputs_are_one_line_errors() {
    let d = temp_dir("bad");
    let good = write(&d, "good.csv", "a,b,y\n1,2,0\n2,3,1\n3,1,0\n4,4,1\n5,2,0\n6,1,1\n7,3,0\n8,2,1\n");
    fails_with(&["fit", "--csv", &good, "--target", "nope"], r#"good.csv: line 1: no column named "nope" in the header (columns: a, b, y)"#);
    let one = write(&d, "one.csv", "a,y\n1,1\n2,1\n3,1\n");
    fails_with(&["fit", "--csv", &one, "--target", "y"], r#"target "y" has one class ("1") in all 3 rows; classification needs at least two"#);
    let text = write(&d, "text.csv", "a,y\n1,0\n2,1\nthree,0\n");
    fails_with(&["fit", "--csv", &text, "--target", "y"], r#"text.csv: line 4, column 1 ("a"): "three" is not a finite number"#);
    let empty = write(&d, "empty.csv", "a,y\n1,0\n,1\n3,0\n");
    fails_with(&["fit", "--csv", &empty, "--target", "y"], r#"line 3, column 1 ("a"): empty cell (use --drop-missing to skip rows with empty cells)"#);
    fails_with(&["fit", "--csv", &good, "--target", "y"], "5 training rows are fewer than one batch (--batch-size 32)");
    for bad in ["--test-fraction=0", "--test-fraction=1", "--test-fraction=1.5", "--test-fraction=-0.2", "--test-fraction=NaN"] {
        fails_with(&["fit", "--dataset", "iris", bad], "--test-fraction must be strictly between 0 and 1");
    }
    fails_with(&["fit", "--dataset", "diabetes", "--loss", "sparse_categorical_crossentropy"], "loss \"sparse_categorical_crossentropy\" fits a multiclass task, but the task is regression");
    fails_with(&["compare", "--dataset", "wine", "--losses", "mse,categorical_crossentropy"], "loss \"mean_squared_error\" fits a regression task, but the task is multiclass");
    fails_with(&["fit", "--dataset", "mnist"], "unknown data set \"mnist\"; bundled: iris, wine, breast_cancer, diabetes, digits");
    fails_with(&["fit", "--csv", &d.join("missing.csv").display().to_string(), "--target", "y"], "cannot read CSV");
    fails_with(&["fit", "--csv", &good, "--target", "y", "--delimiter", "ab"], "--delimiter must be one ASCII character");
    fails_with(&["fit", "--csv", &good], "--target COLUMN is needed with --csv");
    fails_with(&["compare", "--dataset", "iris", "--repeats", "0"], "--repeats must be at least 1");
    fails_with(&["fit", "--dataset", "iris", "--task", "binary"], "--task binary, but target \"species\" has 3 classes");
    fails_with(&["fit", "--dataset", "iris", "--loss", "no_such_loss"], "unknown loss");
    let ragged = write(&d, "ragged.csv", "a,y\n1,0\n2,1,3\n");
    fails_with(&["fit", "--csv", &ragged, "--target", "y"], "ragged.csv: line 3: expected 2 fields as in the header, found 3");
}

#[test]
fn drop_missing_skips_rows() {
    let d = temp_dir("drop");
    let mut text = String::from("a,b,y\n");
    for i in 0..80 {
        let a = if i % 10 == 3 { String::new() } else { format!("{}", i % 7) };
        text.push_str(&format!("{a},{},{}\n", i % 5, i % 2));
    }
    let csv = write(&d, "holes.csv", &text);
    let out = d.join("rep").display().to_string();
    let (ok, stdout, err) = tapegrad(&["fit", "--csv", &csv, "--target", "y", "--drop-missing", "--epochs", "2", "--batch-size", "8", "--out", &out, "--no-plots"]);
    assert!(ok, "{err}");
    assert!(stdout.contains("72 rows (8 with empty cells dropped)"), "{stdout}");
}

#[test]
fn formula_problems_point_into_the_formula() {
    let (ok, _, err) = tapegrad(&["fit", "--dataset", "breast_cancer", "--epochs", "1", "--loss", "mean(log(p - 2))", "--out", "/nonexistent/x"]);
    assert!(!ok);
    assert!(err.starts_with("error: --loss: log gives NaN on the first batch"), "{err}");
    assert!(err.contains("\n  mean(log(p - 2))\n       ^^^^^^^^^^"), "{err}");
    let (ok, _, err) = tapegrad(&["fit", "--dataset", "breast_cancer", "--loss", "mean(abs(t - q))", "--out", "/nonexistent/x"]);
    assert!(!ok && err.contains("unknown name \"q\"") && err.contains("\n  mean(abs(t - q))\n               ^"), "{err}");
    let (ok, out, err) = tapegrad(&["losses", "--check", "mean(sin(p))"]);
    assert!(ok, "{err}");
    assert!(!out.is_empty());
}

#[test]
fn losses_check_and_graph_take_formulas() {
    let (ok, out, err) = tapegrad(&["losses", "--check", "mean(where(t > p, 0.9, 0.1) * abs(t - p))"]);
    assert!(ok, "{out}{err}");
    assert_eq!(out.lines().filter(|l| l.ends_with(" ok")).count(), 6, "{out}");
    let (ok, out, _) = tapegrad(&["losses", "--check", "mean(-sum(t * log(clip(p, 1e-7, 1)), axis=1))"]);
    assert!(ok, "{out}");
    let (ok, out, _) = tapegrad(&["losses", "--check", "mean(sqrt(p - 0.5))"]);
    assert!(!ok && out.contains("FAILED"), "{out}");
    let d = temp_dir("graph");
    let dot = d.join("g.dot").display().to_string();
    let (ok, out, err) = tapegrad(&["graph", "mean(abs(t - p) ^ 1.5)", "--out", &dot]);
    assert!(ok, "{err}");
    assert!(out.starts_with("wrote "), "{out}");
    let text = std::fs::read_to_string(&dot).unwrap();
    assert!(text.starts_with("digraph") && text.contains("abs") && text.contains("pow"), "{text}");
}

#[test]
fn fit_save_predict_evaluate_round_trip_with_text_columns() {
    let d = temp_dir("round");
    // Semicolons, a BOM, CRLF, a quoted label with the delimiter in it, and a text feature.
    let mut text = String::from("\u{feff}size;colour;kind\r\n");
    for i in 0..90 {
        let colour = ["red", "blue", "green"][i % 3];
        let kind = if (i % 3 == 0) == (i % 2 == 0) { "\"cat; small\"" } else { "dog" };
        text.push_str(&format!("{};{colour};{kind}\r\n", i % 11));
    }
    let csv = write(&d, "pets.csv", &text);
    let model = d.join("m.safetensors").display().to_string();
    let out = d.join("rep").display().to_string();
    let (ok, stdout, err) = tapegrad(&[
        "fit", "--csv", &csv, "--target", "kind", "--delimiter", ";", "--epochs", "30", "--hidden", "16,8", "--save", &model, "--out", &out,
    ]);
    assert!(ok, "{err}");
    assert!(stdout.contains("task: binary (inferred: target \"kind\" holds text, 2 classes: cat; small, dog)"), "{stdout}");
    assert!(Path::new(&out).join("report.md").exists() && Path::new(&out).join("plots/fit_binary_crossentropy.png").exists());
    let pred = d.join("pred.csv").display().to_string();
    let (ok, _, err) = tapegrad(&["predict", "--model", &model, "--csv", &csv, "--delimiter", ";", "--out", &pred]);
    assert!(ok, "{err}");
    let p = std::fs::read_to_string(&pred).unwrap();
    let mut lines = p.lines();
    assert_eq!(lines.next(), Some("kind,p_cat; small,p_dog"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 90);
    for r in &rows {
        let (label, probs) = if let Some(rest) = r.strip_prefix("cat; small,") { ("cat", rest) } else { ("dog", r.strip_prefix("dog,").unwrap()) };
        let v: Vec<f64> = probs.split(',').map(|x| x.parse().unwrap()).collect();
        assert!((v[0] + v[1] - 1.0).abs() < 1e-6 && (label == "cat") == (v[0] >= v[1]), "{r}");
    }
    let (ok, out, err) = tapegrad(&["evaluate", "--model", &model, "--csv", &csv, "--delimiter", ";"]);
    assert!(ok, "{err}");
    assert!(out.contains("accuracy") && out.contains("on 90 rows"), "{out}");
    // An unseen category is an error naming line and column.
    let new = write(&d, "new.csv", "size;colour\n3;purple\n");
    let (ok, _, err) = tapegrad(&["predict", "--model", &model, "--csv", &new, "--delimiter", ";"]);
    assert!(!ok && err.contains("line 2, column 2 (\"colour\"): category \"purple\" was not seen in training"), "{err}");
}

#[test]
fn regression_predictions_are_on_the_target_scale() {
    let d = temp_dir("reg");
    let model = d.join("m.safetensors").display().to_string();
    let out = d.join("rep").display().to_string();
    let (ok, stdout, err) = tapegrad(&["fit", "--dataset", "diabetes", "--epochs", "20", "--save", &model, "--out", &out, "--no-plots"]);
    assert!(ok, "{err}");
    assert!(stdout.contains("task: regression (inferred: target \"progression\" holds"), "{stdout}");
    let csv = d.join("diabetes.csv");
    std::fs::write(&csv, tapegrad::data::dataset("diabetes").unwrap().csv).unwrap();
    let (ok, out, err) = tapegrad(&["predict", "--model", &model, "--csv", &csv.display().to_string()]);
    assert!(ok, "{err}");
    let values: Vec<f64> = out.lines().skip(1).map(|l| l.parse().unwrap()).collect();
    assert_eq!(values.len(), 442);
    let mean = values.iter().sum::<f64>() / 442.0;
    assert!((100.0..200.0).contains(&mean), "predictions are not on the target's scale: mean {mean}");
}

#[test]
fn non_finite_weights_are_refused_unless_allowed() {
    use std::collections::BTreeMap;
    use tapegrad::io::{load_model, save_model};
    let d = temp_dir("nan");
    let model = d.join("m.safetensors");
    let out = d.join("rep").display().to_string();
    let m = model.display().to_string();
    let (ok, _, err) = tapegrad(&["fit", "--dataset", "iris", "--epochs", "1", "--save", &m, "--out", &out, "--no-plots"]);
    assert!(ok, "{err}");
    let mut saved = load_model::<f32>(&model).unwrap();
    saved.model.parameters_mut()[0][3] = f32::NAN;
    save_model(&model, &saved.model, &saved.metadata.clone().into_iter().collect::<BTreeMap<_, _>>()).unwrap();
    let csv = d.join("iris.csv");
    std::fs::write(&csv, tapegrad::data::dataset("iris").unwrap().csv).unwrap();
    let c = csv.display().to_string();
    let (ok, _, err) = tapegrad(&["predict", "--model", &m, "--csv", &c]);
    assert!(!ok && err.lines().count() == 1, "{err}");
    assert!(err.contains("holds NaN at element 3") && err.contains("--allow-nonfinite"), "{err}");
    let (ok, _, err) = tapegrad(&["evaluate", "--model", &m, "--csv", &c]);
    assert!(!ok && err.contains("holds NaN"), "{err}");
    let (ok, out, err) = tapegrad(&["predict", "--model", &m, "--csv", &c, "--allow-nonfinite"]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 151);
}

#[test]
fn compare_writes_the_study_report() {
    let d = temp_dir("compare");
    let out = d.join("rep");
    let o = out.display().to_string();
    let (ok, stdout, err) = tapegrad(&[
        "compare", "--dataset", "wine", "--losses", "categorical_crossentropy,mean(square(t - p))", "--repeats", "3", "--epochs", "15", "--out", &o,
    ]);
    assert!(ok, "{err}");
    assert!(stdout.contains("best by median test accuracy: "), "{stdout}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| `categorical_crossentropy` |") && md.contains("| `mean(square(t - p))` |") && md.contains("Best by median test accuracy"), "{md}");
    for f in ["compare_runs.csv", "history/compare_categorical_crossentropy.csv", "history/compare_formula2.csv", "plots/compare_boxplot.png", "plots/compare_formula2.png"] {
        assert!(out.join(f).exists(), "missing {f}");
    }
    let runs = std::fs::read_to_string(out.join("compare_runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 7, "{runs}");
    // No temporary files are left beside the outputs.
    let leftovers: Vec<_> = std::fs::read_dir(out.join("plots")).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().starts_with('.')).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn help_lists_the_table_commands() {
    let (ok, out, _) = tapegrad(&["--help"]);
    assert!(ok);
    assert!(out.contains("fit") && out.contains("compare"), "{out}");
    let (ok, out, _) = tapegrad(&["fit", "--help"]);
    assert!(ok);
    for opt in ["--csv", "--dataset", "--target", "--features", "--task", "--loss", "--hidden", "--activation", "--optimizer", "--lr", "--momentum", "--epochs", "--batch-size", "--test-fraction", "--seed", "--save", "--out", "--delimiter", "--drop-missing"] {
        assert!(out.contains(opt), "fit --help misses {opt}");
    }
    let (ok, out, _) = tapegrad(&["predict", "--help"]);
    assert!(ok && out.contains("--out") && out.contains("--allow-nonfinite"), "{out}");
}

#[test]
fn save_and_predict_out_create_their_folders() {
    let d = temp_dir("folders");
    let model = d.join("models/wine/model.safetensors");
    let pred = d.join("predictions/wine.csv");
    let report = d.join("report").display().to_string();
    let (ok, out, err) = tapegrad(&["fit", "--dataset", "wine", "--epochs", "2", "--no-plots", "--out", &report, "--save", &model.display().to_string()]);
    assert!(ok, "{out}\n{err}");
    assert!(model.is_file(), "{model:?} was not written");
    let wine = concat!(env!("CARGO_MANIFEST_DIR"), "/data/wine.csv");
    let (ok, out, err) = tapegrad(&["predict", "--model", &model.display().to_string(), "--csv", wine, "--out", &pred.display().to_string()]);
    assert!(ok, "{out}\n{err}");
    let text = std::fs::read_to_string(&pred).unwrap();
    assert_eq!(text.lines().count(), 179, "a header and one row per wine");
}

#[test]
fn formulas_may_start_with_a_minus_and_need_not_be_reduced() {
    // A leading unary minus is a formula, not a flag, for --loss, --losses, --check and graph.
    let ce = "-mean(t * log(clip(p, 1e-7, 1)) + (1 - t) * log(clip(1 - p, 1e-7, 1)))";
    let (ok, out, err) = tapegrad(&["losses", "--check", ce]);
    assert!(ok, "{out}{err}");
    assert_eq!(out.lines().filter(|l| l.ends_with(" ok")).count(), 6, "{out}");
    let d = temp_dir("minus");
    let dot = d.join("g.dot").display().to_string();
    let (ok, _, err) = tapegrad(&["graph", "-mean(square(t - p))", "--out", &dot]);
    assert!(ok, "{err}");
    assert!(std::fs::read_to_string(&dot).unwrap().contains("neg"));
    let out_dir = d.join("rep").display().to_string();
    let (ok, stdout, err) = tapegrad(&["fit", "--dataset", "breast_cancer", "--loss", ce, "--epochs", "3", "--no-plots", "--out", &out_dir]);
    assert!(ok, "{err}");
    assert!(stdout.contains("Test accuracy"), "{stdout}");
    let (ok, _, err) =
        tapegrad(&["compare", "--dataset", "breast_cancer", "--losses", &format!("{ce},hinge"), "--repeats", "2", "--epochs", "2", "--no-plots", "--out", &out_dir]);
    assert!(ok, "{err}");
    // A formula left unreduced (one value per row) is averaged, in --check as in training and graph.
    for f in ["sum(t * p, axis=1)", "max(p, axis=0)", "abs(t - p)"] {
        let (ok, out, err) = tapegrad(&["losses", "--check", f]);
        assert!(ok && !err.contains("internal error"), "{f}: {out}{err}");
        assert!(out.lines().filter(|l| l.ends_with(" ok")).count() >= 3, "{f}: {out}");
    }
    fails_with(&["fit", "--dataset", "iris", "--loss", ""], "--loss: empty; give a registry name");
}

/// `tapegrad fit` on a bundled data set for `epochs`, saved as `d/m.safetensors`: the model's
/// path and fit's standard output.
fn fit_and_save(d: &Path, dataset: &str, epochs: &str) -> (String, String) {
    let model = d.join("m.safetensors").display().to_string();
    let (ok, stdout, err) = tapegrad(&["fit", "--dataset", dataset, "--epochs", epochs, "--no-plots", "--out", &d.join("rep").display().to_string(), "--save", &model]);
    assert!(ok, "{err}");
    (model, stdout)
}

#[test]
fn a_failed_predict_leaves_no_output_file() {
    let d = temp_dir("predict_fail");
    let (model, _) = fit_and_save(&d, "iris", "1");
    let bad = write(&d, "bad.csv", "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n5.1,3.5,1.4,0.2\n4.9,three,1.4,0.2\n");
    let out = d.join("preds/out.csv");
    let (ok, _, err) = tapegrad(&["predict", "--model", &model, "--csv", &bad, "--out", &out.display().to_string()]);
    assert!(!ok && err.lines().count() == 1 && err.contains("line 3, column 2"), "{err}");
    assert!(!out.exists() && !d.join("preds").exists(), "a failed predict left {out:?}");
    let unlabelled = write(&d, "unlabelled.csv", "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n5.1,3.5,1.4,0.2\n");
    let (ok, _, err) = tapegrad(&["evaluate", "--model", &model, "--csv", &unlabelled]);
    assert!(!ok && err.lines().count() == 1 && err.contains("no column named \"species\""), "{err}");
}

#[test]
fn evaluate_takes_the_target_under_another_name() {
    let d = temp_dir("evaluate_target");
    let (model, stdout) = fit_and_save(&d, "wine", "20");
    let wine = tapegrad::data::dataset("wine").unwrap().csv;
    let renamed = write(&d, "renamed.csv", &wine.replacen("cultivar", "truth", 1));
    let (ok, out, err) = tapegrad(&["evaluate", "--model", &model, "--csv", &renamed, "--target", "truth"]);
    assert!(ok, "{err}");
    assert!(out.contains("accuracy") && out.contains("on 178 rows") && out.contains("(target \"truth\")"), "{out}");
    // The same accuracy as on the original file: 124 training and 54 test rows, as fit reported.
    let acc = |text: &str, key: &str| -> f64 {
        let rest = &text[text.find(key).unwrap() + key.len()..];
        rest.split(|c: char| c.is_whitespace() || c == ',').find(|s| !s.is_empty()).unwrap().parse().unwrap()
    };
    let (train, test) = (acc(&stdout, "Train accuracy:"), acc(&stdout, "Test accuracy:"));
    let expected = (124.0 * train + 54.0 * test) / 178.0;
    assert!((acc(&out, "accuracy") - expected).abs() < 0.01, "{out} vs {stdout}");
    let (ok, _, err) = tapegrad(&["evaluate", "--model", &model, "--csv", &renamed]);
    assert!(!ok && err.contains("no column named \"cultivar\""), "{err}");
}

#[test]
fn a_number_as_a_loss_is_read_as_a_formula_and_momentum_is_checked() {
    // "1" is no registry name: it is a formula without p, not an unknown name with the whole registry.
    let (ok, _, err) = tapegrad(&["fit", "--dataset", "iris", "--loss", "1", "--out", "/nonexistent/x"]);
    assert!(!ok && err == "error: --loss: the formula does not use p (the predictions), so it cannot train a model\n  1\n  ^\n", "{err}");
    fails_with(&["fit", "--dataset", "iris", "--momentum", "5"], "--momentum must be between 0 and 1 (as Keras' SGD requires), got 5");
    fails_with(&["compare", "--dataset", "iris", "--momentum=-0.5"], "--momentum must be between 0 and 1");
}

/// The regression losses beyond Keras (`smooth_l1`, `quantile` and its alias `pinball`) train a
/// table, and are refused for classification with a message naming the task they fit.
#[test]
fn smooth_l1_and_quantile_train_a_regression_table() {
    let d = temp_dir("beyond_keras_regression");
    for loss in ["smooth_l1", "quantile", "pinball"] {
        let out_dir = d.join(loss).display().to_string();
        let (ok, out, err) = tapegrad(&["fit", "--dataset", "diabetes", "--loss", loss, "--epochs", "3", "--no-plots", "--out", &out_dir]);
        assert!(ok, "{loss}: {err}");
        assert!(out.contains("task: regression") && out.contains("Test"), "{loss}: {out}");
    }
    fails_with(&["fit", "--dataset", "breast_cancer", "--loss", "quantile"], "fits a regression task, but the task is binary");
}
