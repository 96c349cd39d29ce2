//! The report printed on stdout: per run a trial table, per-machine tables (per trial for up to
//! [`MACHINE_TABLE_TRIALS`] trials, and averaged across trials), the problems, and for several
//! runs a side-by-side comparison. Every line fits in 100 columns.

use std::fmt::Write as _;

use super::table::{
    CLOCK_COLUMNS, Column, Fmt, Grid, QUEUE_COLUMNS, TIMING_COLUMNS, TRIAL_COLUMNS, format_summary,
    pick, pick_summary,
};
use crate::analysis::stats::{STATS, Summary};
use crate::analysis::{
    Figure, MachineFigure, MachineGroup, RunAnalysis, TrialAnalysis, TrialFigure,
};

/// Runs with at most this many trials get per-trial machine tables on stdout.
pub const MACHINE_TABLE_TRIALS: usize = 3;
/// The most trial rows printed; the others are in the summaries.
pub const TRIAL_ROWS: usize = 20;
/// How many runs the comparison puts side by side per block.
const COMPARE_PER_BLOCK: usize = 3;
const COMPARE_NAME: usize = 20;
/// A cell's text, without the space before it.
const COMPARE_CELL: usize = 25;

/// "complete" or "INCOMPLETE".
pub fn status(t: &TrialAnalysis) -> &'static str {
    if t.complete() {
        "complete"
    } else {
        "INCOMPLETE"
    }
}

/// The trial table: one row per trial, then mean, std, min and max across trials when several.
pub fn trial_grid(r: &RunAnalysis, max_rows: usize) -> Grid<TrialFigure> {
    let mut rows: Vec<(String, Vec<Option<f64>>, String)> = r
        .trials
        .iter()
        .take(max_rows)
        .map(|t| {
            (
                t.trial.to_string(),
                pick(&t.figures(), &TRIAL_COLUMNS),
                status(t).to_owned(),
            )
        })
        .collect();
    if r.trials.len() > 1 {
        rows.extend(stat_rows(&r.overall, &TRIAL_COLUMNS, ""));
    }
    Grid {
        key: "trial",
        key_width: 7,
        columns: &TRIAL_COLUMNS,
        note: "status",
        rows,
    }
}

/// Rows `mean`, `std`, `min`, `max` (keys prefixed with `prefix`) of figures across trials.
pub fn stat_rows<K: Figure>(
    figures: &K::Set<Option<Summary>>,
    columns: &[Column<K>],
    prefix: &str,
) -> Vec<(String, Vec<Option<f64>>, String)> {
    STATS[1..]
        .iter()
        .map(|(name, get)| {
            (
                format!("{prefix}{name}"),
                pick_summary(figures, columns, *get),
                String::new(),
            )
        })
        .collect()
}

/// A machine table of one trial.
pub fn machine_grid(
    t: &TrialAnalysis,
    columns: &'static [Column<MachineFigure>],
) -> Grid<MachineFigure> {
    let rows = t
        .machines
        .iter()
        .map(|m| (m.id.to_string(), pick(&m.figures(), columns), String::new()))
        .collect();
    Grid {
        key: "id",
        key_width: 5,
        columns,
        note: "",
        rows,
    }
}

/// A machine group's key in the tables across trials: the machine's id, and when some machine
/// ran at several rates ([`RunAnalysis::rates_differ`]), its rate too: `1@2` (`1@?` for trials
/// that record no rate).
pub fn group_key(r: &RunAnalysis, g: &MachineGroup) -> String {
    if !r.rates_differ() {
        return g.id.to_string();
    }
    let rate = g.rate.map_or_else(|| "?".to_owned(), |v| v.to_string());
    format!("{}@{rate}", g.id)
}

/// A machine table of means across trials: one row per machine and rate ([`group_key`]; how many
/// trials each counts is [`trials_per_row`]).
pub fn machine_mean_grid(
    r: &RunAnalysis,
    columns: &'static [Column<MachineFigure>],
) -> Grid<MachineFigure> {
    let rows = r
        .machines
        .iter()
        .map(|g| {
            (
                group_key(r, g),
                pick_summary(&g.figures, columns, |s| Some(s.mean)),
                String::new(),
            )
        })
        .collect();
    // `1@3` fits the key's 5 columns: random rates are whole numbers up to 6 (the lines keep to
    // 100 columns).
    Grid {
        key: if r.rates_differ() { "id@r" } else { "id" },
        key_width: 5,
        columns,
        note: "",
        rows,
    }
}

