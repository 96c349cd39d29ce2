//! `clocklab experiment`: whole studies on the simulator in one command.
//!
//! - `classic`: the three scenarios of the classic lab (baseline; smaller variation in tick rates;
//!   fewer internal events), each over many trials, written as simulated runs side by side so that
//!   `clocklab analyze` compares them.
//! - `sweep`: one parameter (the slow machine's rate, or the action range) over a list of values,
//!   many seeds each, summarised in a table and `sweep.csv`: max queue, final drift and max jump
//!   against the parameter, with the queue's predicted arrival rate beside it.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::cli::{ClassicArgs, SweepArgs, SweepParam};
use crate::client::ClientSummary;
use crate::commands::{Failure, fresh_seed, load_config};
use crate::config::{Config, RateRange, Rates};
use crate::machine::derive_seed;
use crate::run::{create_run_dir, utc_stamp};
use crate::sim::{self, DEFAULT_EPOCH_NS, SimOptions};
use crate::simulate::{Plan, simulate_run};
use crate::wallclock::WallClock;

/// One scenario of the classic experiment: a name and what it changes from the configuration.
struct Scenario {
    name: &'static str,
    what: &'static str,
    change: fn(&mut Config),
}

const CLASSIC: [Scenario; 3] = [
    Scenario {
        name: "baseline",
        what: "rates random in 1..=6, action range 10 (70% internal)",
        change: |c| {
            c.machines.rates = Rates::Random;
            c.machines.random_rates = RateRange { min: 1, max: 6 };
            c.machines.action_range = 10;
        },
    },
    Scenario {
        name: "small-variation",
        what: "rates random in 3..=4 (same mean, less spread), action range 10",
        change: |c| {
            c.machines.rates = Rates::Random;
            c.machines.random_rates = RateRange { min: 3, max: 4 };
            c.machines.action_range = 10;
        },
    },
    Scenario {
        name: "few-internal",
        what: "rates random in 1..=6, action range 5 (40% internal with 3 machines)",
        change: |c| {
            c.machines.rates = Rates::Random;
            c.machines.random_rates = RateRange { min: 1, max: 6 };
            c.machines.action_range = 5;
        },
    },
];

/// Figures of one trial, from its summaries.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct TrialFigures {
    /// The longest queue any machine had.
    max_queue: f64,
    /// The largest final-clock gap: max final clock minus min final clock.
    final_drift: f64,
    /// The largest single clock jump of any machine.
    max_jump: f64,
}

impl TrialFigures {
    fn of(summaries: &[ClientSummary]) -> TrialFigures {
        let clocks = summaries.iter().map(|s| s.final_clock);
        let max = clocks.clone().max().unwrap_or(0);
        let min = clocks.min().unwrap_or(0);
        TrialFigures {
            max_queue: summaries
                .iter()
                .map(|s| s.max_queue)
                .max()
                .unwrap_or(0)
                .into(),
            final_drift: (max - min) as f64,
            max_jump: summaries.iter().map(|s| s.max_jump).max().unwrap_or(0) as f64,
        }
    }
}

