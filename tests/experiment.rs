//! `clocklab experiment weather` and `experiment sweep` over a fault parameter: the files they
//! write, the plan each scenario records, and the figures that must differ from fair weather.
//! Everything is simulated from a fixed seed.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{TestDir, bin, only_dir, succeeds_in};

/// Runs `clocklab ARGS...` in `dir` (no `config/config.yaml` there: the built-in defaults).
fn clocklab_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .current_dir(dir)
        .args(args)
        .output()
        .expect("start clocklab")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a utf-8 path")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A CSV file as a header and rows of cells by column name.
fn csv_rows(text: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .expect("a header")
        .iter()
        .map(String::from)
        .collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.expect("a row");
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect();
    (header, rows)
}

const SCENARIOS: [&str; 6] = [
    "baseline",
    "slow-link",
    "partition-hold",
    "partition-drop",
    "pause",
    "clock",
];

/// `experiment weather --trials 3 --duration 30` with seed 9, once per test binary run: its
/// directory and its `scenarios.csv` rows by scenario.
fn weather_experiment(dir: &TestDir) -> (PathBuf, BTreeMap<String, BTreeMap<String, String>>) {
    let out = dir.join("out");
    let printed = succeeds_in(
        &dir.path,
        &[
            "experiment",
            "weather",
            "--trials",
            "3",
            "--duration",
            "30",
            "--seed",
            "9",
            "--out",
            path(&out),
        ],
    );
    assert!(
        printed.contains("every trial passed its check"),
        "{printed}"
    );
    let run = only_dir(&out);
    let (header, rows) = csv_rows(&read(&run.join("scenarios.csv")));
    assert_eq!(
        header,
        [
            "scenario",
            "trials",
            "max_jump_mean",
            "max_jump_std",
            "queue_peak_mean",
            "queue_peak_std",
            "concurrent_share_mean",
            "concurrent_share_std",
            "hlc_drift_max_ms_mean",
            "hlc_drift_max_ms_std",
            "hlc_counter_max_mean",
            "hlc_counter_max_std",
            "held_mean",
            "held_std",
            "dropped_mean",
            "dropped_std",
            "what"
        ]
    );
    let names: Vec<&str> = rows.iter().map(|r| r["scenario"].as_str()).collect();
    assert_eq!(names, SCENARIOS, "one row per scenario, in order");
    let by_name = rows
        .into_iter()
        .map(|r| (r["scenario"].clone(), r))
        .collect();
    (run, by_name)
}

fn num(rows: &BTreeMap<String, BTreeMap<String, String>>, scenario: &str, column: &str) -> f64 {
    let cell = &rows[scenario][column];
    cell.parse()
        .unwrap_or_else(|e| panic!("{scenario}.{column} = {cell:?}: {e}"))
}

#[test]
fn the_weather_experiment_writes_its_report_and_records_each_scenarios_plan() {
    let dir = TestDir::new("experiment-weather");
    let (run, rows) = weather_experiment(&dir);
    for name in SCENARIOS {
        assert_eq!(rows[name]["trials"], "3");
        for column in ["max_jump_mean", "queue_peak_mean", "concurrent_share_mean"] {
            assert!(num(&rows, name, column) > 0.0, "{name}.{column}");
        }
    }
    // The report: the page with one table row per scenario and every plot inline, the plots as
    // files, and the runs side by side through `analyze`.
    let page = read(&run.join("scenarios.html"));
    assert_eq!(page.matches("<tr><th class=\"key\">").count(), 6);
    for file in [
        "scenarios-jump.svg",
        "scenarios-queue.svg",
        "scenarios-concurrency.svg",
        "scenarios-hlc.svg",
        "scenarios-held.svg",
        "scenarios-dropped.svg",
    ] {
        let svg = read(&run.join(file));
        assert!(svg.starts_with("<svg"), "{file}");
        for name in SCENARIOS {
            assert!(svg.contains(name), "{file} names {name}");
        }
    }
    assert_eq!(page.matches("<svg").count(), 6);
    for file in ["report.html", "summary.csv", "weather.csv"] {
        assert!(run.join("analysis").join(file).is_file(), "analysis/{file}");
    }
    // Each scenario's trials record its plan in run.yaml, as described: machine 1 (at 2
    // ticks/s, the slowest of 2, 4, 6) in the middle third of 30 s.
    let expected = [
        ("baseline", "[]"),
        (
            "slow-link",
            "[{kind: delay, link: '*->1', latency: 'fixed:100ms', from: 0.0, to: 30.0}]",
        ),
        (
            "partition-hold",
            "[{kind: partition, groups: [[1], [2, 3]], mode: hold, from: 10.0, to: 20.0}]",
        ),
        (
            "partition-drop",
            "[{kind: partition, groups: [[1], [2, 3]], mode: drop, from: 10.0, to: 20.0}]",
        ),
        ("pause", "[{kind: pause, machine: 1, from: 10.0, to: 20.0}]"),
        (
            "clock",
            "[{kind: clock, machine: 1, offset_ms: 250.0, drift_ppm: 100.0}]",
        ),
    ];
    for (name, plan) in expected {
        let want: serde_yaml::Value = serde_yaml::from_str(plan).expect("the expected plan");
        for k in 1..=3 {
            let record: serde_yaml::Value =
                support::read_yaml(&run.join(name).join(format!("trial-{k}/run.yaml")));
            let rates = &record["config"]["machines"]["rates"];
            assert_eq!(
                rates,
                &serde_yaml::from_str::<serde_yaml::Value>("[2.0, 4.0, 6.0]").unwrap()
            );
            let got = record["config"]
                .get("faults")
                .cloned()
                .unwrap_or(serde_yaml::Value::Sequence(Vec::new()));
            assert_eq!(got, want, "{name} trial {k}");
        }
    }
}

