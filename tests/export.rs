//! `clocklab export` on a hand-written trial: the ShiViz log parsed back with the regular
//! expression docs/ANALYSIS.md gives (read from the doc, so the two cannot drift apart), and the
//! JSON Lines parsed back, both with the vector clocks worked out on paper.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use regex::Regex;
use serde_json::Value;
use support::TestDir;

/// The trial of `src/analysis/causality/tests.rs`, `three()` ([`support::THREE_LOGS`]).
const LOGS: [&str; 3] = support::THREE_LOGS;

/// The events in the order export gives them (each machine as far as it can go, a receive
/// waiting for its send: a4 waits for c1), with their hosts and vector clocks, zeros left out:
/// a1 [1,0,0] a2 [2,0,0] a3 [3,0,0] b1 [0,1,0] b2 [2,2,0] b3 [2,3,0] b4 [2,4,0] c1 [0,0,1]
/// c2 [2,3,2] c3 [2,3,3] a4 [4,0,1].
const EXPECTED: [(&str, &str, &str); 11] = [
    ("internal lamport=1", "m1", r#"{"m1":1}"#),
    ("send to m2 (seq 1) lamport=2", "m1", r#"{"m1":2}"#),
    ("internal lamport=3", "m1", r#"{"m1":3}"#),
    ("internal lamport=1", "m2", r#"{"m2":1}"#),
    (
        "receive from m1 (seq 1) lamport=3",
        "m2",
        r#"{"m1":2,"m2":2}"#,
    ),
    ("broadcast (seq 1) lamport=4", "m2", r#"{"m1":2,"m2":3}"#),
    ("internal lamport=5", "m2", r#"{"m1":2,"m2":4}"#),
    ("send to m1 (seq 1) lamport=1", "m3", r#"{"m3":1}"#),
    (
        "receive from m2 (seq 1) lamport=5",
        "m3",
        r#"{"m1":2,"m2":3,"m3":2}"#,
    ),
    ("internal lamport=6", "m3", r#"{"m1":2,"m2":3,"m3":3}"#),
    (
        "receive from m3 (seq 1) lamport=4",
        "m1",
        r#"{"m1":4,"m3":1}"#,
    ),
];

/// The hand-written trial in a test directory of its own.
fn hand_run(name: &str) -> TestDir {
    let dir = TestDir::new(name);
    for (i, rows) in LOGS.iter().enumerate() {
        let text =
            format!("machine,event,system_time,logical_clock,queue_len,peer,msg_clock,seq\n{rows}");
        std::fs::write(dir.join(format!("machine-{}.csv", i + 1)), text).expect("write a log");
    }
    dir
}

/// `clocklab export DIR EXTRA...`, which must succeed.
fn export(dir: &Path, extra: &[&str]) -> Output {
    let out = export_any(dir, extra);
    assert!(
        out.status.success(),
        "export failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `clocklab export DIR EXTRA...`, however it ends.
fn export_any(dir: &Path, extra: &[&str]) -> Output {
    Command::new(support::bin())
        .arg("export")
        .arg(dir)
        .args(extra)
        .output()
        .expect("start clocklab")
}

fn analysis_md() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ANALYSIS.md"))
        .expect("read docs/ANALYSIS.md")
}

/// The first fenced block of `lang` after the heading `heading` of docs/ANALYSIS.md.
fn doc_block(heading: &str, lang: &str) -> String {
    let doc = analysis_md();
    let from = doc.find(heading).expect("the heading in docs/ANALYSIS.md");
    let fence = format!("```{lang}\n");
    let start = from + doc[from..].find(&fence).expect("a fenced block") + fence.len();
    let end = start + doc[start..].find("```").expect("the end of the block");
    doc[start..end].to_owned()
}

/// The regular expression docs/ANALYSIS.md tells the reader to paste into ShiViz.
fn doc_regex() -> String {
    let doc = analysis_md();
    let lines: Vec<&str> = doc.lines().filter(|l| l.starts_with("(?<event>")).collect();
    assert_eq!(lines.len(), 1, "one regular expression in docs/ANALYSIS.md");
    lines[0].to_owned()
}

#[test]
fn the_shiviz_log_parses_with_the_documented_regex() {
    let dir = hand_run("shiviz");
    let out = export(&dir.path, &["--shiviz"]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let regex = doc_regex();
    assert_eq!(regex, clocklab::report::export::SHIVIZ_REGEX);
    let re = Regex::new(&regex).expect("the documented regex compiles");
    let events: Vec<(String, String, Value)> = re
        .captures_iter(&text)
        .map(|c| {
            (
                c["event"].to_owned(),
                c["host"].to_owned(),
                serde_json::from_str(&c["clock"]).expect("the clock is JSON"),
            )
        })
        .collect();
    assert_eq!(events.len(), EXPECTED.len(), "{text}");
    assert_eq!(
        text.lines().count(),
        2 * EXPECTED.len(),
        "nothing but events"
    );
    for ((event, host, clock), (what, want_host, want_clock)) in events.iter().zip(EXPECTED) {
        assert!(event.starts_with(what), "{event:?} is not {what:?}");
        assert_eq!(host, want_host, "{event}");
        let want: Value = serde_json::from_str(want_clock).unwrap();
        assert_eq!(clock, &want, "{event}");
        // ShiViz's rule: a host's own entry counts its events from 1.
        assert!(clock[host].as_u64().is_some_and(|n| n >= 1));
    }
    // Each host's own entry rises by exactly one from event to event.
    for h in ["m1", "m2", "m3"] {
        let own: Vec<u64> = events
            .iter()
            .filter(|e| e.1 == h)
            .map(|e| e.2[h].as_u64().unwrap())
            .collect();
        assert_eq!(own, (1..=own.len() as u64).collect::<Vec<_>>(), "{h}");
    }
    // The example in the docs is this trial's output, line for line.
    for line in doc_block("### For ShiViz", "text").lines() {
        assert!(text.lines().any(|l| l == line), "{line:?} not in {text}");
    }
    // --format shiviz and --out give the same.
    let file = dir.join("trial.log");
    export(
        &dir.path,
        &["--format", "shiviz", "--out", file.to_str().unwrap()],
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn the_jsonl_export_has_every_event_with_its_clocks() {
    let dir = hand_run("jsonl");
    let out = export(&dir.path, &["--format", "jsonl"]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(rows.len(), EXPECTED.len());
    for (row, (what, host, clock)) in rows.iter().zip(EXPECTED) {
        assert_eq!(row["host"], host);
        let want: Value = serde_json::from_str(clock).unwrap();
        for (h, v) in row["vc"].as_object().unwrap() {
            assert_eq!(v.as_u64().unwrap(), want[h].as_u64().unwrap_or(0), "{what}");
        }
        assert_eq!(row["vc"].as_object().unwrap().len(), 3, "every entry");
        // One wall clock and no message from the future: the hybrid clock is the wall clock.
        assert_eq!(row["hlc"][0], row["system_time_us"]);
        assert_eq!(row["hlc"][1], 0);
    }
    // a4, the last, was matched with c1, line 2 of machine-3.csv.
    assert_eq!(rows[10]["send"], serde_json::json!(["m3", 2]));
    assert_eq!(rows[10]["line"], 5);
    assert!(rows[0].get("send").is_none() && rows[0].get("peer").is_none());
    for line in doc_block("### JSON Lines", "json").lines() {
        assert!(text.lines().any(|l| l == line), "{line:?} not in {text}");
    }
}

#[test]
fn a_trial_that_is_not_there_is_refused() {
    let dir = hand_run("refused");
    let out = export_any(&dir.path, &["--trial", "2"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--trial 2") && err.contains("1 trial"),
        "{err}"
    );
}

#[test]
fn a_log_cut_after_the_run_is_refused_and_a_crash_s_cut_is_told() {
    // A simulated trial, every machine with its summary; machine 1's log cut in the middle of a
    // row halfway through, as a partial copy leaves it.
    let test = TestDir::new("export-cut");
    let config = test.config(3, "");
    let out = test.join("sim");
    let simulate = Command::new(support::bin())
        .args(["simulate", "--config", config.to_str().unwrap()])
        .args(["--rates", "2,3,4", "--duration", "20", "--seed", "3"])
        .args(["--out", out.to_str().unwrap()])
        .output()
        .expect("start clocklab");
    assert!(simulate.status.success(), "{simulate:?}");
    let trial = support::run_dir_under(&out);
    let log = trial.join("machine-1.csv");
    let text = std::fs::read(&log).unwrap();
    let half = text.len() / 2;
    let cut_at = half + text[half..].iter().position(|&b| b == b',').unwrap();
    std::fs::write(&log, &text[..cut_at]).unwrap();
    let line = text[..cut_at].iter().filter(|&&b| b == b'\n').count() + 1;
    let out = export_any(&trial, &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty(), "nothing is exported");
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!("{}:{line}: the last line", log.display());
    assert!(err.contains(&want), "{want:?} not in {err}");
    let summary = trial.join("summary-1.yaml");
    let want = format!(
        "but {} says machine 1 stopped after its last row, so the log was cut after the run",
        summary.display()
    );
    assert!(err.contains(&want), "{want:?} not in {err}");

    // The hand-written trial has no summaries, as after a crash: machine 3 cut in its second
    // row. Its first row, c1, is whole, so a4 still finds its send; c2 and c3 are gone.
    let dir = hand_run("export-crash");
    let log = dir.join("machine-3.csv");
    let text = std::fs::read_to_string(&log).unwrap();
    let cut = text.find("3,receive").unwrap() + "3,rec".len();
    std::fs::write(&log, &text[..cut]).unwrap();
    let out = export(&dir.path, &["--format", "jsonl"]);
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!(
        "note: {}:3: the last line \"3,rec\" has no newline",
        log.display()
    );
    assert!(err.contains(&want), "{want:?} not in {err}");
    assert!(
        err.contains(": the rows before the cut are exported"),
        "{err}"
    );
    assert!(!err.contains("whose send is in no log"), "{err}");
    let rows: Vec<Value> = std::str::from_utf8(&out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), EXPECTED.len() - 2, "c2 and c3 are not exported");
    assert_eq!(rows.last().unwrap()["send"], serde_json::json!(["m3", 2]));
}
