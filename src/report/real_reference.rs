//! The PyTorch and scikit-learn numbers the real-data chapter is compared with, read from
//! `data/baselines/real_data_baselines.csv` (compiled in; its README names the source).

use super::compare::{median_min_max, LossRuns};
use crate::data::{parse_table, CsvOptions};
use std::fmt::Write as _;

/// The CSV text of the reference numbers.
pub const BASELINES_CSV: &str = include_str!("../../data/baselines/real_data_baselines.csv");

/// One reference row.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    /// Data set name.
    pub dataset: String,
    /// `pytorch` or `scikit-learn`.
    pub framework: String,
    /// The loss (PyTorch rows, registry name) or the model (scikit-learn rows).
    pub model: String,
    /// Median, min and max of the test metric over seeds 0..9.
    pub median: f64,
    /// See `median`.
    pub min: f64,
    /// See `median`.
    pub max: f64,
}

/// Every reference row.
///
/// ```
/// let rows = tapegrad::report::real_reference::baselines();
/// let bc = rows.iter().find(|b| b.dataset == "breast_cancer" && b.model == "hinge").unwrap();
/// assert_eq!((bc.median, bc.min, bc.max), (0.977, 0.953, 0.982));
/// ```
pub fn baselines() -> Vec<Baseline> {
    let table = parse_table(BASELINES_CSV, CsvOptions::default()).expect("the bundled baselines CSV is well formed");
    (0..table.rows.len())
        .map(|r| {
            let num = |c: usize| table.number(r, c).expect("the bundled baselines hold numbers");
            Baseline {
                dataset: table.rows[r][0].clone(),
                framework: table.rows[r][1].clone(),
                model: table.rows[r][2].clone(),
                median: num(3),
                min: num(4),
                max: num(5),
            }
        })
        .collect()
}

/// A Markdown table: tapegrad's median [min, max] next to PyTorch's for each loss, then the
/// scikit-learn references of the data set. Empty when there are no references for it.
pub fn beside_references(dataset: &str, metric: &str, losses: &[LossRuns]) -> String {
    let refs: Vec<Baseline> = baselines().into_iter().filter(|b| b.dataset == dataset).collect();
    if refs.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "\nBeside the reference runs (PyTorch 2.15 and scikit-learn 1.9.1, same split and protocol, seeds 0..9; \
         `data/baselines/`): test {metric}, median [min, max].\n\n| loss | tapegrad | PyTorch | verdict |\n| --- | --- | --- | --- |\n"
    );
    for l in losses {
        let (m, lo, hi) = median_min_max(&l.test);
        let Some(b) = refs.iter().find(|b| b.framework == "pytorch" && b.model == l.label) else { continue };
        // Seeds draw different weights in each framework: compare the medians with the spread.
        let verdict = if m >= b.min && m <= b.max { "median within PyTorch's range" } else { "median outside PyTorch's range" };
        let _ = writeln!(s, "| `{}` | {m:.3} [{lo:.3}, {hi:.3}] | {:.3} [{:.3}, {:.3}] | {verdict} |", l.label, b.median, b.min, b.max);
    }
    for b in refs.iter().filter(|b| b.framework != "pytorch") {
        let _ = writeln!(s, "| scikit-learn {} | | {:.3} [{:.3}, {:.3}] | reference |", b.model, b.median, b.min, b.max);
    }
    s
}
