//! The router's books: frames and bytes received by kind, and deliveries for every ordered pair of
//! machines. The switchboard keeps them and the simulator keeps the same books, so a real run and
//! a simulated one write `router.yaml` alike.

use serde::{Deserialize, Serialize};

/// Frames and bytes of one kind that the router accepted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCount {
    /// Frames received.
    pub frames: u64,
    /// Bytes received, headers included.
    pub bytes: u64,
}

/// Delivery counts for one ordered pair of machines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairCount {
    /// The sender.
    pub source: u16,
    /// The destination.
    pub dest: u16,
    /// Frames written in full to the destination's connection.
    pub delivered: u64,
    /// Frames that could not be delivered: the destination had departed, or its connection closed
    /// before the frame was written in full.
    pub undeliverable: u64,
    /// Frames a fault plan held (a `delay`, or a partition in `hold` mode). Written only when
    /// not 0, as are `released` and `dropped`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub held: u64,
    /// Held frames that left the hold: queued to the destination at their release time (or
    /// undeliverable then, if it had departed). `held - released` were still held at the end.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub released: u64,
    /// Frames a partition in `drop` mode dropped.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped: u64,
}

/// Whether a count is 0 (left out of `router.yaml`, so fair weather writes what it always did).
fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl PairCount {
    /// Frames still held at the end: held and never released.
    pub fn still_held(&self) -> u64 {
        self.held.saturating_sub(self.released)
    }
}

/// Delivery counts for every ordered pair of machines `1..=n`, in one flat table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairTable {
    machines: usize,
    /// The counts of `(source, dest)` at `(source - 1) * machines + (dest - 1)`.
    counts: Vec<Books>,
}

/// One pair's books: every frame routed is, in the end, delivered, undeliverable, dropped by the
/// fault plan or still held by it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Books {
    /// Frames routed from the source to the destination.
    pub sent: u64,
    /// Frames written in full to the destination's connection.
    pub delivered: u64,
    /// Frames the destination will never get.
    pub undeliverable: u64,
    /// Frames the fault plan held.
    pub held: u64,
    /// Held frames that left the hold (queued, or undeliverable as they left).
    pub released: u64,
    /// Frames the fault plan dropped.
    pub dropped: u64,
}

impl Books {
    /// Frames held and not released yet.
    pub fn still_held(&self) -> u64 {
        self.held - self.released
    }

    /// Whether every frame routed is accounted for, once no outbox holds any:
    /// `sent = delivered + undeliverable + dropped + still held`.
    pub fn balance(&self) -> bool {
        self.sent == self.delivered + self.undeliverable + self.dropped + self.still_held()
    }
}

impl PairTable {
    /// An empty table for machines `1..=machines`.
    pub fn new(machines: u16) -> PairTable {
        let machines = usize::from(machines);
        PairTable {
            machines,
            counts: vec![Books::default(); machines * machines],
        }
    }

    fn books_mut(&mut self, source: u16, dest: u16) -> &mut Books {
        let index = (usize::from(source) - 1) * self.machines + usize::from(dest) - 1;
        &mut self.counts[index]
    }

    /// The books of `(source, dest)`; both ids are in `1..=machines`.
    pub fn books(&self, source: u16, dest: u16) -> Books {
        let index = (usize::from(source) - 1) * self.machines + usize::from(dest) - 1;
        self.counts[index]
    }

    /// Counts `frames` frames from `source` routed to `dest`.
    pub fn routed(&mut self, source: u16, dest: u16, frames: u64) {
        self.books_mut(source, dest).sent += frames;
    }

    /// Counts `frames` frames from `source` written in full to `dest`.
    pub fn delivered(&mut self, source: u16, dest: u16, frames: u64) {
        self.books_mut(source, dest).delivered += frames;
    }

    /// Counts `frames` frames from `source` that `dest` will never get.
    pub fn undeliverable(&mut self, source: u16, dest: u16, frames: u64) {
        self.books_mut(source, dest).undeliverable += frames;
    }

    /// Counts a frame from `source` to `dest` held by the fault plan.
    pub fn held(&mut self, source: u16, dest: u16) {
        self.books_mut(source, dest).held += 1;
    }

    /// Counts a held frame from `source` to `dest` that left the hold.
    pub fn released(&mut self, source: u16, dest: u16) {
        self.books_mut(source, dest).released += 1;
    }

    /// Counts a frame from `source` to `dest` dropped by the fault plan.
    pub fn dropped(&mut self, source: u16, dest: u16) {
        self.books_mut(source, dest).dropped += 1;
    }

    /// Every pair that exchanged data, by source then destination.
    pub fn to_vec(&self) -> Vec<PairCount> {
        let n = self.machines;
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, b)| b.delivered + b.undeliverable + b.held + b.dropped > 0)
            // Indices come from ids <= 65,534, so both halves fit u16.
            .map(|(i, b)| PairCount {
                source: (i / n + 1) as u16,
                dest: (i % n + 1) as u16,
                delivered: b.delivered,
                undeliverable: b.undeliverable,
                held: b.held,
                released: b.released,
                dropped: b.dropped,
            })
            .collect()
    }
}
