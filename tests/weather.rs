//! The router's weather in real runs and in simulations (the simulator drives the same
//! switchboard): a partition in `hold` mode delivers the frames that cross it after its window, in
//! send order; in `drop` mode `router.yaml` books them and `check` balances; a fixed 50 ms delay on
//! one link shows in its receiver's hop latency.

mod support;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use clocklab::core::event::EventKind;
use clocklab::rundir::log::{log_path, read_log};
use clocklab::rundir::records::{RouterStats, RunRecord};
use support::{SOON, TestDir, read_yaml, run_dir_under, run_to_end};

/// The partition's window, seconds of the trial: the 5 s partition.
const FROM_S: f64 = 1.0;
const TO_S: f64 = 6.0;
/// The trials with a partition: a second after its window.
const PARTITIONED_S: &str = "7";

/// Where a test gives its plan.
#[derive(Clone, Copy, PartialEq)]
enum Given {
    /// In a file given to `--faults`, with a configuration whose `run.duration` (2 s) is
    /// shorter than the trial's.
    File,
    /// Under `faults:` in the configuration.
    Config,
}

/// `clocklab run` of `rates` for `duration` seconds with the plan `plan`; returns the trial's
/// directory once `check` passed it.
fn run(tmp: &TestDir, rates: &str, duration: &str, plan: &str, given: Given) -> PathBuf {
    drive("run", tmp, rates, duration, plan, given)
}

/// `clocklab COMMAND` (`run` or `simulate`) of `rates` for `duration` seconds with the plan
/// `plan`; returns the trial's directory once `check` passed it.
fn drive(
    command: &str,
    tmp: &TestDir,
    rates: &str,
    duration: &str,
    plan: &str,
    given: Given,
) -> PathBuf {
    let machines = rates.split(',').count() as u16;
    let config = tmp.config(machines, "");
    let faults = tmp.join("plan.yaml");
    std::fs::write(&faults, plan).expect("write the plan");
    let text = std::fs::read_to_string(&config).expect("the configuration");
    let text = match given {
        // A shorter trial in the file than on the command line: the windows of a `--faults`
        // plan are checked against the latter, by `run` and its router child alike.
        Given::File => format!("{text}  duration: 2\n"),
        // A configuration's own plan lies within its own trial.
        Given::Config => format!("{text}faults:\n{plan}"),
    };
    std::fs::write(&config, text).expect("write the configuration");
    let out = tmp.join("out");
    let mut args: Vec<&OsStr> = vec![
        OsStr::new(command),
        OsStr::new("--config"),
        config.as_os_str(),
        OsStr::new("--out"),
        out.as_os_str(),
        OsStr::new("--seed"),
        OsStr::new("7"),
        OsStr::new("--rates"),
        OsStr::new(rates),
        OsStr::new("--duration"),
        OsStr::new(duration),
    ];
    if given == Given::File {
        args.extend([OsStr::new("--faults"), faults.as_os_str()]);
    }
    if command == "run" {
        args.extend([OsStr::new("--port"), OsStr::new("0")]);
    }
    let (code, printed) = run_to_end(command, args, SOON + SOON);
    assert_eq!(code, 0, "{printed}");
    let passed = match command {
        "run" => "passed: every rule held",
        _ => "check: every trial passed",
    };
    assert!(printed.contains(passed), "{printed}");
    assert!(!printed.contains("not applied"), "{printed}");
    run_dir_under(&out)
}

/// A message as the logs show it: when it was sent (µs), and when and in what order machine
/// 3 took it.
struct Crossing {
    sent_us: u64,
    received_us: u64,
}

/// The messages from machines 1 and 2 that machine 3 took, by sender, in the order it took
/// them; and the send time of each seq of each sender.
fn crossings(dir: &Path) -> BTreeMap<u16, Vec<(u32, Crossing)>> {
    let mut sent: BTreeMap<(u16, u32), u64> = BTreeMap::new();
    for id in 1..=2u16 {
        for row in read_log(&log_path(dir, id)).expect("a log") {
            if matches!(row.event, EventKind::Send | EventKind::Broadcast) {
                sent.insert((id, row.seq.expect("a seq")), row.system_time_us);
            }
        }
    }
    let mut got: BTreeMap<u16, Vec<(u32, Crossing)>> = BTreeMap::new();
    for row in read_log(&log_path(dir, 3)).expect("a log") {
        if row.event == EventKind::Receive {
            let (peer, seq) = (row.peer.expect("a peer"), row.seq.expect("a seq"));
            let crossing = Crossing {
                sent_us: sent[&(peer, seq)],
                received_us: row.system_time_us,
            };
            got.entry(peer).or_default().push((seq, crossing));
        }
    }
    got
}

