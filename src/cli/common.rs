//! What the subcommands share: the configuration they load and override, the lines the router
//! prints for `run`, the table printed after a trial and the one across trials, and how a failure
//! reads (the next step they suggest is `hint`'s).

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use crate::analysis::stats::{STATS, Summary};
use crate::cli::args::ModelArgs;
use crate::config::{Config, MAX_MACHINES, Rates};
use crate::rundir::dirs::utc_human;
use crate::rundir::records::{ClientSummary, RunRecord};

pub use super::hint::{hint, next_step};

/// The line the router prints first, followed by its address; `run` reads it.
pub const LISTENING: &str = "router listening on ";
/// The line the router prints once every machine is welcomed, followed by the start time as
/// people read it and, for `run`, in nanoseconds since the UNIX epoch: [`started_line`].
pub const STARTED: &str = "router started at ";

/// The router's [`STARTED`] line for the start time `start_ns` (nanoseconds since the UNIX
/// epoch): `router started at 2026-12-05 23:25:01.234 UTC (unix_ns 1796512345678901234)`.
pub fn started_line(start_ns: u64) -> String {
    format!("{STARTED}{} (unix_ns {start_ns})", utc_human(start_ns))
}

/// The start time in nanoseconds from the rest of a [`started_line`] (after [`STARTED`]), or
/// `None` when it holds none.
pub fn started_ns(rest: &str) -> Option<u64> {
    let (_, tail) = rest.rsplit_once("(unix_ns ")?;
    tail.trim_end().strip_suffix(')')?.parse().ok()
}

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

/// Resolves a host name or address and a port to one socket address, as `what` (the option or
/// field it came from) for the error. An IPv4 address is preferred when the name has both, so
/// that a router bound to `localhost` and a client sent to `localhost` pick the same one.
pub fn resolve(what: &str, host: &str, port: u16) -> Result<SocketAddr, Failure> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| {
            format!("{what}: the host {host:?} does not resolve ({e}); give an IP address or a name this machine can resolve, e.g. 127.0.0.1 or localhost")
        })?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("{what}: the host {host:?} resolves to no address; give an IP address or a name this machine can resolve, e.g. 127.0.0.1 or localhost"))
}

/// Resolves `HOST:PORT` (a name or an address, e.g. `localhost:8000` or `[::1]:8000`) with
/// [`resolve`], as `what` for the error.
pub fn resolve_host_port(what: &str, text: &str) -> Result<SocketAddr, Failure> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let (host, port) = text
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
        .ok_or_else(|| {
            format!("{what} {text:?} is not HOST:PORT; give a host name or address and a port from 0 to 65535, e.g. localhost:8000 or 127.0.0.1:8000")
        })?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    resolve(&format!("{what} {text}"), host, port)
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
    apply_faults(
        &mut config,
        args.faults.as_deref(),
        args.common.config.as_deref(),
    )?;
    config.validate("command line").map_err(|e| {
        let mut text = e.to_string();
        if let Some(hint) = rates_hint(args, &config) {
            text.push_str("; ");
            text.push_str(&hint);
        }
        text
    })?;
    Ok(config)
}

/// When a list of rates and the number of machines disagree, the command line that agrees:
/// `--machines K` for `--rates` with K rates (K from 2 to [`MAX_MACHINES`]), or as many rates as
/// `--machines` asks for.
fn rates_hint(args: &ModelArgs, config: &Config) -> Option<String> {
    let Rates::List(list) = &config.machines.rates else {
        return None;
    };
    let (k, n) = (list.len(), config.machines.count);
    if k == usize::from(n) {
        return None;
    }
    let fits = u16::try_from(k).is_ok_and(|k| (2..=MAX_MACHINES).contains(&k));
    Some(match (&args.rates, args.machines) {
        (Some(_), None) if fits => {
            format!("--rates lists {k} rates: add --machines {k}, or list {n} rates")
        }
        (Some(_), _) if k == 1 => format!("--rates lists 1 rate for {n} machines: list {n} rates"),
        (Some(_), _) => format!("--rates lists {k} rates for {n} machines: list {n} rates"),
        (None, _) => format!(
            "the configuration lists {k} rates for {n} machines: give --rates with {n} rates"
        ),
    })
}

/// Puts the fault plan of `--faults FILE` in place of the configuration's (when given), and
/// checks the plan in force against the configuration as overridden, so that its errors name
/// the file the faults were written in: FILE, or the configuration file (`config_path`, or the
/// default one).
pub fn apply_faults(
    config: &mut Config,
    faults: Option<&Path>,
    config_path: Option<&Path>,
) -> Result<(), Failure> {
    let origin = match faults {
        Some(path) => {
            config.faults =
                crate::config::faults::load_fault_file(path).map_err(|e| e.to_string())?;
            path
        }
        None => config_path.unwrap_or(Path::new(DEFAULT_CONFIG)),
    };
    config
        .fault_plan(&origin.display().to_string())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Nanoseconds since the UNIX epoch as seconds with six decimals, as the logs write times.
pub fn seconds(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, ns % 1_000_000_000 / 1_000)
}

/// A headline figure of a machine, read from its summary.
pub type Headline = fn(&ClientSummary) -> f64;

