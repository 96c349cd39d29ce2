//! A log read a row at a time: [`LogRows`], the one parser of the event logs. [`super::read_log`]
//! and [`super::read_log_whole_lines`] collect it; the checker and the analysis stream it, holding
//! one row of each log instead of the log.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use csv::{ByteRecord, ReaderBuilder, Terminator};

use super::machine_of_file_name;
use super::reader::{LogError, check_row, line_text};
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
    reader: Result<csv::Reader<R>, Option<io::Error>>,
    fields: ByteRecord,
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
        // Plain comma-separated lines: no quoting, `\n` alone ends a line (a `\r` stays in the
        // field and fails its check).
        let reader = source.map(|source| {
            ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .quoting(false)
                .terminator(Terminator::Any(b'\n'))
                .buffer_capacity(ROWS_BUFFER)
                .from_reader(source)
        });
        LogRows {
            path: path.to_path_buf(),
            reader: reader.map_err(Some),
            fields: ByteRecord::new(),
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

    /// Reads records until the next row, the end, or the first error. The reader counts lines, so
    /// a record that ends on the line it started on had no newline, and one that ends further on
    /// followed blank lines (which the csv reader skips).
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
            let more = match reader.read_byte_record(&mut self.fields) {
                Ok(more) => more,
                Err(e) => {
                    let source: io::Error = e.into();
                    return self.error(|path| LogError::Io { path, source });
                }
            };
            let end = reader.position().line();
            if !more {
                return if end > line {
                    self.error(|path| LogError::BlankLine { path, line })
                } else if line == 1 {
                    self.error(|path| LogError::Empty { path })
                } else {
                    None
                };
            }
            if end > line + 1 {
                return self.error(|path| LogError::BlankLine { path, line });
            }
            if end == line {
                let text = line_text(&self.fields);
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
            }
            self.line += 1;
            if line == 1 {
                let found = line_text(&self.fields);
                if found != HEADER {
                    return self.error(|path| LogError::Header { path, found });
                }
                continue;
            }
            return Some(check_row(
                &self.path,
                line,
                &self.fields,
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
mod tests {
    use super::*;
    use crate::rundir::log::read_log;

    const ROW1: &str = "2,internal,1764096000.000001,1,0,,,\n";
    const ROW2: &str = "2,send,1764096000.000002,2,0,3,2,1\n";
    const BAD: &str = "2,inside,1764096000.000003,3,0,,,\n";

    /// `text` as `machine-2.csv` in a fresh directory, removed on drop.
    struct Log(PathBuf);

    impl Log {
        fn new(test: &str, text: &str) -> Log {
            let dir = std::env::temp_dir()
                .join(format!("clocklab-logrows-{}-{test}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("machine-2.csv");
            std::fs::write(&path, text).unwrap();
            Log(path)
        }
    }

    impl Drop for Log {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
        }
    }

    /// Every item of the stream, rows as their clocks and errors as their messages, and what
    /// follows its end (which must be nothing).
    fn items(mut rows: LogRows) -> (Vec<Result<u64, String>>, Option<String>) {
        let mut out = Vec::new();
        for item in rows.by_ref() {
            out.push(item.map(|r| r.logical_clock).map_err(|e| e.to_string()));
        }
        assert!(rows.next().is_none(), "the stream stays ended");
        (out, rows.cut().map(|c| c.to_string()))
    }

    fn header() -> String {
        format!("{HEADER}\n")
    }

    #[test]
    fn a_row_at_a_time_is_read_log_a_row_at_a_time() {
        let texts = [
            header() + ROW1 + ROW2,
            header() + ROW1 + BAD + ROW2,
            header() + ROW1 + "\n" + ROW2,
            header() + ROW1 + "2,internal,1764096000.000002,2,0,,,",
            "time,machine\n".to_owned() + ROW1,
            header() + "3,internal,1764096000.000001,1,0,,,\n",
            "\n".to_owned() + &header(),
        ];
        for (k, text) in texts.iter().enumerate() {
            let log = Log::new(&format!("same-{k}"), text);
            let (streamed, cut) = items(LogRows::open(&log.0));
            assert_eq!(cut, None, "strict mode keeps no cut");
            let whole = read_log(&log.0).map_err(|e| e.to_string());
            let expected: Vec<Result<u64, String>> = match whole {
                Ok(rows) => rows.iter().map(|r| Ok(r.logical_clock)).collect(),
                Err(e) => {
                    // The rows before the error, then the error itself.
                    let ok = streamed.iter().take_while(|i| i.is_ok()).cloned();
                    ok.chain([Err(e)]).collect()
                }
            };
            assert_eq!(streamed, expected, "log {k}: {text:?}");
        }
    }

    #[test]
    fn an_error_mid_file_ends_the_stream_with_read_logs_error() {
        let log = Log::new("mid", &(header() + ROW1 + BAD + ROW2));
        let path = log.0.display();
        let message = format!(
            "{path}:3: field event: \"inside\" is not an event: one of receive, send, broadcast, \
             internal"
        );
        assert_eq!(read_log(&log.0).unwrap_err().to_string(), message);
        assert_eq!(
            items(LogRows::open(&log.0)),
            (vec![Ok(1), Err(message)], None)
        );
        // Whole-lines mode is as strict about everything but a cut.
        let (streamed, cut) = items(LogRows::whole_lines(&log.0));
        assert_eq!((streamed.len(), cut), (2, None));
    }

    #[test]
    fn a_cut_off_last_line_ends_a_whole_lines_stream_and_is_kept() {
        let text = header() + ROW1 + ROW2 + "2,internal,17640";
        let log = Log::new("cut", &text);
        let cut = format!(
            "{}:4: the last line \"2,internal,17640\" has no newline: the log was cut off in the \
             middle of a row (a crash while writing?); every line ends with a newline",
            log.0.display()
        );
        assert_eq!(
            items(LogRows::whole_lines(&log.0)),
            (vec![Ok(1), Ok(2)], Some(cut.clone()))
        );
        assert_eq!(
            items(LogRows::open(&log.0)),
            (vec![Ok(1), Ok(2), Err(cut)], None)
        );
        // A header cut off leaves no whole line: an empty log, as read_log_whole_lines says.
        let log = Log::new("cut-header", "time,mach");
        let (streamed, cut) = items(LogRows::whole_lines(&log.0));
        let empty = format!(
            "{}:1: the file is empty: a machine log starts with the header line \"{HEADER}\"",
            log.0.display()
        );
        assert_eq!((streamed, cut), (vec![Err(empty)], None));
    }

    #[test]
    fn an_empty_file_is_an_error_and_a_header_alone_has_no_rows() {
        let log = Log::new("empty", "");
        let empty = format!(
            "{}:1: the file is empty: a machine log starts with the header line \"{HEADER}\"",
            log.0.display()
        );
        assert_eq!(
            items(LogRows::open(&log.0)),
            (vec![Err(empty.clone())], None)
        );
        assert_eq!(
            items(LogRows::whole_lines(&log.0)),
            (vec![Err(empty)], None)
        );
        let log = Log::new("header", &header());
        assert_eq!(items(LogRows::open(&log.0)), (vec![], None));
        assert_eq!(items(LogRows::whole_lines(&log.0)), (vec![], None));
    }

    #[test]
    fn a_missing_file_yields_its_io_error_once() {
        let path = std::env::temp_dir().join("clocklab-logrows-none/machine-2.csv");
        let (streamed, cut) = items(LogRows::open(&path));
        assert_eq!(cut, None);
        assert_eq!(streamed.len(), 1);
        let message = streamed[0].clone().unwrap_err();
        assert_eq!(message, read_log(&path).unwrap_err().to_string());
        assert!(message.contains("cannot read the log"), "{message}");
    }

    #[test]
    fn peek_shows_the_item_next_then_takes() {
        let log = Log::new("peek", &(header() + ROW1 + BAD));
        let mut rows = LogRows::open(&log.0);
        assert_eq!(rows.peek().unwrap().unwrap().logical_clock, 1);
        assert_eq!(rows.peek().unwrap().unwrap().logical_clock, 1);
        assert_eq!(rows.next().unwrap().unwrap().logical_clock, 1);
        assert_eq!(rows.peek().unwrap().unwrap_err().line(), Some(3));
        assert_eq!(rows.next().unwrap().unwrap_err().line(), Some(3));
        assert!(rows.peek().is_none() && rows.next().is_none());
    }
}
