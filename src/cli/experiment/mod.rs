//! `clocklab experiment`: whole studies on the simulator in one command.
//!
//! - `classic`: the three scenarios of the classic lab (baseline; smaller variation in tick rates;
//!   fewer internal events), each over many trials, written as simulated runs side by side so that
//!   `clocklab analyze` compares them.
//! - `sweep`: one parameter (the slow machine's rate, or the action range) over a list of values,
//!   many seeds each, summarised in a table and `sweep.csv`: queue peak, final drift and max jump
//!   against the parameter, with the queue's predicted arrival rate beside it; or a fault (the
//!   length of a partition of machine 1, or a delay on its frames).
//! - `weather`: fair weather beside a slow link, a partition (held, then dropped), a pause and a
//!   skewed clock on the slowest machine, many trials each: `scenarios.csv`, `scenarios.html`,
//!   the plots, and the runs side by side through `analyze`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::analysis::sweep::{MeanStd, StudyFigures, over};
use crate::cli::args::{AnalyzeArgs, ClassicArgs, JobsArgs, StudyArgs};
use crate::cli::common::{Failure, load_config};
use crate::cli::simulate::{list, merge_step, shard_suffix};
use crate::cli::trials;
use crate::rundir::records::ClientSummary;
use crate::rundir::shard::ShardRecord;

mod sweep;
mod weather;

use crate::cli::simulate::{Plan, Totals, simulate_run};
use crate::config::{Config, RateRange, Rates};
use crate::net::wallclock::WallClock;
use crate::net::wallclock::fresh_seed;
use crate::rundir::dirs::{create_run_dir, utc_stamp};
use crate::sim::DEFAULT_EPOCH_NS;
pub use sweep::{SWEEP, SweepRun, console_table, sweep, write_sweep};
pub use weather::weather;

/// One scenario of the classic experiment: a name and what it changes from the configuration.
struct Scenario {
    name: &'static str,
    what: &'static str,
    /// The range random rates are drawn from.
    rates: RateRange,
    /// R.
    action_range: u32,
}

const CLASSIC: [Scenario; 3] = [
    Scenario {
        name: "baseline",
        what: "rates random in 1..=6, action range 10 (70% internal)",
        rates: RateRange { min: 1, max: 6 },
        action_range: 10,
    },
    Scenario {
        name: "small-variation",
        what: "rates random in 3..=4 (same mean, less spread), action range 10",
        rates: RateRange { min: 3, max: 4 },
        action_range: 10,
    },
    Scenario {
        name: "few-internal",
        what: "rates random in 1..=6, action range 5 (40% internal with 3 machines)",
        rates: RateRange { min: 1, max: 6 },
        action_range: 5,
    },
];

/// The configuration with an experiment's shared overrides, and the master seed.
fn study_config(study: &StudyArgs) -> Result<(Config, u64), Failure> {
    let mut config = load_config(study.common.config.as_deref())?;
    if let Some(d) = study.duration {
        config.run.duration = d;
    }
    if let Some(out) = &study.out {
        config.run.log_dir = out.clone();
    }
    let master = study.seed.or(config.run.seed).unwrap_or_else(fresh_seed);
    Ok((config, master))
}

/// `clocklab experiment classic`.
pub fn classic(args: ClassicArgs) -> Result<ExitCode, Failure> {
    let (mut config, master) = study_config(&args.study)?;
    config.run.trials = args.trials;
    let shard = trials::shard(args.shard.as_ref(), |v| std::env::var(v).ok())?;
    trials::seed_for(shard, args.study.seed.or(config.run.seed))?;
    // Every scenario must be valid before anything is simulated.
    let mut configs = Vec::with_capacity(CLASSIC.len());
    for scenario in &CLASSIC {
        let mut scenario_config = config.clone();
        scenario_config.machines.rates = Rates::Random;
        scenario_config.machines.random_rates = scenario.rates;
        scenario_config.machines.action_range = scenario.action_range;
        scenario_config
            .validate("command line")
            .map_err(|e| e.to_string())?;
        configs.push(scenario_config);
    }
    let stamp = utc_stamp(WallClock::new().now_ns() / 1_000_000_000);
    let dir = create_run_dir(
        &config.run.log_dir,
        &format!("{stamp}-classic-seed-{master}{}", shard_suffix(shard)),
    )?;
    println!(
        "classic experiment {}: 3 scenarios x {} trials of {} s, seed {master}",
        dir.display(),
        args.trials,
        config.run.duration
    );
    // The experiment's trials numbered scenario by scenario: trial k of scenario s is s·K + k.
    let total = CLASSIC.len() as u32 * args.trials;
    let ran = shard.trials(total);
    if shard.is_part() {
        println!(
            "shard {shard}: trials {} of 1 to {total}, numbered scenario by scenario",
            list(&ran)
        );
    }
    let started = Instant::now();
    let mut summaries = Vec::with_capacity(CLASSIC.len());
    for (s, (scenario, scenario_config)) in CLASSIC.iter().zip(&configs).enumerate() {
        let first = s as u32 * args.trials;
        let picked: Vec<u32> = (1..=args.trials)
            .filter(|k| shard.takes(first + k))
            .collect();
        let totals = simulate_scenario(
            &dir.join(scenario.name),
            scenario.name,
            scenario_config,
            master,
            &args.study,
            &picked,
        )?;
        summaries.push(totals.summaries);
    }
    println!(
        "done in {:.2} s; every trial passed its check\n",
        started.elapsed().as_secs_f64()
    );
    if shard.is_part() {
        #[derive(serde::Serialize)]
        struct Identity<'a> {
            master_seed: u64,
            config: &'a Config,
            latency: crate::config::Latency,
        }
        let identity = Identity {
            master_seed: master,
            config: &config,
            latency: args.study.latency,
        };
        ShardRecord {
            clocklab_version: env!("CARGO_PKG_VERSION").into(),
            command: CLASSIC_COMMAND.into(),
            shard,
            trials: total,
            ran,
            run: serde_yaml::to_value(identity)
                .map_err(|e| format!("cannot record the shard: {e}"))?,
            results: serde_yaml::Value::Null,
        }
        .write(&dir)?;
        println!("{}", merge_step(shard, &dir));
        return Ok(ExitCode::SUCCESS);
    }
    classic_tables(&dir, args.trials, &summaries, &args.study.jobs)
}

