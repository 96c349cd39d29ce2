//! A trial analysed as its rows stream by, in one pass over its logs merged in causal order
//! ([`crate::rundir::log::merge_by_clock`]), holding state per machine and per
//! message in flight rather than the trial's rows (docs/ANALYSIS.md, "Memory and time").
//!
//! A [`Watch`] sees every event as the stream meets it, with what the pass worked out for it
//! (its matched send, vector clock and hybrid timestamp): the drawings keep the few events they
//! draw this way.

mod causal;
mod drift;
mod flight;
mod machine;
mod phases;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crate::analysis::causality::EventRef;
use crate::analysis::clocks::TrialCausality;
use crate::analysis::hlc::Hlc;
use crate::analysis::stats::Distribution;
use crate::analysis::{TrialAnalysis, TrialInput, weather};
use crate::core::event::{EventKind, Record};
use crate::rundir::log::{MergedRow, merge_by_clock};
use causal::Causal;
use drift::Drift;
use flight::{Flights, InFlight};
use machine::{MachineState, row_deadline};
use phases::{PhaseRow, Phases};

/// The send a receive was matched with, as the stream knew it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The send or broadcast.
    pub event: EventRef,
    /// Its `system_time`, microseconds since the UNIX epoch.
    pub time_us: u64,
    /// `Send` or `Broadcast`.
    pub kind: EventKind,
}

/// One event as the stream meets it: each machine's events in log order, every receive after its
/// send.
#[derive(Clone, Copy, Debug)]
pub struct Seen<'a> {
    /// The event: its machine's position in the trial and its row's position in the log.
    pub event: EventRef,
    /// Its row.
    pub record: &'a Record,
    /// For a receive, the send it was matched with; `None` for other events and for receives
    /// whose send is in no log (or comes after them: logs that break the receive rule).
    pub send: Option<Sent>,
    /// Its vector clock, in trial machine order; `None` when the trial is too large for vector
    /// clocks ([`MAX_ENTRIES`](crate::analysis::causality::MAX_ENTRIES)).
    pub vector: Option<&'a [u32]>,
    /// Its hybrid logical timestamp ([`hlc::step`](crate::analysis::hlc::step)); `None` as
    /// `vector` is.
    pub hlc: Option<Hlc>,
}

/// A message some machine never took off its queue by the end of the trial: the send, and the
/// machines (by position in the trial) that did not receive it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreceived {
    /// The send or broadcast, as a receive would have named it.
    pub send: Sent,
    /// The machines that should have received it and did not, ascending.
    pub receivers: Vec<usize>,
}

