//! The plots across trials and runs: the sweep, the comparison of runs, and the distributions of
//! per-trial figures.

use plotters::prelude::*;

use super::{FONT, Style, colour, framed, lines, render, tick};
use crate::analysis::stats::percentile_sorted;

/// A parameter sweep: one line per figure against the swept value, points joined, y from zero.
pub fn sweep_plot(
    caption: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<String, String> {
    let look = Style {
        steps: false,
        y_from_zero: true,
        legend: SeriesLabelPosition::UpperRight,
    };
    lines(caption, x_desc, y_desc, series, look)
}

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
) -> Result<String, String> {
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
