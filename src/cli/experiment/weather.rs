//! `clocklab experiment weather`: fair weather beside one fault at a time on the slowest machine,
//! many simulated trials each. This file wires: it simulates each scenario of
//! `analysis::weather_study` as a run of its own (its plan in `run.yaml`, checked as `simulate`
//! checks), works out each trial's figures, writes what `report::weather_study` renders (the
//! table, `scenarios.csv`, the plots and `scenarios.html`) and compares the runs with `analyze`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use super::{simulate_scenario, study_config};
use crate::analysis::load::analyze_trial_dir;
use crate::analysis::weather::label;
use crate::analysis::weather_study::{WeatherFigures, WeatherRow, scenarios};
use crate::cli::args::WeatherArgs;
use crate::cli::common::Failure;
use crate::cli::trials;
use crate::config::Rates;
use crate::net::wallclock::WallClock;
use crate::report::weather_study::{
    SCENARIOS_CSV, SCENARIOS_REPORT, console_table, scenario_plots, scenarios_csv, scenarios_html,
};
use crate::rundir::dirs::{create_run_dir, utc_stamp};
use crate::rundir::plan::TrialPlan;

/// Writes `text` to `dir/name`, naming the file if it fails.
fn write(dir: &Path, name: &str, text: &str) -> Result<(), Failure> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// `clocklab experiment weather`.
pub fn weather(args: WeatherArgs) -> Result<ExitCode, Failure> {
    let (mut config, master) = study_config(&args.study)?;
    config.run.trials = args.trials;
    // Every trial has the same rates, so that "the slowest machine" is one machine: the
    // configured list, or 2, 4, 6 ticks/s (6 for any machine after the third).
    let rates = match &config.machines.rates {
        Rates::List(rates) => rates.clone(),
        Rates::Random => (1..=config.machines.count)
            .map(|k| f64::from((2 * k).min(6)))
            .collect(),
    };
    config.machines.rates = Rates::List(rates.clone());
    config.validate("command line").map_err(|e| e.to_string())?;
    let listed: Vec<String> = rates.iter().map(f64::to_string).collect();
    let all = scenarios(&rates, config.run.duration);
    // Every plan must be valid before anything is simulated.
    let mut configs = Vec::with_capacity(all.len());
    for scenario in &all {
        let mut c = config.clone();
        c.faults = scenario.faults.clone();
        c.fault_plan(&format!("scenario {}", scenario.name))
            .map_err(|e| e.to_string())?;
        configs.push(c);
    }
    let stamp = utc_stamp(WallClock::new().now_ns() / 1_000_000_000);
    let dir = create_run_dir(
        &config.run.log_dir,
        &format!("{stamp}-weather-seed-{master}"),
    )?;
    println!(
        "weather experiment {}: {} scenarios x {} trials of {} s, rates {} ticks/s, seed {master}",
        dir.display(),
        all.len(),
        args.trials,
        config.run.duration,
        listed.join(", ")
    );
    let started = Instant::now();
    let mut rows = Vec::with_capacity(all.len());
    let mut per_scenario = Vec::with_capacity(all.len());
    for (scenario, scenario_config) in all.iter().zip(&configs) {
        let scenario_dir = dir.join(scenario.name);
        let every: Vec<u32> = (1..=args.trials).collect();
        simulate_scenario(
            &scenario_dir,
            scenario.name,
            scenario_config,
            master,
            &args.study,
            &every,
        )?;
        // Each trial's figures from its files, on the same jobs, taken in trial order.
        let mut figures = Vec::with_capacity(args.trials as usize);
        let work = |k: u32| {
            let trial = TrialPlan::new(scenario_config, &scenario_dir, master, k);
            let (analysis, input, record) =
                analyze_trial_dir(&trial.dir, k).map_err(|e| e.to_string())?;
            let router = record.as_ref().and_then(|r| r.router.as_ref());
            let plan: Vec<String> = input.faults.iter().map(label).collect();
            Ok((WeatherFigures::of(&analysis, router), plan))
        };
        trials::in_order(trials::jobs(&args.study.jobs), every, work, |(f, plan)| {
            if figures.is_empty() {
                println!(
                    "  {:<15} {}",
                    scenario.name,
                    if plan.is_empty() {
                        "fair weather".to_owned()
                    } else {
                        plan.join("; ")
                    }
                );
            }
            figures.push(f);
            Ok(())
        })?;
        rows.push(WeatherRow::of(scenario, &figures));
        per_scenario.push((scenario.name.to_owned(), figures));
    }
    println!(
        "done in {:.2} s; every trial passed its check\n\n{}\n  (mean ± standard deviation over \
         {} trials; held and dropped frames from router.yaml)",
        started.elapsed().as_secs_f64(),
        console_table(&rows),
        args.trials
    );
    write(&dir, SCENARIOS_CSV, &scenarios_csv(&rows))?;
    let plots = scenario_plots(args.trials, &per_scenario)?;
    for plot in &plots {
        write(&dir, &plot.file, &plot.svg)?;
    }
    let lead = format!(
        "{} machines at {} ticks/s, action range {}, {} trials of {} s per scenario, latency {}, \
         seed {master}",
        rates.len(),
        listed.join(", "),
        config.machines.action_range,
        args.trials,
        config.run.duration,
        args.study.latency
    );
    write(
        &dir,
        SCENARIOS_REPORT,
        &scenarios_html("The weather experiment", &lead, &rows, &plots),
    )?;
    println!(
        "\ntable, plots and {SCENARIOS_REPORT} in {}\n\nthe scenarios side by side (clocklab analyze):\n",
        dir.display()
    );
    super::analyze_side_by_side(&dir, all.iter().map(|s| s.name), &args.study.jobs)
}