/// How many trials each row of the machine tables across trials counts, when rates differ
/// (`trials per row: 1@2 5, 1@3 3, ...`, wrapped to lines of at most 100 columns, each indented
/// by two spaces); `None` when every machine kept its rate, and every row counts every trial.
pub fn trials_per_row(r: &RunAnalysis) -> Option<String> {
    if !r.rates_differ() {
        return None;
    }
    let mut out = String::from("  trials per row:");
    let mut width = out.len();
    for (k, g) in r.machines.iter().enumerate() {
        let sep = if k + 1 < r.machines.len() { "," } else { "" };
        let item = format!(" {} {}{sep}", group_key(r, g), g.trials.len());
        if width + item.len() > 100 {
            out.push_str("\n   ");
            width = 3;
        }
        width += item.len();
        out.push_str(&item);
    }
    out.push('\n');
    Some(out)
}

/// What the figures across trials count when rates differ between trials: the machine tables
/// group them by rate, the trial figures mix them (two lines, the second indented by two spaces
/// for the terminal). `None` when every machine kept its rate.
pub fn rates_note(r: &RunAnalysis) -> Option<&'static str> {
    r.rates_differ().then_some(
        "rates differ between trials: the trial figures across trials (mean, std, min, max)\n  \
         mix them; the machine figures are grouped by machine and rate (id@r: machine id at r/s)",
    )
}

/// Which trials the figures across trials count, when some are incomplete: e.g. `2 of 10 trials
/// incomplete, left out of the figures across trials; --include-incomplete counts them`. `None`
/// when every trial is complete or there is a single trial.
pub fn counted_note(r: &RunAnalysis) -> Option<String> {
    let k = r.trials.len();
    let incomplete = r.trials.iter().filter(|t| !t.complete()).count();
    if k < 2 || incomplete == 0 {
        return None;
    }
    Some(if r.left_out.is_empty() {
        format!(
            "{incomplete} of {k} trials incomplete, counted in the figures across trials \
             (--include-incomplete)"
        )
    } else {
        format!(
            "{incomplete} of {k} trials incomplete, left out of the figures across trials; \
             --include-incomplete counts them"
        )
    })
}

/// The rates of a trial's machines, `3/4/5`.
pub fn rates(t: &TrialAnalysis) -> String {
    let rates: Vec<String> = t
        .machines
        .iter()
        .map(|m| m.rate.map_or_else(|| "?".to_owned(), |r| r.to_string()))
        .collect();
    rates.join("/")
}

/// The whole stdout report.
pub fn text(runs: &[RunAnalysis]) -> String {
    let mut out = String::new();
    for (i, r) in runs.iter().enumerate() {
        run_text(&mut out, i + 1, r);
    }
    if runs.len() > 1 {
        comparison_text(&mut out, runs);
    }
    out
}

fn run_text(out: &mut String, number: usize, r: &RunAnalysis) {
    let k = r.trials.len();
    let _ = writeln!(out, "run {number}: {}  ({})", r.label, r.scenario);
    let _ = writeln!(out, "  dir {}", r.dir);
    let params: Vec<String> = r
        .parameters
        .iter()
        .filter(|(name, _)| ["master seed", "duration (s)", "trials"].contains(&name.as_str()))
        .map(|(name, v)| format!("{name} {v}"))
        .collect();
    if !params.is_empty() {
        let _ = writeln!(out, "  {}", params.join("; "));
    }
    let _ = writeln!(
        out,
        "\n  trials (clk: clock units; drift: how far a clock is behind the largest, sampled every \
         100 ms;\n  a trial's drift is its trailing machine's)\n  \
         queue peak: right after a message arrived (summaries); tick max: the logged queue after a \
         tick;\n  growth/min: of the queue after each tick, messages per minute"
    );
    out.push_str(&trial_grid(r, TRIAL_ROWS).text(2));
    if k > TRIAL_ROWS {
        let _ = writeln!(
            out,
            "  ... {} more trials in summary-trials.csv",
            k - TRIAL_ROWS
        );
    }
    if let Some(note) = rates_note(r) {
        let _ = writeln!(out, "  {note}");
    }
    if k <= MACHINE_TABLE_TRIALS {
        for t in &r.trials {
            let seed = t
                .seed
                .map_or_else(|| "unknown".to_owned(), |s| s.to_string());
            let _ = writeln!(
                out,
                "\n  trial {}: seed {seed}, rates {} ticks/s, {}",
                t.trial,
                rates(t),
                status(t)
            );
            out.push_str(&machine_grid(t, &CLOCK_COLUMNS).text(2));
            out.push_str(&machine_grid(t, &QUEUE_COLUMNS).text(2));
            out.push_str(&machine_grid(t, &TIMING_COLUMNS).text(2));
            out.push_str(&super::weather::text(t));
        }
    } else {
        let _ = writeln!(
            out,
            "\n  per-trial machine tables: in report.html (first trials) and summary.csv"
        );
        if r.trials.iter().any(|t| !t.plan.is_empty()) {
            let _ = writeln!(out, "  per-trial weather: in report.html and weather.csv");
        }
    }
    if let Some(note) = counted_note(r) {
        let _ = writeln!(out, "  {note}");
    }
    if k > 1 {
        let counted = k - r.left_out.len();
        let per = if r.rates_differ() {
            "per machine and rate, mean over its trials"
        } else {
            "per machine, mean over the trials"
        };
        let _ = writeln!(
            out,
            "\n  {per} ({counted} counted; all statistics: summary-stats.csv)"
        );
        out.push_str(&machine_mean_grid(r, &CLOCK_COLUMNS).text(2));
        out.push_str(&machine_mean_grid(r, &QUEUE_COLUMNS).text(2));
        if let Some(counts) = trials_per_row(r) {
            out.push_str(&counts);
        }
    }
    let problems = r.problems();
    if !problems.is_empty() {
        let _ = writeln!(out, "\n  INCOMPLETE data ({} problems):", problems.len());
        for p in problems.iter().take(TRIAL_ROWS) {
            let _ = writeln!(out, "    {p}");
        }
        if problems.len() > TRIAL_ROWS {
            let _ = writeln!(
                out,
                "    ... {} more in summary.json",
                problems.len() - TRIAL_ROWS
            );
        }
    }
    out.push('\n');
}

