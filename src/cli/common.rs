//! What the subcommands share: the configuration they load and override, the lines the router
//! prints for `run`, the table printed after a trial, and how a failure reads.

use std::path::Path;
use std::time::Duration;

use crate::cli::args::ModelArgs;
use crate::config::{Config, Rates};
use crate::rundir::records::RunRecord;

/// The line the router prints first, followed by its address; `run` reads it.
pub const LISTENING: &str = "router listening on ";
/// The line the router prints once every machine is welcomed, followed by the start time in
/// nanoseconds since the UNIX epoch; `run` reads it.
pub const STARTED: &str = "router started at ";

/// A command's failure: the message to print.
pub type Failure = String;

/// The configuration file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG: &str = "config/config.yaml";

/// Loads the configuration named on the command line; without one, `config/config.yaml` when
/// there is one (run from the repository), else the built-in defaults (the same values).
pub fn load_config(path: Option<&Path>) -> Result<Config, Failure> {
    let default = Path::new(DEFAULT_CONFIG);
    match path {
        Some(path) => Config::load(path),
        None if default.exists() => Config::load(default),
        None => Ok(Config::default()),
    }
    .map_err(|e| e.to_string())
}

/// Seconds from the configuration as a `Duration` (validation keeps them finite and bounded).
pub fn secs(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or(Duration::ZERO)
}

/// The configuration file with the command line's overrides, validated.
pub fn configure(args: &ModelArgs) -> Result<Config, Failure> {
    let mut config = load_config(args.common.config.as_deref())?;
    if let Some(d) = args.duration {
        config.run.duration = d;
    }
    if let Some(n) = args.machines {
        config.set_machine_count(n);
    }
    if let Some(rates) = &args.rates {
        config.machines.rates = Rates::List(rates.clone());
    }
    if let Some(seed) = args.seed {
        config.run.seed = Some(seed);
    }
    if let Some(r) = args.action_range {
        config.machines.action_range = r;
    }
    if let Some(k) = args.trials {
        config.run.trials = k;
    }
    if let Some(out) = &args.out {
        config.run.log_dir = out.clone();
    }
    config.validate("command line").map_err(|e| e.to_string())?;
    Ok(config)
}

/// Nanoseconds since the UNIX epoch as seconds with six decimals, as the logs write times.
pub fn seconds(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, ns % 1_000_000_000 / 1_000)
}

/// The per-machine table printed after each trial.
pub fn print_summary(record: &RunRecord) {
    println!(
        "trial {}/{} (seed {}):",
        record.trial, record.trials, record.seed
    );
    println!(
        "  {:>7} {:<18} {:>6} {:>7} {:>6} {:>8} {:>11} {:>8} {:>9}",
        "machine",
        "name",
        "rate",
        "events",
        "sends",
        "receives",
        "final clock",
        "max jump",
        "max queue"
    );
    for m in &record.machines {
        match &m.summary {
            Some(s) => {
                let count = |k: &str| s.events.get(k).copied().unwrap_or(0);
                println!(
                    "  {:>7} {:<18} {:>6} {:>7} {:>6} {:>8} {:>11} {:>8} {:>9}",
                    m.id,
                    m.name,
                    m.rate,
                    s.ticks,
                    count("send") + count("broadcast"),
                    count("receive"),
                    s.final_clock,
                    s.max_jump,
                    s.max_queue
                );
            }
            None => println!(
                "  {:>7} {:<18} {:>6}  no summary: the machine did not stop in order",
                m.id, m.name, m.rate
            ),
        }
    }
}
