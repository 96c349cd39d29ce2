//! Turning run directories into the analysis's inputs: the only part of the analysis that touches
//! files, and only through [`crate::rundir::load`], which reads the machine logs, and `run.yaml`,
//! `router.yaml` and the summaries when they are there. It works from the files alone (no path
//! recorded inside them is followed).
//!
//! A directory that is not a run, a missing or unreadable log, or a file that does not parse is an
//! error naming the file. What a crash leaves behind (no summary, no `router.yaml`, no `run.yaml`,
//! a log whose last line was cut off) is not an error: the trial is loaded with a problem saying
//! so, and the rows of a cut-off log up to its last whole line are kept.

use std::path::{Path, PathBuf};

use super::{MachineInput, RunHead, RunInput, TrialAnalysis, TrialInput};
use crate::config::{Config, Rates};
use crate::core::event::Record;
use crate::rundir::dirs::trial_dirs;
use crate::rundir::load::{LogFile, OpenLog, TrialFiles, load_trial_files, open_trial_files};
use crate::rundir::log::{LogError, LogRows};
use crate::rundir::records::{ClientSummary, RouterStats, RunRecord};
use crate::rundir::{DirError, FileError, ROUTER_STATS_FILE, RUN_FILE, summary_file_name};

/// Why a run or a trial could not be loaded for analysis. Each names the directory or file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The run directory is not a run, or cannot be listed.
    #[error(transparent)]
    Dir(#[from] DirError),
    /// A file of the trial (`run.yaml`, `router.yaml`, a summary), or its listing, cannot be read.
    #[error(transparent)]
    File(#[from] FileError),
    /// A machine's event log is not a valid log.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The trial was simulated without event logs.
    #[error(
        "{dir}: simulated with --no-logs, so it has no event logs to analyze (its machines' \
         summaries are in summary-<id>.yaml); simulate it again without --no-logs"
    )]
    NoLogsWritten {
        /// The trial directory.
        dir: PathBuf,
    },
    /// The directory holds no machine log at all.
    #[error("{dir}: holds no machine logs (machine-<id>.csv): not a trial of a run")]
    NoMachineLogs {
        /// The trial directory.
        dir: PathBuf,
    },
    /// A machine the trial has (by `run.yaml`, `router.yaml` or its neighbours) has no log.
    #[error("{path}: missing: the trial has machine {id} but not its log")]
    MissingLog {
        /// Where its log should be.
        path: PathBuf,
        /// The machine.
        id: u16,
    },
}

impl From<LoadError> for String {
    fn from(e: LoadError) -> String {
        e.to_string()
    }
}

/// Loads every trial of the run (or multi-trial run) directory `dir`. This holds every row of
/// every trial at once; [`run_head`] and [`load_trial`] let a caller take one trial at a time.
pub fn load_run(dir: &Path) -> Result<RunInput, LoadError> {
    let trial_paths = trial_dirs(dir)?;
    let mut trials = Vec::with_capacity(trial_paths.len());
    let mut first_record = None;
    for (k, path) in trial_paths.iter().enumerate() {
        let (trial, record) = load_trial(path, k as u32 + 1)?;
        if first_record.is_none() {
            first_record = record;
        }
        trials.push(trial);
    }
    let head = run_head(dir, first_record.as_ref(), trials.len());
    Ok(RunInput {
        dir: head.dir,
        label: head.label,
        scenario: head.scenario,
        parameters: head.parameters,
        trials,
    })
}

/// What names the run in `dir` apart from its trials: its label (the directory's last
/// component), and its scenario and parameters from `record`, the `run.yaml` of its first trial
/// that has one, for a run of `trials` trials.
pub fn run_head(dir: &Path, record: Option<&RunRecord>, trials: usize) -> RunHead {
    let label = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| dir.display().to_string());
    let (scenario, parameters) = match record {
        Some(r) => (scenario(&r.config), parameters(r, trials)),
        None => (
            "unknown (no run.yaml)".to_owned(),
            vec![("trials".to_owned(), trials.to_string())],
        ),
    };
    RunHead {
        dir: dir.display().to_string(),
        label,
        scenario,
        parameters,
    }
}

