//! The report of a loss comparison on one table (`tapegrad compare`, `tapegrad fit` and the main
//! job's real-data chapter): a summary table over repeats (median, min, max, mean ± std), the best
//! loss by the task's metric, a note where a loss's runs split into modes, learning curves and a
//! box plot. Every file is written beside and renamed into place, so an interrupted run leaves no
//! half-written file.

use super::stats::{mean, quantile_sorted, std_dev};
use super::{fmt_value, metric_higher_is_better, plot_repeated, Curves, ReportError};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// Every run of one loss on one data set.
#[derive(Clone, Debug, PartialEq)]
pub struct LossRuns {
    /// File-name-safe name (e.g. `huber`, `formula1`).
    pub name: String,
    /// The loss as the user named or typed it.
    pub label: String,
    /// Final training metric per repeat.
    pub train: Vec<f64>,
    /// Final test metric per repeat.
    pub test: Vec<f64>,
    /// Learning curves of the first repeat.
    pub curves: Curves,
    /// Wall-clock seconds for all repeats.
    pub seconds: f64,
    /// Remarks (diverged runs).
    pub notes: Vec<String>,
}

/// Median, min and max of the finite values (NaN when there are none).
pub fn median_min_max(xs: &[f64]) -> (f64, f64, f64) {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    v.sort_by(f64::total_cmp);
    (quantile_sorted(&v, 0.5), v[0], v[v.len() - 1])
}

