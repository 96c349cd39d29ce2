//! The fault plan end to end: `--faults FILE` refused before anything starts when it does not
//! check, and the `clock` fault in a simulation and in a real run (its rows stamped with the bad
//! clock, the hybrid clocks' drift, the real time recovered from `run.yaml`).

mod support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use clocklab::analysis::analyze_trial;
use clocklab::analysis::hlc::HlcMachine;
use clocklab::analysis::load::load_run;
use clocklab::core::event::EventKind;
use clocklab::core::machine::tick_offset_ns;
use clocklab::rundir::log::{log_path, read_log};
use clocklab::rundir::records::RunRecord;
use serde_json::Value;
use support::{Cmd, SOON, TestDir, read_yaml, run_dir_under, run_to_end};

/// Machine 2's clock 250 ms ahead, no drift.
const CLOCK_PLAN: &str = "- {kind: clock, machine: 2, offset_ms: 250, drift_ppm: 0}\n";

fn write(tmp: &TestDir, name: &str, text: &str) -> PathBuf {
    let path = tmp.join(name);
    std::fs::write(&path, text).expect("write a test file");
    path
}

/// `clocklab simulate` of 3 machines at rates 2, 3 and 5 for 10 s with seed 9, into `out`, with
/// the plan in `faults` if any; returns the run's directory.
fn simulate(config: &Path, out: &Path, faults: Option<&Path>) -> PathBuf {
    let (code, printed) = Cmd::new("simulate")
        .seed(9)
        .rates("2,3,5")
        .duration("10")
        .config(config)
        .out(out)
        .faults(faults)
        .run_to_end("simulate", SOON);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("check: every trial passed"), "{printed}");
    run_dir_under(out)
}

/// Each machine's hybrid clock figures in the run at `dir` (one trial), as `analyze` loads it.
fn hlc(dir: &Path) -> Vec<HlcMachine> {
    let run = load_run(dir).unwrap_or_else(|e| panic!("{e}"));
    let analysis = analyze_trial(&run.trials[0]);
    analysis
        .causality
        .expect("a small trial has its clocks")
        .hlc
}

#[test]
fn a_fault_plan_that_does_not_check_is_refused_before_anything_starts() {
    let tmp = TestDir::new("faults-refused");
    let config = tmp.config(3, "");
    let out = tmp.join("out");
    let plan = write(
        &tmp,
        "plan.yaml",
        "- {kind: pause, machine: 4, from: 1, to: 2}\n",
    );
    let expected = format!(
        "clocklab: {}: faults[0].machine: 4 is not allowed; a machine id from 1 to 3 \
         (machines.count)",
        plan.display()
    );
    let config_flag = ["--config", config.to_str().unwrap()];
    let faults_flag = ["--faults", plan.to_str().unwrap()];
    let out_flag = ["--out", out.to_str().unwrap()];
    for (command, extra) in [
        ("simulate", &out_flag[..]),
        ("run", &out_flag[..]),
        ("server", &["--port", "0"][..]),
    ] {
        let args = [&[command][..], &config_flag, &faults_flag, extra].concat();
        let (code, printed) = run_to_end(command, args, SOON);
        assert_eq!(code, 1, "{command}: {printed}");
        assert!(printed.contains(&expected), "{command}: {printed}");
        assert!(!out.exists(), "{command} made {}", out.display());
    }
    // A hand-started machine's bad clock is checked as the plan's is.
    let (code, printed) = run_to_end(
        "client",
        ["client", "127.0.0.1", "8001", "--clock-drift-ppm", "200000"],
        SOON,
    );
    assert_eq!(code, 1, "{printed}");
    assert!(
        printed.contains(
            "clocklab: --clock-drift-ppm 200000 is not allowed; parts per million from -100000 \
             to 100000"
        ),
        "{printed}"
    );
    // A window past a trial shortened on the command line: the configuration file that holds
    // the fault is named.
    let config = write(
        &tmp,
        "windy.yaml",
        "run: {duration: 10}\nfaults:\n- {kind: pause, machine: 1, from: 4, to: 6}\n",
    );
    let config_flag = ["--config", config.to_str().unwrap()];
    let (code, printed) = run_to_end(
        "simulate",
        [&["simulate"][..], &config_flag, &["--duration", "5"]].concat(),
        SOON,
    );
    assert_eq!(code, 1, "{printed}");
    assert!(
        printed.contains(&format!(
            "clocklab: {}: faults[0].to: 6 is not allowed; a window ends after its start (4) and \
             at most at run.duration (5)",
            config.display()
        )),
        "{printed}"
    );
    // As written, it runs, and applies the pause (tests/pause.rs says how).
    let no_logs = ["--out", out.to_str().unwrap(), "--no-logs"];
    let (code, printed) = run_to_end(
        "simulate",
        [&["simulate"][..], &config_flag, &no_logs].concat(),
        SOON,
    );
    assert_eq!(code, 0, "{printed}");
    assert!(!printed.contains("not applied"), "{printed}");
}

