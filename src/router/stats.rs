//! What the router counts and writes as `router.yaml`.

use std::collections::BTreeMap;

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
}

/// A connection that ended, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedConnection {
    /// The peer's address.
    pub peer: String,
    /// The machine name it registered, if any.
    pub name: Option<String>,
    /// The machine id it was given, if any.
    pub id: Option<u16>,
    /// Why it ended.
    pub reason: String,
}

/// What the router did: written as `router.yaml` in the run directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterStats {
    /// The address the router listened on.
    pub listen: String,
    /// Machines expected.
    pub machines: u16,
    /// Machine names by id (index 0 is machine 1), once all registered.
    pub names: Vec<String>,
    /// The run's seed, as sent in every WELCOME.
    #[serde(default)]
    pub seed: u64,
    /// The common start time, nanoseconds since the UNIX epoch, once all registered.
    pub start_time_ns: Option<u64>,
    /// When the router stopped, nanoseconds since the UNIX epoch.
    pub stop_time_ns: u64,
    /// What stopped it.
    pub stopped_by: String,
    /// Frames and bytes received, by kind name.
    pub frames: BTreeMap<String, KindCount>,
    /// Deliveries for every ordered pair of machines that exchanged data.
    pub pairs: Vec<PairCount>,
    /// Every connection that ended, in the order it ended.
    pub connections: Vec<ClosedConnection>,
}

/// Delivery counts for every ordered pair, in one flat table indexed by (source, dest).
pub(super) struct PairTable {
    machines: usize,
    /// `[delivered, undeliverable]` at `(source - 1) * machines + (dest - 1)`.
    counts: Vec<[u64; 2]>,
}

impl PairTable {
    pub(super) fn new(machines: u16) -> PairTable {
        let machines = usize::from(machines);
        PairTable {
            machines,
            counts: vec![[0; 2]; machines * machines],
        }
    }

    pub(super) fn slot(&mut self, source: u16, dest: u16) -> &mut [u64; 2] {
        let index = (usize::from(source) - 1) * self.machines + usize::from(dest) - 1;
        &mut self.counts[index]
    }

    pub(super) fn to_vec(&self) -> Vec<PairCount> {
        let n = self.machines;
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, c)| c[0] + c[1] > 0)
            // Indices come from ids <= 65,534, so both halves fit u16.
            .map(|(i, c)| PairCount {
                source: (i / n + 1) as u16,
                dest: (i % n + 1) as u16,
                delivered: c[0],
                undeliverable: c[1],
            })
            .collect()
    }
}
