//! The files clocklab writes for other tools keep their bytes: `summary-wide.csv`,
//! `summary.csv` and `summary-trials.csv` (`analyze`), the JSON Lines and ShiViz exports
//! (`export`), `sweep.csv` and `sweep-trials.csv` (`experiment sweep`), each compared with the
//! file the same command wrote when it was last changed on purpose (`tests/golden/`; each change
//! is explained in its commit). Every input is simulated from a fixed seed, so the bytes are the
//! same on every machine. And every CSV is tidy: its id columns (`trial`, `machine`) are whole
//! numbers in every row, no column name comes twice, and the figures across trials keep each row
//! at one rate.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use support::{TestDir, only_dir, succeeds_in};

fn golden(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compares line by line, so a failure names the first line that differs.
fn assert_same(what: &str, got: &str, want: &str) {
    for (k, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "{what}: line {} differs", k + 1);
    }
    assert_eq!(
        got.lines().count(),
        want.lines().count(),
        "{what}: line count"
    );
    assert_eq!(got, want, "{what}: bytes (line endings)");
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a utf-8 path")
}

#[test]
fn analyze_writes_the_summaries_byte_for_byte_as_before() {
    let dir = TestDir::new("outputs-analyze");
    let sims = dir.join("sim");
    // The golden files were written under the receive rule of their day, `as_run`: with tick
    // lateness, `by_deadline` (the default since) changes which tick takes a message, and this
    // test is about how the figures are written, not about the model.
    let config = dir.join("as-run.yaml");
    std::fs::write(&config, "machines:\n  receive_rule: as_run\n").expect("write as-run.yaml");
    succeeds_in(
        &dir.path,
        &[
            "simulate",
            "--config",
            path(&config),
            "--seed",
            "7",
            "--trials",
            "3",
            "--duration",
            "20",
            "--machines",
            "4",
            "--tick-lateness",
            "exp:50us:200us",
            "--out",
            path(&sims),
        ],
    );
    let out = dir.join("analysis");
    succeeds_in(
        &dir.path,
        &[
            "analyze",
            path(&only_dir(&sims)),
            "--label",
            "golden",
            "--out",
            path(&out),
        ],
    );
    let read = |name: &str| std::fs::read_to_string(out.join(name)).expect(name);
    assert_same(
        "summary-wide.csv",
        &read("summary-wide.csv"),
        &golden("analyze-seed-7.summary-wide.csv"),
    );
    assert_same(
        "summary-trials.csv",
        &read("summary-trials.csv"),
        &golden("analyze-seed-7.summary-trials.csv"),
    );
    // summary.csv's first rows: machine 1's figures in trial 1.
    let want = golden("analyze-seed-7.summary-head.csv");
    let summary = read("summary.csv");
    let head: String = summary
        .split_inclusive('\n')
        .take(want.lines().count())
        .collect();
    assert_same("summary.csv", &head, &want);
}

#[test]
fn export_writes_json_lines_and_shiviz_byte_for_byte_as_before() {
    let dir = TestDir::new("outputs-export");
    let sims = dir.join("sim");
    // Eleven machines: hosts m10 and m11 sort before m2 as text, but come after m9 in `vc`.
    succeeds_in(
        &dir.path,
        &[
            "simulate",
            "--seed",
            "11",
            "--trials",
            "1",
            "--duration",
            "2",
            "--machines",
            "11",
            "--rates",
            "1,2,3,4,5,6,1,2,3,4,5",
            "--out",
            path(&sims),
        ],
    );
    let run = only_dir(&sims);
    let jsonl = succeeds_in(&dir.path, &["export", path(&run), "--format", "jsonl"]);
    assert_same("jsonl", &jsonl, &golden("export-seed-11.jsonl"));
    let shiviz = succeeds_in(&dir.path, &["export", path(&run), "--shiviz"]);
    assert_same("shiviz", &shiviz, &golden("export-seed-11.shiviz"));
}

