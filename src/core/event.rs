//! One event of a model machine, as a row of its log: the [`Record`], its [`EventKind`], and
//! [`format_record`], the one function that turns a record into a CSV line (pure: a record in, a
//! line out). docs/LOGS.md describes the format; `rundir::log` writes and reads the files.

use std::fmt::{self, Write as _};

use crate::core::wire::ROUTER_ID;

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

impl Record {
    /// Whether `peer`, `msg_clock` and `seq` are present exactly as the event requires: all three
    /// for `receive` and `send`, the message's two for `broadcast`, none for `internal`.
    pub fn fields_match_event(&self) -> bool {
        let (peer, message) = presence(self.event);
        self.peer.is_some() == peer
            && self.msg_clock.is_some() == message
            && self.seq.is_some() == message
    }
}

/// Which optional columns an event fills: (`peer`, `msg_clock` and `seq`).
pub(crate) const fn presence(event: EventKind) -> (bool, bool) {
    match event {
        EventKind::Receive | EventKind::Send => (true, true),
        EventKind::Broadcast => (false, true),
        EventKind::Internal => (false, false),
    }
}

/// The smallest machine id.
pub(crate) const MIN_ID: u16 = 1;
/// The largest machine id (`0xFFFF` is the router's).
pub(crate) const MAX_ID: u16 = ROUTER_ID - 1;
/// How many columns a row has.
pub(crate) const COLUMNS: usize = 8;
/// The column names, in order.
pub(crate) const NAMES: [&str; COLUMNS] = [
    "machine",
    "event",
    "system_time",
    "logical_clock",
    "queue_len",
    "peer",
    "msg_clock",
    "seq",
];

/// Appends one row of the log, with its trailing `\n`, to `out`. Optional fields that are `None` are
/// left empty; nothing needs quoting because every field is a number or a fixed word.
pub fn format_record(rec: &Record, out: &mut String) {
    // Writing into a String cannot fail, so the fmt::Result carries nothing.
    let _ = write!(
        out,
        "{},{},{}.{:06},{},{},",
        rec.machine,
        rec.event,
        rec.system_time_us / 1_000_000,
        rec.system_time_us % 1_000_000,
        rec.logical_clock,
        rec.queue_len,
    );
    if let Some(peer) = rec.peer {
        let _ = write!(out, "{peer}");
    }
    out.push(',');
    if let Some(clock) = rec.msg_clock {
        let _ = write!(out, "{clock}");
    }
    out.push(',');
    if let Some(seq) = rec.seq {
        let _ = write!(out, "{seq}");
    }
    out.push('\n');
}
