//! PNG figures: learning curves and data scatter plots (the box plot is in `boxplot.rs`), and
//! what all figures share: the font, the palette, legends and rendering to a file.
//!
//! Drawn with `plotters` on its bitmap backend. The DejaVu Sans font bundled by the `dejavu` crate is
//! registered as plotters' `sans-serif` family on first use, so a machine without system fonts draws
//! the same figures. Colours follow matplotlib's default cycle, as in the tutorial's figures:
//! train (class 0) blue, test (class 1) orange, class 2 green.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ticks::Axis;
use super::{metric_higher_is_better, Curves, ReportError};
use crate::tensor::{Float, Tensor};

/// matplotlib's default colour cycle ("tab10"): blue, orange, green, red, purple, brown, pink, grey.
pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];
const TRAIN: RGBColor = PALETTE[0];
const TEST: RGBColor = PALETTE[1];
pub(super) const FONT: &str = "sans-serif";

/// Size of the learning-curve figure in pixels.
pub(crate) const CURVES_SIZE: (u32, u32) = (800, 700);
/// Size of the scatter figure in pixels.
pub(crate) const SCATTER_SIZE: (u32, u32) = (700, 600);
/// Size of the repeated-evaluation figure in pixels.
pub(crate) const REPEATED_SIZE: (u32, u32) = (800, 600);

/// Registers the bundled DejaVu Sans as the `sans-serif` family, once per process.
pub(super) fn ensure_font() -> Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        let regular = register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok();
        let bold = register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok();
        regular && bold
    });
    if ok {
        Ok(())
    } else {
        Err("the bundled DejaVu Sans font could not be loaded".to_string())
    }
}

pub(super) type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;
pub(super) type BitmapResult = Drawn<BitMapBackend<'static>>;

/// Renders with `draw` into a PNG file at `path` of the given size.
pub(super) fn render_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> BitmapResult,
) -> Result<(), ReportError> {
    let fail = |message: String| ReportError::Plot {
        path: path.to_path_buf(),
        message,
    };
    ensure_font().map_err(fail)?;
    let root = BitMapBackend::new(path, size).into_drawing_area();
    draw(&root).map_err(|e| fail(e.to_string()))?;
    root.present().map_err(|e| fail(e.to_string()))
}

/// Readable name of a metric for a panel title: `Accuracy`, `Mean squared error`, or as given.
fn metric_title(metric: &str) -> String {
    match metric.to_ascii_lowercase().as_str() {
        "accuracy" | "acc" => "Accuracy".to_string(),
        "mse" | "mean_squared_error" => "Mean squared error".to_string(),
        "mae" | "mean_absolute_error" => "Mean absolute error".to_string(),
        _ => metric.to_string(),
    }
}

/// About how many y ticks a learning-curve panel gets.
const PANEL_TICKS: usize = 6;
/// Legend and caption font size, in pixels.
const LEGEND_SIZE: u32 = 15;
/// Approximate width of one tick-label character at size 14, in pixels.
const TICK_CHAR_WIDTH: u32 = 8;

/// Width of the y label area for `axis`: its widest tick label, the tick marks and the axis name.
pub(super) fn y_label_width(axis: &Axis) -> u32 {
    (axis.widest_label() as u32 * TICK_CHAR_WIDTH + 44).max(56)
}

/// The grid, tick labels and axis descriptions every chart of the report draws the same way.
pub(super) fn draw_mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<Axis, Axis>>,
    (x_axis, x_desc): (&Axis, &str),
    (y_axis, y_desc): (&Axis, &str),
) -> Drawn<DB> {
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|v: &f64| x_axis.label(*v))
        .y_label_formatter(&|v: &f64| y_axis.label(*v))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .bold_line_style(BLACK.mix(0.12))
        .draw()
}

/// One line or marker series of a legend.
#[derive(Clone, Copy)]
enum Marker {
    Line,
    Dot,
}

