//! `clocklab analyze` a row at a time: `--jobs` changes nothing in the output, `events.csv` is
//! written only with `--events`, and the heap the analysis holds at its peak grows neither with
//! the trials of a run nor with the rows of a trial.
//!
//! The heap is measured by this test binary's global allocator ([`support::heap`]), which counts
//! the bytes live on every thread and their peak; the analysis runs in this process through
//! the library (`cli::analyze::command`), the runs it reads are made by the real binary.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use clocklab::cli::args::{AnalyzeArgs, JobsArgs};
use support::{Cmd, TestDir, files_under, heap, only_dir};

#[global_allocator]
static GLOBAL: heap::Counting = heap::Counting;

/// The tests of this file one at a time, so that one's allocations never count in another's peak.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Simulates `trials` trials of `seconds` at rates 50, 100 and 200 (350 rows a second) under
/// `base`, and answers the run directory.
fn simulate(base: &Path, trials: u32, seconds: u32) -> PathBuf {
    let sims = base.join("sims");
    let cmd = Cmd::new("simulate")
        .opt("--trials", trials.to_string())
        .duration(&seconds.to_string())
        .rates("50,100,200")
        .seed(1)
        .out(&sims);
    let (code, output) = cmd.run_to_end("simulate", std::time::Duration::from_secs(600));
    assert_eq!(code, 0, "{output}");
    only_dir(&sims)
}

/// `analyze RUN --out OUT --jobs JOBS [--events]`, in this process; answers the peak of live heap
/// bytes during it, over what was live before.
fn analyze(run: &Path, out: &Path, jobs: usize, events: bool) -> usize {
    let args = AnalyzeArgs {
        dirs: vec![run.to_path_buf()],
        out: Some(out.to_path_buf()),
        label: None,
        include_incomplete: false,
        window: None,
        events,
        jobs: JobsArgs {
            jobs: Some(jobs as u32),
        },
    };
    let (peak, code) = heap::from_here(|| clocklab::cli::analyze::command(&args));
    assert_eq!(
        code.expect("analyze succeeds"),
        std::process::ExitCode::SUCCESS
    );
    peak
}

/// Every file under `dir`, by its path under `dir`, with its bytes.
fn contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = files_under(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).expect("read an output");
            (f, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn jobs_change_nothing_and_events_csv_comes_only_with_events() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let test = TestDir::new("analyze-jobs");
    // More trials than are plotted (5), so that plotted and unplotted trials share the jobs.
    let run = simulate(&test.path, 7, 3);
    let (one, two, with) = (
        test.join("jobs-1"),
        test.join("jobs-2"),
        test.join("events"),
    );
    analyze(&run, &one, 1, false);
    analyze(&run, &two, 2, false);
    let (a, b) = (contents(&one), contents(&two));
    assert!(a.len() > 30, "{} files", a.len());
    let names = |files: &[(PathBuf, Vec<u8>)]| -> Vec<PathBuf> {
        files.iter().map(|f| f.0.clone()).collect()
    };
    assert_eq!(names(&a), names(&b));
    for ((file, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            x == y,
            "{} differs between --jobs 1 and --jobs 2",
            file.display()
        );
    }
    assert!(
        !one.join("events.csv").exists(),
        "events.csv without --events"
    );

    // The same analysis of the run loaded whole, through the library: the same summary.
    let input = clocklab::analysis::load::load_run(&run).expect("the run loads");
    let whole = clocklab::analysis::analyze_run(&input);
    let json = clocklab::report::summary::summary_json(std::slice::from_ref(&whole));
    let written = std::fs::read_to_string(one.join("summary.json")).expect("summary.json");
    assert!(
        json == written,
        "a trial at a time and whole, the summaries differ"
    );

    // With --events: events.csv, a row per log row (and its header), the rest unchanged.
    analyze(&run, &with, 2, true);
    let events = std::fs::read_to_string(with.join("events.csv")).expect("events.csv");
    let rows: usize = files_under(&run)
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "csv"))
        .map(|f| {
            std::fs::read_to_string(run.join(f))
                .expect("a log")
                .lines()
                .count()
                - 1
        })
        .sum();
    assert_eq!(events.lines().count(), rows + 1);
    let mut c = contents(&with);
    c.retain(|(f, _)| f != Path::new("events.csv"));
    assert!(c == a, "--events changed another output");
}

