//! The repeated-evaluation figure: a box plot of each group's per-run scores with the runs drawn
//! as points over it (a strip plot).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::plots::{render_png, y_label_width, Drawn, FONT, PALETTE, REPEATED_SIZE};
use super::stats::quantile_sorted;
use super::ticks::Axis;
use super::ReportError;

/// Horizontal offset in `[-0.5, 0.5)` for the `i`-th point of a strip plot (golden-ratio spread,
/// deterministic so figures are reproducible).
pub(super) fn jitter(i: usize) -> f64 {
    (i as f64 * 0.618_033_988_749_895).fract() - 0.5
}

/// Box-plot numbers of one group: quartiles and whiskers at the furthest points within 1.5 IQR
/// (matplotlib's default), from finite values sorted ascending.
struct BoxStats {
    q1: f64,
    median: f64,
    q3: f64,
    low: f64,
    high: f64,
}

fn box_stats(sorted: &[f64]) -> Option<BoxStats> {
    if sorted.is_empty() {
        return None;
    }
    let q1 = quantile_sorted(sorted, 0.25);
    let q3 = quantile_sorted(sorted, 0.75);
    let reach = 1.5 * (q3 - q1);
    let low = sorted
        .iter()
        .copied()
        .find(|&v| v >= q1 - reach)
        .unwrap_or(q1);
    let high = sorted
        .iter()
        .rev()
        .copied()
        .find(|&v| v <= q3 + reach)
        .unwrap_or(q3);
    Some(BoxStats {
        q1,
        median: quantile_sorted(sorted, 0.5),
        q3,
        low,
        high,
    })
}

/// Title of the box plot: what it shows (`heading`, e.g. the data set), the metric and number of
/// runs, and how many diverged (not drawn).
fn repeated_title(heading: &str, metric: &str, groups: &[(String, Vec<f64>)]) -> String {
    let runs = groups.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    let diverged: usize = groups
        .iter()
        .map(|(_, v)| v.iter().filter(|x| !x.is_finite()).count())
        .sum();
    let mut title = format!("{heading}: test {metric} over {runs} runs");
    if diverged > 0 {
        title.push_str(&format!(" ({diverged} diverged, not shown)"));
    }
    title
}

/// Whether labels `widths` pixels wide, centred in slots `slot` pixels apart, would touch (with
/// 10 pixels between them as the least gap).
fn labels_collide(widths: &[u32], slot: f64) -> bool {
    widths.windows(2).any(|w| f64::from(w[0] + w[1]) / 2.0 + 10.0 > slot)
}

fn draw_repeated<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    heading: &str,
    metric: &str,
    groups: &[(String, Vec<f64>)],
) -> Drawn<DB> {
    root.fill(&WHITE)?;
    let title = repeated_title(heading, metric, groups);
    let n = groups.len();
    let y_axis = Axis::linear(groups.iter().map(|(_, v)| v.as_slice()), 8);
    let names: Vec<&str> = groups.iter().map(|(name, _)| name.as_str()).collect();
    // Long names side by side (sparse_categorical_crossentropy beside categorical_crossentropy)
    // would run into each other: then every other one goes on a second row, below the first.
    let label_style: TextStyle = (FONT, 14).into_font().color(&BLACK);
    let widths: Vec<u32> = names.iter().map(|n| root.estimate_text_size(n, &label_style).map_or(0, |s| s.0)).collect();
    let plot_width = f64::from(root.dim_in_pixel().0) - 12.0 - 24.0 - f64::from(y_label_width(&y_axis));
    let two_rows = labels_collide(&widths, plot_width / n as f64);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 22).into_font().style(FontStyle::Bold))
        .margin(12)
        .margin_right(24)
        .x_label_area_size(if two_rows { 64 } else { 45 })
        .y_label_area_size(y_label_width(&y_axis))
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), y_axis.clone())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n + 1)
        .x_label_formatter(&|v: &f64| {
            let i = v.round();
            if !two_rows && (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                names[i as usize].to_string()
            } else {
                String::new()
            }
        })
        .y_desc(format!("test {metric}"))
        .y_label_formatter(&|v: &f64| y_axis.label(*v))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    if two_rows {
        let style = label_style.pos(Pos::new(HPos::Center, VPos::Top));
        let bottom = y_axis.range().start;
        for (g, name) in names.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(g as f64, bottom));
            root.draw(&Text::new(name.to_string(), (px, py + 8 + if g % 2 == 1 { 20 } else { 0 }), style.clone()))?;
        }
    }
    let half = 0.2;
    for (g, (_, values)) in groups.iter().enumerate() {
        let colour = PALETTE[g % PALETTE.len()];
        let x = g as f64;
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        if let Some(b) = box_stats(&sorted) {
            let line = BLACK.stroke_width(1);
            chart.draw_series([
                Rectangle::new(
                    [(x - half, b.q1), (x + half, b.q3)],
                    colour.mix(0.25).filled(),
                ),
                Rectangle::new([(x - half, b.q1), (x + half, b.q3)], line),
            ])?;
            chart.draw_series([
                PathElement::new([(x, b.q3), (x, b.high)], line),
                PathElement::new([(x, b.q1), (x, b.low)], line),
                PathElement::new([(x - half / 2.0, b.high), (x + half / 2.0, b.high)], line),
                PathElement::new([(x - half / 2.0, b.low), (x + half / 2.0, b.low)], line),
                PathElement::new(
                    [(x - half, b.median), (x + half, b.median)],
                    BLACK.stroke_width(3),
                ),
            ])?;
        }
        chart.draw_series(
            values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(i, &v)| {
                    Circle::new((x + 0.6 * half * 2.0 * jitter(i), v), 4, colour.filled())
                }),
        )?;
    }
    Ok(())
}

