//! The weather of a trial rendered: its fault plan in words and, per window, the figures before,
//! during and after it (`analysis::weather`), as a terminal table, an HTML section of
//! `report.html`, rows of `weather.csv` (serde, one row per window and phase) and the `weather`
//! key of a trial in `summary.json`. A trial without a plan renders nothing: no empty section.

use std::fmt::Write as _;

use plotters::style::RGBColor;
use serde::Serialize;

use super::plots::tint;
use super::table::escape;
use crate::analysis::weather::{BIG_JUMP, PhaseFigures, WindowFigures};
use crate::analysis::{RunAnalysis, TrialAnalysis};

/// The CSV's file name.
pub const WEATHER_FILE: &str = "weather.csv";

/// A phase's cells, in the order of [`HEAD`]: events, largest jump, big jumps, queue, concurrent
/// share (%), HLC drift (ms), HLC counter; `-` when undefined.
fn cells(p: &PhaseFigures) -> [String; 7] {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
    [
        p.events.to_string(),
        or_dash(p.jump_max.map(|v| v.to_string())),
        p.big_jumps.to_string(),
        or_dash(p.queue_after_tick_max.map(|v| v.to_string())),
        or_dash(p.concurrent_share.map(|v| format!("{:.1}", v * 100.0))),
        or_dash(p.hlc_drift_max_ms.map(|v| format!("{v:.3}"))),
        or_dash(p.hlc_counter_max.map(|v| v.to_string())),
    ]
}

/// The columns' headings, after the phase and its span.
const HEAD: [&str; 7] = [
    "events",
    "jump max",
    "jumps>5",
    "queue max",
    "concur%",
    "hlc ms",
    "hlc c",
];

/// The same columns' headings in `report.html`.
const HTML_HEAD: [&str; 7] = [
    "events",
    "largest jump (clk)",
    "jumps over 5",
    "largest queue after a tick",
    "concurrent pairs (%)",
    "HLC drift max (ms)",
    "HLC counter max",
];

/// A phase's span in seconds: `10-20`.
fn span(p: &PhaseFigures) -> String {
    format!("{}-{}", trim(p.from_s), trim(p.to_s))
}

