//! `clocklab experiment sweep`: one parameter over a list of values, many simulated trials each.
//! This file wires: it checks the settings, simulates, and writes what `analysis::sweep` works
//! out and `report::sweep` renders (the table, `sweep.csv`, `sweep-trials.csv`, the plots and
//! `sweep.html`).

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::study_config;
use crate::analysis::sweep::{StudyFigures, SweepModel, SweepRow, SweepTrial, Swept};
use crate::cli::args::{SweepArgs, SweepParam};
use crate::cli::common::Failure;
use crate::cli::simulate::{list, merge_step, shard_suffix};
use crate::cli::trials::{self, jobs};
use crate::config::{Config, Latency, Rates};
use crate::core::seed::{self, Stream};
use crate::net::wallclock::WallClock;
use crate::report::sweep::{
    SWEEP_CSV, SWEEP_REPORT, SWEEP_TRIALS_CSV, console_head, console_row, sweep_csv, sweep_html,
    sweep_plots, sweep_table, sweep_trials_csv,
};
use crate::rundir::dirs::{create_run_dir, utc_stamp};
use crate::rundir::shard::ShardRecord;
use crate::sim::{self, DEFAULT_EPOCH_NS, SimOptions};

/// Writes `text` to `dir/name`, naming the file if it fails.
fn write(dir: &Path, name: &str, text: &str) -> Result<(), Failure> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// `clocklab experiment sweep`.
pub fn sweep(args: SweepArgs) -> Result<ExitCode, Failure> {
    let (mut config, master) = study_config(&args.study)?;
    if let Some(n) = args.machines {
        config.machines.count = n;
        config.machines.names = None;
        config.machines.rates = Rates::Random;
    }
    if let Some(r) = args.action_range {
        config.machines.action_range = r;
    }
    config.validate("command line").map_err(|e| e.to_string())?;
    let n = config.machines.count;
    let model = SweepModel {
        swept: match args.param {
            SweepParam::SlowRate => Swept::SlowRate,
            SweepParam::ActionRange => Swept::ActionRange,
            SweepParam::PartitionS => Swept::PartitionS,
            SweepParam::DelayMs => Swept::DelayMs,
        },
        machines: n,
        peer_rate: args.peer_rate,
        slow_rate: args.slow_rate,
        action_range: config.machines.action_range,
        duration_s: config.run.duration,
    };
    // Each value must make a valid model and plan: check them all before simulating any.
    let mut plans = Vec::with_capacity(args.values.len());
    for &value in &args.values {
        let (slow_rate, action_range) = model.setting(value);
        let mut check = config.clone();
        check.machines.rates = Rates::List(model.rates(slow_rate));
        check.machines.action_range = action_range;
        check.validate("command line").map_err(|e| e.to_string())?;
        check.faults = model.faults(value);
        let origin = format!("--param {} = {value}", model.swept.name());
        plans.push(check.fault_plan(&origin).map_err(|e| e.to_string())?);
    }
    let mut names = config.machine_names();
    names.sort();
    let param_name = model.swept.name();
    let shard = trials::shard(args.shard.as_ref(), |v| std::env::var(v).ok())?;
    trials::seed_for(shard, args.study.seed.or(config.run.seed))?;
    println!(
        "sweep of {param_name} over {:?}: {n} machines, {} trials of {} s each, peers at {} ticks/s, seed {master}",
        args.values, args.trials, config.run.duration, args.peer_rate
    );
    let per_value = args.trials;
    let total = args.values.len() as u32 * per_value;
    // The sweep's trials numbered value by value: (value index, trial at that value).
    let ran = shard.trials(total);
    if shard.is_part() {
        println!(
            "shard {shard}: trials {} of 1 to {total}, numbered value by value",
            list(&ran)
        );
    } else {
        println!("\n{}", console_head(model.swept));
    }
    let started = Instant::now();
    let mut events = 0u64;
    let mut all_trials: Vec<SweepTrial> = Vec::with_capacity(ran.len());
    let work = |j: u32| {
        let (i, k) = (((j - 1) / per_value) as usize, (j - 1) % per_value + 1);
        let value = args.values[i];
        let (slow_rate, action_range) = model.setting(value);
        let opts = SimOptions {
            names: names.clone(),
            rates: model.rates(slow_rate),
            action_range,
            receive_rule: config.machines.receive_rule,
            missed_ticks: config.machines.missed_ticks,
            duration_ns: (config.run.duration * 1e9).round() as u64,
            seed: seed::derive(master, Stream::SweepTrial(k)),
            epoch_ns: DEFAULT_EPOCH_NS,
            latency: args.study.latency,
            tick_lateness: None,
            measured: None,
            faults: plans[i].clone(),
        };
        // The router's rules with the configuration's `router:` section: held frames of a
        // swept partition or delay count against its limits, as in `simulate`.
        let router = config.router_options(opts.seed);
        let outcome = sim::simulate_with_router(&opts, router, |_| {})
            .map_err(|e| format!("{param_name} = {value}: {e}"))?;
        let trial = SweepTrial {
            value,
            trial: k,
            seed: opts.seed,
            figures: StudyFigures::of(&outcome.summaries),
        };
        Ok((trial, outcome.events))
    };
    trials::in_order(jobs(&args.study.jobs), ran.clone(), work, |(trial, n)| {
        events += n;
        all_trials.push(trial);
        // A whole run prints each value's row as its last trial comes in.
        if !shard.is_part() && trial.trial == per_value {
            let figures: Vec<StudyFigures> = all_trials[all_trials.len() - per_value as usize..]
                .iter()
                .map(|t| t.figures)
                .collect();
            println!(
                "{}",
                console_row(&model, &SweepRow::of(&model, trial.value, &figures))
            );
        }
        Ok(())
    })?;
    let stamp = utc_stamp(WallClock::new().now_ns() / 1_000_000_000);
    let dir = create_run_dir(
        &config.run.log_dir,
        &format!(
            "{stamp}-sweep-{param_name}-seed-{master}{}",
            shard_suffix(shard)
        ),
    )?;
    let run = SweepRun {
        model,
        values: args.values.clone(),
        trials: per_value,
        master,
        latency: args.study.latency,
        config,
    };
    let secs = started.elapsed().as_secs_f64();
    if shard.is_part() {
        ShardRecord {
            clocklab_version: env!("CARGO_PKG_VERSION").into(),
            command: SWEEP.into(),
            shard,
            trials: total,
            ran,
            run: to_yaml(&run)?,
            results: to_yaml(&all_trials)?,
        }
        .write(&dir)?;
        println!(
            "{events} events in {secs:.2} s\n{}",
            merge_step(shard, &dir)
        );
        return Ok(ExitCode::SUCCESS);
    }
    write_sweep(&run, &all_trials, &dir)?;
    println!(
        "\n  arrivals/s: the messages per second the model predicts for machine 1 (docs/ANALYSIS.md);\n  \
         its queue grows without bound, by about arrivals - rate per second, once they exceed its rate.\n\
         {events} events in {secs:.2} s; table (sweep.csv, and a row per trial in sweep-trials.csv), plots \
         (sweep-queue.svg, sweep-clocks.svg) and sweep.html in {}",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The command a shard of a sweep records.
pub const SWEEP: &str = "experiment sweep";

/// What makes a sweep what it is, equal in each of its shards (`shard.yaml`'s `run`), and all
/// that `merge` needs to write its files again from the trials' figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepRun {
    /// What the sweep holds fixed, and what it varies.
    pub model: SweepModel,
    /// The swept values, in order.
    pub values: Vec<f64>,
    /// Trials per value.
    pub trials: u32,
    /// The master seed.
    pub master: u64,
    /// The network's latency.
    pub latency: Latency,
    /// The configuration in force.
    pub config: Config,
}

fn to_yaml<T: Serialize>(value: &T) -> Result<serde_yaml::Value, Failure> {
    serde_yaml::to_value(value).map_err(|e| format!("cannot record the shard: {e}"))
}

/// Writes a sweep's files into `dir` from its trials' figures, value by value in order: the
/// table (`sweep.csv`, `sweep-trials.csv`), the plots and `sweep.html`.
pub fn write_sweep(run: &SweepRun, all_trials: &[SweepTrial], dir: &Path) -> Result<(), Failure> {
    let model = &run.model;
    let rows = rows(run, all_trials);
    write(dir, SWEEP_CSV, &sweep_csv(model, run.trials, &rows))?;
    write(dir, SWEEP_TRIALS_CSV, &sweep_trials_csv(model, all_trials))?;
    let plots = sweep_plots(model, run.trials, &rows)?;
    for plot in &plots {
        write(dir, &plot.file, &plot.svg)?;
    }
    let param_name = model.swept.name();
    let title = format!("Sweep of {param_name}");
    let swept = if model.swept.is_fault() {
        format!(
            "machine 1 at {} ticks/s under the swept fault (the prediction is fair weather's)",
            model.slow_rate
        )
    } else {
        "machine 1 swept".to_owned()
    };
    let lead = format!(
        "{} machines, {swept}, peers at {} ticks/s, {} trials of {} s per value, seed {}",
        model.machines, model.peer_rate, run.trials, run.config.run.duration, run.master
    );
    let table = sweep_table(model.swept, &rows);
    write(
        dir,
        SWEEP_REPORT,
        &sweep_html(&title, &lead, &table, &plots),
    )
}

/// The console table of a sweep from its trials' figures (what `merge` prints).
pub fn console_table(run: &SweepRun, all_trials: &[SweepTrial]) -> String {
    let mut out = console_head(run.model.swept);
    for row in rows(run, all_trials) {
        out.push('\n');
        out.push_str(&console_row(&run.model, &row));
    }
    out
}

/// Each value's row from its trials' figures: `all_trials` holds them value by value, `trials`
/// each, in the order the sweep takes them.
fn rows(run: &SweepRun, all_trials: &[SweepTrial]) -> Vec<SweepRow> {
    run.values
        .iter()
        .zip(all_trials.chunks(run.trials as usize))
        .map(|(&value, trials)| {
            let figures: Vec<StudyFigures> = trials.iter().map(|t| t.figures).collect();
            SweepRow::of(&run.model, value, &figures)
        })
        .collect()
}
