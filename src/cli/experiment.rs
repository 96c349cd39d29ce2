//! `clocklab experiment`: whole studies on the simulator in one command.
//!
//! - `classic`: the three scenarios of the classic lab (baseline; smaller variation in tick rates;
//!   fewer internal events), each over many trials, written as simulated runs side by side so that
//!   `clocklab analyze` compares them.
//! - `sweep`: one parameter (the slow machine's rate, or the action range) over a list of values,
//!   many seeds each, summarised in a table and `sweep.csv`: queue peak, final drift and max jump
//!   against the parameter, with the queue's predicted arrival rate beside it.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use crate::analysis::queueing::{predicted_arrivals, stability_boundary};
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
    /// The largest queue peak of any machine (its queue right after a message arrived).
    queue_peak: f64,
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
            queue_peak: summaries
                .iter()
                .map(|s| s.queue_peak)
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
        "scenario", "queue peak", "final drift", "max jump"
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
         slow_final_queue_mean,slow_final_queue_std,queue_peak_mean,queue_peak_std,\
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
        "queue peak",
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
            stat(|t| t.queue_peak),
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
            arrivals: predicted,
            growth: (predicted - slow_rate).max(0.0) * config.run.duration,
            slow_final_queue: s,
            queue_peak: q,
            final_drift: d,
            max_jump: j,
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
    // The model's prediction at any value of the parameter: the same machines, rates and R.
    let setting = |x: f64| match args.param {
        SweepParam::SlowRate => (x, config.machines.action_range),
        SweepParam::ActionRange => (args.slow_rate, (x.round() as u32).max(u32::from(n))),
    };
    let excess = |x: f64| {
        let (slow_rate, r) = setting(x);
        let mut rates = vec![args.peer_rate; usize::from(n)];
        rates[0] = slow_rate;
        predicted_arrivals(&rates, r, 0) - slow_rate
    };
    let shape = SweepShape {
        x_desc,
        trials: args.trials,
        duration_s: config.run.duration,
        integer_x: matches!(args.param, SweepParam::ActionRange),
    };
    let plots = sweep_plots(&rows, &shape, &excess)?;
    for plot in &plots {
        let path = dir.join(&plot.file);
        std::fs::write(&path, &plot.svg).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    let title = format!("Sweep of {param_name}");
    let lead = format!(
        "{n} machines, machine 1 swept, peers at {} ticks/s, {} trials of {} s per value, seed \
         {master}",
        args.peer_rate, args.trials, config.run.duration
    );
    let html = report::sweep::sweep_html(&title, &lead, &sweep_table(&rows, param_name), &plots);
    let path = dir.join(report::sweep::SWEEP_REPORT);
    std::fs::write(&path, html).map_err(|e| format!("writing {}: {e}", path.display()))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "\n  arrivals/s: the messages per second the model predicts for machine 1 (docs/ANALYSIS.md);\n  \
         its queue grows without bound, by about arrivals - rate per second, once they exceed its rate.\n\
         {events} events in {secs:.2} s; table, plots (sweep-queue.svg, sweep-clocks.svg) and sweep.html in {}",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// One value of a sweep: the means and deviations over its trials.
struct SweepRow {
    value: f64,
    /// The messages per second the model predicts for machine 1.
    arrivals: f64,
    /// The queue growth the arrival rate predicts over the trial: (arrivals - rate) x duration.
    growth: f64,
    slow_final_queue: MeanStd,
    queue_peak: MeanStd,
    final_drift: MeanStd,
    max_jump: MeanStd,
}

/// What the sweep's plots need to know besides its rows.
struct SweepShape<'a> {
    x_desc: &'a str,
    trials: u32,
    duration_s: f64,
    /// The parameter takes whole values only (the action range).
    integer_x: bool,
}

/// The sweep's two plots: queues (measured, with error bars, and the predicted growth as a
/// continuous line with the boundary) and clocks. `excess(x)` is the predicted arrivals minus
/// machine 1's rate at the value `x`.
fn sweep_plots(
    rows: &[SweepRow],
    shape: &SweepShape<'_>,
    excess: &dyn Fn(f64) -> f64,
) -> Result<Vec<report::Plot>, Failure> {
    let measured = |name: &str, f: fn(&SweepRow) -> MeanStd| report::plots::Measured {
        name: name.to_string(),
        points: rows
            .iter()
            .map(|r| (r.value, f(r).mean, f(r).std))
            .collect(),
    };
    let (lo, hi) = rows.iter().fold((f64::MAX, f64::MIN), |(lo, hi), r| {
        (lo.min(r.value), hi.max(r.value))
    });
    // A fine grid over the range (every whole value for the action range).
    let grid: Vec<f64> = if shape.integer_x {
        (lo.round() as u32..=hi.round() as u32)
            .map(f64::from)
            .collect()
    } else {
        (0..=400)
            .map(|k| lo + (hi - lo) * f64::from(k) / 400.0)
            .collect()
    };
    let predicted = report::plots::Predicted {
        name: "predicted: (arrivals - rate) x duration".into(),
        curve: grid
            .iter()
            .map(|&x| (x, excess(x).max(0.0) * shape.duration_s))
            .collect(),
        boundary: stability_boundary(lo, hi, excess),
    };
    let (x_desc, trials) = (shape.x_desc, shape.trials);
    let queue = report::plots::sweep_error_plot(
        &format!("Queues against {x_desc} (mean ± sd of {trials} trials)"),
        x_desc,
        "messages",
        &[
            measured("machine 1's final queue", |r| r.slow_final_queue),
            measured("queue peak of any machine", |r| r.queue_peak),
        ],
        Some(&predicted),
    )?;
    let clocks = report::plots::sweep_error_plot(
        &format!("Clocks against {x_desc} (mean ± sd of {trials} trials)"),
        x_desc,
        "clock units",
        &[
            measured("final drift (largest - smallest final clock)", |r| {
                r.final_drift
            }),
            measured("largest single jump", |r| r.max_jump),
        ],
        None,
    )?;
    let plot = |file: &str, title: &str, svg| report::Plot {
        file: file.into(),
        title: title.into(),
        svg,
    };
    Ok(vec![
        plot("sweep-queue.svg", "Queues against the swept value", queue),
        plot("sweep-clocks.svg", "Clocks against the swept value", clocks),
    ])
}

/// The sweep's table for its report: one row per value, means ± deviations.
fn sweep_table(rows: &[SweepRow], param: &str) -> report::sweep::SweepTable {
    let pm = |m: MeanStd| format!("{:.1} ± {:.1}", m.mean, m.std);
    report::sweep::SweepTable {
        headers: [
            param,
            "predicted arrivals/s",
            "predicted final queue",
            "machine 1's final queue",
            "queue peak",
            "final drift",
            "largest jump",
        ]
        .map(String::from)
        .to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.value.to_string(),
                    format!("{:.2}", r.arrivals),
                    format!("{:.1}", r.growth),
                    pm(r.slow_final_queue),
                    pm(r.queue_peak),
                    pm(r.final_drift),
                    pm(r.max_jump),
                ]
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