#[test]
fn a_simulated_clock_250_ms_ahead_gives_exact_hlc_drift_and_recoverable_real_times() {
    let tmp = TestDir::new("faults-sim-clock");
    let config = tmp.config(3, "");
    let plan = write(&tmp, "plan.yaml", CLOCK_PLAN);
    let fair = simulate(&config, &tmp.join("fair"), None);
    let skewed = simulate(&config, &tmp.join("skewed"), Some(&plan));

    // run.yaml records the plan as given, and the clocks it gives.
    let record: RunRecord = read_yaml(&skewed.join("run.yaml"));
    assert_eq!(record.config.faults.len(), 1);
    assert_eq!(record.config.faults[0].offset_ms, Some(250.0));
    let clocks = record.clock_skews().expect("the recorded plan checks");
    assert_eq!(clocks[1].offset_us, 250_000);
    assert!(clocks[0].is_perfect() && clocks[2].is_perfect());

    // The hybrid clocks: all at their wall clocks in fair weather; machine 2's exactly 250 ms
    // ahead of real time under the fault, the others pulled ahead by less.
    for h in hlc(&fair) {
        assert_eq!((h.drift_max_us, h.counter_max), (0, 0), "{h:?}");
    }
    let drifts: Vec<u64> = hlc(&skewed).iter().map(|h| h.drift_max_us).collect();
    assert_eq!(drifts[1], 250_000, "{drifts:?}");
    assert!(drifts[0] < 250_000 && drifts[2] < 250_000, "{drifts:?}");

    // Machine 2's rows are stamped 250 ms ahead; the real time recovered from them and run.yaml
    // is the fair-weather trial's, row for row; the other logs are the same bytes.
    let start_us = record.start_time_ns.expect("a start") / 1_000;
    for id in 1..=3u16 {
        let fair_rows = read_log(&log_path(&fair, id)).unwrap();
        let rows = read_log(&log_path(&skewed, id)).unwrap();
        assert_eq!(rows.len(), fair_rows.len());
        for (row, fair_row) in rows.iter().zip(&fair_rows) {
            let clock = clocks[usize::from(id) - 1];
            if id == 2 {
                assert_eq!(row.system_time_us, fair_row.system_time_us + 250_000);
            }
            let real = clock.real_us(start_us, row.system_time_us);
            assert_eq!(real, fair_row.system_time_us, "machine {id}: {row:?}");
        }
        if id != 2 {
            assert_eq!(
                std::fs::read(log_path(&skewed, id)).unwrap(),
                std::fs::read(log_path(&fair, id)).unwrap()
            );
        }
    }

    // `analyze` reports it: the trial's HLC drift is machine 2's 250 ms.
    let analysis = tmp.join("analysis");
    let (code, printed) = run_to_end(
        "analyze",
        [
            OsStr::new("analyze"),
            skewed.as_os_str(),
            OsStr::new("--out"),
            analysis.as_os_str(),
        ],
        SOON,
    );
    assert_eq!(code, 0, "{printed}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(analysis.join("summary.json")).unwrap())
            .unwrap();
    let trial = &json["runs"][0]["trials"][0]["figures"];
    assert_eq!(trial["hlc_drift_max_ms"], 250.0, "{trial}");
    assert!(trial["hlc_counter_max"].as_f64().unwrap() > 0.0, "{trial}");
}

#[test]
fn a_real_run_with_a_clock_fault_stamps_machine_2s_rows_ahead() {
    const RATE: f64 = 20.0;
    let tmp = TestDir::new("faults-run-clock");
    let config = tmp.config(3, "");
    let plan = write(&tmp, "plan.yaml", CLOCK_PLAN);
    let out = tmp.join("out");
    let (code, printed) = Cmd::new("run")
        .config(&config)
        .out(&out)
        .port(0)
        .seed(3)
        .rates("20,20,20")
        .duration("2")
        .opt("--faults", &plan)
        .run_to_end("run", SOON + SOON);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("passed: every rule held"), "{printed}");
    let dir = run_dir_under(&out);
    let record: RunRecord = read_yaml(&dir.join("run.yaml"));
    let clocks = record.clock_skews().expect("the recorded plan checks");
    let start_ns = record.start_time_ns.expect("a start");
    for id in 1..=3u16 {
        let clock = clocks[usize::from(id) - 1];
        let rows = read_log(&log_path(&dir, id)).unwrap();
        let summary = record.machines[usize::from(id) - 1]
            .summary
            .as_ref()
            .expect("a summary");
        assert_eq!(rows.len() as u64, summary.ticks);
        for (k, row) in (1..).zip(&rows) {
            // Tick k never runs before its deadline on the host's real clock, which the stamp
            // gives back through run.yaml. Machine 2's stamp is 250 ms ahead of it.
            let deadline_us = (start_ns + tick_offset_ns(RATE, k)) / 1_000;
            let real = clock.real_us(start_ns / 1_000, row.system_time_us);
            assert!(real >= deadline_us, "machine {id} row {k}: {row:?}");
            if id == 2 {
                assert_eq!(row.system_time_us - real, 250_000, "row {k}: {row:?}");
            }
        }
    }
    // Machine 2's messages arrive "before" they were sent by its stamps, never by the real
    // times recovered: every receive runs after its send.
    let real_of =
        |id: u16, stamp: u64| clocks[usize::from(id) - 1].real_us(start_ns / 1_000, stamp);
    let sent: std::collections::BTreeMap<u32, u64> = read_log(&log_path(&dir, 2))
        .unwrap()
        .iter()
        .filter_map(|r| {
            r.seq
                .filter(|_| r.event != EventKind::Receive)
                .map(|s| (s, r.system_time_us))
        })
        .collect();
    let mut from_the_future = 0;
    for id in [1u16, 3] {
        for r in read_log(&log_path(&dir, id)).unwrap() {
            if r.event != EventKind::Receive || r.peer != Some(2) {
                continue;
            }
            let send = sent[&r.seq.expect("a receive's seq")];
            from_the_future += u32::from(r.system_time_us < send);
            assert!(real_of(2, send) <= real_of(id, r.system_time_us), "{r:?}");
        }
    }
    assert!(from_the_future > 0, "no receive stamped before its send");
    // Machine 2's hybrid clock is its own stamp, 250 ms ahead of real time at each event; no
    // hybrid clock is further ahead than the clock that is.
    let drifts: Vec<u64> = hlc(&dir).iter().map(|h| h.drift_max_us).collect();
    assert_eq!(drifts[1], 250_000, "{drifts:?}");
    assert!(drifts[0] < 250_000 && drifts[2] < 250_000, "{drifts:?}");
}
