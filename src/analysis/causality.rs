//! Causality reconstructed offline from the logs: every receive is matched to its send by
//! `(source, seq)`, which gives the happened-before relation of a trial, and from it the vector
//! clock of every event, the pairs of concurrent events, how many of those the Lamport clocks still
//! order (false orderings), and the longest causal chain. Nothing on the wire changes: the vector
//! clocks are what the machines would have carried had they carried them.
//!
//! Pure: a [`TrialInput`] in, a [`Causality`] out. docs/ANALYSIS.md defines every figure and works
//! an example by hand.
//!
//! Events are named by [`EventRef`]: the machine's position in the trial (its index in
//! `TrialInput::machines`, not its id) and the row's position in its log. Vector clock entries are
//! in the same machine order.

use std::collections::HashMap;

use super::TrialInput;
use crate::core::event::EventKind;

/// The most vector clock entries (events times machines) worked out for one trial; a larger
/// trial gets no causality figures. [`reconstruct`] holds them all (about 400 MB at the limit);
/// the streaming pass (`analysis::stream`) holds a vector per machine and per message in flight,
/// but takes time in proportion to them.
pub const MAX_ENTRIES: usize = 100_000_000;

/// One event of a trial: its machine's position in the trial and its row's position in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventRef {
    /// The machine's index in `TrialInput::machines`.
    pub machine: usize,
    /// The row's index in that machine's log (row 0 is line 2 of the file).
    pub index: usize,
}

/// The happened-before relation of one trial, as vector clocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Causality {
    /// How many machines (the length of every vector clock).
    pub machines: usize,
    /// Per machine, how many events.
    pub counts: Vec<usize>,
    /// Per machine, its events' vector clocks one after another (`counts[i] * machines` entries).
    vectors: Vec<Vec<u32>>,
    /// Per machine and event, the send a receive was matched with (`None` for other events and
    /// for receives whose send is in no log).
    pub send_of: Vec<Vec<Option<EventRef>>>,
    /// Per machine and event, the longest causal chain ending at it, in events (itself included).
    pub chain: Vec<Vec<u64>>,
    /// Every event in an order consistent with happened-before (each receive after its send).
    pub order: Vec<EventRef>,
    /// Receives whose send is in no log of the trial; they count as local events.
    pub unmatched: u64,
    /// Receives whose send is in a log but could not come before them (the logs contradict
    /// each other: a message received before it was sent); they count as local events too.
    pub contradictions: u64,
}

/// The causality figures of one trial (docs/ANALYSIS.md, "Causality").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CausalFigures {
    /// Events of all machines.
    pub events: u64,
    /// Unordered pairs of distinct events: `events * (events - 1) / 2`.
    pub pairs: u64,
    /// Pairs of which neither happened before the other.
    pub concurrent_pairs: u64,
    /// Concurrent pairs with different Lamport clocks: the Lamport order puts one before the other
    /// although neither happened before the other.
    pub false_orderings: u64,
    /// `concurrent_pairs / pairs`; `None` without pairs.
    pub concurrent_share: Option<f64>,
    /// `false_orderings / concurrent_pairs`; `None` without concurrent pairs.
    pub false_ordering_share: Option<f64>,
    /// The most events on one causal chain (a path of the happened-before relation).
    pub longest_chain: u64,
    /// Receives counted as local events: their send is in no log, or the logs contradict it.
    pub unmatched_receives: u64,
}

impl CausalFigures {
    /// The figures of `events` events of which `concurrent_pairs` pairs are concurrent and
    /// `false_orderings` of those have different Lamport clocks: the pairs and the shares follow.
    pub fn of_counts(
        events: u64,
        concurrent_pairs: u64,
        false_orderings: u64,
        longest_chain: u64,
        unmatched_receives: u64,
    ) -> CausalFigures {
        let pairs = events * events.saturating_sub(1) / 2;
        CausalFigures {
            events,
            pairs,
            concurrent_pairs,
            false_orderings,
            concurrent_share: (pairs > 0).then(|| concurrent_pairs as f64 / pairs as f64),
            false_ordering_share: (concurrent_pairs > 0)
                .then(|| false_orderings as f64 / concurrent_pairs as f64),
            longest_chain,
            unmatched_receives,
        }
    }
}

