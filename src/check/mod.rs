//! `clocklab check`: proves from a run's files that every clock rule held and no message was lost.
//!
//! It reads `machine-<id>.csv`, `summary-<id>.yaml` and `router.yaml` (and `run.yaml`, which
//! need not be there but must read when it is) and verifies:
//! 1. each machine's clock rises by exactly 1 on `internal`, `send` and `broadcast`, and becomes
//!    `max(previous, msg_clock) + 1` on `receive`;
//! 2. every received message matches exactly one sent message (same source and seq, same clock,
//!    addressed to the receiver) and none is received twice;
//! 3. for every ordered pair (source, dest): sent = received + left unprocessed + undeliverable
//!    (+ dropped and still held by the fault plan, as `router.yaml` books them; a frame dropped
//!    is a finding unless the plan recorded in `run.yaml` has a partition in `drop` mode);
//! 4. each machine's ticks, with the ones it skipped, are exactly the deadlines of its schedule
//!    (`start + k/rate`, k = 1, 2, ...) up to its stop time: ⌊rate × running time⌋.
//!
//! A machine that did not stop in order (no summary: it crashed or was killed; or a summary saying
//! its connection was lost) cannot vouch for what it received or sent last: into it, received +
//! unprocessed may fall short of what the router delivered; out of it, the router may have had
//! fewer frames than it logged. Those checks become inequalities for that machine, and the report
//! says what was lost.
//!
//! The files are read by [`crate::rundir::load`]; this module turns what it found into a
//! [`Report`], `rules.rs` holds the rules, `stream.rs` applies them to the logs as one stream,
//! and `whole.rs` to the logs' rows held, for the trials the stream cannot judge alone.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::MAX_MACHINES;
use crate::rundir::load::{LogFile, LogPresence, MachineFiles, TrialFiles};
use crate::rundir::records::{ENDED_BY_ROUTER_BYE, RouterStats};
use crate::rundir::{ROUTER_STATS_FILE, RUN_FILE, summary_file_name};

mod rules;
mod stream;
mod whole;

use rules::MachineRows;

/// Ticks a real machine's count may be off from another run's (`tests/run.rs` and
/// `tests/agreement.rs` compare runs with it); `check` itself counts exactly.
pub const TICK_TOLERANCE: u64 = 2;

/// One broken rule, with where it shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The file that shows it.
    pub file: PathBuf,
    /// The line in that file, when there is one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// What checking one trial found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The trial's directory.
    pub dir: PathBuf,
    /// What was checked, one line each, with counts.
    pub checked: Vec<String>,
    /// Where a check had to be weakened, and why.
    pub notes: Vec<String>,
    /// Every broken rule.
    pub violations: Vec<Violation>,
    /// Why nothing could be checked, when nothing could (a run simulated without logs).
    pub skipped: Option<String>,
}

impl Report {
    /// Whether every rule held.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    fn violation(&mut self, file: &Path, line: Option<usize>, message: String) {
        self.violations.push(Violation {
            file: file.to_path_buf(),
            line,
            message,
        });
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "check {}", self.dir.display())?;
        for line in &self.checked {
            writeln!(f, "  checked: {line}")?;
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        for v in &self.violations {
            writeln!(f, "  VIOLATION {v}")?;
        }
        if let Some(why) = &self.skipped {
            write!(f, "  skipped: {why}")
        } else if self.passed() {
            write!(f, "  passed: every rule held")
        } else {
            write!(f, "  FAILED: {} violations", self.violations.len())
        }
    }
}

/// Checks one trial directory. Its logs are streamed (`check::stream`): read once, in one pass merged
/// by logical clock, holding per machine and per message in flight what the rules need rather
/// than the rows. A trial whose logs break a rule in a way that needs more than that (a log that
/// does not read, a message received twice or by a machine it was not sent to, a receive before
/// its send, seqs out of order) is checked again with its rows held (`check::whole`), which gives the
/// same findings in the same order for any trial.
pub fn check_trial(dir: &Path) -> Report {
    stream::check(dir).unwrap_or_else(|| whole::check(dir))
}

/// What `check` works out from a trial's records, before its logs.
struct Start<L> {
    /// The report so far: what is wrong with `run.yaml` and `router.yaml`.
    report: Report,
    /// `router.yaml`, if it reads.
    router: Option<RouterStats>,
    /// How many machines the trial has: as many as `router.yaml` says, or as have logs from
    /// machine 1 on.
    n: u16,
    /// Whether the fault plan may drop frames.
    drops_planned: bool,
    /// The machines checked, by ascending id (those of 1 to `n` with any file).
    machines: Vec<MachineFiles<L>>,
}

