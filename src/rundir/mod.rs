//! Every file a run writes or reads, defined once: the names of its files, the run and trial
//! directories ([`dirs`]), what a trial is before it runs ([`plan`]), the YAML records
//! ([`records`]), the event logs ([`log`]), the one loader of a trial ([`load`]), and the record of
//! a shard of a run ([`shard`]).
//! docs/LOGS.md describes the files.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

pub mod dirs;
pub mod load;
pub mod log;
pub mod plan;
pub mod records;
pub mod shard;

/// The router's statistics.
pub const ROUTER_STATS_FILE: &str = "router.yaml";
/// A trial's record.
pub const RUN_FILE: &str = "run.yaml";

/// The directory of trial `k` in a run of several trials.
pub fn trial_dir_name(k: u32) -> String {
    format!("trial-{k}")
}

/// The trial number a directory name stands for (`trial-3` is 3).
pub fn trial_number(name: &str) -> Option<u32> {
    let k: u32 = name.strip_prefix("trial-")?.parse().ok()?;
    (trial_dir_name(k) == name).then_some(k)
}

/// Whether `name` is one of the files a run writes besides the logs: the summaries, the router's
/// statistics, the trial record.
pub fn is_run_file(name: &str) -> bool {
    name == ROUTER_STATS_FILE
        || name == RUN_FILE
        || name
            .strip_prefix("summary-")
            .and_then(|rest| rest.strip_suffix(".yaml"))
            .and_then(|id| id.parse::<u16>().ok())
            .is_some_and(|id| summary_file_name(id) == name)
}

/// The file name of machine `id`'s summary.
pub fn summary_file_name(id: u16) -> String {
    format!("summary-{id}.yaml")
}

/// Writes `value` as YAML to `path` through a temporary file and a rename, so readers never see a
/// partial file. Errors name the file; on an error the temporary file is removed, so none stays
/// behind (on a full disk, say).
pub fn write_yaml_atomically<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let named = |p: &Path, e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", p.display()));
    let text = serde_yaml::to_string(value).map_err(|e| named(path, io::Error::other(e)))?;
    let tmp = path.with_extension("yaml.tmp");
    let written = std::fs::write(&tmp, text)
        .map_err(|e| named(&tmp, e))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| named(path, e)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Room kept on the disk for a process's last files. Each process of a run (the router, every
/// machine) fills a small file of its own when it starts and removes it just before it writes its
/// summary, so on a disk that filled up during the run the summary still has room to say why the
/// run ended (a machine that could not write its log says so in its summary). The file is removed
/// when the reserve is released or dropped.
#[derive(Debug)]
pub struct SpaceReserve {
    path: Option<PathBuf>,
}

impl SpaceReserve {
    /// Bytes a reserve holds: several times the largest summary a process writes, and its
    /// temporary copy.
    pub const BYTES: usize = 64 * 1024;

    /// Fills `dir/.clocklab-reserve-<pid>` with [`SpaceReserve::BYTES`] bytes. A reserve that
    /// cannot be made (the disk is already full) is an error naming the file, and leaves no file.
    pub fn create(dir: &Path) -> io::Result<SpaceReserve> {
        Self::create_at(dir.join(format!(".clocklab-reserve-{}", std::process::id())))
    }

    /// [`SpaceReserve::create`] for machine `id` of a client process that carries several:
    /// `dir/.clocklab-reserve-<pid>-<id>`, a reserve of its own, so that one machine's summary
    /// never takes another's room.
    pub fn for_machine(dir: &Path, id: u16) -> io::Result<SpaceReserve> {
        Self::create_at(dir.join(format!(".clocklab-reserve-{}-{id}", std::process::id())))
    }

    fn create_at(path: PathBuf) -> io::Result<SpaceReserve> {
        if let Err(e) = std::fs::write(&path, vec![0u8; Self::BYTES]) {
            let _ = std::fs::remove_file(&path);
            return Err(io::Error::new(
                e.kind(),
                format!(
                    "{}: cannot reserve room for the summary: {e}",
                    path.display()
                ),
            ));
        }
        Ok(SpaceReserve { path: Some(path) })
    }

