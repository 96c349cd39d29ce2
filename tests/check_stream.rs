//! A trial's logs streamed rather than held: `check` holds a heap that does not grow with the
//! rows, and the analysis's head loader with its streams answers what its whole loader answers.
//!
//! The heap is counted by this test binary's global allocator ([`support::heap`]); the check runs
//! in this process through the library, the trials it reads are made by the real binary.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use clocklab::analysis::TrialInput;
use clocklab::analysis::load::{add_cut_problems, load_trial, load_trial_head};
use clocklab::check::check_trial;
use clocklab::rundir::dirs::trial_dirs;
use clocklab::rundir::log::merge_by_clock;
use support::{Cmd, TestDir, heap, only_dir};

#[global_allocator]
static GLOBAL: heap::Counting = heap::Counting;

/// The tests of this file one at a time, so that one's allocations never count in another's peak.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Simulates `trials` trials of `seconds` at `rates` under `base`, and answers the run
/// directory.
fn simulate(base: &Path, trials: u32, seconds: u32, rates: &str) -> PathBuf {
    let sims = base.join("sims");
    let cmd = Cmd::new("simulate")
        .opt("--trials", trials.to_string())
        .duration(&seconds.to_string())
        .rates(rates)
        .seed(1)
        .out(&sims);
    let (code, output) = cmd.run_to_end("simulate", std::time::Duration::from_secs(600));
    assert_eq!(code, 0, "{output}");
    only_dir(&sims)
}

/// A copy of the trial directory `from` at `to`.
fn copy_trial(from: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    to.to_path_buf()
}

/// The trial of `dir` as its head and streamed rows give it: every row handed to its machine,
/// then the cut-off logs' problems added. An error in the stream is the answer.
fn streamed(dir: &Path, number: u32) -> Result<(TrialInput, Option<String>), String> {
    let head = load_trial_head(dir, number).map_err(String::from)?;
    let (mut trial, record) = (head.trial, head.record);
    assert!(trial.machines.iter().all(|m| m.records.is_empty()));
    let mut rows = merge_by_clock(head.logs);
    for row in rows.by_ref() {
        let row = row.map_err(|e| e.to_string())?;
        let records = &mut trial.machines[row.machine].records;
        assert_eq!(records.len(), row.index, "each log keeps its order");
        records.push(row.record);
    }
    add_cut_problems(&mut trial, &rows.into_sources());
    Ok((trial, record.map(|r| format!("{r:?}"))))
}

/// The trial of `dir` as `load_trial` gives it.
fn whole(dir: &Path, number: u32) -> Result<(TrialInput, Option<String>), String> {
    let (trial, record) = load_trial(dir, number).map_err(String::from)?;
    Ok((trial, record.map(|r| format!("{r:?}"))))
}

/// `check` on the one trial of `run`, in this process: the peak of live heap bytes during it,
/// over what was live before, and the rows it checked.
fn check_peak(run: &Path) -> (usize, u64) {
    let trial = &trial_dirs(run).unwrap()[0];
    let (peak, report) = heap::from_here(|| check_trial(trial));
    assert!(report.passed(), "{report}");
    let rows = report.checked[0]
        .strip_prefix("clock rules on ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{report}"));
    (peak, rows)
}

/// Bytes a row costs when a trial's rows are held (a `Record`).
const HELD_ROW: usize = 56;

#[test]
fn checks_heap_does_not_grow_with_the_rows() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let test = TestDir::new("check-stream-heap");
    // Machines of one rate: their queues stay short however long the trial, so the messages in
    // flight (which check holds, and which run.yaml and the summaries list when they are left
    // unprocessed) do not grow with the rows.
    let short = simulate(&test.path.join("short"), 1, 60, "100,100,100");
    let long = simulate(&test.path.join("long"), 1, 600, "100,100,100");
    let (short_peak, short_rows) = check_peak(&short);
    let (long_peak, long_rows) = check_peak(&long);
    eprintln!(
        "check: {short_rows} rows, peak {short_peak} B; {long_rows} rows, peak {long_peak} B"
    );
    assert_eq!((short_rows, long_rows), (18_000, 180_000));
    // Ten times the rows, the same peak within 64 KiB (a few messages more in flight, findings
    // none), far under what holding the long trial's rows would take.
    assert!(
        long_peak <= short_peak + 64 * 1024,
        "{short_peak} then {long_peak}"
    );
    assert!(
        long_peak < long_rows as usize * HELD_ROW / 10,
        "{long_peak}"
    );
}