/// Seconds with at most three decimals, trailing zeros cut: `10`, `29.95`.
fn trim(s: f64) -> String {
    let text = format!("{s:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The plan's faults without a window (clocks), each with what shows it.
fn whole_trial(t: &TrialAnalysis) -> Vec<&str> {
    let windowed: Vec<usize> = t.weather.iter().map(|w| w.fault).collect();
    t.plan
        .iter()
        .enumerate()
        .filter(|(i, _)| !windowed.contains(i))
        .map(|(_, l)| l.as_str())
        .collect()
}

/// The trial's weather on stdout; empty without a plan. Lines fit in 100 columns.
pub fn text(t: &TrialAnalysis) -> String {
    if t.plan.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n  weather, trial {}: the fault plan of run.yaml; s: real seconds of the trial; \
         jumps>{BIG_JUMP}: over {BIG_JUMP} clk;\n  queue: after each tick; concur%: concurrent \
         pairs; hlc ms: HLC l minus real time; hlc c: counter\n",
        t.trial
    );
    for label in whole_trial(t) {
        let _ = writeln!(out, "  {label}: the whole trial");
    }
    for w in &t.weather {
        let _ = writeln!(out, "  {}", w.label);
        let _ = write!(out, "    {:<8}{:>10}", "phase", "s");
        for h in HEAD {
            let _ = write!(out, "{h:>10}");
        }
        out.push('\n');
        for p in &w.phases {
            let _ = write!(out, "    {:<8}{:>10}", p.phase.name(), span(p));
            for c in cells(p) {
                let _ = write!(out, "{c:>10}");
            }
            out.push('\n');
        }
    }
    out
}

/// The trial's weather section of `report.html`; empty without a plan.
pub fn html(t: &TrialAnalysis) -> String {
    if t.plan.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<h4>Weather: the fault plan</h4>\n<p>The faults of the plan recorded in run.yaml. Each \
         window is shaded and named on the space-time diagram and on the clock, lag and queue \
         plots below; the table gives the trial's figures before, during and after it, by the \
         real time of each event in seconds from the trial's start. Jumps over ",
    );
    let _ = writeln!(
        out,
        "{BIG_JUMP}: jumps of more than {BIG_JUMP} clock units. Queue: the largest queue after a \
         tick. Concurrent: the share of pairs of events of the phase of which neither happened \
         before the other. HLC drift: the hybrid clocks' largest l minus real time; c: their \
         largest counter (docs/ANALYSIS.md, \"Weather\").</p>"
    );
    let clocks = whole_trial(t);
    if !clocks.is_empty() {
        out.push_str("<ul>\n");
        for label in clocks {
            let _ = writeln!(
                out,
                "<li>{}: the whole trial (its machine stamps its rows with this clock; the \
                 hybrid clocks show it)</li>",
                escape(label)
            );
        }
        out.push_str("</ul>\n");
    }
    if t.weather.is_empty() {
        return out;
    }
    out.push_str("<table>\n<thead><tr><th>phase</th><th>seconds</th>");
    for h in HTML_HEAD {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for w in &t.weather {
        let RGBColor(r, g, b) = tint(w.kind);
        let _ = writeln!(
            out,
            "<tr class=\"sep\"><th class=\"key\" colspan=\"9\"><span class=\"swatch\" \
             style=\"background:#{r:02x}{g:02x}{b:02x}\"></span>{}</th></tr>",
            escape(&w.label)
        );
        for p in &w.phases {
            let _ = write!(
                out,
                "<tr><th class=\"key\">{}</th><td>{}</td>",
                p.phase.name(),
                span(p)
            );
            for c in cells(p) {
                let _ = write!(out, "<td>{c}</td>");
            }
            out.push_str("</tr>\n");
        }
    }
    out.push_str("</tbody></table>\n");
    out
}

/// One row of `weather.csv`: a phase around one window of one trial.
#[derive(Clone, Debug, Serialize)]
pub struct WeatherRow<'a> {
    /// The run's label.
    pub run: &'a str,
    /// The trial's number.
    pub trial: u32,
    /// The fault's position in the plan, from 0.
    pub fault: usize,
    /// Its kind.
    pub kind: &'a str,
    /// The fault in a few words.
    pub label: &'a str,
    /// `before`, `during` or `after`.
    pub phase: &'a str,
    /// The phase's start, seconds from the trial's start.
    pub from_s: f64,
    /// The phase's end.
    pub to_s: f64,
    /// Rows in the phase.
    pub events: u64,
    /// The largest jump.
    pub jump_max: String,
    /// Jumps over [`BIG_JUMP`].
    pub jumps_over_5: u64,
    /// The largest queue after a tick.
    pub queue_after_tick_max: String,
    /// The share of concurrent pairs, 0-1.
    pub concurrent_share: String,
    /// The largest HLC drift, ms.
    pub hlc_drift_max_ms: String,
    /// The largest HLC counter.
    pub hlc_counter_max: String,
}

/// Whether any trial of `runs` has a plan with a window: only then is `weather.csv` written.
pub fn any(runs: &[RunAnalysis]) -> bool {
    runs.iter()
        .flat_map(|r| &r.trials)
        .any(|t| !t.weather.is_empty())
}

/// `weather.csv`: a header, then per run, trial, window (plan order) and phase one row.
pub fn weather_csv(runs: &[RunAnalysis]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in runs {
        for t in &r.trials {
            for win in &t.weather {
                for p in &win.phases {
                    // As summary.csv writes a number: shortest text, empty when undefined.
                    let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
                    let _ = w.serialize(WeatherRow {
                        run: &r.label,
                        trial: t.trial,
                        fault: win.fault,
                        kind: win.kind,
                        label: &win.label,
                        phase: p.phase.name(),
                        from_s: p.from_s,
                        to_s: p.to_s,
                        events: p.events,
                        jump_max: num(p.jump_max.map(|v| v as f64)),
                        jumps_over_5: p.big_jumps,
                        queue_after_tick_max: num(p.queue_after_tick_max.map(f64::from)),
                        concurrent_share: num(p.concurrent_share),
                        hlc_drift_max_ms: num(p.hlc_drift_max_ms),
                        hlc_counter_max: num(p.hlc_counter_max.map(f64::from)),
                    });
                }
            }
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A trial's weather as JSON for `summary.json`: its plan in words and its windows (serde
/// names every field); `None` without a plan, so that a fair-weather trial's object is unchanged.
pub fn json(t: &TrialAnalysis) -> Option<serde_json::Value> {
    if t.plan.is_empty() {
        return None;
    }
    #[derive(Serialize)]
    struct Weather<'a> {
        plan: &'a [String],
        windows: &'a [WindowFigures],
    }
    serde_json::to_value(Weather {
        plan: &t.plan,
        windows: &t.weather,
    })
    .ok()
}

#[cfg(test)]
mod tests;
