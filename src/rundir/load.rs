//! The one loader of a trial directory: it reads `run.yaml`, `router.yaml`, and each machine's
//! summary and event log into a [`TrialFiles`], and keeps what is wrong with each file beside it,
//! named by file. It judges nothing: `check` and `analysis` decide what a missing or broken file
//! means for them.
//!
//! A log cut off in its last line (its machine crashed while writing) is read strictly first, and
//! then again with [`read_log_whole_lines`] for the rows of its whole lines, so a reader can take
//! either view.
//!
//! [`open_trial_files`] reads the same files but opens each log as a stream ([`OpenLog`], a
//! [`LogRows`] in whole-lines mode) instead of reading its rows, for a reader that takes the
//! rows one at a time and holds none.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use super::log::{
    LogError, LogRows, log_path, machine_of_file_name, read_log, read_log_whole_lines,
};
use super::records::{ClientSummary, RouterStats, RunRecord};
use super::{FileError, ROUTER_STATS_FILE, RUN_FILE, read_yaml, summary_file_name};
use crate::config::MAX_MACHINES;
use crate::core::event::Record;

/// The files of one trial directory, as read; `L` is what is known of each log: its rows
/// ([`LogFile`], from [`load_trial_files`]) or the log opened as a stream ([`OpenLog`], from
/// [`open_trial_files`]).
#[derive(Debug)]
pub struct TrialFiles<L = LogFile> {
    /// The directory.
    pub dir: PathBuf,
    /// `run.yaml`: `None` when there is none.
    pub record: Result<Option<RunRecord>, FileError>,
    /// `router.yaml`: `None` when there is none.
    pub router: Result<Option<RouterStats>, FileError>,
    /// Why the directory could not be listed, if it could not (the machines found otherwise are
    /// still read).
    pub listing: Option<FileError>,
    /// The machines by ascending id: those `run.yaml` and `router.yaml` name, those with a log
    /// in the directory, and those whose logs follow on from machine 1's. Empty when `run.yaml`
    /// says no event logs were written (`simulate --no-logs`): then nothing more is read.
    pub machines: Vec<MachineFiles<L>>,
}

/// The files of one machine of a trial, as read.
#[derive(Debug)]
pub struct MachineFiles<L = LogFile> {
    /// The machine's id.
    pub id: u16,
    /// The path of its summary.
    pub summary_path: PathBuf,
    /// Its summary: `None` when there is none.
    pub summary: Result<Option<ClientSummary>, FileError>,
    /// The path of its event log.
    pub log_path: PathBuf,
    /// Its event log.
    pub log: L,
}

impl MachineFiles {
    /// The cut in its log when the log was damaged after the run: its last line has no newline,
    /// yet its machine wrote its summary, which it does after its last row, and the summary names
    /// no failure of the log. Only a machine that crashed while writing may leave its last row
    /// cut (`check` holds the same rule).
    pub fn log_cut_after_summary(&self) -> Option<CutAfterSummary<'_>> {
        match (&self.log, &self.summary) {
            (LogFile::Cut { cut, .. }, Ok(Some(s))) if s.log_error.is_none() => {
                Some(CutAfterSummary { machine: self, cut })
            }
            _ => None,
        }
    }
}

/// A log cut in its last row although its machine wrote its summary after it
/// ([`MachineFiles::log_cut_after_summary`]): the message says which file, where, and why that
/// cannot come from a run.
#[derive(Debug)]
pub struct CutAfterSummary<'a> {
    /// The machine's files.
    pub machine: &'a MachineFiles,
    /// The cut ([`LogError::Truncated`]).
    pub cut: &'a LogError,
}

impl fmt::Display for CutAfterSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}; but {} says machine {} stopped after its last row, so the log was cut after the \
             run (a partial copy?): only a machine that crashed while writing leaves its last row \
             cut; use a whole copy of the log",
            self.cut,
            self.machine.summary_path.display(),
            self.machine.id
        )
    }
}

