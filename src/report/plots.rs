//! The report's plots, drawn with plotters' SVG backend into strings: pure functions from the
//! inputs and figures to SVG text (no font is loaded: text stays `<text>` the viewer renders).

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::analysis::stats::Summary;
use crate::analysis::{MachineInput, TrialAnalysis, TrialInput};

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

/// Draws into a fresh SVG of [`SIZE`] and answers its text.
fn render(
    draw: impl FnOnce(&Area<'_>) -> Result<(), Box<dyn std::error::Error>>,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root).map_err(|e| format!("drawing a plot: {e}"))?;
        root.present().map_err(|e| e.to_string())?;
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

/// A machine's legend label: `machine 2 (4 ticks/s)`.
fn label(m: &MachineInput) -> String {
    match m.rate {
        Some(rate) => format!("machine {} ({rate} ticks/s)", m.id),
        None => format!("machine {} (rate unknown)", m.id),
    }
}

/// At most about `max` of `points`, in order: the points are cut into `max / 2` runs of
/// consecutive points and each run keeps its lowest and highest point, so spikes survive.
pub fn thin(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max {
        return points.to_vec();
    }
    let chunk = points.len().div_ceil(max / 2);
    let mut kept = Vec::with_capacity(max + 1);
    for run in points.chunks(chunk) {
        let lo = run
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.1.total_cmp(&b.1.1));
        let hi = run
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.1.total_cmp(&b.1.1));
        if let (Some((i, &a)), Some((j, &b))) = (lo, hi) {
            match i.cmp(&j) {
                std::cmp::Ordering::Less => kept.extend([a, b]),
                std::cmp::Ordering::Greater => kept.extend([b, a]),
                std::cmp::Ordering::Equal => kept.push(a),
            }
        }
    }
    kept
}

/// How a line plot is drawn.
struct Style {
    /// Hold each value until the next point (a step function), instead of joining points.
    steps: bool,
    /// Start the y axis at 0 when every value is 0 or more.
    y_from_zero: bool,
    /// Where the legend goes.
    legend: SeriesLabelPosition,
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

/// An axis label: whole numbers without decimals, others with one.
fn tick(v: &f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// One line per machine of `series` (x, y points), with a legend.
fn lines(
    caption: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[(String, Vec<(f64, f64)>)],
    look: Style,
) -> Result<String, String> {
    let y_floor_zero = look.y_from_zero;
    let all = || series.iter().flat_map(|s| s.1.iter());
    let x_max = all().map(|p| p.0).fold(0.0f64, f64::max).max(0.001);
    let x_min = all().map(|p| p.0).fold(0.0f64, f64::min);
    let mut y_max = all().map(|p| p.1).fold(f64::MIN, f64::max);
    let mut y_min = all().map(|p| p.1).fold(f64::MAX, f64::min);
    if y_floor_zero {
        y_min = y_min.min(0.0);
    }
    if y_max < y_min {
        (y_min, y_max) = (0.0, 1.0);
    }
    let pad = ((y_max - y_min) * 0.05).max(0.5);
    let (y_lo, y_hi) = (
        if y_floor_zero && y_min >= 0.0 {
            0.0
        } else {
            y_min - pad
        },
        y_max + pad,
    );
    render(|root| {
        let mut chart = framed(root, caption).build_cartesian_2d(x_min..x_max, y_lo..y_hi)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .axis_desc_style((FONT, 15))
            .label_style((FONT, 13))
            .y_label_formatter(&tick)
            .x_label_formatter(&tick)
            .bold_line_style(RGBColor(225, 225, 225))
            .light_line_style(RGBColor(245, 245, 245))
            .draw()?;
        for (k, (name, points)) in series.iter().enumerate() {
            let thinned = thin(points, MAX_POINTS);
            let shown = if look.steps { steps(&thinned) } else { thinned };
            // Dense lines thinner, so that one machine does not hide another.
            let style = colour(k).stroke_width(if shown.len() > 400 { 1 } else { 2 });
            chart
                .draw_series(LineSeries::new(shown, style))?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], style));
        }
        chart
            .configure_series_labels()
            .position(look.legend.clone())
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(170, 170, 170))
            .draw()?;
        Ok(())
    })
}

fn trial_caption(what: &str, t: &TrialInput) -> String {
    format!("{what}, trial {}", t.trial)
}

fn rows_series(
    t: &TrialInput,
    y: impl Fn(&crate::core::event::Record) -> f64,
) -> Vec<(String, Vec<(f64, f64)>)> {
    t.machines
        .iter()
        .map(|m| {
            let points = m
                .records
                .iter()
                .map(|r| {
                    let s = (i128::from(r.system_time_us) - i128::from(t.start_us)) as f64 / 1e6;
                    (s, y(r))
                })
                .collect();
            (label(m), points)
        })
        .collect()
}

/// Plot 1: each machine's logical clock against system time, labelled with its rate.
pub fn clock_plot(t: &TrialInput) -> Result<String, String> {
    lines(
        &trial_caption("Logical clock against system time", t),
        "system time since the trial's start (s)",
        "logical clock (clock units)",
        &rows_series(t, |r| r.logical_clock as f64),
        Style {
            steps: false,
            y_from_zero: true,
            legend: SeriesLabelPosition::UpperLeft,
        },
    )
}

/// Plot 2: each machine's queue length against system time.
pub fn queue_plot(t: &TrialInput) -> Result<String, String> {
    lines(
        &trial_caption("Queue after each tick against system time", t),
        "system time since the trial's start (s)",
        "queue after the tick (messages)",
        &rows_series(t, |r| f64::from(r.queue_len)),
        Style {
            steps: true,
            y_from_zero: true,
            legend: SeriesLabelPosition::UpperLeft,
        },
    )
}

