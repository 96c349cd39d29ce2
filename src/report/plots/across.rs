//! The plots across trials and runs: the sweep, the comparison of runs, and the distributions of
//! per-trial figures.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{FONT, PlotError, colour, draw_legend, draw_numeric_mesh, framed, render, tick};
use crate::analysis::stats::percentile_sorted;

/// The five numbers a box shows: smallest, lower quartile, median, upper quartile, largest.
pub fn five_numbers(values: &[f64]) -> Option<[f64; 5]> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let q = |p| percentile_sorted(&sorted, p);
    Some([
        *sorted.first()?,
        q(25.0)?,
        q(50.0)?,
        q(75.0)?,
        *sorted.last()?,
    ])
}

/// A distribution across trials: for each group (a machine, or a run), a box from the lower to
/// the upper quartile with the median across it, whiskers to the smallest and largest value, and
/// every trial's value as a dot beside it, so a skewed or two-humped spread shows as it is.
pub fn distribution_plot(
    caption: &str,
    x_desc: &str,
    y_desc: &str,
    groups: &[(String, Vec<f64>)],
) -> Result<String, PlotError> {
    let all = groups.iter().flat_map(|g| g.1.iter().copied());
    let top = all.clone().fold(0.0f64, f64::max);
    let bottom = all.fold(0.0f64, f64::min);
    let pad = ((top - bottom) * 0.08).max(0.5);
    let n = groups.len().max(1);
    let names: Vec<String> = groups
        .iter()
        .map(|g| g.0.chars().take(28).collect())
        .collect();
    render(|root| {
        let mut chart = framed(root, caption).build_cartesian_2d(
            -0.5f64..n as f64 - 0.5,
            (bottom - if bottom < 0.0 { pad } else { 0.0 })..top + pad,
        )?;
        let name_of = |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .axis_desc_style((FONT, 15))
            .label_style((FONT, 13))
            .x_labels(n)
            .x_label_formatter(&name_of)
            .y_label_formatter(&tick)
            .disable_x_mesh()
            .bold_line_style(RGBColor(225, 225, 225))
            .light_line_style(RGBColor(245, 245, 245))
            .draw()?;
        for (k, (_, values)) in groups.iter().enumerate() {
            let Some([min, q1, median, q3, max]) = five_numbers(values) else {
                continue;
            };
            let x = k as f64;
            let line = colour(k).stroke_width(2);
            chart.draw_series([
                Rectangle::new(
                    [(x - 0.32, q1), (x - 0.02, q3)],
                    colour(k).mix(0.2).filled(),
                ),
                Rectangle::new([(x - 0.32, q1), (x - 0.02, q3)], line),
            ])?;
            chart.draw_series([
                PathElement::new(
                    vec![(x - 0.32, median), (x - 0.02, median)],
                    BLACK.stroke_width(3),
                ),
                PathElement::new(vec![(x - 0.17, q3), (x - 0.17, max)], line),
                PathElement::new(vec![(x - 0.17, q1), (x - 0.17, min)], line),
                PathElement::new(vec![(x - 0.25, max), (x - 0.09, max)], line),
                PathElement::new(vec![(x - 0.25, min), (x - 0.09, min)], line),
            ])?;
            // The dots to the right of the box, spread sideways by a fixed pattern (no randomness:
            // the same run draws the same picture) so that equal values stay visible.
            let dots = values.iter().enumerate().map(|(i, &v)| {
                let spread = (i as f64 * 0.618_034).fract();
                Circle::new(
                    (x + 0.06 + 0.26 * spread, v),
                    3,
                    colour(k).mix(0.8).filled(),
                )
            });
            chart.draw_series(dots)?;
        }
        Ok(())
    })
}

/// The most swept values labelled on a sweep's x axis; more are thinned to every second, third..
const MAX_TICKS: usize = 12;

/// A sweep's x axis: a tick and a label at each swept value, the first included (however far it
/// lies from a round number), rather than at round numbers that may miss them.
struct AtValues {
    /// The axis's range, padded beyond the values.
    inner: RangedCoordf64,
    /// The values ticked, in order.
    values: Vec<f64>,
}

impl AtValues {
    /// The axis over `range` ticked at `values` (sorted, repeats dropped, at most about
    /// [`MAX_TICKS`], the first and the last always).
    fn new(range: Range<f64>, values: impl Iterator<Item = f64>) -> AtValues {
        let mut all: Vec<f64> = values.filter(|v| range.contains(v)).collect();
        all.sort_by(f64::total_cmp);
        all.dedup();
        let every = all.len().div_ceil(MAX_TICKS).max(1);
        let last = all.len().saturating_sub(1);
        let values = all
            .iter()
            .enumerate()
            .filter(|&(k, _)| k % every == 0 || k == last)
            .map(|(_, &v)| v)
            .collect();
        AtValues {
            inner: range.into(),
            values,
        }
    }
}