/// When the runs fall into two separate groups: split between sorted values where each group
/// holds at least two runs and the gap is at least three times the spread of the
/// tighter group, half the spread of the looser one, a quarter of the whole range, and a tenth of the median's size (so the few
/// discrete steps of an accuracy on a small test set are not called modes); the widest such gap
/// wins. Returns
/// `(low group, high group)`.
///
/// ```
/// use tapegrad::report::split_modes;
/// let runs = [0.34, 0.81, 0.55, 0.79, 0.84, 0.40, 0.83, 0.8, 0.82, 0.45];
/// let (low, high) = split_modes(&runs).unwrap();
/// assert_eq!((low.len(), high.len()), (4, 6));
/// assert!(split_modes(&[0.944, 0.963, 0.963, 0.981, 0.981, 1.0]).is_none());
/// // Two high values above a wide spread are a tail, not a mode.
/// assert!(split_modes(&[0.662, 0.70, 0.74, 0.77, 0.79, 0.80, 0.85, 0.901, 1.004, 1.034]).is_none());
/// // The categorical hinge on the blobs: a tight group near 0.83 and collapsed runs below.
/// let hinge = [0.654, 0.55, 0.826, 0.822, 0.546, 0.832, 0.55, 0.342, 0.826, 0.546];
/// assert_eq!(split_modes(&hinge).unwrap().1, [0.822, 0.826, 0.826, 0.832]);
/// assert!(split_modes(&[0.965, 0.967, 0.969, 0.970, 0.972, 0.972, 0.974, 0.976, 0.978, 0.980]).is_none());
/// ```
pub fn split_modes(xs: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 4 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let spread = |g: &[f64]| g[g.len() - 1] - g[0];
    let (range, median) = (spread(&v), quantile_sorted(&v, 0.5));
    (2..=v.len() - 2)
        .map(|i| (i, v[i] - v[i - 1]))
        .filter(|&(i, gap)| {
            let (low, high) = v.split_at(i);
            let (a, b) = (spread(low), spread(high));
            gap > 0.0 && gap >= 3.0 * a.min(b) && gap >= 0.5 * a.max(b) && gap >= 0.25 * range && gap >= 0.1 * median.abs()
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| (v[..i].to_vec(), v[i..].to_vec()))
}

/// The groups the runs fall into, lowest first, when they fall into separate modes (`None` when
/// they do not). Sorted values are cut at every gap that is at least a quarter of the whole range,
/// a tenth of the median's size and twice the median gap between neighbours; a cut is dropped
/// again (the smallest first) while its gap is less than three times the spread of the tighter
/// group beside it or half the spread of the looser one. Modes need at least two groups of two or
/// more runs: a lone outlier beside one group is not a mode. Unlike [`split_modes`], a run between
/// the modes, or a lone collapsed one, stays a group of its own instead of hiding the split.
///
/// ```
/// use tapegrad::report::mode_groups;
/// // The categorical hinge on the blobs over seeds 1..10: collapsed runs, one between, good runs.
/// let hinge = [0.652, 0.546, 0.828, 0.828, 0.548, 0.798, 0.548, 0.342, 0.546, 0.55];
/// let groups = mode_groups(&hinge).unwrap();
/// assert_eq!(groups.iter().map(Vec::len).collect::<Vec<_>>(), [1, 6, 3]);
/// assert_eq!(groups[2], [0.798, 0.828, 0.828]);
/// // Steps of an accuracy on a small test set, a tail, five noisy errors: no modes.
/// assert!(mode_groups(&[0.944, 0.963, 0.963, 0.981, 0.981, 1.0]).is_none());
/// assert!(mode_groups(&[0.662, 0.70, 0.74, 0.77, 0.79, 0.80, 0.85, 0.901, 1.004, 1.034]).is_none());
/// assert!(mode_groups(&[0.0166, 0.0195, 0.026, 0.0272, 0.0314]).is_none());
/// // One collapsed run is an outlier, two are a mode.
/// assert!(mode_groups(&[0.96, 0.96, 0.97, 0.96, 0.95, 0.96, 0.5]).is_none());
/// assert_eq!(mode_groups(&[0.96, 0.96, 0.97, 0.96, 0.95, 0.52, 0.5]).unwrap()[0], [0.5, 0.52]);
/// ```
pub fn mode_groups(xs: &[f64]) -> Option<Vec<Vec<f64>>> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 4 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mut gaps: Vec<f64> = v.windows(2).map(|w| w[1] - w[0]).collect();
    let gap = |i: usize| v[i] - v[i - 1];
    gaps.sort_by(f64::total_cmp);
    let threshold = (0.25 * (v[v.len() - 1] - v[0])).max(0.1 * quantile_sorted(&v, 0.5).abs()).max(2.0 * quantile_sorted(&gaps, 0.5));
    let mut cuts: Vec<usize> = (1..v.len()).filter(|&i| gap(i) > 0.0 && gap(i) >= threshold).collect();
    let groups = |cuts: &[usize]| -> Vec<Vec<f64>> {
        let bounds: Vec<usize> = std::iter::once(0).chain(cuts.iter().copied()).chain([v.len()]).collect();
        bounds.windows(2).map(|b| v[b[0]..b[1]].to_vec()).collect()
    };
    let spread = |g: &[f64]| g[g.len() - 1] - g[0];
    loop {
        let gs = groups(&cuts);
        let weakest = cuts
            .iter()
            .enumerate()
            .filter(|&(j, &c)| {
                let (a, b) = (spread(&gs[j]), spread(&gs[j + 1]));
                gap(c) < 3.0 * a.min(b) || gap(c) < 0.5 * a.max(b)
            })
            .min_by(|x, y| gap(*x.1).total_cmp(&gap(*y.1)))
            .map(|(j, _)| j);
        match weakest {
            Some(j) => {
                cuts.remove(j);
            }
            None => break,
        }
    }
    let gs = groups(&cuts);
    (gs.iter().filter(|g| g.len() >= 2).count() >= 2).then_some(gs)
}

/// A sentence on the modes of a loss's runs (see [`mode_groups`]), or `None`.
pub fn modes_note(metric: &str, xs: &[f64]) -> Option<String> {
    let groups = mode_groups(xs)?;
    let r = |g: &[f64]| if g[0] == g[g.len() - 1] { format!("{:.3}", g[0]) } else { format!("{:.3}–{:.3}", g[0], g[g.len() - 1]) };
    let parts: Vec<String> = groups.iter().enumerate().map(|(i, g)| format!("{} at {}{}", g.len(), if i == 0 { format!("{metric} ") } else { String::new() }, r(g))).collect();
    let (last, rest) = parts.split_last()?;
    let count = if groups.len() == 2 { "two modes".to_string() } else { format!("{} groups", groups.len()) };
    Some(format!("the runs split into {count}: {} and {last}; a single seed would show only one of them", rest.join(", ")))
}

