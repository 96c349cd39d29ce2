//! `report.html`: one self-contained page (inline CSS, SVG, data and one script, nothing fetched)
//! with each run's parameters, its tables and its plots, each plotted trial's interactive
//! space-time diagram ([`interactive`](super::interactive)), the comparison of several runs, and
//! the glossary of the tables' headings ([`glossary`](super::glossary)).

use std::fmt::Write as _;

use super::plots::css_colour;
use super::table::{CLOCK_COLUMNS, Grid, QUEUE_COLUMNS, TIMING_COLUMNS, escape};
use super::text::{
    comparison_rows, counted_note, group_key, machine_grid, rates, rates_note, stat_rows, status,
    trial_grid,
};
use super::{Plot, RunPlots, TrialPlots};
use crate::analysis::{RunAnalysis, TrialAnalysis};

pub(super) const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif;
       color: #1d1d1f; max-width: 1000px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: .2em; }
h2 { border-bottom: 2px solid #d0d7de; padding-bottom: .2em; margin-top: 2.2em; }
h3 { margin-top: 1.6em; }
p.lead { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; font-size: 13px; margin: .6em 0 1em; }
th, td { border: 1px solid #d0d7de; padding: 3px 7px; }
thead th { background: #f3f5f8; font-weight: 600; text-align: center; }
th.group { background: #e8edf3; }
td { text-align: right; font-variant-numeric: tabular-nums; }
th.key { text-align: left; background: #fafbfc; font-weight: 600; }
td.ok { color: #1a7f37; text-align: left; }
td.bad { color: #cf222e; font-weight: 600; text-align: left; }
table.params td { text-align: left; }
tr.sep th, tr.sep td { border-top: 2px solid #8c959f; }
.problems { border-left: 4px solid #cf222e; background: #fff5f5; padding: .5em 1em; margin: 1em 0; }
.problems li { margin: .2em 0; }
figure { margin: 1em 0 1.6em; }
figure svg { max-width: 100%; height: auto; border: 1px solid #e5e7eb; border-radius: 4px; }
figcaption { font-size: 13px; color: #57606a; }
.swatch { display: inline-block; width: .9em; height: .9em; border-radius: 2px; vertical-align: -2px;
          margin-right: 4px; }
";

/// The whole page.
pub fn page(runs: &[RunAnalysis], plots: &[RunPlots], comparison: &[Plot]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>clocklab analysis</title>\n<style>{STYLE}{}</style>\n</head>\n<body>\n\
         <h1>clocklab analysis</h1>\n<p class=\"lead\">{} run(s), analysed by clocklab {}. \
         Every figure is defined in docs/ANALYSIS.md; all of them are in summary.json and \
         the CSV files beside this page (summary.csv, summary-wide.csv, summary-trials.csv, \
         summary-stats.csv), and each plot is also a .svg file here.</p>\n",
        super::interactive::STYLE,
        runs.len(),
        env!("CARGO_PKG_VERSION")
    );
    if runs.len() > 1 {
        comparison_html(&mut out, runs, comparison);
    }
    for (i, r) in runs.iter().enumerate() {
        let none = RunPlots::default();
        run_html(&mut out, i + 1, r, plots.get(i).unwrap_or(&none));
    }
    if plots
        .iter()
        .any(|p| p.trials.iter().any(|t| !t.interactive.is_empty()))
    {
        let _ = write!(out, "<script>\n{}</script>\n", super::interactive::SCRIPT);
    }
    out.push_str("</body>\n</html>\n");
    super::glossary::annotate(&out)
}

pub(super) fn figure(out: &mut String, plot: &Plot) {
    let _ = write!(
        out,
        "<figure>\n{}<figcaption>{} (also {})</figcaption>\n</figure>\n",
        plot.svg,
        escape(&plot.title),
        escape(&plot.file)
    );
}

fn comparison_html(out: &mut String, runs: &[RunAnalysis], plots: &[Plot]) {
    out.push_str(
        "<h2>Comparison</h2>\n<p>Each cell is the mean over the run's trials, ±the sample \
         standard deviation when it has several.</p>\n<table>\n",
    );
    for (k, (name, cells)) in comparison_rows(runs).iter().enumerate() {
        let _ = write!(out, "<tr><th class=\"key\">{}</th>", escape(name));
        for (j, cell) in cells.iter().enumerate() {
            if k == 0 {
                let _ = write!(
                    out,
                    "<th><span class=\"swatch\" style=\"background:{}\"></span>{}. {}</th>",
                    css_colour(j),
                    j + 1,
                    escape(cell)
                );
            } else {
                let _ = write!(out, "<td>{}</td>", escape(cell));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    for plot in plots {
        figure(out, plot);
    }
}

fn run_html(out: &mut String, number: usize, r: &RunAnalysis, plots: &RunPlots) {
    let _ = write!(
        out,
        "<h2>Run {number}: {}</h2>\n<p class=\"lead\">{} &middot; {}</p>\n<h3>Parameters</h3>\n\
         <table class=\"params\">\n",
        escape(&r.label),
        escape(&r.scenario),
        escape(&r.dir)
    );
    for (name, value) in &r.parameters {
        let _ = writeln!(
            out,
            "<tr><th class=\"key\">{}</th><td>{}</td></tr>",
            escape(name),
            escape(value)
        );
    }
    out.push_str("</table>\n");
    let problems = r.problems();
    if !problems.is_empty() {
        out.push_str("<div class=\"problems\"><strong>Incomplete data</strong><ul>\n");
        for p in &problems {
            let _ = writeln!(out, "<li>{}</li>", escape(p));
        }
        out.push_str("</ul></div>\n");
    }
    out.push_str(
        "<h3>Trials</h3>\n<p>clk: clock units. Drift: how far a clock is behind the \
         largest clock, sampled every 100 ms; a trial's is its trailing machine's. Queue peak: the longest the queue was right after a message \
         arrived (from the summaries). Queue after tick (tick max): the logged queue, once the \
         tick took its message. Growth/min: of the queue after each tick, in messages per minute. \
         Latency: receive time minus send time. Wait: the receiver's ticks between the send and \
         the receive.</p>\n",
    );
    out.push_str(&trial_grid(r, usize::MAX).html());
    if let Some(note) = counted_note(r) {
        let _ = writeln!(out, "<p>{}</p>", escape(&note));
    }
    if r.trials.len() > 1 {
        out.push_str("<h3>Per machine across trials</h3>\n");
        if let Some(note) = rates_note(r) {
            let _ = writeln!(out, "<p>{}</p>", escape(note));
        }
        let rows = |columns| {
            r.machines
                .iter()
                .flat_map(|g| {
                    let n = g.trials.len();
                    let trials = if n == 1 { "trial" } else { "trials" };
                    let key = format!("{} ({n} {trials}) ", group_key(r, g));
                    stat_rows(&g.figures, columns, &key)
                })
                .collect()
        };
        for columns in [&CLOCK_COLUMNS[..], &QUEUE_COLUMNS[..]] {
            let grid = Grid {
                key: "machine",
                key_width: 0,
                columns,
                note: "",
                rows: rows(columns),
            };
            out.push_str(&grid.html());
        }
    }
    for plot in &plots.across {
        figure(out, plot);
    }
    for t in &r.trials {
        let trial_plots = plots.trials.iter().find(|p| p.trial == t.trial);
        trial_html(out, t, trial_plots);
    }
}

fn trial_html(out: &mut String, t: &TrialAnalysis, plots: Option<&TrialPlots>) {
    let seed = t
        .seed
        .map_or_else(|| "unknown".to_owned(), |s| s.to_string());
    let _ = write!(
        out,
        "<h3>Trial {}</h3>\n<p>seed {seed}; rates {} ticks/s; {}; {}</p>\n",
        t.trial,
        escape(&rates(t)),
        status(t),
        escape(&t.dir)
    );
    out.push_str(&machine_grid(t, &CLOCK_COLUMNS).html());
    out.push_str(&machine_grid(t, &QUEUE_COLUMNS).html());
    out.push_str(&machine_grid(t, &TIMING_COLUMNS).html());
    out.push_str("<table>\n<thead><tr><th>machine</th><th colspan=\"5\">largest jumps: size (clock units) at time since start (log line)</th></tr></thead>\n<tbody>\n");
    for m in &t.machines {
        let _ = write!(out, "<tr><th class=\"key\">{}</th>", m.id);
        for j in &m.largest_jumps {
            let _ = write!(
                out,
                "<td>{} at {:.3} s (line {})</td>",
                j.size, j.time_s, j.line
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    out.push_str(&super::causality::trial_html(t));
    out.push_str(&super::weather::html(t));
    if let Some(p) = plots {
        out.push_str(&p.interactive);
        for plot in &p.plots {
            figure(out, plot);
        }
    }
}
