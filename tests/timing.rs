//! The tick schedule of real machines (issue 11): the k-th tick at start + k/r, k = 1, 2, ..., so
//! a trial of T seconds has exactly ⌊r·T⌋ ticks; and what a stalled machine (SIGSTOP, SIGCONT)
//! does with the deadlines it missed, by its `machines.missed_ticks` policy.
//!
//! Nothing here asserts how long anything took: counts, and the order of times.

mod support;

use std::path::{Path, PathBuf};

use clocklab::check::check_trial;
use clocklab::core::event::EventKind;
use clocklab::core::histogram::Histogram;
use clocklab::core::machine::{MissedTicks, ReceiveRule, tick_offset_ns, ticks_due};
use clocklab::rundir::log::{log_path, read_log};
use clocklab::rundir::records::{ClientSummary, RunRecord};
use nix::sys::signal::Signal;
use support::{
    Cmd, SOON, TestDir, read_yaml, run_dir_under, start_client, start_server, wait_for_rows,
};

/// Checks that machine `id`'s rows are the ticks of its schedule: as many as the summary says,
/// none before its deadline, in time order.
fn assert_rows_follow_the_schedule(dir: &Path, s: &ClientSummary) {
    let rows = read_log(&log_path(dir, s.id)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len() as u64, s.ticks, "machine {}", s.id);
    let mut previous = 0;
    for (i, row) in rows.iter().enumerate() {
        assert!(row.system_time_us >= previous, "machine {}: row {i}", s.id);
        previous = row.system_time_us;
    }
    if s.ticks_skipped == 0 {
        // Without skips the i-th row is the i-th deadline, and it ran at or after it.
        for (i, row) in rows.iter().enumerate() {
            let due_us = (s.start_time_ns + tick_offset_ns(s.rate, i as u64 + 1)) / 1_000;
            assert!(row.system_time_us >= due_us, "machine {}: row {i}", s.id);
        }
    }
}

#[test]
fn a_real_run_takes_exactly_floor_r_t_ticks() {
    let test = TestDir::new("timing-run");
    let config = test.config(4, "");
    let out = test.join("out");
    // 3 s at 1, 3, 0.5 and 1,000 ticks/s: 3, 9, 1 and 3,000 ticks.
    let mut run = Cmd::new("run")
        .config(&config)
        .out(&out)
        .seed(7)
        .opt("--machines", "4")
        .rates("1,3,0.5,1000")
        .duration("3")
        .start("run");
    let code = run.wait_code(SOON * 2);
    let printed = run.output();
    assert_eq!(code, 0, "{printed}");
    let dir = run_dir_under(&out);
    for (id, expected) in [(1u16, 3u64), (2, 9), (3, 1), (4, 3_000)] {
        let s: ClientSummary = read_yaml(&dir.join(format!("summary-{id}.yaml")));
        assert_eq!(s.ticks_skipped, 0);
        assert_eq!(s.missed_ticks, MissedTicks::CatchUp);
        // `run` tells each machine the trial's end: it stops there, whenever the router's BYE
        // comes after it, and its ticks are exactly the deadlines up to it, none at the start.
        assert_eq!(
            s.stop_time_ns,
            s.start_time_ns + 3_000_000_000,
            "machine {id}"
        );
        assert_eq!(s.ticks, expected, "machine {id} at {} ticks/s", s.rate);
        assert_rows_follow_the_schedule(&dir, &s);
    }
    let report = check_trial(&dir);
    assert!(report.passed(), "{report}");
}

/// A configuration whose machines do `policy` with missed ticks.
fn config_with_policy(test: &TestDir, policy: MissedTicks) -> PathBuf {
    let path = test.join(format!("config-{}.yaml", policy.as_str()));
    let text = format!(
        "router:\n  host: 127.0.0.1\n  port: 0\n  stall_timeout: 0.5\n  start_delay: 0.2\n\
         machines:\n  count: 3\n  action_range: 10\n  missed_ticks: {}\n\
         run:\n  stop_grace: 3\n  log_dir: {}\n",
        policy.as_str(),
        test.join("logs").display()
    );
    std::fs::write(&path, text).expect("write the configuration");
    path
}