/// Draws a one-row legend in `area` with its right edge at `right` and its centre line at `y`
/// (pixels), outside the plot so it never covers data.
fn draw_legend_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor)],
    marker: Marker,
    right: i32,
    y: i32,
) -> Drawn<DB> {
    let style =
        TextStyle::from((FONT, LEGEND_SIZE).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let key = 26;
    let gap = 18;
    let mut widths = Vec::with_capacity(entries.len());
    for (name, _) in entries {
        widths.push(area.estimate_text_size(name, &style)?.0 as i32);
    }
    let total: i32 =
        widths.iter().map(|w| key + 6 + w).sum::<i32>() + gap * (entries.len() as i32 - 1).max(0);
    let mut x = right - total;
    for ((name, colour), w) in entries.iter().zip(&widths) {
        match marker {
            Marker::Line => area.draw(&PathElement::new(
                [(x, y), (x + key, y)],
                colour.stroke_width(3),
            ))?,
            Marker::Dot => area.draw(&Circle::new((x + key / 2, y), 5, colour.filled()))?,
        }
        area.draw(&Text::new(name.clone(), (x + key + 6, y), style.clone()))?;
        x += key + 6 + w + gap;
    }
    Ok(())
}

/// Splits `ys` at its non-finite values (and values a log axis cannot show) into runs of
/// `(epoch, plot coordinate)` points, epochs counted from 1.
fn epoch_segments(ys: &[f64], axis: &Axis) -> Vec<Vec<(f64, f64)>> {
    let mut segments: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut open = false;
    for (i, &y) in ys.iter().enumerate() {
        match axis.coord(y) {
            Some(c) => {
                if !open {
                    segments.push(Vec::new());
                    open = true;
                }
                if let Some(s) = segments.last_mut() {
                    s.push(((i + 1) as f64, c));
                }
            }
            None => open = false,
        }
    }
    segments
}

/// Legend name of a series: `train`, or `train (diverged)` when it holds a non-finite value.
fn series_name(name: &str, ys: &[f64]) -> String {
    if ys.iter().any(|v| !v.is_finite()) {
        format!("{name} (diverged)")
    } else {
        name.to_string()
    }
}

/// The y axis of a panel: log-scale allowed for errors (`errors`), linear otherwise.
fn panel_axis(train: &[f64], test: &[f64], errors: bool) -> Axis {
    if errors {
        Axis::for_loss([train, test], PANEL_TICKS)
    } else {
        Axis::linear([train, test], PANEL_TICKS)
    }
}

/// One panel of the learning-curve figure: train and test series against epoch, its caption and
/// legend in a row above the plot, on `y_axis` with `y_width` pixels for its labels.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    y_label: &str,
    train: &[f64],
    test: &[f64],
    y_axis: &Axis,
    y_width: u32,
) -> Drawn<DB> {
    let x_axis = Axis::epochs(train.len().max(test.len()));
    let y_desc = if y_axis.log {
        format!("{y_label} (log scale)")
    } else {
        y_label.to_string()
    };
    let (head, body) = area.split_vertically(30);
    head.draw(&Text::new(
        caption.to_string(),
        (y_width as i32 + 8, 16),
        TextStyle::from((FONT, 18).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    let entries = [
        (series_name("train", train), TRAIN),
        (series_name("test", test), TEST),
    ];
    draw_legend_row(
        &head,
        &entries,
        Marker::Line,
        head.dim_in_pixel().0 as i32 - 20,
        16,
    )?;
    let mut chart = ChartBuilder::on(&body)
        .margin(6)
        .margin_right(20)
        .x_label_area_size(40)
        .y_label_area_size(y_width)
        .build_cartesian_2d(x_axis.clone(), y_axis.clone())?;
    draw_mesh(&mut chart, (&x_axis, "epoch"), (y_axis, &y_desc))?;
    for (series, colour) in [(train, TRAIN), (test, TEST)] {
        for segment in epoch_segments(series, y_axis) {
            if let [only] = segment[..] {
                chart.draw_series([Circle::new(only, 3, colour.filled())])?;
            } else {
                chart.draw_series(LineSeries::new(segment, colour.stroke_width(2)))?;
            }
        }
    }
    Ok(())
}

/// Figure title: the experiment's name, marked when the run stopped early or went non-finite.
fn curves_title(title: &str, curves: &Curves, ended_early: bool) -> String {
    let non_finite = [
        &curves.loss_train,
        &curves.loss_test,
        &curves.metric_train,
        &curves.metric_test,
    ]
    .iter()
    .any(|s| s.iter().any(|v| !v.is_finite()));
    let epochs = curves.loss_train.len();
    if ended_early {
        format!("{title} (diverged after epoch {epochs})")
    } else if non_finite {
        format!("{title} (diverged)")
    } else {
        title.to_string()
    }
}

fn draw_learning_curves<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    loss: &str,
    metric: &str,
    curves: &Curves,
    ended_early: bool,
) -> Drawn<DB> {
    root.fill(&WHITE)?;
    let root = root.titled(
        &curves_title(title, curves, ended_early),
        (FONT, 24).into_font().style(FontStyle::Bold),
    )?;
    let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);
    let loss_axis = panel_axis(&curves.loss_train, &curves.loss_test, true);
    let metric_axis = panel_axis(
        &curves.metric_train,
        &curves.metric_test,
        !metric_higher_is_better(metric),
    );
    // One label width for both panels keeps their epoch axes aligned.
    let y_width = y_label_width(&loss_axis).max(y_label_width(&metric_axis));
    draw_panel(
        &top,
        &format!("Loss: {loss}"),
        "loss",
        &curves.loss_train,
        &curves.loss_test,
        &loss_axis,
        y_width,
    )?;
    draw_panel(
        &bottom,
        &metric_title(metric),
        metric,
        &curves.metric_train,
        &curves.metric_test,
        &metric_axis,
        y_width,
    )
}

/// Draws the tutorial's learning-curve figure into a PNG at `path`.
///
/// Top panel: the loss per epoch; bottom panel: the metric per epoch; train in blue, test in
/// orange, with a legend above each panel, axis labels and `title` above both. Error panels
/// (loss, mse, ...) whose values are all positive and span more than two orders of magnitude use a
/// log-scale y axis, said in the axis label. Non-finite values are skipped, and a series holding
/// one is marked "(diverged)" in the legend and title.
///
/// ```no_run
/// use tapegrad::report::{plot_learning_curves, Curves};
/// let c = Curves { loss_train: vec![0.7, 0.5, 0.4], loss_test: vec![0.7, 0.55, 0.45],
///                  metric_train: vec![0.5, 0.7, 0.8], metric_test: vec![0.5, 0.72, 0.82] };
/// plot_learning_curves("circles_bce.png", "circles_bce", "binary_crossentropy", "accuracy", &c)?;
/// # Ok::<(), tapegrad::report::ReportError>(())
/// ```
pub fn plot_learning_curves(
    path: impl AsRef<Path>,
    title: &str,
    loss: &str,
    metric: &str,
    curves: &Curves,
) -> Result<(), ReportError> {
    plot_curves_figure(path.as_ref(), title, loss, metric, curves, false)
}

/// [`plot_learning_curves`], with `ended_early` marking a run that stopped after the epochs in
/// `curves` because its loss diverged (the title then says so).
pub(crate) fn plot_curves_figure(
    path: &Path,
    title: &str,
    loss: &str,
    metric: &str,
    curves: &Curves,
    ended_early: bool,
) -> Result<(), ReportError> {
    curves.epochs(title)?;
    render_png(path, CURVES_SIZE, |root| {
        draw_learning_curves(root, title, loss, metric, curves, ended_early)
    })
}

fn draw_scatter<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    points: &[[f64; 2]],
    labels: &[usize],
) -> Drawn<DB> {
    root.fill(&WHITE)?;
    let root = root.titled(title, (FONT, 22).into_font().style(FontStyle::Bold))?;
    let (head, body) = root.split_vertically(28);
    let classes = labels.iter().max().map_or(0, |&m| m + 1);
    let entries: Vec<(String, RGBColor)> = (0..classes)
        .map(|c| (format!("class {c}"), PALETTE[c % PALETTE.len()]))
        .collect();
    draw_legend_row(
        &head,
        &entries,
        Marker::Dot,
        head.dim_in_pixel().0 as i32 - 24,
        12,
    )?;
    let xs: Vec<f64> = points.iter().map(|p| p[0]).collect();
    let ys: Vec<f64> = points.iter().map(|p| p[1]).collect();
    let x_axis = Axis::linear([xs.as_slice()], 8);
    let y_axis = Axis::linear([ys.as_slice()], 8);
    let mut chart = ChartBuilder::on(&body)
        .margin(8)
        .margin_right(24)
        .x_label_area_size(40)
        .y_label_area_size(y_label_width(&y_axis))
        .build_cartesian_2d(x_axis.clone(), y_axis.clone())?;
    draw_mesh(&mut chart, (&x_axis, "X[:, 0]"), (&y_axis, "X[:, 1]"))?;
    for class in 0..classes {
        let colour = PALETTE[class % PALETTE.len()];
        let members = points
            .iter()
            .zip(labels)
            .filter(move |(p, &l)| l == class && p[0].is_finite() && p[1].is_finite())
            .map(move |(p, _)| Circle::new((p[0], p[1]), 3, colour.mix(0.85).filled()));
        chart.draw_series(members)?;
    }
    Ok(())
}

