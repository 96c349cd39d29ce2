use std::fs;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;

use super::*;
use crate::core::event::{EventKind, HEADER, NAMES, Record, format_record, presence};
use crate::core::machine::{Machine, MachineConfig};
use crate::core::wire::{MAX_CLOCK, ROUTER_ID};

/// A fresh directory under the system temp dir, unique to this process and test, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "clocklab-eventlog-{}-{test}-{n}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the test directory");
        TempDir(dir)
    }

    /// Writes `text` to `name` in the directory and returns its path.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        fs::write(&path, text).expect("write the test file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn receive() -> Record {
    Record {
        machine: 2,
        event: EventKind::Receive,
        system_time_us: 1_764_096_000_000_042,
        logical_clock: 17,
        queue_len: 3,
        peer: Some(1),
        msg_clock: Some(15),
        seq: Some(4),
    }
}

fn send() -> Record {
    Record {
        event: EventKind::Send,
        system_time_us: 1_764_096_000_123_456,
        logical_clock: 18,
        queue_len: 2,
        peer: Some(3),
        msg_clock: Some(18),
        seq: Some(9),
        ..receive()
    }
}

fn broadcast() -> Record {
    Record {
        event: EventKind::Broadcast,
        system_time_us: 1_764_096_001_000_000,
        logical_clock: 19,
        queue_len: 0,
        peer: None,
        msg_clock: Some(19),
        seq: Some(10),
        ..receive()
    }
}

fn internal() -> Record {
    Record {
        event: EventKind::Internal,
        system_time_us: 1_764_096_001_999_999,
        logical_clock: 20,
        queue_len: 0,
        peer: None,
        msg_clock: None,
        seq: None,
        ..receive()
    }
}

fn line(rec: &Record) -> String {
    let mut out = String::new();
    format_record(rec, &mut out);
    out
}

const ROWS: &str = "2,receive,1764096000.000042,17,3,1,15,4\n\
                    2,send,1764096000.123456,18,2,3,18,9\n\
                    2,broadcast,1764096001.000000,19,0,,19,10\n\
                    2,internal,1764096001.999999,20,0,,,\n";

#[test]
fn header_names_the_columns() {
    assert_eq!(NAMES.join(","), HEADER);
}

#[test]
fn format_record_writes_each_kind_exactly() {
    assert_eq!(
        line(&receive()),
        "2,receive,1764096000.000042,17,3,1,15,4\n"
    );
    assert_eq!(line(&send()), "2,send,1764096000.123456,18,2,3,18,9\n");
    assert_eq!(
        line(&broadcast()),
        "2,broadcast,1764096001.000000,19,0,,19,10\n"
    );
    assert_eq!(line(&internal()), "2,internal,1764096001.999999,20,0,,,\n");
}

#[test]
fn format_record_appends_and_handles_the_extremes() {
    let mut out = String::from("x");
    let rec = Record {
        machine: 65534,
        system_time_us: u64::MAX,
        logical_clock: u64::MAX,
        queue_len: u32::MAX,
        peer: Some(65534),
        msg_clock: Some(MAX_CLOCK),
        seq: Some(u32::MAX),
        ..receive()
    };
    format_record(&rec, &mut out);
    assert_eq!(
        out,
        "x65534,receive,18446744073709.551615,18446744073709551615,4294967295,65534,\
         9223372036854775807,4294967295\n"
    );
    let zero = Record {
        system_time_us: 0,
        ..internal()
    };
    assert_eq!(line(&zero), "2,internal,0.000000,20,0,,,\n");
}

