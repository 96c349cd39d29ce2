//! What the switchboard tells its driver: a connection's fate, the events to log, and the report
//! of what it did.

use std::collections::BTreeMap;

use super::{ConnId, KindCount, PairCount};
use crate::core::wire::Kind;

/// What the driver must do with a connection's socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Keep it open.
    Keep,
    /// Everything is written and the connection is closing: shut the socket's write side and
    /// keep reading until the peer's end (asked once per connection).
    ShutWrite,
    /// It is gone from the switchboard (its [`Event::Closed`] has the reason recorded): close
    /// the socket.
    Close,
}

/// Something that happened, for the driver to log or pass on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A connection said HELLO and waits for the others.
    Registered {
        /// The connection.
        conn: ConnId,
        /// The peer's address, as the driver gave it.
        peer: String,
        /// Its name.
        name: String,
    },
    /// Every machine has registered and been welcomed.
    Started {
        /// The common start time, nanoseconds since the UNIX epoch.
        start_time_ns: u64,
        /// Machine names by id (index 0 is machine 1).
        names: Vec<String>,
        /// The machines' peer addresses by id, as the driver gave them.
        peers: Vec<String>,
    },
    /// A connection was refused: it got an ERROR with `reason` and will be closed.
    Refused {
        /// The connection.
        conn: ConnId,
        /// The peer's address, as the driver gave it.
        peer: String,
        /// The name it registered, if any.
        name: Option<String>,
        /// The reason sent.
        reason: String,
    },
    /// An orderly stop has begun (BYE was sent to every connection).
    Stopping {
        /// What asked for it (e.g. "SIGTERM").
        cause: String,
    },
    /// A second stop during the stop: everything closes at once.
    StopNow {
        /// What asked for it.
        cause: String,
    },
    /// A connection is gone.
    Closed {
        /// The connection (its handle is free again).
        conn: ConnId,
        /// The record of it.
        closed: Closed,
    },
}

/// A connection that ended, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    /// The peer's address, as the driver gave it.
    pub peer: String,
    /// The machine name it registered, if any.
    pub name: Option<String>,
    /// The machine id it was given, if any.
    pub id: Option<u16>,
    /// Why it ended.
    pub reason: String,
    /// It was a machine that left without saying BYE.
    pub departed: bool,
}

/// What the switchboard did, for the router's statistics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Machine names by id, once all registered.
    pub names: Vec<String>,
    /// The common start time, once all registered.
    pub start_time_ns: Option<u64>,
    /// What stopped it, if something did.
    pub stopped_by: Option<String>,
    /// Frames and bytes received by kind, indexed as [`Kind::ALL`].
    pub frames: [KindCount; Kind::ALL.len()],
    /// Deliveries for every ordered pair that exchanged data.
    pub pairs: Vec<PairCount>,
    /// Every connection that ended, in the order it ended.
    pub closed: Vec<Closed>,
}

impl Report {
    /// Frames and bytes received by kind name, kinds never seen left out: `RouterStats.frames`
    /// (a real router's and a simulation's alike).
    pub fn frames_by_name(&self) -> BTreeMap<String, KindCount> {
        let kinds = Kind::ALL.iter().zip(&self.frames);
        kinds
            .filter(|(_, count)| count.frames > 0)
            .map(|(kind, &count)| (kind.name().to_string(), count))
            .collect()
    }
}
