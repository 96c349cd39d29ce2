//! `clocklab server`: the router alone, for machines started by hand.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use crate::cli::args::ServerArgs;
use crate::cli::common::{Failure, LISTENING, STARTED, load_config, secs};
use crate::config::Rates;
use crate::net::router::{Notice, Router, RouterOptions};
use crate::net::wallclock::fresh_seed;
use crate::rundir::{ROUTER_STATS_FILE, prepare_dir, refuse_used_dir, write_yaml_atomically};

/// `clocklab server`: binds, serves until SIGINT/SIGTERM, writes router.yaml.
pub fn command(args: ServerArgs) -> Result<ExitCode, Failure> {
    let mut config = load_config(args.common.config.as_deref())?;
    if let Some(host) = args.host {
        config.router.host = host;
    }
    if let Some(port) = args.port {
        config.router.port = port;
    }
    if let Some(n) = args.machines {
        config.set_machine_count(n);
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
        hello_timeout: secs(r.hello_timeout),
        max_unregistered: r.max_unregistered as usize,
        outbox_limit: usize::try_from(r.outbox_limit).unwrap_or(usize::MAX),
        buffer_limit: usize::try_from(r.buffer_limit).unwrap_or(usize::MAX),
        reader_timeout: secs(r.reader_timeout),
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
