//! `clocklab diff`: a real run against the same seed's simulation (rates 10, 20, 30; R = 4; 3 s),
//! a simulation against itself, two seeds, and two simulations that part by a same-instant
//! reordering or by a message across a tick.

mod support;

use std::path::Path;

use clocklab::rundir::records::{ClientSummary, RouterStats, RunRecord};
use support::{TestDir, only_dir, read_yaml};

/// `clocklab ARGS`, to its end: the exit code and the output.
fn clocklab(role: &str, args: &[&str]) -> (i32, String) {
    support::run_to_end(role, args, support::SOON * 6)
}

/// The log rows of machine `id` in the trial directory `dir`.
fn rows(dir: &Path, id: u16) -> usize {
    clocklab::rundir::log::read_log(&clocklab::rundir::log::log_path(dir, id))
        .unwrap()
        .len()
}

fn model_args<'a>(seed: &'a str, out: &'a str, config: &'a str) -> Vec<&'a str> {
    vec![
        "--config",
        config,
        "--rates",
        "1,2,3",
        "--action-range",
        "10",
        "--duration",
        "20",
        "--seed",
        seed,
        "--out",
        out,
    ]
}

#[test]
fn a_real_run_and_its_simulation_are_identical_or_their_first_divergence_is_named() {
    let test = TestDir::new("diff-real");
    let config = test.config(3, "");
    let (real, sim) = (test.join("real"), test.join("sim"));
    let config = config.to_str().unwrap();
    // Fast enough that the twins often part (the machines share a deadline every 100 ms), short
    // enough to be cheap.
    let twin = |command: &'static str, out: &Path| -> (i32, String) {
        let out = out.to_str().unwrap();
        let args = [
            command,
            "--config",
            config,
            "--rates",
            "10,20,30",
            "--action-range",
            "4",
            "--duration",
            "3",
            "--seed",
            "7",
            "--out",
            out,
        ];
        clocklab(command, &args)
    };
    assert_eq!(twin("run", &real).0, 0);
    assert_eq!(twin("simulate", &sim).0, 0);
    let (real, sim) = (only_dir(&real), only_dir(&sim));
    let (code, out) = clocklab(
        "diff",
        &["diff", real.to_str().unwrap(), sim.to_str().unwrap()],
    );
    assert!(!out.contains("the seeds differ"), "{out}");
    // Every machine is reported once, as identical (with its event count) or with the rows
    // where it parts and a cause.
    for id in 1..=3u16 {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("machine {id}: ")))
            .unwrap_or_else(|| panic!("machine {id} is not reported:\n{out}"));
        if line.contains("identical") {
            let n = rows(&real, id);
            assert!(line.ends_with(&format!("identical ({n} events)")), "{line}");
            assert_eq!(n, rows(&sim, id), "identical logs have as many rows");
        } else {
            assert!(line.contains("first divergence at event"), "{line}");
        }
    }
    match code {
        0 => assert!(out.contains("identical: every machine's events"), "{out}"),
        1 => {
            assert!(out.contains("    A: ") && out.contains("    B: "), "{out}");
            assert!(out.contains("likely cause: "), "{out}");
            let first = first_in_time(&out);
            // At rates 10, 20 and 30 the machines share a deadline every 100 ms, and every
            // other pair of deadlines is at least 1/60 s apart: unless a sender's tick ran late
            // and its hop took that long together (16 ms), only two messages sent at one of
            // those instants and queued in the other order can part the twins, and diff must
            // say so.
            let (tick_us, hop_us) = (1..=3u16)
                .map(|id| {
                    let s: ClientSummary = read_yaml(&real.join(format!("summary-{id}.yaml")));
                    (s.tick_lateness_us.max, s.hop_latency_us.max)
                })
                .fold((0.0, 0.0), |(t, h), (st, sh)| (st.max(t), sh.max(h)));
            let slowest_ms = (tick_us + hop_us) / 1e3;
            println!("[test] latest tick plus slowest hop of the real run: {slowest_ms:.1} ms");
            if slowest_ms < 16.0 {
                assert!(
                    cause_of(&out, first).contains("likely cause: a same-instant reordering"),
                    "{out}"
                );
            }
        }
        _ => panic!("diff failed to compare:\n{out}"),
    }
}

