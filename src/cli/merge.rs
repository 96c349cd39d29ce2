//! `clocklab merge`: joins the shards of one run (`simulate`, `experiment classic` or `experiment
//! sweep` with `--shard I/N`) into the directory the unsharded run would have written, byte for
//! byte, which `check`, `analyze` and `report` treat like any other.
//!
//! It refuses, naming the directories and what differs: a directory that is no shard, shards of
//! different runs (command, seed, configuration or parameters), a shard given twice or trials
//! run by two shards, and trials no shard ran.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::analysis::sweep::SweepTrial;
use crate::cli::args::{JobsArgs, MergeArgs};
use crate::cli::common::{Failure, next_step};
use crate::cli::experiment::{
    CLASSIC_COMMAND, SWEEP, SweepRun, classic_scenarios, classic_tables, console_table, write_sweep,
};
use crate::cli::simulate::{SIMULATE, list};
use crate::rundir::dirs::trial_dirs;
use crate::rundir::records::{ClientSummary, RunRecord};
use crate::rundir::shard::{SHARD_FILE, ShardRecord, differences, read_shards};
use crate::rundir::{RUN_FILE, read_yaml};

/// `clocklab merge`.
pub fn command(args: &MergeArgs) -> Result<ExitCode, Failure> {
    let shards = read_shards(&args.dirs)?;
    let first = one_run(&shards)?;
    let out = &args.out;
    if out.exists() {
        return Err(format!(
            "merge: {} already exists; --out names the run directory to make, which must not exist",
            out.display()
        ));
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("merge: cannot create {}: {e}", parent.display()))?;
    }
    std::fs::create_dir(out).map_err(|e| format!("merge: cannot create {}: {e}", out.display()))?;
    match write_merged(&shards, first, out) {
        Ok(Merged::Done) => Ok(ExitCode::SUCCESS),
        // The classic experiment's table and analysis, once its run is whole.
        Ok(Merged::Classic { trials, summaries }) => {
            classic_tables(out, trials, &summaries, &JobsArgs::default())
        }
        Err(e) => {
            // Nothing half made stays behind: the directory is new, made above.
            let _ = std::fs::remove_dir_all(out);
            Err(e)
        }
    }
}

/// A merged run, whole on the disk, and what is left to do.
enum Merged {
    /// Nothing more.
    Done,
    /// The classic experiment's tables and analysis: trials per scenario and each scenario's
    /// trials' machine summaries.
    Classic {
        trials: u32,
        summaries: Vec<Vec<Vec<ClientSummary>>>,
    },
}

/// Writes the merged run of `shards` (every shard of one run, `first` the first's record) into
/// `out`, which exists and is empty.
fn write_merged(
    shards: &[(PathBuf, ShardRecord)],
    first: &ShardRecord,
    out: &Path,
) -> Result<Merged, Failure> {
    println!(
        "merge: {} shards of {} ({} trials) into {}",
        shards.len(),
        first.command,
        first.trials,
        out.display()
    );
    match first.command.as_str() {
        SWEEP => merge_sweep(shards, out).map(|()| Merged::Done),
        SIMULATE | CLASSIC_COMMAND => {
            for (dir, _) in shards {
                copy_tree(dir, out, dir)?;
            }
            if first.command == SIMULATE {
                println!("run directory: {}\n{}", out.display(), next_step(out));
                Ok(Merged::Done)
            } else {
                let mut summaries = Vec::new();
                for name in classic_scenarios() {
                    summaries.push(trial_summaries(&out.join(name))?);
                }
                Ok(Merged::Classic {
                    trials: first.trials / classic_scenarios().len() as u32,
                    summaries,
                })
            }
        }
        other => Err(format!(
            "merge: {} records the command {other:?}; clocklab {} merges simulate, experiment \
             classic and experiment sweep",
            shards[0].0.join(SHARD_FILE).display(),
            env!("CARGO_PKG_VERSION")
        )),
    }
}