/// Mean and standard deviation (sample, n - 1) of some values.
fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// `clocklab experiment classic`.
pub fn classic(args: ClassicArgs) -> Result<ExitCode, Failure> {
    let mut config = load_config(&args.common.config)?;
    if let Some(d) = args.duration {
        config.run.duration = d;
    }
    config.run.trials = args.trials;
    if let Some(out) = &args.out {
        config.run.log_dir = out.clone();
    }
    let master = args.seed.or(config.run.seed).unwrap_or_else(fresh_seed);
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
        (scenario.change)(&mut scenario_config);
        scenario_config
            .validate("the classic experiment")
            .map_err(|e| e.to_string())?;
        let scenario_dir = dir.join(scenario.name);
        std::fs::create_dir(&scenario_dir)
            .map_err(|e| format!("cannot create {}: {e}", scenario_dir.display()))?;
        // Every scenario sees the same trial seeds: the differences are the scenario's own.
        let plan = Plan {
            config: &scenario_config,
            master,
            latency: args.latency,
            epoch_ns: DEFAULT_EPOCH_NS,
            logs: true,
            verbose: false,
        };
        let totals = simulate_run(&plan, &scenario_dir)?;
        if totals.failed_checks > 0 {
            return Err(format!(
                "scenario {}: {} trial(s) failed their check",
                scenario.name, totals.failed_checks
            ));
        }
        let figures = read_figures(&scenario_dir, args.trials)?;
        table.push((scenario, figures));
    }
    println!(
        "done in {:.2} s; every trial passed its check\n",
        started.elapsed().as_secs_f64()
    );
    println!(
        "  {:<16} {:>17} {:>17} {:>17}   what changes",
        "scenario", "max queue", "final drift", "max jump"
    );
    for (scenario, figures) in &table {
        let cell = |f: fn(&TrialFigures) -> f64| {
            let values: Vec<f64> = figures.iter().map(f).collect();
            let (mean, std) = mean_std(&values);
            format!("{mean:8.1} ± {std:<6.1}")
        };
        println!(
            "  {:<16} {:>17} {:>17} {:>17}   {}",
            scenario.name,
            cell(|t| t.max_queue),
            cell(|t| t.final_drift),
            cell(|t| t.max_jump),
            scenario.what
        );
    }
    println!(
        "\n  (mean ± standard deviation over {} trials; final drift = largest minus smallest final clock)",
        args.trials
    );
    let dirs: Vec<String> = CLASSIC
        .iter()
        .map(|s| dir.join(s.name).display().to_string())
        .collect();
    println!("compare in detail: clocklab analyze {}", dirs.join(" "));
    Ok(ExitCode::SUCCESS)
}

