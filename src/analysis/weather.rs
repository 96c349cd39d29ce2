//! The weather of a trial: the windows of its fault plan (recorded in `run.yaml`), each named in a
//! few words ([`label`]), and the trial's figures before, during and after each window
//! ([`WindowFigures`]): Lamport jumps, the queue after each tick, the share of concurrent pairs
//! and the hybrid clocks' drift and counter. A trial without a plan has no windows, and nothing
//! here is computed for it.
//!
//! Times are real seconds from the trial's start: a row stamped by a machine with a `clock` fault
//! counts at the real time recovered from its stamp, so the phases cut every machine's log at the
//! same instant. A `clock` fault has no window (it holds for the whole trial); the hybrid clocks'
//! figures of every phase show it. docs/ANALYSIS.md ("Weather") defines every figure.

use serde::Serialize;

#[cfg(test)]
use super::{
    TrialInput,
    causality::{Causality, EventRef, reconstruct},
    hlc::{self, Hlc},
};
use crate::config::faults::Fault;
use crate::core::fault::Window;

/// A jump larger than this many clock units counts in [`PhaseFigures::big_jumps`].
pub const BIG_JUMP: u64 = 5;

/// The fault `fault` in a few words: `delay 1->3 fixed:50ms 0-30 s`, `partition {1,2}|{3} 10-20 s`
/// (`drop` added in drop mode), `pause m2 5-8 s`, `clock m2 +250 ms +100 ppm`.
pub fn label(fault: &Fault) -> String {
    let span = |w: &Window| format!("{}-{} s", secs(w.from_ns), secs(w.to_ns));
    match fault {
        Fault::Delay {
            link,
            window,
            latency,
        } => format!("delay {link} {latency} {}", span(window)),
        Fault::Partition {
            groups,
            window,
            mode,
        } => {
            let groups: Vec<String> = groups
                .iter()
                .map(|g| {
                    let ids: Vec<String> = g.iter().map(u16::to_string).collect();
                    format!("{{{}}}", ids.join(","))
                })
                .collect();
            let mode = match mode {
                crate::core::fault::PartitionMode::Hold => "",
                crate::core::fault::PartitionMode::Drop => " drop",
            };
            format!("partition {}{mode} {}", groups.join("|"), span(window))
        }
        Fault::Pause { machine, window } => format!("pause m{machine} {}", span(window)),
        Fault::Clock { machine, skew } => format!(
            "clock m{machine} {:+} ms {:+} ppm",
            skew.offset_us as f64 / 1e3,
            skew.drift_ppb as f64 / 1e3
        ),
    }
}

/// Nanoseconds as seconds, shortest form (`10`, `2.5`).
fn secs(ns: u64) -> String {
    format!("{}", ns as f64 / 1e9)
}

/// The window of `fault`, if it has one (a `clock` fault holds for the whole trial).
pub fn window(fault: &Fault) -> Option<Window> {
    match fault {
        Fault::Delay { window, .. }
        | Fault::Partition { window, .. }
        | Fault::Pause { window, .. } => Some(*window),
        Fault::Clock { .. } => None,
    }
}

/// Which part of the trial a phase is, around one window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// From the trial's start to the window's start.
    Before,
    /// The window itself, `[from, to)`.
    During,
    /// From the window's end to the trial's last event.
    After,
}

impl Phase {
    /// The three phases in time order.
    pub const ALL: [Phase; 3] = [Phase::Before, Phase::During, Phase::After];

    /// Its name, as the tables and files write it.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Before => "before",
            Phase::During => "during",
            Phase::After => "after",
        }
    }
}

/// The figures of one phase: the events whose real time falls in `[from_s, to_s)` (the last
/// phase includes its end).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PhaseFigures {
    /// Which phase.
    pub phase: Phase,
    /// Its start, seconds from the trial's start.
    pub from_s: f64,
    /// Its end, seconds from the trial's start.
    pub to_s: f64,
    /// Rows of all machines in it.
    pub events: u64,
    /// The largest jump of its rows (a row's rise over the row before it, 0 before the first).
    pub jump_max: Option<u64>,
    /// Its rows whose jump is larger than [`BIG_JUMP`].
    #[serde(rename = "jumps_over_5")]
    pub big_jumps: u64,
    /// The largest queue after a tick (`queue_len`) of its rows.
    pub queue_after_tick_max: Option<u32>,
    /// Of the pairs of distinct events both in it, the share of which neither happened before the
    /// other; `None` with fewer than two events, or for a trial too large to reconstruct.
    pub concurrent_share: Option<f64>,
    /// The largest drift of the hybrid clock from real time of its events, milliseconds.
    pub hlc_drift_max_ms: Option<f64>,
    /// The largest hybrid clock counter of its events.
    pub hlc_counter_max: Option<u32>,
}

/// One window of the plan and the trial's figures around it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowFigures {
    /// The fault's position in the plan (from 0, as `faults[i]` names it).
    pub fault: usize,
    /// Its kind: `delay`, `partition` or `pause`.
    pub kind: &'static str,
    /// The fault in a few words ([`label`]).
    pub label: String,
    /// The window's start, seconds from the trial's start.
    pub from_s: f64,
    /// The window's end (excluded), seconds from the trial's start.
    pub to_s: f64,
    /// Before, during and after.
    pub phases: [PhaseFigures; 3],
}

/// One row as the phases see it: its real time and figures.
#[cfg(test)]
struct Row {
    /// Real microseconds from the trial's start.
    at_us: i128,
    jump: u64,
    queue: u32,
    /// Its hybrid timestamp's drift from real time (µs) and counter, when reconstructed.
    hlc: Option<(u64, u32)>,
}

