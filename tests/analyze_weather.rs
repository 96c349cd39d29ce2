//! `analyze` of a simulated run with a fault plan: the plan read back from `run.yaml`, its windows
//! shaded and named in the plots and the report, and the figures before, during and after each
//! window in `weather.csv` and `summary.json`, checked against the trial's own figures (every
//! event in exactly one phase; the largest jump and queue of the trial in one of them). A run
//! without a plan gets none of it.

mod support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{Cmd, SOON, TestDir, run_dir_under, run_to_end};

/// Machine 2's clock 250 ms ahead; a partition of machine 3 from 2 to 5 s; machine 2 paused
/// from 6 to 8 s (the figures hold whether the drivers apply the windows or not).
const PLAN: &str = "- {kind: clock, machine: 2, offset_ms: 250}\n\
                    - {kind: partition, groups: [[1, 2], [3]], from: 2, to: 5}\n\
                    - {kind: pause, machine: 2, from: 6, to: 8}\n";

fn simulate(tmp: &TestDir, out: &Path, faults: Option<&Path>) -> PathBuf {
    let config = tmp.config(3, "");
    let (code, printed) = Cmd::new("simulate")
        .seed(4)
        .rates("2,3,5")
        .duration("10")
        .config(&config)
        .out(out)
        .faults(faults)
        .run_to_end("simulate", SOON);
    assert_eq!(code, 0, "{printed}");
    run_dir_under(out)
}

/// Runs `analyze DIR --out OUT`; answers what it printed.
fn analyze(dir: &Path, out: &Path) -> String {
    let args = [
        OsStr::new("analyze"),
        dir.as_os_str(),
        OsStr::new("--out"),
        out.as_os_str(),
    ];
    let (code, printed) = run_to_end("analyze", args, SOON);
    assert_eq!(code, 0, "{printed}");
    printed
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn analyze_shows_the_weather_of_a_plan_and_nothing_without_one() {
    let tmp = TestDir::new("analyze-weather");
    let plan = tmp.join("plan.yaml");
    std::fs::write(&plan, PLAN).unwrap();
    let run = simulate(&tmp, &tmp.join("runs"), Some(&plan));
    let out = tmp.join("analysis");
    let printed = analyze(&run, &out);
    assert!(
        printed.contains("  clock m2 +250 ms +0 ppm: the whole trial"),
        "{printed}"
    );
    assert!(
        printed.contains("\n  partition {1,2}|{3} 2-5 s\n"),
        "{printed}"
    );
    assert!(printed.contains("weather.csv"), "{printed}");

    let json: Value = serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    let trial = &json["runs"][0]["trials"][0];
    let plan_words: Vec<&str> = trial["weather"]["plan"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        plan_words,
        [
            "clock m2 +250 ms +0 ppm",
            "partition {1,2}|{3} 2-5 s",
            "pause m2 6-8 s"
        ]
    );
    let windows = trial["weather"]["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 2);
    let figures = &trial["figures"];
    let number = |v: &Value| v.as_f64().unwrap_or_else(|| panic!("a number: {v}"));
    for w in windows {
        let phases = w["phases"].as_array().unwrap();
        let names: Vec<&str> = phases.iter().filter_map(|p| p["phase"].as_str()).collect();
        assert_eq!(names, ["before", "during", "after"]);
        // Every event in exactly one phase; the trial's largest jump and queue in one of them.
        let events: f64 = phases.iter().map(|p| number(&p["events"])).sum();
        assert_eq!(events, number(&figures["events"]), "{w}");
        let most = |key: &str| {
            phases
                .iter()
                .filter_map(|p| p[key].as_f64())
                .fold(0.0, f64::max)
        };
        assert_eq!(most("jump_max"), number(&figures["jump_max"]), "{w}");
        assert_eq!(
            most("queue_after_tick_max"),
            number(&figures["queue_after_tick_max"]),
            "{w}"
        );
        // Machine 2 ticks before either window: its own events are 250 ms ahead, and no clock
        // is further ahead than its.
        assert_eq!(phases[0]["hlc_drift_max_ms"], 250.0, "{w}");
        assert!(most("hlc_drift_max_ms") <= 250.0, "{w}");
    }
    assert_eq!(figures["hlc_drift_max_ms"], 250.0);

    // weather.csv: a header and a row per window and phase.
    let csv = read(&out.join("weather.csv"));
    assert_eq!(csv.lines().count(), 1 + 2 * 3, "{csv}");
    assert!(csv.contains(",1,partition,\"partition {1,2}|{3} 2-5 s\",during,2.0,5.0,"));

    // The plots and the report shade and name the windows.
    for plot in ["clock", "lag", "queue"] {
        let svg = read(&out.join(format!("trial-1-{plot}.svg")));
        assert!(svg.contains("partition {1,2}|{3} 2-5 s"), "{plot}");
        assert!(svg.contains("pause m2 6-8 s"), "{plot}");
        assert_eq!(svg.matches("opacity=\"0.16\"").count(), 2, "{plot}");
    }
    let page = read(&out.join("report.html"));
    assert!(page.contains("<h4>Weather: the fault plan</h4>"));
    assert!(page.contains("pause m2 6-8 s</th></tr>"));

    // The same seed without a plan: no weather anywhere.
    let fair = simulate(&tmp, &tmp.join("fair"), None);
    let fair_out = tmp.join("fair-analysis");
    let printed = analyze(&fair, &fair_out);
    assert!(!printed.contains("weather, trial"), "{printed}");
    assert!(!printed.contains("weather.csv"), "{printed}");
    assert!(!fair_out.join("weather.csv").exists());
    let json: Value = serde_json::from_str(&read(&fair_out.join("summary.json"))).unwrap();
    assert_eq!(json["runs"][0]["trials"][0].get("weather"), None);
    assert!(!read(&fair_out.join("report.html")).contains("Weather: the fault plan"));
    let svg = read(&fair_out.join("trial-1-clock.svg"));
    assert!(!svg.contains("opacity=\"0.16\""));
}