#[test]
fn a_stalled_client_catches_up_or_skips_as_its_policy_says_and_counts_it() {
    const RATE: f64 = 50.0;
    let test = TestDir::new("timing-stall");
    let catch_up = config_with_policy(&test, MissedTicks::CatchUp);
    let skip = config_with_policy(&test, MissedTicks::Skip);
    let dir = test.join("run");
    let (mut server, addr) = start_server(&catch_up, 3, &dir);
    // Machine 1 catches up, machine 2 skips; machine 3 keeps ticking and is the stall's clock.
    let mut clients = [
        start_client(&catch_up, 8001, addr, RATE, 3, &dir),
        start_client(&skip, 8002, addr, RATE, 3, &dir),
        start_client(&catch_up, 8003, addr, RATE, 3, &dir),
    ];
    server.wait_for_line(clocklab::cli::common::STARTED, SOON);
    for id in 1..=3 {
        wait_for_rows(&log_path(&dir, id), 5, SOON);
    }

    clients[0].signal(Signal::SIGSTOP);
    clients[1].signal(Signal::SIGSTOP);
    // While they are stopped, machine 3 takes 100 ticks: at least 99 periods pass, so at least
    // 98 deadlines of the stopped machines go by untaken.
    let witness = log_path(&dir, 3);
    let before = wait_for_rows(&witness, 1, SOON);
    wait_for_rows(&witness, before + 100, SOON);
    clients[0].signal(Signal::SIGCONT);
    clients[1].signal(Signal::SIGCONT);
    // Both are awake again once each has logged two more ticks.
    let resumed = |id: u16| {
        let rows = support::peek_rows(&log_path(&dir, id)).len();
        wait_for_rows(&log_path(&dir, id), rows + 2, SOON);
    };
    resumed(1);
    resumed(2);
    server.signal(Signal::SIGTERM);
    assert_eq!(server.wait_code(SOON), 0);
    for client in &mut clients {
        assert_eq!(client.wait_code(SOON), 0, "{} stops in order", client.role);
    }

    let s1: ClientSummary = read_yaml(&dir.join("summary-1.yaml"));
    let s2: ClientSummary = read_yaml(&dir.join("summary-2.yaml"));
    let s3: ClientSummary = read_yaml(&dir.join("summary-3.yaml"));
    // Catch-up: every deadline taken, the missed ones late by more than a period.
    assert_eq!(s1.missed_ticks, MissedTicks::CatchUp);
    assert_eq!(s1.ticks_skipped, 0);
    assert!(
        s1.ticks_late_over_one_period >= 97,
        "{}",
        s1.ticks_late_over_one_period
    );
    assert_eq!(
        ticks_due(RATE, s1.stop_time_ns - s1.start_time_ns),
        s1.ticks
    );
    assert_rows_follow_the_schedule(&dir, &s1);
    // The catch-up rows were taken one by one, each stamped when it ran, not with one shared
    // time: a hundred rows, each written with its own system call, span many microseconds.
    let rows = read_log(&log_path(&dir, 1)).unwrap_or_else(|e| panic!("{e}"));
    let period_us = (1e6 / RATE) as u64;
    let late: std::collections::BTreeSet<u64> = rows
        .iter()
        .enumerate()
        .filter(|(i, row)| {
            let due_us = (s1.start_time_ns + tick_offset_ns(RATE, *i as u64 + 1)) / 1_000;
            row.system_time_us > due_us + period_us
        })
        .map(|(_, row)| row.system_time_us)
        .collect();
    assert!(late.len() > 1, "the late rows share their times: {late:?}");
    // By deadline (the default), no caught-up tick took a message that reached the machine
    // while it was stopped: those were read, and stamped, when it woke, after every missed
    // deadline. So no receive took a message sent well after the deadline of its tick (50 ms
    // covers any offset between two processes' clocks; as run, the caught-up ticks take
    // messages sent up to the whole stall after their deadlines).
    assert_eq!(s1.receive_rule, ReceiveRule::ByDeadline);
    let receives = receives_sent_after_their_deadline(&dir, &s1, 50_000);
    assert_eq!(receives, Vec::<(usize, u64)>::new());
    // Skip: the missed deadlines dropped and counted, no tick ever a period late.
    assert_eq!(s2.missed_ticks, MissedTicks::Skip);
    assert!(s2.ticks_skipped >= 97, "{}", s2.ticks_skipped);
    assert_eq!(s2.ticks_late_over_one_period, 0);
    assert_eq!(
        ticks_due(RATE, s2.stop_time_ns - s2.start_time_ns),
        s2.ticks + s2.ticks_skipped
    );
    assert_rows_follow_the_schedule(&dir, &s2);
    // The witness was never stopped.
    assert_eq!(s3.ticks_skipped, 0);
    let report = check_trial(&dir);
    assert!(report.passed(), "{report}");
}

/// The receives of machine `s.id` (no deadline skipped) whose message was sent more than
/// `margin_us` after the deadline of the receiving tick: (row from 1, how long after).
fn receives_sent_after_their_deadline(
    dir: &Path,
    s: &ClientSummary,
    margin_us: u64,
) -> Vec<(usize, u64)> {
    let mut sent = std::collections::BTreeMap::new();
    for id in (1..=s.machines).filter(|&id| id != s.id) {
        for row in read_log(&log_path(dir, id)).unwrap_or_else(|e| panic!("{e}")) {
            if let (Some(seq), EventKind::Send | EventKind::Broadcast) = (row.seq, row.event) {
                sent.insert((id, seq), row.system_time_us);
            }
        }
    }
    let rows = read_log(&log_path(dir, s.id)).unwrap_or_else(|e| panic!("{e}"));
    let mut late = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let (Some(peer), Some(seq), EventKind::Receive) = (row.peer, row.seq, row.event) else {
            continue;
        };
        let due_us = (s.start_time_ns + tick_offset_ns(s.rate, i as u64 + 1)) / 1_000;
        let sent_us = sent[&(peer, seq)];
        if sent_us > due_us + margin_us {
            late.push((i + 1, sent_us - due_us));
        }
    }
    late
}

