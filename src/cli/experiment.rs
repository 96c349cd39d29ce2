//! `clocklab experiment`: whole studies on the simulator in one command.
//!
//! - `classic`: the three scenarios of the classic lab (baseline; smaller variation in tick rates;
//!   fewer internal events), each over many trials, written as simulated runs side by side so that
//!   `clocklab analyze` compares them.
//! - `sweep`: one parameter (the slow machine's rate, or the action range) over a list of values,
//!   many seeds each, summarised in a table and `sweep.csv`: max queue, final drift and max jump
//!   against the parameter, with the queue's predicted arrival rate beside it.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use crate::analysis::stats;
use crate::cli::args::{AnalyzeArgs, ClassicArgs, StudyArgs, SweepArgs, SweepParam};
use crate::cli::common::{Failure, load_config};
use crate::cli::simulate::{Plan, simulate_run};
use crate::config::{Config, RateRange, Rates};
use crate::core::seed::{self, Stream};
use crate::net::wallclock::WallClock;
use crate::net::wallclock::fresh_seed;
use crate::report;
use crate::rundir::dirs::{create_run_dir, utc_stamp};
use crate::rundir::records::ClientSummary;
use crate::sim::{self, DEFAULT_EPOCH_NS, SimOptions};

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

/// A mean and a sample standard deviation, as the experiment tables print them.
#[derive(Clone, Copy, Debug, PartialEq)]
struct MeanStd {
    mean: f64,
    std: f64,
}