/// The command a shard of the classic experiment records.
pub const CLASSIC_COMMAND: &str = "experiment classic";

/// The classic experiment's scenario directories' names, in order.
pub fn classic_scenarios() -> [&'static str; 3] {
    CLASSIC.map(|s| s.name)
}

/// The classic experiment's table and analysis, once every trial of every scenario is in `dir`:
/// `summaries` holds each scenario's trials' machine summaries, in order; the analysis runs `jobs` trials
/// at a time.
pub fn classic_tables(
    dir: &Path,
    trials: u32,
    summaries: &[Vec<Vec<ClientSummary>>],
    jobs: &JobsArgs,
) -> Result<ExitCode, Failure> {
    println!(
        "  {:<16} {:>17} {:>17} {:>17}   what changes",
        "scenario", "queue peak", "final drift", "max jump"
    );
    for (scenario, trials) in CLASSIC.iter().zip(summaries) {
        let figures: Vec<StudyFigures> = trials.iter().map(|t| StudyFigures::of(t)).collect();
        let cell = |f: fn(&StudyFigures) -> f64| {
            let MeanStd { mean, std } = over(&figures, f);
            format!("{mean:8.1} ± {std:<6.1}")
        };
        println!(
            "  {:<16} {:>17} {:>17} {:>17}   {}",
            scenario.name,
            cell(|t| t.queue_peak),
            cell(|t| t.final_drift),
            cell(|t| t.max_jump),
            scenario.what
        );
    }
    println!(
        "\n  (mean ± standard deviation over {trials} trials; final drift = largest minus smallest final clock)",
    );
    println!("\nthe three scenarios side by side (clocklab analyze):\n");
    analyze_side_by_side(dir, CLASSIC.iter().map(|s| s.name), jobs)
}

/// Simulates one scenario of an experiment into `scenario_dir` (created here), with logs, every
/// trial checked. The scenarios of one experiment share `master`, so each sees the same trial
/// seeds and their differences are the scenario's own. Only trials `trials` (from 1) are
/// simulated: a shard's.
fn simulate_scenario(
    scenario_dir: &Path,
    name: &str,
    config: &Config,
    master: u64,
    study: &StudyArgs,
    trials: &[u32],
) -> Result<Totals, Failure> {
    std::fs::create_dir(scenario_dir)
        .map_err(|e| format!("cannot create {}: {e}", scenario_dir.display()))?;
    let plan = Plan {
        config,
        master,
        latency: study.latency,
        tick_lateness: None,
        measured: None,
        epoch_ns: DEFAULT_EPOCH_NS,
        logs: true,
        verbose: false,
        jobs: trials::jobs(&study.jobs),
    };
    let totals = simulate_run(&plan, scenario_dir, trials)?;
    if totals.failed_checks > 0 {
        return Err(format!(
            "scenario {name}: {} trial(s) failed their check",
            totals.failed_checks
        ));
    }
    Ok(totals)
}
/// `clocklab analyze` of the scenarios `names` (directories of `dir`) side by side, into
/// `dir/analysis`, `jobs` trials at a time.
fn analyze_side_by_side<'a>(
    dir: &Path,
    names: impl Iterator<Item = &'a str>,
    jobs: &JobsArgs,
) -> Result<ExitCode, Failure> {
    let analysis = AnalyzeArgs {
        dirs: names.map(|name| dir.join(name)).collect(),
        out: Some(dir.join("analysis")),
        label: None,
        include_incomplete: false,
        window: None,
        events: false,
        jobs: JobsArgs { jobs: jobs.jobs },
    };
    crate::cli::analyze::command(&analysis)
}
