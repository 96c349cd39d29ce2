//! The reading side of the event logs: [`read_log`] and [`read_log_whole_lines`] check a log
//! strictly, field by field, and [`LogError`] says what is wrong and where. The rows are parsed
//! here ([`check_row`]) and read line by line by [`LogRows`] (in `rows`).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::LogRows;
use super::log_file_name;

use crate::core::event::{COLUMNS, EventKind, HEADER, MAX_ID, MIN_ID, NAMES, Record, presence};
use crate::core::wire::MAX_CLOCK;

/// Why a log could not be read. Every variant but `Io` names a line of the file (1-based; the header
/// is line 1 and row i of [`read_log`]'s answer is line i + 2).
#[derive(Debug)]
pub enum LogError {
    /// The file could not be opened or read.
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// The file is empty: not even a header.
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The first line is not [`HEADER`].
    Header {
        /// The file.
        path: PathBuf,
        /// The first line as found.
        found: String,
    },
    /// The last line has no newline: the writer was stopped in the middle of it.
    Truncated {
        /// The file.
        path: PathBuf,
        /// The line cut off.
        line: u64,
        /// What there is of it.
        text: String,
    },
    /// An empty line.
    BlankLine {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u64,
    },
    /// A line without exactly eight fields.
    FieldCount {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u64,
        /// The line as found.
        text: String,
        /// How many fields it has.
        found: usize,
    },
    /// A field holds a value it may not hold.
    Field {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u64,
        /// The column's name, as in [`HEADER`].
        field: &'static str,
        /// The value found.
        value: String,
        /// What is wrong with it and what is allowed.
        problem: String,
    },
}

impl LogError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            LogError::Io { path, .. }
            | LogError::Empty { path }
            | LogError::Header { path, .. }
            | LogError::Truncated { path, .. }
            | LogError::BlankLine { path, .. }
            | LogError::FieldCount { path, .. }
            | LogError::Field { path, .. } => path,
        }
    }

    /// The line the error is about (1-based), if it is about one.
    pub fn line(&self) -> Option<u64> {
        match self {
            LogError::Io { .. } => None,
            LogError::Empty { .. } | LogError::Header { .. } => Some(1),
            LogError::Truncated { line, .. }
            | LogError::BlankLine { line, .. }
            | LogError::FieldCount { line, .. }
            | LogError::Field { line, .. } => Some(*line),
        }
    }
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path().display())?;
        if let Some(line) = self.line() {
            write!(f, ":{line}")?;
        }
        match self {
            LogError::Io { source, .. } => write!(f, ": cannot read the log: {source}"),
            LogError::Empty { .. } => write!(
                f,
                ": the file is empty: a machine log starts with the header line \"{HEADER}\""
            ),
            LogError::Header { found, .. } => write!(
                f,
                ": header {found:?} is not a machine log header: it must be exactly \"{HEADER}\""
            ),
            LogError::Truncated { text, .. } => write!(
                f,
                ": the last line {text:?} has no newline: the log was cut off in the middle of a \
                 row (a crash while writing?); every line ends with a newline"
            ),
            LogError::BlankLine { .. } => write!(
                f,
                ": blank line: every line after the header is one row, and rows are never empty"
            ),
            LogError::FieldCount { text, found, .. } => write!(
                f,
                ": {text:?} has {found} fields: a row has {COLUMNS}, {HEADER}"
            ),
            LogError::Field {
                field,
                value,
                problem,
                ..
            } => write!(f, ": field {field}: {value:?} {problem}"),
        }
    }
}

impl std::error::Error for LogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LogError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A field that failed: its column, and what is wrong with its value.
struct Bad {
    column: usize,
    problem: String,
}

fn bad(column: usize, problem: impl Into<String>) -> Bad {
    Bad {
        column,
        problem: problem.into(),
    }
}

/// The value of a field of ASCII digits, if it is one and is at most `max`.
fn whole(bytes: &[u8], max: u64) -> Option<u64> {
    if bytes.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    (n <= max).then_some(n)
}