/// The trial's start and the router's books.
fn books(dir: &Path) -> (u64, RouterStats) {
    let record: RunRecord = read_yaml(&dir.join("run.yaml"));
    let router: RouterStats = read_yaml(&dir.join("router.yaml"));
    (record.start_time_ns.expect("a start") / 1_000, router)
}

fn partition(mode: &str) -> String {
    format!(
        "- {{kind: partition, groups: [[1, 2], [3]], from: {FROM_S}, to: {TO_S}, mode: {mode}}}\n"
    )
}

#[test]
fn a_held_partition_delivers_what_crosses_it_after_its_window_in_send_order() {
    let tmp = TestDir::new("weather-hold");
    let dir = run(
        &tmp,
        "50,50,50",
        PARTITIONED_S,
        &partition("hold"),
        Given::File,
    );
    held_partition(&dir);
}

#[test]
fn a_simulated_held_partition_delivers_what_crosses_it_after_its_window_in_send_order() {
    let tmp = TestDir::new("weather-sim-hold");
    let dir = drive(
        "simulate",
        &tmp,
        "50,50,50",
        PARTITIONED_S,
        &partition("hold"),
        Given::File,
    );
    held_partition(&dir);
    // On virtual time, exactly: a held frame leaves at the window's end and takes the simulated
    // network's 100 µs, so the longest hop machine 3 measured is from the earliest frame sent
    // to it inside the window (within the histogram's 1.6%).
    let record: RunRecord = read_yaml(&dir.join("run.yaml"));
    let (start_us, _) = books(&dir);
    let to_us = start_us + (TO_S * 1e6) as u64;
    let earliest = crossings(&dir)
        .values()
        .flatten()
        .map(|(_, m)| m.sent_us)
        .filter(|&sent| sent >= start_us + 1_000_000 && sent < to_us)
        .min()
        .expect("a frame sent inside the window");
    let longest = (to_us - earliest + 100) as f64;
    let hop = record.machines[2]
        .summary
        .as_ref()
        .expect("a summary")
        .hop_latency_us;
    assert!(
        (hop.max - longest).abs() <= 0.016 * longest,
        "longest hop {} µs, want {longest} µs",
        hop.max
    );
}

/// A trial with the hold partition of `partition("hold")` kept its rules.
fn held_partition(dir: &Path) {
    let (start_us, router) = books(dir);
    let (from_us, to_us) = (
        start_us + (FROM_S * 1e6) as u64,
        start_us + (TO_S * 1e6) as u64,
    );
    let got = crossings(dir);
    let mut inside = 0;
    for (peer, messages) in &got {
        // Send order: each sender's seqs rise in the order machine 3 took them.
        let seqs: Vec<u32> = messages.iter().map(|(seq, _)| *seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "from {peer}: {seqs:?}"
        );
        // Sent inside the window (10 ms clear of its start, for the way to the router): taken
        // only once it ended.
        for (seq, m) in messages {
            if m.sent_us >= from_us + 10_000 && m.sent_us < to_us {
                inside += 1;
                assert!(m.received_us >= to_us, "from {peer} seq {seq}");
            }
        }
    }
    assert!(inside > 5, "only {inside} messages crossed the window");
    // The books: what crossed was held and all of it released; nothing else was.
    for p in &router.pairs {
        let crosses = (p.source == 3) != (p.dest == 3);
        assert_eq!(p.held > 0, crosses, "{p:?}");
        assert_eq!((p.released, p.dropped), (p.held, 0), "{p:?}");
    }
    let held_for_3: u64 = router
        .pairs
        .iter()
        .filter(|p| p.dest == 3)
        .map(|p| p.held)
        .sum();
    assert!(
        held_for_3 >= inside,
        "{held_for_3} held, {inside} sent inside"
    );
}

