//! Twins in bad weather: a real run with a fault plan (a held partition of machine 3, a fixed
//! 30 ms delay on the link 1->2, a pause of machine 3) and the simulation of the same seed,
//! rates, duration and plan agree on what docs/SIMULATION.md ("Twins in bad weather") says they
//! must, and `clocklab diff` says so: the same ticks, the same router books per pair, the
//! delayed link's hop latency p50 within 10%.

mod support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use clocklab::check::check_trial;
use clocklab::rundir::records::{RouterStats, RunRecord};
use support::{SOON, TestDir, read_yaml, run_dir_under, run_to_end};

/// The plan. Why the twins must agree exactly at these rates (6.2, 2.2 and 1.4 ticks/s, every
/// idle tick sends: action range 3): no two machines share a deadline (the nearest are 14.6 ms
/// apart), no frame is due to arrive within 13.9 ms before a receiver's deadline (the delayed
/// one included, and those released at 2.05 s), no frame that crosses the partition is sent
/// within 46 ms of its edges, and machine 3's deadlines are at least 193 ms from its pause's
/// edges; so
/// neither the real network's hop (0.1-3 ms here) nor `run`'s signals can move a frame across a
/// deadline or a window's edge.
const PLAN: &str = "\
- {kind: partition, groups: [[1, 2], [3]], from: 1.05, to: 2.05, mode: hold}
- {kind: delay, link: \"1->2\", from: 0, to: 4, latency: \"fixed:30ms\"}
- {kind: pause, machine: 3, from: 2.55, to: 3.05}
";

/// `clocklab COMMAND` (`run` or `simulate`) of the trial, into `out`; returns its directory once
/// `check` passed it.
fn drive(command: &str, config: &Path, plan: &Path, out: &Path) -> PathBuf {
    let mut args: Vec<&OsStr> = [command, "--seed", "9", "--rates", "6.2,2.2,1.4"]
        .map(OsStr::new)
        .to_vec();
    args.extend(["--duration", "4", "--action-range", "3"].map(OsStr::new));
    args.extend([OsStr::new("--config"), config.as_os_str()]);
    args.extend([OsStr::new("--faults"), plan.as_os_str()]);
    args.extend([OsStr::new("--out"), out.as_os_str()]);
    let (code, printed) = run_to_end(command, args, SOON + SOON);
    assert_eq!(code, 0, "{printed}");
    assert!(!printed.contains("not applied"), "{printed}");
    let dir = run_dir_under(out);
    let report = check_trial(&dir);
    assert!(report.passed(), "{}: {report}", dir.display());
    dir
}

#[test]
fn a_real_run_in_bad_weather_and_its_simulation_agree_as_simulation_md_says() {
    let tmp = TestDir::new("twins");
    let config = tmp.config(3, "");
    let plan = tmp.join("plan.yaml");
    std::fs::write(&plan, PLAN).expect("write the plan");
    let real = drive("run", &config, &plan, &tmp.join("real"));
    let sim = drive("simulate", &config, &plan, &tmp.join("sim"));

    let (code, out) = run_to_end(
        "diff",
        [OsStr::new("diff"), real.as_os_str(), sim.as_os_str()],
        SOON,
    );
    println!("{out}");
    assert!(
        out.contains("fault plan: the same on both sides (partition [[1, 2], [3]] hold [1.05 s, 2.05 s), delay 1->2 fixed:30ms [0 s, 4 s), pause machine 3 [2.55 s, 3.05 s))"),
        "{out}"
    );
    assert!(
        out.contains("the weather figures agree within what docs/SIMULATION.md allows"),
        "{out}"
    );
    assert!(!out.contains("<-"), "{out}");
    // Every machine is shown (and every pair, below); the exit status is diff(1)'s.
    for id in 1..=3 {
        assert!(out.contains(&format!("    machine {id}: ticks ")), "{out}");
    }
    let identical = out.contains("identical: every machine's events");
    assert_eq!(code, if identical { 0 } else { 1 }, "{out}");

    // The same figures, read from the records directly.
    let records: Vec<RunRecord> = [&real, &sim]
        .map(|dir| read_yaml(&dir.join("run.yaml")))
        .into();
    let summary = |side: usize, id: usize| {
        records[side].machines[id - 1]
            .summary
            .clone()
            .expect("a summary")
    };
    // Exact tick counts: ⌊6.2 × 4⌋, ⌊2.2 × 4⌋ and ⌊1.4 × 4⌋, machine 3's missed one caught up.
    for (id, ticks) in [(1, 24), (2, 8), (3, 5)] {
        assert_eq!(summary(0, id).ticks, ticks, "machine {id}, real");
        assert_eq!(summary(1, id).ticks, ticks, "machine {id}, simulated");
    }
    // The router's books: what crossed the partition was held and released, so was every frame
    // on the delayed link, and nothing was dropped; the same counts on both sides when the
    // senders' events were the same.
    let books: Vec<RouterStats> = [&real, &sim]
        .map(|dir| read_yaml(&dir.join("router.yaml")))
        .into();
    let pairs = |side: &RouterStats| -> Vec<(u16, u16)> {
        side.pairs.iter().map(|p| (p.source, p.dest)).collect()
    };
    assert_eq!(pairs(&books[0]), pairs(&books[1]));
    for side in &books {
        for p in &side.pairs {
            let crosses = (p.source == 3) != (p.dest == 3);
            let delayed = (p.source, p.dest) == (1, 2);
            if !(crosses || delayed) {
                assert_eq!(p.held, 0, "{p:?}");
            }
            assert_eq!((p.released, p.dropped), (p.held, 0), "{p:?}");
            let line = format!("    pair {}->{}: delivered ", p.source, p.dest);
            assert!(out.contains(&line), "{out}");
        }
        // Machine 1, the fast one, sent over both: into the partition and down the slow link.
        let held = |s, d| side.pairs.iter().find(|p| (p.source, p.dest) == (s, d));
        assert!(held(1, 2).is_some_and(|p| p.held > 15), "{:?}", side.pairs);
        assert!(held(1, 3).is_some_and(|p| p.held > 3), "{:?}", side.pairs);
    }
    if identical {
        for (a, b) in books[0].pairs.iter().zip(&books[1].pairs) {
            assert_eq!(
                (a.source, a.dest, a.held, a.released, a.dropped),
                (b.source, b.dest, b.held, b.released, b.dropped)
            );
        }
    }
    // The delayed link: machine 2's hop latency p50 (it hears mostly from machine 1) is 30 ms
    // plus the network's hop in both, within 10% of each other.
    let (r, s) = (
        summary(0, 2).hop_latency_us.p50,
        summary(1, 2).hop_latency_us.p50,
    );
    eprintln!("[test] machine 2's hop p50: {r} µs real, {s} µs simulated");
    assert!((r - s).abs() <= 0.1 * s, "{r} µs real, {s} µs simulated");
    assert!((s - 30_100.0).abs() <= 0.016 * 30_100.0, "{s}");
}
