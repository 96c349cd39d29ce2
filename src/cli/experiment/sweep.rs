//! `clocklab experiment sweep`: one parameter over a list of values, many simulated trials each.
//! This file wires: it checks the settings, simulates, and writes what `analysis::sweep` works
//! out and `report::sweep` renders (the table, `sweep.csv`, `sweep-trials.csv`, the plots and
//! `sweep.html`).

use std::process::ExitCode;
use std::time::Instant;

use super::study_config;
use crate::analysis::sweep::{StudyFigures, SweepModel, SweepRow, SweepTrial, Swept};
use crate::cli::args::{SweepArgs, SweepParam};
use crate::cli::common::Failure;
use crate::config::Rates;
use crate::core::seed::{self, Stream};
use crate::net::wallclock::WallClock;
use crate::report::sweep::{
    SWEEP_CSV, SWEEP_REPORT, SWEEP_TRIALS_CSV, console_head, console_row, sweep_csv, sweep_html,
    sweep_plots, sweep_table, sweep_trials_csv,
};
use crate::rundir::dirs::{create_run_dir, utc_stamp};
use crate::sim::{self, DEFAULT_EPOCH_NS, SimOptions};

/// Writes `text` to `dir/name`, naming the file if it fails.
fn write(dir: &std::path::Path, name: &str, text: &str) -> Result<(), Failure> {
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
    println!(
        "sweep of {param_name} over {:?}: {n} machines, {} trials of {} s each, peers at {} ticks/s, seed {master}",
        args.values, args.trials, config.run.duration, args.peer_rate
    );
    let started = Instant::now();
    println!("\n{}", console_head(model.swept));
    let mut events = 0u64;
    let mut rows: Vec<SweepRow> = Vec::new();
    let mut all_trials: Vec<SweepTrial> = Vec::new();
    for (&value, plan) in args.values.iter().zip(&plans) {
        let (slow_rate, action_range) = model.setting(value);
        let mut per_trial = Vec::new();
        for k in 1..=args.trials {
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
                faults: plan.clone(),
            };
            // The router's rules with the configuration's `router:` section: held frames of a
            // swept partition or delay count against its limits, as in `simulate`.
            let router = config.router_options(opts.seed);
            let outcome = sim::simulate_with_router(&opts, router, |_| {})
                .map_err(|e| format!("{param_name} = {value}: {e}"))?;
            events += outcome.events;
            let figures = StudyFigures::of(&outcome.summaries);
            per_trial.push(figures);
            all_trials.push(SweepTrial {
                value,
                trial: k,
                seed: opts.seed,
                figures,
            });
        }
        let row = SweepRow::of(&model, value, &per_trial);
        println!("{}", console_row(&model, &row));
        rows.push(row);
    }
    let stamp = utc_stamp(WallClock::new().now_ns() / 1_000_000_000);
    let dir = create_run_dir(
        &config.run.log_dir,
        &format!("{stamp}-sweep-{param_name}-seed-{master}"),
    )?;
    write(&dir, SWEEP_CSV, &sweep_csv(&model, args.trials, &rows))?;
    write(
        &dir,
        SWEEP_TRIALS_CSV,
        &sweep_trials_csv(&model, &all_trials),
    )?;
    let plots = sweep_plots(&model, args.trials, &rows)?;
    for plot in &plots {
        write(&dir, &plot.file, &plot.svg)?;
    }
    let title = format!("Sweep of {param_name}");
    let swept = if model.swept.is_fault() {
        format!(
            "machine 1 at {} ticks/s under the swept fault (the prediction is fair weather's)",
            args.slow_rate
        )
    } else {
        "machine 1 swept".to_owned()
    };
    let lead = format!(
        "{n} machines, {swept}, peers at {} ticks/s, {} trials of {} s per value, seed {master}",
        args.peer_rate, args.trials, config.run.duration
    );
    let table = sweep_table(model.swept, &rows);
    write(
        &dir,
        SWEEP_REPORT,
        &sweep_html(&title, &lead, &table, &plots),
    )?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "\n  arrivals/s: the messages per second the model predicts for machine 1 (docs/ANALYSIS.md);\n  \
         its queue grows without bound, by about arrivals - rate per second, once they exceed its rate.\n\
         {events} events in {secs:.2} s; table (sweep.csv, and a row per trial in sweep-trials.csv), plots \
         (sweep-queue.svg, sweep-clocks.svg) and sweep.html in {}",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