#[test]
fn file_names() {
    assert_eq!(log_file_name(7), "machine-7.csv");
    assert_eq!(
        log_path(Path::new("logs/x"), 12),
        PathBuf::from("logs/x/machine-12.csv")
    );
    assert_eq!(machine_of_file_name("machine-7.csv"), Some(7));
    assert_eq!(machine_of_file_name("machine-07.csv"), None);
    assert_eq!(machine_of_file_name("machine-0.csv"), None);
    assert_eq!(machine_of_file_name("machine-65535.csv"), None);
    assert_eq!(machine_of_file_name("machine-65534.csv"), Some(65534));
    assert_eq!(machine_of_file_name("machine-+7.csv"), None);
    assert_eq!(machine_of_file_name("machine-70000.csv"), None);
    assert_eq!(machine_of_file_name("machine-7.csv.bak"), None);
    assert_eq!(machine_of_file_name("m-7.csv"), None);
}

#[test]
fn fields_match_event() {
    for rec in [receive(), send(), broadcast(), internal()] {
        assert!(rec.fields_match_event(), "{rec:?}");
    }
    let peer_on_broadcast = Record {
        peer: Some(1),
        ..broadcast()
    };
    assert!(!peer_on_broadcast.fields_match_event());
    let send_without_seq = Record {
        seq: None,
        ..send()
    };
    assert!(!send_without_seq.fields_match_event());
}

#[test]
fn writer_writes_header_and_rows_then_reads_back() {
    let dir = TempDir::new("write_read");
    let mut w = LogWriter::create(&dir.0, 2).expect("create");
    assert_eq!(w.path(), dir.0.join("machine-2.csv"));
    assert_eq!(w.machine(), 2);
    let recs = [receive(), send(), broadcast(), internal()];
    for rec in &recs {
        w.append(rec).expect("append");
    }
    assert_eq!(w.rows(), 4);
    let text = fs::read_to_string(w.path()).expect("read");
    assert_eq!(text, format!("{HEADER}\n{ROWS}"));
    assert_eq!(read_log(w.path()).expect("read_log"), recs);
}

#[test]
fn a_header_alone_is_an_empty_log() {
    let dir = TempDir::new("header_only");
    let w = LogWriter::create(&dir.0, 5).expect("create");
    assert_eq!(w.rows(), 0);
    assert_eq!(read_log(w.path()).expect("read_log"), []);
}

#[test]
fn a_machines_own_rows_round_trip() {
    let dir = TempDir::new("machine_rows");
    let cfg = MachineConfig {
        id: 1,
        machines: 3,
        action_range: 4,
        rate: 1000.0,
        seed: 7,
        start_ns: 1_764_096_000_000_000_000,
    };
    let mut m = Machine::new(cfg).expect("machine");
    let mut w = LogWriter::create(&dir.0, 1).expect("create");
    let mut recs = Vec::new();
    // The k-th tick is due k ms after the start, k = 1, 2, ...
    for k in 1..=200u64 {
        if k % 3 == 0 {
            m.handle_message(crate::core::machine::Message {
                source: 2,
                seq: k as u32 + 1,
                clock: k * 2,
                sent_ns: cfg.start_ns,
            });
        }
        m.handle_timeout(cfg.start_ns + k * 1_000_000 + 123_456);
        while let Some(rec) = m.poll_event() {
            w.append(&rec).expect("append");
            recs.push(rec);
        }
    }
    assert_eq!(recs.len(), 200);
    assert!(
        EventKind::ALL
            .iter()
            .all(|k| recs.iter().any(|r| r.event == *k))
    );
    assert_eq!(read_log(w.path()).expect("read_log"), recs);
}

#[test]
fn create_never_overwrites() {
    let dir = TempDir::new("no_clobber");
    let existing = dir.file("machine-3.csv", "precious\n");
    let err = LogWriter::create(&dir.0, 3).expect_err("must refuse");
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "{}: cannot create the event log: ",
            existing.display()
        )),
        "{msg}"
    );
    assert_eq!(fs::read_to_string(&existing).expect("read"), "precious\n");
}