/// The rows of every log of the run in `run`.
fn log_rows(run: &Path) -> u64 {
    files_under(run)
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "csv"))
        .map(|f| {
            let text = std::fs::read_to_string(run.join(f)).expect("a log");
            text.lines().count() as u64 - 1
        })
        .sum()
}

/// The peak heap of `analyze --jobs 1` on `trials` trials of `secs` seconds (simulated under
/// `base`), and the run's rows.
fn peak_of(base: &Path, trials: u32, secs: u32) -> (u64, u64) {
    let run = simulate(base, trials, secs);
    let rows = log_rows(&run);
    let peak = analyze(&run, &base.join("analysis"), 1, false) as u64;
    eprintln!(
        "{trials} trials of {secs} s, {rows} rows: peak heap {peak} bytes ({} a row)",
        peak / rows
    );
    // The run is large: gone as soon as it is measured.
    std::fs::remove_dir_all(base).expect("remove the run");
    (peak, rows)
}

/// The bytes `rows` log rows take as records, every row held at once.
fn held(rows: u64) -> u64 {
    rows * std::mem::size_of::<clocklab::core::event::Record>() as u64
}

#[test]
fn the_heap_grows_with_one_trial_not_with_the_trials() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let test = TestDir::new("analyze-memory");
    // Trials of 60 s at 350 rows a second (21,000 rows); 5 of them (every one plotted), then 30.
    let (few, few_rows) = peak_of(&test.join("few"), 5, 60);
    let (many, many_rows) = peak_of(&test.join("many"), 30, 60);
    assert_eq!(many_rows, 6 * few_rows);
    // Six times the rows, and the peak the same but for each trial's figures.
    assert!(
        many < few + few / 4,
        "peak heap {many} bytes for 30 trials, {few} for 5: it grows with the trials"
    );
    // Less than the rows alone would take, were the run held whole.
    assert!(
        many < held(many_rows),
        "peak heap {many} bytes, over {} for every row held",
        held(many_rows)
    );
}

#[test]
fn the_heap_does_not_grow_with_the_rows_of_a_trial() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let test = TestDir::new("analyze-memory-rows");
    // One trial (plotted, so read twice and drawn) of 60 s, then one of 600 s: ten times the rows.
    let (short, short_rows) = peak_of(&test.join("short"), 1, 60);
    let (long, long_rows) = peak_of(&test.join("long"), 1, 600);
    assert_eq!(long_rows, 10 * short_rows);
    assert!(
        long < short + short / 4,
        "peak heap {long} bytes for {long_rows} rows, {short} for {short_rows}: it grows with the rows"
    );
    assert!(
        long < held(long_rows) / 2,
        "peak heap {long} bytes, over half the {} of every row held",
        held(long_rows)
    );
}

/// One trial of 2.1 M rows (6,000 s at rates 50, 100 and 200): slow in a debug build (about a
/// minute), too slow for `cargo test`'s budget, so `.ci/run` runs it apart:
/// `cargo test --test analyze_stream -- --ignored`.
#[test]
#[ignore = "a minute in a debug build; .ci/run runs it with --ignored"]
fn a_trial_of_two_million_rows_is_analysed_in_a_bounded_heap() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let test = TestDir::new("analyze-memory-2m");
    let (peak, rows) = peak_of(&test.join("run"), 1, 6000);
    assert!(rows > 2_000_000, "{rows} rows");
    // 16 MiB: the logs' read buffers, the messages in flight, the drawings of the trial, and the
    // drift series' 16,384 instants; every row held would take 56 bytes each (112 MiB).
    assert!(
        peak < 16 << 20,
        "peak heap {peak} bytes for {rows} rows, over 16 MiB ({} for every row held)",
        held(rows)
    );
}