/// [`stats::mean`] and [`stats::sample_std`] of `values`: 0 where there is none (no values, or a
/// single one for the deviation).
fn mean_std(values: &[f64]) -> MeanStd {
    MeanStd {
        mean: stats::mean(values).unwrap_or(0.0),
        std: stats::sample_std(values).unwrap_or(0.0),
    }
}

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
        std::fs::create_dir(&scenario_dir)
            .map_err(|e| format!("cannot create {}: {e}", scenario_dir.display()))?;
        // Every scenario sees the same trial seeds: the differences are the scenario's own.
        let plan = Plan {
            config: &scenario_config,
            master,
            latency: args.study.latency,
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
        let figures: Vec<TrialFigures> = totals
            .summaries
            .iter()
            .map(|t| TrialFigures::of(t))
            .collect();
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
            let MeanStd { mean, std } = mean_std(&values);
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
    let analysis = AnalyzeArgs {
        dirs: CLASSIC.iter().map(|s| dir.join(s.name)).collect(),
        out: Some(dir.join("analysis")),
        label: None,
        window: None,
    };
    println!("\nthe three scenarios side by side (clocklab analyze):\n");
    crate::cli::analyze::command(&analysis)
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
    // Each value must make a valid model: check them all before simulating any.
    let settings: Vec<(f64, u32)> = args
        .values
        .iter()
        .map(|&value| match args.param {
            SweepParam::SlowRate => (value, config.machines.action_range),
            SweepParam::ActionRange => (args.slow_rate, value.round() as u32),
        })
        .collect();
    for &(slow_rate, action_range) in &settings {
        let mut check = config.clone();
        check.machines.rates = Rates::List(
            [slow_rate]
                .into_iter()
                .chain(vec![args.peer_rate; usize::from(n) - 1])
                .collect(),
        );
        check.machines.action_range = action_range;
        check.validate("command line").map_err(|e| e.to_string())?;
    }
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
        match args.param {
            SweepParam::SlowRate => "R",
            SweepParam::ActionRange => "slow rate",
        },
        "arrivals/s",
        "slow final queue",
        "max queue",
        "final drift",
        "max jump"
    );
    let mut events = 0u64;
    let mut rows: Vec<SweepRow> = Vec::new();
    for (&value, &(slow_rate, action_range)) in args.values.iter().zip(&settings) {
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
                seed: seed::derive(master, Stream::SweepTrial(k)),
                epoch_ns: DEFAULT_EPOCH_NS,
                latency: args.study.latency,
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
            "  {:>8} {:>10} {:>12.2} {:>8.1} ± {:<6.1} {:>8.1} ± {:<6.1} {:>8.1} ± {:<6.1} {:>8.1} ± {:.1}",
            value,
            match args.param {
                SweepParam::SlowRate => f64::from(action_range),
                SweepParam::ActionRange => slow_rate,
            },
            predicted,
            s.mean,
            s.std,
            q.mean,
            q.std,
            d.mean,
            d.std,
            j.mean,
            j.std
        );
        rows.push(SweepRow {
            value,
            growth: (predicted - slow_rate).max(0.0) * config.run.duration,
            slow_final_queue: s.mean,
            max_queue: q.mean,
            final_drift: d.mean,
            max_jump: j.mean,
        });
        let _ = writeln!(
            csv,
            "{param_name},{value},{},{slow_rate},{},{action_range},{predicted:.4},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3}",
            args.trials, args.peer_rate, s.mean, s.std, q.mean, q.std, d.mean, d.std, j.mean, j.std
        );
    }
    let stamp = utc_stamp(WallClock::new().now_ns() / 1_000_000_000);
    let dir = create_run_dir(
        &config.run.log_dir,
        &format!("{stamp}-sweep-{param_name}-seed-{master}"),
    )?;
    let path = dir.join("sweep.csv");
    std::fs::write(&path, csv).map_err(|e| format!("writing {}: {e}", path.display()))?;
    let x_desc = match args.param {
        SweepParam::SlowRate => "machine 1's rate (ticks/s)",
        SweepParam::ActionRange => "action range R",
    };
    for (file, svg) in sweep_plots(&rows, x_desc, args.trials)? {
        let path = dir.join(file);
        std::fs::write(&path, svg).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "\n  arrivals/s: the messages per second the model predicts for machine 1 (docs/ANALYSIS.md);\n  \
         its queue grows without bound, by about arrivals - rate per second, once they exceed its rate.\n\
         {events} events in {secs:.2} s; table and plots (sweep-queue.svg, sweep-clocks.svg) in {}",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// One value of a sweep: the means over its trials.
struct SweepRow {
    value: f64,
    /// The queue growth the arrival rate predicts over the trial: (arrivals - rate) x duration.
    growth: f64,
    slow_final_queue: f64,
    max_queue: f64,
    final_drift: f64,
    max_jump: f64,
}

/// The sweep's two plots: queues (with the predicted growth) and clocks, against the value.
fn sweep_plots(
    rows: &[SweepRow],
    x_desc: &str,
    trials: u32,
) -> Result<Vec<(&'static str, String)>, Failure> {
    let line = |name: &str, f: fn(&SweepRow) -> f64| {
        (
            name.to_string(),
            rows.iter().map(|r| (r.value, f(r))).collect::<Vec<_>>(),
        )
    };
    let queue = report::plots::sweep_plot(
        &format!("Queues against {x_desc} (mean of {trials} trials)"),
        x_desc,
        "messages",
        &[
            line("machine 1's final queue", |r| r.slow_final_queue),
            line("longest queue of any machine", |r| r.max_queue),
            line("predicted: (arrivals - rate) x duration", |r| r.growth),
        ],
    )?;
    let clocks = report::plots::sweep_plot(
        &format!("Clocks against {x_desc} (mean of {trials} trials)"),
        x_desc,
        "clock units",
        &[
            line("final drift (largest - smallest final clock)", |r| {
                r.final_drift
            }),
            line("largest single jump", |r| r.max_jump),
        ],
    )?;
    Ok(vec![
        ("sweep-queue.svg", queue),
        ("sweep-clocks.svg", clocks),
    ])
}

/// The messages per second machine `index` (0-based) receives, in the steady state of the model.
///
/// A machine j draws r from 1..=R only on a tick with an empty queue, and sends a given other
/// machine a message when r names it (1 chance in R) or when r = N, a broadcast (1 chance in R),
/// whatever N is. So machine i receives `arrivals_i = sum over j != i of rate_j * idle_j * 2 / R`,
/// where `idle_j`, the share of j's ticks that find its queue empty, is
/// `1 - min(1, arrivals_j / rate_j)`: a machine that receives faster than it ticks is never idle
/// and sends nothing. The fixed point is found by damped iteration from "everyone idle" (the
/// undamped map swings between its extremes when many machines share a small R); the first step
/// alone is the first-order estimate `sum rate_j * 2 / R`.
pub fn predicted_arrivals(rates: &[f64], action_range: u32, index: usize) -> f64 {
    /// How far each step moves towards the map's answer: below 2 / (1 + (N - 1) * 2 / R), which
    /// is at least 2/3 since R >= N, so the iteration contracts.
    const DAMPING: f64 = 0.5;
    let per_tick = 2.0 / f64::from(action_range);
    let sent = |idle: &[f64]| -> Vec<f64> {
        rates
            .iter()
            .zip(idle)
            .map(|(rate, idle)| rate * idle * per_tick)
            .collect()
    };
    // What machine i receives: everything sent, less what it sends itself.
    let arrivals = |sent: &[f64], i: usize| sent.iter().sum::<f64>() - sent[i];
    let mut idle = vec![1.0; rates.len()];
    for _ in 0..10_000 {
        let out = sent(&idle);
        let mut moved = 0.0f64;
        for (i, idle_i) in idle.iter_mut().enumerate() {
            let target = 1.0 - (arrivals(&out, i) / rates[i]).min(1.0);
            let next = *idle_i + DAMPING * (target - *idle_i);
            moved = moved.max((next - *idle_i).abs());
            *idle_i = next;
        }
        if moved < 1e-12 {
            break;
        }
    }
    arrivals(&sent(&idle), index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicted_arrivals_count_only_idle_ticks() {
        // Two peers at 6 ticks/s, R = 10, machine 1 overloaded (never idle): each peer receives
        // 1.2 * idle from the other, so idle = 1 - 0.2 idle = 5/6, and machine 1 receives
        // 2 * 6 * (5/6) * 0.2 = 2 messages a second.
        assert!((predicted_arrivals(&[1.0, 6.0, 6.0], 10, 0) - 2.0).abs() < 1e-9);
        // A peer receives 1.2 * 5/6 = 1 from the other peer and nothing from machine 1.
        assert!((predicted_arrivals(&[1.0, 6.0, 6.0], 10, 1) - 1.0).abs() < 1e-9);
        // Everyone fast and equal: nobody is overloaded; a = 2 * 6 * 0.2 * (1 - a / 6).
        let a = predicted_arrivals(&[6.0, 6.0, 6.0], 10, 0);
        assert!((a - 2.4 * (1.0 - a / 6.0)).abs() < 1e-9, "{a}");
        assert!((a - 2.4 / 1.4).abs() < 1e-9, "{a}");
        // Many machines on a small R, where the undamped map swings: a = 8 f, f = 1 - 8 f / 6.
        let a = predicted_arrivals(&[6.0, 6.0, 6.0], 3, 0);
        assert!((a - 24.0 / 7.0).abs() < 1e-9, "{a}");
        let mut thirty = vec![6.0; 30];
        thirty[0] = 1.0;
        let a = predicted_arrivals(&thirty, 30, 0);
        assert!(a > 1.0 && a < 6.0, "{a}");
    }

    #[test]
    fn mean_and_sample_deviation() {
        let zero = MeanStd {
            mean: 0.0,
            std: 0.0,
        };
        assert_eq!(mean_std(&[]), zero);
        assert_eq!(mean_std(&[4.0]), MeanStd { mean: 4.0, ..zero });
        let MeanStd { mean, std } = mean_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(mean, 5.0);
        assert!((std - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
    }
}