impl std::error::Error for CutAfterSummary<'_> {}

/// A machine's event log opened as a stream, not read ([`open_trial_files`]).
#[derive(Debug)]
pub enum OpenLog {
    /// There is no such file: the error that reading it anyway gave.
    Missing(LogError),
    /// The log's rows, in whole-lines mode ([`LogRows::whole_lines`]): a cut-off last line ends
    /// the stream and is kept in [`LogRows::cut`]; any other fault is the stream's last item.
    Rows(Box<LogRows>),
}

/// Whether a machine's log is there, however much of it was read.
pub trait LogPresence {
    /// There is no such file.
    fn is_missing(&self) -> bool;
}

impl LogPresence for LogFile {
    fn is_missing(&self) -> bool {
        matches!(self, LogFile::Missing(_))
    }
}

impl LogPresence for OpenLog {
    fn is_missing(&self) -> bool {
        matches!(self, OpenLog::Missing(_))
    }
}

/// A machine's event log, as read.
#[derive(Debug)]
pub enum LogFile {
    /// There is no such file: the error that reading it anyway gave.
    Missing(LogError),
    /// A valid log, every line whole: its rows.
    Whole(Vec<Record>),
    /// A log whose last line has no newline.
    Cut {
        /// The error reading it strictly gave ([`LogError::Truncated`]).
        cut: LogError,
        /// The rows of its whole lines, or what is wrong with them.
        before: Result<Vec<Record>, LogError>,
    },
    /// Not a valid log, for a reason other than a cut-off last line.
    Bad(LogError),
}

impl<L: LogPresence> TrialFiles<L> {
    /// Its `run.yaml`, if there is one and it reads.
    pub fn run_record(&self) -> Option<&RunRecord> {
        self.record.as_ref().ok().and_then(Option::as_ref)
    }

    /// Whether the trial's event logs were written: false only when `run.yaml` says so.
    pub fn logs_written(&self) -> bool {
        self.run_record().is_none_or(|r| r.logs)
    }

    /// Machine `id`'s files, if the trial has that machine.
    pub fn machine(&self, id: u16) -> Option<&MachineFiles<L>> {
        self.machines
            .binary_search_by_key(&id, |m| m.id)
            .ok()
            .map(|i| &self.machines[i])
    }

    /// The first of its records (`run.yaml`, then `router.yaml`) that is there but does not read
    /// (empty, or not a file of its kind). A missing record is no error here: a trial whose `run`
    /// did not finish has no `run.yaml`, and a router that did not stop in order writes no
    /// `router.yaml` (nor, started by hand, the `run.yaml` it writes beside it).
    pub fn broken_record(&self) -> Option<&FileError> {
        self.record.as_ref().err().or(self.router.as_ref().err())
    }

    /// How many machines, from machine 1 on without a gap, have a log (at most [`MAX_MACHINES`]).
    pub fn consecutive_logs(&self) -> u16 {
        (1..=MAX_MACHINES)
            .take_while(|&id| self.machine(id).is_some_and(|m| !m.log.is_missing()))
            .count() as u16
    }
}

/// Reads the trial directory `dir`, every log whole.
pub fn load_trial_files(dir: &Path) -> TrialFiles {
    load_with(dir, read_machine_log)
}

/// Reads the trial directory `dir` as [`load_trial_files`] does, but opens each log as a stream
/// of its rows instead of reading it: what it holds does not grow with the rows.
pub fn open_trial_files(dir: &Path) -> TrialFiles<OpenLog> {
    load_with(dir, open_machine_log)
}

