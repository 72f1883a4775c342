//! The study's report writer: tutorial lines, tables, CSV files, report.md and the figures.
#![cfg(feature = "app")]

use std::fs;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::report::{
    mean, std_dev, summary_table, tutorial_line, write_history_csv, write_report,
    write_summary_csv, Curves, ExperimentResult, ReportError, ReportOptions, ScatterData,
    SUMMARY_HEADER,
};

/// A fresh, empty directory under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tapegrad_report_{name}_{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Curves that look like training: a decaying loss and a rising (or falling, for mse) metric.
fn curves(epochs: usize, metric_rises: bool, rng: &mut StdRng) -> Curves {
    let mut series = |start: f64, end: f64, noise: f64| -> Vec<f64> {
        (0..epochs)
            .map(|i| {
                let t = (-(i as f64) / (epochs as f64 / 6.0)).exp();
                end + (start - end) * t + noise * (rng.gen::<f64>() - 0.5)
            })
            .collect()
    };
    let (m0, m1) = if metric_rises {
        (0.5, 0.84)
    } else {
        (1.0, 0.005)
    };
    Curves {
        loss_train: series(0.7, 0.35, 0.01),
        loss_test: series(0.72, 0.33, 0.01),
        metric_train: series(m0, m1, 0.02),
        metric_test: series(m0, m1 + 0.005, 0.03),
    }
}

fn result(
    name: &str,
    loss: &str,
    metric: &str,
    train: Vec<f64>,
    test: Vec<f64>,
) -> ExperimentResult {
    ExperimentResult {
        name: name.into(),
        loss: loss.into(),
        metric: metric.into(),
        train,
        test,
        seconds: 1.5,
        curves: None,
        notes: Vec::new(),
    }
}

/// Every experiment of the study, with made-up numbers and curves.
fn study(rng: &mut StdRng, epochs: usize) -> Vec<ExperimentResult> {
    let single = [
        ("regression_mse", "mean_squared_error", "mse"),
        ("regression_msle", "mean_squared_logarithmic_error", "mse"),
        ("regression_mae", "mean_absolute_error", "mse"),
        ("regression_mape", "mean_absolute_percentage_error", "mse"),
        ("circles_bce", "binary_crossentropy", "accuracy"),
        ("circles_hinge", "hinge", "accuracy"),
        ("circles_squared_hinge", "squared_hinge", "accuracy"),
        ("blobs_cce", "categorical_crossentropy", "accuracy"),
        (
            "blobs_sparse_cce",
            "sparse_categorical_crossentropy",
            "accuracy",
        ),
        ("blobs_kld", "kl_divergence", "accuracy"),
        ("blobs_categorical_hinge", "categorical_hinge", "accuracy"),
    ];
    let mut out = Vec::new();
    for (name, loss, metric) in single {
        let acc = metric == "accuracy";
        let c = curves(epochs, acc, rng);
        let mut r = result(
            name,
            loss,
            metric,
            vec![*c.metric_train.last().unwrap()],
            vec![*c.metric_test.last().unwrap()],
        );
        r.curves = Some(c);
        out.push(r);
    }
    for (name, loss) in [
        ("repeated_blobs_cce", "categorical_crossentropy"),
        (
            "repeated_blobs_sparse_cce",
            "sparse_categorical_crossentropy",
        ),
        ("repeated_blobs_kld", "kl_divergence"),
    ] {
        let runs = 10;
        let train = (0..runs).map(|_| 0.82 + 0.01 * rng.gen::<f64>()).collect();
        let test = (0..runs).map(|_| 0.80 + 0.03 * rng.gen::<f64>()).collect();
        out.push(result(name, loss, "accuracy", train, test));
    }
    out
}

fn circles(rng: &mut StdRng, n: usize) -> ScatterData {
    let mut points = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % 2;
        let radius = if class == 0 { 1.0 } else { 0.5 };
        let angle = rng.gen::<f64>() * std::f64::consts::TAU;
        let (nx, ny) = (rng.gen::<f64>() - 0.5, rng.gen::<f64>() - 0.5);
        points.push([
            radius * angle.cos() + 0.2 * nx,
            radius * angle.sin() + 0.2 * ny,
        ]);
        labels.push(class);
    }
    ScatterData {
        name: "circles".into(),
        title: "Two circles".into(),
        points,
        labels,
    }
}