/// A bound on check's heap for a trial of 2.1 M rows, a fiftieth of its rows held (it measured
/// 0.5 MB: the readers' buffers, the records, the messages in flight).
const BIG_BOUND: usize = 2 * 1024 * 1024;

#[test]
#[ignore = "simulating and checking 2.1 M rows takes about 25 s in a debug build; .ci/run runs it"]
fn check_of_two_million_rows_stays_under_its_bound() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let test = TestDir::new("check-stream-big");
    let run = simulate(&test.path, 1, 6000, "50,100,200");
    let (peak, rows) = check_peak(&run);
    eprintln!("check: {rows} rows, peak {peak} B");
    assert_eq!(rows, 2_100_000);
    assert!(BIG_BOUND < rows as usize * HELD_ROW / 50);
    assert!(peak < BIG_BOUND, "{peak} B");
}

#[test]
fn a_trials_head_and_its_streamed_rows_are_what_load_trial_answers() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let test = TestDir::new("check-stream-head");
    let run = simulate(&test.path, 2, 2, "50,100,200");
    let trials = trial_dirs(&run).unwrap();
    assert_eq!(trials.len(), 2);
    let simulated = &trials[1];
    let answer = whole(simulated, 2).unwrap();
    assert!(answer.0.machines.iter().all(|m| m.records.len() > 50));
    assert!(answer.0.problems.is_empty(), "{:?}", answer.0.problems);
    assert_eq!(streamed(simulated, 2), Ok(answer));

    // Machine 2 crashed while writing: its last row is cut and it has no summary.
    let cut = copy_trial(simulated, &test.path.join("cut"));
    let log = cut.join("machine-2.csv");
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, &text[..text.len() - 9]).unwrap();
    std::fs::remove_file(cut.join("summary-2.yaml")).unwrap();
    let answer = whole(&cut, 1).unwrap();
    let problems = &answer.0.machines[1].problems;
    assert!(problems[0].contains("was cut off at line"), "{problems:?}");
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(streamed(&cut, 1), Ok(answer));

    // Made by hand: no run.yaml, no router.yaml, so the start is the earliest first row.
    let hand = copy_trial(simulated, &test.path.join("hand"));
    std::fs::remove_file(hand.join("run.yaml")).unwrap();
    std::fs::remove_file(hand.join("router.yaml")).unwrap();
    let answer = whole(&hand, 7).unwrap();
    let earliest = answer
        .0
        .machines
        .iter()
        .map(|m| m.records[0].system_time_us)
        .min();
    assert_eq!((answer.0.trial, Some(answer.0.start_us)), (7, earliest));
    assert_eq!(streamed(&hand, 7), Ok(answer));

    // A bad row in the middle: the stream ends with load_trial's error; a bad header is the
    // head's error.
    let bad = copy_trial(simulated, &test.path.join("bad"));
    let log = bad.join("machine-3.csv");
    let text = std::fs::read_to_string(&log).unwrap();
    let middle = text[..text.len() / 2].rfind('\n').unwrap() + 1;
    std::fs::write(
        &log,
        format!(
            "{}3,inside,1.000000,1,0,,,\n{}",
            &text[..middle],
            &text[middle..]
        ),
    )
    .unwrap();
    let error = whole(&bad, 1).unwrap_err();
    assert!(error.contains("field event: \"inside\""), "{error}");
    assert_eq!(streamed(&bad, 1), Err(error));
    std::fs::write(&log, "time,machine\n").unwrap();
    let error = whole(&bad, 1).unwrap_err();
    assert!(error.contains("is not a machine log header"), "{error}");
    assert_eq!(streamed(&bad, 1), Err(error));
}