fn number(bytes: &[u8], column: usize, max: u64) -> Result<u64, Bad> {
    whole(bytes, max).ok_or_else(|| bad(column, format!("is not a whole number from 0 to {max}")))
}

fn machine_id(bytes: &[u8], column: usize) -> Result<u16, Bad> {
    whole(bytes, u64::from(MAX_ID))
        .and_then(|n| u16::try_from(n).ok())
        .filter(|&id| id >= MIN_ID)
        .ok_or_else(|| {
            bad(
                column,
                format!("is not a machine id: a whole number from {MIN_ID} to {MAX_ID}"),
            )
        })
}

/// `<seconds>.<six digits>`, in microseconds.
fn system_time(bytes: &[u8], column: usize) -> Result<u64, Bad> {
    const SHAPE: &str = "is not a time: seconds since the UNIX epoch, a dot and exactly six \
                         digits (e.g. 1764096000.123456)";
    let parts = bytes
        .iter()
        .position(|&b| b == b'.')
        .map(|dot| (&bytes[..dot], &bytes[dot + 1..]));
    let Some((secs, micros)) = parts.filter(|(_, micros)| micros.len() == 6) else {
        return Err(bad(column, SHAPE));
    };
    let (Some(secs), Some(micros)) = (whole(secs, u64::MAX), whole(micros, 999_999)) else {
        return Err(bad(column, SHAPE));
    };
    secs.checked_mul(1_000_000)
        .and_then(|us| us.checked_add(micros))
        .ok_or_else(|| {
            bad(
                column,
                format!(
                    "is too late: the latest time a log can hold is {}.{:06}",
                    u64::MAX / 1_000_000,
                    u64::MAX % 1_000_000
                ),
            )
        })
}

/// What a non-empty optional column holds, by event; used to explain a missing value.
fn role(event: EventKind, column: usize) -> &'static str {
    match (column, event) {
        (5, EventKind::Send) => "names the destination",
        (5, _) => "names the sender",
        (6, EventKind::Receive) => "carries the clock of the message received",
        (6, _) => "carries the clock of the message sent",
        (7, EventKind::Receive) => "carries the seq of the message received",
        _ => "carries the seq of the message sent",
    }
}

/// "a" or "an", before the event's word.
fn article(event: EventKind) -> &'static str {
    match event {
        EventKind::Internal => "an",
        _ => "a",
    }
}

/// The bytes of an optional column, checked for presence against the event.
fn optional<'a>(
    fields: &Fields<'a>,
    column: usize,
    event: EventKind,
    wanted: bool,
) -> Result<Option<&'a [u8]>, Bad> {
    let bytes = fields[column];
    match (wanted, bytes.is_empty()) {
        (true, false) => Ok(Some(bytes)),
        (false, true) => Ok(None),
        (true, true) => Err(bad(
            column,
            format!("is missing: a {event} row {}", role(event, column)),
        )),
        (false, false) => Err(bad(
            column,
            match column {
                5 => format!(
                    "must be empty: {} {event} row names no peer",
                    article(event)
                ),
                _ => format!(
                    "must be empty: {} {event} row carries no message",
                    article(event)
                ),
            },
        )),
    }
}

/// The fields of a row.
type Fields<'a> = [&'a [u8]; COLUMNS];

/// One row, checked field by field from left to right.
fn parse_row(fields: &Fields<'_>) -> Result<Record, Bad> {
    let machine = machine_id(fields[0], 0)?;
    let event = EventKind::from_word(fields[1]).ok_or_else(|| {
        bad(
            1,
            "is not an event: one of receive, send, broadcast, internal",
        )
    })?;
    let system_time_us = system_time(fields[2], 2)?;
    let logical_clock = number(fields[3], 3, u64::MAX)?;
    let queue_len = number(fields[4], 4, u64::from(u32::MAX))? as u32;
    let (wants_peer, wants_message) = presence(event);
    let peer = match optional(fields, 5, event, wants_peer)? {
        Some(b) => Some(machine_id(b, 5)?),
        None => None,
    };
    let msg_clock = match optional(fields, 6, event, wants_message)? {
        Some(b) => Some(number(b, 6, MAX_CLOCK)?),
        None => None,
    };
    let seq = match optional(fields, 7, event, wants_message)? {
        Some(b) => Some(number(b, 7, u64::from(u32::MAX))? as u32),
        None => None,
    };
    Ok(Record {
        machine,
        event,
        system_time_us,
        logical_clock,
        queue_len,
        peer,
        msg_clock,
        seq,
    })
}

