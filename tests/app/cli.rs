//! The command line as a user meets it: help, listing, checks, and one-line errors.
#![cfg(feature = "app")]

use std::process::Command;

fn tapegrad(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tapegrad")).args(args).output().expect("the binary runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn help_lists_the_subcommands() {
    let (ok, out, _) = tapegrad(&["--help"]);
    assert!(ok);
    for cmd in ["study", "losses", "gradcheck", "graph", "bench", "evaluate", "predict"] {
        assert!(out.contains(cmd), "--help misses {cmd}:\n{out}");
    }
}

#[test]
fn unknown_experiment_is_one_line_listing_the_known_ones() {
    let (ok, out, err) = tapegrad(&["study", "circles_bse", "--no-plots", "--out", "/nonexistent/never-written"]);
    assert!(!ok);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: unknown experiment 'circles_bse'") && err.contains("circles_bce") && err.contains("repeated"), "{err}");
}

#[test]
fn bad_numbers_are_errors_not_panics() {
    let (ok, _, err) = tapegrad(&["study", "--epochs", "0"]);
    assert!(!ok && err.contains("--epochs must be at least 1"), "{err}");
    let (ok, _, err) = tapegrad(&["graph", "no_such_loss"]);
    assert!(!ok && err.lines().count() == 1 && err.contains("unknown loss 'no_such_loss'") && err.contains("binary_crossentropy"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn losses_lists_formulas_and_options() {
    let (ok, out, _) = tapegrad(&["losses"]);
    assert!(ok);
    assert_eq!(out.lines().filter(|l| !l.starts_with(' ')).count(), 36, "{out}");
    assert!(out.contains("binary_crossentropy") && out.contains("from_logits") && out.contains("formula:"));
}

#[test]
fn gradcheck_passes_for_every_loss() {
    let (ok, out, err) = tapegrad(&["gradcheck"]);
    assert!(ok, "{out}\n{err}");
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert!(rows.len() >= 19, "{out}");
    assert!(rows.iter().all(|r| r.trim_end().ends_with("ok")), "{out}");
}

#[test]
fn graph_writes_dot_for_a_loss() {
    let path = std::env::temp_dir().join(format!("tapegrad-graph-{}.dot", std::process::id()));
    let (ok, out, err) = tapegrad(&["graph", "mse", "--batch", "3", "--out", path.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("wrote"));
    let dot = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).ok();
    assert!(dot.starts_with("digraph") && dot.contains("[3, 2]") && dot.contains("grad"), "{dot}");
}

#[test]
fn a_short_study_writes_its_report() {
    let dir = std::env::temp_dir().join(format!("tapegrad-cli-study-{}", std::process::id()));
    let (ok, out, err) = tapegrad(&["study", "circles_bce", "blobs_kld", "--epochs", "3", "--no-plots", "--out", dir.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("circles_bce") && out.contains("Train: ") && out.contains(", Test: "), "{out}");
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert!(summary.starts_with("experiment,loss,metric,repeats,train_mean,train_std,test_mean,test_std,seconds"));
    assert_eq!(summary.lines().count(), 3);
    let history = std::fs::read_to_string(dir.join("history/circles_bce.csv")).unwrap();
    assert_eq!(history.lines().count(), 4, "header and 3 epochs:\n{history}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn saved_models_evaluate_predict_and_bad_files_are_refused() {
    let dir = std::env::temp_dir().join(format!("tapegrad-cli-save-{}", std::process::id()));
    let models = dir.join("models");
    let (ok, out, err) = tapegrad(&[
        "study", "circles_bce", "--epochs", "20", "--no-plots",
        "--out", dir.to_str().unwrap(), "--save", models.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let printed = out.lines().next().unwrap().split_whitespace().skip(1).collect::<Vec<_>>().join(" ");
    let file = models.join("circles_bce.safetensors");
    // The rebuilt model prints the very line the study printed.
    let (ok, out, err) = tapegrad(&["evaluate", "--model", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().nth(1).unwrap(), printed);

    let csv = dir.join("points.csv");
    std::fs::write(&csv, "x,y\n0.0,0.1\n1.1,0.0\n0.3,-0.2\n").unwrap();
    let (ok, out, err) = tapegrad(&["predict", "--model", file.to_str().unwrap(), "--csv", csv.to_str().unwrap()]);
    assert!(ok, "{err}");
    let p: Vec<f64> = out.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(p.len(), 3);
    assert!(p.iter().all(|v| (0.0..=1.0).contains(v)), "sigmoid outputs: {p:?}");

    // Truncated, empty and wrong-format files: one line, non-zero exit, no panic.
    let bytes = std::fs::read(&file).unwrap();
    let truncated = dir.join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let empty = dir.join("empty.safetensors");
    std::fs::write(&empty, b"").unwrap();
    for bad in [&truncated, &empty, &csv] {
        let (ok, _, err) = tapegrad(&["evaluate", "--model", bad.to_str().unwrap()]);
        assert!(!ok);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: ") && err.contains(bad.file_name().unwrap().to_str().unwrap()) && !err.contains("panicked"), "{err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
