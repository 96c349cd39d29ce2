//! The report's plots, drawn with plotters' SVG backend into strings: pure functions from the
//! inputs and figures to SVG text (no font is loaded: text stays `<text>` the viewer renders).

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

use crate::analysis::MachineInput;

mod across;
mod line;
mod shade;
mod trial;

pub use across::{Measured, Predicted, distribution_plot, five_numbers, sweep_error_plot};
pub use line::{Line, Thinning};
pub use shade::{Shade, shades, tint};
pub use trial::{
    RowLines, RowThinning, clock_plot, clock_plot_of, drift_plot, jump_bins, jump_plot, lag_plot,
    lag_plot_of, queue_plot, queue_plot_of,
};

/// Width and height of every plot, in pixels.
pub const SIZE: (u32, u32) = (900, 420);
/// The most points a line keeps (thinned beyond; see [`thin`]).
const MAX_POINTS: usize = 2000;
/// The most bars a histogram draws per machine; larger jump sizes are grouped into wider bins.
const MAX_BINS: u64 = 30;
const FONT: &str = "sans-serif";

/// Okabe and Ito's colours, which stay apart for colour-blind readers; black last.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// The colour of the `k`-th machine (from 0).
pub fn colour(k: usize) -> RGBColor {
    PALETTE[k % PALETTE.len()]
}

/// The colour of the `k`-th machine as CSS `#rrggbb`.
pub fn css_colour(k: usize) -> String {
    let RGBColor(r, g, b) = colour(k);
    format!("#{r:02x}{g:02x}{b:02x}")
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Why a plot could not be drawn: plotters refused a step of the drawing.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The SVG backend refused a step: filling or finishing the document, drawing the axes or
    /// the legend.
    #[error(transparent)]
    Backend(#[from] DrawingAreaErrorKind<std::io::Error>),
    /// Drawing the plot's chart (its axes, series and legend) failed.
    #[error("drawing a plot: {0}")]
    Drawing(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<PlotError> for String {
    fn from(e: PlotError) -> String {
        e.to_string()
    }
}

/// Draws into a fresh SVG of [`SIZE`] and answers its text.
fn render(
    draw: impl FnOnce(&Area<'_>) -> Result<(), Box<dyn std::error::Error + Send + Sync>>,
) -> Result<String, PlotError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root).map_err(PlotError::Drawing)?;
        root.present()?;
    }
    Ok(svg)
}

/// Every plot's frame: its caption and the room its axes' labels take.
fn framed<'a, 'b>(root: &'a Area<'b>, caption: &str) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(caption, (FONT, 20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70);
    builder
}

/// The axes and grid of a plot whose two axes are plain numbers, labelled `x_desc` and `y_desc`,
/// their ticks written by `x_tick` and `y_tick`.
fn draw_numeric_mesh<'a, X>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, RangedCoordf64>>,
    (x_desc, x_tick): (&str, &dyn Fn(&f64) -> String),
    (y_desc, y_tick): (&str, &dyn Fn(&f64) -> String),
) -> Result<(), PlotError>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style((FONT, 15))
        .label_style((FONT, 13))
        .x_label_formatter(x_tick)
        .y_label_formatter(y_tick)
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(RGBColor(245, 245, 245))
        .draw()?;
    Ok(())
}

/// Every plot's legend box, at `position`.
fn draw_legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    position: SeriesLabelPosition,
) -> Result<(), PlotError> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(170, 170, 170))
        .draw()?;
    Ok(())
}

/// A machine's legend label: `machine 2 (4 ticks/s)`.
fn label(m: &MachineInput) -> String {
    match m.rate {
        Some(rate) => format!("machine {} ({rate} ticks/s)", m.id),
        None => format!("machine {} (rate unknown)", m.id),
    }
}

/// At most about `max` of `points`, in order: the points are cut into `max / 2` runs of
/// consecutive points and each run keeps its lowest and highest point, so spikes survive
/// ([`Thinning`], which does the same as the points go by).
pub fn thin(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    let mut t = Thinning::with_max(String::new(), points.len(), max);
    for &p in points {
        t.push(p);
    }
    t.finish().points
}

/// How a line plot is drawn.
struct Style {
    /// Hold each value until the next point (a step function), instead of joining points.
    steps: bool,
    /// Start the y axis just below 0 when every value is 0 or more: a line at 0 (a machine that
    /// never jumped, an empty queue) lies above the x axis, not on it, and no negative value is
    /// labelled.
    y_from_zero: bool,
    /// Where the legend goes.
    legend: SeriesLabelPosition,
    /// The fault windows shaded behind the lines, and named in the legend.
    shades: Vec<Shade>,
}

