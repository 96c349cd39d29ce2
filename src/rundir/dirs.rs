//! Where a run's directories are: the new run directory's name and creation, each trial's directory
//! and seed, and the trial directories found under a run directory.

use std::path::{Path, PathBuf};

use super::log::log_path;
use super::{DirError, ROUTER_STATS_FILE, prepare_dir, trial_dir_name, trial_number};
use crate::core::seed::{self, Stream};

/// `YYYYMMDDTHHMMSSZ` for a time in seconds since the UNIX epoch (UTC), so run directories sort by
/// time.
pub fn utc_stamp(unix_secs: u64) -> String {
    let ((year, month, day), (h, m, s)) = civil(unix_secs);
    format!("{year:04}{month:02}{day:02}T{h:02}{m:02}{s:02}Z")
}

/// A time in nanoseconds since the UNIX epoch as people read it, to the millisecond:
/// `2026-12-02 01:50:12.345 UTC`.
pub fn utc_human(unix_ns: u64) -> String {
    let ((year, month, day), (h, m, s)) = civil(unix_ns / 1_000_000_000);
    let ms = unix_ns % 1_000_000_000 / 1_000_000;
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02}.{ms:03} UTC")
}

/// The name of a run started by hand (`server` and `client` without `--run-dir`/`--log-dir`):
/// `<utc_stamp of the start time>-seed-<seed>`, as `run` names its runs. Both halves come in
/// WELCOME, so the router and every machine, on any host, pick the same name with nothing else
/// shared, and each run gets a new one.
pub fn manual_run_dir_name(start_time_ns: u64, seed: u64) -> String {
    format!("{}-seed-{seed}", utc_stamp(start_time_ns / 1_000_000_000))
}

/// The civil date and time of day (UTC) of a time in seconds since the UNIX epoch.
fn civil(unix_secs: u64) -> ((i64, i64, i64), (u64, u64, u64)) {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    // Civil date from a day count (the proleptic Gregorian calendar, era-based).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    ((year, month, day), (rem / 3600, rem % 3600 / 60, rem % 60))
}

/// Creates a new directory `base` under `parent` (`base-2`, `base-3`, ... if it is taken: two runs
/// with the same seed in the same second never share a directory).
pub fn create_run_dir(parent: &Path, base: &str) -> Result<PathBuf, DirError> {
    prepare_dir(parent)?;
    for n in 1..1000 {
        let dir = match n {
            1 => parent.join(base),
            _ => parent.join(format!("{base}-{n}")),
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(source) => return Err(DirError::CreateRun { dir, source }),
        }
    }
    Err(DirError::TooManyRuns {
        parent: parent.to_path_buf(),
        base: base.to_owned(),
    })
}

/// Trial `k` of `trials`: its directory (the run directory itself for a one-trial run, else
/// `trial-<k>` inside it) and its seed (the master seed for a one-trial run, else derived from it).
pub fn trial_dir_and_seed(run_dir: &Path, master: u64, k: u32, trials: u32) -> (PathBuf, u64) {
    if trials == 1 {
        (run_dir.to_path_buf(), master)
    } else {
        (
            run_dir.join(trial_dir_name(k)),
            seed::derive(master, Stream::Trial(k)),
        )
    }
}

/// The trial directories under `dir`: `dir` itself when it holds logs, else its `trial-*`
/// subdirectories in trial order.
pub fn trial_dirs(dir: &Path) -> Result<Vec<PathBuf>, DirError> {
    if is_trial(dir) {
        return Ok(vec![dir.to_path_buf()]);
    }
    let trials = numbered_trials(dir)?;
    if trials.is_empty() {
        // An experiment's directory, or a log directory: name the runs inside, sorted.
        let mut runs: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|source| DirError::Unreadable {
                dir: dir.to_path_buf(),
                source,
            })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| is_trial(p) || numbered_trials(p).is_ok_and(|t| !t.is_empty()))
            .collect();
        runs.sort();
        return Err(DirError::NotARun {
            dir: dir.to_path_buf(),
            runs,
        });
    }
    Ok(trials)
}

/// Whether `dir` holds one trial: its router.yaml or machine 1's log.
fn is_trial(dir: &Path) -> bool {
    dir.join(ROUTER_STATS_FILE).exists() || log_path(dir, 1).exists()
}

/// The `trial-*` subdirectories of `dir`, in trial order.
fn numbered_trials(dir: &Path) -> Result<Vec<PathBuf>, DirError> {
    let entries = std::fs::read_dir(dir).map_err(|source| DirError::Unreadable {
        dir: dir.to_path_buf(),
        source,
    })?;
    let mut trials: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let k = trial_number(&name)?;
            Some((k, e.path()))
        })
        .collect();
    trials.sort();
    Ok(trials.into_iter().map(|(_, p)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_stamps_are_calendar_dates() {
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        assert_eq!(utc_stamp(951_782_400), "20000229T000000Z");
        assert_eq!(utc_stamp(1_764_096_000), "20251125T184000Z");
        assert_eq!(utc_stamp(1_798_761_599), "20261231T235959Z");
        assert_eq!(
            utc_human(1_798_761_599_123_456_789),
            "2026-12-31 23:59:59.123 UTC"
        );
    }

    #[test]
    fn a_manual_run_is_named_by_its_start_and_seed_like_run() {
        let name = manual_run_dir_name(1_764_096_000_999_000_000, 42);
        assert_eq!(name, "20251125T184000Z-seed-42");
        assert_ne!(name, manual_run_dir_name(1_764_096_000_999_000_000, 43));
    }

    #[test]
    fn a_directory_that_is_not_a_run_is_refused() {
        let dir = std::env::temp_dir().join(format!("clocklab-dirs-{}-empty", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = trial_dirs(&dir).unwrap_err();
        assert!(
            matches!(&err, DirError::NotARun { dir: d, runs } if *d == dir && runs.is_empty()),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{} is not a run directory: it holds neither router.yaml, machine logs, nor \
                 trial-* directories",
                dir.display()
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn one_trial_is_the_run_directory_and_more_are_numbered_with_derived_seeds() {
        let run = Path::new("runs/x");
        assert_eq!(trial_dir_and_seed(run, 7, 1, 1), (run.to_path_buf(), 7));
        assert_eq!(
            trial_dir_and_seed(run, 7, 2, 3),
            (run.join("trial-2"), seed::derive(7, Stream::Trial(2)))
        );
    }
}
