//! `clocklab simulate`: runs trials on virtual time with [`sim`] and writes the same files as
//! `run` (logs, summaries, `router.yaml`, `run.yaml` marked as simulated), so `check` and `analyze`
//! work on them unchanged.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::check;
use crate::cli::args::SimulateArgs;
use crate::cli::common::{
    Failure, TrialOutcome, across_trials_table, configure, hint, next_step, print_summary,
};
use crate::cli::trials;
use crate::config::Config;
use crate::config::Latency;
use crate::net::wallclock::WallClock;
use crate::net::wallclock::fresh_seed;
use crate::rundir::dirs::{create_run_dir, utc_stamp};
use crate::rundir::log::LogBlocks;
use crate::rundir::plan::TrialPlan;
use crate::rundir::records::TimingSource;
use crate::rundir::records::{ClientSummary, RunRecord};
use crate::rundir::shard::{Shard, ShardRecord};
use crate::rundir::{ROUTER_STATS_FILE, RUN_FILE, summary_file_name, write_yaml_atomically};
use crate::sim::{self, DEFAULT_EPOCH_NS, MeasuredTiming, SimOptions};

pub mod timing_from;

/// What simulating a set of trials did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    /// Trials simulated.
    pub trials: u32,
    /// Events the machines logged: their log rows, as the tables count them.
    pub events: u64,
    /// Frames handed to their receivers (not events: a receive is the tick that takes one).
    pub deliveries: u64,
    /// Trials whose check found a violation.
    pub failed_checks: u32,
    /// Each trial's machine summaries, in trial order.
    pub summaries: Vec<Vec<ClientSummary>>,
}

/// How to simulate a run: the configuration plus what only the simulator has.
#[derive(Clone, Debug)]
pub struct Plan<'a> {
    /// The configuration in force (overrides applied).
    pub config: &'a Config,
    /// The master seed.
    pub master: u64,
    /// The network's latency.
    pub latency: Latency,
    /// How late each tick runs after its deadline; `None`: at its deadline.
    pub tick_lateness: Option<Latency>,
    /// A run's measured timing, in place of `latency` and `tick_lateness`, and where it came
    /// from (`--timing-from`).
    pub measured: Option<(MeasuredTiming, TimingSource)>,
    /// When simulated time starts, nanoseconds since the UNIX epoch.
    pub epoch_ns: u64,
    /// Whether to write the event logs (and so to check them).
    pub logs: bool,
    /// Whether to print each trial's table.
    pub verbose: bool,
    /// How many trials to simulate at once.
    pub jobs: usize,
}

