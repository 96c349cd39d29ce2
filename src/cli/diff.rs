//! `clocklab diff A B`: two trials of the same seed compared event by event (a real run and its
//! simulation, or two simulations with different timing models). Exit status as diff(1): 0 when
//! every machine's events are identical, 1 when they differ, 2 when a trial cannot be read.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::analysis::diff::{MachineDiff, describe, diff_machine};
use crate::cli::args::DiffArgs;
use crate::cli::common::Failure;
use crate::core::event::Record;
use crate::rundir::dirs::trial_dirs;
use crate::rundir::load::{LogFile, load_trial_files};

/// `clocklab diff`.
pub fn command(args: &DiffArgs) -> Result<ExitCode, Failure> {
    let trial = args.trial.unwrap_or(1);
    let loaded = load_side(&args.a, trial).and_then(|a| Ok((a, load_side(&args.b, trial)?)));
    let ((dir_a, a), (dir_b, b)) = match loaded {
        Ok(sides) => sides,
        Err(e) => {
            eprintln!("clocklab: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    println!("diff A {} and B {}", dir_a.display(), dir_b.display());
    for (side, notes) in [("A", &a.notes), ("B", &b.notes)] {
        for note in notes {
            println!("  note: {side}: {note}");
        }
    }
    if a.seed != b.seed {
        println!(
            "  the seeds differ (A {}, B {}): the draws differ from the first event",
            seed_text(a.seed),
            seed_text(b.seed)
        );
    }
    let mut differing = 0;
    // The first divergence in time, by A's clock: the likely root of the others.
    let mut first: Option<(u64, u16)> = None;
    let machines = a.rows.len().max(b.rows.len());
    for id in 1..=machines {
        let (ra, rb) = (side_rows(&a, id), side_rows(&b, id));
        match diff_machine(ra, rb) {
            MachineDiff::Identical { events } => {
                println!("  machine {id}: identical ({events} events)");
            }
            MachineDiff::Diverged(d) => {
                differing += 1;
                println!("  machine {id}: first divergence at event {}", d.index + 1);
                println!("    A: {}", describe(d.a.as_ref(), d.index));
                println!("    B: {}", describe(d.b.as_ref(), d.index));
                println!("    likely cause: {}", d.cause);
                // Each side's time since its own start (a simulation has an epoch of its own).
                let since = match (d.a, d.b) {
                    (Some(r), _) => r.system_time_us.saturating_sub(a.start_us),
                    (None, Some(r)) => r.system_time_us.saturating_sub(b.start_us),
                    (None, None) => continue,
                };
                if first.is_none_or(|(t0, _)| since < t0) {
                    first = Some((since, id as u16));
                }
            }
        }
    }
    if differing == 0 {
        println!("identical: every machine's events (kind, peer, clock) are the same");
        return Ok(ExitCode::SUCCESS);
    }
    if let Some((since, id)) = first {
        println!(
            "{differing} of {machines} machines differ; the first divergence in time is machine \
             {id}'s, {:.3} s into the trial: look there first",
            since as f64 / 1e6
        );
    }
    Ok(ExitCode::from(1))
}

/// One side: its trial's machine logs by id, its seed and its start.
struct Side {
    rows: Vec<Vec<Record>>,
    seed: Option<u64>,
    start_us: u64,
    /// What the comparison makes do with: a log cut off by a crash, compared up to its cut.
    notes: Vec<String>,
}

fn seed_text(seed: Option<u64>) -> String {
    seed.map_or("unknown".into(), |s| s.to_string())
}

fn side_rows(side: &Side, id: usize) -> &[Record] {
    side.rows.get(id - 1).map_or(&[], Vec::as_slice)
}

/// The trial `trial` of the run (or trial directory) `dir`.
fn load_side(dir: &Path, trial: u32) -> Result<(PathBuf, Side), String> {
    let dirs = trial_dirs(dir)?;
    let trial_dir = dirs
        .get(trial as usize - 1)
        .ok_or_else(|| format!("{} has {} trials, not {trial}", dir.display(), dirs.len()))?
        .clone();
    let files = load_trial_files(&trial_dir);
    // A record that is there must read: a broken one is no trial to compare (a missing one is:
    // a run started by hand has no run.yaml, a router that did not stop in order no router.yaml).
    if let Some(e) = files.broken_record() {
        return Err(e.to_string());
    }
    if !files.logs_written() {
        return Err(format!(
            "{}: simulated with --no-logs, so there are no events to compare",
            trial_dir.display()
        ));
    }
    let (mut rows, mut notes) = (Vec::new(), Vec::new());
    for m in &files.machines {
        if let Some(damaged) = m.log_cut_after_summary() {
            return Err(damaged.to_string());
        }
        let got = match &m.log {
            LogFile::Whole(rows) => rows.clone(),
            LogFile::Cut {
                cut,
                before: Ok(rows),
            } => {
                notes.push(format!("{cut}: its rows before the cut are compared"));
                rows.clone()
            }
            LogFile::Cut { before: Err(e), .. } | LogFile::Missing(e) | LogFile::Bad(e) => {
                return Err(e.to_string());
            }
        };
        let slot = usize::from(m.id) - 1;
        rows.resize(rows.len().max(slot + 1), Vec::new());
        rows[slot] = got;
    }
    let record = files.run_record();
    let router = files.router.as_ref().ok().and_then(Option::as_ref);
    let seed = record.map(|r| r.seed).or_else(|| router.map(|r| r.seed));
    let start_us = record
        .and_then(|r| r.start_time_ns)
        .or_else(|| router.and_then(|r| r.start_time_ns))
        .map_or(0, |ns| ns / 1_000);
    Ok((
        trial_dir,
        Side {
            rows,
            seed,
            start_us,
            notes,
        },
    ))
}
