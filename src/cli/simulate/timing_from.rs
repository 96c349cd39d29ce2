//! `simulate --timing-from RUN_DIR [--trial K]`: the hop latency and the ticks' lateness measured
//! in a run, read from its machines' summaries through the one loader, merged over the machines
//! into one distribution each, and turned into the simulator's [`MeasuredTiming`].

use std::path::Path;

use crate::core::histogram::{Empirical, Histogram};
use crate::rundir::dirs::trial_dirs;
use crate::rundir::load::open_trial_files;
use crate::rundir::records::{Measured, TimingSource};
use crate::sim::MeasuredTiming;

/// The timing of trial `trial` of the run (or trial directory) `dir`, and what `run.yaml` records
/// of where it came from. An error names the directory and says why it cannot serve: no such
/// trial, no summary that recorded the distributions (a run written before they were), or no
/// message or tick to measure.
pub fn load(dir: &Path, trial: u32) -> Result<(MeasuredTiming, TimingSource), String> {
    let dirs = trial_dirs(dir)?;
    let trial_dir = dirs.get(trial as usize - 1).ok_or_else(|| {
        format!(
            "--timing-from {}: the run has {} trial(s), not {trial}",
            dir.display(),
            dirs.len()
        )
    })?;
    // Only the summaries are read: the logs are opened, not read.
    let files = open_trial_files(trial_dir);
    let (mut hops, mut lateness) = (Histogram::default(), Histogram::default());
    let mut machines = Vec::new();
    for m in &files.machines {
        let Ok(Some(s)) = &m.summary else { continue };
        if let (Some(h), Some(l)) = (&s.hop_latency_ns, &s.tick_lateness_ns) {
            hops.merge(h);
            lateness.merge(l);
            machines.push(m.id);
        }
    }
    let cannot = |why: &str| format!("--timing-from {}: {why}", trial_dir.display());
    if machines.is_empty() {
        return Err(cannot(
            "no machine summary there records the hop-latency and tick-lateness distributions \
             (hop_latency_ns, tick_lateness_ns): the run was made before clocklab recorded them, \
             or its machines wrote no summaries; make a new run with `clocklab run`",
        ));
    }
    let hop_latency = Empirical::new(&hops)
        .ok_or_else(|| cannot("no message arrived in that run, so it measured no hop latency"))?;
    let tick_lateness = Empirical::new(&lateness)
        .ok_or_else(|| cannot("no machine ticked in that run, so it measured no tick lateness"))?;
    let source = TimingSource {
        dir: trial_dir.display().to_string(),
        machines,
        hop_latency_us: Measured::of(&hops),
        tick_lateness_us: Measured::of(&lateness),
    };
    Ok((
        MeasuredTiming {
            hop_latency,
            tick_lateness,
        },
        source,
    ))
}
