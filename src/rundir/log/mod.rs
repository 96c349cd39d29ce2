//! The event log files: one CSV file per machine, `machine-<id>.csv`, one row per event, flushed as
//! it is written; and the reader that the checker and the analysis build on. docs/LOGS.md describes
//! the format; [`crate::core::event`] defines the row.
//!
//! - [`LogWriter`] owns one file: it never overwrites an existing log, and writes each row with a
//!   single `write` of the whole line, unbuffered, so a crash loses at most the event in progress.
//! - [`read_log`] reads a log back strictly and answers with the rows or a [`LogError`] naming the
//!   file, the line, the field, the bad value and what is allowed. The header is line 1, so row `i`
//!   (0-based) of its answer is line `i + 2` of the file: errors found later can cite that line.
//! - Every log [`LogWriter`] writes, [`read_log`] reads back to the same records.
//!
//! This file holds the file names; `writer` the writing side ([`LogWriter`], [`write_whole_log`],
//! [`LogBlocks`], the simulator's, in blocks of whole rows),
//! `reader` the reading side ([`read_log`], [`read_log_whole_lines`], [`LogError`]), `rows` a log
//! read a row at a time ([`LogRows`], which they collect), `tail` a log
//! followed as it grows ([`LogTail`], for the live view), `merge` the logs of a trial as one stream
//! in causal order ([`merge_by_clock`], for the analysis and the checker).

use std::path::{Path, PathBuf};

use crate::core::event::{MAX_ID, MIN_ID};

mod merge;
mod reader;
mod rows;
mod tail;
mod writer;

pub use merge::{ByClock, MergedRow, merge_by_clock};
pub use reader::{LogError, read_log, read_log_whole_lines};
pub use rows::{LogRows, ROWS_BUFFER};
pub use tail::LogTail;
pub use writer::{BLOCK_LEN, BLOCKS_BUDGET, LogBlocks, LogWriter, write_whole_log};

/// The name of machine `machine`'s log: `machine-<id>.csv`.
pub fn log_file_name(machine: u16) -> String {
    format!("machine-{machine}.csv")
}

/// The path of machine `machine`'s log in `dir`.
pub fn log_path(dir: &Path, machine: u16) -> PathBuf {
    dir.join(log_file_name(machine))
}

/// The machine a file name such as `machine-2.csv` belongs to; `None` for any other name (only the
/// exact form [`log_file_name`] writes counts, so `machine-02.csv` is not machine 2's).
pub fn machine_of_file_name(name: &str) -> Option<u16> {
    let digits = name.strip_prefix("machine-")?.strip_suffix(".csv")?;
    let id: u16 = digits.parse().ok()?;
    (log_file_name(id) == name && (MIN_ID..=MAX_ID).contains(&id)).then_some(id)
}

#[cfg(test)]
mod tests;
