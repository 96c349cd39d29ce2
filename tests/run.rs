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
use support::{Cmd, Proc, SOON, TestDir, read_yaml, run_dir_under, wait_for_rows};

/// `clocklab run --config C --out OUT --port 0 --seed S --rates R --duration D`.
fn start_run(config: &Path, out: &Path, seed: u64, rates: &str, duration: &str) -> Proc {
    Cmd::new("run")
        .config(config)
        .out(out)
        .port(0)
        .seed(seed)
        .rates(rates)
        .duration(duration)
        .start("run")
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

/// `clocklab run --config C --out OUT --seed S --rates R --duration D [--port P]`: the router's
/// port is whatever the options and the configuration's `run.port` make it.
fn start_run_on(config: &Path, out: &Path, seed: u64, port: Option<u16>) -> Proc {
    let cmd = Cmd::new("run")
        .config(config)
        .out(out)
        .seed(seed)
        .rates("40,60")
        .duration("1");
    match port {
        Some(port) => cmd.port(port),
        None => cmd,
    }
    .start("run")
}

/// A configuration whose `router.port` (the port of `server`) is one that is already taken: `run`
/// must not use it unless told to.
fn config_with_taken_router_port(tmp: &TestDir, taken: u16) -> std::path::PathBuf {
    let config = tmp.config(2, "");
    let text = std::fs::read_to_string(&config).expect("read the test configuration");
    let text = text.replacen("  port: 0\n", &format!("  port: {taken}\n"), 1);
    std::fs::write(&config, text).expect("write the test configuration");
    config
}

#[test]
fn two_runs_started_at_once_both_pass_on_ports_of_their_own() {
    // The router port of the configuration is taken (by this test, on a port the OS chose): two
    // runs on it would fail, two runs on run.port (0 by default) both pass.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a listener");
    let port = taken.local_addr().expect("its address").port();
    let tmp = TestDir::new("run-no-collision");
    let config = config_with_taken_router_port(&tmp, port);
    let (out_a, out_b) = (tmp.join("a"), tmp.join("b"));
    let mut a = start_run_on(&config, &out_a, 1, None);
    let mut b = start_run_on(&config, &out_b, 2, None);
    for (run, out) in [(&mut a, &out_a), (&mut b, &out_b)] {
        let code = run.wait_code(SOON + SOON);
        let printed = run.output();
        assert_eq!(code, 0, "{printed}");
        assert!(printed.contains("passed: every rule held"), "{printed}");
        let record: RunRecord = read_yaml(&run_dir_under(out).join("run.yaml"));
        assert_eq!(record.config.run.port, 0);
        let router = record.router.expect("router.yaml was recorded");
        assert!(
            !router.listen.ends_with(&format!(":{port}")),
            "{}",
            router.listen
        );
    }
}

#[test]
fn a_run_that_fails_before_it_starts_leaves_no_directory() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a listener");
    let port = taken.local_addr().expect("its address").port();
    let tmp = TestDir::new("run-fails-early");
    let config = tmp.config(2, "");
    let out = tmp.join("out");
    let mut run = start_run_on(&config, &out, 3, Some(port));
    let code = run.wait_code(SOON + SOON);
    let printed = run.output();
    assert_ne!(code, 0, "{printed}");
    assert!(printed.contains(&format!("127.0.0.1:{port}")), "{printed}");
    assert!(
        printed.contains("the run failed before it started"),
        "{printed}"
    );
    let left: Vec<_> = std::fs::read_dir(&out)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left behind: {left:?}\n{printed}");
}

#[test]
fn an_interrupted_trial_is_left_out_of_the_table_across_trials_and_counted() {
    let tmp = TestDir::new("run-across");
    let config = tmp.config(3, "");
    let out = tmp.join("out");
    let mut run = Cmd::new("run")
        .config(&config)
        .out(&out)
        .port(0)
        .seed(5)
        .rates("40,60,80")
        .duration("3")
        .opt("--trials", "2")
        .start("run");
    let dir = run_dir_under(&out);
    // Trial 1 runs to its end; trial 2 is cut short once every machine has logged a few rows.
    for id in 1..=3 {
        wait_for_rows(&log_path(&dir.join("trial-2"), id), 3, SOON + SOON);
    }
    run.signal(Signal::SIGTERM);
    let code = run.wait_code(std::time::Duration::from_secs(8));
    let printed = run.output();
    assert_eq!(code, 130, "{printed}");
    let second: RunRecord = read_yaml(&dir.join("trial-2/run.yaml"));
    assert!(second.interrupted);
    assert!(
        printed.contains(
            "across trials: 1 of 2 trials (1 incomplete, left out; --include-incomplete counts \
             them), per machine and rate mean, std, min and max"
        ),
        "{printed}"
    );
    // The table holds trial 1 alone: each mean is trial 1's figure, and no std.
    let at = printed
        .find("across trials:")
        .expect("the table across trials");
    let rows: Vec<Vec<&str>> = printed[at..]
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    for id in 1..=3u16 {
        let s: ClientSummary = read_yaml(&dir.join(format!("trial-1/summary-{id}.yaml")));
        let mean = rows
            .iter()
            .position(|r| r.first() == Some(&id.to_string().as_str()) && r.get(3) == Some(&"mean"))
            .expect("a mean row per machine");
        // machine, rate, trials, stat, then the figures: the final clock is the fourth.
        assert_eq!(rows[mean][1..3], [s.rate.to_string().as_str(), "1"]);
        assert_eq!(rows[mean].last(), Some(&s.queue_peak.to_string().as_str()));
        // Final clock, max jump and queue peak are the last three columns.
        let final_clock = rows[mean][rows[mean].len() - 3];
        assert_eq!(final_clock, s.final_clock.to_string(), "{:?}", rows[mean]);
        assert!(rows[mean + 1][1..].iter().all(|c| *c == "std" || *c == "-"));
    }
    // (The program as the shell here finds it: tests/hints.rs runs the hint.)
    let next = format!(" analyze {}", dir.display());
    assert!(
        printed
            .lines()
            .any(|l| l.starts_with("next: ") && l.ends_with(&next)),
        "{printed}"
    );
}
