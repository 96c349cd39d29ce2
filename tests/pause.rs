//! The `pause` fault in a real run: `run` stops a machine's process for 3 s (SIGSTOP, SIGCONT),
//! the machine catches up or skips as `machines.missed_ticks` says, and the simulation of the same
//! seed and plan takes exactly the same ticks and the same events; a run stopped with Ctrl-C while
//! a machine is paused still ends in order.

mod support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use clocklab::check::check_trial;
use clocklab::core::event::EventKind;
use clocklab::core::machine::MissedTicks;
use clocklab::rundir::log::{log_path, read_log};
use clocklab::rundir::records::{ClientSummary, RunRecord};
use nix::sys::signal::Signal;
use support::{Proc, SOON, TestDir, read_yaml, run_dir_under, run_to_end};

/// Machine 2 stopped from 1.5 s to 4.5 s of the trial.
const PLAN: &str = "- {kind: pause, machine: 2, from: 1.5, to: 4.5}\n";

/// A configuration for 3 machines whose idle ticks always send (action range 3), doing `policy`
/// with missed ticks, and the pause plan; returns both paths.
fn setup(tmp: &TestDir, policy: MissedTicks) -> (PathBuf, PathBuf) {
    let config = tmp.join("config.yaml");
    let text = format!(
        "router:\n  host: 127.0.0.1\n  port: 0\n  stall_timeout: 0.5\n  start_delay: 0.2\n\
         machines:\n  count: 3\n  action_range: 3\n  missed_ticks: {}\n\
         run:\n  stop_grace: 3\n  log_dir: {}\n",
        policy.as_str(),
        tmp.join("logs").display()
    );
    std::fs::write(&config, text).expect("write the configuration");
    let plan = tmp.join("plan.yaml");
    std::fs::write(&plan, PLAN).expect("write the plan");
    (config, plan)
}

/// `clocklab COMMAND` of the paused trial: seed 5, rates 1.5, 2.5 and 1.6 for `secs`, into
/// `out`.
fn args<'a>(
    command: &'a str,
    secs: &'a str,
    config: &'a Path,
    plan: &'a Path,
    out: &'a Path,
) -> Vec<&'a OsStr> {
    let mut args: Vec<&OsStr> = [command, "--seed", "5", "--rates", "1.5,2.5,1.6"]
        .map(OsStr::new)
        .to_vec();
    args.extend(["--duration", secs, "--config"].map(OsStr::new));
    args.extend([config.as_os_str(), OsStr::new("--faults"), plan.as_os_str()]);
    args.extend([OsStr::new("--out"), out.as_os_str()]);
    args
}

fn summaries(dir: &Path) -> Vec<ClientSummary> {
    let record: RunRecord = read_yaml(&dir.join("run.yaml"));
    record
        .machines
        .into_iter()
        .map(|m| m.summary.expect("every machine stopped in order"))
        .collect()
}

/// Runs the paused trial for real and simulated under `policy`, and checks that both take the
/// ticks `expected` says for machine 2 (ticks, skipped, more than a period late), that the other
/// machines take all theirs on time, and that the two trials are the same event for event.
///
/// Why they must be identical, not merely close: no two machines share a deadline within the
/// trial at these rates (the closest are 42 ms apart), the pause's edges are at least 100 ms from
/// every deadline, and the machines wake before anything is due, so the network's timing (and
/// `run`'s signals, a few milliseconds late at worst) cannot move a message across a deadline.
fn twins(policy: MissedTicks, expected: (u64, u64, u64)) {
    let tmp = TestDir::new(&format!("pause-twins-{}", policy.as_str()));
    let (config, plan) = setup(&tmp, policy);
    let (real_out, sim_out) = (tmp.join("real"), tmp.join("sim"));
    let (code, printed) = run_to_end(
        "run",
        args("run", "5", &config, &plan, &real_out),
        SOON + SOON,
    );
    assert_eq!(code, 0, "{printed}");
    assert!(
        printed.contains("fault plan: machine 2 paused at 1.5 s (SIGSTOP sent at ")
            && printed.contains("fault plan: machine 2 continued at 4.5 s (SIGCONT sent at "),
        "{printed}"
    );
    assert!(!printed.contains("not applied"), "{printed}");
    let (code, printed) = run_to_end(
        "simulate",
        args("simulate", "5", &config, &plan, &sim_out),
        SOON,
    );
    assert_eq!(code, 0, "{printed}");
    assert!(!printed.contains("not applied"), "{printed}");
    let (real, sim) = (run_dir_under(&real_out), run_dir_under(&sim_out));
    for dir in [&real, &sim] {
        let report = check_trial(dir);
        assert!(report.passed(), "{}: {report}", dir.display());
    }

    let (r, s) = (summaries(&real), summaries(&sim));
    let ticks = |s: &ClientSummary| (s.ticks, s.ticks_skipped, s.ticks_late_over_one_period);
    for (a, b) in r.iter().zip(&s) {
        assert_eq!(ticks(a), ticks(b), "machine {}: real vs simulated", a.id);
        assert_eq!(a.missed_ticks, policy);
    }
    assert_eq!(ticks(&r[1]), expected, "machine 2");
    // ⌊1.5 × 5⌋ and ⌊1.6 × 5⌋, all on time.
    assert_eq!((ticks(&r[0]), ticks(&r[2])), ((7, 0, 0), (8, 0, 0)));

    // In the real run, machine 2 logged nothing while it was stopped; its ticks after the wake
    // took only messages sent before the pause (those that came during it arrived at the wake,
    // after every missed deadline), or after the wake.
    let record: RunRecord = read_yaml(&real.join("run.yaml"));
    let start_us = record.start_time_ns.expect("a start") / 1_000;
    let (from_us, to_us) = (start_us + 1_500_000, start_us + 4_500_000);
    let mut sent = std::collections::BTreeMap::new();
    for id in [1, 3] {
        for row in read_log(&log_path(&real, id)).unwrap() {
            if let (Some(seq), EventKind::Send | EventKind::Broadcast) = (row.seq, row.event) {
                sent.insert((id, seq), row.system_time_us);
            }
        }
    }
    let rows = read_log(&log_path(&real, 2)).unwrap();
    // Ticks 1 to 3 (0.4 to 1.2 s) ran before the pause, the last (4.8 s) after the wake; the
    // rest ran at the wake.
    let caught_up = (expected.0 - 4) as usize;
    for (i, row) in rows.iter().enumerate() {
        assert!(
            !(from_us..to_us).contains(&row.system_time_us),
            "row {}: {row:?}",
            i + 1
        );
        if let (EventKind::Receive, Some(peer), Some(seq)) = (row.event, row.peer, row.seq)
            && (3..3 + caught_up).contains(&i)
        {
            assert!(sent[&(peer, seq)] < from_us, "row {}: {row:?}", i + 1);
        }
    }
    let after = rows.iter().filter(|r| r.system_time_us >= to_us).count();
    assert_eq!(after, caught_up + 1);

    // Event for event, the same trial, with the same ticks and books. The hop latency p50s are
    // not asserted: a real hop is the host's scheduling (0.1 ms quiet, several ms under a loaded
    // `cargo test`), so diff may mark them, and its exit status with them; nothing else may differ.
    let (code, printed) = run_to_end(
        "diff",
        [OsStr::new("diff"), real.as_os_str(), sim.as_os_str()],
        SOON,
    );
    assert!(
        printed.contains("identical: every machine's events"),
        "{printed}"
    );
    let marked: Vec<&str> = printed.lines().filter(|l| l.contains("<-")).collect();
    assert!(
        marked
            .iter()
            .all(|l| l.ends_with("<- hop p50s must be within 10% + 1 ms")),
        "{printed}"
    );
    assert_eq!(code, if marked.is_empty() { 0 } else { 1 }, "{printed}");
    if !marked.is_empty() {
        eprintln!("[test] the host's hop latency differed from the simulated 100 µs: {marked:?}");
    }
}

