//! A log read a row at a time: [`LogRows`], the one parser of the event logs.
//! [`super::read_log`] and [`super::read_log_whole_lines`] collect it; the checker and the
//! analysis stream it, holding one row of each log instead of the log. Lines are split by hand
//! (a row whole in the read buffer is parsed where it lies), exactly as the csv crate's reader
//! split them before (no quoting, `\n` alone ends a line), which its tests hold it to.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::machine_of_file_name;
use super::reader::{LogError, check_row};
use crate::core::event::{HEADER, Record};

/// The reader's buffer: large enough that a log is read in few system calls, small enough that a
/// thousand logs open at once cost little.
pub const ROWS_BUFFER: usize = 64 * 1024;

/// The rows of one machine log, read and checked one at a time, exactly as strictly as
/// [`super::read_log`] (the same errors, messages and line numbers; the header is checked before
/// the first row). The first error is yielded and ends the stream.
///
/// In whole-lines mode ([`LogRows::whole_lines`]) a last line cut off without its newline ends the
/// stream without an error, and [`LogRows::cut`] answers its [`LogError::Truncated`]; a log cut
/// in its header has no whole line, and is [`LogError::Empty`].
pub struct LogRows<R = File> {
    path: PathBuf,
    /// The reader, or why the file could not be opened (yielded first).
    reader: Result<BufReader<R>, Option<io::Error>>,
    /// The line being read, with its `\n`.
    text: Vec<u8>,
    /// The machine the file name gives, which every row must carry.
    named: Option<u16>,
    /// The machine of the first row.
    first: Option<u16>,
    /// The line the next record should start on (the header is line 1).
    line: u64,
    whole_lines: bool,
    /// The cut-off last line, in whole-lines mode.
    cut: Option<LogError>,
    /// The stream has ended (after its last row or an error).
    done: bool,
    /// An item read ahead by [`LogRows::peek`].
    peeked: Option<Option<Result<Record, LogError>>>,
}

impl LogRows<File> {
    /// The rows of the log at `path`, strictly: a cut-off last line is an error, as for
    /// [`super::read_log`]. A file that cannot be opened yields its [`LogError::Io`].
    pub fn open(path: &Path) -> LogRows<File> {
        Self::from_file(path, false)
    }

    /// The rows of the whole lines of the log at `path` (as [`super::read_log_whole_lines`]): a
    /// last line without its newline ends the stream and is kept in [`LogRows::cut`].
    pub fn whole_lines(path: &Path) -> LogRows<File> {
        Self::from_file(path, true)
    }

    fn from_file(path: &Path, whole_lines: bool) -> LogRows<File> {
        LogRows::new(File::open(path), path, whole_lines)
    }
}

impl<R: Read> LogRows<R> {
    /// The rows of the log `source`; `path` names it in errors, and its file name, when it is
    /// `machine-<id>.csv`, gives the id every row must carry.
    pub fn from_reader(source: R, path: &Path, whole_lines: bool) -> LogRows<R> {
        LogRows::new(Ok(source), path, whole_lines)
    }

    fn new(source: io::Result<R>, path: &Path, whole_lines: bool) -> LogRows<R> {
        let reader = source.map(|source| BufReader::with_capacity(ROWS_BUFFER, source));
        LogRows {
            path: path.to_path_buf(),
            reader: reader.map_err(Some),
            text: Vec::new(),
            named: path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(machine_of_file_name),
            first: None,
            line: 1,
            whole_lines,
            cut: None,
            done: false,
            peeked: None,
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cut-off last line ([`LogError::Truncated`]), once a stream in whole-lines mode has met
    /// it; `None` before, for an intact log, and in strict mode (where it is yielded).
    pub fn cut(&self) -> Option<&LogError> {
        self.cut.as_ref()
    }

    /// Takes the cut-off last line ([`LogRows::cut`]).
    pub fn into_cut(self) -> Option<LogError> {
        self.cut
    }

    /// The next item without taking it: the same item [`Iterator::next`] then answers.
    pub fn peek(&mut self) -> Option<Result<&Record, &LogError>> {
        if self.peeked.is_none() {
            let item = self.read_next();
            self.peeked = Some(item);
        }
        self.peeked
            .as_ref()
            .and_then(|p| p.as_ref().map(Result::as_ref))
    }

    fn error(&self, make: impl FnOnce(PathBuf) -> LogError) -> Option<Result<Record, LogError>> {
        Some(Err(make(self.path.clone())))
    }

    /// Reads the next row, ending the stream after an error or the last row.
    fn read_next(&mut self) -> Option<Result<Record, LogError>> {
        if self.done {
            return None;
        }
        let item = self.step();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }

    /// Reads lines until the next row, the end, or the first error. The lines are plain
    /// comma-separated fields: no quoting, `\n` alone ends a line (a `\r` stays in its field and
    /// fails its check), and every line, the last too, ends with one.
    fn step(&mut self) -> Option<Result<Record, LogError>> {
        loop {
            let line = self.line;
            let reader = match &mut self.reader {
                Ok(reader) => reader,
                Err(e) => {
                    let source = e.take().unwrap_or_else(|| io::ErrorKind::NotFound.into());
                    return self.error(|path| LogError::Io { path, source });
                }
            };
            // A row whole in the buffer is read where it lies; anything else (the header, a line
            // across the buffer's end, the end of the file) through a copy.
            if line > 1 {
                let buf = match reader.fill_buf() {
                    Ok(buf) => buf,
                    Err(source) => return self.error(|path| LogError::Io { path, source }),
                };
                if let Some(end) = buf.iter().position(|&b| b == b'\n').filter(|&end| end > 0) {
                    let row = check_row(&self.path, line, &buf[..end], self.named, &mut self.first);
                    reader.consume(end + 1);
                    self.line += 1;
                    return Some(row);
                }
            }
            self.text.clear();
            if let Err(source) = reader.read_until(b'\n', &mut self.text) {
                return self.error(|path| LogError::Io { path, source });
            }
            let Some(text) = self.text.strip_suffix(b"\n") else {
                if self.text.is_empty() {
                    // The end, after the last whole line.
                    return match line {
                        1 => self.error(|path| LogError::Empty { path }),
                        _ => None,
                    };
                }
                let text = String::from_utf8_lossy(&self.text).into_owned();
                return match (self.whole_lines, line) {
                    // No whole line at all: not even a header.
                    (true, 1) => self.error(|path| LogError::Empty { path }),
                    (true, _) => {
                        self.cut = Some(LogError::Truncated {
                            path: self.path.clone(),
                            line,
                            text,
                        });
                        None
                    }
                    (false, _) => self.error(|path| LogError::Truncated { path, line, text }),
                };
            };
            if text.is_empty() {
                return self.error(|path| LogError::BlankLine { path, line });
            }
            self.line += 1;
            if line == 1 {
                if text != HEADER.as_bytes() {
                    let found = String::from_utf8_lossy(text).into_owned();
                    return self.error(|path| LogError::Header { path, found });
                }
                continue;
            }
            return Some(check_row(
                &self.path,
                line,
                text,
                self.named,
                &mut self.first,
            ));
        }
    }
}

impl<R> std::fmt::Debug for LogRows<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogRows")
            .field("path", &self.path)
            .field("line", &self.line)
            .field("whole_lines", &self.whole_lines)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: Read> Iterator for LogRows<R> {
    type Item = Result<Record, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.peeked.take() {
            Some(item) => item,
            None => self.read_next(),
        }
    }
}

#[cfg(test)]
mod tests;
