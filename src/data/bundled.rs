//! The real data sets shipped in the repository's `data/` folder (see `data/README.md` for their
//! sources and licences), compiled into the library so they work from any directory.

/// A bundled data set: its CSV text and the column holding the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// Name used by `--dataset`.
    pub name: &'static str,
    /// The target column (the last one).
    pub target: &'static str,
    /// `regression`, `binary` or `multiclass`.
    pub task: &'static str,
    /// The CSV text (header row, numbers only).
    pub csv: &'static str,
}

/// Every bundled data set.
pub const DATASETS: &[Dataset] = &[
    Dataset { name: "iris", target: "species", task: "multiclass", csv: include_str!("../../data/iris.csv") },
    Dataset { name: "wine", target: "cultivar", task: "multiclass", csv: include_str!("../../data/wine.csv") },
    Dataset { name: "breast_cancer", target: "benign", task: "binary", csv: include_str!("../../data/breast_cancer.csv") },
    Dataset { name: "diabetes", target: "progression", task: "regression", csv: include_str!("../../data/diabetes.csv") },
    Dataset { name: "digits", target: "digit", task: "multiclass", csv: include_str!("../../data/digits.csv") },
];

/// The bundled data set called `name`.
///
/// ```
/// let d = tapegrad::data::dataset("wine").unwrap();
/// assert_eq!(d.target, "cultivar");
/// assert!(d.csv.starts_with("alcohol,"));
/// assert!(tapegrad::data::dataset("mnist").is_err());
/// ```
///
/// # Errors
/// A message listing the known names.
pub fn dataset(name: &str) -> Result<&'static Dataset, String> {
    DATASETS.iter().find(|d| d.name == name).ok_or_else(|| {
        let names: Vec<&str> = DATASETS.iter().map(|d| d.name).collect();
        format!("unknown data set {name:?}; bundled: {}", names.join(", "))
    })
}