/// The fields of one line, without its `\n`: split at every comma, with no quoting (a `\r`
/// stays in its field and fails its check); how many there are when not [`COLUMNS`].
fn split_fields(line: &[u8]) -> Result<Fields<'_>, usize> {
    let mut fields: Fields<'_> = [&[]; COLUMNS];
    let mut found = 0;
    for field in line.split(|&b| b == b',') {
        if let Some(slot) = fields.get_mut(found) {
            *slot = field;
        }
        found += 1;
    }
    if found == COLUMNS {
        Ok(fields)
    } else {
        Err(found)
    }
}

/// Reads a whole machine log, checking it strictly: the header must be exactly [`HEADER`]; every
/// line after it is one row of eight fields, each of which must parse; `system_time` has exactly six
/// decimals; `peer`, `msg_clock` and `seq` are present exactly as the event requires; `msg_clock`
/// is at most [`MAX_CLOCK`]; machine ids run from 1 to 65534; and every row has the same `machine`,
/// the one in the file name when it is named `machine-<id>.csv`. A last line without its newline is
/// [`LogError::Truncated`]. It collects [`LogRows::open`], which reads the same rows one at a time.
///
/// Line numbers: the header is line 1, so row `i` (0-based) of the answer is line `i + 2` of the
/// file. A log with a header and no rows is valid and gives an empty Vec.
pub fn read_log(path: &Path) -> Result<Vec<Record>, LogError> {
    LogRows::open(path).collect()
}

/// Reads a log that may have been cut off in the middle of its last row (its machine crashed while
/// writing): the rows of its whole lines, and the [`LogError::Truncated`] error of the cut-off line
/// if there was one. Every other problem is an error, as for [`read_log`]. It collects
/// [`LogRows::whole_lines`].
pub fn read_log_whole_lines(path: &Path) -> Result<(Vec<Record>, Option<LogError>), LogError> {
    let mut rows = LogRows::whole_lines(path);
    let records = rows.by_ref().collect::<Result<Vec<_>, _>>()?;
    Ok((records, rows.into_cut()))
}

/// The row on line `line` (`text`, without its `\n`): parsed, and its machine checked against the
/// file name or the first row.
pub(super) fn check_row(
    path: &Path,
    line: u64,
    text: &[u8],
    named: Option<u16>,
    first: &mut Option<u16>,
) -> Result<Record, LogError> {
    let fields = split_fields(text).map_err(|found| LogError::FieldCount {
        path: path.to_path_buf(),
        line,
        text: String::from_utf8_lossy(text).into_owned(),
        found,
    })?;
    let field_err = |b: Bad| LogError::Field {
        path: path.to_path_buf(),
        line,
        field: NAMES[b.column],
        value: String::from_utf8_lossy(fields[b.column]).into_owned(),
        problem: b.problem,
    };
    let rec = parse_row(&fields).map_err(field_err)?;
    let expected = named.or(*first).unwrap_or(rec.machine);
    if rec.machine != expected {
        let why = match named {
            Some(_) => format!(
                "is not this log's machine: the file is named {}, so every row has machine \
                 {expected}",
                log_file_name(expected)
            ),
            None => format!(
                "differs from line 2: every row of one log has the same machine ({expected})"
            ),
        };
        return Err(field_err(bad(0, why)));
    }
    *first = Some(rec.machine);
    Ok(rec)
}