/// A label for each run directory: the shortest end of its path (after resolving `.` and links)
/// that no other directory's path ends with, such as `a/run` and `b/run` for `logs/a/run` and
/// `logs/b/run`, never a path cut in the middle. Directories given twice get their whole path.
pub fn suffix_labels(dirs: &[PathBuf]) -> Vec<String> {
    let parts: Vec<Vec<String>> = dirs
        .iter()
        .map(|d| {
            let path = d.canonicalize().unwrap_or_else(|_| d.clone());
            path.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .collect();
    let tail = |p: &[String], k: usize| p[p.len().saturating_sub(k)..].join("/");
    parts
        .iter()
        .enumerate()
        .map(|(i, mine)| {
            (1..=mine.len())
                .find_map(|k| {
                    let label = tail(mine, k);
                    let unique = parts
                        .iter()
                        .enumerate()
                        .all(|(j, other)| j == i || tail(other, k) != label);
                    unique.then_some(label)
                })
                .unwrap_or_else(|| dirs[i].display().to_string())
        })
        .collect()
}

/// The scenario in a few words: machines, rates and action range.
pub fn scenario(config: &Config) -> String {
    let m = &config.machines;
    let rates = match &m.rates {
        Rates::Random => format!("random {}-{}", m.random_rates.min, m.random_rates.max),
        Rates::List(list) => list
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("/"),
    };
    format!("N={} rates {rates} R={}", m.count, m.action_range)
}

fn parameters(r: &RunRecord, trials: usize) -> Vec<(String, String)> {
    let c = &r.config;
    let trials_text = if trials == r.trials as usize {
        trials.to_string()
    } else {
        format!("{trials} (run.yaml says {})", r.trials)
    };
    let p = vec![
        ("clocklab version", r.clocklab_version.clone()),
        ("simulated", r.simulated.to_string()),
        ("master seed", r.master_seed.to_string()),
        ("trials", trials_text),
        ("duration (s)", r.duration.to_string()),
        ("machines", c.machines.count.to_string()),
        ("rates (ticks/s)", scenario_rates(c)),
        ("action range R", c.machines.action_range.to_string()),
    ];
    p.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn scenario_rates(c: &Config) -> String {
    match &c.machines.rates {
        Rates::Random => format!(
            "random whole numbers {} to {}, drawn per trial",
            c.machines.random_rates.min, c.machines.random_rates.max
        ),
        Rates::List(list) => list
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Loads one trial directory; `default_number` numbers it when it has no `run.yaml`. Also answers
/// its `run.yaml`, if any.
pub fn load_trial(
    dir: &Path,
    default_number: u32,
) -> Result<(TrialInput, Option<RunRecord>), LoadError> {
    trial_from_files(load_trial_files(dir), default_number)
}

/// The trial of the files the loader read, as [`load_trial`] answers it (for a caller that
/// looks at the files first).
pub fn trial_from_files(
    files: TrialFiles,
    default_number: u32,
) -> Result<(TrialInput, Option<RunRecord>), LoadError> {
    let (trial, record, _) = trial_with(files, default_number, whole_rows)?;
    Ok((trial, record))
}

/// A trial loaded without its rows ([`load_trial_head`]): what [`load_trial`] answers, with every
/// machine's `records` empty, and beside it the machines' logs as streams, in the same order.
#[derive(Debug)]
pub struct TrialHead {
    /// The trial, every machine's `records` empty; a log cut off in its last line is not yet
    /// among its problems ([`add_cut_problems`] adds it once the rows have been streamed).
    pub trial: TrialInput,
    /// Its `run.yaml`, if any.
    pub record: Option<RunRecord>,
    /// Per machine of `trial.machines`, its log's rows, in whole-lines mode; each stream's first
    /// row has been read ahead (it still yields it).
    pub logs: Vec<LogRows>,
}

/// Loads one trial directory as [`load_trial`] does, but without its rows: each log is opened
/// and its first row read ahead (for `start_us`, which falls back to the earliest first row), so
/// what it holds does not grow with the rows. A log missing, or bad in its header or first row,
/// is the same error as [`load_trial`]'s; an error further on is met by the stream, which yields
/// it and ends there.
pub fn load_trial_head(dir: &Path, default_number: u32) -> Result<TrialHead, LoadError> {
    let (trial, record, logs) = trial_with(open_trial_files(dir), default_number, open_rows)?;
    Ok(TrialHead {
        trial,
        record,
        logs,
    })
}

/// Adds to `trial`'s machines, once their `logs` (as [`TrialHead::logs`], in the same order) have
/// been streamed, the problem [`load_trial`] gives a log cut off in its last line, first among the
/// machine's problems as there.
pub fn add_cut_problems(trial: &mut TrialInput, logs: &[LogRows]) {
    for (m, log) in trial.machines.iter_mut().zip(logs) {
        if let Some(LogError::Truncated { line, .. }) = log.cut() {
            m.problems.insert(0, cut_problem(log.path(), *line));
        }
    }
}

/// Every figure of the trial in `dir` from one pass over its logs ([`load_trial_head`], then
/// [`analyze_rows`](super::stream::analyze_rows)), holding none of its rows: the figures, the
/// trial without its rows (its problems complete) and its `run.yaml`. A log that goes bad part way
/// is the error.
pub fn analyze_trial_dir(
    dir: &Path,
    default_number: u32,
) -> Result<(TrialAnalysis, TrialInput, Option<RunRecord>), LoadError> {
    let mut head = load_trial_head(dir, default_number)?;
    let logs = head.logs.iter_mut().collect();
    let mut analysis = super::stream::analyze_rows(&head.trial, logs, None, &mut ())?.analysis;
    add_cut_problems(&mut head.trial, &head.logs);
    for (a, m) in analysis.machines.iter_mut().zip(&head.trial.machines) {
        a.problems.clone_from(&m.problems);
    }
    Ok((analysis, head.trial, head.record))
}

/// What a log cut off at `line` means for the analysis.
fn cut_problem(path: &Path, line: u64) -> String {
    format!(
        "{} was cut off at line {line} (a crash while writing?): the rows before it are analysed",
        path.display()
    )
}

/// What a machine's log gives its input: its rows (or none yet, and the stream), a problem with
/// it, and the time of its first row.
struct Rows {
    records: Vec<Record>,
    problem: Option<String>,
    first_us: Option<u64>,
    stream: Option<LogRows>,
}

/// The rows of a log read whole: those of its whole lines when a crash cut it off.
fn whole_rows(id: u16, path: &Path, log: LogFile) -> Result<Rows, LoadError> {
    let mut problem = None;
    let records = match log {
        LogFile::Missing(_) => {
            return Err(LoadError::MissingLog {
                path: path.to_path_buf(),
                id,
            });
        }
        LogFile::Whole(rows) => rows,
        LogFile::Cut { cut, before } => {
            let rows = before?;
            if let LogError::Truncated { line, .. } = cut {
                problem = Some(cut_problem(path, line));
            }
            rows
        }
        LogFile::Bad(e) => return Err(e.into()),
    };
    Ok(Rows {
        first_us: records.first().map(|r| r.system_time_us),
        records,
        problem,
        stream: None,
    })
}

/// A log opened as a stream, its first row read ahead; an error before it is the log's error.
fn open_rows(id: u16, path: &Path, log: OpenLog) -> Result<Rows, LoadError> {
    let mut rows = match log {
        OpenLog::Missing(_) => {
            return Err(LoadError::MissingLog {
                path: path.to_path_buf(),
                id,
            });
        }
        OpenLog::Rows(rows) => *rows,
    };
    if matches!(rows.peek(), Some(Err(_))) {
        if let Some(Err(e)) = rows.next() {
            return Err(e.into());
        }
    }
    Ok(Rows {
        records: Vec::new(),
        problem: None,
        first_us: rows.peek().and_then(Result::ok).map(|r| r.system_time_us),
        stream: Some(rows),
    })
}

/// The trial of `files`, each machine's log taken by `rows_of`; with its `run.yaml` and the
/// streams `rows_of` kept.
fn trial_with<L>(
    files: TrialFiles<L>,
    default_number: u32,
    rows_of: fn(u16, &Path, L) -> Result<Rows, LoadError>,
) -> Result<(TrialInput, Option<RunRecord>, Vec<LogRows>), LoadError> {
    let dir = files.dir.clone();
    let record = files.record?;
    let router = files.router?;
    if record.as_ref().is_some_and(|r| !r.logs) {
        return Err(LoadError::NoLogsWritten {
            dir: dir.to_path_buf(),
        });
    }
    let mut problems = Vec::new();
    match &record {
        None => problems.push(format!(
            "no {RUN_FILE}: the trial's parameters are unknown (`run`, or a router started by \
             hand, did not finish)"
        )),
        Some(r) if r.interrupted => {
            problems.push("interrupted: Ctrl-C or SIGTERM cut the trial short".to_owned());
        }
        Some(_) => {}
    }
    if router.is_none() {
        problems.push(format!(
            "no {ROUTER_STATS_FILE}: the router did not stop in order"
        ));
    }
    if let Some(e) = files.listing {
        return Err(e.into());
    }
    if files.machines.is_empty() {
        return Err(LoadError::NoMachineLogs {
            dir: dir.to_path_buf(),
        });
    }
    let mut machines = Vec::with_capacity(files.machines.len());
    let mut streams = Vec::new();
    let mut earliest_row: Option<u64> = None;
    for m in files.machines {
        let rows = rows_of(m.id, &m.log_path, m.log)?;
        earliest_row = earliest_row.into_iter().chain(rows.first_us).min();
        streams.extend(rows.stream);
        let log = (rows.records, rows.problem.into_iter().collect());
        machines.push(load_machine(
            m.id,
            log,
            m.summary,
            record.as_ref(),
            router.as_ref(),
        )?);
    }
    // The clocks that stamped the rows, from the recorded fault plan.
    match record.as_ref().map(RunRecord::clock_skews) {
        Some(Ok(clocks)) => {
            for m in &mut machines {
                m.clock = clocks
                    .get(usize::from(m.id).wrapping_sub(1))
                    .copied()
                    .unwrap_or_default();
            }
        }
        Some(Err(e)) => problems.push(format!("{e}: the rows' times are taken as real times")),
        None => {}
    }
    // The plan's windows, for the weather figures (a plan that does not check is a problem above).
    let faults = record
        .as_ref()
        .and_then(|r| r.config.fault_plan(RUN_FILE).ok())
        .map(|plan| plan.faults)
        .unwrap_or_default();
    let start_ns = record
        .as_ref()
        .and_then(|r| r.start_time_ns)
        .or(router.as_ref().and_then(|r| r.start_time_ns));
    let trial = TrialInput {
        trial: record.as_ref().map_or(default_number, |r| r.trial),
        dir: dir.display().to_string(),
        seed: record.as_ref().map(|r| r.seed),
        start_us: start_ns.map(|ns| ns / 1000).or(earliest_row).unwrap_or(0),
        machines,
        problems,
        faults,
    };
    Ok((trial, record, streams))
}

/// One machine's input: its rows (those of its whole lines when a crash cut its log off, or
/// none yet when it streams), its log's `problems`, and its name from `run.yaml`, its summary or
/// `router.yaml`, and its rate from its summary or `run.yaml`.
fn load_machine(
    id: u16,
    (records, mut problems): (Vec<Record>, Vec<String>),
    summary: Result<Option<ClientSummary>, FileError>,
    record: Option<&RunRecord>,
    router: Option<&RouterStats>,
) -> Result<MachineInput, LoadError> {
    let summary: Option<ClientSummary> = summary?;
    match &summary {
        None => problems.push(format!(
            "no {}: the machine did not stop in order (crashed or killed)",
            summary_file_name(id)
        )),
        Some(s) if !s.orderly => problems.push(format!("did not end in order: {}", s.ended)),
        Some(_) => {}
    }
    let in_record = record.and_then(|r| r.machines.iter().find(|m| m.id == id));
    let name = in_record
        .map(|m| m.name.clone())
        .or(summary.as_ref().map(|s| s.name.clone()))
        .or_else(|| {
            let index = usize::from(id).checked_sub(1)?;
            router.and_then(|r| r.names.get(index).cloned())
        });
    // The machine's own account first: a machine started by hand may have had its own --rate.
    let rate = summary
        .as_ref()
        .map(|s| s.rate)
        .or(in_record.map(|m| m.rate));
    Ok(MachineInput {
        id,
        name,
        rate,
        records,
        queue_peak: summary.as_ref().map(|s| s.queue_peak),
        timing: summary.as_ref().map(|s| super::TickTiming {
            lateness_us: s.tick_lateness_us,
            late_over_one_period: s.ticks_late_over_one_period,
            skipped: s.ticks_skipped,
            hop_latency_us: s.hop_latency_us,
        }),
        clock: Default::default(),
        problems,
    })
}

#[cfg(test)]
mod tests;
