//! A general line chart: named series of `(x, y)` points on shared axes, with a legend. The guides
//! use it for figures that are not learning curves (the Jacobian crossover of forward and reverse
//! mode in `docs/forward-and-reverse.md`).

use std::path::Path;

use plotters::prelude::*;

use super::plots::{draw_mesh, render_png, y_label_width, FONT, PALETTE};
use super::ticks::Axis;
use super::ReportError;

/// Draws each `(name, points)` series as a line with markers into a PNG at `path`, with axis
/// labels and a legend. Non-finite points are skipped. Returns [`ReportError::InvalidData`] when
/// there is no finite point at all.
///
/// ```no_run
/// use tapegrad::report::plot_lines;
/// let series = vec![("forward".to_string(), vec![(1.0, 2.0), (2.0, 3.0)])];
/// plot_lines("lines.png", "a title", "n", "seconds", &series)?;
/// # Ok::<(), tapegrad::report::ReportError>(())
/// ```
pub fn plot_lines(path: impl AsRef<Path>, title: &str, x_label: &str, y_label: &str, series: &[(String, Vec<(f64, f64)>)]) -> Result<(), ReportError> {
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let xs: Vec<f64> = series.iter().flat_map(|(_, s)| s.iter().filter(finite).map(|p| p.0)).collect();
    let ys: Vec<f64> = series.iter().flat_map(|(_, s)| s.iter().filter(finite).map(|p| p.1)).collect();
    if xs.is_empty() {
        return Err(ReportError::InvalidData { what: title.to_string(), detail: "no finite point to plot".into() });
    }
    let (x_axis, y_axis) = (Axis::linear([xs.as_slice()], 8), Axis::linear([ys.as_slice()], 7));
    render_png(path.as_ref(), (900, 560), |root| {
        root.fill(&WHITE)?;
        let root = root.titled(title, (FONT, 22).into_font().style(FontStyle::Bold))?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .margin_right(28)
            .x_label_area_size(44)
            .y_label_area_size(y_label_width(&y_axis))
            .build_cartesian_2d(x_axis.clone(), y_axis.clone())?;
        draw_mesh(&mut chart, (&x_axis, x_label), (&y_axis, y_label))?;
        for (i, (name, points)) in series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let pts: Vec<(f64, f64)> = points.iter().filter(finite).copied().collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3)));
            chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, colour.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 15))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .draw()?;
        Ok(())
    })
}
