//! `clocklab client`: one model machine, for runs started by hand.
//!
//! It tells the person who started it what happens on standard output, as the router does
//! (`RUST_LOG` adds the log lines on standard error): that it waits for the other machines,
//! its id, N and rate once WELCOME comes, when the run starts, and its summary.

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;

use crate::cli::args::ClientArgs;
use crate::cli::common::{Failure, load_config, resolve, resolve_host_port, seconds, secs};
use crate::config::{Rates, faults};
use crate::core::machine::{RateError, check_rate};
use crate::net::client::{
    self, ClientError, ClientNotice, ClientOptions, LogDir, RateQuery, RateUnknown,
};
use crate::rundir::dirs::utc_human;
use crate::rundir::records::ClientSummary;
use crate::rundir::{prepare_dir, refuse_used_dir};

/// `clocklab client`: runs one machine until the router stops it, writes its log and summary.
pub fn command(args: ClientArgs) -> Result<ExitCode, Failure> {
    let mut config = load_config(args.common.config.as_deref())?;
    if let Some(t) = args.handshake_timeout {
        config.machines.handshake_timeout = t;
    }
    let name = format!("{}:{}", args.address, args.port);
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
    if let Some(rate) = args.rate {
        check_rate(rate).map_err(|_| format!("--rate {rate}: {}", RateError::rule()))?;
    }
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
    if !clock_skew.is_perfect() {
        println!(
            "{name}: a bad clock (a clock fault): {offset_ms} ms ahead at the start, {drift_ppm} \
             ppm fast; it stamps this machine's log rows and frames"
        );
    }
    let rate_for: client::RateFor = match args.rate {
        Some(rate) => Box::new(move |_| Ok(rate)),
        None => {
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
    };
    // The directory is known for sure only once WELCOME has named it.
    let dir: Rc<RefCell<PathBuf>> = Rc::new(RefCell::new(match &log_dir {
        LogDir::Given(dir) | LogDir::PerRun(dir) => dir.clone(),
    }));
    let opts = ClientOptions {
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
        log_dir,
        notify: Box::new({
            let dir = Rc::clone(&dir);
            let name = name.clone();
            move |notice| say(&name, &dir, notice)
        }),
    };
    match client::run(opts) {
        Ok(s) => {
            println!("{name}: {}", summary_line(&s, &dir.borrow()));
            Ok(ExitCode::SUCCESS)
        }
        Err(ClientError::RouterVanished(s)) => {
            eprintln!(
                "{name}: machine {}: {} at {}; summary written to {}",
                s.id,
                s.ended,
                seconds(s.stop_time_ns),
                dir.borrow().display()
            );
            Ok(ExitCode::from(3))
        }
        Err(ClientError::LogFailed(s)) => {
            eprintln!(
                "{name}: machine {} {}; it stopped ticking and left; summary written to {}",
                s.id,
                s.ended,
                dir.borrow().display()
            );
            Ok(ExitCode::from(4))
        }
        Err(e) => Err(format!("{name}: {e}")),
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