/// Draws a scatter plot of two-dimensional `points` coloured by class into a PNG at `path`
/// (class 0 blue, 1 orange, 2 green, ...), with a legend.
///
/// Returns [`ReportError::InvalidData`] when `labels` and `points` differ in length.
///
/// ```no_run
/// use tapegrad::report::plot_scatter;
/// plot_scatter("circles.png", "circles", &[[0.0, 1.0], [1.0, 0.0]], &[0, 1])?;
/// # Ok::<(), tapegrad::report::ReportError>(())
/// ```
pub fn plot_scatter(
    path: impl AsRef<Path>,
    title: &str,
    points: &[[f64; 2]],
    labels: &[usize],
) -> Result<(), ReportError> {
    if points.len() != labels.len() {
        return Err(ReportError::InvalidData {
            what: title.to_string(),
            detail: format!("{} points but {} labels", points.len(), labels.len()),
        });
    }
    render_png(path.as_ref(), SCATTER_SIZE, |root| {
        draw_scatter(root, title, points, labels)
    })
}

/// Converts an `[n, 2]` tensor of coordinates into points for [`plot_scatter`].
///
/// ```
/// use tapegrad::{report::points_from_tensor, Tensor};
/// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
/// assert_eq!(points_from_tensor(&x, "blobs").unwrap(), vec![[1.0, 2.0], [3.0, 4.0]]);
/// ```
pub fn points_from_tensor<T: Float>(
    x: &Tensor<T>,
    what: &str,
) -> Result<Vec<[f64; 2]>, ReportError> {
    if x.shape().len() != 2 || x.shape()[1] != 2 {
        return Err(ReportError::InvalidData {
            what: what.to_string(),
            detail: format!("a scatter plot needs shape [n, 2], got {:?}", x.shape()),
        });
    }
    Ok(x.data()
        .chunks_exact(2)
        .map(|p| [p[0].to_f64(), p[1].to_f64()])
        .collect())
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::boxplot::jitter;
    use super::*;

    /// Renders with `draw` into an RGB buffer and returns it.
    pub(crate) fn render(
        size: (u32, u32),
        draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> BitmapResult,
    ) -> Vec<u8> {
        ensure_font().unwrap();
        let mut buf = vec![0u8; (size.0 * size.1 * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
            draw(&root).unwrap();
            root.present().unwrap();
        }
        buf
    }

    pub(crate) fn count(buf: &[u8], colour: RGBColor) -> usize {
        buf.chunks_exact(3)
            .filter(|p| p[0] == colour.0 && p[1] == colour.1 && p[2] == colour.2)
            .count()
    }

    fn dark(buf: &[u8], rows: std::ops::Range<usize>, width: usize) -> usize {
        buf[rows.start * width * 3..rows.end * width * 3]
            .chunks_exact(3)
            .filter(|p| p.iter().all(|&c| c < 80))
            .count()
    }

    #[test]
    fn learning_curves_draw_train_blue_test_orange_and_text() {
        let n = 50;
        let c = Curves {
            loss_train: (0..n).map(|i| 1.0 / (1.0 + i as f64)).collect(),
            loss_test: (0..n).map(|i| 1.2 / (1.0 + i as f64)).collect(),
            metric_train: (0..n).map(|i| 0.5 + 0.3 * i as f64 / n as f64).collect(),
            metric_test: (0..n).map(|i| 0.5 + 0.35 * i as f64 / n as f64).collect(),
        };
        let buf = render(CURVES_SIZE, |root| {
            draw_learning_curves(
                root,
                "circles_bce",
                "binary_crossentropy",
                "accuracy",
                &c,
                false,
            )
        });
        assert!(count(&buf, TRAIN) > 500, "train line should be blue");
        assert!(count(&buf, TEST) > 500, "test line should be orange");
        // The title is black text in the top rows: the bundled font rendered.
        assert!(dark(&buf, 0..30, CURVES_SIZE.0 as usize) > 50);
    }

    #[test]
    fn learning_curves_survive_diverged_runs() {
        let c = Curves {
            loss_train: vec![0.5, f64::NAN, f64::INFINITY, 1e12, 0.3],
            loss_test: vec![0.5, 0.4, 0.4, 0.4, 0.4],
            metric_train: vec![0.84; 5],
            metric_test: vec![0.84, 0.84 + 1e-17, 0.84, 0.84, 0.84],
        };
        let buf = render(CURVES_SIZE, |root| {
            draw_learning_curves(root, "msle", "msle", "mse", &c, false)
        });
        assert!(count(&buf, TRAIN) > 100 && count(&buf, TEST) > 100);
        let empty = Curves::default();
        render(CURVES_SIZE, |root| {
            draw_learning_curves(root, "none", "mse", "mse", &empty, true)
        });
    }

    #[test]
    fn scatter_colours_each_class() {
        let points: Vec<[f64; 2]> = (0..300)
            .map(|i| [(i % 3) as f64 * 5.0 + jitter(i), jitter(i * 7)])
            .collect();
        let labels: Vec<usize> = (0..300).map(|i| i % 3).collect();
        let buf = render(SCATTER_SIZE, |root| {
            draw_scatter(root, "blobs", &points, &labels)
        });
        // Points are drawn slightly transparent; the legend markers are opaque.
        for colour in &PALETTE[..3] {
            assert!(count(&buf, *colour) > 20, "class colour {colour:?} missing");
        }
        assert_eq!(count(&buf, PALETTE[3]), 0);
    }

    #[test]
    fn segments_break_at_non_finite_values() {
        let axis = Axis::linear([[0.5, 1.0].as_slice()], 5);
        let s = epoch_segments(&[0.5, 0.6, f64::NAN, 0.7, f64::INFINITY, 0.8, 0.9], &axis);
        assert_eq!(
            s,
            vec![
                vec![(1.0, 0.5), (2.0, 0.6)],
                vec![(4.0, 0.7)],
                vec![(6.0, 0.8), (7.0, 0.9)]
            ]
        );
        assert_eq!(series_name("train", &[1.0, f64::NAN]), "train (diverged)");
        assert_eq!(series_name("test", &[1.0]), "test");
        let c = Curves {
            loss_train: vec![1e19, 1e34],
            loss_test: vec![1e20, 1e33],
            metric_train: vec![1e30; 2],
            metric_test: vec![1e30; 2],
        };
        assert_eq!(
            curves_title("mape", &c, true),
            "mape (diverged after epoch 2)"
        );
        assert_eq!(curves_title("mape", &c, false), "mape");
    }
}
