//! `clocklab analyze` on hand-written trials: the causality figures and hybrid clocks worked out
//! on paper reach summary.json and report.html, the space-time diagram is written beside the
//! report and inline in it, every SVG parses as XML, and `--window` is checked.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::TestDir;

const HEADER: &str = "machine,event,system_time,logical_clock,queue_len,peer,msg_clock,seq\n";

/// Three machines, the worked example of `src/analysis/causality/tests.rs` (drawn at
/// [`support::THREE_LOGS`]): 23 of the 55 pairs are concurrent, 17 of them with different Lamport
/// clocks; the longest chain a1 a2 b2 b3 c2 c3 has 6 events. One wall clock, every receive after
/// its send: the hybrid clock is the wall clock (drift 0, counter 0).
const THREE: [&str; 3] = support::THREE_LOGS;

/// Two machines, m2's wall clock behind m1's (times in us after 1000 s):
///
/// ```text
/// m1  a1 send→2 #1 (1000)   a2 int (1000)   a3 recv 2#1 (1000)   a4 int (1200)
/// m2  b1 int (100)   b2 recv 1#1 (400)   b3 send→1 #1 (500)   b4 int (2000)
/// ```
///
/// Hybrid clocks (l after 1000 s in us, c): a1 (1000,0) a2 (1000,1) b1 (100,0) b2 (1000,1)
/// b3 (1000,2) b4 (2000,0) a3 (1000, max(1,2)+1 = 3) a4 (1200,0). m2's runs ahead of its wall
/// clock by 600 us at b2: the largest drift is 0.6 ms, the final 0, the largest counter 3.
const SKEWED: [&str; 2] = [
    "1,send,1000.001000,1,0,2,1,1\n1,internal,1000.001000,2,0,,,\n\
     1,receive,1000.001000,4,0,2,3,1\n1,internal,1000.001200,5,0,,,\n",
    "2,internal,1000.000100,1,0,,,\n2,receive,1000.000400,2,0,1,1,1\n\
     2,send,1000.000500,3,0,1,3,1\n2,internal,1000.002000,4,0,,,\n",
];

fn write_run(dir: &Path, logs: &[&str]) {
    for (i, rows) in logs.iter().enumerate() {
        std::fs::write(
            dir.join(format!("machine-{}.csv", i + 1)),
            format!("{HEADER}{rows}"),
        )
        .expect("write a log");
    }
}

fn analyze(dir: &Path, extra: &[&str]) -> Output {
    Command::new(support::bin())
        .arg("analyze")
        .arg(dir)
        .arg("--out")
        .arg(dir.join("analysis"))
        .args(extra)
        .output()
        .expect("start clocklab")
}

/// `clocklab analyze DIR --out DIR/analysis EXTRA...`, checked to succeed.
fn analyze_ok(dir: &Path, extra: &[&str]) {
    let out = analyze(dir, extra);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn trial_figures(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("analysis/summary.json")).expect("summary.json");
    let json: Value = serde_json::from_str(&text).expect("JSON");
    json["runs"][0]["trials"][0]["figures"].clone()
}

#[test]
fn causality_figures_reach_the_summary_and_the_report() {
    let test = TestDir::new("causality-three");
    let dir = test.path.clone();
    write_run(&dir, &THREE);
    analyze_ok(&dir, &[]);
    let f = trial_figures(&dir);
    assert_eq!(f["concurrent_pairs"], 23.0);
    assert_eq!(f["false_orderings"], 17.0);
    assert_eq!(f["concurrent_share"], 23.0 / 55.0);
    assert_eq!(f["false_ordering_share"], 17.0 / 23.0);
    assert_eq!(f["longest_chain"], 6.0);
    assert_eq!(f["hlc_drift_max_ms"], 0.0);
    assert_eq!(f["hlc_counter_max"], 0.0);
    let csv = std::fs::read_to_string(dir.join("analysis/summary-trials.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let column = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "longest_chain")
        .expect("a longest_chain column");
    let row = reader.records().next().expect("trial 1").unwrap();
    assert_eq!((&row[1], &row[column]), ("1", "6"), "{csv}");

    // Every SVG beside the report is XML, the space-time diagram among them.
    let analysis = dir.join("analysis");
    let spacetime = std::fs::read_to_string(analysis.join("trial-1-spacetime.svg"))
        .expect("the space-time diagram beside the report");
    let mut svgs = 0;
    for entry in std::fs::read_dir(&analysis).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "svg") {
            let text = std::fs::read_to_string(&path).unwrap();
            roxmltree::Document::parse(&text)
                .unwrap_or_else(|e| panic!("{}: not XML: {e}", path.display()));
            svgs += 1;
        }
    }
    assert_eq!(svgs, 6, "clock, lag, queue, drift, jumps and space-time");
    // The report holds the diagram inline, the causality table, and fetches nothing.
    let report = std::fs::read_to_string(analysis.join("report.html")).unwrap();
    assert!(report.contains(&spacetime), "the diagram inline");
    assert!(report.contains("false orderings") && report.contains("17 (73.9%)"));
    assert!(report.contains("longest causal chain (events)</th><td>6</td>"));
    assert!(!report.contains("<script src") && !report.contains("src=\"http"));
    assert!(!report.contains("<link") && !report.contains("url(http"));
}

#[test]
fn hybrid_clocks_of_skewed_wall_clocks() {
    let test = TestDir::new("causality-skewed");
    let dir = test.path.clone();
    write_run(&dir, &SKEWED);
    analyze_ok(&dir, &[]);
    let f = trial_figures(&dir);
    assert_eq!(f["hlc_drift_max_ms"], 0.6);
    assert_eq!(f["hlc_drift_final_ms"], 0.0);
    assert_eq!(f["hlc_counter_max"], 3.0);
    let report = std::fs::read_to_string(dir.join("analysis/report.html")).unwrap();
    assert!(report.contains("<tr><th class=\"key\">2</th><td>0.600</td><td>0.000</td><td>2</td>"));
}

#[test]
fn the_window_option() {
    let test = TestDir::new("causality-window");
    let dir = test.path.clone();
    write_run(&dir, &THREE);
    analyze_ok(&dir, &["--window", "0.1..0.3s"]);
    let svg = std::fs::read_to_string(dir.join("analysis/trial-1-spacetime.svg")).unwrap();
    assert!(svg.contains("0.100 s to 0.300 s") && svg.contains("given by --window"));
    roxmltree::Document::parse(&svg).expect("XML");
    let out = analyze(&dir, &["--window", "15..10"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--window") && err.contains("15..10") && err.contains("START..END"),
        "{err}"
    );
}