/// The loss with the best median test metric (largest for accuracy, smallest otherwise). A tie on
/// the median goes to the better mean over the finite runs, and a tie on both to the loss listed
/// first (see [`median_ties`] for saying so).
///
/// ```
/// use tapegrad::report::{best_loss, Curves, LossRuns};
/// let runs = |name: &str, test: &[f64]| LossRuns {
///     name: name.into(), label: name.into(), train: test.to_vec(), test: test.to_vec(),
///     curves: Curves::default(), seconds: 0.0, notes: vec![],
/// };
/// // Same median 0.9; b's mean is higher; c equals b and comes later.
/// let all = [runs("a", &[0.8, 0.9, 0.9]), runs("b", &[0.9, 0.9, 1.0]), runs("c", &[1.0, 0.9, 0.9])];
/// assert_eq!(best_loss("accuracy", &all).unwrap().name, "b");
/// assert_eq!(best_loss("mse", &all).unwrap().name, "a");
/// ```
pub fn best_loss<'a>(metric: &str, losses: &'a [LossRuns]) -> Option<&'a LossRuns> {
    let higher = metric_higher_is_better(metric);
    let key = |l: &LossRuns| (median_min_max(&l.test).0, finite_mean(&l.test));
    let mut best: Option<(&LossRuns, (f64, f64))> = None;
    for l in losses.iter().filter(|l| median_min_max(&l.test).0.is_finite()) {
        let k = key(l);
        let better = match best {
            None => true,
            Some((_, b)) => {
                let means = if same_value(k.1, b.1) { std::cmp::Ordering::Equal } else { k.1.total_cmp(&b.1) };
                let ord = k.0.total_cmp(&b.0).then(means);
                if higher { ord.is_gt() } else { ord.is_lt() }
            }
        };
        if better {
            best = Some((l, k));
        }
    }
    best.map(|(l, _)| l)
}

/// The losses other than `best` whose median test metric equals its median, and how many of them
/// have the same mean too (between those, the order of the list decided).
pub fn median_ties<'a>(best: &LossRuns, losses: &'a [LossRuns]) -> (Vec<&'a LossRuns>, usize) {
    let (m, mean) = (median_min_max(&best.test).0, finite_mean(&best.test));
    let ties: Vec<&LossRuns> = losses.iter().filter(|l| l.name != best.name && median_min_max(&l.test).0 == m).collect();
    let same_mean = ties.iter().filter(|l| same_value(finite_mean(&l.test), mean)).count();
    (ties, same_mean)
}

/// Equal up to rounding (the same runs summed in another order give means a last bit apart).
fn same_value(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

/// The mean of the finite values.
fn finite_mean(xs: &[f64]) -> f64 {
    mean(&xs.iter().copied().filter(|x| x.is_finite()).collect::<Vec<_>>())
}

/// The sentence naming the best loss by the median test metric (and how a tie was decided).
/// `None` for a single loss: there is nothing to compare.
pub fn best_loss_sentence(metric: &str, losses: &[LossRuns]) -> Option<String> {
    if losses.len() < 2 {
        return None;
    }
    let best = best_loss(metric, losses)?;
    let (med, _, _) = median_min_max(&best.test);
    let (ties, same_mean) = median_ties(best, losses);
    let tie = if ties.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = ties.iter().map(|l| format!("`{}`", l.label)).collect();
        format!(
            "; the median ties with {}, {}",
            names.join(", "),
            match same_mean {
                0 => "and the mean decides",
                n if n == ties.len() => "and so does the mean: the first listed is named",
                _ => "and the mean decides, then the order of the list",
            }
        )
    };
    Some(format!(
        "Best by median test {metric}: **`{}`** ({med:.3}; {} is better{tie}).",
        best.label,
        if metric_higher_is_better(metric) { "higher" } else { "lower" }
    ))
}

