//! The plots of one trial: clock, clock minus ticks, queue, drift and jump sizes.

use plotters::prelude::*;

use super::{
    FONT, Line, MAX_BINS, PlotError, Style, Thinning, colour, draw_legend, framed, label, lines,
    render, shades,
};
use crate::analysis::{TrialAnalysis, TrialInput};
use crate::core::event::Record;

fn trial_caption(what: &str, t: &TrialInput) -> String {
    format!("{what}, trial {}", t.trial)
}

/// Seconds from the trial's start to `t_us`.
fn since(start_us: u64, t_us: u64) -> f64 {
    (i128::from(t_us) - i128::from(start_us)) as f64 / 1e6
}

/// The lines the rows of a trial draw, one per machine in each: its clock, its clock minus its
/// own ticks, its queue after each tick, each against the row's time.
#[derive(Clone, Debug, PartialEq)]
pub struct RowLines {
    /// The logical clocks.
    pub clock: Vec<Line>,
    /// The clocks minus the rows so far.
    pub lag: Vec<Line>,
    /// The queues after each tick.
    pub queue: Vec<Line>,
}

/// [`RowLines`] as the rows go by, each machine's in log order: thinned as they come, so that
/// what is held is about 2,000 points per line whatever the rows.
#[derive(Clone, Debug)]
pub struct RowThinning {
    start_us: u64,
    /// Per machine: clock, lag and queue.
    lines: Vec<[Thinning; 3]>,
}

impl RowThinning {
    /// The lines of the machines of `head` (whose rows need not be there), the `i`-th machine
    /// having `rows[i]` rows.
    pub fn new(head: &TrialInput, rows: &[usize]) -> RowThinning {
        let lines = head
            .machines
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let n = rows.get(i).copied().unwrap_or(0);
                [(); 3].map(|()| Thinning::new(label(m), n))
            })
            .collect();
        RowThinning {
            start_us: head.start_us,
            lines,
        }
    }

    /// Row `index` (from 0) of the `machine`-th machine: the next of its log.
    pub fn push(&mut self, machine: usize, index: usize, r: &Record) {
        let Some([clock, lag, queue]) = self.lines.get_mut(machine) else {
            return;
        };
        let s = since(self.start_us, r.system_time_us);
        clock.push((s, r.logical_clock as f64));
        lag.push((s, r.logical_clock as f64 - (index + 1) as f64));
        queue.push((s, f64::from(r.queue_len)));
    }

    /// The lines, once every row went by.
    pub fn finish(self) -> RowLines {
        let mut out = RowLines {
            clock: Vec::new(),
            lag: Vec::new(),
            queue: Vec::new(),
        };
        for [clock, lag, queue] in self.lines {
            out.clock.push(clock.finish());
            out.lag.push(lag.finish());
            out.queue.push(queue.finish());
        }
        out
    }
}

impl RowLines {
    /// The lines of every row of `t`.
    pub fn of(t: &TrialInput) -> RowLines {
        let rows: Vec<usize> = t.machines.iter().map(|m| m.records.len()).collect();
        let mut thinning = RowThinning::new(t, &rows);
        for (i, m) in t.machines.iter().enumerate() {
            for (k, r) in m.records.iter().enumerate() {
                thinning.push(i, k, r);
            }
        }
        thinning.finish()
    }
}

/// How the three plots of the rows are drawn: steps from 0, the legend at the upper left, the
/// trial's fault windows shaded.
fn row_style(t: &TrialInput) -> Style {
    Style {
        steps: true,
        y_from_zero: true,
        legend: SeriesLabelPosition::UpperLeft,
        shades: shades(t),
    }
}

/// Plot 1: each machine's logical clock against system time, labelled with its rate, as steps:
/// the clock holds its value between events, so a jump is a vertical rise.
pub fn clock_plot(t: &TrialInput) -> Result<String, PlotError> {
    clock_plot_of(t, &RowLines::of(t).clock)
}

/// [`clock_plot`] of the trial `head` (its rows need not be there) from its [`RowLines`]' clocks.
pub fn clock_plot_of(head: &TrialInput, clock: &[Line]) -> Result<String, PlotError> {
    lines(
        &trial_caption("Logical clock against system time", head),
        "system time since the trial's start (s)",
        "logical clock (clock units)",
        clock,
        row_style(head),
    )
}

/// Plot 1b: each machine's clock minus its own tick count, against system time. A machine that
/// only counted its own ticks would stay at 0; every rise is a receive that jumped the clock, by
/// the jump size minus one.
pub fn lag_plot(t: &TrialInput) -> Result<String, PlotError> {
    lag_plot_of(t, &RowLines::of(t).lag)
}

/// [`lag_plot`] of the trial `head` from its [`RowLines`]' lags.
pub fn lag_plot_of(head: &TrialInput, lag: &[Line]) -> Result<String, PlotError> {
    lines(
        &trial_caption("Clock minus own ticks: what the jumps added", head),
        "system time since the trial's start (s)",
        "clock − ticks so far (clock units)",
        lag,
        row_style(head),
    )
}

/// Plot 2: each machine's queue length against system time.
pub fn queue_plot(t: &TrialInput) -> Result<String, PlotError> {
    queue_plot_of(t, &RowLines::of(t).queue)
}

/// [`queue_plot`] of the trial `head` from its [`RowLines`]' queues.
pub fn queue_plot_of(head: &TrialInput, queue: &[Line]) -> Result<String, PlotError> {
    lines(
        &trial_caption("Queue after each tick against system time", head),
        "system time since the trial's start (s)",
        "queue after the tick (messages)",
        queue,
        row_style(head),
    )
}

/// Plot 3: each machine's drift (its clock minus the largest) at each sampling instant.
pub fn drift_plot(t: &TrialInput, a: &TrialAnalysis) -> Result<String, PlotError> {
    let series: Vec<Line> = t
        .machines
        .iter()
        .zip(&a.series.drift)
        .map(|(m, d)| {
            let points: Vec<(f64, f64)> = a
                .series
                .times_s
                .iter()
                .zip(d)
                .map(|(&x, &y)| (x, y as f64))
                .collect();
            Line::of(label(m), &points)
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
            shades: Vec::new(),
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
pub fn jump_plot(t: &TrialInput, a: &TrialAnalysis) -> Result<String, PlotError> {
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
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests;
