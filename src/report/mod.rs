//! The analysis rendered: tables for the terminal, `report.html`, `summary.json`, `summary.csv` and
//! one `.svg` per plot. Rendering is pure (each submodule turns figures into text); the `analyze`
//! subcommand (`cli::analyze`) reads, prints and writes.

pub mod causality;
pub mod data;
pub mod export;
pub mod glossary;
pub mod html;
pub mod interactive;
pub mod live;
pub mod plots;
pub mod replay;
pub mod sketch;
pub mod spacetime;
pub mod summary;
pub mod sweep;
pub mod table;
pub mod text;
pub mod weather;
pub mod weather_study;

use crate::analysis::{
    Figure, MachineFigure, RunAnalysis, RunInput, TrialAnalysis, TrialFigure, TrialInput,
};
use plots::PlotError;

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

/// A run's plots, per trial number, and across its trials.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunPlots {
    /// The plotted trials, in trial order.
    pub trials: Vec<TrialPlots>,
    /// With two trials or more counted: the distributions across them, one plot per figure.
    pub across: Vec<Plot>,
}

impl RunPlots {
    /// Every plot of the run: each trial's, then those across trials.
    pub fn all(&self) -> impl Iterator<Item = &Plot> {
        self.trials
            .iter()
            .flat_map(|t| &t.plots)
            .chain(&self.across)
    }
}

/// The per-machine figures whose distributions across trials a report draws, with their titles
/// and axes.
pub const DISTRIBUTED_FIGURES: [(MachineFigure, &str, &str); 4] = [
    (
        MachineFigure::JumpMax,
        "Largest jump",
        "largest jump (clock units)",
    ),
    (
        MachineFigure::QueuePeak,
        "Queue peak",
        "queue peak (messages)",
    ),
    (
        MachineFigure::DriftMax,
        "Largest drift behind the leader",
        "drift max (clock units)",
    ),
    (
        MachineFigure::FinalClock,
        "Final clock",
        "final clock (clock units)",
    ),
];

/// The trials of `run` its figures across trials count.
fn counted(run: &RunAnalysis) -> impl Iterator<Item = &crate::analysis::TrialAnalysis> {
    run.trials
        .iter()
        .filter(|t| !run.left_out.contains(&t.trial))
}

/// The distributions across `run`'s counted trials of each of [`DISTRIBUTED_FIGURES`], per
/// machine; none with fewer than two counted trials. Files `<prefix>across-<figure>.svg`.
pub fn across_plots(run: &RunAnalysis, prefix: &str) -> Result<Vec<Plot>, PlotError> {
    if counted(run).count() < 2 {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (figure, title, y) in DISTRIBUTED_FIGURES {
        // One box per machine and rate, as the tables across trials group them.
        let groups: Vec<(String, Vec<f64>)> = run
            .machines
            .iter()
            .map(|g| {
                let values = counted(run)
                    .filter(|t| g.trials.contains(&t.trial))
                    .filter_map(|t| t.machines.iter().find(|m| m.id == g.id))
                    .filter_map(|m| *m.figures().get(figure))
                    .collect();
                (format!("machine {}", text::group_key(run, g)), values)
            })
            .collect();
        if groups.iter().all(|g| g.1.is_empty()) {
            continue;
        }
        let caption = format!("{title} across {} trials", counted(run).count());
        out.push(Plot {
            file: format!("{prefix}across-{}.svg", figure.name()),
            title: caption.clone(),
            svg: plots::distribution_plot(
                &caption,
                "machine (box: quartiles and median; whiskers: smallest to largest; dots: trials)",
                y,
                &groups,
            )?,
        });
    }
    Ok(out)
}

/// One trial's plots.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrialPlots {
    /// The trial's number.
    pub trial: u32,
    /// Its four plots: clock, queue, drift and jumps.
    pub plots: Vec<Plot>,
    /// Its interactive space-time diagram for `report.html` ([`interactive`]), empty if none.
    pub interactive: String,
}

/// The prefix of the files of the `i`-th run (from 0) of `runs` runs: none for one run,
/// `run-<i+1>-` for several.
pub fn run_prefix(i: usize, runs: usize) -> String {
    if runs > 1 {
        format!("run-{}-", i + 1)
    } else {
        String::new()
    }
}