/// The figures of every trial of a simulated run directory, from its summaries.
fn read_figures(dir: &Path, trials: u32) -> Result<Vec<TrialFigures>, Failure> {
    let mut figures = Vec::new();
    for k in 1..=trials {
        let trial = if trials == 1 {
            dir.to_path_buf()
        } else {
            dir.join(format!("trial-{k}"))
        };
        let path = trial.join(crate::run::RUN_FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let record: crate::run::RunRecord =
            serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let summaries: Vec<ClientSummary> = record
            .machines
            .into_iter()
            .filter_map(|m| m.summary)
            .collect();
        figures.push(TrialFigures::of(&summaries));
    }
    Ok(figures)
}

/// `clocklab experiment sweep`.
pub fn sweep(args: SweepArgs) -> Result<ExitCode, Failure> {
    let mut config = load_config(&args.common.config)?;
    if let Some(d) = args.duration {
        config.run.duration = d;
    }
    if let Some(out) = &args.out {
        config.run.log_dir = out.clone();
    }
    let n = config.machines.count;
    let master = args.seed.or(config.run.seed).unwrap_or_else(fresh_seed);
    let mut names = config.machine_names();
    names.sort();
    let param_name = match args.param {
        SweepParam::SlowRate => "slow_rate",
        SweepParam::ActionRange => "action_range",
    };
    println!(
        "sweep of {param_name} over {:?}: {n} machines, {} trials of {} s each, peers at {} ticks/s, seed {master}",
        args.values, args.trials, config.run.duration, args.peer_rate
    );
    let started = Instant::now();
    let mut csv = String::from(
        "param,value,trials,slow_rate,peer_rate,action_range,predicted_arrivals_per_s,\
         slow_final_queue_mean,slow_final_queue_std,max_queue_mean,max_queue_std,\
         final_drift_mean,final_drift_std,max_jump_mean,max_jump_std\n",
    );
    println!(
        "\n  {:>8} {:>10} {:>12} {:>17} {:>17} {:>17} {:>17}",
        param_name,
        "slow rate",
        "arrivals/s",
        "slow final queue",
        "max queue",
        "final drift",
        "max jump"
    );
    let mut events = 0u64;
    for &value in &args.values {
        let fixed_range = args.action_range.unwrap_or(config.machines.action_range);
        let (slow_rate, action_range) = match args.param {
            SweepParam::SlowRate => (value, fixed_range),
            SweepParam::ActionRange => (args.slow_rate, value.round() as u32),
        };
        let mut rates = vec![args.peer_rate; usize::from(n)];
        rates[0] = slow_rate;
        let predicted = predicted_arrivals(&rates, action_range, 0);
        let mut per_trial = Vec::new();
        let mut slow_queue = Vec::new();
        for k in 1..=args.trials {
            let opts = SimOptions {
                names: names.clone(),
                rates: rates.clone(),
                action_range,
                duration_ns: (config.run.duration * 1e9).round() as u64,
                seed: derive_seed(master, u64::from(k)),
                epoch_ns: DEFAULT_EPOCH_NS,
                latency: args.latency,
            };
            let outcome =
                sim::simulate(&opts, |_| {}).map_err(|e| format!("{param_name} = {value}: {e}"))?;
            events += outcome.events;
            per_trial.push(TrialFigures::of(&outcome.summaries));
            slow_queue.push(outcome.summaries[0].unprocessed.len() as f64);
        }
        let stat =
            |f: fn(&TrialFigures) -> f64| mean_std(&per_trial.iter().map(f).collect::<Vec<_>>());
        let (q, d, j, s) = (
            stat(|t| t.max_queue),
            stat(|t| t.final_drift),
            stat(|t| t.max_jump),
            mean_std(&slow_queue),
        );
        println!(
            "  {:>8} {:>10} {:>12.2} {:>8.1} ± {:<6.1} {:>8.1} ± {:<6.1} {:>8.1} ± {:<6.1} {:>8.1} ± {:<6.1}",
            value, slow_rate, predicted, s.0, s.1, q.0, q.1, d.0, d.1, j.0, j.1
        );
        let _ = writeln!(
            csv,
            "{param_name},{value},{},{slow_rate},{},{action_range},{predicted:.4},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3}",
            args.trials, args.peer_rate, s.0, s.1, q.0, q.1, d.0, d.1, j.0, j.1
        );
    }
    let stamp = utc_stamp(WallClock::new().now_ns() / 1_000_000_000);
    let dir = create_run_dir(
        &config.run.log_dir,
        &format!("{stamp}-sweep-{param_name}-seed-{master}"),
    )?;
    let path = dir.join("sweep.csv");
    std::fs::write(&path, csv).map_err(|e| format!("writing {}: {e}", path.display()))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "\n  arrivals/s: the messages per second the slow machine (machine 1) receives if its peers' queues\n  \
         stay empty (docs/ANALYSIS.md); its queue grows without bound once this exceeds its rate.\n\
         {events} events in {secs:.2} s; table written to {}",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The messages per second machine `index` (0-based) receives when every other machine's queue is
/// empty at each of its ticks: each other machine j draws r from 1..=R at every tick, and sends to
/// a given other machine when r picks it (1 in R) or when r = N (a broadcast, 1 in R), so
/// arrivals = sum over j of rate_j * 2 / R, whatever N is.
pub fn predicted_arrivals(rates: &[f64], action_range: u32, index: usize) -> f64 {
    let per_tick = 2.0 / f64::from(action_range);
    rates
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != index)
        .map(|(_, rate)| rate * per_tick)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicted_arrivals_add_the_direct_and_the_broadcast_share() {
        // Two peers at 6 ticks/s, R = 10: each sends to machine 1 on 2 draws in 10.
        assert!((predicted_arrivals(&[1.0, 6.0, 6.0], 10, 0) - 2.4).abs() < 1e-12);
        assert!((predicted_arrivals(&[1.0, 6.0, 6.0], 5, 0) - 4.8).abs() < 1e-12);
        assert!((predicted_arrivals(&[1.0, 6.0, 6.0], 10, 1) - 1.4).abs() < 1e-12);
    }

    #[test]
    fn mean_and_sample_deviation() {
        assert_eq!(mean_std(&[]), (0.0, 0.0));
        assert_eq!(mean_std(&[4.0]), (4.0, 0.0));
        let (m, s) = mean_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(m, 5.0);
        assert!((s - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
    }
}