/// The trial's records judged: the [`Start`] of its check, or its whole report when it has no
/// logs to check.
fn start<L: LogPresence>(dir: &Path, files: TrialFiles<L>) -> Result<Start<L>, Report> {
    let mut report = Report {
        dir: dir.to_path_buf(),
        ..Report::default()
    };
    if !files.logs_written() {
        report.skipped =
            Some("simulated with --no-logs: there are no event logs to check".to_string());
        return Err(report);
    }
    // A run whose `run` did not finish (or made by hand before the router wrote one) has no
    // run.yaml; one that is there must read.
    if let Err(e) = &files.record {
        report.violation(&e.path, None, e.problem.clone());
    }
    let router_path = dir.join(ROUTER_STATS_FILE);
    let logged = files.consecutive_logs();
    let router = match files.router {
        Ok(Some(stats)) => Some(stats),
        Ok(None) => {
            // The router says BYE to the machines only in an orderly stop, and writes router.yaml
            // after it: a machine that got that BYE shows the file was lost, not the stop.
            let got_bye = files.machines.iter().find_map(|m| match &m.summary {
                Ok(Some(s)) if s.ended == ENDED_BY_ROUTER_BYE => Some(m.id),
                _ => None,
            });
            let problem = match got_bye {
                Some(id) => format!(
                    "missing: router.yaml could not be written (the router stopped in order: \
                     machine {id} got its BYE)"
                ),
                None => "missing: the router did not stop in order".into(),
            };
            report.violation(&router_path, None, problem);
            None
        }
        Err(e) => {
            report.violation(&router_path, None, e.problem);
            None
        }
    };
    let n = match &router {
        Some(r) if r.machines <= MAX_MACHINES => r.machines,
        Some(r) => {
            report.violation(
                &router_path,
                None,
                format!(
                    "machines: {} is more than clocklab runs ({MAX_MACHINES}); the logs present are checked",
                    r.machines,
                ),
            );
            logged
        }
        None => logged,
    };
    // A partition in drop mode in the plan run.yaml records lets the router drop frames; without
    // run.yaml, the router dropped frames only by its own plan.
    let drops_planned = match &files.record {
        Ok(Some(record)) => record
            .config
            .fault_plan(RUN_FILE)
            .is_ok_and(|plan| plan.drops_frames()),
        _ => true,
    };
    // The loader reads every machine up to `n`: those the router names and those with a log.
    let machines = files
        .machines
        .into_iter()
        .filter(|m| (1..=n).contains(&m.id))
        .collect();
    Ok(Start {
        report,
        router,
        n,
        drops_planned,
        machines,
    })
}

/// The rows of machine `m` to check, saying in `report` what is wrong with its files. A machine
/// that stopped in order (it has a summary) must have a whole log; one that did not may have been
/// cut off in its last row, and the whole rows before it still count.
fn machine_rows(report: &mut Report, m: MachineFiles) -> MachineRows {
    let id = m.id;
    let mut summary = m.summary.unwrap_or_else(|e| {
        report.violation(&m.summary_path, None, e.problem);
        None
    });
    // A machine that could not write its log stopped there: its log is what is left of its run,
    // its summary's figures count events the log lost, so it is checked like a machine that did
    // not stop in order, and the one finding is the real cause.
    let log_error = summary.as_ref().and_then(|s| s.log_error.clone());
    if let Some(why) = &log_error {
        report.violation(
            &m.summary_path,
            None,
            format!("machine {id} could not write its log: {why}"),
        );
        summary = None;
    }
    let read = match (&summary, m.log) {
        (None, LogFile::Missing(_)) => {
            report.notes.push(format!(
                "machine {id} has neither a log nor a summary: it never got to its first tick"
            ));
            Ok(Vec::new())
        }
        (None, log) => {
            report.notes.push(if log_error.is_some() {
                format!(
                    "machine {id} stopped when its log failed: its rows are checked, what its \
                     queue held at the end and its tick count are not"
                )
            } else {
                format!(
                    "machine {id} has no {}: it did not stop in order, so what its queue held at \
                     the end is unknown and its tick count is not checked",
                    summary_file_name(id)
                )
            });
            match log {
                LogFile::Whole(rows) => Ok(rows),
                LogFile::Cut { cut, before } => before.inspect(|_| {
                    report
                        .notes
                        .push(format!("{cut}; the rows before it are checked"));
                }),
                LogFile::Missing(e) | LogFile::Bad(e) => Err(e),
            }
        }
        (Some(_), LogFile::Whole(rows)) => Ok(rows),
        (Some(_), LogFile::Missing(e) | LogFile::Bad(e) | LogFile::Cut { cut: e, .. }) => Err(e),
    };
    let rows = read.unwrap_or_else(|e| {
        report.violation(&m.log_path, None, e.to_string());
        Vec::new()
    });
    MachineRows {
        id,
        path: m.log_path,
        rows,
        summary,
    }
}

#[cfg(test)]
mod tests;
