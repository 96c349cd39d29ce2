//! The weather figures as the stream goes: for each window of the fault plan, the figures of
//! the events before, during and after it ([`crate::analysis::weather`] defines them).
//!
//! A phase's concurrent share needs the pairs of its events that happened-before orders: for an
//! event `e` of machine `i` in the phase, those of machine `j` are `j`'s events in the phase that
//! `e` knows of, the first `V(e)[j]` of `j`'s log cut to `j`'s rows in the phase. A machine's rows
//! in a phase are consecutive (its real times never decrease), so each machine needs only the
//! positions of its first row at or past each window edge; one it has not reached yet has no row
//! in the phase that `e` can know of.

use crate::analysis::weather::{BIG_JUMP, Phase, PhaseFigures, WindowFigures, label, window};
use crate::config::faults::Fault;

/// One phase's figures so far.
#[derive(Clone, Copy, Debug, Default)]
struct Sums {
    events: u64,
    jump_max: Option<u64>,
    big_jumps: u64,
    queue_max: Option<u32>,
    ordered: u64,
    hlc_drift_max_us: Option<u64>,
    hlc_counter_max: Option<u32>,
}

/// One window of the plan: its fault, its edges (microseconds from the start), its phases, and
/// per machine the position of its first row at or past each edge.
#[derive(Debug)]
struct Tracked {
    fault: usize,
    kind: &'static str,
    label: String,
    from_ns: u64,
    to_ns: u64,
    edges: [i128; 2],
    sums: [Sums; 3],
    /// Per machine, `[first row at or past from, first row at or past to]`.
    firsts: Vec<[Option<u64>; 2]>,
}

/// The windows of a trial's plan and their phases' figures.
#[derive(Debug)]
pub(super) struct Phases {
    windows: Vec<Tracked>,
    /// The latest real time of any row, microseconds from the start.
    end_us: i128,
}

/// One row as the phases see it.
#[derive(Clone, Copy, Debug)]
pub(super) struct PhaseRow<'a> {
    /// Machine position and row position.
    pub machine: usize,
    pub index: u64,
    /// Real microseconds from the trial's start.
    pub at_us: i128,
    pub jump: u64,
    pub queue: u32,
    /// Its vector clock and its hybrid clock's drift (µs) and counter, when worked out.
    pub causal: Option<(&'a [u32], u64, u32)>,
}

impl Phases {
    /// The windows of `faults` for `machines` machines.
    pub fn new(faults: &[Fault], machines: usize) -> Phases {
        let windows = faults
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let w = window(f)?;
                Some(Tracked {
                    fault: i,
                    kind: f.kind(),
                    label: label(f),
                    from_ns: w.from_ns,
                    to_ns: w.to_ns,
                    edges: [i128::from(w.from_ns / 1000), i128::from(w.to_ns / 1000)],
                    sums: [Sums::default(); 3],
                    firsts: vec![[None; 2]; machines],
                })
            })
            .collect();
        Phases { windows, end_us: 0 }
    }

    /// Whether the plan has a window.
    pub fn any(&self) -> bool {
        !self.windows.is_empty()
    }

    /// Takes one row.
    pub fn take(&mut self, r: PhaseRow<'_>) {
        self.end_us = self.end_us.max(r.at_us);
        for w in &mut self.windows {
            let p = w.edges.iter().filter(|&&edge| r.at_us >= edge).count();
            let firsts = &mut w.firsts[r.machine];
            for (edge, first) in w.edges.iter().zip(firsts.iter_mut()) {
                if r.at_us >= *edge {
                    first.get_or_insert(r.index);
                }
            }
            let s = &mut w.sums[p];
            s.events += 1;
            s.jump_max = s.jump_max.max(Some(r.jump));
            s.big_jumps += u64::from(r.jump > BIG_JUMP);
            s.queue_max = s.queue_max.max(Some(r.queue));
            let Some((vector, drift, counter)) = r.causal else {
                continue;
            };
            s.hlc_drift_max_us = s.hlc_drift_max_us.max(Some(drift));
            s.hlc_counter_max = s.hlc_counter_max.max(Some(counter));
            // The events of the phase this one knows of, on each machine.
            for (j, (&known, first)) in vector.iter().zip(&w.firsts).enumerate() {
                let lo = match p {
                    0 => Some(0),
                    _ => first[p - 1],
                };
                let Some(lo) = lo else { continue };
                let known = if j == r.machine {
                    r.index
                } else {
                    u64::from(known)
                };
                let hi = match p {
                    2 => None,
                    _ => first[p],
                };
                s.ordered += hi.map_or(known, |hi| known.min(hi)).saturating_sub(lo);
            }
        }
    }

    /// The figures of every window, in plan order; `causal` says whether vector clocks were
    /// worked out (without them there is no concurrent share and no hybrid clock figure).
    pub fn figures(&self, causal: bool) -> Vec<WindowFigures> {
        let end_s = (self.end_us as f64 / 1e6).max(0.0);
        self.windows
            .iter()
            .map(|w| {
                let (from_s, to_s) = (w.from_ns as f64 / 1e9, w.to_ns as f64 / 1e9);
                let spans = [(0.0, from_s), (from_s, to_s), (to_s, end_s.max(to_s))];
                let phases = std::array::from_fn(|k| {
                    let s = &w.sums[k];
                    let pairs = s.events * s.events.saturating_sub(1) / 2;
                    let concurrent = pairs - s.ordered.min(pairs);
                    PhaseFigures {
                        phase: Phase::ALL[k],
                        from_s: spans[k].0,
                        to_s: spans[k].1,
                        events: s.events,
                        jump_max: s.jump_max,
                        big_jumps: s.big_jumps,
                        queue_after_tick_max: s.queue_max,
                        concurrent_share: (causal && pairs > 0)
                            .then(|| concurrent as f64 / pairs as f64),
                        hlc_drift_max_ms: s.hlc_drift_max_us.map(|us| us as f64 / 1e3),
                        hlc_counter_max: s.hlc_counter_max,
                    }
                });
                WindowFigures {
                    fault: w.fault,
                    kind: w.kind,
                    label: w.label.clone(),
                    from_s,
                    to_s,
                    phases,
                }
            })
            .collect()
    }
}
