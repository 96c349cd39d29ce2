//! The writing side of the event logs: [`LogWriter`], one row per `write`; [`write_whole_log`] for
//! a log made all at once, and [`LogBlocks`], every machine's log of a simulated trial written in
//! blocks of whole rows as the trial runs.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use super::log_path;
use crate::core::event::{HEADER, MAX_ID, MAX_ROW_LEN, MIN_ID, Record, RowText, append_record};
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

/// The most a [`LogBlocks`] holds for one machine before it writes the block out: 64 KiB, or less
/// with many machines, so that all the blocks together stay within [`BLOCKS_BUDGET`].
pub const BLOCK_LEN: usize = 64 << 10;
/// What a [`LogBlocks`] may hold in all, over every machine, before a block shrinks below
/// [`BLOCK_LEN`] (to at least 8 KiB).
pub const BLOCKS_BUDGET: usize = 16 << 20;

/// Every machine's log of one trial, written as the trial runs in blocks cut at whole rows: the
/// simulator's logs, which have no crash to survive, so they need not go out a row at a time. Each
/// machine's rows are formatted in place at the end of its block ([`append_record`], no
/// `format!`); a block goes to its file in one `write_all` when the next row might not fit, and
/// the last at [`finish`](LogBlocks::finish). A file therefore always ends in a whole row, as the
/// reader requires, and the memory held stays the same however long the trial.
///
/// A write that fails keeps its error for [`finish`](LogBlocks::finish), which answers it with
/// the file's path; the file is cut back to its last whole block (so to a whole row) and nothing
/// more is written to any log.
#[derive(Debug)]
pub struct LogBlocks {
    /// Machine `id`'s log at `id - 1`.
    logs: Vec<BlockLog>,
    /// The size of each block.
    block: usize,
    /// The first write that failed: its file and its error.
    failed: Option<(PathBuf, io::Error)>,
}

#[derive(Debug)]
struct BlockLog {
    file: File,
    path: PathBuf,
    /// Rows formatted and not yet written.
    block: Vec<u8>,
    /// Bytes written to the file so far, all of them whole rows.
    written: u64,
}

impl LogBlocks {
    /// Creates `dir/machine-<id>.csv` for machines `1..=machines` (at most 65534; the directory
    /// must exist), each starting with the header line. Fails at the first file that cannot be
    /// created, answering its path and the error (a file that exists already among them: a log is
    /// never overwritten).
    pub fn create(dir: &Path, machines: u16) -> Result<LogBlocks, (PathBuf, io::Error)> {
        let block = (BLOCKS_BUDGET / usize::from(machines.max(1))).clamp(8 << 10, BLOCK_LEN);
        let mut logs = Vec::with_capacity(usize::from(machines));
        for id in 1..=machines {
            let path = log_path(dir, id);
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| {
                    (
                        path.clone(),
                        with_path(&path, "cannot create the event log", e),
                    )
                })?;
            let mut text = Vec::with_capacity(block);
            text.extend_from_slice(HEADER.as_bytes());
            text.push(b'\n');
            logs.push(BlockLog {
                file,
                path,
                block: text,
                written: 0,
            });
        }
        Ok(LogBlocks {
            logs,
            block,
            failed: None,
        })
    }

    /// Adds `rec` as a row of its machine's log, which must be one of `1..=machines`; writes the
    /// machine's block out when another row might not fit. After a failed write it does nothing.
    pub fn append(&mut self, rec: &Record) {
        let log = &mut self.logs[usize::from(rec.machine) - 1];
        append_record(rec, &mut log.block);
        if log.block.len() + MAX_ROW_LEN > self.block && self.failed.is_none() {
            if let Err(e) = log.write_block() {
                self.failed = Some(e);
            }
        }
        if self.failed.is_some() {
            log.block.clear();
        }
    }

    /// Writes every machine's last block, by id, and closes the files. Answers the first write
    /// that failed, here or in [`append`](LogBlocks::append), with its path.
    pub fn finish(mut self) -> Result<(), (PathBuf, io::Error)> {
        if let Some(failed) = self.failed.take() {
            return Err(failed);
        }
        self.logs.iter_mut().try_for_each(BlockLog::write_block)
    }
}

impl BlockLog {
    /// Writes the block in one `write_all` and empties it; on failure, cuts the file back to what
    /// was written before it.
    fn write_block(&mut self) -> Result<(), (PathBuf, io::Error)> {
        if let Err(e) = self.file.write_all(&self.block) {
            // Shortening a file needs no space, so this works on a full disk too.
            let _ = self.file.set_len(self.written);
            return Err((
                self.path.clone(),
                with_path(&self.path, "cannot write the event log", e),
            ));
        }
        self.written += self.block.len() as u64;
        self.block.clear();
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

    /// A fresh directory for one test, removed on drop.
    struct Dir(PathBuf);

    impl Dir {
        fn new(test: &str) -> Dir {
            let dir = std::env::temp_dir()
                .join(format!("clocklab-logblocks-{}-{test}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Dir(dir)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn log_blocks_write_every_machine_s_log_by_id_and_never_overwrite() {
        let dir = Dir::new("by-id");
        let mut logs = LogBlocks::create(&dir.0, 3).unwrap();
        let rows = [internal(2, 1), internal(1, 1), internal(2, 2)];
        for row in &rows {
            logs.append(row);
        }
        logs.finish().unwrap();
        assert_eq!(read_log(&log_path(&dir.0, 1)).unwrap(), [rows[1]]);
        assert_eq!(read_log(&log_path(&dir.0, 2)).unwrap(), [rows[0], rows[2]]);
        assert_eq!(read_log(&log_path(&dir.0, 3)).unwrap(), []);
        let (path, e) = LogBlocks::create(&dir.0, 3).unwrap_err();
        assert_eq!(
            (path.as_path(), e.kind()),
            (log_path(&dir.0, 1).as_path(), io::ErrorKind::AlreadyExists)
        );
        assert!(
            e.to_string().contains("machine-1.csv: cannot create"),
            "{e}"
        );
    }

    /// A long log goes out in blocks as it grows, each ending in a whole row, and ends as the
    /// header and every row formatted one after another.
    #[test]
    fn log_blocks_write_whole_rows_as_the_log_grows() {
        let dir = Dir::new("blocks");
        let path = log_path(&dir.0, 1);
        let mut logs = LogBlocks::create(&dir.0, 2).unwrap();
        let mut want = format!("{HEADER}\n");
        let mut sizes = Vec::new();
        for k in 0..20_000 {
            let rec = Record {
                system_time_us: 1_767_225_600_000_000 + k * 4_999,
                ..internal(1, k)
            };
            logs.append(&rec);
            crate::core::event::format_record(&rec, &mut want);
            let size = std::fs::metadata(&path).unwrap().len();
            if sizes.last() != Some(&size) {
                sizes.push(size);
                let text = std::fs::read(&path).unwrap();
                assert!(size == 0 || text.ends_with(b"\n"), "a block ends mid-row");
                assert_eq!(text, want.as_bytes()[..text.len()]);
            }
        }
        // 20,000 rows of about 40 bytes: 800 kB in blocks of at most 64 KiB.
        assert!(sizes.len() > 10, "{sizes:?}");
        assert!(
            sizes.windows(2).all(|w| w[1] - w[0] <= BLOCK_LEN as u64),
            "{sizes:?}"
        );
        logs.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), want);
        assert_eq!(read_log(&log_path(&dir.0, 2)).unwrap(), []);
    }
}