impl Ranged for AtValues {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // The grid's light lines (between the labelled ones) are left out.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.values.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}

/// A swept value as it was given: the shortest text that reads back to it (`0.5`, `3`, `0.25`).
fn swept_label(v: &f64) -> String {
    v.to_string()
}

/// The dashes of the predicted boundary, on the plot and in its legend: pixels drawn, then left
/// out.
pub const BOUNDARY_DASH: (u32, u32) = (6, 4);

/// One measured series of a sweep: at each swept value, the mean over its trials and their
/// sample standard deviation.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    /// What it is, for the legend.
    pub name: String,
    /// `(value, mean, std)`, by value.
    pub points: Vec<(f64, f64, f64)>,
}

/// What the model predicts across a sweep: a curve drawn as a continuous line over the whole
/// range, and the value where a slow machine's queue starts to grow, if it lies in the range.
#[derive(Clone, Debug, PartialEq)]
pub struct Predicted {
    /// What it is, for the legend.
    pub name: String,
    /// `(value, predicted)` on a fine grid.
    pub curve: Vec<(f64, f64)>,
    /// The queue-stability boundary, drawn as a vertical line.
    pub boundary: Option<f64>,
}

/// A sweep's plot: each measured series as markers at the measured values with error bars of
/// ±1 sample standard deviation, joined by a thin line; the prediction as a continuous line; the
/// predicted boundary as a vertical dashed line, dashed in the legend too. The y axis starts at
/// 0; the x axis is labelled at each measured value.
pub fn sweep_error_plot(
    caption: &str,
    x_desc: &str,
    y_desc: &str,
    measured: &[Measured],
    predicted: Option<&Predicted>,
) -> Result<String, PlotError> {
    let xs = measured
        .iter()
        .flat_map(|m| m.points.iter().map(|p| p.0))
        .chain(
            predicted
                .into_iter()
                .flat_map(|p| p.curve.iter().map(|c| c.0)),
        );
    let (x_lo, x_hi) = xs.fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let (x_lo, x_hi) = if x_lo < x_hi {
        let pad = (x_hi - x_lo) * 0.04;
        (x_lo - pad, x_hi + pad)
    } else {
        (x_lo.min(0.0) - 0.5, x_lo.max(0.0) + 0.5)
    };
    let y_top = measured
        .iter()
        .flat_map(|m| m.points.iter().map(|p| p.1 + p.2))
        .chain(
            predicted
                .into_iter()
                .flat_map(|p| p.curve.iter().map(|c| c.1)),
        )
        .fold(0.0f64, f64::max);
    let y_hi = if y_top > 0.0 { y_top * 1.1 } else { 1.0 };
    render(|root| {
        let values = measured.iter().flat_map(|m| m.points.iter().map(|p| p.0));
        let x_axis = AtValues::new(x_lo..x_hi, values);
        let mut chart = framed(root, caption).build_cartesian_2d(x_axis, 0f64..y_hi)?;
        draw_numeric_mesh(&mut chart, (x_desc, &swept_label), (y_desc, &tick))?;
        if let Some(p) = predicted {
            let style = BLACK.stroke_width(2);
            chart
                .draw_series(LineSeries::new(p.curve.iter().copied(), style))?
                .label(p.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], style));
            if let Some(b) = p.boundary {
                let grey = RGBColor(110, 110, 110).stroke_width(1);
                let (on, off) = BOUNDARY_DASH;
                chart
                    .draw_series(DashedLineSeries::new([(b, 0.0), (b, y_hi)], on, off, grey))?
                    .label(format!("predicted boundary: {}", tick(&b)))
                    .legend(move |(x, y)| {
                        // The same dashes as the line, across the legend's 22 pixels.
                        let period = (on + off) as i32;
                        let dash = |a: i32| {
                            PathElement::new(vec![(a, 0), ((a + on as i32).min(22), 0)], grey)
                        };
                        EmptyElement::at((x, y)) + dash(0) + dash(period) + dash(2 * period)
                    });
            }
        }
        for (k, m) in measured.iter().enumerate() {
            let c = colour(k);
            // Series side by side by a hair, so that error bars at one value do not hide each
            // other.
            let shift = (k as f64 - (measured.len() as f64 - 1.0) / 2.0) * (x_hi - x_lo) * 0.007;
            let m = Measured {
                name: m.name.clone(),
                points: m
                    .points
                    .iter()
                    .map(|&(x, a, b)| (x + shift, a, b))
                    .collect(),
            };
            let thin_line = c.mix(0.6).stroke_width(1);
            chart.draw_series(LineSeries::new(
                m.points.iter().map(|p| (p.0, p.1)),
                thin_line,
            ))?;
            let bars = m.points.iter().flat_map(|&(x, mean, std)| {
                let (lo, hi) = ((mean - std).max(0.0), mean + std);
                let w = (x_hi - x_lo) * 0.006;
                [
                    PathElement::new(vec![(x, lo), (x, hi)], c.stroke_width(2)),
                    PathElement::new(vec![(x - w, lo), (x + w, lo)], c.stroke_width(2)),
                    PathElement::new(vec![(x - w, hi), (x + w, hi)], c.stroke_width(2)),
                ]
            });
            chart.draw_series(bars)?;
            chart
                .draw_series(
                    m.points
                        .iter()
                        .map(|&(x, mean, _)| Circle::new((x, mean), 4, c.filled())),
                )?
                .label(m.name.clone())
                .legend(move |(x, y)| Circle::new((x + 11, y), 4, c.filled()));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests;
