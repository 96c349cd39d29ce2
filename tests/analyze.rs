//! `clocklab analyze` end to end: a real two-trial run of the binary, analysed; the report, the
//! plots and both summaries must exist, be well-formed and agree with each other and with the
//! table printed. Also: a directory that is not a run, a missing log and a cut-off log.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_clocklab");

/// A fresh scratch directory for this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "clocklab-test-analyze-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

fn clocklab(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("start clocklab")
}

/// The child's output, for failure messages.
fn show(out: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// One real run shared by the tests: 3 machines at 40, 60 and 90 ticks/s, 2 trials of 2 s.
fn run_dir() -> &'static Path {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| {
        let base = scratch("run");
        let config = base.join("config.yaml");
        std::fs::write(&config, "router:\n  port: 0\n").expect("write the config");
        let logs = base.join("logs");
        let out = clocklab(&[
            "run",
            "--config",
            config.to_str().expect("utf-8 path"),
            "--duration",
            "2",
            "--rates",
            "40,60,90",
            "--seed",
            "1",
            "--trials",
            "2",
            "--out",
            logs.to_str().expect("utf-8 path"),
        ]);
        assert!(out.status.success(), "run failed: {}", show(&out));
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&logs)
            .expect("the log directory")
            .map(|e| e.expect("an entry").path())
            .collect();
        assert_eq!(dirs.len(), 1, "one run directory in {}", logs.display());
        dirs.remove(0)
    })
}

/// Copies a directory tree (the run's files are flat, but a run has trial directories).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the run") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// The CSV's value of `figure` for (trial, machine).
fn csv_value(csv: &str, trial: &str, machine: &str, figure: &str) -> f64 {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    for row in reader.records() {
        let row = row.expect("a CSV row");
        if &row[1] == trial && &row[2] == machine && &row[3] == figure {
            return row[4].parse().expect("a number");
        }
    }
    panic!("no CSV row for trial {trial} machine {machine} figure {figure}");
}

