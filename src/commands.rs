//! The `server` and `client` subcommands: configuration in, a driver run, files and a status out.

use std::io::Write;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::{ClientArgs, ModelArgs, ServerArgs};
use crate::client::{self, ClientError, ClientOptions};
use crate::config::{Config, Rates};
use crate::machine::MAX_RATE;
use crate::router::{Notice, Router, RouterOptions};
use crate::rundir::{ROUTER_STATS_FILE, write_yaml_atomically};

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

/// Creates `dir` (and its parents) and checks that files can be written there.
pub fn prepare_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the directory {}: {e}", dir.display()))?;
    // One probe per process: the router and every machine of a run prepare the same directory at
    // once, and a shared name lets one process remove another's probe before it does.
    let probe = dir.join(format!(".clocklab-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))
}

/// Refuses a directory that already holds the files of another run: logs are never overwritten,
/// and a directory that mixed two runs could not be checked.
pub fn refuse_used_dir(dir: &Path) -> Result<(), Failure> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let used = entries.filter_map(Result::ok).find(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        crate::rundir::is_run_file(&name) || crate::eventlog::machine_of_file_name(&name).is_some()
    });
    match used {
        Some(entry) => Err(format!(
            "{} already holds the files of another run ({}); choose a new directory or remove them",
            dir.display(),
            entry.file_name().to_string_lossy()
        )),
        None => Ok(()),
    }
}

