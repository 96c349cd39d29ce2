//! The event log: one CSV file per machine, `machine-<id>.csv`, one row per event, flushed as it is
//! written; and the reader that the checker and the analysis build on. docs/LOGS.md describes the
//! format.

use std::fmt;

/// The header line of every machine log.
pub const HEADER: &str = "machine,event,system_time,logical_clock,queue_len,peer,msg_clock,seq";

/// What happened at one tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// A message was taken off the queue.
    Receive,
    /// A message was sent to one other machine.
    Send,
    /// A message was sent to every other machine.
    Broadcast,
    /// An internal event.
    Internal,
}

impl EventKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [EventKind; 4] = [
        EventKind::Receive,
        EventKind::Send,
        EventKind::Broadcast,
        EventKind::Internal,
    ];

    /// The word written in the `event` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::Receive => "receive",
            EventKind::Send => "send",
            EventKind::Broadcast => "broadcast",
            EventKind::Internal => "internal",
        }
    }

    /// The kind a word in the `event` column stands for.
    pub fn from_word(word: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == word)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of a machine log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// The machine's id.
    pub machine: u16,
    /// What happened.
    pub event: EventKind,
    /// Wall-clock time of the event, microseconds since the UNIX epoch (the log shows seconds with
    /// six decimals).
    pub system_time_us: u64,
    /// The logical clock after the event.
    pub logical_clock: u64,
    /// Messages left in the queue after the event.
    pub queue_len: u32,
    /// The sender for `receive`, the destination for `send`, none otherwise.
    pub peer: Option<u16>,
    /// The clock carried by the message received or sent; none for `internal`.
    pub msg_clock: Option<u64>,
    /// The seq carried by the message received or sent; none for `internal`.
    pub seq: Option<u32>,
}
