//! `clocklab server`: the router alone, for machines started by hand.
//!
//! Standard output is the router's account for people and for `run`, which reads two of its lines
//! ([`LISTENING`], [`STARTED`](crate::cli::common::STARTED)): each machine as it joins, the start time, the stop and where the
//! statistics went. `RUST_LOG` adds the log's own lines on standard error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::args::ServerArgs;
use crate::cli::common::{
    Failure, LISTENING, apply_faults, hint, load_config, resolve, started_line,
};
use crate::config::Rates;
use crate::net::router::{Notice, Router};
use crate::net::wallclock::{WallClock, fresh_seed};
use crate::rundir::dirs::{manual_run_dir_name, utc_human};
use crate::rundir::plan::TrialPlan;
use crate::rundir::records::{RouterStats, RunRecord};
use crate::rundir::{
    ROUTER_STATS_FILE, RUN_FILE, SpaceReserve, prepare_dir, refuse_used_dir, write_yaml_atomically,
};

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
    if let Some(duration) = args.duration {
        config.run.duration = duration;
    }
    apply_faults(
        &mut config,
        args.faults.as_deref(),
        args.common.config.as_deref(),
    )?;
    config.validate("command line").map_err(|e| e.to_string())?;
    // A socket per machine: a limit too low is a message here, not machines never accepted.
    crate::net::process::raise_open_files(config.machines.count)?;
    let faults = config
        .fault_plan("the configuration")
        .map_err(|e| e.to_string())?;
    let r = &config.router;
    let addr = resolve("router.host (--host)", &r.host, r.port)?;
    let ip = addr.ip();
    if !ip.is_loopback() {
        log::warn!(
            "binding {ip}, which is not a loopback address: the router has no authentication, \
             so anyone who can reach it can join the model"
        );
    }
    if let Some(dir) = &args.run_dir {
        prepare_dir(dir)?;
        refuse_used_dir(dir)?;
    }
    // Room for router.yaml on a disk the machines' logs may fill: on the run directory's disk,
    // or (before the run names its own) on the log directory's.
    let reserve_dir = args.run_dir.clone().unwrap_or(config.run.log_dir.clone());
    prepare_dir(&reserve_dir)?;
    let mut reserve = SpaceReserve::create(&reserve_dir).map_err(|e| e.to_string())?;
    let listener = std::net::TcpListener::bind(addr).map_err(|e| {
        format!(
            "cannot listen on {addr}: {e} (is another router running? pick another with --port)"
        )
    })?;
    let seed = args.seed.or(config.run.seed).unwrap_or_else(fresh_seed);
    let mut router = Router::new(listener, config.router_options(seed))
        .map_err(|e| format!("router: cannot start the event loop on {addr}: {e}"))?;
    // The delays and partitions are the router's to apply.
    router.set_plan(faults.weather());
    router
        .stop_on_signals()
        .map_err(|e| format!("router: cannot watch for SIGINT and SIGTERM: {e}"))?;
    if args.stop_on_stdin_eof {
        router
            .stop_on_stdin_eof()
            .map_err(|e| format!("router: cannot watch standard input for its end: {e}"))?;
    }
    let local = router.local_addr().map_err(|e| format!("router: {e}"))?;
    let mut out = std::io::stdout();
    // stdout is how `run` learns the address and the start time: flush each line.
    let _ = writeln!(out, "{LISTENING}{local}");
    let _ = writeln!(
        out,
        "waiting for {} machines (stop with Ctrl-C); run seed {seed}",
        config.machines.count
    );
    // A clock fault is the client's to apply.
    for (id, skew) in (1..).zip(faults.clock_skews(config.machines.count)) {
        if !skew.is_perfect() {
            let _ = writeln!(
                out,
                "fault plan: machine {id}'s clock is its client's to skew: start it with \
                 --clock-offset-ms {} --clock-drift-ppm {}",
                skew.offset_us as f64 / 1e3,
                skew.drift_ppb as f64 / 1e3
            );
        }
    }
    // A pause is the process's: `run` stops and continues it; by hand, so does the user.
    for (id, window) in faults.pauses() {
        let _ = writeln!(
            out,
            "fault plan: machine {id}'s pause is its process's: stop it (kill -STOP) at {} s of \
             the trial and continue it (kill -CONT) at {} s, as `run` does",
            window.from_ns as f64 / 1e9,
            window.to_ns as f64 / 1e9
        );
    }
    let weather = faults.weather();
    if !weather.is_empty() {
        let _ = writeln!(
            out,
            "fault plan: the router applies {} delay(s) and {} partition(s)",
            weather.delays.len(),
            weather.partitions.len()
        );
    }
    let _ = out.flush();
    // Without --run-dir, the run's own directory under run.log_dir, named as every client names
    // it from WELCOME; made when router.yaml is written.
    let dir_of = |start_ns: u64| -> PathBuf {
        match &args.run_dir {
            Some(dir) => dir.clone(),
            None => config.run.log_dir.join(manual_run_dir_name(start_ns, seed)),
        }
    };
    let stats = router
        .run(|notice| {
            match notice {
                Notice::Joined {
                    name,
                    peer,
                    joined,
                    machines,
                } => {
                    let _ = writeln!(out, "{joined} of {machines} joined: {name} from {peer}");
                }
                Notice::Left {
                    name,
                    peer,
                    joined,
                    machines,
                } => {
                    let _ = writeln!(
                        out,
                        "{name} (from {peer}) left before the start; {joined} of {machines} joined"
                    );
                }
                Notice::Started {
                    start_time_ns,
                    names,
                } => {
                    let _ = writeln!(out, "{}", started_line(start_time_ns));
                    let wait = start_time_ns.saturating_sub(WallClock::new().now_ns());
                    let _ = writeln!(
                        out,
                        "all {} joined; machines start at {} (in {:.1} s); run directory {}",
                        names.len(),
                        utc_human(start_time_ns),
                        wait as f64 / 1e9,
                        dir_of(start_time_ns).display()
                    );
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
    // A run that never started is named by its stop time.
    let dir = dir_of(stats.start_time_ns.unwrap_or(stats.stop_time_ns));
    prepare_dir(&dir)?;
    let path = dir.join(ROUTER_STATS_FILE);
    reserve.release();
    write_yaml_atomically(&path, &stats).map_err(|e| format!("writing {}: {e}", path.display()))?;
    // A run by hand is recorded here, the one place that knows its configuration and seed, so
    // that `analyze`, `check` and `diff` read it like any other run.
    if stats.start_time_ns.is_some() && !args.recorded_by_run {
        let record = hand_record(&config, seed, &dir, &stats);
        let path = dir.join(RUN_FILE);
        write_yaml_atomically(&path, &record)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    let frames: u64 = stats.frames.values().map(|c| c.frames).sum();
    let undeliverable: u64 = stats.pairs.iter().map(|p| p.undeliverable).sum();
    let _ = writeln!(
        out,
        "router stopped ({}): {frames} frames received, {undeliverable} undeliverable; statistics in {}",
        stats.stopped_by,
        path.display()
    );
    if stats.start_time_ns.is_some() {
        let _ = writeln!(
            out,
            "check the run with: {}",
            hint(&["check", &dir.display().to_string()])
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The `run.yaml` of a run by hand in `dir` under `config` and `seed`, from the router's
/// statistics `stats`: one trial of processes the router did not start, with the machines it
/// named and the configuration in force; `duration` is how long it ran, from the common start to
/// the stop (Ctrl-C is how such a run ends, so it is not `interrupted`). The machines' summaries
/// are in their own files, written after this.
fn hand_record(
    config: &crate::config::Config,
    seed: u64,
    dir: &std::path::Path,
    stats: &RouterStats,
) -> RunRecord {
    let plan = TrialPlan::by_hand(config, dir, seed, &stats.names);
    let ran_ns = stats
        .start_time_ns
        .map_or(0, |start| stats.stop_time_ns.saturating_sub(start));
    RunRecord {
        duration: (ran_ns / 1_000_000) as f64 / 1e3,
        start_time_ns: stats.start_time_ns,
        stop_time_ns: stats.stop_time_ns,
        router: Some(stats.clone()),
        ..plan.record(config)
    }
}