/// `clocklab simulate`.
pub fn command(args: SimulateArgs) -> Result<ExitCode, Failure> {
    let config = configure(&args.model)?;
    // Read before the run directory is made: a source that cannot serve leaves nothing behind.
    let measured = match &args.timing_from {
        Some(dir) => Some(timing_from::load(dir, args.trial.unwrap_or(1))?),
        None => None,
    };
    let shard = trials::shard(args.shard.as_ref(), |v| std::env::var(v).ok())?;
    trials::seed_for(shard, config.run.seed)?;
    let master = config.run.seed.unwrap_or_else(fresh_seed);
    let stamp = utc_stamp(WallClock::new().now_ns() / 1_000_000_000);
    let run_dir = create_run_dir(
        &config.run.log_dir,
        &format!("{stamp}-sim-seed-{master}{}", shard_suffix(shard)),
    )?;
    let plan = Plan {
        config: &config,
        master,
        latency: args.latency,
        tick_lateness: args.tick_lateness,
        measured,
        epoch_ns: args
            .epoch
            .map_or(DEFAULT_EPOCH_NS, |s| s.saturating_mul(1_000_000_000)),
        logs: !args.no_logs,
        verbose: config.run.trials <= 3,
        jobs: trials::jobs(&args.jobs),
    };
    let timing = match &plan.measured {
        Some((_, source)) => format!(
            "timing from {} (hop latency p50 {} µs, p99 {} µs over {} messages; tick lateness p50 \
             {} µs)",
            source.dir,
            source.hop_latency_us.p50,
            source.hop_latency_us.p99,
            source.hop_latency_us.count,
            source.tick_lateness_us.p50
        ),
        None => format!("latency {}", plan.latency),
    };
    println!(
        "simulate {}: {} machines, {} trial(s) of {} s, {timing}, seed {master}",
        run_dir.display(),
        config.machines.count,
        config.run.trials,
        config.run.duration,
    );
    let ran = shard.trials(config.run.trials);
    if shard.is_part() {
        println!("shard {shard}: trials {}", list(&ran));
    }
    let started = Instant::now();
    let totals = simulate_run(&plan, &run_dir, &ran)?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "simulated {} trial(s), {} events (log rows) and {} frames delivered in {:.3} s ({:.2} M \
         events/s, files included)",
        totals.trials,
        totals.events,
        totals.deliveries,
        secs,
        totals.events as f64 / secs / 1e6
    );
    if plan.logs {
        match totals.failed_checks {
            0 => println!("check: every trial passed"),
            n => println!(
                "check: {n} trial(s) FAILED; for details: {}",
                hint(&["check", &run_dir.display().to_string()])
            ),
        }
    }
    // A simulated trial always ends in order (no process to crash, no signal to cut it short),
    // so every trial counts.
    let outcomes: Vec<TrialOutcome> = totals
        .summaries
        .iter()
        .map(|summaries| TrialOutcome {
            complete: true,
            summaries: summaries.clone(),
        })
        .collect();
    print!("{}", across_trials_table(&outcomes, false));
    println!("run directory: {}", run_dir.display());
    if shard.is_part() {
        ShardRecord {
            clocklab_version: env!("CARGO_PKG_VERSION").into(),
            command: SIMULATE.into(),
            shard,
            trials: config.run.trials,
            ran,
            run: run_identity(&plan)?,
            results: serde_yaml::Value::Null,
        }
        .write(&run_dir)?;
        println!("{}", merge_step(shard, &run_dir));
    } else if plan.logs {
        println!("{}", next_step(&run_dir));
    } else {
        println!("next: nothing to analyze without event logs; simulate again without --no-logs");
    }
    Ok(if totals.failed_checks == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The command a shard of `simulate` records.
pub const SIMULATE: &str = "simulate";

/// What a run directory's name gains for a shard: `-shard-2-of-4`; nothing for a whole run.
pub fn shard_suffix(shard: Shard) -> String {
    if shard.is_part() {
        format!("-shard-{}-of-{}", shard.index, shard.count)
    } else {
        String::new()
    }
}

/// Trial numbers as a short list: `1, 5, 9` (or `none`).
pub fn list(trials: &[u32]) -> String {
    let shown: Vec<String> = trials.iter().take(12).map(u32::to_string).collect();
    match trials.len() {
        0 => "none".into(),
        n if n > shown.len() => format!("{}, ... ({n} in all)", shown.join(", ")),
        _ => shown.join(", "),
    }
}

/// What to do once a shard is written: merge the shards.
pub fn merge_step(shard: Shard, dir: &Path) -> String {
    format!(
        "shard {shard} written; once all {} shards are done, join them: {} <the other shards' \
         directories> --out <run directory>",
        shard.count,
        hint(&["merge", &dir.display().to_string()])
    )
}

/// What makes a simulated run what it is: every option its files depend on, equal in each of its
/// shards (`shard.yaml`'s `run`).
fn run_identity(plan: &Plan<'_>) -> Result<serde_yaml::Value, Failure> {
    #[derive(serde::Serialize)]
    struct Identity<'a> {
        master_seed: u64,
        config: &'a Config,
        latency: Latency,
        tick_lateness: Option<Latency>,
        timing_from: Option<&'a TimingSource>,
        epoch_ns: u64,
        logs: bool,
    }
    serde_yaml::to_value(Identity {
        master_seed: plan.master,
        config: plan.config,
        latency: plan.latency,
        tick_lateness: plan.tick_lateness,
        timing_from: plan.measured.as_ref().map(|(_, source)| source),
        epoch_ns: plan.epoch_ns,
        logs: plan.logs,
    })
    .map_err(|e| format!("cannot record the shard's run: {e}"))
}

