//! `clocklab analyze` end to end: a real two-trial run of the binary, analysed; the report, the
//! plots and both summaries must exist, be well-formed and agree with each other and with the
//! table printed. Also: a directory that is not a run, a missing log and a cut-off log.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use clocklab::core::event::EventKind;
use serde_json::Value;
use support::{TestDir, cell};

fn clocklab(args: &[&str]) -> Output {
    Command::new(support::bin())
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

/// `clocklab analyze RUN --out OUT EXTRA...`, checked to succeed.
fn analyze(run: &Path, out_dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "analyze",
        run.to_str().expect("utf-8"),
        "--out",
        out_dir.to_str().expect("utf-8"),
    ];
    args.extend(extra);
    let out = clocklab(&args);
    assert!(out.status.success(), "{}", show(&out));
    out
}

/// Runs `clocklab ARGS`, checked to fail with `want` in what it printed on standard error.
fn assert_refused(args: &[&str], want: &str) {
    let out = clocklab(args);
    assert!(!out.status.success(), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(want), "{}", show(&out));
}

/// One real run shared by the tests: 3 machines at 40, 60 and 90 ticks/s, 2 trials of 2 s.
fn run_dir() -> &'static Path {
    &the_run().0
}

/// The shared run's directory and what `run` printed on stdout.
fn the_run() -> &'static (PathBuf, String) {
    &shared_run().1
}