    /// Whether `name` is a reserve file (`.clocklab-reserve-<pid>` or
    /// `.clocklab-reserve-<pid>-<id>`), which a run directory may hold while the run is on.
    pub fn is_reserve_file(name: &str) -> bool {
        let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        name.strip_prefix(".clocklab-reserve-")
            .is_some_and(|rest| match rest.split_once('-') {
                Some((pid, id)) => number(pid) && number(id),
                None => number(rest),
            })
    }

    /// Removes the file, giving its room back for the summary about to be written.
    pub fn release(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for SpaceReserve {
    fn drop(&mut self) {
        self.release();
    }
}

/// A file of a run directory that cannot be read, or is not a file of its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for FileError {}

impl From<FileError> for String {
    fn from(e: FileError) -> String {
        e.to_string()
    }
}

/// Reads a YAML file of type `T`: `None` when it does not exist.
pub fn read_yaml<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, FileError> {
    let fail = |problem: String| FileError {
        path: path.to_path_buf(),
        problem,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(format!("cannot read: {e}"))),
    };
    if text.trim().is_empty() {
        return Err(fail(
            "empty: not a file of its kind (clocklab writes its records whole, through a rename, \
             so a record is never empty unless something emptied it after)"
                .to_string(),
        ));
    }
    serde_yaml::from_str(&text)
        .map(Some)
        .map_err(|e| fail(format!("not a valid file of its kind: {e}")))
}

/// Why a run directory could not be made ready, or could not be read as a run.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// The directory (or one of its parents) could not be created.
    #[error("cannot create the directory {dir}: {source}")]
    Create {
        /// The directory.
        dir: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// A file could not be written in the directory.
    #[error("cannot write in {dir}: {source}")]
    NotWritable {
        /// The directory.
        dir: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// The directory already holds a file of another run.
    #[error(
        "{dir} already holds the files of another run ({file}); choose a new directory or remove \
         them"
    )]
    Used {
        /// The directory.
        dir: PathBuf,
        /// The first file of another run found in it.
        file: String,
    },
    /// A new run directory could not be created.
    #[error("cannot create {dir}: {source}")]
    CreateRun {
        /// The run directory.
        dir: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// Every numbered variant of a run directory's name is taken.
    #[error("{parent} holds too many runs named {base}")]
    TooManyRuns {
        /// The directory the run would go in.
        parent: PathBuf,
        /// The run's name.
        base: String,
    },
    /// The directory could not be listed.
    #[error("cannot read {dir}: {source}")]
    Unreadable {
        /// The directory.
        dir: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// The directory is neither a trial nor a run of trials.
    #[error("{dir} is not a run directory: it holds neither {file}, machine logs, nor \
         trial-* directories{inside}", file = ROUTER_STATS_FILE, inside = runs_inside(.runs))]
    NotARun {
        /// The directory.
        dir: PathBuf,
        /// The run directories directly inside it (an experiment's scenarios, a log directory's
        /// runs), by name.
        runs: Vec<PathBuf>,
    },
}

/// The most run directories a [`DirError::NotARun`] names.
const RUNS_NAMED: usize = 5;

/// `; it holds N run directories: A, B, ...; give one of them` for [`DirError::NotARun`], or
/// nothing when there are none.
fn runs_inside(runs: &[PathBuf]) -> String {
    if runs.is_empty() {
        return String::new();
    }
    let mut names: Vec<String> = runs
        .iter()
        .take(RUNS_NAMED)
        .map(|r| r.display().to_string())
        .collect();
    if runs.len() > RUNS_NAMED {
        names.push(format!("and {} more", runs.len() - RUNS_NAMED));
    }
    let holds = match runs.len() {
        1 => "1 run directory".to_string(),
        n => format!("{n} run directories"),
    };
    format!("; it holds {holds}: {}; give one of them", names.join(", "))
}

impl From<DirError> for String {
    fn from(e: DirError) -> String {
        e.to_string()
    }
}

/// Creates `dir` (and its parents) and checks that files can be written there.
pub fn prepare_dir(dir: &Path) -> Result<(), DirError> {
    std::fs::create_dir_all(dir).map_err(|source| DirError::Create {
        dir: dir.to_path_buf(),
        source,
    })?;
    // One probe per process: the router and every machine of a run prepare the same directory at
    // once, and a shared name lets one process remove another's probe before it does.
    let probe = dir.join(format!(".clocklab-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|source| DirError::NotWritable {
            dir: dir.to_path_buf(),
            source,
        })
}

/// Refuses a directory that already holds the files of another run: logs are never overwritten,
/// and a directory that mixed two runs could not be checked.
pub fn refuse_used_dir(dir: &Path) -> Result<(), DirError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let used = entries.filter_map(Result::ok).find(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        is_run_file(&name) || log::machine_of_file_name(&name).is_some()
    });
    match used {
        Some(entry) => Err(DirError::Used {
            dir: dir.to_path_buf(),
            file: entry.file_name().to_string_lossy().into_owned(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_round_trips_and_missing_or_bad_files_say_so() {
        let dir = std::env::temp_dir().join(format!("clocklab-rundir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.yaml");
        write_yaml_atomically(&path, &vec![1u32, 2, 3]).unwrap();
        assert_eq!(read_yaml::<Vec<u32>>(&path), Ok(Some(vec![1, 2, 3])));
        assert!(!dir.join("x.yaml.tmp").exists());
        assert_eq!(read_yaml::<Vec<u32>>(&dir.join("none.yaml")), Ok(None));
        std::fs::write(&path, "a: [").unwrap();
        let err = read_yaml::<Vec<u32>>(&path).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}: not a valid file of its kind", path.display())));
        // An empty file (or one of blanks) is named as such, not by the first field it lacks.
        std::fs::write(&path, " \n").unwrap();
        let err = read_yaml::<Vec<u32>>(&path).unwrap_err().to_string();
        assert!(err.starts_with(&format!(
            "{}: empty: not a file of its kind",
            path.display()
        )));
        assert_eq!(summary_file_name(7), "summary-7.yaml");
        assert_eq!(
            (trial_dir_name(3), trial_number("trial-3")),
            ("trial-3".into(), Some(3))
        );
        assert_eq!(trial_number("trial-03"), None);
        for name in ["router.yaml", "run.yaml", "summary-12.yaml"] {
            assert!(is_run_file(name), "{name}");
        }
        for name in [
            "summary-x.yaml",
            "summary-01.yaml",
            "notes.yaml",
            "machine-1.csv",
        ] {
            assert!(!is_run_file(name), "{name}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_that_cannot_be_made_or_is_used_is_refused_by_name() {
        let dir = std::env::temp_dir().join(format!("clocklab-direrr-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        prepare_dir(&dir).unwrap();
        assert!(refuse_used_dir(&dir).is_ok());
        let run = dirs::create_run_dir(&dir, "r").unwrap();
        assert_eq!(run, dir.join("r"));
        assert_eq!(dirs::create_run_dir(&dir, "r").unwrap(), dir.join("r-2"));

        std::fs::write(run.join(RUN_FILE), "").unwrap();
        let used = refuse_used_dir(&run).unwrap_err();
        assert!(matches!(&used, DirError::Used { file, .. } if file == RUN_FILE));
        assert_eq!(
            String::from(used),
            format!(
                "{} already holds the files of another run (run.yaml); choose a new directory \
                 or remove them",
                run.display()
            )
        );

        let under_a_file = run.join(RUN_FILE).join("x");
        let create = prepare_dir(&under_a_file).unwrap_err();
        assert!(matches!(&create, DirError::Create { dir, .. } if *dir == under_a_file));
        assert!(
            create.to_string().starts_with(&format!(
                "cannot create the directory {}: ",
                under_a_file.display()
            )),
            "{create}"
        );
        let taken = DirError::TooManyRuns {
            parent: dir.clone(),
            base: "r".into(),
        };
        assert_eq!(
            taken.to_string(),
            format!("{} holds too many runs named r", dir.display())
        );
        let cause = || io::Error::other("no room");
        let d = PathBuf::from("runs/x");
        for (e, text) in [
            (
                DirError::NotWritable {
                    dir: d.clone(),
                    source: cause(),
                },
                "cannot write in runs/x: no room",
            ),
            (
                DirError::CreateRun {
                    dir: d.clone(),
                    source: cause(),
                },
                "cannot create runs/x: no room",
            ),
            (
                DirError::Unreadable {
                    dir: d.clone(),
                    source: cause(),
                },
                "cannot read runs/x: no room",
            ),
        ] {
            assert_eq!(e.to_string(), text);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