/// Simulates trials `trials` (numbers from 1) of `plan` into `run_dir`, `plan.jobs` at a time,
/// checking each one when logs are written. Each trial writes its own directory from its worker;
/// what is printed, and the totals, come in trial order, so they do not depend on the jobs.
pub fn simulate_run(plan: &Plan<'_>, run_dir: &Path, trials: &[u32]) -> Result<Totals, Failure> {
    let mut totals = Totals::default();
    let work = |k: u32| {
        let trial = TrialPlan::new(plan.config, run_dir, plan.master, k);
        if trial.dir != run_dir {
            std::fs::create_dir(&trial.dir)
                .map_err(|e| format!("cannot create {}: {e}", trial.dir.display()))?;
        }
        let done = simulate_trial(plan, &trial)?;
        let check = plan.logs.then(|| check::check_trial(&trial.dir));
        Ok((done, check))
    };
    trials::in_order(plan.jobs, trials.to_vec(), work, |(done, check)| {
        totals.trials += 1;
        totals.events += done.events;
        totals.deliveries += done.deliveries;
        totals.summaries.push(
            done.record
                .machines
                .iter()
                .filter_map(|m| m.summary.clone())
                .collect(),
        );
        if plan.verbose {
            print_summary(&done.record);
        }
        if let Some(report) = check.filter(|r| !r.passed()) {
            println!("{report}");
            totals.failed_checks += 1;
        }
        Ok(())
    })?;
    Ok(totals)
}

/// One simulated trial: its record, and the events and deliveries it counted.
struct Simulated {
    record: RunRecord,
    events: u64,
    deliveries: u64,
}

fn simulate_trial(plan: &Plan<'_>, trial: &TrialPlan) -> Result<Simulated, Failure> {
    let (config, dir) = (plan.config, trial.dir.as_path());
    // The plan run.yaml records is the one applied (validated with the configuration).
    let faults = config
        .fault_plan("the configuration")
        .map_err(|e| e.to_string())?;
    let opts = SimOptions {
        names: trial.names.clone(),
        rates: trial.rates.clone(),
        action_range: config.machines.action_range,
        receive_rule: config.machines.receive_rule,
        missed_ticks: config.machines.missed_ticks,
        duration_ns: (config.run.duration * 1e9).round() as u64,
        seed: trial.seed,
        epoch_ns: plan.epoch_ns,
        latency: plan.latency,
        tick_lateness: plan.tick_lateness,
        measured: plan.measured.as_ref().map(|(m, _)| m.clone()),
        faults,
    };
    let write_err = |path: &Path, e: std::io::Error| format!("writing {}: {e}", path.display());
    let mut logs = match plan.logs {
        true => {
            Some(LogBlocks::create(dir, config.machines.count).map_err(|(p, e)| write_err(&p, e))?)
        }
        false => None,
    };
    // The router's rules with the configuration's `router:` section, as a real run's.
    let router = config.router_options(trial.seed);
    let outcome = sim::simulate_with_router(&opts, router, |record| {
        if let Some(logs) = &mut logs {
            logs.append(record);
        }
    })
    .map_err(|e| format!("simulate: {e}"))?;
    let (events, deliveries) = (outcome.events, outcome.deliveries);
    if let Some(logs) = logs {
        logs.finish().map_err(|(path, e)| write_err(&path, e))?;
    }
    for summary in &outcome.summaries {
        let path = dir.join(summary_file_name(summary.id));
        write_yaml_atomically(&path, summary).map_err(|e| write_err(&path, e))?;
    }
    let path = dir.join(ROUTER_STATS_FILE);
    write_yaml_atomically(&path, &outcome.router).map_err(|e| write_err(&path, e))?;
    let mut record = RunRecord {
        simulated: true,
        logs: plan.logs,
        latency: plan.measured.is_none().then_some(plan.latency),
        tick_lateness: plan.tick_lateness.filter(|_| plan.measured.is_none()),
        timing_from: plan.measured.as_ref().map(|(_, source)| source.clone()),
        start_time_ns: Some(opts.epoch_ns),
        stop_time_ns: opts.epoch_ns + opts.duration_ns,
        router: Some(outcome.router),
        ..trial.record(config)
    };
    // The simulator names, rates and seeds the machines as the plan does, one summary each.
    for (m, s) in record.machines.iter_mut().zip(outcome.summaries) {
        m.summary = Some(s);
    }
    let path = dir.join(RUN_FILE);
    write_yaml_atomically(&path, &record).map_err(|e| write_err(&path, e))?;
    Ok(Simulated {
        record,
        events,
        deliveries,
    })
}