/// The shared run: its test directory, and the run directory and what `run` printed. A static
/// is never dropped, so the run outlives every test that reads it, and its directory stays
/// behind as it did before `TestDir` (no test knows it is the last).
fn shared_run() -> &'static (TestDir, (PathBuf, String)) {
    static RUN: OnceLock<(TestDir, (PathBuf, String))> = OnceLock::new();
    RUN.get_or_init(|| {
        let test = TestDir::new("analyze-run");
        let base = test.path.clone();
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
        let printed = String::from_utf8_lossy(&out.stdout).into_owned();
        (test, (dirs.remove(0), printed))
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
    let test = TestDir::new("analyze-out");
    let out_dir = test.path.clone();
    let out = analyze(run, &out_dir, &[]);
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
        for kind in ["clock", "lag", "queue", "drift", "jumps"] {
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

    // Two trials: each per-machine figure's distribution across them, a dot per trial and
    // machine (3 machines x 2 trials), every machine named.
    for figure in ["jump_max", "queue_peak", "drift_max", "final_clock"] {
        let path = out_dir.join(format!("across-{figure}.svg"));
        let text = std::fs::read_to_string(&path).expect("the distribution plot exists");
        let doc =
            roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let dots = doc.descendants().filter(|n| n.has_tag_name("circle"));
        assert_eq!(dots.count(), 6, "{}", path.display());
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        for id in 1..=3 {
            let name = format!("machine {id}");
            assert!(texts.iter().any(|t| t.trim() == name), "{}", path.display());
        }
    }

    // The report holds every plot inline and fetches nothing.
    let html = std::fs::read_to_string(out_dir.join("report.html")).expect("report.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Five plots and a space-time diagram per trial, and four distributions across the two
    // trials; each diagram parsed as XML. Beside them, each trial's interactive diagram is an
    // empty <svg> its script draws into.
    assert_eq!(html.matches("<svg ").count(), 2 * 6 + 4 + 2);
    assert_eq!(html.matches("<svg class=\"plot\"").count(), 2);
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
    // One inline script and inline data, nothing loaded.
    assert_eq!(html.matches("<script>").count(), 1);
    assert!(!html.contains("<script src"));
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
    assert_eq!(json["format"], "clocklab-analysis/3");
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
        let drift = trial["figures"]["drift_max"].as_f64().expect("a drift");
        assert_eq!(trial_value(&out_dir, &k, "drift_max"), drift);
    }
    // Across trials: the JSON's mean is the CSV's, and is the mean of the two trials.
    let across = &json["runs"][0]["across_trials"]["trial"]["jump_max"];
    let (a, b) = (
        trials[0]["figures"]["jump_max"].as_f64().expect("jump max"),
        trials[1]["figures"]["jump_max"].as_f64().expect("jump max"),
    );
    assert_eq!(across["mean"].as_f64(), Some((a + b) / 2.0));
    assert_eq!(across["n"].as_u64(), Some(2));
    // Per machine (at one rate in both trials), summary-stats.csv holds the JSON's statistics.
    let stats = csv_maps(&out_dir, "summary-stats.csv");
    let machines = json["runs"][0]["across_trials"]["machines"]
        .as_array()
        .expect("machines");
    assert_eq!(machines.len(), 3, "one group per machine: rates 40, 60, 90");
    for g in machines {
        let id = g["id"].as_u64().expect("id").to_string();
        assert_eq!(g["trials"], serde_json::json!([1, 2]));
        for stat in ["n", "mean", "min", "max"] {
            let row = stats
                .iter()
                .find(|r| r["machine"] == id && r["figure"] == "jump_max" && r["stat"] == stat)
                .expect("a row per machine, figure and statistic");
            assert_eq!(row["trials"], "2");
            assert_eq!(row["rate"].parse::<f64>().ok(), g["rate"].as_f64());
            assert_eq!(
                row["value"].parse::<f64>().ok(),
                g["figures"]["jump_max"][stat].as_f64(),
                "machine {id} {stat}"
            );
        }
    }
}

#[test]
fn a_directory_that_is_not_a_run_is_an_error_naming_it() {
    let test = TestDir::new("analyze-empty");
    let dir = test.path.clone();
    let want = format!("{} is not a run directory", dir.display());
    assert_refused(&["analyze", dir.to_str().expect("utf-8")], &want);
}

#[test]
fn a_missing_log_is_an_error_naming_the_file() {
    let test = TestDir::new("analyze-missing");
    let copy = test.path.clone();
    copy_tree(run_dir(), &copy);
    let gone = copy.join("trial-2").join("machine-3.csv");
    std::fs::remove_file(&gone).expect("remove a log");
    let out_dir = copy.join("a");
    let args = [
        "analyze",
        copy.to_str().expect("utf-8"),
        "--out",
        out_dir.to_str().expect("utf-8"),
    ];
    assert_refused(&args, &format!("{}: missing", gone.display()));
}

#[test]
fn a_cut_off_log_makes_its_trial_incomplete_not_skipped() {
    let test = TestDir::new("analyze-truncated");
    let copy = test.path.clone();
    copy_tree(run_dir(), &copy);
    let log = copy.join("trial-1").join("machine-2.csv");
    let text = std::fs::read(&log).expect("the log");
    let lines = text.iter().filter(|&&b| b == b'\n').count();
    std::fs::write(&log, &text[..text.len() - 5]).expect("cut the last line");
    let out_dir = copy.join("a");
    let out = analyze(&copy, &out_dir, &[]);
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
    // Across trials, the incomplete trial is left out, and said to be; --include-incomplete
    // counts it.
    let n = |json: &Value| json["runs"][0]["across_trials"]["trial"]["events"]["n"].as_u64();
    assert_eq!(n(&json), Some(1));
    let left_out = "1 of 2 trials incomplete, left out of the figures across trials; \
                    --include-incomplete counts them";
    assert!(stdout.contains(left_out), "{stdout}");
    assert!(
        stdout.contains("per machine, mean over the trials (1 counted;"),
        "{stdout}"
    );
    let all_dir = copy.join("all");
    let out = analyze(&copy, &all_dir, &["--include-incomplete", "--events"]);
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(all_dir.join("summary.json")).expect("json"))
            .expect("summary.json parses");
    assert_eq!(n(&json), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 of 2 trials incomplete, counted"),
        "{stdout}"
    );
    // events.csv keeps the rows before the cut: as many as the trials' whole log lines.
    let events = std::fs::read_to_string(all_dir.join("events.csv")).expect("events.csv");
    let mut rows = 0;
    for k in 1..=2 {
        for id in 1..=3 {
            let text = std::fs::read_to_string(copy.join(format!("trial-{k}/machine-{id}.csv")))
                .expect("a log");
            rows += text.matches('\n').count() - 1;
        }
    }
    assert_eq!(events.lines().count() - 1, rows);
}

/// `clocklab analyze DIR --out <test dir>` on the shared run, checked to succeed: the output
/// directory (removed when it is dropped, unless the test failed) and what it printed.
fn analyze_the_run(name: &str, extra: &[&str]) -> (TestDir, String) {
    let out_dir = TestDir::new(&format!("analyze-{name}"));
    let out = analyze(run_dir(), &out_dir.path, extra);
    (out_dir, String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The cells of the rows of `text` after the first line containing `start` whose first cell is
/// `key`, up to the next blank line.
fn rows_keyed<'a>(text: &'a str, start: &str, key: &str) -> Vec<Vec<&'a str>> {
    text.lines()
        .skip_while(|l| !l.contains(start))
        .skip(1)
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("trial "))
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|cells| cells.first() == Some(&key))
        .collect()
}