fn blobs(rng: &mut StdRng, n: usize) -> ScatterData {
    let centres = [[-2.0, 4.0], [-6.0, -8.0], [1.0, -2.0]];
    let mut points = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % 3;
        let c = centres[class];
        points.push([
            c[0] + 4.0 * (rng.gen::<f64>() - 0.5),
            c[1] + 4.0 * (rng.gen::<f64>() - 0.5),
        ]);
        labels.push(class);
    }
    ScatterData {
        name: "blobs".into(),
        title: "Three blobs".into(),
        points,
        labels,
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Width and height from a PNG file's IHDR chunk (after checking the signature).
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

#[test]
fn tutorial_line_matches_the_tutorial_format() {
    let r = result(
        "circles_bce",
        "binary_crossentropy",
        "accuracy",
        vec![0.8316],
        vec![0.8458],
    );
    assert_eq!(tutorial_line(&r), "Train: 0.832, Test: 0.846");
    let r = result("regression_mse", "mse", "mse", vec![0.00041], vec![0.0023]);
    assert_eq!(tutorial_line(&r), "Train: 0.000, Test: 0.002");
    let r = result("rep", "kld", "accuracy", vec![0.8, 0.82], vec![0.81, 0.83]);
    assert_eq!(
        tutorial_line(&r),
        "Train: 0.810 (0.010), Test: 0.820 (0.010)"
    );
}

#[test]
fn summary_table_is_aligned() {
    let results = vec![
        result(
            "regression_mse",
            "mean_squared_error",
            "mse",
            vec![0.004],
            vec![0.006],
        ),
        result(
            "blobs_kld",
            "kl_divergence",
            "accuracy",
            vec![0.8, 0.82],
            vec![0.81, 0.83],
        ),
    ];
    let table = summary_table(&results);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(lines[0].starts_with("experiment"));
    assert!(lines[1].chars().all(|c| c == '-' || c == ' '));
    assert!(lines[2].starts_with("regression_mse  "));
    assert!(lines[3].starts_with("blobs_kld       "));
    assert!(lines[3].contains("0.8100 ± 0.0100") && lines[3].contains("0.8200 ± 0.0100"));
    // Right-aligned number columns end at the same place.
    let widths: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
    assert!(widths.iter().all(|&w| w == widths[0]), "{table}");
}

#[test]
fn history_csv_has_every_epoch_and_reads_back_exactly() {
    let dir = temp_dir("history");
    let mut rng = StdRng::seed_from_u64(1);
    let c = curves(37, true, &mut rng);
    let path = write_history_csv(&dir, "circles_bce", "accuracy", &c).unwrap();
    assert_eq!(path, dir.join("circles_bce.csv"));
    let text = read(&path);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("epoch,loss,val_loss,accuracy,val_accuracy")
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 37);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(
            row,
            &vec![
                (i + 1) as f64,
                c.loss_train[i],
                c.loss_test[i],
                c.metric_train[i],
                c.metric_test[i]
            ]
        );
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn summary_csv_has_the_issue_header_and_stats() {
    let dir = temp_dir("summary");
    let results = vec![
        result(
            "circles_bce",
            "binary_crossentropy",
            "accuracy",
            vec![0.83],
            vec![0.85],
        ),
        result(
            "repeated_blobs_kld",
            "kl_divergence",
            "accuracy",
            vec![0.8, 0.82, 0.84],
            vec![0.79, 0.8, 0.84],
        ),
    ];
    let path = write_summary_csv(&dir, &results).unwrap();
    let text = read(&path);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "experiment,loss,metric,repeats,train_mean,train_std,test_mean,test_std,seconds"
    );
    assert_eq!(lines[0], SUMMARY_HEADER);
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[1],
        "circles_bce,binary_crossentropy,accuracy,1,0.83,0,0.85,0,1.5"
    );
    let f: Vec<&str> = lines[2].split(',').collect();
    assert_eq!(
        &f[..4],
        &["repeated_blobs_kld", "kl_divergence", "accuracy", "3"]
    );
    let num = |i: usize| f[i].parse::<f64>().unwrap();
    assert!((num(4) - 0.82).abs() < 1e-12);
    assert!((num(5) - std_dev(&[0.8, 0.82, 0.84])).abs() < 1e-15);
    assert!((num(6) - mean(&[0.79, 0.8, 0.84])).abs() < 1e-15);
    assert!((num(7) - 0.021602468994692887).abs() < 1e-12); // numpy.std([0.79, 0.8, 0.84])
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn report_without_plots_has_tables_references_and_histories() {
    let dir = temp_dir("noplots");
    let mut rng = StdRng::seed_from_u64(2);
    let results = study(&mut rng, 20);
    let paths = write_report(&dir, &results, &[], ReportOptions { plots: false }).unwrap();
    assert!(paths.figures.is_empty());
    assert!(!dir.join("plots").exists());
    assert_eq!(paths.histories.len(), 11);
    for r in results.iter().filter(|r| r.curves.is_some()) {
        let h = read(&dir.join("history").join(format!("{}.csv", r.name)));
        assert_eq!(h.lines().count(), 21);
        assert!(h.starts_with(&format!("epoch,loss,val_loss,{m},val_{m}\n", m = r.metric)));
    }
    assert_eq!(read(&paths.summary_csv).lines().count(), results.len() + 1);

    let md = read(&paths.markdown);
    let sections = [
        "## What each experiment printed",
        "## Summary",
        "## Against the tutorial, Keras and PyTorch",
        "## Wall time",
        "## Repeated evaluation",
    ];
    let positions: Vec<usize> = sections
        .iter()
        .map(|s| md.find(s).unwrap_or_else(|| panic!("missing {s}:\n{md}")))
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "sections out of order"
    );
    assert!(!md.contains("## Learning curves") && !md.contains("!["));
    for r in &results {
        let line = md.lines().find(|l| l.starts_with(&format!("{} ", r.name)));
        assert!(
            line.is_some_and(|l| l.ends_with(&format!("  {}", tutorial_line(r)))),
            "{}",
            r.name
        );
    }
    // The tutorial's words and the Keras / PyTorch medians sit next to ours.
    assert!(md.contains("about 83% train, about 84% test"));
    assert!(md.contains("0.8480 (0.8440–0.8520) | 0.8480 (0.8400–0.8600)"));
    assert!(md.contains("| 0.0058 (0.0031–0.0112) | 0.0057 (0.0012–0.0116) |"));
    let mape = md
        .lines()
        .find(|l| l.starts_with("| regression_mape | mse"))
        .unwrap();
    assert!(mape.contains("not run in the tutorial"));
    // The repeated runs compare against the single-run references of the same loss.
    let rep = md
        .lines()
        .find(|l| l.starts_with("| repeated_blobs_kld | accuracy"))
        .unwrap();
    assert!(rep.contains("0.8160 (0.7880–0.8320)"), "{rep}");
    assert!(md.contains("The tutorial's experiments (9 of 9): 13.5 s here"));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn report_with_plots_draws_and_links_every_figure() {
    let dir = temp_dir("plots");
    let mut rng = StdRng::seed_from_u64(3);
    let results = study(&mut rng, 100);
    let scatter = [circles(&mut rng, 1000), blobs(&mut rng, 1000)];
    let paths = write_report(&dir, &results, &scatter, ReportOptions::default()).unwrap();
    // 11 learning-curve figures, 2 scatter plots, 1 repeated-evaluation plot.
    assert_eq!(paths.figures.len(), 14);
    let md = read(&paths.markdown);
    for fig in &paths.figures {
        let (w, h) = png_size(fig);
        assert!(
            (600..=1200).contains(&w) && (500..=1000).contains(&h),
            "{fig:?}: {w}x{h}"
        );
        assert!(
            fs::metadata(fig).unwrap().len() > 10_000,
            "{fig:?} looks empty"
        );
        let rel = fig.strip_prefix(&dir).unwrap().to_str().unwrap();
        assert!(
            md.contains(&format!("]({rel})")),
            "report.md does not link {rel}"
        );
    }
    for name in ["circles_bce", "regression_mape", "blobs_categorical_hinge"] {
        assert!(dir.join("plots").join(format!("{name}.png")).exists());
    }
    assert!(dir.join("plots/data_circles.png").exists());
    assert!(dir.join("plots/repeated.png").exists());
    // Keep the figures for a look with TAPEGRAD_KEEP_REPORT=1.
    if std::env::var_os("TAPEGRAD_KEEP_REPORT").is_some() {
        eprintln!("report kept in {}", dir.display());
    } else {
        fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn notes_are_listed_under_their_experiment() {
    let dir = temp_dir("notes");
    let mut mape = result(
        "regression_mape",
        "mean_absolute_percentage_error",
        "mse",
        vec![f64::NAN],
        vec![f64::NAN],
    );
    mape.notes = vec!["seed 1: the loss became inf at epoch 3, batch 13".to_string()];
    // A diverged run keeps the epochs that finished: huge but finite values.
    mape.curves = Some(Curves {
        loss_train: vec![5.3e19, 3.5e31],
        loss_test: vec![3.0e22, 3.8e32],
        metric_train: vec![1.8e34, 8.2e59],
        metric_test: vec![3.8e37, f64::NAN],
    });
    let mut mse = result("regression_mse", "mse", "mse", vec![0.004], vec![0.006]);
    mse.notes = vec!["first note".to_string(), "second\nnote".to_string()];
    let plain = result("regression_mae", "mae", "mse", vec![0.01], vec![0.02]);
    let results = [mape, mse, plain];
    let paths = write_report(&dir, &results, &[], ReportOptions::default()).unwrap();
    assert_eq!(paths.figures.len(), 1);
    assert!(png_size(&paths.figures[0]) == (800, 700));
    let md = read(&paths.markdown);
    // In the printed block, right under the experiment's line.
    let lines: Vec<&str> = md.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("regression_mape  Train: NaN"))
        .unwrap();
    assert_eq!(
        lines[at + 1].trim(),
        "note: seed 1: the loss became inf at epoch 3, batch 13"
    );
    assert!(lines[at + 2].starts_with("regression_mse   Train: 0.004"));
    assert_eq!(lines[at + 3].trim(), "note: first note");
    assert_eq!(lines[at + 4].trim(), "note: second note");
    assert!(lines[at + 5].starts_with("regression_mae   Train: 0.010"));
    // A Notes list before the summary, one bullet per note.
    let notes = md.find("## Notes").expect("a Notes section");
    assert!(notes < md.find("## Summary").unwrap());
    assert!(md.contains("- `regression_mape`: seed 1: the loss became inf at epoch 3, batch 13\n"));
    assert!(md.contains("- `regression_mse`: second note\n"));
    // And under the learning curves of the experiment.
    let curves = md.find("### regression_mape").unwrap();
    assert!(md[curves..].contains("- Note: seed 1: the loss became inf at epoch 3, batch 13"));
    // No notes, no section.
    let quiet = write_report(
        dir.join("quiet"),
        &results[2..],
        &[],
        ReportOptions { plots: false },
    )
    .unwrap();
    let md = read(&quiet.markdown);
    assert!(!md.contains("## Notes") && !md.contains("note:"));
    if std::env::var_os("TAPEGRAD_KEEP_REPORT").is_some() {
        eprintln!("report kept in {}", dir.display());
    } else {
        fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn bad_input_is_reported_with_its_name() {
    let dir = temp_dir("errors");
    let mut r = result(
        "circles_bce",
        "binary_crossentropy",
        "accuracy",
        vec![0.8],
        vec![0.8],
    );
    r.curves = Some(Curves {
        loss_train: vec![1.0, 0.5],
        loss_test: vec![1.0],
        metric_train: vec![0.5, 0.6],
        metric_test: vec![0.5, 0.6],
    });
    let err = write_report(&dir, &[r], &[], ReportOptions { plots: false }).unwrap_err();
    assert!(matches!(err, ReportError::InvalidData { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("circles_bce") && msg.contains("loss_test 1"),
        "{msg}"
    );

    let bad = result("../escape", "mse", "mse", vec![0.1], vec![0.1]);
    let msg = write_report(&dir, &[bad], &[], ReportOptions { plots: false })
        .unwrap_err()
        .to_string();
    assert!(msg.contains("../escape"), "{msg}");

    let scatter = ScatterData {
        name: "circles".into(),
        title: "Two circles".into(),
        points: vec![[0.0, 0.0]; 3],
        labels: vec![0, 1],
    };
    let msg = tapegrad::report::plot_scatter(
        dir.join("s.png"),
        "Two circles",
        &scatter.points,
        &scatter.labels,
    )
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains("Two circles") && msg.contains("3 points but 2 labels"),
        "{msg}"
    );

    // A directory that cannot be created: its parent is a file.
    let file = dir.join("not_a_dir");
    fs::write(&file, "x").unwrap();
    let ok = result(
        "circles_bce",
        "binary_crossentropy",
        "accuracy",
        vec![0.8],
        vec![0.8],
    );
    let err =
        write_report(file.join("out"), &[ok], &[], ReportOptions { plots: false }).unwrap_err();
    assert!(matches!(err, ReportError::Io { .. }));
    assert!(err.to_string().contains("not_a_dir"), "{err}");
    fs::remove_dir_all(&dir).unwrap();
}
