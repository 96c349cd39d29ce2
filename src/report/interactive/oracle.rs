//! The interactive diagram's data as it was gathered before the
//! [`Sketch`](crate::report::sketch::Sketch) (2026-12-06): from the whole trial's rows and its
//! [`Causality`]. Kept as the oracle that the sketch's pages are tested against, byte for byte.

use std::fmt::Write as _;

use super::*;
use crate::analysis::causality::{Causality, EventRef};
use crate::analysis::hlc;
use crate::report::spacetime::{Window, oracle::auto_window};

/// [`trial_html`] with the trial's vector clocks already reconstructed (`None` when too large).
pub(crate) fn trial_html_with(
    trial: &TrialInput,
    c: Option<&Causality>,
    run: usize,
    window: Option<Window>,
) -> String {
    let Some(c) = c else {
        return String::new();
    };
    let stamps = hlc::timestamps(trial, c);
    let since = |t_us: u64| (i128::from(t_us) - i128::from(trial.start_us)) as f64 / 1e6;
    // Every event by (time, machine, row): past the cap, each machine keeps its events among the
    // first MAX_EVENTS of them, a prefix of its log (whose times never decrease).
    let mut order: Vec<(u64, usize, usize)> = trial
        .machines
        .iter()
        .enumerate()
        .flat_map(|(i, m)| {
            m.records
                .iter()
                .enumerate()
                .map(move |(k, r)| (r.system_time_us, i, k))
        })
        .collect();
    order.sort_unstable();
    let total = order.len();
    let mut keep = vec![0usize; trial.machines.len()];
    for &(_, i, _) in order.iter().take(MAX_EVENTS) {
        keep[i] += 1;
    }
    let (view, why) = match window {
        Some(w) => (w, "the window given by --window".to_owned()),
        None => auto_window(trial),
    };
    let machines: Vec<Vec<Event>> = trial
        .machines
        .iter()
        .enumerate()
        .map(|(i, m)| {
            m.records
                .iter()
                .enumerate()
                .take(keep[i])
                .map(|(k, r)| {
                    let e = EventRef {
                        machine: i,
                        index: k,
                    };
                    let (sm, sk) =
                        c.send_of[i][k].map_or((-1, -1), |s| (s.machine as i64, s.index as i64));
                    let h = stamps[i][k];
                    Event(
                        (since(r.system_time_us) * 1e6).round() / 1e6,
                        kind(r.event),
                        r.logical_clock,
                        sm,
                        sk,
                        h.l,
                        h.c,
                        c.vector(e).to_vec(),
                    )
                })
                .collect()
        })
        .collect();
    let shown = machines.iter().map(Vec::len).sum();
    let data = Data {
        run,
        trial: trial.trial,
        start_us: trial.start_us,
        ids: trial.machines.iter().map(|m| m.id).collect(),
        view: [view.start_s, view.end_s],
        why,
        span: [
            order.first().map_or(0.0, |e| since(e.0)),
            order.last().map_or(1.0, |e| since(e.0)),
        ],
        total,
        shown,
        machines,
    };
    let json = serde_json::to_string(&data).unwrap_or_default();
    // Inside <script>, only "</" could end the element early.
    let json = json.replace("</", "<\\/");
    let id = format!("st-r{run}-t{}", trial.trial);
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
        t = trial.trial
    );
    out
}