#[test]
fn a_sweep_writes_sweep_csv_byte_for_byte_as_before() {
    let dir = TestDir::new("outputs-sweep");
    for (param, values, trials, seed, file) in [
        (
            "slow-rate",
            "0.5,1.5,3",
            "4",
            "3",
            "sweep-slow-rate-seed-3.csv",
        ),
        (
            "action-range",
            "4,10,20",
            "3",
            "5",
            "sweep-action-range-seed-5.csv",
        ),
    ] {
        let out = dir.join(param);
        succeeds_in(
            &dir.path,
            &[
                "experiment",
                "sweep",
                "--param",
                param,
                "--values",
                values,
                "--trials",
                trials,
                "--seed",
                seed,
                "--out",
                path(&out),
            ],
        );
        let dir = only_dir(&out);
        let csv = std::fs::read_to_string(dir.join("sweep.csv")).expect("sweep.csv");
        assert_same(file, &csv, &golden(file));
        let per_trial = std::fs::read_to_string(dir.join("sweep-trials.csv")).expect("trials");
        let trials_file = file.replace("sweep-", "sweep-trials-");
        assert_same(&trials_file, &per_trial, &golden(&trials_file));
        the_trials_make_the_aggregate(&csv, &per_trial, trials.parse().expect("a count"));
    }
}

