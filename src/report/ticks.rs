//! Axis ranges, tick positions and compact tick labels for the report's figures.
//!
//! The figures choose their own ticks rather than leaving it to `plotters`, so that labels stay
//! short (`1.2e9`, `0.805`, `3.5e-4`), epochs are whole numbers without repeats, and loss curves that
//! fall over several orders of magnitude can be drawn on a logarithmic axis.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

/// Largest value over smallest above which an all-positive loss panel switches to a log axis.
pub(crate) const LOG_RATIO: f64 = 100.0;

/// One axis of a figure: its (padded) range in plot coordinates and where its ticks go.
///
/// On a log axis the plot coordinate is `log10` of the value; `ticks` and `range` are in plot
/// coordinates and [`Axis::label`] turns them back into values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    /// Visible range, in plot coordinates.
    pub range: Range<f64>,
    /// Tick positions inside `range`, ascending, in plot coordinates.
    pub ticks: Vec<f64>,
    /// Distance between neighbouring ticks (in values), deciding how many digits a label needs.
    step: f64,
    /// Whether the plot coordinate is `log10` of the value.
    pub log: bool,
}

impl Axis {
    /// A linear axis over the finite values of `series`, padded by 5%, with about `target`
    /// ticks at round numbers.
    pub fn linear<'a>(series: impl IntoIterator<Item = &'a [f64]>, target: usize) -> Axis {
        let range = match finite_bounds(series) {
            Some((lo, hi)) => padded(lo, hi),
            None => 0.0..1.0,
        };
        let step = nice_step(range.end - range.start, target);
        let first = (range.start / step).ceil() as i64;
        let last = (range.end / step).floor() as i64;
        let ticks = (first..=last)
            .map(|k| k as f64 * step)
            .map(|t| if t.abs() < step * 1e-9 { 0.0 } else { t })
            .collect();
        Axis {
            range,
            ticks,
            step,
            log: false,
        }
    }

    /// A loss axis: logarithmic when every finite value is positive and the largest is more than
    /// [`LOG_RATIO`] times the smallest, linear otherwise.
    pub fn for_loss<'a>(
        series: impl IntoIterator<Item = &'a [f64]> + Clone,
        target: usize,
    ) -> Axis {
        match finite_bounds(series.clone()) {
            Some((lo, hi)) if lo > 0.0 && hi / lo > LOG_RATIO => Axis::log(lo, hi, target),
            _ => Axis::linear(series, target),
        }
    }

    /// A log axis from `lo` to `hi` (both positive): ticks at powers of ten (every few decades when
    /// there are many), with 2× and 5× ticks added when fewer than four decades are visible.
    fn log(lo: f64, hi: f64, target: usize) -> Axis {
        let (a, b) = (lo.log10(), hi.log10());
        let pad = 0.05 * (b - a);
        let range = (a - pad)..(b + pad);
        let first = range.start.ceil() as i64;
        let last = range.end.floor() as i64;
        let decades = (last - first + 1).max(0) as usize;
        let every = decades.div_ceil(target.max(1)).max(1) as i64;
        let mut ticks: Vec<f64> = (first..=last)
            .filter(|d| d.rem_euclid(every) == 0)
            .map(|d| d as f64)
            .collect();
        if decades < 4 {
            let low = range.start.floor() as i64;
            ticks = (low..=last)
                .flat_map(|d| [1.0, 2.0, 5.0].map(|m| d as f64 + f64::log10(m)))
                .filter(|t| range.contains(t))
                .collect();
        }
        Axis {
            range,
            ticks,
            step: 0.0,
            log: true,
        }
    }

    /// The epoch axis of a run with `n` epochs: whole-number ticks, one per epoch when there are
    /// few, never two ticks with the same label.
    pub fn epochs(n: usize) -> Axis {
        if n < 2 {
            return Axis {
                range: 0.5..1.5,
                ticks: vec![1.0],
                step: 1.0,
                log: false,
            };
        }
        let step = if n <= 12 {
            1
        } else {
            nice_step((n - 1) as f64, 10).max(1.0) as usize
        };
        let mut ticks: Vec<f64> = (1..=n)
            .filter(|e| e % step == 0)
            .map(|e| e as f64)
            .collect();
        // Epoch 1 is always labelled unless the first round tick is right next to it.
        if ticks.first().is_none_or(|&t| t - 1.0 >= step as f64 / 2.0) {
            ticks.insert(0, 1.0);
        }
        Axis {
            range: 1.0..n as f64,
            ticks,
            step: step as f64,
            log: false,
        }
    }

    /// The value at plot coordinate `v` (`10^v` on a log axis).
    pub fn value(&self, v: f64) -> f64 {
        if self.log {
            10f64.powf(v)
        } else {
            v
        }
    }

    /// The plot coordinate of value `y`, or `None` when it cannot be drawn (non-finite, or not
    /// positive on a log axis).
    pub fn coord(&self, y: f64) -> Option<f64> {
        if !y.is_finite() || (self.log && y <= 0.0) {
            None
        } else if self.log {
            Some(y.log10())
        } else {
            Some(y)
        }
    }

    /// The tick label at plot coordinate `v`, as short as the tick spacing allows.
    pub fn label(&self, v: f64) -> String {
        let value = self.value(v);
        if self.log {
            // Ticks sit at 1, 2 or 5 times a power of ten: one significant digit is exact.
            format_tick(value, value.abs())
        } else {
            format_tick(value, self.step)
        }
    }

    /// The longest tick label, in characters (to size the label area).
    pub fn widest_label(&self) -> usize {
        self.ticks
            .iter()
            .map(|&t| self.label(t).chars().count())
            .max()
            .unwrap_or(1)
    }
}