/// Writes `bytes` to `path` via a temporary file in the same directory and a rename.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    crate::io::write_atomic(path, bytes).map_err(|e| ReportError::Io { path: path.to_path_buf(), source: std::io::Error::other(e.to_string()) })
}

/// Draws a PNG through `draw` into a temporary file beside `path`, then renames it into place.
pub(crate) fn draw_atomic(path: &Path, draw: impl FnOnce(&Path) -> Result<(), ReportError>) -> Result<(), ReportError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{}-{}.tmp.png", name.trim_end_matches(".png"), std::process::id()));
    let result = draw(&tmp).and_then(|()| fs::rename(&tmp, path).map_err(|e| ReportError::io(path, e)));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The summary table in Markdown: one row per loss.
pub fn compare_table(metric: &str, losses: &[LossRuns]) -> String {
    let mut s = format!("| loss | test {metric} median | min | max | mean ± std | train median | runs | seconds |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for l in losses {
        let (med, lo, hi) = median_min_max(&l.test);
        let (train, _, _) = median_min_max(&l.train);
        let finite: Vec<f64> = l.test.iter().copied().filter(|v| v.is_finite()).collect();
        let _ = writeln!(
            s,
            "| `{}` | {:.3} | {:.3} | {:.3} | {} ± {} | {:.3} | {}{} | {:.2} |",
            l.label,
            med,
            lo,
            hi,
            fmt_value(mean(&finite)),
            fmt_value(std_dev(&finite)),
            train,
            l.test.len(),
            if finite.len() < l.test.len() { format!(" ({} diverged)", l.test.len() - finite.len()) } else { String::new() },
            l.seconds
        );
    }
    s
}

/// One row per loss: the summary table as CSV, numbers in full precision.
pub fn summary_csv(metric: &str, losses: &[LossRuns]) -> String {
    let mut out = String::from("loss,metric,runs,diverged,test_median,test_min,test_max,test_mean,test_std,train_median,seconds\n");
    for l in losses {
        let finite: Vec<f64> = l.test.iter().copied().filter(|v| v.is_finite()).collect();
        let (med, lo, hi) = median_min_max(&l.test);
        let _ = writeln!(
            out,
            "{},{},{},{},{med},{lo},{hi},{},{},{},{}",
            super::csv::field(&l.label),
            super::csv::field(metric),
            l.test.len(),
            l.test.len() - finite.len(),
            mean(&finite),
            std_dev(&finite),
            median_min_max(&l.train).0,
            l.seconds
        );
    }
    out
}

/// One data set's section of a report: heading text, intro lines and the per-loss runs.
#[derive(Clone, Debug)]
pub struct CompareSection {
    /// Data set name (file-name-safe; used as a prefix of file names).
    pub name: String,
    /// Heading.
    pub title: String,
    /// Lines shown under the heading (data, inferred task, protocol).
    pub intro: Vec<String>,
    /// The metric (`accuracy` or `mse`).
    pub metric: String,
    /// Every loss's runs.
    pub losses: Vec<LossRuns>,
    /// Extra Markdown after the table (e.g. reference numbers).
    pub extra: String,
}

