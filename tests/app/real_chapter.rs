//! The main job's real-data chapter, as a user gets it from `tapegrad study` (shortened with
//! `--epochs` and `--repeats`): every data set with its four losses beside the reference runs, a box
//! plot and learning curves each, and the synthetic extensions over seeds.

use std::process::Command;

#[test]
fn the_study_report_holds_the_real_data_chapter() {
    let dir = std::env::temp_dir().join(format!("tapegrad_real_chapter_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_tapegrad"))
        .args(["study", "--epochs", "2", "--repeats", "2", "--out", &dir.display().to_string()])
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let chapter = &md[md.find("# Real data, and the extensions over seeds").expect("the chapter is in the report")..];
    let sets: [(&str, &[&str]); 4] = [
        ("diabetes", &["mean_squared_error", "mean_absolute_error", "huber", "mean_squared_logarithmic_error"]),
        ("breast_cancer", &["binary_crossentropy", "hinge", "squared_hinge", "binary_focal_crossentropy"]),
        ("wine", &["categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence", "categorical_hinge"]),
        ("digits", &["categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence", "categorical_hinge"]),
    ];
    for (set, losses) in sets {
        let start = chapter.find(&format!("\n## {set} (")).unwrap_or_else(|| panic!("no {set} section"));
        let section = &chapter[start..];
        let section = &section[..section[1..].find("\n## ").map_or(section.len(), |e| e + 1)];
        assert!(section.contains("Beside the reference runs (PyTorch"), "{set}: no reference table");
        assert!(section.contains(&format!("![test {} over repeats, per loss](plots/{set}_boxplot.png)", if set == "diabetes" { "mse" } else { "accuracy" })), "{set}");
        assert!(dir.join(format!("plots/{set}_boxplot.png")).is_file(), "{set}: box plot missing");
        for loss in losses {
            assert!(section.contains(&format!("| `{loss}` | ")), "{set}: {loss} missing from the table");
            assert!(dir.join(format!("plots/{set}_{loss}.png")).is_file(), "{set}: curves of {loss} missing");
            assert!(dir.join(format!("history/{set}_{loss}.csv")).is_file(), "{set}: history of {loss} missing");
        }
        let runs = std::fs::read_to_string(dir.join(format!("{set}_runs.csv"))).unwrap();
        assert_eq!(runs.lines().count(), 1 + 4 * 2, "{set}: four losses x two repeats");
    }
    for synthetic in ["regression_mape over 2 seeds", "blobs_categorical_hinge over 2 seeds"] {
        assert!(chapter.contains(&format!("\n## {synthetic}")), "no section {synthetic}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