/// `plotters` draws an [`Axis`] as a linear coordinate over its range, with its own ticks as the
/// (bold) key points and no light grid lines; labels come from the chart's formatter.
impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let (lo, hi) = (self.range.start, self.range.end);
        let pixels = (limit.1 - limit.0) as f64;
        if hi <= lo || pixels == 0.0 {
            return (limit.0 + limit.1) / 2;
        }
        // Clamped so a stray value cannot overflow the pixel type.
        let fraction = ((v - lo) / (hi - lo)).clamp(-10.0, 10.0);
        limit.0 + (pixels * fraction).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// Smallest and largest finite value over all `series`, or `None` when there is none.
pub(crate) fn finite_bounds<'a>(series: impl IntoIterator<Item = &'a [f64]>) -> Option<(f64, f64)> {
    let (lo, hi) = series
        .into_iter()
        .flatten()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    (lo <= hi).then_some((lo, hi))
}

/// `lo..hi` widened by 5% each side; a span lost in rounding (a flat series) gets a band around
/// its value instead.
pub(crate) fn padded(lo: f64, hi: f64) -> Range<f64> {
    let span = hi - lo;
    let scale = lo.abs().max(hi.abs());
    let pad = if span > 1e-9 * scale {
        0.05 * span
    } else {
        0.05 * scale.max(1e-3)
    };
    (lo - pad)..(hi + pad)
}

/// The round step (1, 2 or 5 times a power of ten) that cuts `span` into the number of pieces
/// closest to `target`.
pub(crate) fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span / target.max(1) as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [0.5, 1.0, 2.0, 5.0, 10.0]
        .map(|m| m * magnitude)
        .into_iter()
        .min_by(|a, b| {
            let miss = |step: f64| (span / step - target as f64).abs();
            miss(*a).total_cmp(&miss(*b))
        })
        .unwrap_or(raw)
}

/// A compact tick label for `value` on an axis whose ticks are `step` apart.
///
/// Values from 0.001 up to 9999 print as decimals with just the digits the step needs and no
/// trailing zeros (`0.805`, `0.81`, `2`, `-6`); smaller and larger ones in scientific notation
/// (`1.2e9`, `3.5e-4`). A value within a billionth of a step of zero prints as `0`.
pub(crate) fn format_tick(value: f64, step: f64) -> String {
    if !value.is_finite() {
        return format!("{value}");
    }
    let step = step.abs();
    if value == 0.0 || (step > 0.0 && value.abs() < step * 1e-9) {
        return "0".to_string();
    }
    let exponent = value.abs().log10().floor() as i32;
    // Decimal places of the step's leading digit (a zero or non-finite step: three significant digits).
    let step_exponent = if step > 0.0 && step.is_finite() {
        step.log10().floor() as i32
    } else {
        exponent - 2
    };
    if !(-3..4).contains(&exponent) {
        let digits = (exponent - step_exponent).clamp(0, 3) as usize;
        let text = format!("{value:.digits$e}");
        let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
        format!("{}e{exp}", trim_zeros(mantissa))
    } else {
        let decimals = (-step_exponent).clamp(0, 6) as usize;
        trim_zeros(&format!("{value:.decimals$}")).to_string()
    }
}

