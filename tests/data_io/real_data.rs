//! The real-data chapter: every data set trains with its losses and lands near the reference runs,
//! and the comparison report names the best loss, the modes and the references.

use tapegrad::report::{append_chapter, best_loss, median_min_max, split_modes, write_compare_report, Curves, LossRuns};
use tapegrad::study::real::{run_real, REAL};

fn find(name: &str) -> &'static tapegrad::study::real::RealExperiment {
    REAL.iter().find(|e| e.dataset == name).unwrap()
}

#[test]
fn breast_cancer_losses_land_in_the_reference_range() {
    // Three seeds of the full protocol; PyTorch's ten seeds span 0.924..0.994 for these losses.
    let s = run_real(find("breast_cancer"), 3, 200).unwrap();
    assert_eq!(s.losses.len(), 4);
    for l in &s.losses {
        let (med, _, _) = median_min_max(&l.test);
        assert!((0.93..=1.0).contains(&med), "{}: median {med}", l.label);
        assert_eq!(l.curves.loss_train.len(), 200);
    }
    assert!(s.extra.contains("| `hinge` |") && s.extra.contains("0.977 [0.953, 0.982]"), "{}", s.extra);
    assert!(s.extra.contains("scikit-learn LogisticRegression"), "{}", s.extra);
}

#[test]
fn one_hot_sparse_and_kl_agree_seed_by_seed() {
    // With one-hot targets and a softmax the three losses' gradients agree (the reference notes it).
    let s = run_real(find("wine"), 2, 30).unwrap();
    let test: Vec<&Vec<f64>> = s.losses.iter().take(3).map(|l| &l.test).collect();
    assert_eq!(test[0], test[1]);
    assert_eq!(test[0], test[2]);
}

#[test]
fn diabetes_reports_mse_of_the_standardised_target() {
    let s = run_real(find("diabetes"), 2, 40).unwrap();
    assert_eq!(s.metric, "mse");
    for l in &s.losses[..3] {
        let (med, _, _) = median_min_max(&l.test);
        assert!((0.3..2.0).contains(&med), "{}: median {med}", l.label);
    }
}

fn runs(name: &str, test: &[f64]) -> LossRuns {
    let c = vec![0.5, 0.4];
    LossRuns {
        name: name.into(),
        label: name.into(),
        train: test.to_vec(),
        test: test.to_vec(),
        curves: Curves { loss_train: c.clone(), loss_test: c.clone(), metric_train: c.clone(), metric_test: c },
        seconds: 0.1,
        notes: vec![],
    }
}