/// `points` as a step function: each value held until the next point's time.
pub fn steps(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    for (k, &(x, y)) in points.iter().enumerate() {
        if k > 0 {
            out.push((x, points[k - 1].1));
        }
        out.push((x, y));
    }
    out
}

/// The line style of the `k`-th machine: solid, dashed, dotted, in turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dash {
    /// A solid line.
    Solid,
    /// Dashes of 9 pixels, 4 apart.
    Dashed,
    /// Dots of 2 pixels, 3 apart.
    Dotted,
}

impl Dash {
    /// The style of the `k`-th machine (from 0).
    pub fn of(k: usize) -> Dash {
        [Dash::Solid, Dash::Dashed, Dash::Dotted][k % 3]
    }

    /// Length of a dash and of the gap after it, in pixels; `None` for a solid line.
    pub fn pattern(self) -> Option<(u32, u32)> {
        match self {
            Dash::Solid => None,
            Dash::Dashed => Some((9, 4)),
            Dash::Dotted => Some((2, 3)),
        }
    }

    /// The four pieces of the legend's 22-pixel sample of the line, as x ranges from its start.
    pub fn legend_pieces(self) -> [(i32, i32); 4] {
        match self {
            Dash::Solid => [(0, 6), (6, 12), (12, 17), (17, 22)],
            Dash::Dashed => [(0, 8), (12, 20), (22, 22), (22, 22)],
            Dash::Dotted => [(0, 2), (6, 8), (12, 14), (18, 20)],
        }
    }

    /// The legend's sample of the line, at `(x, y)`.
    fn legend_sample<'a>(
        self,
        at: (i32, i32),
        style: ShapeStyle,
    ) -> impl IntoDynElement<'a, SVGBackend<'a>, (i32, i32)> + use<'a> {
        let piece = |(a, b): (i32, i32)| PathElement::new(vec![(a, 0), (b, 0)], style);
        let [p, q, r, t] = self.legend_pieces();
        EmptyElement::at(at) + piece(p) + piece(q) + piece(r) + piece(t)
    }
}