/// The files of `dir`, each machine's log taken by `log`.
fn load_with<L: LogPresence>(dir: &Path, log: fn(&Path) -> L) -> TrialFiles<L> {
    let record: Result<Option<RunRecord>, FileError> = read_yaml(&dir.join(RUN_FILE));
    let router: Result<Option<RouterStats>, FileError> = read_yaml(&dir.join(ROUTER_STATS_FILE));
    let mut files = TrialFiles {
        dir: dir.to_path_buf(),
        record,
        router,
        listing: None,
        machines: Vec::new(),
    };
    if !files.logs_written() {
        return files;
    }
    let mut ids: BTreeSet<u16> = BTreeSet::new();
    if let Some(r) = files.run_record() {
        ids.extend(r.machines.iter().map(|m| m.id));
    }
    if let Ok(Some(r)) = &files.router {
        ids.extend(1..=r.machines);
    }
    match logs_listed(dir) {
        Ok(listed) => ids.extend(listed),
        Err(e) => files.listing = Some(e),
    }
    ids.extend((1..=MAX_MACHINES).take_while(|&id| log_path(dir, id).exists()));
    files.machines = ids
        .into_iter()
        .map(|id| load_machine(dir, id, log))
        .collect();
    files
}

/// The ids of the machine logs in `dir`.
fn logs_listed(dir: &Path) -> Result<Vec<u16>, FileError> {
    let fail = |e: std::io::Error| FileError {
        path: dir.to_path_buf(),
        problem: format!("cannot read: {e}"),
    };
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        if let Some(id) = entry
            .map_err(fail)?
            .file_name()
            .to_str()
            .and_then(machine_of_file_name)
        {
            ids.push(id);
        }
    }
    Ok(ids)
}

fn load_machine<L>(dir: &Path, id: u16, log: fn(&Path) -> L) -> MachineFiles<L> {
    let summary_path = dir.join(summary_file_name(id));
    let log_path = log_path(dir, id);
    MachineFiles {
        id,
        summary: read_yaml(&summary_path),
        summary_path,
        log: log(&log_path),
        log_path,
    }
}

fn open_machine_log(path: &Path) -> OpenLog {
    if path.exists() {
        OpenLog::Rows(Box::new(LogRows::whole_lines(path)))
    } else {
        // The error reading it gives: the file cannot be opened.
        OpenLog::Missing(read_log(path).err().unwrap_or_else(|| LogError::Io {
            path: path.to_path_buf(),
            source: std::io::ErrorKind::NotFound.into(),
        }))
    }
}