/// The figures around every window of `trial`'s plan, in plan order; empty without a windowed
/// fault.
#[cfg(test)]
pub fn analyze(trial: &TrialInput) -> Vec<WindowFigures> {
    if trial.faults.iter().all(|f| window(f).is_none()) {
        return Vec::new();
    }
    analyze_with(trial, reconstruct(trial).as_ref())
}

/// [`analyze`] with the trial's vector clocks already reconstructed (`None` for a trial too
/// large to reconstruct).
#[cfg(test)]
pub fn analyze_with(trial: &TrialInput, causality: Option<&Causality>) -> Vec<WindowFigures> {
    let windowed: Vec<(usize, &Fault, Window)> = trial
        .faults
        .iter()
        .enumerate()
        .filter_map(|(i, f)| window(f).map(|w| (i, f, w)))
        .collect();
    if windowed.is_empty() {
        return Vec::new();
    }
    let stamps = causality.map(|c| hlc::timestamps(trial, c));
    let rows = rows(trial, stamps.as_deref());
    let end_us = rows.iter().flatten().map(|r| r.at_us).max().unwrap_or(0);
    let end_s = (end_us as f64 / 1e6).max(0.0);
    windowed
        .into_iter()
        .map(|(i, f, w)| {
            let (from_us, to_us) = (i128::from(w.from_ns / 1000), i128::from(w.to_ns / 1000));
            let (from_s, to_s) = (w.from_ns as f64 / 1e9, w.to_ns as f64 / 1e9);
            let spans = [
                (i128::MIN, from_us, 0.0, from_s),
                (from_us, to_us, from_s, to_s),
                (to_us, i128::MAX, to_s, end_s.max(to_s)),
            ];
            let phases = std::array::from_fn(|k| {
                let (lo, hi, a, b) = spans[k];
                phase(Phase::ALL[k], &rows, causality, (lo, hi), (a, b))
            });
            WindowFigures {
                fault: i,
                kind: f.kind(),
                label: label(f),
                from_s,
                to_s,
                phases,
            }
        })
        .collect()
}

/// Every machine's rows with their real times and figures.
#[cfg(test)]
fn rows(trial: &TrialInput, stamps: Option<&[Vec<Hlc>]>) -> Vec<Vec<Row>> {
    trial
        .machines
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut previous = 0;
            m.records
                .iter()
                .enumerate()
                .map(|(k, r)| {
                    let real = m.clock.real_us(trial.start_us, r.system_time_us);
                    let jump = r.logical_clock.saturating_sub(previous);
                    previous = r.logical_clock;
                    let hlc = stamps
                        .and_then(|s| s.get(i)?.get(k))
                        .map(|h| (h.l.saturating_sub(real), h.c));
                    Row {
                        at_us: i128::from(real) - i128::from(trial.start_us),
                        jump,
                        queue: r.queue_len,
                        hlc,
                    }
                })
                .collect()
        })
        .collect()
}

/// The figures of the rows in `[lo, hi)` microseconds.
#[cfg(test)]
fn phase(
    which: Phase,
    rows: &[Vec<Row>],
    causality: Option<&Causality>,
    (lo, hi): (i128, i128),
    (from_s, to_s): (f64, f64),
) -> PhaseFigures {
    // A machine's rows in the phase are consecutive: its real times never decrease.
    let ranges: Vec<(usize, usize)> = rows
        .iter()
        .map(|rs| {
            let a = rs.partition_point(|r| r.at_us < lo);
            let b = rs.partition_point(|r| r.at_us < hi);
            (a, b.max(a))
        })
        .collect();
    let inside = || rows.iter().zip(&ranges).flat_map(|(rs, &(a, b))| &rs[a..b]);
    let events = inside().count() as u64;
    PhaseFigures {
        phase: which,
        from_s,
        to_s,
        events,
        jump_max: inside().map(|r| r.jump).max(),
        big_jumps: inside().filter(|r| r.jump > BIG_JUMP).count() as u64,
        queue_after_tick_max: inside().map(|r| r.queue).max(),
        concurrent_share: causality.and_then(|c| concurrent_share(c, &ranges, events)),
        hlc_drift_max_ms: inside()
            .filter_map(|r| r.hlc)
            .map(|(d, _)| d)
            .max()
            .map(|us| us as f64 / 1e3),
        hlc_counter_max: inside().filter_map(|r| r.hlc).map(|(_, c)| c).max(),
    }
}

/// The share of concurrent pairs among the pairs of distinct events in `ranges` (per machine, its
/// rows `a..b`). As in `causality::figures`: the events of machine j concurrent with e are j's
/// from `V(e)[j]` up to the first that e happened before; cut to j's range, counted from both
/// ends and halved.
#[cfg(test)]
fn concurrent_share(c: &Causality, ranges: &[(usize, usize)], events: u64) -> Option<f64> {
    let pairs = events * events.saturating_sub(1) / 2;
    if pairs == 0 {
        return None;
    }
    let mut twice = 0u64;
    for (i, &(a, b)) in ranges.iter().enumerate() {
        for k in a..b {
            let v = c.vector(EventRef {
                machine: i,
                index: k,
            });
            for (j, &(ja, jb)) in ranges.iter().enumerate().filter(|&(j, _)| j != i) {
                let known = v[j] as usize;
                // The first of j's events that e happened before: their entry i passes k.
                let (mut l, mut h) = (0, c.counts[j]);
                while l < h {
                    let mid = l + (h - l) / 2;
                    let seen = c.vector(EventRef {
                        machine: j,
                        index: mid,
                    })[i] as usize;
                    if seen <= k { l = mid + 1 } else { h = mid }
                }
                let (from, to) = (known.max(ja), l.min(jb));
                twice += to.saturating_sub(from) as u64;
            }
        }
    }
    Some((twice / 2) as f64 / pairs as f64)
}

#[cfg(test)]
mod tests;