/// The machine `diff` names as the first divergence in time.
fn first_in_time(out: &str) -> u16 {
    out.split_once("the first divergence in time is machine ")
        .and_then(|(_, rest)| rest.split_once("'s"))
        .and_then(|(id, _)| id.parse().ok())
        .unwrap_or_else(|| panic!("no first divergence in time named:\n{out}"))
}

/// The `likely cause:` line `diff` printed for machine `id`.
fn cause_of(out: &str, id: u16) -> &str {
    out.lines()
        .skip_while(|l| !l.starts_with(&format!("  machine {id}: first divergence")))
        .find(|l| l.contains("likely cause: "))
        .unwrap_or_else(|| panic!("no cause for machine {id}:\n{out}"))
}

/// Simulates seed 3 at rates 2, 2 and 4 (machines 1 and 2 share every deadline, machine 3 every
/// other one), R = 3, for 10 s with `latency`, into `out`; returns the trial's directory.
fn simulate_with(test: &TestDir, out: &str, latency: &str) -> std::path::PathBuf {
    let config = test.config(3, "");
    let out = test.join(out);
    let args = [
        "simulate",
        "--config",
        config.to_str().unwrap(),
        "--rates",
        "2,2,4",
        "--action-range",
        "3",
        "--duration",
        "10",
        "--seed",
        "3",
        "--latency",
        latency,
        "--out",
        out.to_str().unwrap(),
    ];
    assert_eq!(clocklab("simulate", &args).0, 0);
    only_dir(&out)
}

