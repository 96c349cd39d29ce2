//! Hybrid logical clocks (Kulkarni, Demirbas et al., 2014), reconstructed offline from the logs:
//! the third clock beside Lamport's and the vector clocks, computed from each event's recorded
//! wall time and, for a receive, its matched send's hybrid timestamp.
//!
//! A hybrid timestamp is a pair `(l, c)`: `l` is the largest wall time the event knows of (its
//! own, or one that reached it through messages), in microseconds since the UNIX epoch, and `c` a
//! counter that orders events sharing an `l`. The rules (docs/ANALYSIS.md, "Hybrid logical
//! clocks"), with `pt` the event's `system_time`:
//!
//! - send, broadcast or internal: `l' = max(l, pt)`; `c' = c + 1` if `l' = l`, else 0;
//! - receive of a message stamped `(lm, cm)`: `l' = max(l, lm, pt)`; `c'` is `max(c, cm) + 1` if
//!   `l'` equals both `l` and `lm`, `c + 1` if only `l`, `cm + 1` if only `lm`, else 0.
//!
//! A receive whose send is in no log is taken as a local event. `l` minus the event's real time
//! is how far the hybrid clock runs ahead of physical time: its drift. The real time is `pt`
//! itself, unless the run's fault plan gave the machine a bad clock (a `clock` fault); then `pt`
//! is that clock's stamp, and the real time is recovered from it (docs/ANALYSIS.md).

use super::TrialInput;
use super::causality::{Causality, EventRef};
use crate::core::event::EventKind;

/// A hybrid logical timestamp.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hlc {
    /// The largest wall time known, microseconds since the UNIX epoch.
    pub l: u64,
    /// The counter among events with this `l`.
    pub c: u32,
}

/// One machine's hybrid clock figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HlcMachine {
    /// The machine's id.
    pub id: u16,
    /// The largest `l - pt` over its events, microseconds.
    pub drift_max_us: u64,
    /// `l - pt` at its last event, microseconds.
    pub drift_final_us: u64,
    /// The largest counter `c` of any of its events.
    pub counter_max: u32,
}

/// Every event's hybrid timestamp, per machine and event (as [`Causality`] numbers them).
pub fn timestamps(trial: &TrialInput, causality: &Causality) -> Vec<Vec<Hlc>> {
    let mut out: Vec<Vec<Hlc>> = causality
        .counts
        .iter()
        .map(|&k| Vec::with_capacity(k))
        .collect();
    // `order` takes each receive after its send, so the send's timestamp is always there.
    for &EventRef { machine, index } in &causality.order {
        let r = &trial.machines[machine].records[index];
        let before = out[machine].last().copied().unwrap_or_default();
        let message = causality.send_of[machine][index]
            .filter(|_| r.event == EventKind::Receive)
            .map(|s| out[s.machine][s.index]);
        let next = step(before, r.system_time_us, message);
        out[machine].push(next);
    }
    out
}

/// The hybrid timestamp of an event at wall time `pt`, after `before` (the machine's last one),
/// receiving `message`'s timestamp if it is a receive.
pub fn step(before: Hlc, pt: u64, message: Option<Hlc>) -> Hlc {
    match message {
        None => {
            let l = before.l.max(pt);
            let c = if l == before.l { before.c + 1 } else { 0 };
            Hlc { l, c }
        }
        Some(m) => {
            let l = before.l.max(m.l).max(pt);
            let c = match (l == before.l, l == m.l) {
                (true, true) => before.c.max(m.c) + 1,
                (true, false) => before.c + 1,
                (false, true) => m.c + 1,
                (false, false) => 0,
            };
            Hlc { l, c }
        }
    }
}

/// Each machine's drift from physical time and largest counter. Physical time is the real time
/// of each event: its `system_time`, or under a `clock` fault the real time recovered from it
/// ([`MachineInput::clock`](super::MachineInput::clock)), so that a clock running ahead shows
/// as the drift of the hybrid clocks it pulls ahead, its own first.
#[cfg(test)]
pub fn machine_figures(trial: &TrialInput, stamps: &[Vec<Hlc>]) -> Vec<HlcMachine> {
    trial
        .machines
        .iter()
        .zip(stamps)
        .map(|(m, hs)| {
            let real = |pt: u64| m.clock.real_us(trial.start_us, pt);
            let drift = |(r, h): (&crate::core::event::Record, &Hlc)| {
                h.l.saturating_sub(real(r.system_time_us))
            };
            let pairs = || m.records.iter().zip(hs);
            HlcMachine {
                id: m.id,
                drift_max_us: pairs().map(drift).max().unwrap_or(0),
                drift_final_us: pairs().next_back().map_or(0, drift),
                counter_max: hs.iter().map(|h| h.c).max().unwrap_or(0),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