/// The plan under `faults:` in the configuration this time: `run`'s router child reads it from
/// there.
#[test]
fn a_dropping_partition_is_booked_and_check_balances() {
    let tmp = TestDir::new("weather-drop");
    let dir = run(
        &tmp,
        "50,50,50",
        PARTITIONED_S,
        &partition("drop"),
        Given::Config,
    );
    dropped_partition(&dir);
}

#[test]
fn a_simulated_dropping_partition_is_booked_and_check_balances() {
    let tmp = TestDir::new("weather-sim-drop");
    let plan = partition("drop");
    let dir = drive(
        "simulate",
        &tmp,
        "50,50,50",
        PARTITIONED_S,
        &plan,
        Given::Config,
    );
    dropped_partition(&dir);
}

/// A trial with the drop partition of `partition("drop")` kept its rules.
fn dropped_partition(dir: &Path) {
    let (start_us, router) = books(dir);
    let (from_us, to_us) = (
        start_us + (FROM_S * 1e6) as u64,
        start_us + (TO_S * 1e6) as u64,
    );
    for (peer, messages) in crossings(dir) {
        for (seq, m) in messages {
            let inside = m.sent_us >= from_us + 10_000 && m.sent_us < to_us;
            assert!(
                !inside,
                "from {peer} seq {seq} crossed a dropping partition"
            );
        }
    }
    for p in &router.pairs {
        let crosses = (p.source == 3) != (p.dest == 3);
        assert_eq!(p.dropped > 0, crosses, "{p:?}");
        assert_eq!(p.held, 0, "{p:?}");
    }
}

#[test]
fn a_fixed_50_ms_delay_on_one_link_shows_in_its_receivers_hop_latency() {
    delayed_link("run");
}

#[test]
fn a_simulated_fixed_50_ms_delay_on_one_link_shows_in_its_receivers_hop_latency() {
    let (base, delayed) = delayed_link("simulate");
    // On virtual time, exactly (to the histogram's bucket): the network's 100 µs, and 50 ms
    // more on the delayed link.
    assert!((base - 100.0).abs() <= 2.0, "{base}");
    assert!((delayed - 50_100.0).abs() <= 0.016 * 50_100.0, "{delayed}");
}

/// A fixed 50 ms delay on the link 1->2 of two machines under `command`: the hop latency p50 of
/// each machine in µs, over the other link and over the delayed one.
fn delayed_link(command: &str) -> (f64, f64) {
    let tmp = TestDir::new(&format!("weather-delay-{command}"));
    let plan = "- {kind: delay, link: \"1->2\", from: 0, to: 3, latency: \"fixed:50ms\"}\n";
    // Two machines: machine 2 receives only over the delayed link, machine 1 only over the other.
    let dir = drive(command, &tmp, "100,100", "3", plan, Given::File);
    let record: RunRecord = read_yaml(&dir.join("run.yaml"));
    let hop = |id: usize| {
        let summary = record.machines[id].summary.as_ref().expect("a summary");
        summary.hop_latency_us
    };
    let (base, delayed) = (hop(0), hop(1));
    assert!(
        base.count > 20 && delayed.count > 20,
        "{base:?} {delayed:?}"
    );
    let want = 50_000.0 + base.p50;
    eprintln!(
        "[test] hop p50: {} µs over the delayed link, {} µs over the other",
        delayed.p50, base.p50
    );
    assert!(
        (delayed.p50 - want).abs() <= 0.1 * want,
        "p50 {} µs, not within 10% of 50 ms + the base hop {} µs",
        delayed.p50,
        base.p50
    );
    let router: RouterStats = read_yaml(&dir.join("router.yaml"));
    let pair = |s, d| router.pairs.iter().find(|p| (p.source, p.dest) == (s, d));
    let delayed_pair = pair(1, 2).expect("1->2 books");
    assert_eq!(
        delayed_pair.held,
        delayed_pair.delivered + delayed_pair.undeliverable
    );
    assert_eq!(pair(2, 1).map(|p| p.held), Some(0));
    (base.p50, delayed.p50)
}
