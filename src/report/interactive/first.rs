//! The events the interactive diagram holds, kept as a trial streams by: its first
//! [`MAX_EVENTS`] events by (time, machine, row), whatever order they come in, in a heap that
//! drops the latest when it grows past them. Each machine's events among them are a prefix of its
//! log (whose times never decrease), which is what the page shows.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::{Event, MAX_EVENTS};
use crate::analysis::TrialInput;
use crate::analysis::stream::{Seen, Watch};

/// One event held, ordered by its place in time: `(time, machine, row)`.
#[derive(Debug)]
struct Held {
    at: (u64, usize, usize),
    event: Event,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Held {}

impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Held {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at.cmp(&other.at)
    }
}

/// The first [`MAX_EVENTS`] events of a trial by time, as they stream by ([`Watch`]).
#[derive(Debug)]
pub struct FirstEvents {
    start_us: u64,
    machines: usize,
    /// The earliest events seen, the latest of them on top.
    heap: BinaryHeap<Held>,
    /// Every event seen.
    total: usize,
    /// The earliest and latest time seen.
    span: Option<(u64, u64)>,
}

/// What [`FirstEvents`] kept, once the trial went by.
#[derive(Clone, Debug, PartialEq)]
pub struct Kept {
    /// Per machine (trial order), its events among the first, in log order.
    pub machines: Vec<Vec<Event>>,
    /// How many events the trial has.
    pub total: usize,
    /// Its earliest and latest time, microseconds since the UNIX epoch; `None` without events.
    pub span: Option<(u64, u64)>,
}

impl FirstEvents {
    /// Nothing seen yet of the trial `head` (whose rows need not be there).
    pub fn new(head: &TrialInput) -> FirstEvents {
        FirstEvents {
            start_us: head.start_us,
            machines: head.machines.len(),
            heap: BinaryHeap::new(),
            total: 0,
            span: None,
        }
    }

    /// How many events are held.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The events kept, per machine in log order.
    pub fn finish(self) -> Kept {
        let mut machines: Vec<Vec<(usize, Event)>> = vec![Vec::new(); self.machines];
        for held in self.heap.into_vec() {
            let (_, i, k) = held.at;
            if let Some(m) = machines.get_mut(i) {
                m.push((k, held.event));
            }
        }
        let machines = machines
            .into_iter()
            .map(|mut m| {
                m.sort_unstable_by_key(|e| e.0);
                m.into_iter().map(|e| e.1).collect()
            })
            .collect();
        Kept {
            machines,
            total: self.total,
            span: self.span,
        }
    }
}

impl Watch for FirstEvents {
    fn seen(&mut self, e: &Seen<'_>) {
        let t = e.record.system_time_us;
        self.total += 1;
        self.span = Some(self.span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
        let at = (t, e.event.machine, e.event.index);
        let full = self.heap.len() >= MAX_EVENTS;
        if full && self.heap.peek().is_some_and(|top| top.at <= at) {
            return;
        }
        let (Some(vector), Some(h)) = (e.vector, e.hlc) else {
            return;
        };
        let send = e.send.map(|s| s.event);
        let event = Event::new(self.start_us, e.record, send, h, vector);
        self.heap.push(Held { at, event });
        if self.heap.len() > MAX_EVENTS {
            self.heap.pop();
        }
    }
}