/// The plots of every run (the first [`PLOTTED_TRIALS`] trials of each) and, for several runs,
/// the comparison plots. File names are `trial-<k>-<kind>.svg`, prefixed `run-<i>-` when there
/// are several runs, and `compare-<kind>.svg`. [`trial_plots`], [`across_plots`] and
/// [`comparison_plots`] make the same plots a trial at a time.
pub fn make_plots(
    inputs: &[RunInput],
    runs: &[RunAnalysis],
) -> Result<(Vec<RunPlots>, Vec<Plot>), PlotError> {
    let mut all = Vec::new();
    for (i, (input, run)) in inputs.iter().zip(runs).enumerate() {
        let prefix = run_prefix(i, runs.len());
        let mut run_plots = RunPlots::default();
        for (t, a) in input.trials.iter().zip(&run.trials).take(PLOTTED_TRIALS) {
            run_plots.trials.push(trial_plots(t, a, &prefix)?);
        }
        run_plots.across = across_plots(run, &prefix)?;
        all.push(run_plots);
    }
    Ok((all, comparison_plots(runs)?))
}

/// One trial's five plots (clock, lag, queue, drift and jumps; no diagram yet), from its rows
/// and figures, files prefixed `prefix` ([`run_prefix`]): its rows replayed through a
/// [`Sketch`](sketch::Sketch).
pub fn trial_plots(
    t: &TrialInput,
    a: &TrialAnalysis,
    prefix: &str,
) -> Result<TrialPlots, PlotError> {
    sketch::draw_trial(t, a, None, None, 1, prefix).map(|(plots, _)| plots)
}

/// With several runs, the comparison plots (`compare-<kind>.svg`): each run's value of a trial
/// figure in each of its counted trials; none for one run.
pub fn comparison_plots(runs: &[RunAnalysis]) -> Result<Vec<Plot>, PlotError> {
    let mut comparison = Vec::new();
    if runs.len() > 1 {
        // Each run's value in each of its counted trials: every value, not a mean bar.
        let per_trial = |figure: TrialFigure| -> Vec<(String, Vec<f64>)> {
            runs.iter()
                .enumerate()
                .map(|(i, r)| {
                    let values = counted(r)
                        .filter_map(|t| *t.figures().get(figure))
                        .collect();
                    (format!("{}. {}", i + 1, r.label), values)
                })
                .collect()
        };
        for (kind, figure, title, y) in [
            (
                "drift",
                TrialFigure::DriftMax,
                "Largest drift per trial",
                "drift max (clock units)",
            ),
            (
                "queue",
                TrialFigure::QueueAfterTickMax,
                "Longest queue after a tick, per trial",
                "queue after tick max (messages)",
            ),
            (
                "jump",
                TrialFigure::JumpMax,
                "Largest jump per trial",
                "largest jump (clock units)",
            ),
        ] {
            comparison.push(Plot {
                file: format!("compare-{kind}.svg"),
                title: title.to_owned(),
                svg: plots::distribution_plot(
                    title,
                    "run (box: quartiles and median; whiskers: smallest to largest; dots: trials)",
                    y,
                    &per_trial(figure),
                )?,
            });
        }
    }
    Ok(comparison)
}

/// Makes run labels unique by appending ` (2)`, ` (3)`, ... to repeats.
pub fn unique_labels(inputs: &mut [RunInput]) {
    let mut labels: Vec<String> = inputs.iter().map(|i| i.label.clone()).collect();
    unique(&mut labels);
    for (input, label) in inputs.iter_mut().zip(labels) {
        input.label = label;
    }
}

/// Makes `labels` unique by appending ` (2)`, ` (3)`, ... to repeats, as [`unique_labels`].
pub fn unique(labels: &mut [String]) {
    let mut seen: Vec<String> = Vec::new();
    for label in labels {
        let base = label.clone();
        let mut k = 1;
        while seen.contains(label) {
            k += 1;
            *label = format!("{base} ({k})");
        }
        seen.push(label.clone());
    }
}
