//! `clocklab experiment sweep`: one parameter over a list of values, many simulated trials each;
//! its table, `sweep.csv`, its plots and `sweep.html`.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use super::{MeanStd, TrialFigures, mean_std, study_config};
use crate::analysis::queueing::{predicted_arrivals, stability_boundary};
use crate::cli::args::{SweepArgs, SweepParam};
use crate::cli::common::Failure;
use crate::config::Rates;
use crate::core::seed::{self, Stream};
use crate::net::wallclock::WallClock;
use crate::report;
use crate::rundir::dirs::{create_run_dir, utc_stamp};
use crate::sim::{self, DEFAULT_EPOCH_NS, SimOptions};

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
                tick_lateness: None,
                measured: None,
                faults: Default::default(),
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