#[test]
fn a_same_instant_reordering_is_named_so_and_a_message_across_a_tick_otherwise() {
    let test = TestDir::new("diff-reorder");
    // A fixed 1 ms hop against one drawn from 0.1 to 3 ms: every message still arrives long
    // before the next deadline (250 ms or more away), so only the order of two messages sent at
    // one instant can differ.
    let fixed = simulate_with(&test, "fixed", "fixed:1ms");
    let drawn = simulate_with(&test, "drawn", "uniform:100us:3ms");
    let (code, out) = clocklab(
        "diff",
        &["diff", fixed.to_str().unwrap(), drawn.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{out}");
    let first = first_in_time(&out);
    let cause = cause_of(&out, first);
    assert!(
        cause.contains(
            "likely cause: a same-instant reordering: machine 2 (seq 4) and machine 3 (seq 8) \
             both sent 2.500 s into the trial, and the two messages were queued in the other \
             order: A took machine 2's here and the other at event 10, B took machine 3's here \
             and the other at event 10"
        ),
        "{out}"
    );
    assert!(!out.contains("other side of a tick"), "{out}");
    // A 300 ms hop moves messages past deadlines: that is named as such, not as a reordering.
    let slow = simulate_with(&test, "slow", "fixed:300ms");
    let (code, out) = clocklab(
        "diff",
        &["diff", fixed.to_str().unwrap(), slow.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{out}");
    let cause = cause_of(&out, first_in_time(&out));
    assert!(
        cause.contains("arrived on the other side of a tick"),
        "{out}"
    );
    assert!(!out.contains("same-instant"), "{out}");
}

#[test]
fn a_simulation_matches_itself_and_another_seed_is_told() {
    let test = TestDir::new("diff-sim");
    let config = test.config(3, "");
    let config = config.to_str().unwrap();
    let (one, two) = (test.join("one"), test.join("two"));
    for (seed, out) in [("5", &one), ("6", &two)] {
        let mut args = vec!["simulate"];
        args.extend(model_args(seed, out.to_str().unwrap(), config));
        assert_eq!(clocklab("simulate", &args).0, 0);
    }
    let (one, two) = (only_dir(&one), only_dir(&two));
    let (code, out) = clocklab(
        "diff",
        &["diff", one.to_str().unwrap(), one.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
    // Without a fault plan, no weather is compared.
    assert!(
        !out.contains("fault plan") && !out.contains("weather"),
        "{out}"
    );
    for id in 1..=3 {
        let n = rows(&one, id);
        assert!(
            out.contains(&format!("machine {id}: identical ({n} events)")),
            "{out}"
        );
    }
    let (code, out) = clocklab(
        "diff",
        &["diff", one.to_str().unwrap(), two.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("the seeds differ (A 5"), "{out}");
    assert!(out.contains("first divergence at event"), "{out}");
    // Every divergence is put down to the seeds, none to timing.
    let causes: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("likely cause:"))
        .collect();
    assert!(!causes.is_empty(), "{out}");
    for cause in causes {
        assert!(
            cause.contains("likely cause: the seeds differ (A 5, B 6)"),
            "{out}"
        );
        assert!(!cause.contains("tick"), "{out}");
    }
    // A trial that is not there is an error, not a difference.
    let (code, out) = clocklab(
        "diff",
        &[
            "diff",
            one.to_str().unwrap(),
            two.to_str().unwrap(),
            "--trial",
            "2",
        ],
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("has 1 trial, not 2: --trial is from 1 to 1"),
        "{out}"
    );
}

/// Copies the files of the trial directory `from` into a new directory `to`.
fn copy_trial(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn a_broken_record_or_a_log_cut_after_the_run_is_an_error_not_identical() {
    let test = TestDir::new("diff-broken");
    let config = test.config(3, "");
    let out = test.join("sim");
    let mut args = vec!["simulate"];
    args.extend(model_args(
        "7",
        out.to_str().unwrap(),
        config.to_str().unwrap(),
    ));
    assert_eq!(clocklab("simulate", &args).0, 0);
    let good = only_dir(&out);
    let diff_with = |name: &str, damage: &dyn Fn(&Path)| {
        let copy = test.join(name);
        copy_trial(&good, &copy);
        damage(&copy);
        let (code, out) = clocklab(
            "diff",
            &["diff", good.to_str().unwrap(), copy.to_str().unwrap()],
        );
        (copy, code, out)
    };
    // router.yaml that does not parse, run.yaml emptied: exit 2, naming the file and what is
    // wrong with it, and nothing said identical.
    let (copy, code, out) = diff_with("router", &|d| {
        std::fs::write(d.join("router.yaml"), "kinds: [").unwrap()
    });
    assert_eq!(code, 2, "{out}");
    let want = format!(
        "{}: not a valid file of its kind",
        copy.join("router.yaml").display()
    );
    assert!(out.contains(&want), "{want:?} not in\n{out}");
    assert!(!out.contains("identical"), "{out}");
    let (copy, code, out) = diff_with("run", &|d| std::fs::write(d.join("run.yaml"), "").unwrap());
    assert_eq!(code, 2, "{out}");
    let want = format!(
        "{}: empty: not a file of its kind",
        copy.join("run.yaml").display()
    );
    assert!(out.contains(&want), "{want:?} not in\n{out}");
    assert!(!out.contains("identical"), "{out}");
    // Machine 2's log cut in its last row although its summary says it stopped in order: the
    // file was damaged after the run, so there is nothing sound to compare.
    let cut = |d: &Path| {
        let log = d.join("machine-2.csv");
        let text = std::fs::read(&log).unwrap();
        std::fs::write(&log, &text[..text.len() - 3]).unwrap();
    };
    let lines = std::fs::read_to_string(good.join("machine-2.csv"))
        .unwrap()
        .lines()
        .count();
    let (copy, code, out) = diff_with("cut", &cut);
    assert_eq!(code, 2, "{out}");
    let want = format!(
        "{}:{lines}: the last line",
        copy.join("machine-2.csv").display()
    );
    assert!(out.contains(&want), "{want:?} not in\n{out}");
    assert!(
        out.contains("summary-2.yaml says machine 2 stopped after its last row"),
        "{out}"
    );
    // Without its summary (the machine crashed while writing), the rows before the cut are
    // compared, and the note says so: machine 2 is one event short.
    let (_, code, out) = diff_with("crashed", &|d| {
        cut(d);
        std::fs::remove_file(d.join("summary-2.yaml")).unwrap();
    });
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("  note: B: "), "{out}");
    assert!(
        out.contains(": its rows before the cut are compared"),
        "{out}"
    );
    assert!(
        out.contains("machine 1: identical") && out.contains("machine 3: identical"),
        "{out}"
    );
    assert!(
        out.contains("machine 2: first divergence at event"),
        "{out}"
    );
}

/// Two trials with a fault plan: the plans are named, each machine's ticks and hop p50 and the
/// router's books per pair are shown side by side, and a figure that differs beyond what
/// docs/SIMULATION.md allows is marked and makes the exit status 1 even when the events agree;
/// another plan (or none) on one side is said first.
#[test]
fn trials_with_a_fault_plan_are_compared_in_their_weather() {
    let test = TestDir::new("diff-weather");
    let config = test.config(3, "");
    let plan = test.join("plan.yaml");
    std::fs::write(
        &plan,
        "- {kind: partition, groups: [[1, 2], [3]], from: 5, to: 10, mode: drop}\n",
    )
    .unwrap();
    let (stormy, fair) = (test.join("stormy"), test.join("fair"));
    for (out, faults) in [(&stormy, true), (&fair, false)] {
        let mut args = vec!["simulate"];
        args.extend(model_args(
            "4",
            out.to_str().unwrap(),
            config.to_str().unwrap(),
        ));
        if faults {
            args.extend(["--faults", plan.to_str().unwrap()]);
        }
        assert_eq!(clocklab("simulate", &args).0, 0);
    }
    let (stormy, fair) = (only_dir(&stormy), only_dir(&fair));
    let diff =
        |a: &Path, b: &Path| clocklab("diff", &["diff", a.to_str().unwrap(), b.to_str().unwrap()]);

    let (code, out) = diff(&stormy, &stormy);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "  fault plan: the same on both sides (partition [[1, 2], [3]] drop [5 s, 10 s))"
        ),
        "{out}"
    );
    let record: RunRecord = read_yaml(&stormy.join("run.yaml"));
    for m in &record.machines {
        let s = m.summary.as_ref().unwrap();
        let hop = format!("{:.1}", s.hop_latency_us.p50);
        let want = format!(
            "    machine {}: ticks {t} | {t}, hop p50 {hop} | {hop} µs\n",
            m.id,
            t = s.ticks
        );
        assert!(out.contains(&want), "{want:?} not in\n{out}");
    }
    let router: RouterStats = read_yaml(&stormy.join("router.yaml"));
    let crossing = router
        .pairs
        .iter()
        .find(|p| p.dropped > 0)
        .copied()
        .expect("a frame sent across the partition");
    let pair = format!("    pair {}->{}: ", crossing.source, crossing.dest);
    let want = format!(
        "{pair}delivered {d} | {d}, held 0 | 0, released 0 | 0, dropped {x} | {x}\n",
        d = crossing.delivered,
        x = crossing.dropped
    );
    assert!(out.contains(&want), "{want:?} not in\n{out}");
    assert!(
        out.contains("  the weather figures agree within what docs/SIMULATION.md allows"),
        "{out}"
    );
    assert!(!out.contains("<-"), "{out}");

    // A copy whose router dropped 100 frames more on that pair and whose machine 2 ticked once more:
    // the events are the same, the weather is not.
    let copy = test.join("copy");
    copy_trial(&stormy, &copy);
    let mut books = router.clone();
    for p in books
        .pairs
        .iter_mut()
        .filter(|p| (p.source, p.dest) == (crossing.source, crossing.dest))
    {
        p.dropped += 100;
    }
    std::fs::write(
        copy.join("router.yaml"),
        serde_yaml::to_string(&books).unwrap(),
    )
    .unwrap();
    let summary = copy.join("summary-2.yaml");
    let mut two: ClientSummary = read_yaml(&summary);
    two.ticks += 1;
    std::fs::write(&summary, serde_yaml::to_string(&two).unwrap()).unwrap();
    let (code, out) = diff(&stormy, &copy);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("identical: every machine's events"), "{out}");
    let line = |start: &str| {
        out.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no {start:?} in\n{out}"))
            .to_string()
    };
    assert!(
        line("    machine 2: ").ends_with("  <- ticks must be equal"),
        "{out}"
    );
    assert!(line(&pair).contains("  <- books may differ by "), "{out}");
    assert!(!line("    machine 1: ").contains("<-"), "{out}");
    assert!(
        out.contains("  2 weather figure(s) differ beyond what docs/SIMULATION.md allows (marked)"),
        "{out}"
    );

    // A plan on one side only: said, and nothing of the weather compared.
    let (code, out) = diff(&stormy, &fair);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "  the fault plans differ (A: partition [[1, 2], [3]] drop [5 s, 10 s); B: none): the \
             trials had other weather, so their ticks, books and hop latencies are not compared"
        ),
        "{out}"
    );
    assert!(!out.contains("weather, A | B"), "{out}");
}