/// An axis label: whole numbers without decimals, others with one.
fn tick(v: &f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// One line per machine of `series` (already thinned, with the extremes of all their points),
/// with a legend.
fn lines(
    caption: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Line],
    look: Style,
) -> Result<String, PlotError> {
    let y_floor_zero = look.y_from_zero;
    let x_max = series
        .iter()
        .map(|l| l.x_max)
        .fold(0.0f64, f64::max)
        .max(0.001);
    let x_min = series.iter().map(|l| l.x_min).fold(0.0f64, f64::min);
    let mut y_max = series.iter().map(|l| l.y_max).fold(f64::MIN, f64::max);
    let mut y_min = series.iter().map(|l| l.y_min).fold(f64::MAX, f64::min);
    if y_floor_zero {
        y_min = y_min.min(0.0);
    }
    if y_max < y_min {
        (y_min, y_max) = (0.0, 1.0);
    }
    let pad = ((y_max - y_min) * 0.05).max(0.5);
    let above_zero = y_floor_zero && y_min >= 0.0;
    let (y_lo, y_hi) = (y_min - pad, y_max + pad);
    let y_tick = |v: &f64| {
        if above_zero && *v < 0.0 {
            String::new()
        } else {
            tick(v)
        }
    };
    render(|root| {
        let mut chart = framed(root, caption).build_cartesian_2d(x_min..x_max, y_lo..y_hi)?;
        draw_numeric_mesh(&mut chart, (x_desc, &tick), (y_desc, &y_tick))?;
        shade::bands(&mut chart, &look.shades)?;
        for (k, line) in series.iter().enumerate() {
            let shown = if look.steps {
                steps(&line.points)
            } else {
                line.points.clone()
            };
            // Dense lines thinner, so that one machine does not hide another.
            let style = colour(k).stroke_width(if shown.len() > 400 { 1 } else { 2 });
            // Solid, dashed and dotted by turns: machines whose lines lie on top of each other
            // (equal rates) still show, and the legend tells them apart without colour too.
            let dash = Dash::of(k);
            let drawn = match dash.pattern() {
                None => chart.draw_series(LineSeries::new(shown, style))?,
                Some((on, off)) => {
                    chart.draw_series(DashedLineSeries::new(shown, on, off, style))?
                }
            };
            drawn
                .label(line.name.as_str())
                .legend(move |(x, y)| dash.legend_sample((x, y), style));
        }
        shade::legend(&mut chart, &look.shades)?;
        draw_legend(&mut chart, look.legend.clone())?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn thin_keeps_short_series_and_the_extremes_of_long_ones() {
        let short = [(0.0, 1.0), (1.0, 2.0)];
        assert_eq!(thin(&short, 10), short.to_vec());
        // y = 7i mod 10: 0 7 4 1 8 | 5 2 9 6 3. At most 4 points: two runs of 5, each keeping its
        // lowest and highest point in time order.
        let long: Vec<(f64, f64)> = (0..10)
            .map(|i| (f64::from(i), f64::from((i * 7) % 10)))
            .collect();
        assert_eq!(
            thin(&long, 4),
            [(0.0, 0.0), (4.0, 8.0), (6.0, 2.0), (7.0, 9.0)]
        );
    }

    #[test]
    fn steps_hold_each_value_until_the_next_point() {
        let points = [(0.0, 1.0), (1.0, 3.0), (2.5, 0.0)];
        assert_eq!(
            steps(&points),
            [(0.0, 1.0), (1.0, 1.0), (1.0, 3.0), (2.5, 3.0), (2.5, 0.0)]
        );
        assert_eq!(steps(&[]), []);
    }

    #[test]
    fn jump_bins_are_exact_sizes_up_to_thirty_and_wider_beyond() {
        let h = BTreeMap::from([(1, 10), (2, 3), (5, 1)]);
        let bins = jump_bins(&h, 5);
        assert_eq!(
            bins,
            [(1, 1, 10), (2, 2, 3), (3, 3, 0), (4, 4, 0), (5, 5, 1)]
        );
        // Largest 61: bins of 3 (ceil(61 / 30)), 21 of them, the last 61..=63.
        let h = BTreeMap::from([(1, 10), (2, 3), (3, 1), (4, 2), (61, 1)]);
        let bins = jump_bins(&h, 61);
        assert_eq!(bins.len(), 21);
        assert_eq!(bins[0], (1, 3, 14));
        assert_eq!(bins[1], (4, 6, 2));
        assert_eq!(bins[20], (61, 63, 1));
    }

    #[test]
    fn five_numbers_are_the_extremes_quartiles_and_median_by_nearest_rank() {
        // Sorted: 1 2 3 4 5 6 7 100. Ranks ceil(p/100 * 8): q1 rank 2, median rank 4, q3 rank 6.
        let values = [7.0, 1.0, 100.0, 3.0, 2.0, 6.0, 4.0, 5.0];
        assert_eq!(five_numbers(&values), Some([1.0, 2.0, 4.0, 6.0, 100.0]));
        assert_eq!(five_numbers(&[3.0]), Some([3.0; 5]));
        assert_eq!(five_numbers(&[]), None);
    }

    #[test]
    fn a_distribution_draws_a_dot_per_trial_and_a_box_per_group() {
        let groups = [
            ("machine 1".to_string(), vec![1.0, 2.0, 2.0, 9.0]),
            ("machine 2".to_string(), vec![5.0]),
            ("machine 3".to_string(), vec![]),
        ];
        let svg = distribution_plot("c", "x", "y", &groups).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let circles = doc
            .descendants()
            .filter(|n| n.has_tag_name("circle"))
            .count();
        assert_eq!(circles, 5);
        let texts: Vec<&str> = doc
            .descendants()
            .filter_map(|n| n.text())
            .map(str::trim)
            .collect();
        for name in ["machine 1", "machine 2", "machine 3"] {
            assert!(texts.contains(&name), "{name} labels its group: {texts:?}");
        }
    }

    #[test]
    fn a_plot_that_cannot_be_drawn_says_so_in_plotters_words() {
        let backend = PlotError::from(DrawingAreaErrorKind::<std::io::Error>::LayoutError);
        let plotters_says = DrawingAreaErrorKind::<std::io::Error>::LayoutError.to_string();
        assert_eq!(backend.to_string(), plotters_says);
        let drawing = PlotError::Drawing(Box::new(backend));
        assert_eq!(
            drawing.to_string(),
            format!("drawing a plot: {plotters_says}")
        );
        assert_eq!(
            String::from(drawing),
            format!("drawing a plot: {plotters_says}")
        );
    }

    #[test]
    fn machines_take_solid_dashed_and_dotted_lines_in_turn() {
        let dashes: Vec<Dash> = (0..4).map(Dash::of).collect();
        assert_eq!(
            dashes,
            [Dash::Solid, Dash::Dashed, Dash::Dotted, Dash::Solid]
        );
        assert_eq!(Dash::Solid.pattern(), None);
        assert_eq!(Dash::Dashed.pattern(), Some((9, 4)));
        // The legend's solid sample is one unbroken line; the others leave gaps.
        let solid = Dash::Solid.legend_pieces();
        assert!(solid.windows(2).all(|w| w[0].1 == w[1].0));
        assert!(
            Dash::Dotted
                .legend_pieces()
                .windows(2)
                .all(|w| w[0].1 < w[1].0)
        );
    }
}
