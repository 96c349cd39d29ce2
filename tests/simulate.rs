//! `clocklab simulate` end to end: the same seed and options give byte-identical files, every
//! trial passes `check`, and `--no-logs` keeps only the summaries.

mod support;

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{Cmd, TestDir, cell, files_under, only_dir};

fn clocklab<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Output {
    let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().into()).collect();
    let out = Command::new(support::bin())
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let shown: Vec<_> = args.iter().map(|a| a.to_string_lossy()).collect();
    println!("$ clocklab {}", shown.join(" "));
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// `simulate --seed 2024 --trials 3 --duration 20 --out OUT`.
fn three_trials_of_seed_2024(out: &Path) -> Cmd {
    Cmd::new("simulate")
        .seed(2024)
        .opt("--trials", "3")
        .duration("20")
        .out(out)
}

/// The run directory a command printed as its last `run directory:` line.
fn run_dir(out: &Output) -> PathBuf {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("run directory: "))
        .expect("the command names its run directory");
    PathBuf::from(line)
}

/// Every file under `dir`, by path relative to it, with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|rel| {
            let bytes = std::fs::read(dir.join(&rel)).unwrap();
            (rel, bytes)
        })
        .collect()
}

#[test]
fn the_same_seed_gives_byte_identical_files_that_pass_check() {
    let test = TestDir::new("simulate-identical");
    let out = test.path.clone();
    let args = three_trials_of_seed_2024(&out).opt("--latency", "exp:50us:3ms");
    let first = clocklab(&args);
    assert!(first.status.success());
    let second = clocklab(&args);
    assert!(second.status.success());
    let (a, b) = (run_dir(&first), run_dir(&second));
    assert_ne!(a, b, "two runs never share a directory");
    let (fa, fb) = (files(&a), files(&b));
    let names: Vec<String> = fa.keys().map(|p| p.display().to_string()).collect();
    for trial in 1..=3 {
        for file in [
            "machine-1.csv",
            "machine-3.csv",
            "summary-2.yaml",
            "router.yaml",
            "run.yaml",
        ] {
            let want = format!("trial-{trial}/{file}");
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
    }
    assert_eq!(fa.len(), 3 * 8);
    for (path, bytes) in &fa {
        assert!(
            fb.get(path) == Some(bytes),
            "{} differs between two runs",
            path.display()
        );
    }
    let check = clocklab(["check", a.to_str().unwrap()]);
    assert!(check.status.success());
    assert!(String::from_utf8_lossy(&check.stdout).contains("all 3 checked trial(s) passed"));

    // The record says how it was made.
    let record: clocklab::rundir::records::RunRecord =
        serde_yaml::from_slice(&fa[Path::new("trial-2/run.yaml")]).unwrap();
    assert!(record.simulated);
    assert_eq!(
        record.latency,
        Some(clocklab::config::Latency::Exponential {
            base_ns: 50_000,
            mean_ns: 3_000_000
        })
    );
    assert_eq!(
        (record.trial, record.trials, record.master_seed),
        (2, 3, 2024)
    );
    assert_eq!(record.start_time_ns, Some(clocklab::sim::DEFAULT_EPOCH_NS));
    assert_eq!(
        record.stop_time_ns,
        clocklab::sim::DEFAULT_EPOCH_NS + 20_000_000_000
    );
}

/// Golden values of the random streams: what seed 2024 draws with the repository's
/// `config/config.yaml` (3 machines, random whole rates 1 to 6, R = 10), written down so that a
/// change to the draws cannot pass unnoticed. Recorded runs replay only while these hold. They
/// change when any of these change: the seed derivation (`core::seed::derive`, splitmix64) or a
/// stream's index (`core::seed::Stream`); the generator behind the streams (rand's
/// Xoshiro256PlusPlus) or how rand turns its output into a number in a range (a rand upgrade
/// may); how a rate is drawn (`machines.random_rates`, or the method that draws it); the order or kind of a machine's draws (`core::machine`'s
/// action rule, R); the defaults in `config/config.yaml`; or the simulated epoch. If such a
/// change is meant, say so where it is made (recorded seeds no longer replay) and write the new
/// values here.
#[test]
fn golden_random_streams_of_seed_2024() {
    let test = TestDir::new("simulate-golden");
    let out = clocklab(&three_trials_of_seed_2024(&test.path));
    assert!(out.status.success());
    let dir = run_dir(&out);
    // Stream::Trial(k) of the master seed, then Stream::Rates of each trial's seed.
    let want: [(u64, [f64; 3]); 3] = [
        (7_290_841_627_445_497_413, [6.0, 5.0, 3.0]),
        (9_525_271_233_230_074_383, [3.0, 6.0, 2.0]),
        (6_924_524_674_889_013_155, [3.0, 4.0, 6.0]),
    ];
    for (k, (seed, rates)) in want.iter().enumerate() {
        let record: clocklab::rundir::records::RunRecord = serde_yaml::from_slice(
            &std::fs::read(dir.join(format!("trial-{}/run.yaml", k + 1))).unwrap(),
        )
        .unwrap();
        let got: Vec<f64> = record.machines.iter().map(|m| m.rate).collect();
        assert_eq!(
            (record.seed, got.as_slice()),
            (*seed, &rates[..]),
            "trial {}",
            k + 1
        );
    }
    // Stream::Machine(1) of trial 1: machine 1, at 6 ticks/s, first draws r = 1 (a send to
    // machine 2), then four internal events; each tick one period after the last.
    let log = std::fs::read_to_string(dir.join("trial-1/machine-1.csv")).unwrap();
    let first: Vec<&str> = log.lines().skip(1).take(5).collect();
    assert_eq!(
        first,
        [
            "1,send,1767225600.166666,1,0,2,1,1",
            "1,internal,1767225600.333333,2,0,,,",
            "1,internal,1767225600.500000,3,0,,,",
            "1,internal,1767225600.666666,4,0,,,",
            "1,internal,1767225600.833333,5,0,,,",
        ]
    );
}

#[test]
fn no_logs_keeps_the_summaries_only() {
    let test = TestDir::new("simulate-nologs");
    let out = test.path.clone();
    let simulate = Cmd::new("simulate")
        .seed(9)
        .rates("1,2,3,4")
        .opt("--machines", "4")
        .words(["--no-logs"])
        .out(&out);
    let result = clocklab(&simulate);
    assert!(result.status.success());
    let dir = run_dir(&result);
    let names: Vec<String> = files(&dir)
        .keys()
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "router.yaml",
            "run.yaml",
            "summary-1.yaml",
            "summary-2.yaml",
            "summary-3.yaml",
            "summary-4.yaml"
        ]
    );
    // Nothing to check or analyze without logs, and both say so rather than fail on the files.
    let check = clocklab(["check", dir.to_str().unwrap()]);
    assert!(check.status.success());
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(said.contains("skipped: simulated with --no-logs"), "{said}");
    let analyze = clocklab([
        "analyze",
        dir.to_str().unwrap(),
        "--out",
        out.join("an").to_str().unwrap(),
    ]);
    assert!(!analyze.status.success());
    assert!(String::from_utf8_lossy(&analyze.stderr).contains("simulated with --no-logs"));
    let summary: clocklab::rundir::records::ClientSummary =
        serde_yaml::from_slice(&std::fs::read(dir.join("summary-4.yaml")).unwrap()).unwrap();
    // 60 s at 4 ticks per second: the first tick a quarter second after the start, the last at
    // the end.
    assert_eq!((summary.rate, summary.ticks), (4.0, 240));
}

