//! The real networked model and the simulator agree: with the same seed, rates and options, each
//! machine takes the same number of ticks, makes the same draws, and ends with the same queue and
//! clock, within tolerances that cover network timing (docs/SIMULATION.md explains them).

mod support;

use std::ffi::OsStr;

use clocklab::rundir::records::{ClientSummary, RouterStats, RunRecord};
use support::{SOON, TestDir, read_yaml, run_to_end};

/// Whether `real` is within `rel` (a fraction) plus `abs` of `sim`.
fn close(real: u64, sim: u64, rel: f64, abs: u64) -> bool {
    real.abs_diff(sim) as f64 <= rel * sim as f64 + abs as f64
}

fn summaries(dir: &std::path::Path) -> Vec<ClientSummary> {
    let record: RunRecord = read_yaml(&dir.join("run.yaml"));
    record
        .machines
        .into_iter()
        .map(|m| m.summary.expect("every machine stopped in order"))
        .collect()
}

#[test]
fn run_and_simulate_agree_on_a_slow_machine_among_fast_ones() {
    let tmp = TestDir::new("agreement");
    let config = tmp.config(3, "");
    let (real_out, sim_out) = (tmp.join("real"), tmp.join("sim"));
    // Machine 1 serves 20 messages a second while the others send it about 60: its queue grows.
    let common = [
        "--seed",
        "11",
        "--rates",
        "20,100,200",
        "--duration",
        "3",
        "--config",
    ];
    let mut run_args: Vec<&OsStr> = ["run", "--port", "0"].map(OsStr::new).to_vec();
    run_args.extend(common.map(OsStr::new));
    run_args.extend([
        config.as_os_str(),
        OsStr::new("--out"),
        real_out.as_os_str(),
    ]);
    let (code, printed) = run_to_end("run", run_args, SOON + SOON);
    assert_eq!(code, 0, "{printed}");
    let mut sim_args: Vec<&OsStr> = vec![OsStr::new("simulate")];
    sim_args.extend(common.map(OsStr::new));
    sim_args.extend([config.as_os_str(), OsStr::new("--out"), sim_out.as_os_str()]);
    let (code, printed) = run_to_end("simulate", sim_args, SOON);
    assert_eq!(code, 0, "{printed}");

    let (real_dir, sim_dir) = (
        support::run_dir_under(&real_out),
        support::run_dir_under(&sim_out),
    );
    routers_agree(&real_dir, &sim_dir);
    let real = summaries(&real_dir);
    let sim = summaries(&sim_dir);
    assert_eq!(real.len(), 3);
    for (r, s) in real.iter().zip(&sim) {
        let id = r.id;
        assert_eq!(
            (r.id, r.rate, r.seed),
            (s.id, s.rate, s.seed),
            "same machine"
        );
        // Both tick on absolute deadlines from a common start and know the trial's end: both
        // take exactly the ticks due by it.
        assert_eq!(r.ticks, s.ticks, "machine {id}: ticks");
        for kind in ["send", "broadcast", "receive", "internal"] {
            let (a, b) = (r.events[kind], s.events[kind]);
            assert!(
                close(a, b, 0.10, 3),
                "machine {id}: {kind} {a} (real) vs {b} (simulated)"
            );
        }
        assert!(
            close(r.final_clock, s.final_clock, 0.05, 3),
            "machine {id}: final clock {} vs {}",
            r.final_clock,
            s.final_clock
        );
        assert!(
            close(r.queue_peak.into(), s.queue_peak.into(), 0.10, 3),
            "machine {id}: queue peak {} vs {}",
            r.queue_peak,
            s.queue_peak
        );
    }
    // The queue behaviour the model is about: the slow machine ends far behind in both.
    assert!(
        real[0].unprocessed.len() > 50,
        "{}",
        real[0].unprocessed.len()
    );
    assert!(
        close(
            real[0].unprocessed.len() as u64,
            sim[0].unprocessed.len() as u64,
            0.10,
            3
        ),
        "slow machine's final queue: {} vs {}",
        real[0].unprocessed.len(),
        sim[0].unprocessed.len()
    );
}

/// The simulation's `router.yaml` comes from the switchboard as the real router's does: the same
/// machines by name and id, each connection closed in order, a HELLO and a BYE from each, the
/// same pairs of machines exchanging data with nothing undeliverable, and both trials pass
/// `check`. Only the address, the times and the cause of the stop differ, and the counts of data
/// frames within the tolerance of the events.
fn routers_agree(real_dir: &std::path::Path, sim_dir: &std::path::Path) {
    let real: RouterStats = read_yaml(&real_dir.join("router.yaml"));
    let sim: RouterStats = read_yaml(&sim_dir.join("router.yaml"));
    assert_eq!(
        (&real.names, real.machines, real.seed),
        (&sim.names, sim.machines, sim.seed)
    );
    assert_eq!(sim.listen, "simulated");
    let closed = |r: &RouterStats| {
        let mut closed: Vec<(Option<String>, Option<u16>, String)> = r
            .connections
            .iter()
            .map(|c| (c.name.clone(), c.id, c.reason.clone()))
            .collect();
        // The real connections close in the order the machines' ends arrive.
        closed.sort();
        closed
    };
    assert_eq!(closed(&real), closed(&sim));
    assert!(closed(&sim).iter().all(|c| c.2 == "orderly stop"));
    let kinds = |r: &RouterStats| r.frames.keys().cloned().collect::<Vec<String>>();
    assert_eq!(kinds(&real), kinds(&sim));
    for kind in ["HELLO", "BYE"] {
        assert_eq!(real.frames[kind], sim.frames[kind], "{kind}");
    }
    for (r, s) in real.frames.values().zip(sim.frames.values()) {
        assert!(close(r.frames, s.frames, 0.10, 3), "{r:?} vs {s:?}");
    }
    let pairs = |r: &RouterStats| {
        let pairs = r.pairs.iter();
        pairs
            .map(|p| (p.source, p.dest, p.undeliverable))
            .collect::<Vec<_>>()
    };
    assert_eq!(pairs(&real), pairs(&sim));
    assert!(pairs(&sim).iter().all(|p| p.2 == 0));
    for dir in [real_dir, sim_dir] {
        let report = clocklab::check::check_trial(dir);
        assert!(report.passed(), "{}: {report}", dir.display());
    }
}