impl Causality {
    /// The vector clock of event `e`: per machine (trial order), how many of its events happened
    /// before `e` or are `e`.
    pub fn vector(&self, e: EventRef) -> &[u32] {
        let n = self.machines;
        &self.vectors[e.machine][e.index * n..(e.index + 1) * n]
    }

    /// Whether `a` happened before `b` (`a -> b`; never for `a == b`).
    pub fn happened_before(&self, a: EventRef, b: EventRef) -> bool {
        a != b && self.vector(b)[a.machine] as usize > a.index
    }

    /// Whether neither of two distinct events happened before the other.
    pub fn concurrent(&self, a: EventRef, b: EventRef) -> bool {
        a != b && !self.happened_before(a, b) && !self.happened_before(b, a)
    }

    /// Per send or broadcast, the receives matched with it, in the order `order` met them.
    pub fn receives_of(&self) -> HashMap<EventRef, Vec<EventRef>> {
        let mut map: HashMap<EventRef, Vec<EventRef>> = HashMap::new();
        for &e in &self.order {
            if let Some(s) = self.send_of[e.machine][e.index] {
                map.entry(s).or_default().push(e);
            }
        }
        map
    }
}

/// The send or broadcast rows of a trial by `(sender id, seq)`; the first row wins a repeat.
fn sends_by_seq(trial: &TrialInput) -> HashMap<(u16, u32), EventRef> {
    let mut sends = HashMap::new();
    for (i, m) in trial.machines.iter().enumerate() {
        for (k, r) in m.records.iter().enumerate() {
            if let (EventKind::Send | EventKind::Broadcast, Some(seq)) = (r.event, r.seq) {
                sends.entry((m.id, seq)).or_insert(EventRef {
                    machine: i,
                    index: k,
                });
            }
        }
    }
    sends
}

/// Reconstructs the vector clock of every event of `trial`, or `None` when the trial is too large
/// ([`MAX_ENTRIES`]).
///
/// Each machine's events are taken in log order, and a receive only once its matched send has been
/// taken: a send, broadcast or internal event copies its machine's previous vector and adds one to
/// its own entry; a receive first takes the entrywise largest of that and its send's vector. A
/// receive whose send is in no log is a local event. Should every machine wait on a send not yet
/// taken (logs that contradict each other), the first such receive is made a local event.
pub fn reconstruct(trial: &TrialInput) -> Option<Causality> {
    let n = trial.machines.len();
    let counts: Vec<usize> = trial.machines.iter().map(|m| m.records.len()).collect();
    let total: usize = counts.iter().sum();
    if total
        .checked_mul(n)
        .is_none_or(|entries| entries > MAX_ENTRIES)
    {
        return None;
    }
    let sends = sends_by_seq(trial);
    let mut c = Causality {
        machines: n,
        vectors: counts.iter().map(|&k| Vec::with_capacity(k * n)).collect(),
        send_of: counts.iter().map(|&k| Vec::with_capacity(k)).collect(),
        chain: counts.iter().map(|&k| Vec::with_capacity(k)).collect(),
        order: Vec::with_capacity(total),
        counts,
        unmatched: 0,
        contradictions: 0,
    };
    let mut cursor = vec![0usize; n];
    let mut force = false;
    while c.order.len() < total {
        let mut progressed = false;
        for i in 0..n {
            while cursor[i] < c.counts[i] {
                let k = cursor[i];
                let r = &trial.machines[i].records[k];
                let mut send = None;
                if let (EventKind::Receive, Some(peer), Some(seq)) = (r.event, r.peer, r.seq) {
                    match sends.get(&(peer, seq)) {
                        None => c.unmatched += 1,
                        Some(&s) if cursor[s.machine] > s.index => send = Some(s),
                        Some(_) if force => {
                            c.contradictions += 1;
                            force = false;
                        }
                        Some(_) => break,
                    }
                }
                take(
                    &mut c,
                    EventRef {
                        machine: i,
                        index: k,
                    },
                    send,
                );
                cursor[i] += 1;
                progressed = true;
            }
        }
        // Nobody could move: every machine left waits on a send not yet taken.
        force = !progressed;
    }
    Some(c)
}

