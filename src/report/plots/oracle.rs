//! The trial plots as they were drawn before the [`Sketch`](crate::report::sketch::Sketch)
//! (2026-12-06): every row's point, thinned as the line is drawn. Kept as the oracle that the
//! sketch's plots are tested against, byte for byte.

use plotters::prelude::*;

use super::*;
use crate::analysis::{TrialAnalysis, TrialInput};
use crate::report::{Plot, TrialPlots};

/// At most about `max` of `points`, in order: the points are cut into `max / 2` runs of
/// consecutive points and each run keeps its lowest and highest point, so spikes survive.
fn thin(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
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

/// One line per machine of `series` (x, y points), with a legend.
fn lines_old(
    caption: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[(String, Vec<(f64, f64)>)],
    look: Style,
) -> Result<String, PlotError> {
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
        for (k, (name, points)) in series.iter().enumerate() {
            let thinned = thin(points, MAX_POINTS);
            let shown = if look.steps { steps(&thinned) } else { thinned };
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
                .label(name.as_str())
                .legend(move |(x, y)| dash.legend_sample((x, y), style));
        }
        shade::legend(&mut chart, &look.shades)?;
        draw_legend(&mut chart, look.legend.clone())?;
        Ok(())
    })
}

fn trial_caption(what: &str, t: &TrialInput) -> String {
    format!("{what}, trial {}", t.trial)
}

/// One series per machine: `y(k, row)` of its `k`-th row (from 0) against the row's time.
fn rows_series(
    t: &TrialInput,
    y: impl Fn(usize, &crate::core::event::Record) -> f64,
) -> Vec<(String, Vec<(f64, f64)>)> {
    t.machines
        .iter()
        .map(|m| {
            let points = m
                .records
                .iter()
                .enumerate()
                .map(|(k, r)| {
                    let s = (i128::from(r.system_time_us) - i128::from(t.start_us)) as f64 / 1e6;
                    (s, y(k, r))
                })
                .collect();
            (label(m), points)
        })
        .collect()
}

/// Plot 1: each machine's logical clock against system time, labelled with its rate, as steps:
/// the clock holds its value between events, so a jump is a vertical rise.
fn clock_plot(t: &TrialInput) -> Result<String, PlotError> {
    lines_old(
        &trial_caption("Logical clock against system time", t),
        "system time since the trial's start (s)",
        "logical clock (clock units)",
        &rows_series(t, |_, r| r.logical_clock as f64),
        Style {
            steps: true,
            y_from_zero: true,
            legend: SeriesLabelPosition::UpperLeft,
            shades: shades(t),
        },
    )
}

/// Plot 1b: each machine's clock minus its own tick count, against system time. A machine that
/// only counted its own ticks would stay at 0; every rise is a receive that jumped the clock, by
/// the jump size minus one.
fn lag_plot(t: &TrialInput) -> Result<String, PlotError> {
    lines_old(
        &trial_caption("Clock minus own ticks: what the jumps added", t),
        "system time since the trial's start (s)",
        "clock − ticks so far (clock units)",
        &rows_series(t, |k, r| r.logical_clock as f64 - (k + 1) as f64),
        Style {
            steps: true,
            y_from_zero: true,
            legend: SeriesLabelPosition::UpperLeft,
            shades: shades(t),
        },
    )
}

/// Plot 2: each machine's queue length against system time.
fn queue_plot(t: &TrialInput) -> Result<String, PlotError> {
    lines_old(
        &trial_caption("Queue after each tick against system time", t),
        "system time since the trial's start (s)",
        "queue after the tick (messages)",
        &rows_series(t, |_, r| f64::from(r.queue_len)),
        Style {
            steps: true,
            y_from_zero: true,
            legend: SeriesLabelPosition::UpperLeft,
            shades: shades(t),
        },
    )
}

/// Plot 3: each machine's drift (its clock minus the largest) at each sampling instant.
fn drift_plot(t: &TrialInput, a: &TrialAnalysis) -> Result<String, PlotError> {
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
    lines_old(
        &trial_caption("Drift: clock minus the largest clock, every 100 ms", t),
        "system time since the trial's start (s)",
        "drift (clock units; 0 = leading)",
        &series,
        Style {
            steps: true,
            y_from_zero: false,
            legend: SeriesLabelPosition::LowerLeft,
            shades: Vec::new(),
        },
    )
}

/// `report::trial_plots` as it was: the five plots of trial `t`.
pub(crate) fn trial_plots(
    t: &TrialInput,
    a: &TrialAnalysis,
    prefix: &str,
) -> Result<TrialPlots, PlotError> {
    let name = |kind: &str| format!("{prefix}trial-{}-{kind}.svg", t.trial);
    let plot = |kind: &str, title: &str, svg: String| Plot {
        file: name(kind),
        title: title.to_owned(),
        svg,
    };
    let plots = vec![
        plot("clock", "Logical clock against system time", clock_plot(t)?),
        plot(
            "lag",
            "Clock minus own ticks: what the jumps added",
            lag_plot(t)?,
        ),
        plot(
            "queue",
            "Queue after each tick against system time",
            queue_plot(t)?,
        ),
        plot("drift", "Drift against system time", drift_plot(t, a)?),
        plot("jumps", "Histogram of jump sizes", jump_plot(t, a)?),
    ];
    Ok(TrialPlots {
        trial: t.trial,
        plots,
        interactive: String::new(),
    })
}
