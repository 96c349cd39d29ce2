//! `clocklab client`: one model machine, for runs started by hand (or several, each with its own
//! connection, log and summary: `--machines-per-process K`, as `run` starts them above 64
//! machines).
//!
//! It tells the person who started it what happens on standard output, as the router does
//! (`RUST_LOG` adds the log lines on standard error): that it waits for the other machines,
//! its id, N and rate once WELCOME comes, when the run starts, and its summary.

use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;

use crate::cli::args::ClientArgs;
use crate::cli::common::{Failure, load_config, resolve, resolve_host_port, seconds, secs};
use crate::config::{Config, Rates, faults};
use crate::core::machine::{RateError, check_rate};
use crate::net::client::{
    self, ClientError, ClientNotice, ClientOptions, LogDir, RateQuery, RateUnknown,
};
use crate::rundir::dirs::utc_human;
use crate::rundir::records::ClientSummary;
use crate::rundir::{prepare_dir, refuse_used_dir};

/// `clocklab client`: runs one machine (or `--machines-per-process K` of them, on one event
/// loop) until the router stops it, writes its log and summary.
pub fn command(args: ClientArgs) -> Result<ExitCode, Failure> {
    let mut config = load_config(args.common.config.as_deref())?;
    if let Some(t) = args.handshake_timeout {
        config.machines.handshake_timeout = t;
    }
    let count = args.machines_per_process.unwrap_or(1);
    let names = machine_names(&args.address, args.port, count)?;
    let log_dir = match &args.log_dir {
        Some(dir) => {
            prepare_dir(dir)?;
            // Every machine of a run checks before it says HELLO; logs appear only after all have.
            refuse_used_dir(dir)?;
            LogDir::Given(dir.clone())
        }
        // The run's own directory, new for each run, is made once WELCOME names it.
        None => LogDir::PerRun(config.run.log_dir.clone()),
    };
    let router = match &args.router {
        Some(text) => resolve_host_port("--router", text)?,
        None => resolve("router.host", &config.router.host, config.router.port)?,
    };
    // Without a seed here, the router's (sent in WELCOME) seeds the whole run.
    let run_seed = args.seed.or(config.run.seed);
    let action_range = args.action_range.unwrap_or(config.machines.action_range);
    let rates = given_rates(args.rate.as_deref(), count)?;
    let (offset_ms, drift_ppm) = (
        args.clock_offset_ms.unwrap_or(0.0),
        args.clock_drift_ppm.unwrap_or(0.0),
    );
    let clock_skew = faults::clock_skew(offset_ms, drift_ppm).map_err(|(field, allowed)| {
        let (flag, value) = match field {
            "offset_ms" => ("--clock-offset-ms", offset_ms),
            _ => ("--clock-drift-ppm", drift_ppm),
        };
        format!("{flag} {value} is not allowed; {allowed}")
    })?;
    let mut dirs = Vec::new();
    let mut machines = Vec::new();
    for (name, rate) in names.iter().zip(rates) {
        if !clock_skew.is_perfect() {
            println!(
                "{name}: a bad clock (a clock fault): {offset_ms} ms ahead at the start, \
                 {drift_ppm} ppm fast; it stamps this machine's log rows and frames"
            );
        }
        let rate_for: client::RateFor = match rate {
            Some(rate) => Box::new(move |_| Ok(rate)),
            None => rate_from_config(&config),
        };
        // The directory is known for sure only once WELCOME has named it.
        let dir: Rc<RefCell<PathBuf>> = Rc::new(RefCell::new(match &log_dir {
            LogDir::Given(dir) | LogDir::PerRun(dir) => dir.clone(),
        }));
        machines.push(ClientOptions {
            name: name.clone(),
            router,
            handshake_timeout: secs(config.machines.handshake_timeout),
            run_seed,
            action_range,
            rate_for,
            missed_ticks: config.machines.missed_ticks,
            receive_rule: config.machines.receive_rule,
            clock_skew,
            duration: args.duration.map(secs),
            log_dir: log_dir.clone(),
            notify: Box::new({
                let dir = Rc::clone(&dir);
                let name = name.clone();
                move |notice| say(&name, &dir, notice)
            }),
        });
        dirs.push(dir);
    }
    let results = client::run_many(machines).map_err(|e| format!("{}: {e}", names[0]))?;
    if let [result] = &results[..] {
        // One machine: its failure is the command's, as ever.
        if let Err(e) = result
            && !matches!(
                e,
                ClientError::RouterVanished(_) | ClientError::LogFailed(_)
            )
        {
            return Err(format!("{}: {e}", names[0]));
        }
    }
    let mut code = 0;
    for ((name, dir), result) in names.iter().zip(&dirs).zip(results) {
        code = code.max(report(name, &dir.borrow(), result));
    }
    Ok(ExitCode::from(code))
}

