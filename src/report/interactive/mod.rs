//! The interactive space-time diagram of `report.html`: a trial's events, with the vector clock
//! and hybrid logical clock that `analysis::causality` and `analysis::hlc` reconstruct for each,
//! written as inline JSON beside an empty `<svg>` that the page's one inline script
//! ([`SCRIPT`], `diagram.js`) draws, zooms, pans and highlights. Nothing is fetched: the data and
//! the script are in the page, so it works from a file on disk.
//!
//! An event is named `mK:N`: machine id K, its N-th event (N from 1), which is also the event's
//! own entry in its vector clock; its row is line N + 1 of `machine-K.csv`. The URL fragment
//! `#run=R&trial=T&event=mK:N&pair=mJ:M&jumps=J` (run 1 when omitted) selects an event, a second
//! one to compare it with, and marks the clock jumps larger than J. docs/ANALYSIS.md ("The interactive diagram") says what the page shows.
//!
//! Pure: a trial in, an HTML fragment out.

use std::fmt::Write as _;

use serde::Serialize;

use super::RunPlots;
use super::spacetime::{Window, auto_window};
use crate::analysis::causality::{Causality, EventRef, reconstruct};
use crate::analysis::hlc::Hlc;
use crate::analysis::{RunInput, TrialInput};
use crate::core::event::{EventKind, Record};

pub use first::{FirstEvents, Kept};

mod first;

/// The most events of a trial the interactive diagram holds: a larger trial shows its first
/// `MAX_EVENTS` events by time, with a note (about 60 bytes of JSON each for three machines).
pub const MAX_EVENTS: usize = 5_000;

/// The page's script, inline once in `report.html`, which draws every diagram's data.
pub const SCRIPT: &str = include_str!("diagram.js");