#[test]
fn analyze_a_real_run_writes_agreeing_report_plots_and_summaries() {
    let run = run_dir();
    let out_dir = scratch("out");
    let out = clocklab(&[
        "analyze",
        run.to_str().expect("utf-8"),
        "--out",
        out_dir.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    // Every line fits in 100 columns, but those that name a directory (as long as it is).
    let (run_name, out_name) = (run.display().to_string(), out_dir.display().to_string());
    let long = stdout
        .lines()
        .filter(|l| !l.contains(&run_name) && !l.contains(&out_name))
        .find(|l| l.chars().count() > 100);
    assert_eq!(long, None, "a line over 100 columns in\n{stdout}");

    // Every plot is an SVG document with text, one line or bar set per machine in its legend.
    for trial in 1..=2 {
        for kind in ["clock", "queue", "drift", "jumps"] {
            let path = out_dir.join(format!("trial-{trial}-{kind}.svg"));
            let text = std::fs::read_to_string(&path).expect("the plot exists");
            let doc = roxmltree::Document::parse(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(doc.root_element().tag_name().name(), "svg");
            let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
            for (id, rate) in [(1, 40), (2, 60), (3, 90)] {
                let label = format!("machine {id} ({rate} ticks/s)");
                assert!(
                    texts.iter().any(|t| t.contains(&label)),
                    "{}: no legend {label}",
                    path.display()
                );
            }
            assert!(
                texts
                    .iter()
                    .any(|t| t.contains("(s)") || t.contains("clock units")),
                "axis units"
            );
        }
    }

    // The report holds every plot inline and fetches nothing.
    let html = std::fs::read_to_string(out_dir.join("report.html")).expect("report.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Four plots and a space-time diagram per trial, each parsed as XML.
    assert_eq!(html.matches("<svg ").count(), 10);
    for trial in 1..=2 {
        let path = out_dir.join(format!("trial-{trial}-spacetime.svg"));
        let text = std::fs::read_to_string(&path).expect("the space-time diagram exists");
        roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            html.contains(&text),
            "{} inline in the report",
            path.display()
        );
    }
    assert!(!html.contains("<script"));
    let links = html.matches("http").count();
    assert_eq!(
        links,
        html.matches("http://www.w3.org/2000/svg").count(),
        "only SVG namespaces"
    );

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).expect("json"))
            .expect("summary.json parses");
    let csv = std::fs::read_to_string(out_dir.join("summary.csv")).expect("summary.csv");
    assert!(csv.starts_with("run,trial,machine,figure,value\n"));
    assert_eq!(json["format"], "clocklab-analysis/1");
    let trials = json["runs"][0]["trials"].as_array().expect("trials");
    assert_eq!(trials.len(), 2);

    for (t, trial) in trials.iter().enumerate() {
        let k = (t + 1).to_string();
        assert_eq!(trial["complete"], true, "{trial}");
        let trial_dir = run.join(format!("trial-{k}"));
        for machine in trial["machines"].as_array().expect("machines") {
            let id = machine["id"].as_u64().expect("id").to_string();
            let figures = &machine["figures"];
            // JSON and CSV hold the same value of every figure.
            for (name, value) in figures.as_object().expect("figures") {
                if let Some(v) = value.as_f64() {
                    assert_eq!(
                        csv_value(&csv, &k, &id, name),
                        v,
                        "trial {k} machine {id} {name}"
                    );
                }
            }
            // The analysis of the log agrees with what the machine itself reported.
            let summary: serde_yaml::Value = serde_yaml::from_str(
                &std::fs::read_to_string(trial_dir.join(format!("summary-{id}.yaml")))
                    .expect("summary"),
            )
            .expect("summary parses");
            assert_eq!(
                figures["final_clock"].as_f64(),
                summary["final_clock"].as_f64()
            );
            assert_eq!(figures["events"].as_f64(), summary["ticks"].as_f64());
            assert_eq!(figures["jump_max"].as_f64(), summary["max_jump"].as_f64());
            // And the stdout table shows the same final clock and event count: in the block of
            // "trial k:", the row of machine `id` reads id, set, real, count, 4 shares, final...
            let block = stdout
                .split(&format!("\n  trial {k}: "))
                .nth(1)
                .expect("a block per trial");
            let row: Vec<&str> = block
                .lines()
                .map(str::split_whitespace)
                .map(Iterator::collect::<Vec<_>>)
                .find(|cells| cells.first() == Some(&id.as_str()))
                .expect("a row for the machine");
            assert_eq!(
                row[3].parse::<f64>().ok(),
                figures["events"].as_f64(),
                "{row:?}"
            );
            assert_eq!(
                row[8].parse::<f64>().ok(),
                figures["final_clock"].as_f64(),
                "{row:?}"
            );
        }
        let spread = trial["figures"]["spread_max"].as_f64().expect("a spread");
        assert_eq!(csv_value(&csv, &k, "all", "spread_max"), spread);
    }
    // Across trials: the JSON's mean is the CSV's, and is the mean of the two trials.
    let across = &json["runs"][0]["across_trials"]["trial"]["jump_max"];
    let (a, b) = (
        trials[0]["figures"]["jump_max"].as_f64().expect("jump max"),
        trials[1]["figures"]["jump_max"].as_f64().expect("jump max"),
    );
    assert_eq!(across["mean"].as_f64(), Some((a + b) / 2.0));
    assert_eq!(csv_value(&csv, "mean", "all", "jump_max"), (a + b) / 2.0);
    assert_eq!(across["n"].as_u64(), Some(2));
}

#[test]
fn a_directory_that_is_not_a_run_is_an_error_naming_it() {
    let dir = scratch("empty");
    let out = clocklab(&["analyze", dir.to_str().expect("utf-8")]);
    assert!(!out.status.success(), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{} is not a run directory", dir.display())),
        "{}",
        show(&out)
    );
}

#[test]
fn a_missing_log_is_an_error_naming_the_file() {
    let copy = scratch("missing");
    copy_tree(run_dir(), &copy);
    let gone = copy.join("trial-2").join("machine-3.csv");
    std::fs::remove_file(&gone).expect("remove a log");
    let out = clocklab(&[
        "analyze",
        copy.to_str().expect("utf-8"),
        "--out",
        copy.join("a").to_str().expect("utf-8"),
    ]);
    assert!(!out.status.success(), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}: missing", gone.display())),
        "{}",
        show(&out)
    );
}

#[test]
fn a_cut_off_log_makes_its_trial_incomplete_not_skipped() {
    let copy = scratch("truncated");
    copy_tree(run_dir(), &copy);
    let log = copy.join("trial-1").join("machine-2.csv");
    let text = std::fs::read(&log).expect("the log");
    let lines = text.iter().filter(|&&b| b == b'\n').count();
    std::fs::write(&log, &text[..text.len() - 5]).expect("cut the last line");
    let out_dir = copy.join("a");
    let out = clocklab(&[
        "analyze",
        copy.to_str().expect("utf-8"),
        "--out",
        out_dir.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let note = format!(
        "trial 1: machine 2: {} was cut off at line {lines}",
        log.display()
    );
    assert!(stdout.contains(&note), "{note:?} not in\n{stdout}");
    assert!(stdout.contains("INCOMPLETE"));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).expect("json"))
            .expect("summary.json parses");
    let trial = &json["runs"][0]["trials"][0];
    assert_eq!(trial["complete"], false);
    assert_eq!(trial["machines"][1]["complete"], false);
    // The rows before the cut are analysed: one event fewer than the whole lines of the file.
    assert_eq!(
        trial["machines"][1]["figures"]["events"].as_f64(),
        Some((lines - 2) as f64)
    );
    assert_eq!(json["runs"][0]["trials"][1]["complete"], true);
}
