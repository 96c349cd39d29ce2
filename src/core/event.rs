//! One event of a model machine, as a row of its log: the [`Record`], its [`EventKind`], and
//! [`write_row`], the one formatter that turns a record into a CSV line (pure: a record in, a line
//! out), with its doors [`append_record`] (in place at the end of a byte buffer, the simulator's
//! fast path), [`RowText`] (a row on the stack, for the real client's writer) and
//! [`format_record`] (text). docs/LOGS.md describes the format; `rundir::log` writes and reads
//! the files.
//!
//! The formatter writes every digit in place, two at a time from a table, and the time as whole
//! seconds, a dot and six zero-padded digits of microseconds: no `format!`, no allocation, no
//! copy or call per field. (`itoa`, tried first, formats as fast, but each field then goes
//! through a copy out of its own buffer; writing in place lets [`append_record`] format straight
//! into a log's block. docs/BENCHMARKS.md has the figures.) The test module keeps the
//! `format!`-based formatter it replaced as its oracle.

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
    pub fn from_word(word: &[u8]) -> Option<EventKind> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str().as_bytes() == word)
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

/// The longest row [`write_row`] makes, its `\n` included: every field at its largest
/// (`65534,broadcast,18446744073709.551615,` then a `u64`, a `u32`, a peer, a `u64` and a `u32`).
pub const MAX_ROW_LEN: usize = 5 + 1 + 9 + 1 + 21 + 1 + 20 + 1 + 10 + 1 + 5 + 1 + 20 + 1 + 10 + 1;

/// The two digits of every number below 100, `00` to `99`.
const PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Writes `rec`'s row, with its trailing `\n`, at the start of `buf` and answers its length.
/// Optional fields that are `None` are left empty; nothing needs quoting because every field is a
/// number or a fixed word. Each digit is written in place, two at a time, and the word and the
/// fraction of a second as fixed-size pieces: no call per field, no copy of a scratch buffer.
pub fn write_row(rec: &Record, buf: &mut [u8; MAX_ROW_LEN]) -> usize {
    let mut at = put_int(buf, 0, rec.machine.into());
    // `,word,` padded to 11 bytes (the longest, `,broadcast,`); `at` is at most 5 here.
    let (word, len): (&[u8; 11], usize) = match rec.event {
        EventKind::Receive => (b",receive,  ", 9),
        EventKind::Send => (b",send,     ", 6),
        EventKind::Broadcast => (b",broadcast,", 11),
        EventKind::Internal => (b",internal, ", 10),
    };
    buf[at..at + 11].copy_from_slice(word);
    at += len;
    at = put_int(buf, at, rec.system_time_us / 1_000_000);
    // `.dddddd,`: the microseconds, six digits with their leading zeros.
    let micros = (rec.system_time_us % 1_000_000) as usize;
    let (hi, mid, lo) = (micros / 10_000, micros / 100 % 100, micros % 100);
    buf[at] = b'.';
    buf[at + 1..at + 3].copy_from_slice(&PAIRS[hi * 2..hi * 2 + 2]);
    buf[at + 3..at + 5].copy_from_slice(&PAIRS[mid * 2..mid * 2 + 2]);
    buf[at + 5..at + 7].copy_from_slice(&PAIRS[lo * 2..lo * 2 + 2]);
    buf[at + 7] = b',';
    at += 8;
    at = put_int(buf, at, rec.logical_clock);
    buf[at] = b',';
    at = put_int(buf, at + 1, rec.queue_len.into());
    buf[at] = b',';
    at += 1;
    if let Some(peer) = rec.peer {
        at = put_int(buf, at, peer.into());
    }
    buf[at] = b',';
    at += 1;
    if let Some(clock) = rec.msg_clock {
        at = put_int(buf, at, clock);
    }
    buf[at] = b',';
    at += 1;
    if let Some(seq) = rec.seq {
        at = put_int(buf, at, seq.into());
    }
    buf[at] = b'\n';
    at + 1
}

/// Writes `value` in decimal at `buf[at..]` and answers where it ends.
#[inline(always)]
fn put_int(buf: &mut [u8; MAX_ROW_LEN], at: usize, value: u64) -> usize {
    let end = at + value.checked_ilog10().map_or(1, |log| log as usize + 1);
    let (mut rest, mut i) = (value, end);
    while rest >= 100 {
        let pair = (rest % 100) as usize * 2;
        rest /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if rest >= 10 {
        let pair = rest as usize * 2;
        buf[i - 2..i].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        buf[i - 1] = b'0' + rest as u8;
    }
    end
}

/// One row of the log made by [`write_row`], on the stack: for a writer that sends each row on its
/// own ([`LogWriter`](crate::rundir::log::LogWriter)) or wants it as text.
#[derive(Clone, Copy)]
pub struct RowText {
    buf: [u8; MAX_ROW_LEN],
    len: usize,
}

impl RowText {
    /// Formats `rec` as its log row.
    pub fn new(rec: &Record) -> RowText {
        let mut buf = [0; MAX_ROW_LEN];
        let len = write_row(rec, &mut buf);
        RowText { buf, len }
    }

    /// The row's bytes, ASCII, its `\n` included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The row as text.
    pub fn as_str(&self) -> &str {
        // Every byte written is ASCII: digits, commas, a dot, an event word and `\n`.
        std::str::from_utf8(self.as_bytes()).expect("a log row is ASCII")
    }
}

impl fmt::Debug for RowText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RowText").field(&self.as_str()).finish()
    }
}

/// Appends one row of the log, with its trailing `\n`, to `out`, written in place: the fast path
/// of the simulator's logs, which grow by a row at a time.
pub fn append_record(rec: &Record, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + MAX_ROW_LEN, 0);
    let buf = out[start..]
        .first_chunk_mut::<MAX_ROW_LEN>()
        .expect("resized to hold the longest row");
    let len = write_row(rec, buf);
    out.truncate(start + len);
}

/// Appends one row of the log, with its trailing `\n`, to `out`: [`RowText`] as text.
pub fn format_record(rec: &Record, out: &mut String) {
    out.push_str(RowText::new(rec).as_str());
}

#[cfg(test)]
mod tests;