/// The summary-wide.csv rows, as maps from column to cell.
fn wide_rows(out_dir: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    csv_maps(out_dir, "summary-wide.csv")
}

/// The trial figure `figure` of trial `k` in summary-trials.csv.
fn trial_value(out_dir: &Path, k: &str, figure: &str) -> f64 {
    let rows = csv_maps(out_dir, "summary-trials.csv");
    let row = rows
        .iter()
        .find(|r| r["trial"] == k)
        .unwrap_or_else(|| panic!("no row for trial {k} in summary-trials.csv"));
    row[figure].parse().expect("a number")
}

/// The rows of the CSV file `name` in `out_dir`, as maps from column to cell.
fn csv_maps(out_dir: &Path, name: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(out_dir.join(name)).expect(name);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("a header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("a row");
            header
                .iter()
                .map(str::to_owned)
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[test]
fn queue_figures_agree_between_summaries_the_run_table_and_every_analyze_output() {
    let (run, printed) = the_run();
    let (out_dir, stdout) = analyze_the_run("queues", &[]);
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).expect("json"))
            .expect("summary.json parses");
    let csv = std::fs::read_to_string(out_dir.join("summary.csv")).expect("summary.csv");
    let wide = wide_rows(&out_dir.path);
    let mut peaks: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for k in ["1", "2"] {
        let trial = &json["runs"][0]["trials"][k.parse::<usize>().unwrap() - 1];
        let mut largest = 0.0f64;
        for id in ["1", "2", "3"] {
            let dir = run.join(format!("trial-{k}"));
            let summary: clocklab::rundir::records::ClientSummary = serde_yaml::from_str(
                &std::fs::read_to_string(dir.join(format!("summary-{id}.yaml"))).expect("summary"),
            )
            .expect("summary parses");
            let peak = f64::from(summary.queue_peak);
            largest = largest.max(peak);
            peaks.entry(id.to_owned()).or_default().push(peak);
            // run's table: the last column, headed "queue peak".
            let start = format!("trial {k}/2 (seed");
            let header = printed
                .lines()
                .skip_while(|l| !l.contains(&start))
                .nth(1)
                .expect("the table's header");
            assert!(header.ends_with("max jump queue peak"), "{header}");
            let row = &rows_keyed(printed, &start, id)[0];
            assert_eq!(row.last().copied(), Some(cell(peak).as_str()), "{row:?}");
            // analyze: JSON, long CSV, wide CSV, and its queue table (the second of the trial's
            // three tables, clock, queue and timing, whose first column is the peak).
            let figures = trial["machines"][id.parse::<usize>().unwrap() - 1]["figures"].clone();
            assert_eq!(figures["queue_peak"].as_f64(), Some(peak));
            assert_eq!(csv_value(&csv, k, id, "queue_peak"), peak);
            let w = wide
                .iter()
                .find(|r| r["trial"] == k && r["machine"] == id)
                .expect("a wide row");
            assert_eq!(w["queue_peak"], cell(peak));
            let rows = rows_keyed(&stdout, &format!("trial {k}: seed"), id);
            assert_eq!(rows.len(), 3, "{stdout}");
            assert_eq!(rows[1][1], cell(peak), "{:?}", rows[1]);
            // The queue after each tick is the log's queue_len, a tick having taken its message:
            // its largest value is below the peak (which counts the message the tick took).
            let log = clocklab::rundir::log::read_log(&dir.join(format!("machine-{id}.csv")))
                .expect("the log reads");
            let after = f64::from(log.iter().map(|r| r.queue_len).max().expect("rows"));
            assert_eq!(figures["queue_after_tick_max"].as_f64(), Some(after));
            assert_eq!(csv_value(&csv, k, id, "queue_after_tick_max"), after);
            assert_eq!(w["queue_after_tick_max"], cell(after));
            assert_eq!(rows[1][2], cell(after), "{:?}", rows[1]);
            assert!(
                peak >= 1.0 && after <= peak - 1.0,
                "trial {k} machine {id}: peak {peak}, after tick {after}"
            );
        }
        assert_eq!(trial["figures"]["queue_peak"].as_f64(), Some(largest));
        assert_eq!(trial_value(&out_dir.path, k, "queue_peak"), largest);
    }
    // run's table across the two trials: per machine mean, std, min and max of the queue peak.
    assert!(
        printed
            .contains("across trials: 2 of 2 trials, per machine and rate mean, std, min and max"),
        "{printed}"
    );
    for (id, values) in &peaks {
        let at = printed
            .find("across trials:")
            .expect("the table across trials");
        let lines: Vec<Vec<&str>> = printed[at..]
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        let first = lines
            .iter()
            .position(|c| c.first() == Some(&id.as_str()) && c.get(3) == Some(&"mean"))
            .expect("a mean row for the machine");
        let mean = (values[0] + values[1]) / 2.0;
        let std = (values[0] - values[1]).abs() / 2f64.sqrt();
        let (min, max) = (values[0].min(values[1]), values[0].max(values[1]));
        let last = |row: &Vec<&str>| row.last().map(|c| c.to_string());
        assert_eq!(last(&lines[first]), Some(cell(mean)));
        assert_eq!(last(&lines[first + 1]), Some(cell(std)));
        assert_eq!(last(&lines[first + 2]), Some(cell(min)));
        assert_eq!(last(&lines[first + 3]), Some(cell(max)));
        assert_eq!(
            json["runs"][0]["across_trials"]["machines"][id.parse::<usize>().unwrap() - 1]
                ["figures"]["queue_peak"]["mean"]
                .as_f64(),
            Some(mean)
        );
    }
    // And run ends with the command that analyzes it.
    // (The program as the shell here finds it: tests/hints.rs runs the hint.)
    let next = format!(" analyze {}", run.display());
    let last = printed.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("next: ") && last.ends_with(&next),
        "{printed}"
    );
}

