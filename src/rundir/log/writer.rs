//! The writing side of the event logs: [`LogWriter`], one row per `write`; [`write_whole_log`] for
//! a log made all at once, and [`LogTexts`], every machine's log of a trial made in memory.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use super::log_path;
use crate::core::event::{HEADER, MAX_ID, MIN_ID, Record, RowText, append_record};
use crate::core::wire::MAX_CLOCK;

/// An io::Error that says which file it happened to.
fn with_path(path: &Path, what: &str, err: io::Error) -> io::Error {
    io::Error::new(err.kind(), format!("{}: {what}: {err}", path.display()))
}

/// Writes one machine's log. Every row goes to the file in one `write_all` of the whole line, with no
/// buffer in between, so a crash of the process loses at most the event in progress and leaves no
/// half line behind. A write that fails partway (on a full disk, say) is undone: the file is cut
/// back to its last whole row, and the writer refuses every later row, so a log always ends in a
/// whole row. The rows are then in the OS, not necessarily on disk: there is no fsync.
#[derive(Debug)]
pub struct LogWriter {
    file: File,
    path: PathBuf,
    machine: u16,
    rows: u64,
    /// Bytes of the header and the whole rows written so far.
    len: u64,
    /// The first write error, after which nothing more is written.
    failed: Option<(io::ErrorKind, String)>,
}

impl LogWriter {
    /// Creates `dir/machine-<id>.csv` (the directory must exist) and writes the header line. Fails,
    /// naming the path, if the file already exists: a log is never overwritten. `machine` must be a
    /// machine id, 1 to 65534.
    pub fn create(dir: &Path, machine: u16) -> io::Result<LogWriter> {
        let path = log_path(dir, machine);
        if !(MIN_ID..=MAX_ID).contains(&machine) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{}: machine id {machine}: ids run from {MIN_ID} to {MAX_ID}",
                    path.display()
                ),
            ));
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| with_path(&path, "cannot create the event log", e))?;
        let header = format!("{HEADER}\n");
        if let Err(e) = file.write_all(header.as_bytes()) {
            // Leave an empty file, not half a header: the reader names an empty log as such.
            let _ = file.set_len(0);
            return Err(with_path(&path, "cannot write the header", e));
        }
        Ok(LogWriter {
            file,
            path,
            machine,
            rows: 0,
            len: header.len() as u64,
            failed: None,
        })
    }

    /// Writes one row with a single `write_all` of the whole line. Refuses, writing nothing, a
    /// record [`read_log`](super::read_log) would refuse: one of another machine, one whose optional fields do not
    /// match its event (see [`Record::fields_match_event`]), a peer that is not a machine id or a
    /// `msg_clock` above [`MAX_CLOCK`].
    pub fn append(&mut self, rec: &Record) -> io::Result<()> {
        let readable = rec.machine == self.machine
            && rec.fields_match_event()
            && rec.peer.is_none_or(|p| (MIN_ID..=MAX_ID).contains(&p))
            && rec.msg_clock <= Some(MAX_CLOCK);
        if !readable {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{}: refusing to log {rec:?}: every row is machine {}'s, with peer, msg_clock \
                     and seq as its event requires (docs/LOGS.md)",
                    self.path.display(),
                    self.machine
                ),
            ));
        }
        if let Some((kind, why)) = &self.failed {
            return Err(io::Error::new(*kind, why.clone()));
        }
        let row = RowText::new(rec);
        let line = row.as_bytes();
        if let Err(e) = self.file.write_all(line) {
            let err = with_path(&self.path, "cannot write a row", e);
            self.failed = Some((err.kind(), err.to_string()));
            // Cut off whatever part of the row reached the file. Shortening a file needs no space,
            // so this works on a full disk too; if it fails all the same, the reader reports the
            // partial row and the summary says why.
            let _ = self
                .file
                .set_len(self.len)
                .and_then(|()| self.file.seek(SeekFrom::Start(self.len)));
            return Err(err);
        }
        self.len += line.len() as u64;
        self.rows += 1;
        Ok(())
    }

    /// The first error that stopped this log, if one did: its kind and its message, which names
    /// the file (`machine-2.csv: cannot write a row: No space left on device (os error 28)`).
    pub fn failure(&self) -> Option<(io::ErrorKind, &str)> {
        self.failed
            .as_ref()
            .map(|(kind, why)| (*kind, why.as_str()))
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The machine whose log this is.
    pub fn machine(&self) -> u16 {
        self.machine
    }

    /// How many rows have been written, not counting the header.
    pub fn rows(&self) -> u64 {
        self.rows
    }
}