/// Something that looks at every event of a trial as the stream meets it.
pub trait Watch {
    /// Called once per event, in the stream's order.
    fn seen(&mut self, event: &Seen<'_>);
}

/// A watch that looks at nothing.
impl Watch for () {
    fn seen(&mut self, _: &Seen<'_>) {}
}

/// How many rows go by between two looks at how far back the machines' row times are needed.
const FORGET_EVERY: u64 = 4096;

/// A trial's figures from one pass over its rows, and the messages never received.
#[derive(Clone, Debug, PartialEq)]
pub struct Streamed {
    /// Every figure of the trial, as [`analyze_trial`](crate::analysis::analyze_trial) defines them.
    pub analysis: TrialAnalysis,
    /// The sends some receiver never took, in the order of their senders and rows.
    pub unreceived: Vec<Unreceived>,
}

/// Works out every figure of `trial` in one pass over `logs`, each machine's rows in file order
/// (in the order of `trial.machines`, whose `records` are not looked at), showing each event to
/// `watch`. `events`, when known, is the trial's number of rows: vector clocks are then worked out
/// only if the whole trial fits [`MAX_ENTRIES`](crate::analysis::causality::MAX_ENTRIES) (when not
/// known, they stop being worked out, and no causality figure is given, once it no longer fits).
/// The first error of a log ends the pass.
pub fn analyze_rows<I, E>(
    trial: &TrialInput,
    logs: Vec<I>,
    events: Option<u64>,
    watch: &mut impl Watch,
) -> Result<Streamed, E>
where
    I: Iterator<Item = Result<Record, E>>,
{
    let n = trial.machines.len();
    let start_us = trial.start_us;
    let mut rows = merge_by_clock(logs);
    rows.start()?;
    // Drift is sampled from the latest first row (every machine has begun) on.
    let first_instant = rows.heads().map(|(_, r)| r.system_time_us).max();
    let mut machines: Vec<MachineState> = trial
        .machines
        .iter()
        .map(|m| MachineState::new(row_deadline(m, 0).is_some()))
        .collect();
    let mut present = vec![false; n];
    for (i, _) in rows.heads() {
        present[i] = true;
    }
    let mut drift = Drift::new(present, first_instant, start_us);
    let mut flights = Flights::new(n);
    let mut causal = Some(Causal::new(n)).filter(|c| events.is_none_or(|e| c.fits(e)));
    let mut phases = Phases::new(&trial.faults, n);
    let mut taken = 0u64;
    while let Some(row) = rows.next() {
        let MergedRow {
            machine: i,
            index: k,
            record: r,
        } = row?;
        let m = &trial.machines[i];
        let t = r.system_time_us;
        let event = EventRef {
            machine: i,
            index: k,
        };
        taken += 1;
        if causal.as_ref().is_some_and(|c| !c.fits(taken)) {
            causal = None;
        }
        flights.passed(i, t, machines[i].rows);
        drift.before_row(i, t, machines[i].last.map(|l| l.logical_clock));
        // A receive: its send, if one is in flight.
        let key = r.peer.zip(r.seq);
        let message = match (r.event, key) {
            (EventKind::Receive, Some(key)) => flights.get(key),
            _ => None,
        };
        let state = &mut machines[i];
        if let Some(f) = message {
            let latency = i128::from(t) - i128::from(f.sent.time_us);
            *state.latency_us.entry(latency as i64).or_insert(0) += 1;
            if let (Some(count), Some(sent), Some(own)) = (
                state.same_instant.as_mut(),
                f.deadline_ns,
                row_deadline(m, k),
            ) {
                *count += u64::from(sent >= own);
            }
        } else if r.event == EventKind::Receive {
            state.unmatched += 1;
        }
        let real = m.clock.real_us(start_us, t);
        let step = causal.as_mut().map(|c| {
            let send = message.and_then(|f| Some((f.vector.as_deref()?, f.chain, f.hlc)));
            if r.event == EventKind::Receive && send.is_none() {
                c.unmatched += 1;
            }
            c.take(event, (t, real), r.logical_clock, send)
        });
        let sent = message.map(|f| f.sent);
        let vector = causal.as_ref().map(|c| c.vector(i));
        watch.seen(&Seen {
            event,
            record: &r,
            send: sent,
            vector,
            hlc: step.map(|s| s.hlc),
        });
        // How many of its own rows the receive waited: those after the send.
        if let (Some(sent), Some(key)) = (sent, key) {
            let waited = match flights.taken(key, i) {
                Some(known) => k as u64 - known.unwrap_or(k as u64).min(k as u64),
                None => machines[i].rows_after(sent.time_us).unwrap_or(0),
            };
            *machines[i].waits.entry(waited).or_insert(0) += 1;
        }
        // A send: in flight until each receiver takes it.
        if let (EventKind::Send | EventKind::Broadcast, Some(seq)) = (r.event, r.seq) {
            let key = (m.id, seq);
            if !flights.contains(key) {
                let receivers: Vec<usize> = match (r.event, r.peer) {
                    (EventKind::Send, Some(p)) => position(trial, p).into_iter().collect(),
                    _ => (0..n).filter(|&j| j != i).collect(),
                };
                let waiting = receivers
                    .into_iter()
                    .map(|j| {
                        let s = &machines[j];
                        (j, s.rows_after(t).map(|after| s.rows - after))
                    })
                    .collect();
                let message = InFlight {
                    sent: Sent {
                        event,
                        time_us: t,
                        kind: r.event,
                    },
                    deadline_ns: row_deadline(m, k),
                    vector: vector.map(Into::into),
                    chain: step.map_or(0, |s| s.chain),
                    hlc: step.map_or_else(Hlc::default, |s| s.hlc),
                    waiting,
                };
                flights.send(key, message);
            }
        }
        let jump = r
            .logical_clock
            .saturating_sub(machines[i].last.map_or(0, |l| l.logical_clock));
        if phases.any() {
            phases.take(PhaseRow {
                machine: i,
                index: k as u64,
                at_us: i128::from(real) - i128::from(start_us),
                jump,
                queue: r.queue_len,
                causal: causal
                    .as_ref()
                    .zip(step)
                    .map(|(c, s)| (c.vector(i), s.hlc.l.saturating_sub(real), s.hlc.c)),
            });
        }
        machines[i].take(&r, start_us);
        // Row times no send still to come can need (each is at or after its log's next row).
        if taken % FORGET_EVERY == 0 {
            if let Some(floor) = rows.heads().map(|(_, r)| r.system_time_us).min() {
                for s in &mut machines {
                    s.forget_before(floor);
                }
            }
        }
    }
    let lasts: Vec<Option<(u64, u64)>> = machines
        .iter()
        .map(|s| s.last.map(|r| (r.system_time_us, r.logical_clock)))
        .collect();
    let (drifts, trial_drift, series) = drift.finish(&lasts);
    let mut analyses = Vec::with_capacity(n);
    let (mut jumps, mut waits, mut latency) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for ((m, s), drift) in trial.machines.iter().zip(&machines).zip(drifts) {
        let mut a = s.figures(m);
        a.drift = drift;
        add_counts(&mut jumps, &a.jump_histogram);
        add_counts(&mut waits, &s.waits);
        add_counts(&mut latency, &s.latency_us);
        analyses.push(a);
    }
    let causality = causal.as_ref().map(|c| TrialCausality {
        figures: c.figures(),
        hlc: c.hlc_figures(trial.machines.iter().map(|m| m.id)),
    });
    let analysis = TrialAnalysis {
        trial: trial.trial,
        dir: trial.dir.clone(),
        seed: trial.seed,
        start_us,
        problems: trial.problems.clone(),
        machines: analyses,
        drift: trial_drift,
        series,
        jumps: Distribution::of_counts(&jumps),
        latency_ms: Distribution::of_scaled_counts(&latency, 1000.0),
        wait_ticks: Distribution::of_counts(&waits),
        causality,
        plan: trial.faults.iter().map(weather::label).collect(),
        weather: phases.figures(causal.is_some()),
    };
    let unreceived = flights
        .into_unreceived()
        .into_iter()
        .map(|f| {
            let mut receivers: Vec<usize> = f.waiting.iter().map(|w| w.0).collect();
            receivers.sort_unstable();
            Unreceived {
                send: f.sent,
                receivers,
            }
        })
        .collect();
    Ok(Streamed {
        analysis,
        unreceived,
    })
}

/// The position in `trial` of machine `id`.
fn position(trial: &TrialInput, id: u16) -> Option<usize> {
    trial.machines.binary_search_by_key(&id, |m| m.id).ok()
}

/// Adds the counts of `more` to `into`.
fn add_counts<K: Ord + Copy>(into: &mut BTreeMap<K, u64>, more: &BTreeMap<K, u64>) {
    for (&k, &c) in more {
        *into.entry(k).or_insert(0) += c;
    }
}
