//! The analysis rendered: tables for the terminal, `report.html`, `summary.json`, `summary.csv` and
//! one `.svg` per plot. Rendering is pure (each submodule turns figures into text); the `analyze`
//! subcommand (`cli::analyze`) reads, prints and writes.

pub mod causality;
pub mod export;
pub mod html;
pub mod plots;
pub mod spacetime;
pub mod summary;
pub mod table;
pub mod text;

use crate::analysis::{RunAnalysis, RunInput, summary_of};

/// Plots (clock, queue, drift, jumps) are drawn for at most this many trials of a run.
pub const PLOTTED_TRIALS: usize = 5;
/// The report's file name.
pub const REPORT_FILE: &str = "report.html";
/// The JSON summary's file name.
pub const JSON_FILE: &str = "summary.json";
/// The CSV summary's file name.
pub const CSV_FILE: &str = "summary.csv";

/// One plot: the file it is written to, its caption, and its SVG text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plot {
    /// The file name, in the output directory.
    pub file: String,
    /// What it shows.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// A run's plots, per trial number.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunPlots {
    /// The plotted trials, in trial order.
    pub trials: Vec<TrialPlots>,
}

/// One trial's plots.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrialPlots {
    /// The trial's number.
    pub trial: u32,
    /// Its four plots: clock, queue, drift and jumps.
    pub plots: Vec<Plot>,
}

/// The plots of every run (the first [`PLOTTED_TRIALS`] trials of each) and, for several runs,
/// the comparison plots. File names are `trial-<k>-<kind>.svg`, prefixed `run-<i>-` when there
/// are several runs, and `compare-<kind>.svg`.
pub fn make_plots(
    inputs: &[RunInput],
    runs: &[RunAnalysis],
) -> Result<(Vec<RunPlots>, Vec<Plot>), String> {
    let mut all = Vec::new();
    for (i, (input, run)) in inputs.iter().zip(runs).enumerate() {
        let prefix = if runs.len() > 1 {
            format!("run-{}-", i + 1)
        } else {
            String::new()
        };
        let mut run_plots = RunPlots::default();
        for (t, a) in input.trials.iter().zip(&run.trials).take(PLOTTED_TRIALS) {
            let name = |kind: &str| format!("{prefix}trial-{}-{kind}.svg", t.trial);
            let plot = |kind: &str, title: &str, svg: String| Plot {
                file: name(kind),
                title: title.to_owned(),
                svg,
            };
            let trial_plots = vec![
                plot(
                    "clock",
                    "Logical clock against system time",
                    plots::clock_plot(t)?,
                ),
                plot(
                    "queue",
                    "Queue length against system time",
                    plots::queue_plot(t)?,
                ),
                plot(
                    "drift",
                    "Drift against system time",
                    plots::drift_plot(t, a)?,
                ),
                plot("jumps", "Histogram of jump sizes", plots::jump_plot(t, a)?),
            ];
            run_plots.trials.push(TrialPlots {
                trial: t.trial,
                plots: trial_plots,
            });
        }
        all.push(run_plots);
    }
    let mut comparison = Vec::new();
    if runs.len() > 1 {
        let labels: Vec<String> = runs.iter().map(|r| r.label.clone()).collect();
        let overall = |figure: &str| -> Vec<_> {
            runs.iter()
                .map(|r| summary_of(&r.overall, figure).copied())
                .collect()
        };
        for (kind, figure, title, y) in [
            (
                "drift",
                "spread_max",
                "Largest drift per run: spread max",
                "spread max (clock units)",
            ),
            (
                "queue",
                "queue_max",
                "Longest queue per run",
                "queue max (messages)",
            ),
        ] {
            comparison.push(Plot {
                file: format!("compare-{kind}.svg"),
                title: title.to_owned(),
                svg: plots::comparison_plot(title, y, &labels, &overall(figure))?,
            });
        }
    }
    Ok((all, comparison))
}

/// Makes run labels unique by appending ` (2)`, ` (3)`, ... to repeats.
pub fn unique_labels(inputs: &mut [RunInput]) {
    let mut seen: Vec<String> = Vec::new();
    for input in inputs {
        let base = input.label.clone();
        let mut k = 1;
        while seen.contains(&input.label) {
            k += 1;
            input.label = format!("{base} ({k})");
        }
        seen.push(input.label.clone());
    }
}