/// The rows of a CSV text as maps from column to cell, after checking that no column name comes
/// twice.
fn rows(what: &str, text: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    let mut names = header.clone();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), header.len(), "{what}: a column name twice");
    reader
        .records()
        .map(|r| {
            let r = r.expect("a CSV row");
            assert_eq!(r.len(), header.len(), "{what}: a short row");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// `sweep-trials.csv` has `trials` rows per value of `sweep.csv`, each with its own number, and
/// the mean and deviation of their figures are `sweep.csv`'s, to its three decimals.
fn the_trials_make_the_aggregate(sweep: &str, per_trial: &str, trials: usize) {
    let aggregate = rows("sweep.csv", sweep);
    let per_trial = rows("sweep-trials.csv", per_trial);
    assert_eq!(per_trial.len(), aggregate.len() * trials);
    for row in &aggregate {
        let of_value: Vec<_> = per_trial
            .iter()
            .filter(|t| t["value"] == row["value"])
            .collect();
        let numbers: Vec<u32> = of_value
            .iter()
            .map(|t| t["trial"].parse().unwrap())
            .collect();
        assert_eq!(numbers, (1..=trials as u32).collect::<Vec<_>>());
        for figure in ["slow_final_queue", "queue_peak", "final_drift", "max_jump"] {
            let values: Vec<f64> = of_value
                .iter()
                .map(|t| t[figure].parse().unwrap())
                .collect();
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            assert_eq!(
                (format!("{mean:.3}"), format!("{std:.3}")),
                (
                    row[&format!("{figure}_mean")].clone(),
                    row[&format!("{figure}_std")].clone()
                ),
                "{figure} at {}",
                row["value"]
            );
        }
    }
}

#[test]
fn every_analyze_csv_is_tidy_and_the_figures_across_trials_keep_one_rate_a_row() {
    let dir = TestDir::new("outputs-tidy");
    let sims = dir.join("sim");
    // Random rates (the default): over six trials the machines run at several rates.
    let trials = 6;
    succeeds_in(
        &dir.path,
        &[
            "simulate",
            "--seed",
            "21",
            "--trials",
            &trials.to_string(),
            "--duration",
            "5",
            "--out",
            path(&sims),
        ],
    );
    let out = dir.join("analysis");
    let stdout = succeeds_in(
        &dir.path,
        &[
            "analyze",
            path(&only_dir(&sims)),
            "--out",
            path(&out),
            "--events",
        ],
    );
    assert!(
        stdout.contains("rates differ between trials: the trial figures across trials"),
        "{stdout}"
    );
    // The machine tables across trials: a row per machine and rate, keyed `<id>@<rate>`, and the
    // trials of each row, adding up to the trials for each machine.
    let per_row: String = stdout
        .lines()
        .skip_while(|l| !l.starts_with("  trials per row:"))
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let counts: Vec<(&str, usize)> = per_row
        .trim_start_matches("  trials per row:")
        .split(',')
        .map(|item| {
            let (key, n) = item.trim().split_once(' ').expect("a key and a count");
            (key, n.parse().expect("a count"))
        })
        .collect();
    for id in ["1", "2", "3"] {
        let of = counts
            .iter()
            .filter(|(k, _)| k.split('@').next() == Some(id));
        assert_eq!(of.map(|(_, n)| n).sum::<usize>(), trials, "{per_row}");
    }
    for (key, _) in &counts {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("  {key} "))),
            "a row for {key}"
        );
    }
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(&out).expect("the analysis") {
        let file = entry.expect("an entry").path();
        if file.extension().is_some_and(|e| e == "csv") {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&file).expect("a CSV");
            files.insert(name.clone(), rows(&name, &text));
        }
    }
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "events.csv",
            "summary-stats.csv",
            "summary-trials.csv",
            "summary-wide.csv",
            "summary.csv"
        ]
    );
    // Every cell of every id column is a whole number: pandas reads them as integers.
    for (name, rows) in &files {
        assert!(!rows.is_empty(), "{name}: no rows");
        for (k, row) in rows.iter().enumerate() {
            for id in ["trial", "machine", "trials"] {
                if let Some(cell) = row.get(id) {
                    assert!(
                        cell.parse::<u64>().is_ok(),
                        "{name} row {}: {id} is {cell:?}",
                        k + 2
                    );
                }
            }
            // Whether a trial or a machine is complete has a name of its own.
            assert!(!row.contains_key("complete"), "{name}");
        }
    }
    let wide = &files["summary-wide.csv"];
    assert!(wide[0].contains_key("trial_complete") && wide[0].contains_key("machine_complete"));
    // summary.csv: machine figures only, every trial and machine of summary-wide.csv.
    let long = &files["summary.csv"];
    for row in wide {
        let value = long
            .iter()
            .find(|l| {
                l["trial"] == row["trial"]
                    && l["machine"] == row["machine"]
                    && l["figure"] == "events"
            })
            .expect("each machine of each trial");
        assert_eq!(value["value"], row["events"]);
    }
    assert_eq!(files["summary-trials.csv"].len(), trials);
    // summary-stats.csv: a group per machine and rate, each at one rate, its trials summing to
    // the trials; its mean is the mean of summary-wide's rows at that rate.
    let stats = &files["summary-stats.csv"];
    let mut groups: BTreeMap<(String, String), String> = BTreeMap::new();
    for row in stats {
        let key = (row["machine"].clone(), row["rate"].clone());
        let n = groups.entry(key).or_insert_with(|| row["trials"].clone());
        assert_eq!(*n, row["trials"], "one count per group");
        if row["figure"] == "rate" && ["min", "max", "mean"].contains(&row["stat"].as_str()) {
            assert_eq!(row["value"], row["rate"], "a group at one rate");
        }
        if row["stat"] == "mean" && row["figure"] == "final_clock" {
            let values: Vec<f64> = wide
                .iter()
                .filter(|w| w["machine"] == row["machine"] && w["rate"] == row["rate"])
                .map(|w| w["final_clock"].parse().unwrap())
                .collect();
            assert_eq!(values.len().to_string(), row["trials"]);
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            assert_eq!(row["value"].parse::<f64>().ok(), Some(mean));
        }
    }
    assert!(
        groups.len() > 3,
        "some machine ran at several rates: {groups:?}"
    );
    let mut per_machine: BTreeMap<&str, usize> = BTreeMap::new();
    for ((machine, _), n) in &groups {
        *per_machine.entry(machine).or_default() += n.parse::<usize>().unwrap();
    }
    assert_eq!(
        per_machine,
        [("1", trials), ("2", trials), ("3", trials)].into()
    );
    // events.csv: the time since the trial's start beside the system time.
    let first = &files["events.csv"][0];
    assert!(first.contains_key("system_time_s") && first.contains_key("time_s"));
}
