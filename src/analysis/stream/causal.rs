//! Vector clocks, causal chains and hybrid clocks as the stream goes: each machine's latest vector
//! clock, chain and hybrid timestamp, and the counts behind the causality figures.
//!
//! The pairs are counted without comparing them: of the `E (E - 1) / 2` pairs of distinct events,
//! those ordered by happened-before are counted once each, from their later event `e`, as the
//! events `e` knows of besides itself (the sum of its vector clock, minus one); the rest are
//! concurrent. Of the concurrent pairs, those with equal Lamport clocks are the pairs of events of
//! different machines with the same clock (logs that keep the receive rule give an ordered pair
//! different clocks), which the stream meets one after another, as it takes events by clock.

use crate::analysis::causality::{CausalFigures, EventRef, MAX_ENTRIES};
use crate::analysis::hlc::{self, Hlc, HlcMachine};

/// The hybrid clock figures of one machine so far.
#[derive(Clone, Copy, Debug, Default)]
struct HlcFigures {
    drift_max_us: u64,
    drift_final_us: u64,
    counter_max: u32,
}

/// The vector, chain and hybrid clock state of a trial's machines.
#[derive(Debug)]
pub(super) struct Causal {
    n: usize,
    /// Per machine its latest vector clock (`n` entries each, one after another).
    vectors: Vec<u32>,
    /// Per machine the sum of its latest vector clock.
    sums: Vec<u64>,
    /// Per machine the longest chain ending at its latest event.
    chains: Vec<u64>,
    /// Per machine its latest hybrid timestamp.
    hlcs: Vec<Hlc>,
    hlc_figures: Vec<HlcFigures>,
    events: u64,
    /// Ordered pairs: per event, the events that happened before it.
    ordered: u64,
    /// Pairs of events of different machines with the same Lamport clock.
    tied: u64,
    /// The clock of the latest events and the machines that had an event at it.
    run: Option<u64>,
    run_machines: Vec<usize>,
    longest: u64,
    /// Receives taken as local events: their send is in no log (or came after them).
    pub unmatched: u64,
}

/// What one event learned: its vector clock (in [`Causal::vector`]), chain and hybrid timestamp.
#[derive(Clone, Copy, Debug)]
pub(super) struct Step {
    pub chain: u64,
    pub hlc: Hlc,
}

impl Causal {
    /// The state before any event of `n` machines.
    pub fn new(n: usize) -> Causal {
        Causal {
            n,
            vectors: vec![0; n * n],
            sums: vec![0; n],
            chains: vec![0; n],
            hlcs: vec![Hlc::default(); n],
            hlc_figures: vec![HlcFigures::default(); n],
            events: 0,
            ordered: 0,
            tied: 0,
            run: None,
            run_machines: Vec::new(),
            longest: 0,
            unmatched: 0,
        }
    }

    /// Whether `events` events of these machines are within [`MAX_ENTRIES`] vector clock entries.
    pub fn fits(&self, events: u64) -> bool {
        events
            .checked_mul(self.n as u64)
            .is_some_and(|entries| entries <= MAX_ENTRIES as u64)
    }

    /// Machine `i`'s latest vector clock.
    pub fn vector(&self, i: usize) -> &[u32] {
        &self.vectors[i * self.n..(i + 1) * self.n]
    }

    /// Takes event `e` at wall time `pt` (real time `real_us`) with Lamport clock `lamport`; a
    /// matched receive names its send's vector, chain and hybrid timestamp.
    pub fn take(
        &mut self,
        e: EventRef,
        (pt, real_us): (u64, u64),
        lamport: u64,
        send: Option<(&[u32], u64, Hlc)>,
    ) -> Step {
        let (i, n) = (e.machine, self.n);
        let own = &mut self.vectors[i * n..(i + 1) * n];
        let mut chain = self.chains[i];
        let message = match send {
            Some((vector, send_chain, stamp)) => {
                for (mine, theirs) in own.iter_mut().zip(vector) {
                    *mine = (*mine).max(*theirs);
                }
                own[i] = e.index as u32 + 1;
                self.sums[i] = own.iter().map(|&v| u64::from(v)).sum();
                chain = chain.max(send_chain);
                Some(stamp)
            }
            None => {
                self.sums[i] += u64::from(e.index as u32 + 1 - own[i]);
                own[i] = e.index as u32 + 1;
                None
            }
        };
        chain += 1;
        self.chains[i] = chain;
        self.longest = self.longest.max(chain);
        self.events += 1;
        self.ordered += self.sums[i] - 1;
        // Ties: the events of other machines met before at the same clock.
        if self.run != Some(lamport) {
            self.run = Some(lamport);
            self.run_machines.clear();
        }
        let same_machine = self.run_machines.iter().filter(|&&m| m == i).count();
        self.tied += (self.run_machines.len() - same_machine) as u64;
        self.run_machines.push(i);
        let stamp = hlc::step(self.hlcs[i], pt, message);
        self.hlcs[i] = stamp;
        let f = &mut self.hlc_figures[i];
        let drift = stamp.l.saturating_sub(real_us);
        f.drift_max_us = f.drift_max_us.max(drift);
        f.drift_final_us = drift;
        f.counter_max = f.counter_max.max(stamp.c);
        Step { chain, hlc: stamp }
    }

    /// The causality figures of the events taken.
    pub fn figures(&self) -> CausalFigures {
        let events = self.events;
        let pairs = events * events.saturating_sub(1) / 2;
        let concurrent_pairs = pairs - self.ordered.min(pairs);
        CausalFigures::of_counts(
            events,
            concurrent_pairs,
            concurrent_pairs - self.tied.min(concurrent_pairs),
            self.longest,
            self.unmatched,
        )
    }

    /// Each machine's hybrid clock figures, `ids` giving their ids.
    pub fn hlc_figures(&self, ids: impl Iterator<Item = u16>) -> Vec<HlcMachine> {
        ids.zip(&self.hlc_figures)
            .map(|(id, f)| HlcMachine {
                id,
                drift_max_us: f.drift_max_us,
                drift_final_us: f.drift_final_us,
                counter_max: f.counter_max,
            })
            .collect()
    }
}