#[test]
fn events_csv_holds_every_log_row_and_summary_wide_every_machine_figure() {
    // A copy of the run in a directory whose name, the run's label, needs quoting in a CSV.
    let test = TestDir::new("analyze-data");
    let base = test.path.clone();
    let run = base.join("run, \"one\"");
    copy_tree(run_dir(), &run);
    let out_dir = base.join("out");
    analyze(&run, &out_dir, &["--events"]);
    let events = std::fs::read_to_string(out_dir.join("events.csv")).expect("events.csv");
    let mut lines = events.lines();
    assert_eq!(
        lines.next(),
        Some(
            "run,trial,machine,event,system_time_s,time_s,logical_clock,queue_len,peer,msg_clock,seq"
        )
    );
    let body: Vec<&str> = lines.collect();
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).expect("json"))
            .expect("summary.json parses");
    // Every row of every log, in trial, machine and file order, as the log wrote it, with the
    // time since the trial's start after its system time, to the microsecond.
    let micros = |text: &str| -> i64 {
        let (s, us) = text.split_once('.').expect("six decimals");
        let sign = if s.starts_with('-') { -1 } else { 1 };
        s.parse::<i64>().unwrap() * 1_000_000 + sign * us.parse::<i64>().unwrap()
    };
    let mut expected = Vec::new();
    for k in 1..=2 {
        let start = json["runs"][0]["trials"][k - 1]["start_time_us"]
            .as_i64()
            .expect("a start");
        for id in 1..=3 {
            let log = std::fs::read_to_string(run.join(format!("trial-{k}/machine-{id}.csv")))
                .expect("a log");
            for line in log.lines().skip(1) {
                expected.push((format!("\"run, \"\"one\"\"\",{k},{line}"), start));
            }
        }
    }
    assert_eq!(body.len(), expected.len(), "one row per log row");
    for (row, (want, start)) in body.iter().zip(&expected) {
        // The label's field holds a comma: split after it.
        let (label, rest) = row.split_at(row.find("\",").expect("a quoted label") + 2);
        let mut cells: Vec<&str> = rest.split(',').collect();
        let time_s = cells.remove(4);
        assert_eq!(&format!("{label}{}", cells.join(",")), want);
        assert_eq!(micros(time_s), micros(cells[3]) - start, "{row}");
    }
    // Read back as CSV, the label is one field.
    let mut reader = csv::Reader::from_reader(events.as_bytes());
    let first = reader.records().next().expect("a row").expect("a CSV row");
    assert_eq!(
        (&first[0], &first[1], &first[2]),
        ("run, \"one\"", "1", "1")
    );

    // summary-wide: one row per trial and machine, every figure as in summary.json.
    let wide = wide_rows(&out_dir);
    assert_eq!(wide.len(), 2 * 3);
    for row in &wide {
        assert_eq!(row["run"], "run, \"one\"");
        let k: usize = row["trial"].parse().expect("a trial number");
        let id: usize = row["machine"].parse().expect("a machine id");
        let trial = &json["runs"][0]["trials"][k - 1];
        assert_eq!(row["trial_complete"], "1");
        let figures = trial["machines"][id - 1]["figures"]
            .as_object()
            .expect("figures");
        assert_eq!(figures.len() + 4, row.len());
        for (name, value) in figures {
            let text = &row[name];
            match value.as_f64() {
                Some(v) => assert_eq!(text.parse::<f64>().ok(), Some(v), "{name}"),
                None => assert_eq!(text, "", "{name}"),
            }
        }
    }
}