/// Writes a section's CSVs and figures under `dir` and returns its Markdown (figure links relative
/// to `dir`).
///
/// # Errors
/// A file that cannot be written or a figure that cannot be drawn.
pub fn write_section(dir: &Path, s: &CompareSection, plots: bool) -> Result<String, ReportError> {
    super::check_name(&s.name, &s.name)?;
    let hist = dir.join("history");
    let plot_dir = dir.join("plots");
    for d in [&hist, &plot_dir] {
        fs::create_dir_all(d).map_err(|e| ReportError::io(d, e))?;
    }
    let mut md = format!("## {}\n\n", s.title);
    for line in &s.intro {
        let _ = writeln!(md, "{line}  ");
    }
    md.push('\n');
    md.push_str(&compare_table(&s.metric, &s.losses));
    if let Some(sentence) = best_loss_sentence(&s.metric, &s.losses) {
        let _ = writeln!(md, "\n{sentence}");
    }
    for l in &s.losses {
        if let Some(note) = modes_note(&s.metric, &l.test) {
            let _ = writeln!(md, "\n`{}`: {note}.", l.label);
        }
        for n in &l.notes {
            let _ = writeln!(md, "\n`{}`: {n}.", l.label);
        }
    }
    md.push_str(&s.extra);
    // Per-seed values.
    let mut runs = String::from("loss,repeat,train,test\n");
    for l in &s.losses {
        for (i, (tr, te)) in l.train.iter().zip(&l.test).enumerate() {
            let _ = writeln!(runs, "{},{i},{tr:?},{te:?}", super::csv::field(&l.label));
        }
    }
    write_file(&dir.join(format!("{}_runs.csv", s.name)), runs.as_bytes())?;
    write_file(&dir.join(format!("{}_summary.csv", s.name)), summary_csv(&s.metric, &s.losses).as_bytes())?;
    for l in &s.losses {
        let stem = format!("{}_{}", s.name, l.name);
        let csv = super::csv::history_text(&s.metric, &l.curves, &stem)?;
        write_file(&hist.join(format!("{stem}.csv")), csv.as_bytes())?;
    }
    if plots {
        let groups: Vec<(String, Vec<f64>)> =
            s.losses.iter().map(|l| (l.name.clone(), l.test.iter().copied().filter(|v| v.is_finite()).collect())).collect();
        if groups.iter().all(|(_, v)| !v.is_empty()) && s.losses.iter().any(|l| l.test.len() > 1) {
            let file = format!("{}_boxplot.png", s.name);
            draw_atomic(&plot_dir.join(&file), |p| plot_repeated(p, &s.name, &s.metric, &groups))?;
            let _ = writeln!(md, "\n![test {} over repeats, per loss](plots/{file})\n", s.metric);
        }
        for l in &s.losses {
            let file = format!("{}_{}.png", s.name, l.name);
            let title = format!("{} — {}", s.name, l.name);
            let ended = l.test.first().is_some_and(|v| !v.is_finite());
            draw_atomic(&plot_dir.join(&file), |p| super::plots::plot_curves_figure(p, &title, &l.label, &s.metric, &l.curves, ended))?;
            let _ = writeln!(md, "![learning curves of {} (first repeat)](plots/{file})", l.label);
        }
    }
    md.push('\n');
    Ok(md)
}

/// Writes a whole comparison report: `DIR/report.md` with one section per data set.
///
/// # Errors
/// As [`write_section`].
pub fn write_compare_report(dir: &Path, title: &str, sections: &[CompareSection], plots: bool) -> Result<PathBuf, ReportError> {
    fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))?;
    let mut md = format!("# {title}\n\n");
    for s in sections {
        md.push_str(&write_section(dir, s, plots)?);
    }
    let path = dir.join("report.md");
    write_file(&path, md.as_bytes())?;
    Ok(path)
}

/// Appends a chapter (a heading and one section per data set) to an existing `DIR/report.md`,
/// writing the sections' CSVs and figures beside it.
///
/// # Errors
/// As [`write_section`], or when `report.md` cannot be read.
pub fn append_chapter(dir: &Path, title: &str, intro: &str, sections: &[CompareSection], plots: bool) -> Result<PathBuf, ReportError> {
    let path = dir.join("report.md");
    let mut md = fs::read_to_string(&path).map_err(|e| ReportError::io(&path, e))?;
    let _ = write!(md, "\n# {title}\n\n{intro}\n\n");
    for s in sections {
        // Sections are level-2 headings under the chapter.
        md.push_str(&write_section(dir, s, plots)?);
    }
    write_file(&path, md.as_bytes())?;
    Ok(path)
}
