//! Following a log while its machine writes it: [`LogTail`] keeps a byte offset into one
//! `machine-<id>.csv`, reads only what was appended since it last looked, and hands back the rows
//! of the whole lines among it, checked by the reader's own row parser ([`check_row`]) with the
//! line numbers [`super::read_log`] would give them. A last line without its newline yet (the
//! machine is in the middle of its `write`, or the read caught half of it) waits for the rest.
//!
//! A log only grows: its machine appends one whole row per `write` and never rewrites one
//! (`LogWriter`), so an offset stays valid. The live view (`clocklab watch`) tails every log of a
//! trial this way, a few times a second, at a cost that does not grow with the log.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::LogError;
use super::machine_of_file_name;
use super::reader::check_row;
use crate::core::event::{HEADER, Record};

/// One machine log, followed as it grows.
#[derive(Debug)]
pub struct LogTail {
    path: PathBuf,
    /// The machine the file name says, which every row must carry (as for `read_log`).
    named: Option<u16>,
    /// How many bytes of the file have been read.
    offset: u64,
    /// The bytes read after the last newline: the start of a line not yet whole.
    partial: Vec<u8>,
    /// The number of the next whole line (the header is line 1).
    line: u64,
    /// The machine of the first row, which every later row must carry.
    first: Option<u16>,
    /// Whether a line failed its check: the tail then reads no further.
    failed: bool,
}

impl LogTail {
    /// A tail of the log at `path`, from its first byte. The file need not exist yet.
    pub fn new(path: &Path) -> LogTail {
        LogTail {
            path: path.to_path_buf(),
            named: path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(machine_of_file_name),
            offset: 0,
            partial: Vec::new(),
            line: 1,
            first: None,
            failed: false,
        }
    }

    /// The file followed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many bytes of the file have been read, the line in progress included.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The bytes of the line in progress: read, but not yet ended by a newline.
    pub fn partial_line(&self) -> &[u8] {
        &self.partial
    }

