//! The row-at-a-time reader against `read_log` and against the csv reader it replaced.

use super::*;
use crate::rundir::log::read_log;

const ROW1: &str = "2,internal,1764096000.000001,1,0,,,\n";
const ROW2: &str = "2,send,1764096000.000002,2,0,3,2,1\n";
const BAD: &str = "2,inside,1764096000.000003,3,0,,,\n";

/// `text` as `machine-2.csv` in a fresh directory, removed on drop.
struct Log(PathBuf);

impl Log {
    fn new(test: &str, text: &str) -> Log {
        let dir =
            std::env::temp_dir().join(format!("clocklab-logrows-{}-{test}", std::process::id()));
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

/// The log reader before it split lines itself: the csv crate's reader, no quoting, `\n`
/// alone ending a record; its lines counted to tell blank lines and a cut-off last line. The
/// oracle of the line splitting: every item of a strict stream, as text.
fn through_csv(bytes: &[u8]) -> Vec<Result<u64, String>> {
    let path = Path::new("machine-2.csv");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .quoting(false)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(bytes);
    let mut fields = csv::ByteRecord::new();
    let (mut out, mut line, mut first) = (vec![], 1, None);
    let raw = |f: &csv::ByteRecord| f.iter().collect::<Vec<_>>().join(&b","[..]);
    let text = |f: &csv::ByteRecord| {
        let parts: Vec<_> = f.iter().map(String::from_utf8_lossy).collect();
        parts.join(",")
    };
    loop {
        let more = reader.read_byte_record(&mut fields).unwrap();
        let end = reader.position().line();
        let path = path.to_path_buf();
        let err = match () {
            _ if !more && end > line => LogError::BlankLine { path, line },
            _ if !more && line == 1 => LogError::Empty { path },
            _ if !more => return out,
            _ if end > line + 1 => LogError::BlankLine { path, line },
            _ if end == line => LogError::Truncated {
                path,
                line,
                text: text(&fields),
            },
            _ if line == 1 && text(&fields) != HEADER => LogError::Header {
                path,
                found: text(&fields),
            },
            _ if line == 1 => {
                line += 1;
                continue;
            }
            _ => match check_row(&path, line, &raw(&fields), Some(2), &mut first) {
                Ok(r) => {
                    out.push(Ok(r.logical_clock));
                    line += 1;
                    continue;
                }
                Err(e) => e,
            },
        };
        out.push(Err(err.to_string()));
        return out;
    }
}

#[test]
fn a_blank_line_before_a_cut_off_last_line_is_the_blank_line() {
    let log = Log::new("blank-cut", &(header() + ROW1 + "\n" + "2,internal,17640"));
    let (streamed, cut) = items(LogRows::whole_lines(&log.0));
    assert_eq!(streamed.len(), 2);
    assert!(streamed[1].as_ref().unwrap_err().contains(":3: blank line"));
    assert_eq!(cut, None);
}

/// A source that gives one byte per read.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((&b, rest)), Some(slot)) => {
                *slot = b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

proptest::proptest! {
    #[test]
    fn lines_split_as_the_csv_reader_split_them(
        pieces in proptest::collection::vec(0usize..9, 0..12),
        cut in 0usize..40,
    ) {
        let choices: [&[u8]; 9] = [
            HEADER.as_bytes(), b"\n", ROW1.as_bytes(), ROW2.as_bytes(), BAD.as_bytes(),
            b"2,internal,1764096000.000009,9,0,,,\r\n", b"\r\n", b"2,,\n", b"\xff,\xfe\n",
        ];
        let mut bytes: Vec<u8> = pieces.iter().flat_map(|&k| choices[k].to_vec()).collect();
        if pieces.first() == Some(&0) {
            bytes.insert(HEADER.len(), b'\n');
        }
        bytes.truncate(bytes.len().saturating_sub(cut % 7));
        // One difference, on purpose: the csv reader took a blank line followed by a last
        // line cut off as that line on the blank one's number; the blank line is the error.
        let blank = bytes.starts_with(b"\n") || bytes.windows(2).any(|w| w == b"\n\n");
        proptest::prop_assume!(!blank || bytes.ends_with(b"\n"));
        let streamed: Vec<Result<u64, String>> =
            LogRows::from_reader(&bytes[..], Path::new("machine-2.csv"), false)
                .map(|i| i.map(|r| r.logical_clock).map_err(|e| e.to_string()))
                .collect();
        // Read a byte at a time, no line is ever whole in the buffer: the other path.
        let trickled: Vec<Result<u64, String>> =
            LogRows::from_reader(Trickle(&bytes[..]), Path::new("machine-2.csv"), false)
                .map(|i| i.map(|r| r.logical_clock).map_err(|e| e.to_string()))
                .collect();
        proptest::prop_assert_eq!(&trickled, &streamed);
        proptest::prop_assert_eq!(streamed, through_csv(&bytes), "{:?}", String::from_utf8_lossy(&bytes));
    }
}