/// Appends event `e` (the next of its machine), merged with `send` if it is a matched receive.
fn take(c: &mut Causality, e: EventRef, send: Option<EventRef>) {
    let n = c.machines;
    let mut v = if e.index == 0 {
        vec![0u32; n]
    } else {
        c.vector(EventRef {
            index: e.index - 1,
            ..e
        })
        .to_vec()
    };
    let mut chain = if e.index == 0 {
        0
    } else {
        c.chain[e.machine][e.index - 1]
    };
    if let Some(s) = send {
        for (mine, theirs) in v.iter_mut().zip(c.vector(s)) {
            *mine = (*mine).max(*theirs);
        }
        chain = chain.max(c.chain[s.machine][s.index]);
    }
    v[e.machine] = e.index as u32 + 1;
    c.vectors[e.machine].extend_from_slice(&v);
    c.send_of[e.machine].push(send);
    c.chain[e.machine].push(chain + 1);
    c.order.push(e);
}

/// The causality figures of `trial` from its reconstructed `causality`.
///
/// Counting the concurrent pairs takes O(E · N · log E) for E events on N machines, not O(E²): for
/// an event e of machine i, the events of another machine j that happened before e are j's first
/// `V_e[j]`, and those e happened before are a suffix of j's events (those whose own vector has
/// more than e's index in entry i, a property that only grows along j's log), found by a walk
/// along j's log that only moves forward as e does. The events between are concurrent with e,
/// and being consecutive events of j, their Lamport clocks rise, so the one with e's Lamport
/// clock (if any) is found by binary search.
/// Every pair is met from both ends, so the sums are halved.
#[cfg(test)]
pub fn figures(trial: &TrialInput, c: &Causality) -> CausalFigures {
    let clocks: Vec<Vec<u64>> = trial
        .machines
        .iter()
        .map(|m| m.records.iter().map(|r| r.logical_clock).collect())
        .collect();
    let mut concurrent_twice = 0u64;
    let mut tied_twice = 0u64;
    for i in 0..c.machines {
        // Per machine j, the first of j's events that follows e: it only moves on as e does
        // (entry i only grows along j's log), so one walk over j's log per i finds them all.
        let mut after = vec![0usize; c.machines];
        for k in 0..c.counts[i] {
            let e = EventRef {
                machine: i,
                index: k,
            };
            let v = c.vector(e);
            let lamport = clocks[i][k];
            for j in (0..c.machines).filter(|&j| j != i) {
                let before = v[j] as usize;
                let follows = |f: usize| {
                    (c.vector(EventRef {
                        machine: j,
                        index: f,
                    })[i] as usize)
                        > k
                };
                while after[j] < c.counts[j] && !follows(after[j]) {
                    after[j] += 1;
                }
                let after_from = after[j];
                let range = &clocks[j][before..after_from.max(before)];
                concurrent_twice += range.len() as u64;
                let lo = range.partition_point(|&l| l < lamport);
                let hi = range.partition_point(|&l| l <= lamport);
                tied_twice += (hi - lo) as u64;
            }
        }
    }
    let events = c.counts.iter().sum::<usize>() as u64;
    let concurrent_pairs = concurrent_twice / 2;
    CausalFigures::of_counts(
        events,
        concurrent_pairs,
        concurrent_pairs - tied_twice / 2,
        c.chain.iter().flatten().copied().max().unwrap_or(0),
        c.unmatched + c.contradictions,
    )
}

/// Counts the concurrent pairs and false orderings by comparing every pair of events: O(E²), for
/// the tests to check [`figures`] against.
#[cfg(test)]
pub(crate) fn brute_force(trial: &TrialInput, c: &Causality) -> (u64, u64) {
    let all: Vec<EventRef> = (0..c.machines)
        .flat_map(|i| {
            (0..c.counts[i]).map(move |k| EventRef {
                machine: i,
                index: k,
            })
        })
        .collect();
    let clock = |e: EventRef| trial.machines[e.machine].records[e.index].logical_clock;
    let (mut concurrent, mut false_orderings) = (0, 0);
    for (x, &a) in all.iter().enumerate() {
        for &b in &all[x + 1..] {
            if c.concurrent(a, b) {
                concurrent += 1;
                if clock(a) != clock(b) {
                    false_orderings += 1;
                }
            }
        }
    }
    (concurrent, false_orderings)
}

#[cfg(test)]
pub(crate) mod tests;