/// The names of `count` machines from `address:port` on, one port apart.
fn machine_names(address: &str, port: u16, count: u16) -> Result<Vec<String>, Failure> {
    (0..count)
        .map(|j| {
            port.checked_add(j)
                .map(|port| format!("{address}:{port}"))
                .ok_or_else(|| {
                    format!(
                        "--machines-per-process {count} from port {port}: machine {} would have \
                         port {}, past 65535; start from a lower port",
                        j + 1,
                        u32::from(port) + u32::from(j)
                    )
                })
        })
        .collect()
}

/// Each machine's `--rate`, if given: one for all, or one each.
fn given_rates(given: Option<&[f64]>, count: u16) -> Result<Vec<Option<f64>>, Failure> {
    let count = usize::from(count);
    for &rate in given.unwrap_or_default() {
        check_rate(rate).map_err(|_| format!("--rate {rate}: {}", RateError::rule()))?;
    }
    match given {
        None => Ok(vec![None; count]),
        Some([rate]) => Ok(vec![Some(*rate); count]),
        Some(rates) if rates.len() == count => Ok(rates.iter().copied().map(Some).collect()),
        Some(rates) => Err(format!(
            "--rate lists {} rates for {count} machines; give one rate for all, or one for each \
             machine of --machines-per-process",
            rates.len()
        )),
    }
}

/// The rate the configuration gives the machine that WELCOME names.
fn rate_from_config(config: &Config) -> client::RateFor {
    let config = config.clone();
    Box::new(move |query: RateQuery| {
        let RateQuery {
            id,
            machines: n,
            run_seed,
        } = query;
        if let Rates::List(list) = &config.machines.rates {
            if list.len() != usize::from(n) {
                return Err(RateUnknown {
                    listed: list.len(),
                    machines: n,
                });
            }
        }
        let mut sized = config.clone();
        sized.machines.count = n;
        Ok(sized.machine_rates(run_seed)[usize::from(id) - 1])
    })
}

/// Says how machine `name` ended, and returns its exit code: 0 in order, 3 when the router
/// vanished, 4 when its log failed, 1 for any other failure.
fn report(name: &str, dir: &Path, result: Result<ClientSummary, ClientError>) -> u8 {
    match result {
        Ok(s) => {
            println!("{name}: {}", summary_line(&s, dir));
            0
        }
        Err(ClientError::RouterVanished(s)) => {
            eprintln!(
                "{name}: machine {}: {} at {}; summary written to {}",
                s.id,
                s.ended,
                seconds(s.stop_time_ns),
                dir.display()
            );
            3
        }
        Err(ClientError::LogFailed(s)) => {
            eprintln!(
                "{name}: machine {} {}; it stopped ticking and left; summary written to {}",
                s.id,
                s.ended,
                dir.display()
            );
            4
        }
        Err(e) => {
            eprintln!("clocklab: {name}: {e}");
            1
        }
    }
}

/// Prints one notice on standard output, at once (a person or a test reads it as it comes).
fn say(name: &str, dir: &RefCell<PathBuf>, notice: ClientNotice) {
    let line = match notice {
        ClientNotice::Connected { router, left } => format!(
            "{name}: connected to the router at {router}; waiting for the other machines \
             (giving up in {:.1} s unless all have joined: --handshake-timeout)",
            left.as_secs_f64()
        ),
        ClientNotice::Welcomed {
            id,
            machines,
            rate,
            seed,
            start_time_ns,
            log_dir,
        } => {
            let line = format!(
                "{name}: machine {id} of {machines}, rate {rate} ticks/s, run seed {seed}; \
                 all {machines} joined, machines start at {}; log in {}",
                utc_human(start_time_ns),
                log_dir.display()
            );
            *dir.borrow_mut() = log_dir;
            line
        }
        ClientNotice::Started { time_ns } => {
            format!("{name}: run started at {}", utc_human(time_ns))
        }
    };
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The end of a machine that stopped in order: what it did and where its files are.
fn summary_line(s: &ClientSummary, dir: &std::path::Path) -> String {
    let count = |k: &str| s.events.get(k).copied().unwrap_or(0);
    format!(
        "machine {} stopped ({}): {} at {} ticks/s ({} sends, {} broadcasts, {} receives, \
         {} internal), final clock {}, queue peak {}, {} left in queue; log and summary in {}",
        s.id,
        s.ended,
        if s.ticks == 1 {
            "1 tick".to_string()
        } else {
            format!("{} ticks", s.ticks)
        },
        s.rate,
        count("send"),
        count("broadcast"),
        count("receive"),
        count("internal"),
        s.final_clock,
        s.queue_peak,
        s.unprocessed.len(),
        dir.display()
    )
}