#[test]
fn the_report_names_the_best_loss_and_the_modes() {
    let a = runs("steady", &[0.80, 0.81, 0.79, 0.80]);
    let b = runs("split", &[0.34, 0.83, 0.55, 0.82, 0.84, 0.45]);
    assert_eq!(best_loss("accuracy", &[a.clone(), b.clone()]).unwrap().name, "steady");
    assert_eq!(best_loss("mse", &[a.clone(), b.clone()]).unwrap().name, "split");
    assert!(split_modes(&a.test).is_none());
    let dir = std::env::temp_dir().join(format!("tapegrad_real_report_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let section = tapegrad::report::CompareSection {
        name: "demo".into(),
        title: "demo data".into(),
        intro: vec!["two losses".into()],
        metric: "accuracy".into(),
        losses: vec![a, b],
        extra: String::new(),
    };
    let path = write_compare_report(&dir, "demo", std::slice::from_ref(&section), true).unwrap();
    let md = std::fs::read_to_string(&path).unwrap();
    assert!(md.contains("Best by median test accuracy: **`steady`**"), "{md}");
    assert!(md.contains("`split`: the runs split into two modes: 3 at accuracy 0.340–0.550 and 3 at 0.820–0.840"), "{md}");
    let summary = std::fs::read_to_string(dir.join("demo_summary.csv")).unwrap();
    assert!(summary.starts_with("loss,metric,runs,diverged,test_median") && summary.contains("\nsteady,accuracy,4,0,0.8,0.79,0.81,"), "{summary}");
    for f in ["plots/demo_boxplot.png", "plots/demo_split.png", "history/demo_steady.csv", "demo_runs.csv"] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let mut chapter = section;
    chapter.name = "more".into();
    append_chapter(&dir, "Another chapter", "intro", &[chapter], false).unwrap();
    let md = std::fs::read_to_string(&path).unwrap();
    assert!(md.contains("# Another chapter\n\nintro") && md.matches("## demo data").count() == 2, "{md}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_tie_on_the_median_goes_to_the_mean_then_to_the_first_listed_and_is_said() {
    use tapegrad::report::best_loss_sentence;
    // Iris and digits: losses tie on the median accuracy; the last listed must not win by accident.
    let first = runs("first", &[0.90, 0.93, 0.93, 0.97]);
    let worse_mean = runs("worse_mean", &[0.87, 0.93, 0.93, 0.93]);
    let same = runs("same", &[0.97, 0.93, 0.93, 0.90]);
    let all = [first.clone(), worse_mean.clone(), same.clone()];
    assert_eq!(best_loss("accuracy", &all).unwrap().name, "first");
    assert_eq!(best_loss("accuracy", &[worse_mean.clone(), first.clone()]).unwrap().name, "first");
    // Lower is better for an error: the smaller mean wins the tie.
    assert_eq!(best_loss("mse", &all).unwrap().name, "worse_mean");
    let s = best_loss_sentence("accuracy", &all).unwrap();
    assert_eq!(
        s,
        "Best by median test accuracy: **`first`** (0.930; higher is better; the median ties with `worse_mean`, `same`, and the mean decides, then the order of the list)."
    );
    let s = best_loss_sentence("accuracy", &[first.clone(), worse_mean]).unwrap();
    assert!(s.ends_with("the median ties with `worse_mean`, and the mean decides)."), "{s}");
    let s = best_loss_sentence("accuracy", &[first.clone(), same]).unwrap();
    assert!(s.ends_with("the median ties with `same`, and so does the mean: the first listed is named)."), "{s}");
    let s = best_loss_sentence("accuracy", &[first, runs("lower", &[0.5, 0.5, 0.5, 0.5])]).unwrap();
    assert_eq!(s, "Best by median test accuracy: **`first`** (0.930; higher is better).");
}

#[test]
fn a_run_between_the_modes_does_not_hide_them() {
    use tapegrad::report::modes_note;
    // The blobs' categorical hinge over seeds 1..10 (the main job's numbers): one collapsed run,
    // six stuck near 0.55, one at 0.652 and three near 0.8 must be reported as modes.
    let hinge = [0.652, 0.546, 0.828, 0.828, 0.548, 0.798, 0.548, 0.342, 0.546, 0.55];
    assert_eq!(
        modes_note("accuracy", &hinge).unwrap(),
        "the runs split into 3 groups: 1 at accuracy 0.342, 6 at 0.546–0.652 and 3 at 0.798–0.828; a single seed would show only one of them"
    );
    assert!(modes_note("accuracy", &[0.965, 0.967, 0.969, 0.970, 0.972, 0.972, 0.974, 0.976, 0.978, 0.980]).is_none());
    // A section with one loss names no "best" loss.
    let dir = std::env::temp_dir().join(format!("tapegrad_one_loss_report_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let section = tapegrad::report::CompareSection {
        name: "one".into(),
        title: "one loss".into(),
        intro: vec![],
        metric: "accuracy".into(),
        losses: vec![runs("categorical_hinge", &hinge)],
        extra: String::new(),
    };
    let path = write_compare_report(&dir, "one", std::slice::from_ref(&section), false).unwrap();
    let md = std::fs::read_to_string(&path).unwrap();
    assert!(!md.contains("Best by"), "{md}");
    assert!(md.contains("`categorical_hinge`: the runs split into 3 groups"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}