fn read_machine_log(path: &Path) -> LogFile {
    let exists = path.exists();
    match read_log(path) {
        Ok(rows) => LogFile::Whole(rows),
        Err(e) if !exists => LogFile::Missing(e),
        Err(cut @ LogError::Truncated { .. }) => LogFile::Cut {
            cut,
            before: read_log_whole_lines(path).map(|(rows, _)| rows),
        },
        Err(e) => LogFile::Bad(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::core::event::{EventKind, HEADER, format_record};
    use crate::rundir::plan::TrialPlan;
    use crate::rundir::write_yaml_atomically;

    /// A log of machine `id` with `rows` internal events, one a second from 1000 s.
    fn log_text(id: u16, rows: u64) -> String {
        let mut text = format!("{HEADER}\n");
        for k in 1..=rows {
            let rec = Record {
                machine: id,
                event: EventKind::Internal,
                system_time_us: (1000 + k) * 1_000_000,
                logical_clock: k,
                queue_len: 0,
                peer: None,
                msg_clock: None,
                seq: None,
            };
            format_record(&rec, &mut text);
        }
        text
    }

    #[test]
    fn every_file_is_read_and_each_problem_stays_with_its_file() {
        let dir = std::env::temp_dir().join(format!("clocklab-load-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let router = RouterStats {
            machines: 4,
            ..RouterStats::default()
        };
        write_yaml_atomically(&dir.join(ROUTER_STATS_FILE), &router).unwrap();
        // Machine 1 whole, machine 2 cut off in its third row, machine 3 without a log, machine 4
        // with a bad header; machine 2's summary does not parse; machine 6 has only a log.
        std::fs::write(log_path(&dir, 1), log_text(1, 2)).unwrap();
        std::fs::write(log_path(&dir, 2), log_text(2, 2) + "2,internal,1003").unwrap();
        std::fs::write(dir.join(summary_file_name(2)), "a: [").unwrap();
        std::fs::write(log_path(&dir, 4), "not,a,header\n").unwrap();
        std::fs::write(log_path(&dir, 6), log_text(6, 1)).unwrap();

        let files = load_trial_files(&dir);
        assert!(matches!(files.record, Ok(None)));
        assert_eq!(files.router.as_ref().unwrap().as_ref(), Some(&router));
        assert!(files.listing.is_none() && files.logs_written());
        let ids: Vec<u16> = files.machines.iter().map(|m| m.id).collect();
        assert_eq!(ids, [1, 2, 3, 4, 6]);
        assert_eq!(files.consecutive_logs(), 2);
        let m = |id| files.machine(id).unwrap();
        assert!(matches!(&m(1).log, LogFile::Whole(rows) if rows.len() == 2));
        assert!(files.broken_record().is_none());
        // Machine 2's log is cut, but no summary of it reads: it may have crashed while writing.
        assert!(m(2).log_cut_after_summary().is_none());
        assert!(matches!(m(1).summary, Ok(None)));
        match &m(2).log {
            LogFile::Cut { cut, before } => {
                assert_eq!(
                    (cut.path(), cut.line()),
                    (log_path(&dir, 2).as_path(), Some(4))
                );
                assert_eq!(before.as_ref().unwrap().len(), 2);
            }
            other => panic!("{other:?}"),
        }
        let bad = m(2).summary.as_ref().unwrap_err();
        assert_eq!(bad.path, dir.join("summary-2.yaml"));
        assert!(
            bad.problem.starts_with("not a valid file of its kind"),
            "{bad}"
        );
        assert!(matches!(&m(3).log, LogFile::Missing(LogError::Io { .. })));
        assert!(matches!(&m(4).log, LogFile::Bad(LogError::Header { .. })));
        assert!(files.machine(5).is_none());

        // Opened instead of read: the same machines, each log a stream of the same rows.
        let open = open_trial_files(&dir);
        let ids: Vec<u16> = open.machines.iter().map(|m| m.id).collect();
        assert_eq!(
            (ids.as_slice(), open.consecutive_logs()),
            ([1, 2, 3, 4, 6].as_slice(), 2)
        );
        for m in open.machines {
            match (m.id, m.log) {
                (3, OpenLog::Missing(LogError::Io { .. })) => {}
                (1 | 2, OpenLog::Rows(mut rows)) => {
                    let read: Vec<Record> = rows.by_ref().map(Result::unwrap).collect();
                    assert_eq!(read.len(), 2);
                    assert_eq!(
                        rows.cut().and_then(LogError::line),
                        (m.id == 2).then_some(4)
                    );
                }
                (4, OpenLog::Rows(mut rows)) => {
                    assert!(matches!(rows.next(), Some(Err(LogError::Header { .. }))));
                }
                (6, OpenLog::Rows(rows)) => assert_eq!(rows.count(), 1),
                (id, log) => panic!("machine {id}: {log:?}"),
            }
        }

        // A run.yaml that does not parse is kept as an error and hides nothing.
        std::fs::write(dir.join(RUN_FILE), "logs: false").unwrap();
        let files = load_trial_files(&dir);
        assert!(files.record.is_err() && files.logs_written());
        assert_eq!(files.broken_record().unwrap().path, dir.join(RUN_FILE));
        assert_eq!(files.machines.len(), 5);
        // A trial simulated without logs: nothing past run.yaml and router.yaml is read.
        let config = Config::default();
        let record = RunRecord {
            logs: false,
            ..TrialPlan::new(&config, &dir, 1, 1).record(&config)
        };
        write_yaml_atomically(&dir.join(RUN_FILE), &record).unwrap();
        let files = load_trial_files(&dir);
        assert_eq!(files.run_record(), Some(&record));
        assert!(!files.logs_written() && files.machines.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