/// Plot 3: each machine's drift (its clock minus the largest) at each sampling instant.
pub fn drift_plot(t: &TrialInput, a: &TrialAnalysis) -> Result<String, String> {
    let series: Vec<(String, Vec<(f64, f64)>)> = t
        .machines
        .iter()
        .zip(&a.series.drift)
        .map(|(m, d)| {
            let points = a
                .series
                .times_s
                .iter()
                .zip(d)
                .map(|(&x, &y)| (x, y as f64))
                .collect();
            (label(m), points)
        })
        .collect();
    lines(
        &trial_caption("Drift: clock minus the largest clock, every 100 ms", t),
        "system time since the trial's start (s)",
        "drift (clock units; 0 = leading)",
        &series,
        Style {
            steps: true,
            y_from_zero: false,
            legend: SeriesLabelPosition::LowerLeft,
        },
    )
}

/// The bins of a jump histogram: `(first size, last size, count)`, at most `MAX_BINS` of equal
/// width covering 1 to the largest jump.
pub fn jump_bins(
    histogram: &std::collections::BTreeMap<u64, u64>,
    largest: u64,
) -> Vec<(u64, u64, u64)> {
    let width = largest.div_ceil(MAX_BINS).max(1);
    let bins = largest.div_ceil(width);
    (0..bins)
        .map(|b| {
            let (lo, hi) = (b * width + 1, (b + 1) * width);
            (lo, hi, histogram.range(lo..=hi).map(|(_, c)| c).sum())
        })
        .collect()
}

/// Plot 4: the histogram of each machine's jump sizes, bars side by side, counts on a log scale.
pub fn jump_plot(t: &TrialInput, a: &TrialAnalysis) -> Result<String, String> {
    let largest = a
        .machines
        .iter()
        .filter_map(|m| m.jump_histogram.keys().last())
        .max();
    let largest = largest.copied().unwrap_or(1).max(1);
    let per_machine: Vec<Vec<(u64, u64, u64)>> = a
        .machines
        .iter()
        .map(|m| jump_bins(&m.jump_histogram, largest))
        .collect();
    let width = per_machine
        .first()
        .and_then(|b| b.first())
        .map_or(1, |b| b.1 - b.0 + 1) as f64;
    let top = per_machine
        .iter()
        .flatten()
        .map(|b| b.2)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let n = a.machines.len().max(1) as f64;
    let caption = if width > 1.0 {
        trial_caption(&format!("Jump sizes, bins of {width}"), t)
    } else {
        trial_caption("Jump sizes: how much the clock rose at one event", t)
    };
    render(|root| {
        let mut chart = framed(root, &caption).build_cartesian_2d(
            0.5f64..largest as f64 + 0.5,
            (0.7f64..top * 2.0).log_scale(),
        )?;
        chart
            .configure_mesh()
            .x_desc("jump size (clock units)")
            .y_desc("events (log scale)")
            .axis_desc_style((FONT, 15))
            .label_style((FONT, 13))
            .x_labels(largest.min(MAX_BINS) as usize + 1)
            .x_label_formatter(&|x| {
                if x.fract() == 0.0 {
                    format!("{x:.0}")
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| format!("{y:.0}"))
            .bold_line_style(RGBColor(225, 225, 225))
            .light_line_style(RGBColor(245, 245, 245))
            .draw()?;
        for (k, (m, bins)) in t.machines.iter().zip(&per_machine).enumerate() {
            let style = colour(k).filled();
            let bars = bins.iter().filter(|b| b.2 > 0).map(move |&(lo, _, count)| {
                let left = lo as f64 - 0.5 + width * (0.1 + 0.8 * k as f64 / n);
                let right = left + width * 0.8 / n;
                Rectangle::new([(left, 0.7), (right, count as f64)], style)
            });
            chart
                .draw_series(bars)?
                .label(label(m))
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], style));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(170, 170, 170))
            .draw()?;
        Ok(())
    })
}

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

/// Plot 5: one bar per run, the mean over its trials, with a whisker from the smallest to the
/// largest trial; `labels` name the runs.
pub fn comparison_plot(
    caption: &str,
    y_desc: &str,
    labels: &[String],
    values: &[Option<Summary>],
) -> Result<String, String> {
    let top = values
        .iter()
        .flatten()
        .map(|s| s.max)
        .fold(0.0f64, f64::max);
    let y_hi = if top > 0.0 { top * 1.15 } else { 1.0 };
    let n = labels.len().max(1);
    let names: Vec<String> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let short: String = l.chars().take(30).collect();
            format!("{}. {short}", i + 1)
        })
        .collect();
    render(|root| {
        let mut chart =
            framed(root, caption).build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..y_hi)?;
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
            .x_desc("run (mean over its trials; whisker: smallest to largest trial)")
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
        for (k, v) in values.iter().enumerate() {
            let Some(s) = v else { continue };
            let x = k as f64;
            chart.draw_series([Rectangle::new(
                [(x - 0.3, 0.0), (x + 0.3, s.mean)],
                colour(k).filled(),
            )])?;
            let whisker = BLACK.stroke_width(2);
            chart.draw_series([
                PathElement::new(vec![(x, s.min), (x, s.max)], whisker),
                PathElement::new(vec![(x - 0.08, s.min), (x + 0.08, s.min)], whisker),
                PathElement::new(vec![(x - 0.08, s.max), (x + 0.08, s.max)], whisker),
            ])?;
        }
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
}
