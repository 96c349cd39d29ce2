//! `clocklab client`: one model machine, for runs started by hand.

use std::net::ToSocketAddrs;
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::args::ClientArgs;
use crate::cli::common::{Failure, load_config, seconds};
use crate::config::Rates;
use crate::core::machine::{RateError, check_rate};
use crate::net::client::{self, ClientError, ClientOptions, RateQuery};
use crate::rundir::{prepare_dir, refuse_used_dir};

/// `clocklab client`: runs one machine until the router stops it, writes its log and summary.
pub fn command(args: ClientArgs) -> Result<ExitCode, Failure> {
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
        check_rate(rate).map_err(|_| format!("--rate {rate}: {}", RateError::rule()))?;
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