/// Draws a box plot with the individual points (a strip plot) of each group's per-run scores,
/// e.g. the test accuracy of each seed for several losses, into a PNG at `path`, titled
/// `heading` (the data set or experiment) with the metric and the number of runs.
///
/// Boxes span the quartiles with the median as a thick line; whiskers reach the furthest run
/// within 1.5 interquartile ranges. `metric` names the y axis. Non-finite scores (diverged runs)
/// are left out and counted in the title.
///
/// ```no_run
/// use tapegrad::report::plot_repeated;
/// let groups = vec![("cce".to_string(), vec![0.81, 0.82, 0.83]),
///                   ("kld".to_string(), vec![0.80, 0.82, 0.815])];
/// plot_repeated("repeated.png", "blobs", "accuracy", &groups)?;
/// # Ok::<(), tapegrad::report::ReportError>(())
/// ```
pub fn plot_repeated(
    path: impl AsRef<Path>,
    heading: &str,
    metric: &str,
    groups: &[(String, Vec<f64>)],
) -> Result<(), ReportError> {
    if groups.is_empty() {
        return Err(ReportError::InvalidData {
            what: "repeated evaluation".to_string(),
            detail: "no groups to plot".to_string(),
        });
    }
    render_png(path.as_ref(), REPEATED_SIZE, |root| {
        draw_repeated(root, heading, metric, groups)
    })
}

#[cfg(test)]
mod tests {
    use super::super::plots::tests::{count, render};
    use super::*;

    #[test]
    fn repeated_draws_points_per_group() {
        let groups = vec![
            ("cce".to_string(), vec![0.81, 0.82, 0.83, 0.80]),
            ("sparse".to_string(), vec![0.815, 0.82, 0.825, 0.79]),
            ("kld".to_string(), vec![0.8, f64::NAN, 0.82, f64::INFINITY]),
        ];
        let buf = render(REPEATED_SIZE, |root| {
            draw_repeated(root, "Repeated evaluation", "accuracy", &groups)
        });
        for colour in &PALETTE[..3] {
            assert!(count(&buf, *colour) > 40, "{colour:?}");
        }
        assert_eq!(
            repeated_title("Repeated evaluation", "accuracy", &groups),
            "Repeated evaluation: test accuracy over 4 runs (2 diverged, not shown)"
        );
        assert_eq!(
            repeated_title("Repeated evaluation", "accuracy", &groups[..1]),
            "Repeated evaluation: test accuracy over 4 runs"
        );
    }

    #[test]
    fn long_names_side_by_side_go_on_two_rows() {
        // The wine chapter's four losses on an 800-pixel figure: about 170 pixels a slot.
        let (cce, sparse, kld) = (170, 225, 85);
        assert!(labels_collide(&[cce, sparse, kld, cce], 170.0));
        assert!(!labels_collide(&[120, 60, 85], 170.0));
        assert!(!labels_collide(&[300], 100.0));
        let groups: Vec<(String, Vec<f64>)> = ["categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence", "categorical_hinge"]
            .iter()
            .map(|n| (n.to_string(), vec![0.94, 0.96, 0.98]))
            .collect();
        let buf = render(REPEATED_SIZE, |root| draw_repeated(root, "wine", "accuracy", &groups));
        assert!(count(&buf, PALETTE[3]) > 40);
    }

    #[test]
    fn box_whiskers_stop_at_outliers() {
        let b = box_stats(&[1.0, 2.0, 3.0, 4.0, 100.0]).unwrap();
        assert_eq!((b.q1, b.median, b.q3), (2.0, 3.0, 4.0));
        assert_eq!((b.low, b.high), (1.0, 4.0));
    }
}