#[test]
fn a_pause_and_a_skewed_clock_change_the_figures_of_fair_weather() {
    let dir = TestDir::new("experiment-weather-figures");
    let (_, rows) = weather_experiment(&dir);
    // Machine 1 stopped for 10 s while its peers kept sending: its queue peaks higher.
    assert!(
        num(&rows, "pause", "queue_peak_mean") > num(&rows, "baseline", "queue_peak_mean"),
        "{rows:?}"
    );
    // A clock 250 ms ahead carries every hybrid clock that hears from it 250 ms ahead of real
    // time; in fair weather the hybrid clocks stay within a hop of it.
    assert!(num(&rows, "clock", "hlc_drift_max_ms_mean") >= 250.0);
    assert!(num(&rows, "baseline", "hlc_drift_max_ms_mean") < 1.0);
    // The clock fault moves no frame and no tick: the Lamport figures are fair weather's.
    for column in ["max_jump_mean", "queue_peak_mean", "concurrent_share_mean"] {
        assert_eq!(rows["clock"][column], rows["baseline"][column], "{column}");
    }
    for name in ["baseline", "pause", "clock"] {
        assert_eq!(num(&rows, name, "held_mean"), 0.0, "{name}");
        assert_eq!(num(&rows, name, "dropped_mean"), 0.0, "{name}");
    }
}

#[test]
fn the_partition_and_slow_link_scenarios_hold_and_drop_frames() {
    let dir = TestDir::new("experiment-weather-books");
    let (_, rows) = weather_experiment(&dir);
    assert!(num(&rows, "slow-link", "held_mean") > 0.0, "{rows:?}");
    assert_eq!(num(&rows, "slow-link", "dropped_mean"), 0.0);
    assert!(num(&rows, "partition-hold", "held_mean") > 0.0, "{rows:?}");
    assert_eq!(num(&rows, "partition-hold", "dropped_mean"), 0.0);
    assert!(
        num(&rows, "partition-drop", "dropped_mean") > 0.0,
        "{rows:?}"
    );
    assert_eq!(num(&rows, "partition-drop", "held_mean"), 0.0);
    // Until the window ends nothing crosses it either way, so every machine sends the same
    // frames across it in both modes, trial by trial: what one holds, the other drops.
    for column in ["mean", "std"] {
        assert_eq!(
            rows["partition-hold"][&format!("held_{column}")],
            rows["partition-drop"][&format!("dropped_{column}")]
        );
    }
    // Held frames arrive together when the window ends: machine 1's queue peaks. Dropped ones
    // never arrive: its clock, 10 s behind its faster peers, jumps at the first frame after.
    assert!(
        num(&rows, "partition-hold", "queue_peak_mean") > num(&rows, "baseline", "queue_peak_mean")
    );
    assert!(
        num(&rows, "partition-drop", "max_jump_mean")
            > 2.0 * num(&rows, "baseline", "max_jump_mean"),
        "{rows:?}"
    );
}

#[test]
fn a_sweep_over_a_fault_parameter_writes_sweep_csv_with_its_values() {
    let dir = TestDir::new("experiment-sweep-fault");
    for (param, values) in [("partition_s", "0,5,10"), ("delay_ms", "0,50")] {
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
                "2",
                "--duration",
                "30",
                "--seed",
                "4",
                "--out",
                path(&out),
            ],
        );
        let run = only_dir(&out);
        let (header, rows) = csv_rows(&read(&run.join("sweep.csv")));
        assert_eq!(header[..3], ["param", "value", "trials"]);
        let got: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r["param"].as_str(),
                    r["value"].as_str(),
                    r["slow_rate"].as_str(),
                )
            })
            .collect();
        let want: Vec<(&str, &str, &str)> = values.split(',').map(|v| (param, v, "1")).collect();
        assert_eq!(got, want);
        for file in ["sweep.html", "sweep-queue.svg", "sweep-clocks.svg"] {
            assert!(run.join(file).is_file(), "{param}: {file}");
        }
    }
}

#[test]
fn a_partition_that_outlasts_the_trial_is_refused_before_anything_runs() {
    let dir = TestDir::new("experiment-sweep-refused");
    let out = dir.join("out");
    let got = clocklab_in(
        &dir.path,
        &[
            "experiment",
            "sweep",
            "--param",
            "partition_s",
            "--values",
            "5,25",
            "--trials",
            "1",
            "--duration",
            "30",
            "--out",
            path(&out),
        ],
    );
    assert!(!got.status.success());
    let err = String::from_utf8_lossy(&got.stderr);
    assert!(err.contains("--param partition_s = 25"), "{err}");
    assert!(err.contains("faults[0].to"), "{err}");
    assert!(err.contains("at most at run.duration (30)"), "{err}");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn a_longer_partition_of_machine_1_raises_its_queue_peak() {
    let dir = TestDir::new("experiment-sweep-partition-peak");
    let out = dir.join("out");
    succeeds_in(
        &dir.path,
        &[
            "experiment",
            "sweep",
            "--param",
            "partition_s",
            "--values",
            "0,10",
            "--trials",
            "3",
            "--duration",
            "30",
            "--seed",
            "4",
            "--out",
            path(&out),
        ],
    );
    let (_, rows) = csv_rows(&read(&only_dir(&out).join("sweep.csv")));
    let peak = |k: usize| -> f64 { rows[k]["queue_peak_mean"].parse().expect("a number") };
    // Held for 10 s and released at once, machine 1's frames arrive together.
    assert!(peak(1) > peak(0), "{rows:?}");
}