/// `1.500` -> `1.5`, `2.000` -> `2`; text without a decimal point is returned as is.
fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_compact() {
        assert_eq!(format_tick(1.2e9, 1e8), "1.2e9");
        assert_eq!(format_tick(1.0e9, 1e9), "1e9");
        assert_eq!(format_tick(3.5e-4, 5e-5), "3.5e-4");
        assert_eq!(format_tick(-2.5e12, 5e11), "-2.5e12");
        assert_eq!(format_tick(0.805, 0.005), "0.805");
        assert_eq!(format_tick(0.81, 0.005), "0.81");
        assert_eq!(format_tick(4.0, 2.0), "4");
        assert_eq!(format_tick(-6.0, 2.0), "-6");
        assert_eq!(format_tick(0.30000000000000004, 0.1), "0.3");
        assert_eq!(format_tick(1e-17, 0.1), "0");
        assert_eq!(format_tick(0.001, 0.001), "0.001");
        assert_eq!(format_tick(2500.0, 500.0), "2500");
        assert_eq!(format_tick(12000.0, 2000.0), "1.2e4");
        assert_eq!(format_tick(f64::INFINITY, 1.0), "inf");
    }

    #[test]
    fn linear_ticks_are_round_and_inside() {
        let a = Axis::linear([[0.81, 0.832].as_slice()], 8);
        assert!(a.ticks.len() >= 3 && a.ticks.len() <= 9, "{:?}", a.ticks);
        let labels: Vec<String> = a.ticks.iter().map(|&t| a.label(t)).collect();
        assert!(labels.contains(&"0.82".to_string()), "{labels:?}");
        for w in labels.windows(2) {
            assert_ne!(w[0], w[1]);
        }
        for t in &a.ticks {
            assert!(a.range.contains(t));
        }
        let flat = Axis::linear([[2.0, 2.0, f64::NAN].as_slice()], 8);
        assert!(flat.range.start < 2.0 && flat.range.end > 2.0);
        assert_eq!(Axis::linear([[f64::NAN].as_slice()], 5).range, 0.0..1.0);
    }

    #[test]
    fn epoch_ticks_are_whole_and_distinct() {
        assert_eq!(Axis::epochs(2).ticks, vec![1.0, 2.0]);
        assert_eq!(Axis::epochs(1).ticks, vec![1.0]);
        assert_eq!(Axis::epochs(5).ticks, vec![1.0, 2.0, 3.0, 4.0, 5.0]);
        let hundred = Axis::epochs(100);
        assert_eq!(hundred.ticks[..3], [1.0, 10.0, 20.0]);
        assert_eq!(*hundred.ticks.last().unwrap(), 100.0);
        let labels: Vec<String> = Axis::epochs(200)
            .ticks
            .iter()
            .map(|&t| format_tick(t, 20.0))
            .collect();
        assert_eq!(labels[..3], ["1", "20", "40"]);
    }

    #[test]
    fn wide_positive_losses_get_a_log_axis() {
        let mse = [1.2, 0.3, 0.05, 0.003];
        let a = Axis::for_loss([mse.as_slice()], 8);
        assert!(a.log);
        let labels: Vec<String> = a.ticks.iter().map(|&t| a.label(t)).collect();
        assert_eq!(
            labels,
            ["0.005", "0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1"]
        );
        let huge = [5.3e19, 3.0e34, f64::INFINITY];
        let h = Axis::for_loss([huge.as_slice()], 8);
        assert!(h.log && h.ticks.len() <= 8 && h.ticks.len() >= 3);
        assert!(h.label(h.ticks[0]).contains('e'));
        // Narrow, or touching zero: linear.
        assert!(!Axis::for_loss([[0.5, 0.4].as_slice()], 8).log);
        assert!(!Axis::for_loss([[0.0, 1.0, 500.0].as_slice()], 8).log);
        // Few decades: 2x and 5x ticks fill in; many: every few decades.
        let wide = Axis::for_loss([[1e-3, 2e3].as_slice()], 8);
        let labels: Vec<String> = wide.ticks.iter().map(|&t| wide.label(t)).collect();
        assert_eq!(labels, ["0.001", "0.01", "0.1", "1", "10", "100", "1000"]);
        let two = Axis::for_loss([[0.15, 16.0].as_slice()], 8);
        let labels: Vec<String> = two.ticks.iter().map(|&t| two.label(t)).collect();
        assert!(
            labels.contains(&"0.2".to_string()) && labels.contains(&"5".to_string()),
            "{labels:?}"
        );
    }
}
