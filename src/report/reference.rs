//! What the tutorial reports, and what Keras and PyTorch reach on the same data and set-up.
//!
//! The Keras (3.15.1, TensorFlow 2.21 CPU, 4 runs) and PyTorch (2.15 CPU, 10 runs) numbers are
//! medians of the final test metric with the range over runs, measured with the tutorial's set-up
//! on the data sets scikit-learn 1.9.1 generates. `report.md` puts them next to ours.

/// A median with the range over several runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunRange {
    /// Median over runs.
    pub median: f64,
    /// Smallest value seen.
    pub low: f64,
    /// Largest value seen.
    pub high: f64,
    /// How many runs.
    pub runs: usize,
}

/// The reference numbers for one experiment of the study.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reference {
    /// Experiment name as the study uses it (e.g. `circles_bce`).
    pub experiment: &'static str,
    /// The metric the numbers are in (`mse` or `accuracy`).
    pub metric: &'static str,
    /// What the tutorial says about its run, in short.
    pub tutorial: &'static str,
    /// The tutorial's train metric, where it gives a number.
    pub tutorial_train: Option<f64>,
    /// The tutorial's test metric, where it gives a number.
    pub tutorial_test: Option<f64>,
    /// Keras test metric over runs.
    pub keras: Option<RunRange>,
    /// PyTorch test metric over runs.
    pub pytorch: Option<RunRange>,
}

const fn rr(median: f64, low: f64, high: f64, runs: usize) -> Option<RunRange> {
    Some(RunRange {
        median,
        low,
        high,
        runs,
    })
}

const fn keras(median: f64, low: f64, high: f64) -> Option<RunRange> {
    rr(median, low, high, 4)
}

const fn torch(median: f64, low: f64, high: f64) -> Option<RunRange> {
    rr(median, low, high, 10)
}

/// Reference numbers for the nine experiments the tutorial runs (the extensions it only suggests,
/// MAPE, categorical hinge and the repeated evaluation, have none).
pub const REFERENCES: &[Reference] = &[
    Reference {
        experiment: "regression_mse",
        metric: "mse",
        tutorial: "zero error, at least to three decimal places",
        tutorial_train: Some(0.0),
        tutorial_test: Some(0.0),
        keras: keras(0.0058, 0.0031, 0.0112),
        pytorch: torch(0.0057, 0.0012, 0.0116),
    },
    Reference {
        experiment: "regression_msle",
        metric: "mse",
        tutorial: "slightly worse MSE on train and test than with MSE loss",
        tutorial_train: None,
        tutorial_test: None,
        keras: keras(0.099, 0.094, 3.92),
        pytorch: torch(0.137, 0.106, 5.86),
    },
    Reference {
        experiment: "regression_mae",
        metric: "mse",
        tutorial: "near-zero error, at least to three decimal places; MAE curve bumpy",
        tutorial_train: Some(0.0),
        tutorial_test: Some(0.0),
        keras: keras(0.0039, 0.0014, 0.0058),
        pytorch: torch(0.0043, 0.0018, 0.0071),
    },
    Reference {
        experiment: "circles_bce",
        metric: "accuracy",
        tutorial: "about 83% train, about 84% test",
        tutorial_train: Some(0.83),
        tutorial_test: Some(0.84),
        keras: keras(0.848, 0.844, 0.852),
        pytorch: torch(0.848, 0.840, 0.860),
    },
    Reference {
        experiment: "circles_hinge",
        metric: "accuracy",
        tutorial: "slightly worse than cross-entropy, less than 80%",
        tutorial_train: None,
        tutorial_test: None,
        keras: keras(0.842, 0.826, 0.850),
        pytorch: torch(0.849, 0.832, 0.856),
    },
    Reference {
        experiment: "circles_squared_hinge",
        metric: "accuracy",
        tutorial: "less than 70%",
        tutorial_train: None,
        tutorial_test: None,
        keras: keras(0.839, 0.830, 0.856),
        pytorch: torch(0.833, 0.820, 0.844),
    },
    Reference {
        experiment: "blobs_cce",
        metric: "accuracy",
        tutorial: "about 82% train, about 82% test",
        tutorial_train: Some(0.82),
        tutorial_test: Some(0.82),
        keras: keras(0.822, 0.818, 0.824),
        pytorch: torch(0.820, 0.542, 0.828),
    },
    Reference {
        experiment: "blobs_sparse_cce",
        metric: "accuracy",
        tutorial: "comparable with categorical cross-entropy",
        tutorial_train: None,
        tutorial_test: None,
        keras: keras(0.823, 0.818, 0.828),
        pytorch: torch(0.821, 0.786, 0.828),
    },
    Reference {
        experiment: "blobs_kld",
        metric: "accuracy",
        tutorial: "about 80% train and test",
        tutorial_train: Some(0.80),
        tutorial_test: Some(0.80),
        keras: keras(0.816, 0.788, 0.832),
        pytorch: torch(0.820, 0.808, 0.830),
    },
];

/// Whole-suite wall time of the nine tutorial experiments in Keras, seconds: (lowest, highest).
pub const KERAS_SUITE_SECONDS: (f64, f64) = (131.0, 157.0);

/// Whole-suite wall time of the nine tutorial experiments in PyTorch, seconds: (lowest, median, highest).
pub const PYTORCH_SUITE_SECONDS: (f64, f64, f64) = (8.4, 9.8, 11.5);

/// The reference row for `experiment`, if the tutorial ran it.
///
/// ```
/// let r = tapegrad::report::reference::lookup("blobs_cce").unwrap();
/// assert_eq!(r.keras.unwrap().median, 0.822);
/// assert!(tapegrad::report::reference::lookup("regression_mape").is_none());
/// ```
pub fn lookup(experiment: &str) -> Option<&'static Reference> {
    REFERENCES.iter().find(|r| r.experiment == experiment)
}

/// Where `value` lies against the combined range of the Keras and PyTorch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Inside the range the reference runs spanned.
    Within,
    /// Outside the range, on the good side (higher accuracy or lower error).
    Better,
    /// Outside the range, on the bad side.
    Worse,
}

impl Verdict {
    /// A short word for tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Within => "within",
            Verdict::Better => "better",
            Verdict::Worse => "worse",
        }
    }
}

impl Reference {
    /// The lowest and highest value over all Keras and PyTorch runs, if any.
    pub fn span(&self) -> Option<(f64, f64)> {
        [self.keras, self.pytorch]
            .into_iter()
            .flatten()
            .map(|r| (r.low, r.high))
            .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
    }

    /// Compares `value` with the reference runs' span; `higher_is_better` says which side is good.
    ///
    /// ```
    /// use tapegrad::report::reference::{lookup, Verdict};
    /// let r = lookup("circles_bce").unwrap();
    /// assert_eq!(r.verdict(0.85, true), Some(Verdict::Within));
    /// assert_eq!(r.verdict(0.80, true), Some(Verdict::Worse));
    /// ```
    pub fn verdict(&self, value: f64, higher_is_better: bool) -> Option<Verdict> {
        let (lo, hi) = self.span()?;
        if !value.is_finite() {
            return Some(Verdict::Worse);
        }
        Some(if (lo..=hi).contains(&value) {
            Verdict::Within
        } else if (value > hi) == higher_is_better {
            Verdict::Better
        } else {
            Verdict::Worse
        })
    }
}