#[test]
fn the_docs_name_both_queue_figures_and_none_of_the_old_names() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ANALYSIS.md"))
        .expect("docs/ANALYSIS.md");
    use clocklab::analysis::{Figure, MachineFigure, TrialFigure};
    for name in MachineFigure::ALL
        .iter()
        .map(|f| f.name())
        .chain(TrialFigure::ALL.iter().map(|f| f.name()))
        .filter(|n| n.contains("queue"))
        .chain(["summary-wide.csv", "events.csv", "--include-incomplete"])
    {
        assert!(
            docs.contains(&format!("`{name}`")),
            "docs/ANALYSIS.md lacks `{name}`"
        );
    }
    assert!(docs.contains("pd.read_csv(\"analysis/events.csv\""));
    for old in [
        "max_queue",
        "`queue_max`",
        "`queue_mean`",
        "`queue_final`",
        "queue_growth",
    ] {
        assert!(!docs.contains(old), "docs/ANALYSIS.md still says {old}");
    }
    for old in ["max queue", "max/min"] {
        assert!(
            !docs.to_lowercase().contains(old),
            "docs/ANALYSIS.md still says {old}"
        );
    }
}

#[test]
fn an_old_run_whose_summaries_say_max_queue_still_analyses_with_its_queue_peak() {
    let test = TestDir::new("analyze-old-key");
    let copy = test.path.clone();
    copy_tree(run_dir(), &copy);
    let mut peaks = Vec::new();
    for k in 1..=2 {
        for file in [
            "summary-1.yaml",
            "summary-2.yaml",
            "summary-3.yaml",
            "run.yaml",
        ] {
            let path = copy.join(format!("trial-{k}/{file}"));
            let text = std::fs::read_to_string(&path).expect("a record");
            if file == "summary-1.yaml" {
                let line = text
                    .lines()
                    .find(|l| l.starts_with("queue_peak: "))
                    .expect("the summary's queue_peak");
                peaks.push(
                    line["queue_peak: ".len()..]
                        .parse::<f64>()
                        .expect("a number"),
                );
            }
            let old = text.replace("queue_peak:", "max_queue:");
            assert_ne!(old, text, "{}", path.display());
            std::fs::write(&path, old).expect("write the old record");
        }
    }
    let out_dir = copy.join("a");
    analyze(&copy, &out_dir, &[]);
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).expect("json"))
            .expect("summary.json parses");
    for (k, peak) in peaks.iter().enumerate() {
        let trial = &json["runs"][0]["trials"][k];
        assert_eq!(trial["complete"], true);
        assert_eq!(
            trial["machines"][0]["figures"]["queue_peak"].as_f64(),
            Some(*peak)
        );
    }
    let check = clocklab(&["check", copy.to_str().expect("utf-8")]);
    assert!(check.status.success(), "{}", show(&check));
}