/// Checks that the shards are every shard of one run, each once; returns the first's record.
fn one_run(shards: &[(PathBuf, ShardRecord)]) -> Result<&ShardRecord, Failure> {
    let (first_dir, first) = &shards[0];
    for (dir, record) in &shards[1..] {
        let mut differ = Vec::new();
        if record.command != first.command {
            differ.push(format!(
                "command: {} against {}",
                first.command, record.command
            ));
        }
        if record.shard.count != first.shard.count {
            differ.push(format!(
                "shards: {} against {}",
                first.shard.count, record.shard.count
            ));
        }
        if record.trials != first.trials {
            differ.push(format!(
                "trials: {} against {}",
                first.trials, record.trials
            ));
        }
        differ.extend(differences(&first.run, &record.run, 8));
        if !differ.is_empty() {
            return Err(format!(
                "merge: {} and {} are shards of different runs: {}",
                first_dir.display(),
                dir.display(),
                differ.join("; ")
            ));
        }
    }
    let mut owner: Vec<Option<&Path>> = vec![None; first.trials as usize];
    let mut shard_of: Vec<Option<&Path>> = vec![None; first.shard.count as usize];
    for (dir, record) in shards {
        let i = record.shard.index as usize - 1;
        if let Some(other) = shard_of.get(i).copied().flatten() {
            return Err(format!(
                "merge: {} and {} are both shard {}: give each shard once",
                other.display(),
                dir.display(),
                record.shard
            ));
        }
        shard_of[i] = Some(dir);
        for &j in &record.ran {
            match owner.get(j as usize - 1).copied() {
                None => {
                    return Err(format!(
                        "merge: {} ran trial {j}, but the run has trials 1 to {}",
                        dir.display(),
                        first.trials
                    ));
                }
                Some(Some(other)) => {
                    return Err(format!(
                        "merge: {} and {} both ran trial {j}: the shards overlap",
                        other.display(),
                        dir.display()
                    ));
                }
                Some(None) => owner[j as usize - 1] = Some(dir),
            }
        }
    }
    let missing: Vec<u32> = (1..=first.trials)
        .filter(|j| owner[*j as usize - 1].is_none())
        .collect();
    if !missing.is_empty() {
        let absent: Vec<String> = (1..=first.shard.count)
            .filter(|i| shard_of[*i as usize - 1].is_none())
            .map(|i| format!("{i}/{}", first.shard.count))
            .collect();
        return Err(format!(
            "merge: trials {} of {} are missing: no shard given ran them (shards {} not given)",
            list(&missing),
            first.trials,
            if absent.is_empty() {
                "all given, yet".into()
            } else {
                absent.join(", ")
            }
        ));
    }
    Ok(first)
}

/// Copies every file under `from` into the same place under `to`, `shard.yaml` apart; a file
/// that is already there (two shards writing one file) is refused.
fn copy_tree(from: &Path, to: &Path, shard: &Path) -> Result<(), Failure> {
    let entries = std::fs::read_dir(from)
        .map_err(|e| format!("merge: cannot read {}: {e}", from.display()))?;
    let mut entries: Vec<_> = entries
        .collect::<Result<_, _>>()
        .map_err(|e| format!("merge: cannot read {}: {e}", from.display()))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if from == shard && entry.file_name() == SHARD_FILE {
            continue;
        }
        if src.is_dir() {
            if !dst.is_dir() {
                std::fs::create_dir(&dst)
                    .map_err(|e| format!("merge: cannot create {}: {e}", dst.display()))?;
            }
            copy_tree(&src, &dst, shard)?;
        } else if dst.exists() {
            return Err(format!(
                "merge: {} is in more than one shard (the last from {}): the shards overlap",
                dst.display(),
                shard.display()
            ));
        } else {
            std::fs::copy(&src, &dst).map_err(|e| {
                format!(
                    "merge: cannot copy {} to {}: {e}",
                    src.display(),
                    dst.display()
                )
            })?;
        }
    }
    Ok(())
}

/// Each trial's machine summaries under the run directory `dir`, in trial order, from run.yaml.
fn trial_summaries(dir: &Path) -> Result<Vec<Vec<ClientSummary>>, Failure> {
    let mut out = Vec::new();
    for trial in trial_dirs(dir).map_err(|e| e.to_string())? {
        let path = trial.join(RUN_FILE);
        let record: RunRecord = read_yaml(&path)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("merge: {} is missing", path.display()))?;
        out.push(
            record
                .machines
                .into_iter()
                .filter_map(|m| m.summary)
                .collect(),
        );
    }
    Ok(out)
}

/// A sweep's shards hold their trials' figures: the merged sweep writes its files from them all.
fn merge_sweep(shards: &[(PathBuf, ShardRecord)], out: &Path) -> Result<(), Failure> {
    let (first_dir, first) = &shards[0];
    let run: SweepRun = serde_yaml::from_value(first.run.clone()).map_err(|e| {
        format!(
            "merge: {}: its run does not read as a sweep's: {e}",
            first_dir.join(SHARD_FILE).display()
        )
    })?;
    let mut numbered: Vec<(u32, SweepTrial)> = Vec::with_capacity(first.trials as usize);
    for (dir, record) in shards {
        let trials: Vec<SweepTrial> =
            serde_yaml::from_value(record.results.clone()).map_err(|e| {
                format!(
                    "merge: {}: its results do not read as a sweep's trials: {e}",
                    dir.join(SHARD_FILE).display()
                )
            })?;
        if trials.len() != record.ran.len() {
            return Err(format!(
                "merge: {} records {} trials run but {} results",
                dir.join(SHARD_FILE).display(),
                record.ran.len(),
                trials.len()
            ));
        }
        numbered.extend(record.ran.iter().copied().zip(trials));
    }
    numbered.sort_by_key(|(j, _)| *j);
    let all: Vec<SweepTrial> = numbered.into_iter().map(|(_, t)| t).collect();
    println!("\n{}", console_table(&run, &all));
    write_sweep(&run, &all, out)?;
    println!(
        "\ntable (sweep.csv, and a row per trial in sweep-trials.csv), plots (sweep-queue.svg, \
         sweep-clocks.svg) and sweep.html in {}",
        out.display()
    );
    Ok(())
}