#[test]
fn create_names_the_path_when_the_directory_is_missing() {
    let dir = TempDir::new("missing_dir");
    let missing = dir.0.join("nope");
    let err = LogWriter::create(&missing, 1).expect_err("must fail");
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    let prefix = format!(
        "{}: cannot create the event log: ",
        missing.join("machine-1.csv").display()
    );
    assert!(err.to_string().starts_with(&prefix), "{err}");
}

#[test]
fn create_refuses_ids_that_are_not_machine_ids() {
    let dir = TempDir::new("bad_id");
    for id in [0, ROUTER_ID] {
        let err = LogWriter::create(&dir.0, id).expect_err("must refuse");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            err.to_string(),
            format!(
                "{}: machine id {id}: ids run from 1 to 65534",
                log_path(&dir.0, id).display()
            )
        );
        assert!(!log_path(&dir.0, id).exists());
    }
}

#[test]
fn append_refuses_rows_the_reader_would_refuse() {
    let dir = TempDir::new("append_refuses");
    let mut w = LogWriter::create(&dir.0, 2).expect("create");
    let other = Record {
        machine: 3,
        ..receive()
    };
    let inconsistent = Record {
        peer: Some(1),
        ..internal()
    };
    let router_peer = Record {
        peer: Some(ROUTER_ID),
        ..send()
    };
    let huge_clock = Record {
        msg_clock: Some(MAX_CLOCK + 1),
        ..broadcast()
    };
    for rec in [other, inconsistent, router_peer, huge_clock] {
        let err = w.append(&rec).expect_err("must refuse");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            err.to_string(),
            format!(
                "{}: refusing to log {rec:?}: every row is machine 2's, with peer, msg_clock and \
                 seq as its event requires (docs/LOGS.md)",
                w.path().display()
            )
        );
    }
    let peer_max = Record {
        peer: Some(MAX_ID),
        msg_clock: Some(MAX_CLOCK),
        ..send()
    };
    w.append(&peer_max)
        .expect("the largest valid values are fine");
    assert_eq!(w.rows(), 1);
    assert_eq!(read_log(w.path()).expect("read_log"), [peer_max]);
}

/// Reads `text` saved as `name` and returns the error, checking its line.
fn error_of(name: &str, text: &str, line: Option<u64>) -> (String, LogError) {
    let dir = TempDir::new("malformed");
    let path = dir.file(name, text);
    let err = read_log(&path).expect_err("must be refused");
    assert_eq!(err.line(), line, "{err}");
    assert_eq!(err.path(), path);
    let shown = err.to_string();
    let prefix = path.display().to_string();
    (shown[prefix.len()..].to_string(), err)
}

fn log(rows: &str) -> String {
    format!("{HEADER}\n{rows}")
}

#[test]
fn the_example_error_reads_well() {
    let text = log(&ROWS.replace(
        "2,send,1764096000.123456,18,2,",
        "2,send,1764096000.123456,18,abc,",
    ));
    let (msg, err) = error_of("machine-2.csv", &text, Some(3));
    assert_eq!(
        msg,
        ":3: field queue_len: \"abc\" is not a whole number from 0 to 4294967295"
    );
    assert!(matches!(
        err,
        LogError::Field {
            field: "queue_len",
            ..
        }
    ));
}

#[test]
fn empty_file() {
    let (msg, err) = error_of("machine-2.csv", "", Some(1));
    assert_eq!(
        msg,
        format!(":1: the file is empty: a machine log starts with the header line \"{HEADER}\"")
    );
    assert!(matches!(err, LogError::Empty { .. }));
}

#[test]
fn bad_header() {
    let text = format!("{}\n{ROWS}", HEADER.replace("peer", "dest"));
    let (msg, _) = error_of("machine-2.csv", &text, Some(1));
    assert_eq!(
        msg,
        format!(
            ":1: header \"{}\" is not a machine log header: it must be exactly \"{HEADER}\"",
            HEADER.replace("peer", "dest")
        )
    );
    let crlf = format!("{HEADER}\r\n");
    let (msg, _) = error_of("machine-2.csv", &crlf, Some(1));
    assert!(
        msg.starts_with(&format!(":1: header \"{HEADER}\\r\" is not")),
        "{msg}"
    );
}