    /// Reads what the file gained since the last call and answers the rows of the lines it
    /// completed. A file that does not exist yet has no rows. After an error (a line that fails
    /// the reader's checks) the tail stops: later calls answer no rows.
    pub fn poll_rows(&mut self) -> Result<Vec<Record>, LogError> {
        if self.failed {
            return Ok(Vec::new());
        }
        let io_err = |source: io::Error| LogError::Io {
            path: self.path.clone(),
            source,
        };
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(e)),
        };
        file.seek(SeekFrom::Start(self.offset)).map_err(io_err)?;
        let mut fresh = Vec::new();
        file.read_to_end(&mut fresh).map_err(io_err)?;
        self.handle_bytes(&fresh)
    }

    /// Takes `bytes` as the next bytes of the file and answers the rows of the lines they
    /// complete (the driver of [`LogTail::poll_rows`], apart so that it can be tested byte by
    /// byte).
    pub fn handle_bytes(&mut self, bytes: &[u8]) -> Result<Vec<Record>, LogError> {
        if self.failed {
            return Ok(Vec::new());
        }
        self.offset += bytes.len() as u64;
        self.partial.extend_from_slice(bytes);
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return Ok(Vec::new());
        };
        let whole: Vec<u8> = self.partial.drain(..=end).collect();
        let mut rows = Vec::new();
        for line in whole[..end].split(|&b| b == b'\n') {
            match self.handle_line(line) {
                Ok(Some(row)) => rows.push(row),
                Ok(None) => {}
                Err(e) => {
                    self.failed = true;
                    return Err(e);
                }
            }
        }
        Ok(rows)
    }

    /// One whole line, without its newline: the header, or a row.
    fn handle_line(&mut self, line: &[u8]) -> Result<Option<Record>, LogError> {
        let number = self.line;
        self.line += 1;
        let path = || self.path.clone();
        if number == 1 {
            let found = String::from_utf8_lossy(line).into_owned();
            return match found == HEADER {
                true => Ok(None),
                false => Err(LogError::Header {
                    path: path(),
                    found,
                }),
            };
        }
        if line.is_empty() {
            return Err(LogError::BlankLine {
                path: path(),
                line: number,
            });
        }
        check_row(&self.path, number, line, self.named, &mut self.first).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use std::fs::{self, OpenOptions};
    use std::io::Write;

    use super::*;
    use crate::core::event::{EventKind, format_record};
    use crate::rundir::log::read_log;

    fn row(k: u64) -> Record {
        Record {
            machine: 2,
            event: if k % 2 == 0 {
                EventKind::Internal
            } else {
                EventKind::Broadcast
            },
            system_time_us: 1_764_096_000_000_000 + k * 250_000,
            logical_clock: k,
            queue_len: (k % 3) as u32,
            peer: None,
            msg_clock: (k % 2 == 1).then_some(k),
            seq: (k % 2 == 1).then_some(k as u32),
        }
    }

    fn text(rows: impl IntoIterator<Item = u64>) -> String {
        let mut out = String::new();
        for k in rows {
            format_record(&row(k), &mut out);
        }
        out
    }

    fn temp_log(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("clocklab-tail-{}-{test}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the test directory");
        dir.join("machine-2.csv")
    }

    #[test]
    fn a_partial_last_line_waits_for_its_newline() {
        let mut tail = LogTail::new(Path::new("machine-2.csv"));
        let whole = format!("{HEADER}\n{}", text([1, 2]));
        let cut = whole.len() - 7;
        let first = tail.handle_bytes(&whole.as_bytes()[..cut]).unwrap();
        assert_eq!(first, vec![row(1)]);
        assert_eq!(
            tail.partial_line(),
            &whole.as_bytes()[whole.len() - text([2]).len()..cut]
        );
        assert_eq!(
            tail.handle_bytes(&whole.as_bytes()[cut..]).unwrap(),
            vec![row(2)]
        );
        assert!(tail.partial_line().is_empty());
        assert_eq!(tail.offset(), whole.len() as u64);
        // Byte by byte gives the same rows.
        let mut slow = LogTail::new(Path::new("machine-2.csv"));
        let rows: Vec<Record> = whole
            .as_bytes()
            .iter()
            .flat_map(|b| slow.handle_bytes(std::slice::from_ref(b)).unwrap())
            .collect();
        assert_eq!(rows, vec![row(1), row(2)]);
    }

    #[test]
    fn a_growing_file_is_read_from_where_the_tail_stopped() {
        let path = temp_log("grow");
        let mut tail = LogTail::new(&path);
        assert_eq!(tail.poll_rows().unwrap(), vec![], "no file yet, no rows");
        fs::write(&path, format!("{HEADER}\n{}", text([1]))).unwrap();
        assert_eq!(tail.poll_rows().unwrap(), vec![row(1)]);
        assert_eq!(tail.poll_rows().unwrap(), vec![], "nothing new");
        let more = text([2, 3, 4]);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&more.as_bytes()[..more.len() - 3]).unwrap();
        assert_eq!(tail.poll_rows().unwrap(), vec![row(2), row(3)]);
        file.write_all(&more.as_bytes()[more.len() - 3..]).unwrap();
        assert_eq!(tail.poll_rows().unwrap(), vec![row(4)]);
        assert_eq!(tail.offset(), fs::metadata(&path).unwrap().len());
        assert_eq!(
            read_log(&path).unwrap(),
            (1..=4).map(row).collect::<Vec<_>>()
        );
        let _ = fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_bad_line_is_named_as_the_reader_names_it_and_stops_the_tail() {
        let path = temp_log("bad");
        let bad = text([1]).replace("broadcast", "shout");
        fs::write(&path, format!("{HEADER}\n{}{bad}{}", text([1]), text([2]))).unwrap();
        let mut tail = LogTail::new(&path);
        let err = tail.poll_rows().unwrap_err();
        let whole_file = read_log(&path).unwrap_err();
        assert_eq!(err.to_string(), whole_file.to_string());
        assert_eq!(err.line(), Some(3));
        assert_eq!(
            tail.poll_rows().unwrap(),
            vec![],
            "a failed tail reads no further"
        );
        let _ = fs::remove_dir_all(path.parent().unwrap());
    }
}