/// Writes a whole log at once, in one `write_all`: `text` must be the header line and the rows, as
/// [`RowText`](crate::core::event::RowText) makes them. Like [`LogWriter::create`], it never
/// overwrites an existing file. The simulator uses it: a simulated trial has no crash to survive,
/// so one write beats one per row.
pub fn write_whole_log(path: &Path, text: impl AsRef<[u8]>) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| with_path(path, "cannot create the event log", e))?;
    file.write_all(text.as_ref())
        .map_err(|e| with_path(path, "cannot write the event log", e))
}

/// Every machine's log of one trial, made in memory and written at once with [`write_whole_log`]:
/// the simulator's logs, which have no crash to survive. Each log is one block of bytes that grows
/// by a row at a time ([`append_record`], no `format!`) and goes to its file in one `write_all`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogTexts {
    /// Machine `id`'s log at `id - 1`: the header line, then its rows.
    texts: Vec<Vec<u8>>,
}

impl LogTexts {
    /// Empty logs, the header line alone, for machines `1..=machines`.
    pub fn new(machines: usize) -> LogTexts {
        LogTexts {
            texts: vec![format!("{HEADER}\n").into_bytes(); machines],
        }
    }

    /// Adds `rec` as a row of its machine's log, which must be one of `1..=machines`.
    pub fn append(&mut self, rec: &Record) {
        append_record(rec, &mut self.texts[usize::from(rec.machine) - 1]);
    }

    /// Writes every log to `dir/machine-<id>.csv`, by id, never overwriting a file. Stops at the
    /// first that fails, answering its path and the error.
    pub fn write(&self, dir: &Path) -> Result<(), (PathBuf, io::Error)> {
        for (i, text) in self.texts.iter().enumerate() {
            // `new` took at most one log per machine id, so the index fits.
            let path = log_path(dir, i as u16 + 1);
            write_whole_log(&path, text).map_err(|e| (path, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::EventKind;
    use crate::rundir::log::read_log;

    fn internal(machine: u16, logical_clock: u64) -> Record {
        Record {
            machine,
            event: EventKind::Internal,
            system_time_us: 1_764_096_000_000_000 + logical_clock,
            logical_clock,
            queue_len: 0,
            peer: None,
            msg_clock: None,
            seq: None,
        }
    }

    #[test]
    fn log_texts_write_every_machine_s_log_by_id_and_never_overwrite() {
        let dir = std::env::temp_dir().join(format!("clocklab-logtexts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut logs = LogTexts::new(3);
        let rows = [internal(2, 1), internal(1, 1), internal(2, 2)];
        for row in &rows {
            logs.append(row);
        }
        logs.write(&dir).unwrap();
        assert_eq!(read_log(&log_path(&dir, 1)).unwrap(), [rows[1]]);
        assert_eq!(read_log(&log_path(&dir, 2)).unwrap(), [rows[0], rows[2]]);
        assert_eq!(read_log(&log_path(&dir, 3)).unwrap(), []);
        let (path, e) = logs.write(&dir).unwrap_err();
        assert_eq!(
            (path, e.kind()),
            (log_path(&dir, 1), io::ErrorKind::AlreadyExists)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