/// The trial figures compared across runs: name, figure and format.
pub const COMPARED: [(&str, TrialFigure, Fmt); 15] = [
    ("events", TrialFigure::Events, Fmt::Int),
    ("final clock, largest", TrialFigure::FinalClockMax, Fmt::Int),
    ("jump max", TrialFigure::JumpMax, Fmt::Int),
    ("jump mean", TrialFigure::JumpMean, Fmt::Dec(3)),
    ("jump p99", TrialFigure::JumpP99, Fmt::Int),
    ("queue peak", TrialFigure::QueuePeak, Fmt::Int),
    (
        "queue after tick max",
        TrialFigure::QueueAfterTickMax,
        Fmt::Int,
    ),
    (
        "queue growth per min",
        TrialFigure::QueueAfterTickGrowthMaxPerMin,
        Fmt::Dec(2),
    ),
    ("drift max (clk)", TrialFigure::DriftMax, Fmt::Int),
    ("drift mean (clk)", TrialFigure::DriftMean, Fmt::Dec(1)),
    ("drift final (clk)", TrialFigure::DriftFinal, Fmt::Int),
    ("latency p50 (ms)", TrialFigure::LatencyMsP50, Fmt::Dec(1)),
    ("latency p95 (ms)", TrialFigure::LatencyMsP95, Fmt::Dec(1)),
    ("latency max (ms)", TrialFigure::LatencyMsMax, Fmt::Dec(1)),
    ("wait p95 (ticks)", TrialFigure::WaitTicksP95, Fmt::Int),
];

/// The comparison as rows of text cells: the row's name, then one cell per run (mean ±std over
/// its trials).
pub fn comparison_rows(runs: &[RunAnalysis]) -> Vec<(String, Vec<String>)> {
    let mut rows = vec![
        (
            "run".to_owned(),
            runs.iter().map(|r| r.label.clone()).collect(),
        ),
        (
            "scenario".to_owned(),
            runs.iter().map(|r| r.scenario.clone()).collect(),
        ),
        (
            "trials complete".to_owned(),
            runs.iter()
                .map(|r| {
                    let done = r.trials.iter().filter(|t| t.complete()).count();
                    format!("{done} of {}", r.trials.len())
                })
                .collect(),
        ),
    ];
    for (name, figure, fmt) in COMPARED {
        let cells = runs
            .iter()
            .map(|r| {
                let s = *r.overall.get(figure);
                format_summary(s, fmt)
            })
            .collect();
        rows.push((name.to_owned(), cells));
    }
    rows
}

fn comparison_text(out: &mut String, runs: &[RunAnalysis]) {
    let _ = writeln!(
        out,
        "comparison of {} runs: mean over each run's trials, ±std when several",
        runs.len()
    );
    let rows = comparison_rows(runs);
    for first in (0..runs.len()).step_by(COMPARE_PER_BLOCK) {
        let last = (first + COMPARE_PER_BLOCK).min(runs.len());
        let mut head = format!("  {:<w$}", "", w = COMPARE_NAME);
        for k in first..last {
            let _ = write!(head, " {:>w$}", format!("run {}", k + 1), w = COMPARE_CELL);
        }
        let _ = writeln!(out, "{}", head.trim_end());
        for (name, cells) in &rows {
            let mut line = format!("  {name:<w$}", w = COMPARE_NAME);
            for cell in &cells[first..last] {
                // Long labels keep their end, where run directories differ.
                let chars: Vec<char> = cell.chars().collect();
                let room = COMPARE_CELL;
                let shown: String = if chars.len() > room {
                    std::iter::once('~')
                        .chain(chars[chars.len() - room + 1..].iter().copied())
                        .collect()
                } else {
                    cell.clone()
                };
                let _ = write!(line, " {shown:>w$}", w = COMPARE_CELL);
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        out.push('\n');
    }
}