#[test]
fn truncated_last_line() {
    let cut = &ROWS[..ROWS.len() - 10];
    let (msg, err) = error_of("machine-2.csv", &log(cut), Some(5));
    assert_eq!(
        msg,
        ":5: the last line \"2,internal,1764096001.99999\" has no newline: the log was cut off in the \
         middle of a row (a crash while writing?); every line ends with a newline"
    );
    assert!(matches!(err, LogError::Truncated { line: 5, .. }));
    // A complete row that only lacks its newline is cut off all the same.
    let (_, err) = error_of("machine-2.csv", &log(&ROWS[..ROWS.len() - 1]), Some(5));
    assert!(matches!(err, LogError::Truncated { line: 5, .. }));
    // So is a header.
    let (_, err) = error_of("machine-2.csv", HEADER, Some(1));
    assert!(matches!(err, LogError::Truncated { line: 1, .. }));
}

#[test]
fn blank_lines() {
    let middle = log(&ROWS.replacen('\n', "\n\n", 1));
    let (msg, err) = error_of("machine-2.csv", &middle, Some(3));
    assert_eq!(
        msg,
        ":3: blank line: every line after the header is one row, and rows are never empty"
    );
    assert!(matches!(err, LogError::BlankLine { line: 3, .. }));
    let (_, err) = error_of("machine-2.csv", &format!("{}\n", log(ROWS)), Some(6));
    assert!(matches!(err, LogError::BlankLine { line: 6, .. }));
    let (_, err) = error_of("machine-2.csv", &format!("\n{}", log(ROWS)), Some(1));
    assert!(matches!(err, LogError::BlankLine { line: 1, .. }));
    let (_, err) = error_of("machine-2.csv", "\n\n", Some(1));
    assert!(matches!(err, LogError::BlankLine { line: 1, .. }));
}

#[test]
fn wrong_number_of_fields() {
    let (msg, _) = error_of(
        "machine-2.csv",
        &log("2,internal,1764096001.999999,20,0,,\n"),
        Some(2),
    );
    assert_eq!(
        msg,
        format!(":2: \"2,internal,1764096001.999999,20,0,,\" has 7 fields: a row has 8, {HEADER}")
    );
}

/// The message for a log whose only row is `row`.
fn row_error(row: &str) -> String {
    error_of("machine-2.csv", &log(&format!("{row}\n")), Some(2)).0
}

#[test]
fn bad_numbers() {
    assert_eq!(
        row_error("2,internal,1764096001.999999,-1,0,,,"),
        ":2: field logical_clock: \"-1\" is not a whole number from 0 to 18446744073709551615"
    );
    assert_eq!(
        row_error("2,internal,1764096001.999999,18446744073709551616,0,,,"),
        ":2: field logical_clock: \"18446744073709551616\" is not a whole number from 0 to \
         18446744073709551615"
    );
    assert_eq!(
        row_error("2,internal,1764096001.999999,+1,0,,,"),
        ":2: field logical_clock: \"+1\" is not a whole number from 0 to 18446744073709551615"
    );
    assert_eq!(
        row_error("2,internal,1764096001.999999,1,4294967296,,,"),
        ":2: field queue_len: \"4294967296\" is not a whole number from 0 to 4294967295"
    );
    assert_eq!(
        row_error("2,send,1764096001.999999,1,0,3,9223372036854775808,1"),
        ":2: field msg_clock: \"9223372036854775808\" is not a whole number from 0 to \
         9223372036854775807"
    );
    assert_eq!(
        row_error("2,send,1764096001.999999,1,0,3,1,1\r"),
        ":2: field seq: \"1\\r\" is not a whole number from 0 to 4294967295"
    );
}