#[test]
fn run_counts_sends_and_broadcasts_apart_as_the_logs_and_summaries_do() {
    let (run, printed) = the_run();
    for k in ["1", "2"] {
        let start = format!("trial {k}/2 (seed");
        let header: Vec<&str> = printed
            .lines()
            .skip_while(|l| !l.contains(&start))
            .nth(1)
            .expect("the table's header")
            .split_whitespace()
            .collect();
        let column = |name: &str| {
            header
                .iter()
                .position(|h| *h == name)
                .unwrap_or_else(|| panic!("no column {name:?} in {header:?}"))
        };
        let (sends, broadcasts, events) = (column("sends"), column("broadcasts"), column("events"));
        for id in 1..=3u16 {
            let dir = run.join(format!("trial-{k}"));
            let log = clocklab::rundir::log::read_log(&dir.join(format!("machine-{id}.csv")))
                .expect("the log reads");
            let rows = |kind: EventKind| log.iter().filter(|r| r.event == kind).count().to_string();
            let summary: clocklab::rundir::records::ClientSummary = serde_yaml::from_str(
                &std::fs::read_to_string(dir.join(format!("summary-{id}.yaml"))).expect("summary"),
            )
            .expect("summary parses");
            let row = &rows_keyed(printed, &start, &id.to_string())[0];
            // The table, the log and the summary (what the machine's own line prints: `N sends,
            // M broadcasts`) agree: a broadcast is not a send.
            assert_eq!(row[sends], rows(EventKind::Send), "{row:?}");
            assert_eq!(row[broadcasts], rows(EventKind::Broadcast), "{row:?}");
            assert_eq!(row[sends], summary.events["send"].to_string());
            assert_eq!(row[broadcasts], summary.events["broadcast"].to_string());
            // Events are the log's rows.
            assert_eq!(row[events], log.len().to_string(), "{row:?}");
        }
    }
}

#[test]
fn no_table_says_spread_or_behind_lead_and_the_drift_figures_are_named_drift() {
    // Two runs, so that the comparison is printed too.
    let test = TestDir::new("analyze-names");
    let copy = test.join("again");
    copy_tree(run_dir(), &copy);
    let out = clocklab(&[
        "analyze",
        run_dir().to_str().expect("utf-8 path"),
        copy.to_str().expect("utf-8 path"),
        "--out",
        test.join("out").to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success(), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_lowercase();
    let html = std::fs::read_to_string(test.join("out").join("report.html"))
        .expect("report.html")
        .to_lowercase();
    let json = std::fs::read_to_string(test.join("out").join("summary.json")).expect("json");
    for (what, text) in [("stdout", &stdout), ("report.html", &html), ("json", &json)] {
        for old in ["spread", "behind lead"] {
            assert!(!text.contains(old), "{what} says {old:?}");
        }
    }
    assert!(stdout.contains("drift (clk)"), "{stdout}");
    assert!(stdout.contains("drift max (clk)"), "{stdout}");
    assert!(json.contains("\"drift_max\""), "{json}");
}