#[test]
fn a_real_3_s_pause_caught_up_and_its_simulation_take_the_same_ticks_and_events() {
    // 12 deadlines every 0.4 s; ticks 4 to 11 (1.6 to 4.4 s) are taken at the wake, the seven
    // due by 4.0 s more than a period late.
    twins(MissedTicks::CatchUp, (12, 0, 7));
}

#[test]
fn a_real_3_s_pause_skipped_and_its_simulation_take_the_same_ticks_and_events() {
    // At the wake only tick 11 (4.4 s) is taken; ticks 4 to 10 are dropped.
    twins(MissedTicks::Skip, (5, 7, 0));
}

#[test]
fn ctrl_c_during_a_pause_continues_the_machine_and_stops_the_run_in_order() {
    let tmp = TestDir::new("pause-ctrl-c");
    let (config, _) = setup(&tmp, MissedTicks::CatchUp);
    let plan = tmp.join("long.yaml");
    std::fs::write(&plan, "- {kind: pause, machine: 2, from: 0.5, to: 9.5}\n").unwrap();
    let out = tmp.join("out");
    let mut run = Proc::start("run", args("run", "10", &config, &plan, &out));
    run.wait_for_line("fault plan: machine 2 paused at 0.5 s", SOON);
    run.signal(Signal::SIGINT);
    let code = run.wait_code(SOON);
    let printed = run.output();
    assert_eq!(code, 130, "{printed}");
    assert!(!printed.contains("continued at 9.5 s"), "{printed}");
    assert!(!printed.contains("killing"), "{printed}");

    let dir = run_dir_under(&out);
    let record: RunRecord = read_yaml(&dir.join("run.yaml"));
    assert!(record.interrupted);
    assert_eq!(record.processes.len(), 4);
    for p in &record.processes {
        assert_eq!(p.code, Some(0), "{p:?}");
    }
    // Every machine wrote its summary, the paused one included: it was continued, took the
    // ticks due by its stop, and answered the BYE.
    let s = summaries(&dir);
    assert!(s.iter().all(|s| s.orderly), "{s:?}");
    assert!(s[1].ticks >= 1, "{:?}", s[1]);
    let report = check_trial(&dir);
    assert!(report.passed(), "{report}");
}

#[test]
fn server_tells_whoever_starts_the_machines_by_hand_when_to_stop_and_continue_one() {
    let tmp = TestDir::new("pause-server");
    let (config, plan) = setup(&tmp, MissedTicks::CatchUp);
    let dir = tmp.join("run");
    let mut server = Proc::start(
        "router",
        [
            OsStr::new("server"),
            OsStr::new("--config"),
            config.as_os_str(),
            OsStr::new("--faults"),
            plan.as_os_str(),
            OsStr::new("--run-dir"),
            dir.as_os_str(),
        ],
    );
    let line = server.wait_for_line("fault plan: machine 2", SOON);
    assert_eq!(
        line,
        "fault plan: machine 2's pause is its process's: stop it (kill -STOP) at 1.5 s of the \
         trial and continue it (kill -CONT) at 4.5 s, as `run` does"
    );
    server.signal(Signal::SIGTERM);
    assert_eq!(server.wait_code(SOON), 0);
}
