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
use crate::cli::args::{AnalyzeArgs, ClassicArgs, StudyArgs};
use crate::cli::common::{Failure, load_config};

mod sweep;
mod weather;

use crate::cli::simulate::{Plan, Totals, simulate_run};
use crate::config::{Config, RateRange, Rates};
use crate::net::wallclock::WallClock;
use crate::net::wallclock::fresh_seed;
use crate::rundir::dirs::{create_run_dir, utc_stamp};
use crate::sim::DEFAULT_EPOCH_NS;
pub use sweep::sweep;
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
    let stamp = utc_stamp(WallClock::new().now_ns() / 1_000_000_000);
    let dir = create_run_dir(
        &config.run.log_dir,
        &format!("{stamp}-classic-seed-{master}"),
    )?;
    println!(
        "classic experiment {}: 3 scenarios x {} trials of {} s, seed {master}",
        dir.display(),
        args.trials,
        config.run.duration
    );
    let started = Instant::now();
    let mut table = Vec::new();
    for scenario in &CLASSIC {
        let mut scenario_config = config.clone();
        scenario_config.machines.rates = Rates::Random;
        scenario_config.machines.random_rates = scenario.rates;
        scenario_config.machines.action_range = scenario.action_range;
        scenario_config
            .validate("command line")
            .map_err(|e| e.to_string())?;
        let scenario_dir = dir.join(scenario.name);
        let totals = simulate_scenario(
            &scenario_dir,
            scenario.name,
            &scenario_config,
            master,
            &args.study,
        )?;
        let figures: Vec<StudyFigures> = totals
            .summaries
            .iter()
            .map(|t| StudyFigures::of(t))
            .collect();
        table.push((scenario, figures));
    }
    println!(
        "done in {:.2} s; every trial passed its check\n",
        started.elapsed().as_secs_f64()
    );
    println!(
        "  {:<16} {:>17} {:>17} {:>17}   what changes",
        "scenario", "queue peak", "final drift", "max jump"
    );
    for (scenario, figures) in &table {
        let cell = |f: fn(&StudyFigures) -> f64| {
            let MeanStd { mean, std } = over(figures, f);
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
        "\n  (mean ± standard deviation over {} trials; final drift = largest minus smallest final clock)",
        args.trials
    );
    let analysis = AnalyzeArgs {
        dirs: CLASSIC.iter().map(|s| dir.join(s.name)).collect(),
        out: Some(dir.join("analysis")),
        label: None,
        include_incomplete: false,
        window: None,
        events: false,
        jobs: None,
    };
    println!("\nthe three scenarios side by side (clocklab analyze):\n");
    crate::cli::analyze::command(&analysis)
}

/// Simulates one scenario of an experiment into `scenario_dir` (created here), with logs, every
/// trial checked. The scenarios of one experiment share `master`, so each sees the same trial
/// seeds and their differences are the scenario's own.
fn simulate_scenario(
    scenario_dir: &Path,
    name: &str,
    config: &Config,
    master: u64,
    study: &StudyArgs,
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
    };
    let totals = simulate_run(&plan, scenario_dir)?;
    if totals.failed_checks > 0 {
        return Err(format!(
            "scenario {name}: {} trial(s) failed their check",
            totals.failed_checks
        ));
    }
    Ok(totals)
}
