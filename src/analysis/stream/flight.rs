//! The messages in flight: sent, and not yet taken off every queue they were sent to. A send's
//! entry keeps what its receives need (its time and tick deadline, its vector clock, chain and
//! hybrid stamp) and goes once every receiver has taken it; what stays at the end of the trial
//! was never received.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::Sent;
use crate::analysis::hlc::Hlc;

/// A message by its sender's id and its seq.
pub(super) type Key = (u16, u32);

/// One message in flight.
#[derive(Debug)]
pub(super) struct InFlight {
    /// The send.
    pub sent: Sent,
    /// The send's tick deadline, nanoseconds after the start, when it can be told.
    pub deadline_ns: Option<u64>,
    /// The send's vector clock, when vector clocks are worked out.
    pub vector: Option<Box<[u32]>>,
    /// The longest causal chain ending at the send.
    pub chain: u64,
    /// The send's hybrid timestamp.
    pub hlc: Hlc,
    /// The machines (by position) still to take it, each with how many of its rows came no later
    /// than the send, once that is known.
    pub waiting: Vec<(usize, Option<u64>)>,
}

/// Every message in flight, and per machine the messages sent to it at a time none of its rows
/// had passed yet (whose count of rows no later than the send is known only when one does).
#[derive(Debug, Default)]
pub(super) struct Flights {
    messages: HashMap<Key, InFlight>,
    /// Per machine, `(send time, message)`, earliest first.
    pending_counts: Vec<BinaryHeap<Reverse<(u64, Key)>>>,
}

impl Flights {
    /// No message in flight among `machines` machines.
    pub fn new(machines: usize) -> Flights {
        Flights {
            messages: HashMap::new(),
            pending_counts: vec![BinaryHeap::new(); machines],
        }
    }

    /// Whether a message is in flight under `key` (a seq logged twice keeps its first send).
    pub fn contains(&self, key: Key) -> bool {
        self.messages.contains_key(&key)
    }

    /// Puts a message in flight. For each receiver whose count of rows no later than the send is
    /// not known yet, that count is filled in by [`Flights::passed`].
    pub fn send(&mut self, key: Key, message: InFlight) {
        for &(j, known) in &message.waiting {
            if known.is_none() {
                self.pending_counts[j].push(Reverse((message.sent.time_us, key)));
            }
        }
        self.messages.insert(key, message);
    }

    /// Machine `j` is about to take a row at `t_us`, having taken `rows` rows: every message sent
    /// to it before `t_us` now knows its count of `j`'s rows no later than the send.
    pub fn passed(&mut self, j: usize, t_us: u64, rows: u64) {
        let heap = &mut self.pending_counts[j];
        while let Some(&Reverse((sent, key))) = heap.peek() {
            if sent >= t_us {
                break;
            }
            heap.pop();
            if let Some(m) = self.messages.get_mut(&key) {
                for slot in m.waiting.iter_mut().filter(|s| s.0 == j) {
                    slot.1.get_or_insert(rows);
                }
            }
        }
    }

    /// The message in flight under `key`.
    pub fn get(&self, key: Key) -> Option<&InFlight> {
        self.messages.get(&key)
    }

    /// Machine `j` took message `key`: answers, when `j` was one of its receivers still to take
    /// it, how many of `j`'s rows came no later than the send (`None` inside when not known yet:
    /// none of them came after it). The message leaves when its last receiver has taken it.
    pub fn taken(&mut self, key: Key, j: usize) -> Option<Option<u64>> {
        let m = self.messages.get_mut(&key)?;
        let at = m.waiting.iter().position(|s| s.0 == j)?;
        let known = m.waiting.swap_remove(at).1;
        if m.waiting.is_empty() {
            self.messages.remove(&key);
        }
        Some(known)
    }

    /// The messages never taken by some receiver, by sender position and seq.
    pub fn into_unreceived(self) -> Vec<InFlight> {
        let mut left: Vec<InFlight> = self.messages.into_values().collect();
        left.sort_by_key(|m| (m.sent.event.machine, m.sent.event.index));
        left
    }
}