/// The headline figures of a machine in a trial, as the per-trial table shows them and the table
/// across trials summarizes them: heading, width and value from the machine's summary. Events
/// are its log rows (one per tick); `sends` and `broadcasts` count those rows by kind, as the
/// machine's own line does (`10 sends, 3 broadcasts`): a broadcast is not a send.
pub const HEADLINE: [(&str, usize, Headline); 8] = [
    ("rate", 6, |s| s.rate),
    ("events", 7, |s| s.ticks as f64),
    ("sends", 6, |s| count(s, "send") as f64),
    ("broadcasts", 10, |s| count(s, "broadcast") as f64),
    ("receives", 8, |s| count(s, "receive") as f64),
    ("final clock", 11, |s| s.final_clock as f64),
    ("max jump", 8, |s| s.max_jump as f64),
    ("queue peak", 10, |s| f64::from(s.queue_peak)),
];

fn count(s: &ClientSummary, kind: &str) -> u64 {
    s.events.get(kind).copied().unwrap_or(0)
}

/// The per-machine table printed after each trial.
pub fn print_summary(record: &RunRecord) {
    println!(
        "trial {}/{} (seed {}):",
        record.trial, record.trials, record.seed
    );
    let mut head = format!("  {:>7} {:<16}", "machine", "name");
    for (name, width, _) in HEADLINE {
        head.push_str(&format!(" {name:>width$}"));
    }
    println!("{head}");
    for m in &record.machines {
        match &m.summary {
            Some(s) => {
                let mut line = format!("  {:>7} {:<16}", m.id, m.name);
                for (_, width, value) in HEADLINE {
                    line.push_str(&format!(" {:>width$}", value(s)));
                }
                println!("{line}");
            }
            None => println!(
                "  {:>7} {:<16} {:>6}  no summary: the machine did not stop in order",
                m.id, m.name, m.rate
            ),
        }
    }
}

/// One trial as the table across trials sees it: whether it ended in order, and the summaries of
/// its machines (those that wrote one).
#[derive(Clone, Debug, PartialEq)]
pub struct TrialOutcome {
    /// Whether the trial is complete: not interrupted, and every process stopped in order.
    pub complete: bool,
    /// Its machines' summaries.
    pub summaries: Vec<ClientSummary>,
}

impl TrialOutcome {
    /// The outcome of the trial `record` records.
    pub fn of(record: &RunRecord) -> TrialOutcome {
        TrialOutcome {
            complete: !record.interrupted && record.problems().is_empty(),
            summaries: record
                .machines
                .iter()
                .filter_map(|m| m.summary.clone())
                .collect(),
        }
    }
}

/// The table across trials: per machine and rate (with `rates: random` a machine's rate changes
/// from trial to trial, and a mean over several rates would describe no machine that ran), the
/// number of trials at that rate and the mean, sample standard deviation (`std`), min and max over
/// them of each [`HEADLINE`] figure but the rate, after a line saying how many trials it counts.
/// Incomplete trials are left out (and counted apart) unless `include_incomplete`. Empty for
/// fewer than two trials.
pub fn across_trials_table(outcomes: &[TrialOutcome], include_incomplete: bool) -> String {
    let k = outcomes.len();
    if k < 2 {
        return String::new();
    }
    let incomplete = outcomes.iter().filter(|o| !o.complete).count();
    let counted: Vec<&TrialOutcome> = outcomes
        .iter()
        .filter(|o| include_incomplete || o.complete)
        .collect();
    let mut out = format!("across trials: {} of {k} trials", counted.len());
    if incomplete > 0 && include_incomplete {
        out.push_str(&format!(
            " ({incomplete} incomplete, counted: --include-incomplete)"
        ));
    } else if incomplete > 0 {
        out.push_str(&format!(
            " ({incomplete} incomplete, left out; --include-incomplete counts them)"
        ));
    }
    out.push_str(", per machine and rate mean, std, min and max\n");
    // Each machine's summaries by rate: rates are positive, so their bits sort as they do.
    let mut groups: BTreeMap<(u16, u64), Vec<&ClientSummary>> = BTreeMap::new();
    for s in counted.iter().flat_map(|o| &o.summaries) {
        groups.entry((s.id, s.rate.to_bits())).or_default().push(s);
    }
    if groups.is_empty() {
        out.push_str("  no trial to summarize\n");
        return out;
    }
    // The rate is the group's key, not a figure to summarize (a test checks it comes first).
    let figures = &HEADLINE[1..];
    out.push_str(&format!(
        "  {:>7} {:>6} {:>6} {:<5}",
        "machine", "rate", "trials", "stat"
    ));
    for (name, width, _) in figures {
        out.push_str(&format!(" {name:>width$}"));
    }
    out.push('\n');
    for ((id, rate), summaries) in &groups {
        let stats: Vec<Option<Summary>> = figures
            .iter()
            .map(|(_, _, value)| {
                let values: Vec<f64> = summaries.iter().map(|s| value(s)).collect();
                Summary::of(&values)
            })
            .collect();
        // mean, std, min and max: every statistic but n (the trials column).
        for (k, &(stat, get)) in STATS[1..].iter().enumerate() {
            let mut line = if k == 0 {
                let rate = number(f64::from_bits(*rate));
                format!("  {id:>7} {rate:>6} {:>6} {stat:<5}", summaries.len())
            } else {
                format!("  {:>7} {:>6} {:>6} {stat:<5}", "", "", "")
            };
            for ((_, width, _), s) in figures.iter().zip(&stats) {
                let cell = s
                    .as_ref()
                    .and_then(get)
                    .map_or_else(|| "-".to_owned(), number);
                line.push_str(&format!(" {cell:>width$}"));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}

/// A figure of the table across trials: a whole number as it is, anything else with 2 decimals.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests;
