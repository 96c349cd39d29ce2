//! A trial's logs streamed rather than held: the analysis's head loader with its streams answers
//! what its whole loader answers.

mod support;

use std::path::{Path, PathBuf};

use clocklab::analysis::TrialInput;
use clocklab::analysis::load::{add_cut_problems, load_trial, load_trial_head};
use clocklab::rundir::dirs::trial_dirs;
use clocklab::rundir::log::merge_by_clock;
use support::{Cmd, TestDir, only_dir};

/// Simulates `trials` trials of `seconds` at rates 50, 100 and 200 under `base`, and answers the
/// run directory.
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

#[test]
fn a_trials_head_and_its_streamed_rows_are_what_load_trial_answers() {
    let test = TestDir::new("check-stream-head");
    let run = simulate(&test.path, 2, 2);
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