/// The diagram's CSS, added to the page's style.
pub const STYLE: &str = "
.st { border: 1px solid #d0d7de; border-radius: 4px; padding: .5em; margin: 1em 0 1.6em; }
.st .controls { font-size: 13px; margin-bottom: .4em; }
.st .controls button { font-size: 13px; margin-right: 2px; }
.st svg { width: 100%; height: auto; user-select: none; touch-action: pan-y; cursor: grab; }
.st .panel { font-size: 13px; background: #f6f8fa; padding: .4em .7em; min-height: 3em; }
.st .panel code { font-size: 12px; }
.st .relation { font-weight: 600; }
.st circle.ev { stroke: #57606a; stroke-width: 1; cursor: pointer; }
.st circle.ev.conc { opacity: .35; }
.st circle.ev.past { stroke: #8250df; stroke-width: 3; }
.st circle.ev.future { stroke: #bf8700; stroke-width: 3; }
.st circle.ev.jump { stroke: #cf222e; stroke-dasharray: 3 2; stroke-width: 3; }
.st circle.ev.sel { stroke: #1d1d1f; stroke-width: 4; stroke-dasharray: none; }
.st circle.ev.pair { stroke: #cf222e; stroke-width: 4; stroke-dasharray: none; opacity: 1; }
.st line.msg { stroke: #8c959f; stroke-width: 1; }
.st line.msg.causal { stroke: #8250df; stroke-width: 2; }
@media print { .st { display: none; } }
";

/// One trial's data as the script reads it.
#[derive(Serialize)]
struct Data {
    run: usize,
    trial: u32,
    /// The trial's start, microseconds since the UNIX epoch.
    start_us: u64,
    /// Machine ids, in trial order (the order of every vector clock).
    ids: Vec<u16>,
    /// The first view, seconds since the trial's start: the static diagram's window.
    view: [f64; 2],
    /// Why that window.
    why: String,
    /// The whole trial's span, seconds since its start.
    span: [f64; 2],
    /// Events in the trial, and how many are here (fewer past [`MAX_EVENTS`]).
    total: usize,
    shown: usize,
    /// Per machine (trial order), its events.
    machines: Vec<Vec<Event>>,
}

/// One event: `[time s, kind, Lamport clock, send machine, send index, hlc l, hlc c, vector]`,
/// a tuple so that the JSON stays small; send -1 -1 for anything but a matched receive.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event(f64, &'static str, u64, i64, i64, u64, u32, Vec<u32>);

impl Event {
    /// The event `r` of a trial that started at `start_us`, matched with the send at `send`
    /// (machine position and row index) if it is a receive, with its hybrid timestamp and vector
    /// clock.
    pub fn new(start_us: u64, r: &Record, send: Option<EventRef>, h: Hlc, vector: &[u32]) -> Event {
        let since = (i128::from(r.system_time_us) - i128::from(start_us)) as f64 / 1e6;
        let (sm, sk) = send.map_or((-1, -1), |s| (s.machine as i64, s.index as i64));
        Event(
            (since * 1e6).round() / 1e6,
            kind(r.event),
            r.logical_clock,
            sm,
            sk,
            h.l,
            h.c,
            vector.to_vec(),
        )
    }
}

fn kind(k: EventKind) -> &'static str {
    match k {
        EventKind::Receive => "receive",
        EventKind::Send => "send",
        EventKind::Broadcast => "broadcast",
        EventKind::Internal => "internal",
    }
}

/// The interactive diagram of `trial` (run number `run`, counted from 1), opening on `window`
/// (the static diagram's window when `None`); empty when the trial is too large to reconstruct.
pub fn trial_html(trial: &TrialInput, run: usize, window: Option<Window>) -> String {
    trial_html_with(trial, reconstruct(trial).as_ref(), run, window)
}

/// [`trial_html`] with the trial's vector clocks already reconstructed (`None` when too large):
/// the trial replayed into a [`FirstEvents`].
pub fn trial_html_with(
    trial: &TrialInput,
    c: Option<&Causality>,
    run: usize,
    window: Option<Window>,
) -> String {
    let Some(c) = c else {
        return String::new();
    };
    let mut first = FirstEvents::new(trial);
    crate::report::replay::replay(trial, Some(c), &mut first);
    let (view, why) = match window {
        Some(w) => (w, "the window given by --window".to_owned()),
        None => auto_window(trial),
    };
    page(trial, run, (view, &why), first)
}

/// The interactive diagram of the trial `head` (whose rows need not be there), run `run`,
/// opening on `view` (with why that window), holding the events `first` kept.
pub fn page(
    head: &TrialInput,
    run: usize,
    (view, why): (Window, &str),
    first: FirstEvents,
) -> String {
    let kept = first.finish();
    let since = |t_us: u64| (i128::from(t_us) - i128::from(head.start_us)) as f64 / 1e6;
    let total = kept.total;
    let machines = kept.machines;
    let shown = machines.iter().map(Vec::len).sum();
    let data = Data {
        run,
        trial: head.trial,
        start_us: head.start_us,
        ids: head.machines.iter().map(|m| m.id).collect(),
        view: [view.start_s, view.end_s],
        why: why.to_owned(),
        span: [
            kept.span.map_or(0.0, |s| since(s.0)),
            kept.span.map_or(1.0, |s| since(s.1)),
        ],
        total,
        shown,
        machines,
    };
    let json = serde_json::to_string(&data).unwrap_or_default();
    // Inside <script>, only "</" could end the element early.
    let json = json.replace("</", "<\\/");
    let id = format!("st-r{run}-t{}", head.trial);
    let mut out = String::new();
    let note = if shown < total {
        format!(
            " It holds the first {shown} of the trial's {total} events (at most {MAX_EVENTS}); \
             the tables count them all."
        )
    } else {
        String::new()
    };
    let _ = write!(
        out,
        "<div class=\"st\" id=\"{id}\" data-run=\"{run}\" data-trial=\"{t}\">\n\
         <p class=\"caption\"><strong>Interactive space-time diagram</strong> of the whole trial \
         (needs JavaScript; the static diagram below is for print). Drag or use the buttons to \
         move along time, the wheel or + and − to zoom. Click an event: its causal past and \
         future are ringed, everything else is concurrent with it. Shift-click a second event to \
         compare the two.{note}</p>\n\
         <div class=\"controls\"></div>\n<svg class=\"plot\" viewBox=\"0 0 1000 200\"></svg>\n\
         <div class=\"panel\">No event selected.</div>\n\
         <script type=\"application/json\" class=\"st-data\">{json}</script>\n</div>\n",
        t = head.trial
    );
    out
}

/// Adds the interactive diagram of every plotted trial of every run to `plots`, opening on
/// `window` when given (`analyze --window`), else on the static diagram's automatic window.
pub fn add_interactive(inputs: &[RunInput], window: Option<Window>, plots: &mut [RunPlots]) {
    for (i, (input, run_plots)) in inputs.iter().zip(plots).enumerate() {
        for trial_plots in &mut run_plots.trials {
            if let Some(t) = input.trials.iter().find(|t| t.trial == trial_plots.trial) {
                trial_plots.interactive = trial_html(t, i + 1, window);
            }
        }
    }
}

#[cfg(test)]
mod tests;
