//! The study's results land where the tutorial, Keras and PyTorch land on the same data
//! (medians over 5 seeds), and the tutorial's circles model trains to at least 0.80 test accuracy.
#![cfg(feature = "app")]

use tapegrad::study::{find, run_once, StudyData};
use tapegrad::train::Verbose;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Test metric of `name` for seeds 1..=5.
fn test_metrics(data: &StudyData, name: &str) -> Vec<f64> {
    let e = find(name).unwrap();
    (1..=5).map(|seed| run_once(e, data, seed, e.epochs, Verbose::Silent).unwrap().test_metric).collect()
}

#[test]
fn circles_model_reaches_080_test_accuracy() {
    // Issue 4's acceptance test: 2-50-1 relu/sigmoid, SGD 0.01 momentum 0.9, batch 32, BCE, fixed seed.
    let data = StudyData::generate();
    let run = run_once(find("circles_bce").unwrap(), &data, 1, 200, Verbose::Silent).unwrap();
    assert!(run.test_metric >= 0.80, "test accuracy {}", run.test_metric);
    assert!(run.history.epochs() == 200);
}

#[test]
fn medians_over_five_seeds_land_in_the_reference_ranges() {
    let data = StudyData::generate();
    let checks: &[(&str, f64, f64)] = &[
        ("regression_mse", 0.0, 0.05),
        ("regression_mae", 0.0, 0.05),
        ("circles_bce", 0.80, 0.88),
        ("blobs_cce", 0.77, 0.86),
        ("blobs_sparse_cce", 0.77, 0.86),
        ("blobs_kld", 0.77, 0.86),
    ];
    for &(name, lo, hi) in checks {
        let m = median(test_metrics(&data, name));
        assert!((lo..=hi).contains(&m), "{name}: median test metric {m} outside [{lo}, {hi}]");
    }
}
