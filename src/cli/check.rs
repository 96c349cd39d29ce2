//! `clocklab check RUN_DIR`: checks every trial of a run and prints each verdict.

use std::path::Path;

use crate::check::check_trial;
use crate::rundir::dirs::trial_dirs;

/// `clocklab check DIR`: checks every trial under `dir`, prints the reports, and fails on any
/// violation.
pub fn command(dir: &Path) -> Result<std::process::ExitCode, String> {
    let (mut failed, mut skipped) = (0, 0);
    let trials = trial_dirs(dir)?;
    for trial in &trials {
        let report = check_trial(trial);
        println!("{report}");
        if report.skipped.is_some() {
            skipped += 1;
        } else if !report.passed() {
            failed += 1;
        }
    }
    let checked = trials.len() - skipped;
    let skipped_note = match skipped {
        0 => String::new(),
        n => format!(" ({n} skipped: no event logs)"),
    };
    if failed == 0 {
        println!("all {checked} checked trial(s) passed{skipped_note}");
        Ok(std::process::ExitCode::SUCCESS)
    } else {
        println!("{failed} of {checked} checked trial(s) failed{skipped_note}");
        Ok(std::process::ExitCode::FAILURE)
    }
}