/// Every machine's hop latencies in the trial directory `dir`, merged.
fn merged_hops(dir: &Path, machines: u16) -> Histogram {
    let mut all = Histogram::default();
    for id in 1..=machines {
        let s: ClientSummary = read_yaml(&dir.join(format!("summary-{id}.yaml")));
        let hops = s
            .hop_latency_ns
            .expect("the summary records its hop latencies");
        assert_eq!(hops.count(), s.hop_latency_us.count, "machine {id}");
        all.merge(&hops);
    }
    all
}

/// `clocklab ARGS...` to its end: its exit code and output.
fn clocklab(role: &str, cmd: &Cmd) -> (i32, String) {
    cmd.run_to_end(role, SOON * 2)
}

#[test]
fn simulate_timing_from_a_real_run_reproduces_its_median_hop_latency() {
    let test = TestDir::new("timing-from");
    let config = test.config(3, "");
    let (real_out, sim_out) = (test.join("real"), test.join("sim"));
    // Every idle tick sends (R = N = 3), so a short run has many hops to measure.
    let model = |command: &str| {
        Cmd::new(command)
            .config(&config)
            .opt("--action-range", "3")
            .seed(21)
            .opt("--machines", "3")
            .rates("100,200,300")
            .duration("2")
    };
    let (code, printed) = clocklab("run", &model("run").out(&real_out));
    assert_eq!(code, 0, "{printed}");
    let real = run_dir_under(&real_out);
    let real_report = check_trial(&real);
    assert!(real_report.passed(), "{real_report}");
    let real_hops = merged_hops(&real, 3);
    assert!(real_hops.count() >= 200, "{} hops", real_hops.count());

    let simulate = model("simulate").out(&sim_out).opt("--timing-from", &real);
    let (code, printed) = clocklab("simulate", &simulate);
    assert_eq!(code, 0, "{printed}");
    let sim = run_dir_under(&sim_out);
    let sim_report = check_trial(&sim);
    assert!(sim_report.passed(), "{sim_report}");
    let sim_hops = merged_hops(&sim, 3);
    let (want, got) = (real_hops.percentile(50.0), sim_hops.percentile(50.0));
    println!(
        "hop latency: real p50 {want} ns p99 {} ns ({} hops), simulated p50 {got} ns p99 {} ns \
         ({} hops)",
        real_hops.percentile(99.0),
        real_hops.count(),
        sim_hops.percentile(99.0),
        sim_hops.count()
    );
    assert!(
        got.abs_diff(want) * 10 <= want,
        "simulated median {got} ns, real {want} ns"
    );
    // run.yaml says where the timing came from, in place of the models.
    let record: RunRecord = read_yaml(&sim.join("run.yaml"));
    let source = record
        .timing_from
        .expect("run.yaml records the timing's source");
    assert_eq!(source.dir, real.display().to_string());
    assert_eq!(source.machines, [1, 2, 3]);
    assert_eq!(source.hop_latency_us.count, real_hops.count());
    assert_eq!((record.latency, record.tick_lateness), (None, None));

    // A run written before the distributions were recorded cannot serve, and says why.
    let old = test.join("old");
    std::fs::create_dir(&old).unwrap();
    for entry in std::fs::read_dir(&real).unwrap() {
        let path = entry.unwrap().path();
        let to = old.join(path.file_name().unwrap());
        if path.to_string_lossy().contains("summary-") {
            let mut s: ClientSummary = read_yaml(&path);
            (s.hop_latency_ns, s.tick_lateness_ns) = (None, None);
            std::fs::write(&to, serde_yaml::to_string(&s).unwrap()).unwrap();
        } else {
            std::fs::copy(&path, &to).unwrap();
        }
    }
    let old_args = Cmd::new("simulate")
        .config(&config)
        .out(&sim_out)
        .opt("--timing-from", &old);
    let (code, printed) = clocklab("old", &old_args);
    assert_ne!(code, 0, "{printed}");
    assert!(printed.contains(&old.display().to_string()), "{printed}");
    assert!(
        printed.contains("made before clocklab recorded them"),
        "{printed}"
    );
    // And the measured timing takes the place of the models: not both.
    let both = old_args.opt("--latency", "fixed:0");
    let (code, printed) = clocklab("both", &both);
    assert_eq!(code, 2, "{printed}");
    assert!(printed.contains("--latency"), "{printed}");
}