#[test]
fn bad_ids_and_events() {
    assert_eq!(
        row_error("0,internal,1764096001.999999,1,0,,,"),
        ":2: field machine: \"0\" is not a machine id: a whole number from 1 to 65534"
    );
    assert_eq!(
        row_error("2,send,1764096001.999999,1,0,65535,1,1"),
        ":2: field peer: \"65535\" is not a machine id: a whole number from 1 to 65534"
    );
    assert_eq!(
        row_error("2,Receive,1764096001.999999,1,0,1,1,1"),
        ":2: field event: \"Receive\" is not an event: one of receive, send, broadcast, internal"
    );
}

#[test]
fn bad_times() {
    let shape = "is not a time: seconds since the UNIX epoch, a dot and exactly six digits \
                 (e.g. 1764096000.123456)";
    for time in [
        "1764096001.99999",
        "1764096001.9999999",
        "1764096001",
        ".999999",
        "1764096001.",
        "1764096001.-99999",
        "1e9.000000",
    ] {
        assert_eq!(
            row_error(&format!("2,internal,{time},1,0,,,")),
            format!(":2: field system_time: \"{time}\" {shape}")
        );
    }
    assert_eq!(
        row_error("2,internal,18446744073709.551616,1,0,,,"),
        ":2: field system_time: \"18446744073709.551616\" is too late: the latest time a log \
         can hold is 18446744073709.551615"
    );
}

#[test]
fn optional_fields_follow_the_event() {
    assert_eq!(
        row_error("2,internal,1764096001.999999,1,0,3,,"),
        ":2: field peer: \"3\" must be empty: an internal row names no peer"
    );
    assert_eq!(
        row_error("2,internal,1764096001.999999,1,0,,5,"),
        ":2: field msg_clock: \"5\" must be empty: an internal row carries no message"
    );
    assert_eq!(
        row_error("2,broadcast,1764096001.999999,1,0,3,1,1"),
        ":2: field peer: \"3\" must be empty: a broadcast row names no peer"
    );
    assert_eq!(
        row_error("2,send,1764096001.999999,1,0,3,1,"),
        ":2: field seq: \"\" is missing: a send row carries the seq of the message sent"
    );
    assert_eq!(
        row_error("2,send,1764096001.999999,1,0,,1,1"),
        ":2: field peer: \"\" is missing: a send row names the destination"
    );
    assert_eq!(
        row_error("2,receive,1764096001.999999,1,0,,1,1"),
        ":2: field peer: \"\" is missing: a receive row names the sender"
    );
    assert_eq!(
        row_error("2,receive,1764096001.999999,1,0,1,,1"),
        ":2: field msg_clock: \"\" is missing: a receive row carries the clock of the message \
         received"
    );
    assert_eq!(
        row_error("2,broadcast,1764096001.999999,1,0,,1,"),
        ":2: field seq: \"\" is missing: a broadcast row carries the seq of the message sent"
    );
}

#[test]
fn mixed_machine_ids() {
    let mixed = log(&ROWS.replace("2,broadcast", "3,broadcast"));
    let (msg, _) = error_of("machine-2.csv", &mixed, Some(4));
    assert_eq!(
        msg,
        ":4: field machine: \"3\" is not this log's machine: the file is named machine-2.csv, \
         so every row has machine 2"
    );
    // Named for another machine: the first row is already wrong.
    let (msg, _) = error_of("machine-5.csv", &log(ROWS), Some(2));
    assert_eq!(
        msg,
        ":2: field machine: \"2\" is not this log's machine: the file is named machine-5.csv, \
         so every row has machine 5"
    );
    // Under another name the first row sets the machine.
    let (msg, _) = error_of("copy.csv", &mixed, Some(4));
    assert_eq!(
        msg,
        ":4: field machine: \"3\" differs from line 2: every row of one log has the same \
         machine (2)"
    );
    let dir = TempDir::new("other_name");
    assert_eq!(
        read_log(&dir.file("copy.csv", &log(ROWS)))
            .expect("read_log")
            .len(),
        4
    );
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let dir = TempDir::new("missing_file");
    let path = dir.0.join("machine-1.csv");
    let err = read_log(&path).expect_err("must fail");
    assert!(
        matches!(&err, LogError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    );
    assert_eq!(err.line(), None);
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot read the log: ", path.display()))
    );
    assert!(std::error::Error::source(&err).is_some());
}