/// The configuration file with the command line's overrides, validated.
pub fn configure(args: &ModelArgs) -> Result<Config, Failure> {
    let mut config = load_config(args.common.config.as_deref())?;
    if let Some(d) = args.duration {
        config.run.duration = d;
    }
    if let Some(n) = args.machines {
        if n != config.machines.count {
            config.machines.count = n;
            config.machines.names = None;
        }
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

/// `clocklab server`: binds, serves until SIGINT/SIGTERM, writes router.yaml.
pub fn server(args: ServerArgs) -> Result<ExitCode, Failure> {
    let mut config = load_config(args.common.config.as_deref())?;
    if let Some(host) = args.host {
        config.router.host = host;
    }
    if let Some(port) = args.port {
        config.router.port = port;
    }
    if let Some(n) = args.machines {
        config.machines.count = n;
        config.machines.names = None;
        if matches!(&config.machines.rates, Rates::List(list) if list.len() != usize::from(n)) {
            // The router does not use rates; do not let a list sized for another count block it.
            config.machines.rates = Rates::Random;
        }
    }
    config.validate("command line").map_err(|e| e.to_string())?;
    let r = &config.router;
    let ip: IpAddr = r
        .host
        .parse()
        .map_err(|_| format!("router.host: {:?} is not an IP address", r.host))?;
    if !ip.is_loopback() {
        log::warn!(
            "binding {ip}, which is not a loopback address: the router has no authentication, \
             so anyone who can reach it can join the model"
        );
    }
    prepare_dir(&args.run_dir)?;
    refuse_used_dir(&args.run_dir)?;
    let addr = SocketAddr::new(ip, r.port);
    let listener = std::net::TcpListener::bind(addr).map_err(|e| {
        format!(
            "cannot listen on {addr}: {e} (is another router running? pick another with --port)"
        )
    })?;
    let seed = args.seed.or(config.run.seed).unwrap_or_else(fresh_seed);
    let opts = RouterOptions {
        machines: config.machines.count,
        seed,
        max_payload: r.max_payload,
        stall_timeout: secs(r.stall_timeout),
        start_delay: secs(r.start_delay),
        stop_grace: secs(config.run.stop_grace),
        handle_signals: true,
        stop_on_stdin_eof: args.stop_on_stdin_eof,
    };
    let router = Router::new(listener, opts).map_err(|e| format!("router: {e}"))?;
    let local = router.local_addr().map_err(|e| format!("router: {e}"))?;
    let mut out = std::io::stdout();
    // stdout is how `run` learns the address and the start time: flush each line.
    let _ = writeln!(out, "{LISTENING}{local}");
    let _ = writeln!(
        out,
        "waiting for {} machines (stop with Ctrl-C); run seed {seed}",
        config.machines.count
    );
    let _ = out.flush();
    let stats = router
        .run(|notice| {
            match notice {
                Notice::Started {
                    start_time_ns,
                    names,
                } => {
                    let _ = writeln!(out, "{STARTED}{start_time_ns}");
                    for (i, name) in names.iter().enumerate() {
                        let _ = writeln!(out, "  machine {} = {name}", i + 1);
                    }
                }
                Notice::Stopping => {
                    let _ = writeln!(out, "router stopping: BYE sent to every machine");
                }
            }
            let _ = out.flush();
        })
        .map_err(|e| format!("router: {e}"))?;
    let path = args.run_dir.join(ROUTER_STATS_FILE);
    write_yaml_atomically(&path, &stats).map_err(|e| format!("writing {}: {e}", path.display()))?;
    let frames: u64 = stats.frames.values().map(|c| c.frames).sum();
    let undeliverable: u64 = stats.pairs.iter().map(|p| p.undeliverable).sum();
    let _ = writeln!(
        out,
        "router stopped ({}): {frames} frames received, {undeliverable} undeliverable; statistics in {}",
        stats.stopped_by,
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `clocklab client`: runs one machine until the router stops it, writes its log and summary.
pub fn client(args: ClientArgs) -> Result<ExitCode, Failure> {
    let config = load_config(args.common.config.as_deref())?;
    let name = format!("{}:{}", args.address, args.port);
    prepare_dir(&args.log_dir)?;
    // Every machine of a run checks before it says HELLO; logs appear only after all have.
    refuse_used_dir(&args.log_dir)?;
    let router = match args.router {
        Some(addr) => addr,
        None => {
            let target = (config.router.host.as_str(), config.router.port);
            target
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .ok_or_else(|| format!("router.host {:?} does not resolve", config.router.host))?
        }
    };
    // Without a seed here, the router's (sent in WELCOME) seeds the whole run.
    let run_seed = args.seed.or(config.run.seed);
    let action_range = args.action_range.unwrap_or(config.machines.action_range);
    if let Some(rate) = args.rate {
        if !(rate > 0.0 && rate <= MAX_RATE) {
            return Err(format!(
                "--rate {rate}: a rate is a positive number of ticks per second, at most {MAX_RATE}"
            ));
        }
    }
    let rate_for: client::RateFor = match args.rate {
        Some(rate) => Box::new(move |_, _, _| Ok(rate)),
        None => {
            let config = config.clone();
            Box::new(move |id, n, run_seed| {
                if let Rates::List(list) = &config.machines.rates {
                    if list.len() != usize::from(n) {
                        return Err(format!(
                            "the configuration lists {} rates but the router runs {n} machines; \
                             give this machine --rate",
                            list.len()
                        ));
                    }
                }
                let mut sized = config.clone();
                sized.machines.count = n;
                Ok(sized.machine_rates(run_seed)[usize::from(id) - 1])
            })
        }
    };
    let opts = ClientOptions {
        name: name.clone(),
        router,
        connect_timeout: Duration::from_secs(10),
        run_seed,
        action_range,
        rate_for,
        log_dir: args.log_dir.clone(),
    };
    match client::run(opts) {
        Ok(s) => {
            println!(
                "{name}: machine {} stopped ({}): {} ticks at {} ticks/s, final clock {}, {} left in queue; log in {}",
                s.id,
                s.ended,
                s.ticks,
                s.rate,
                s.final_clock,
                s.unprocessed.len(),
                args.log_dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(ClientError::RouterVanished(s)) => {
            eprintln!(
                "{name}: machine {}: {} at {}; summary written to {}",
                s.id,
                s.ended,
                seconds(s.stop_time_ns),
                args.log_dir.display()
            );
            Ok(ExitCode::from(3))
        }
        Err(e) => Err(format!("{name}: {e}")),
    }
}

/// A fresh random seed from the operating system.
pub fn fresh_seed() -> u64 {
    use rand::TryRng;
    rand::rngs::SysRng.try_next_u64().unwrap_or_else(|_| {
        // No OS randomness: fall back on the time, which is still different every run.
        crate::wallclock::WallClock::new().now_ns()
    })
}

/// Nanoseconds since the UNIX epoch as seconds with six decimals, as the logs write times.
pub fn seconds(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, ns % 1_000_000_000 / 1_000)
}
