//! The real networked model and the simulator agree: with the same seed, rates and options, each
//! machine takes the same number of ticks, makes the same draws, and ends with the same queue and
//! clock, within tolerances that cover network timing (docs/SIMULATION.md explains them).

mod support;

use std::ffi::OsStr;

use clocklab::rundir::records::ClientSummary;
use clocklab::rundir::records::RunRecord;
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

    let real = summaries(&support::run_dir_under(&real_out));
    let sim = summaries(&support::run_dir_under(&sim_out));
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
