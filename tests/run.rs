//! `clocklab run`: the whole model as processes, checked from its real logs; and a run cut short
//! by SIGTERM.

mod support;

use std::ffi::OsStr;
use std::path::Path;

use clocklab::check::{TICK_TOLERANCE, check_trial};
use clocklab::config::Rates;
use clocklab::core::event::EventKind;
use clocklab::rundir::log::{log_path, read_log};
use clocklab::rundir::records::ClientSummary;
use clocklab::rundir::records::RunRecord;
use nix::sys::signal::Signal;
use support::{Proc, SOON, TestDir, read_yaml, run_dir_under, wait_for_rows};

/// `clocklab run --config C --out OUT --port 0 --seed S --rates R --duration D`.
fn start_run(config: &Path, out: &Path, seed: u64, rates: &str, duration: &str) -> Proc {
    Proc::start(
        "run",
        [
            OsStr::new("run"),
            OsStr::new("--config"),
            config.as_os_str(),
            OsStr::new("--out"),
            out.as_os_str(),
            OsStr::new("--port"),
            OsStr::new("0"),
            OsStr::new("--seed"),
            OsStr::new(&seed.to_string()),
            OsStr::new("--rates"),
            OsStr::new(rates),
            OsStr::new("--duration"),
            OsStr::new(duration),
        ],
    )
}

/// Checks every row of machine `id`'s log against the clock rules, independently of `check`.
fn assert_clock_rules(dir: &Path, id: u16) -> usize {
    let path = log_path(dir, id);
    let rows = read_log(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut previous = 0u64;
    for (i, row) in rows.iter().enumerate() {
        let at = format!("{}:{}", path.display(), i + 2);
        assert_eq!(row.machine, id, "{at}");
        let expected = match row.event {
            EventKind::Receive => previous.max(row.msg_clock.expect("a receive's msg_clock")) + 1,
            _ => previous + 1,
        };
        assert_eq!(row.logical_clock, expected, "{at}: {row:?}");
        if matches!(row.event, EventKind::Send | EventKind::Broadcast) {
            assert_eq!(row.msg_clock, Some(row.logical_clock), "{at}");
        }
        previous = row.logical_clock;
    }
    rows.len()
}

#[test]
fn run_three_fast_machines_passes_its_own_and_a_separate_check() {
    const SEED: u64 = 7;
    const RATES: [f64; 3] = [50.0, 80.0, 120.0];
    let tmp = TestDir::new("run-pass");
    let config = tmp.config(3, "");
    let out = tmp.join("out");
    let mut run = start_run(&config, &out, SEED, "50,80,120", "2");
    let code = run.wait_code(SOON + SOON);
    let printed = run.output();
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("passed: every rule held"), "{printed}");
    let dir = run_dir_under(&out);

    let (code, checked) =
        support::run_to_end("check", [OsStr::new("check"), dir.as_os_str()], SOON);
    assert_eq!(code, 0, "{checked}");
    let report = check_trial(&dir);
    assert!(report.passed(), "{report}");
    assert!(report.notes.is_empty(), "{report}");

    for id in 1..=3u16 {
        let rows = assert_clock_rules(&dir, id);
        let s: ClientSummary = read_yaml(&dir.join(format!("summary-{id}.yaml")));
        assert_eq!(s.rate, RATES[usize::from(id) - 1]);
        assert_eq!(s.ticks, rows as u64, "machine {id}: summary and log agree");
        let ran_ns = s.stop_time_ns - s.start_time_ns;
        assert!(
            ran_ns >= 2_000_000_000,
            "machine {id} ran the whole duration: {ran_ns} ns"
        );
        let due = (ran_ns as f64 * s.rate / 1e9).floor() as u64 + 1;
        assert!(
            s.ticks <= due && s.ticks + TICK_TOLERANCE >= due,
            "machine {id}: {} ticks in {ran_ns} ns at {} ticks/s (due {due})",
            s.ticks,
            s.rate
        );
    }

    let record: RunRecord = read_yaml(&dir.join("run.yaml"));
    assert_eq!((record.master_seed, record.seed), (SEED, SEED));
    assert_eq!((record.trial, record.trials), (1, 1));
    assert!(!record.interrupted);
    assert!(!record.simulated);
    assert_eq!(record.duration, 2.0);
    assert!(matches!(&record.config.machines.rates, Rates::List(r) if r[..] == RATES));
    let rates: Vec<f64> = record.machines.iter().map(|m| m.rate).collect();
    assert_eq!(rates, RATES);
    assert!(record.machines.iter().all(|m| m.summary.is_some()));
    assert_eq!(record.processes.len(), 4, "{:?}", record.processes);
    assert_eq!(record.processes[0].role, "router");
    for p in &record.processes {
        assert_eq!(p.code, Some(0), "{p:?}");
    }
    let router = record.router.expect("router statistics in run.yaml");
    assert_eq!(router.stopped_by, "SIGTERM");
}

#[test]
fn sigterm_to_run_stops_everything_in_order_with_code_130() {
    let tmp = TestDir::new("run-sigterm");
    let config = tmp.config(3, "");
    let out = tmp.join("out");
    let mut run = start_run(&config, &out, 11, "40,60,80", "30");
    let dir = run_dir_under(&out);
    for id in 1..=3 {
        wait_for_rows(&log_path(&dir, id), 3, SOON);
    }
    run.signal(Signal::SIGTERM);
    let code = run.wait_code(std::time::Duration::from_secs(8));
    let printed = run.output();
    assert_eq!(code, 130, "{printed}");
    assert!(
        printed.contains("interrupted: stopped after trial 1"),
        "{printed}"
    );

    for id in 1..=3 {
        assert_clock_rules(&dir, id);
    }
    let report = check_trial(&dir);
    assert!(report.passed(), "{report}");
    let record: RunRecord = read_yaml(&dir.join("run.yaml"));
    assert!(record.interrupted);
    assert_eq!(record.processes.len(), 4);
    for p in &record.processes {
        assert_eq!(p.code, Some(0), "{p:?}");
    }
}
