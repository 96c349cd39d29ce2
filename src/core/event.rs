//! One event of a model machine, as a row of its log: the [`Record`], its [`EventKind`], and
//! [`RowText`], the one formatter that turns a record into a CSV line (pure: a record in, a line
//! out), with its two doors [`append_record`] (bytes, the writers' fast path) and
//! [`format_record`] (text). docs/LOGS.md describes the format; `rundir::log` writes and reads
//! the files.
//!
//! The formatter writes every field itself, the integers with `itoa` and the time as whole seconds,
//! a dot and six zero-padded digits of microseconds, into a buffer on the stack: no `format!`, no
//! allocation. The test module keeps the `format!`-based formatter it replaced as its oracle.

use std::fmt;

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

/// The longest row [`RowText`] makes, its `\n` included: every field at its largest
/// (`65534,broadcast,18446744073709.551615,` then a `u64`, a `u32`, a peer, a `u64` and a `u32`).
pub const MAX_ROW_LEN: usize = 5 + 1 + 9 + 1 + 21 + 1 + 20 + 1 + 10 + 1 + 5 + 1 + 20 + 1 + 10 + 1;

/// One row of the log, with its trailing `\n`, formatted on the stack. Optional fields that are
/// `None` are left empty; nothing needs quoting because every field is a number or a fixed word.
#[derive(Clone, Copy)]
pub struct RowText {
    buf: [u8; MAX_ROW_LEN],
    len: usize,
}

impl RowText {
    /// Formats `rec` as its log row.
    pub fn new(rec: &Record) -> RowText {
        let mut row = RowText {
            buf: [0; MAX_ROW_LEN],
            len: 0,
        };
        let mut ints = itoa::Buffer::new();
        row.push(ints.format(rec.machine).as_bytes());
        row.push(b",");
        row.push(rec.event.as_str().as_bytes());
        row.push(b",");
        row.push(ints.format(rec.system_time_us / 1_000_000).as_bytes());
        row.push(&micros(rec.system_time_us % 1_000_000));
        row.push(ints.format(rec.logical_clock).as_bytes());
        row.push(b",");
        row.push(ints.format(rec.queue_len).as_bytes());
        row.push(b",");
        if let Some(peer) = rec.peer {
            row.push(ints.format(peer).as_bytes());
        }
        row.push(b",");
        if let Some(clock) = rec.msg_clock {
            row.push(ints.format(clock).as_bytes());
        }
        row.push(b",");
        if let Some(seq) = rec.seq {
            row.push(ints.format(seq).as_bytes());
        }
        row.push(b"\n");
        row
    }

    fn push(&mut self, bytes: &[u8]) {
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// The row's bytes, ASCII.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The row as text.
    pub fn as_str(&self) -> &str {
        // Every byte pushed is ASCII: digits, commas, a dot, an event word and `\n`.
        std::str::from_utf8(self.as_bytes()).expect("a log row is ASCII")
    }
}

impl fmt::Debug for RowText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RowText").field(&self.as_str()).finish()
    }
}

/// `.dddddd,`: the fraction of a second of the time field, `micros` (below a million) as six
/// digits with leading zeros, then the comma that ends the field.
fn micros(micros: u64) -> [u8; 8] {
    let mut out = *b".000000,";
    let mut rest = micros;
    for digit in out[1..7].iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out
}

/// Appends one row of the log, with its trailing `\n`, to `out`: [`RowText`]'s bytes.
pub fn append_record(rec: &Record, out: &mut Vec<u8>) {
    out.extend_from_slice(RowText::new(rec).as_bytes());
}

/// Appends one row of the log, with its trailing `\n`, to `out`: [`RowText`] as text.
pub fn format_record(rec: &Record, out: &mut String) {
    out.push_str(RowText::new(rec).as_str());
}

#[cfg(test)]
mod tests;