fn any_record(machine: u16) -> impl Strategy<Value = Record> {
    let id = MIN_ID..=MAX_ID;
    (
        prop::sample::select(EventKind::ALL.to_vec()),
        any::<u64>(),
        any::<u64>(),
        any::<u32>(),
        id,
        0..=MAX_CLOCK,
        any::<u32>(),
    )
        .prop_map(move |(event, time, clock, queue, peer, msg_clock, seq)| {
            let (wants_peer, wants_message) = presence(event);
            Record {
                machine,
                event,
                system_time_us: time,
                logical_clock: clock,
                queue_len: queue,
                peer: wants_peer.then_some(peer),
                msg_clock: wants_message.then_some(msg_clock),
                seq: wants_message.then_some(seq),
            }
        })
}

fn any_log() -> impl Strategy<Value = (u16, Vec<Record>)> {
    (MIN_ID..=MAX_ID).prop_flat_map(|m| (Just(m), prop::collection::vec(any_record(m), 0..20)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_valid_log_round_trips((machine, recs) in any_log()) {
        let dir = TempDir::new("proptest");
        let mut w = LogWriter::create(&dir.0, machine).expect("create");
        for rec in &recs {
            w.append(rec).expect("append");
        }
        prop_assert_eq!(w.rows(), recs.len() as u64);
        prop_assert_eq!(read_log(w.path()).expect("read_log"), recs);
    }
}

#[test]
fn the_example_in_the_docs_reads_back() {
    let doc = include_str!("../../../docs/LOGS.md");
    let example = doc.find("`machine-2.csv`, the first").expect("example");
    let start = example + doc[example..].find("```text\n").expect("block") + "```text\n".len();
    let len = doc[start..].find("```").expect("end of example");
    let dir = TempDir::new("docs_example");
    let recs = read_log(&dir.file("machine-2.csv", &doc[start..start + len])).expect("read_log");
    let clocks: Vec<_> = recs.iter().map(|r| r.logical_clock).collect();
    assert_eq!(clocks, [1, 2, 6, 7, 8]);
    assert_eq!(
        recs[2],
        Record {
            machine: 2,
            event: EventKind::Receive,
            system_time_us: 1_764_096_003_000_042,
            logical_clock: 6,
            queue_len: 1,
            peer: Some(1),
            msg_clock: Some(5),
            seq: Some(1),
        }
    );
    let text: String = recs.iter().map(line).collect();
    assert_eq!(format!("{HEADER}\n{text}"), &doc[start..start + len]);
}

#[test]
fn whole_lines_of_a_cut_off_log_are_read_with_the_cut_named() {
    let dir = TempDir::new("whole_lines");
    let whole = format!("{HEADER}\n{}", line(&send()));
    let path = dir.file("machine-2.csv", &format!("{whole}2,internal,17640"));
    let (rows, cut) = read_log_whole_lines(&path).expect("whole lines");
    assert_eq!(rows, [send()]);
    let cut = cut.expect("the cut is reported");
    assert!(
        matches!(cut, LogError::Truncated { line: 3, .. }),
        "{cut:?}"
    );
    // An intact log has no cut; any other fault is still an error.
    let path = dir.file("machine-2.csv", &whole);
    let (rows, cut) = read_log_whole_lines(&path).expect("intact");
    assert_eq!(rows, [send()]);
    assert!(cut.is_none());
    let path = dir.file(
        "machine-2.csv",
        &format!("{whole}2,inside,1.000000,1,0,,,\n"),
    );
    assert!(read_log_whole_lines(&path).is_err());
}
