//! The weather on a plot: each window of a trial's fault plan ([`Shade`]) drawn as a light band
//! over the plot's height, edged by dashed lines, behind the machines' lines, and named in the
//! legend (`partition {1,2}|{3} 10-20 s`). A trial without a plan has no shades, and its plots are
//! drawn exactly as before.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::PlotError;
use crate::analysis::TrialInput;
use crate::analysis::weather::{label, window};

/// How opaque a window's band is.
const BAND: f64 = 0.16;

/// One fault window as a plot shades it: seconds from the trial's start.
#[derive(Clone, Debug, PartialEq)]
pub struct Shade {
    /// The window's start.
    pub from_s: f64,
    /// The window's end.
    pub to_s: f64,
    /// The fault in a few words.
    pub label: String,
    /// Its kind, which picks its tint.
    pub kind: &'static str,
}

/// The windows of `t`'s plan, in plan order (a `clock` fault has none).
pub fn shades(t: &TrialInput) -> Vec<Shade> {
    t.faults
        .iter()
        .filter_map(|f| {
            window(f).map(|w| Shade {
                from_s: w.from_ns as f64 / 1e9,
                to_s: w.to_ns as f64 / 1e9,
                label: label(f),
                kind: f.kind(),
            })
        })
        .collect()
}

/// A window's tint, by its kind: reddish purple for a delay, sky blue for a partition, orange
/// for a pause (Okabe and Ito's).
pub fn tint(kind: &str) -> RGBColor {
    match kind {
        "delay" => RGBColor(204, 121, 167),
        "partition" => RGBColor(86, 180, 233),
        _ => RGBColor(230, 159, 0),
    }
}

type Chart<'a> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws each of `shades` as a band over the chart's height, with dashed edges, cut to the
/// chart's time axis (a window outside it is not drawn). Before the lines, so that they stay on
/// top.
pub(super) fn bands(chart: &mut Chart<'_>, shades: &[Shade]) -> Result<(), PlotError> {
    let (x, y) = (chart.x_range(), chart.y_range());
    for s in shades {
        let (a, b) = (s.from_s.max(x.start), s.to_s.min(x.end));
        if a >= b {
            continue;
        }
        let t = tint(s.kind);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(a, y.start), (b, y.end)],
            t.mix(BAND).filled(),
        )))?;
        for edge in [s.from_s, s.to_s].into_iter().filter(|e| x.contains(e)) {
            chart.draw_series(DashedLineSeries::new(
                [(edge, y.start), (edge, y.end)],
                5,
                4,
                t.stroke_width(1),
            ))?;
        }
    }
    Ok(())
}

/// Names each drawn window in the legend, after the machines: a swatch of its tint and its label.
pub(super) fn legend(chart: &mut Chart<'_>, shades: &[Shade]) -> Result<(), PlotError> {
    let x = chart.x_range();
    for s in shades
        .iter()
        .filter(|s| s.from_s.max(x.start) < s.to_s.min(x.end))
    {
        let t = tint(s.kind);
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
            .label(s.label.as_str())
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 6), (x + 22, y + 6)], t.mix(0.45).filled())
            });
    }
    Ok(())
}