#[test]
fn a_bad_latency_is_refused_with_what_is_allowed() {
    let out = clocklab(["simulate", "--latency", "soon"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("fixed:DELAY, uniform:MIN:MAX or exp:BASE:MEAN"),
        "{err}"
    );
}

#[test]
fn the_classic_experiment_yields_three_checked_runs_and_a_comparison_report() {
    let test = TestDir::new("simulate-classic");
    let out = test.path.clone();
    let result = clocklab([
        "experiment",
        "classic",
        "--trials",
        "2",
        "--duration",
        "20",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(result.status.success());
    let dir = &only_dir(&out);
    for scenario in ["baseline", "small-variation", "few-internal"] {
        for trial in ["trial-1", "trial-2"] {
            let record: clocklab::rundir::records::RunRecord = serde_yaml::from_slice(
                &std::fs::read(dir.join(scenario).join(trial).join("run.yaml")).unwrap(),
            )
            .unwrap();
            let range = record.config.machines.action_range;
            assert_eq!(range, if scenario == "few-internal" { 5 } else { 10 });
            assert!(record.simulated);
        }
    }
    let report = std::fs::read_to_string(dir.join("analysis/report.html")).unwrap();
    for scenario in ["baseline", "small-variation", "few-internal"] {
        assert!(report.contains(scenario), "the report names {scenario}");
    }
    assert!(dir.join("analysis/compare-queue.svg").exists());
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(stdout.contains("every trial passed its check"), "{stdout}");
}

#[test]
fn a_sweep_writes_its_table_and_plots() {
    let test = TestDir::new("simulate-sweep");
    let out = test.path.clone();
    let result = clocklab([
        "experiment",
        "sweep",
        "--param",
        "slow-rate",
        "--values",
        "0.5,3",
        "--trials",
        "5",
        "--seed",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(result.status.success());
    let dir = only_dir(&out);
    let csv = std::fs::read_to_string(dir.join("sweep.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert_eq!(&rows[1][..4], ["slow_rate", "0.5", "5", "0.5"]);
    // Machine 1 at 0.5 ticks/s receives about 2 a second: its queue ends far longer than at 3.
    let queue = |row: &[&str]| row[7].parse::<f64>().unwrap();
    assert!(queue(&rows[1]) > 60.0 && queue(&rows[2]) < 5.0, "{csv}");
    for plot in ["sweep-queue.svg", "sweep-clocks.svg"] {
        let svg = std::fs::read_to_string(dir.join(plot)).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{plot}: {e}"));
        // A marker per measured value and series: two values, two series.
        let markers = doc.descendants().filter(|n| n.has_tag_name("circle"));
        // The legend draws one more marker per series.
        assert_eq!(markers.count(), 2 * 2 + 2, "{plot}");
        assert!(svg.contains("machine 1"), "{plot}");
    }
    // The queue plot names the predicted boundary: two peers at 6 ticks/s and R = 10 put it
    // at a rate of 2 (docs/ANALYSIS.md), inside the swept range 0.5..3.
    let queue_svg = std::fs::read_to_string(dir.join("sweep-queue.svg")).unwrap();
    assert!(queue_svg.contains("predicted boundary: 2.0"), "{queue_svg}");
    // sweep.html: self-contained, a table row per value, both plots inline.
    let html = std::fs::read_to_string(dir.join("sweep.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script"));
    // Nothing is fetched: the only addresses are the SVG namespace's.
    assert_eq!(
        html.matches("http").count(),
        html.matches("http://www.w3.org/2000/svg").count()
    );
    assert_eq!(html.matches("<svg ").count(), 2);
    let body = &html[html.find("<tbody>").unwrap()..html.find("</tbody>").unwrap()];
    assert_eq!(body.matches("<tr>").count(), 2);
    assert!(
        body.contains("<td>0.5</td><td>2.00</td><td>90.0</td>"),
        "{body}"
    );
}

#[test]
fn several_trials_end_with_a_table_across_trials_by_rate_and_the_next_step() {
    let test = TestDir::new("simulate-across");
    let out = test.path.clone();
    // Random rates (the default): over eight trials a machine runs at several rates.
    let trials = 8;
    let simulate = Cmd::new("simulate")
        .seed(3)
        .opt("--trials", trials.to_string())
        .duration("10")
        .out(&out);
    let result = clocklab(&simulate);
    assert!(result.status.success());
    let dir = run_dir(&result);
    let stdout = String::from_utf8_lossy(&result.stdout).into_owned();
    let at = stdout
        .find("across trials: 8 of 8 trials, per machine and rate mean, std, min and max\n")
        .expect("the table across trials");
    let table: Vec<Vec<&str>> = stdout[at..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        table[0],
        [
            "machine",
            "rate",
            "trials",
            "stat",
            "events",
            "sends",
            "broadcasts",
            "receives",
            "final",
            "clock",
            "max",
            "jump",
            "queue",
            "peak"
        ]
    );
    // Each headline figure but the rate of each trial's summary, in the table's column order,
    // grouped by machine and rate.
    let mut groups: BTreeMap<(u16, String), Vec<[f64; 7]>> = BTreeMap::new();
    for k in 1..=trials {
        for id in 1..=3u16 {
            let s: clocklab::rundir::records::ClientSummary = serde_yaml::from_slice(
                &std::fs::read(dir.join(format!("trial-{k}/summary-{id}.yaml"))).unwrap(),
            )
            .unwrap();
            let n = |kind: &str| s.events[kind] as f64;
            groups.entry((id, cell(s.rate))).or_default().push([
                s.ticks as f64,
                n("send"),
                n("broadcast"),
                n("receive"),
                s.final_clock as f64,
                s.max_jump as f64,
                f64::from(s.queue_peak),
            ]);
        }
    }
    assert!(
        groups.len() > 3,
        "some machine ran at two rates: {:?}",
        groups.keys()
    );
    assert_eq!(table.len(), 1 + 4 * groups.len());
    let mut per_machine: BTreeMap<u16, usize> = BTreeMap::new();
    for (g, ((id, rate), figures)) in groups.iter().enumerate() {
        let rows = &table[1 + 4 * g..][..4];
        // One row per machine and rate, with how many trials ran it at that rate.
        let n = figures.len();
        assert_eq!(
            rows[0][..4],
            [id.to_string().as_str(), rate, &n.to_string(), "mean"],
            "group {g}"
        );
        *per_machine.entry(*id).or_default() += rows[0][2].parse::<usize>().unwrap();
        for c in 0..7 {
            let values: Vec<f64> = figures.iter().map(|f| f[c]).collect();
            let mean = values.iter().sum::<f64>() / n as f64;
            let std = if n > 1 {
                let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
                cell(var.sqrt())
            } else {
                "-".to_owned()
            };
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let shown: Vec<&str> = rows.iter().map(|r| r[r.len() - 7 + c]).collect();
            assert_eq!(
                shown,
                [cell(mean), std, cell(min), cell(max)],
                "machine {id} at {rate}, column {c}: {values:?}"
            );
        }
    }
    // Every machine's rows count every trial once.
    assert_eq!(per_machine, (1..=3).map(|id| (id, trials)).collect());
    // (The program as the shell here finds it: tests/hints.rs runs the hint.)
    let next = format!(" analyze {}", dir.display());
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("next: ") && last.ends_with(&next),
        "{stdout}"
    );

    // Without logs there is nothing to analyze, and the last line says so.
    let result = clocklab(["simulate", "--no-logs", "--out", out.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&result.stdout).into_owned();
    assert!(
        stdout
            .trim_end()
            .ends_with("simulate again without --no-logs"),
        "{stdout}"
    );
    assert!(!stdout.contains("across trials"), "one trial: no table");
}

#[test]
fn the_events_simulate_counts_are_the_log_rows_and_deliveries_are_named_apart() {
    let test = TestDir::new("simulate-events");
    let out = test.path.clone();
    let result = clocklab(&three_trials_of_seed_2024(&out));
    assert!(result.status.success());
    let dir = run_dir(&result);
    let stdout = String::from_utf8_lossy(&result.stdout).into_owned();
    let said = stdout
        .lines()
        .find_map(|l| l.strip_prefix("simulated 3 trial(s), "))
        .unwrap_or_else(|| panic!("no line \"simulated 3 trial(s), ...\" in\n{stdout}"));
    let (events, rest) = said
        .split_once(" events (log rows) and ")
        .expect("events named");
    let delivered = rest
        .split_once(" frames delivered in ")
        .expect("deliveries named")
        .0;
    let (mut rows, mut receives_and_queued) = (0u64, 0u64);
    for k in 1..=3 {
        for id in 1..=3u16 {
            let trial = dir.join(format!("trial-{k}"));
            let log = clocklab::rundir::log::read_log(&clocklab::rundir::log::log_path(&trial, id))
                .unwrap();
            rows += log.len() as u64;
            let s: clocklab::rundir::records::ClientSummary = serde_yaml::from_slice(
                &std::fs::read(trial.join(format!("summary-{id}.yaml"))).unwrap(),
            )
            .unwrap();
            // Every frame delivered was taken by a tick or was still queued at the end.
            receives_and_queued += s.events["receive"] + s.unprocessed.len() as u64;
        }
    }
    assert_eq!(events, rows.to_string(), "{stdout}");
    assert_eq!(delivered, receives_and_queued.to_string(), "{stdout}");
}
