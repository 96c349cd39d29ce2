//! The model-machine client: one mio loop that drives one sans-IO [`Machine`] ([`run`]), or
//! several, each with its own connection, log and summary ([`run_many`]: `clocklab client
//! --machines-per-process K`, which `run` uses above a number of machines).
//!
//! A machine's next tick deadline is a `timerfd` registered beside its socket (`timer`), so an
//! idle client sleeps in `poll` between ticks and wakes within microseconds of each deadline.
//! Frames that arrive go onto the machine's queue at once (network speed),
//! whatever the tick rate. At each deadline the machine ticks; its log rows are written first, then
//! its frames (queued on `WouldBlock`).
//!
//! This module owns the public API; `driver` the event loop, `session` the lifecycle (the state,
//! the machine, how the connection ended) and `conn` the socket. Every handler returns whether
//! the connection has ended, and a machine leaves the loop on its first end, save that the flush
//! which follows may still find the connection broken and make an orderly end abrupt
//! (`session::settle`); the loop runs until its last machine has left.
//!
//! [`Machine`]: crate::core::machine::Machine

mod conn;
mod driver;
mod session;
mod timer;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use log::info;

use crate::core::fault::ClockSkew;
use crate::core::machine::{Machine, MachineConfig, MachineConfigError, MissedTicks, ReceiveRule};
use crate::net::wallclock::WallClock;
use crate::rundir::DirError;
use crate::rundir::records::ClientSummary;
use driver::{Driver, Slot};

/// How a client finds its rate, in ticks per second, once WELCOME has told it what
/// [`RateQuery`] holds; an `Err` is the reason it cannot run, and stops the client.
pub type RateFor = Box<dyn Fn(RateQuery) -> Result<f64, RateUnknown>>;

/// Why a client has no rate for what WELCOME told it: the configuration lists rates for another
/// number of machines than the router runs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the configuration lists {listed} rates but the router runs {machines} machines; give this \
     machine --rate"
)]
pub struct RateUnknown {
    /// How many rates the configuration lists.
    pub listed: usize,
    /// How many machines the router runs, from WELCOME.
    pub machines: u16,
}

/// What a client knows when it asks [`RateFor`] for its rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateQuery {
    /// The machine's id, from WELCOME.
    pub id: u16,
    /// The number of machines in the run, from WELCOME.
    pub machines: u16,
    /// The run's seed: the client's own if given, otherwise WELCOME's.
    pub run_seed: u64,
}

/// Where a client writes its log and summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogDir {
    /// This directory, as given.
    Given(PathBuf),
    /// The run's own directory inside this one, named from WELCOME by
    /// [`manual_run_dir_name`](crate::rundir::dirs::manual_run_dir_name) (the router's default
    /// directory has the same name) and created then.
    PerRun(PathBuf),
}

/// Something a client tells its caller as it happens (`clocklab client` prints these).
#[derive(Clone, Debug, PartialEq)]
pub enum ClientNotice {
    /// Connected and HELLO queued; waiting for WELCOME until the handshake deadline.
    Connected {
        /// The router's address.
        router: SocketAddr,
        /// Time left to be welcomed.
        left: Duration,
    },
    /// WELCOME came: the machine is set up and waits for the start time.
    Welcomed {
        /// The machine's id.
        id: u16,
        /// N, the number of machines.
        machines: u16,
        /// Ticks per second.
        rate: f64,
        /// The run's seed as WELCOME sent it.
        seed: u64,
        /// The common start time, nanoseconds since the UNIX epoch.
        start_time_ns: u64,
        /// The directory of the log and summary.
        log_dir: PathBuf,
    },
    /// The machine took its first tick.
    Started {
        /// When, nanoseconds since the UNIX epoch.
        time_ns: u64,
    },
}

/// What a client calls with each [`ClientNotice`].
pub type Notify = Box<dyn FnMut(ClientNotice)>;

/// Everything a client needs.
pub struct ClientOptions {
    /// The machine's name, `ADDRESS:PORT`.
    pub name: String,
    /// The router's address.
    pub router: SocketAddr,
    /// How long, from the client's start, reaching the router (connection refused is retried)
    /// and getting WELCOME may take. Bytes that are not a clocklab frame end it at once.
    pub handshake_timeout: Duration,
    /// The run's seed, if given; otherwise the one the router sends in WELCOME. The machine's
    /// own seed is derived from it and the id.
    pub run_seed: Option<u64>,
    /// R, the action range.
    pub action_range: u32,
    /// The rate, from the id and the number of machines.
    pub rate_for: RateFor,
    /// What the machine does with deadlines missed while it could not tick.
    pub missed_ticks: MissedTicks,
    /// Which message a tick takes: the frames' arrival times (read off the socket) against the
    /// deadline of the tick, on the same clock.
    pub receive_rule: ReceiveRule,
    /// The machine's physical clock, which stamps its rows and frames (a `clock` fault), from
    /// the common start WELCOME announces; its ticks stay on the host's clock.
    pub clock_skew: ClockSkew,
    /// How long the trial runs from the common start WELCOME announces, if the client is told
    /// (`run` tells its own): the machine takes exactly the ticks due at or before
    /// `start + duration` and none after, then reads until the router's BYE as ever. `None`: it
    /// ticks until the BYE, and takes the ticks due by the BYE's time.
    pub duration: Option<Duration>,
    /// Where the log and summary go.
    pub log_dir: LogDir,
    /// Told what happens.
    pub notify: Notify,
}

impl ClientOptions {
    /// The machine of `cfg` with these options' policies: missed ticks and its clock.
    fn machine(&self, cfg: MachineConfig) -> Result<Machine, MachineConfigError> {
        Ok(Machine::new(cfg)?
            .with_missed_ticks(self.missed_ticks)
            .with_receive_rule(self.receive_rule)
            .with_clock_skew(self.clock_skew))
    }
}

/// Why a client stopped with an error.
#[derive(Debug)]
pub enum ClientError {
    /// Reaching the router, or talking to it, failed.
    Io(String, io::Error),
    /// The router refused us or broke the protocol.
    Protocol(String),
    /// The machine has no rate for the number of machines WELCOME gave.
    Rate(RateUnknown),
    /// The run's directory, named from WELCOME, could not be made ready.
    Dir(DirError),
    /// The router went away without BYE; the summary was written.
    RouterVanished(Box<ClientSummary>),
    /// The machine could not write its event log, so it stopped ticking and left with BYE; the
    /// summary (its `log_error` says why) was written.
    LogFailed(Box<ClientSummary>),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Io(what, e) => write!(f, "{what}: {e}"),
            ClientError::Protocol(reason) => f.write_str(reason),
            ClientError::Rate(e) => e.fmt(f),
            ClientError::Dir(e) => e.fmt(f),
            ClientError::RouterVanished(s) => write!(f, "machine {}: {}", s.id, s.ended),
            ClientError::LogFailed(s) => write!(f, "machine {}: {}", s.id, s.ended),
        }
    }
}

impl std::error::Error for ClientError {}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> ClientError {
    let what = what.into();
    move |e| ClientError::Io(what, e)
}

/// Connects, registers, runs the machine until the router stops it, and writes the summary.
pub fn run(opts: ClientOptions) -> Result<ClientSummary, ClientError> {
    run_many(vec![opts])?
        .pop()
        .unwrap_or_else(|| Err(ClientError::Protocol("no machine ran".into())))
}

/// Runs several machines in this process, on one event loop, each as [`run`] runs one: its own
/// connection to the router (connected in order, each within its own handshake timeout), log,
/// summary and tick schedule. One that fails or ends leaves the others running. Returns how
/// each ended, in the order given; `Err` only when the loop itself cannot be set up.
pub fn run_many(
    machines: Vec<ClientOptions>,
) -> Result<Vec<Result<ClientSummary, ClientError>>, ClientError> {
    let mut driver = Driver::new()?;
    for mut opts in machines {
        let clock = WallClock::new();
        let deadline = Instant::now() + opts.handshake_timeout;
        let slot = connect(opts.router, deadline).and_then(|stream| {
            let left = deadline.saturating_duration_since(Instant::now());
            (opts.notify)(ClientNotice::Connected {
                router: opts.router,
                left,
            });
            Slot::new(driver.poll(), driver.len(), opts, clock, stream, deadline)
        });
        driver.push(slot);
    }
    Ok(driver.run())
}

fn connect(router: SocketAddr, deadline: Instant) -> Result<std::net::TcpStream, ClientError> {
    let mut said = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // A zero timeout is an error for `connect_timeout`: at the deadline, one last short try.
        let attempt = left.max(Duration::from_millis(10));
        match std::net::TcpStream::connect_timeout(&router, attempt) {
            Ok(stream) => return Ok(stream),
            Err(e) if Instant::now() < deadline && e.kind() == io::ErrorKind::ConnectionRefused => {
                if !said {
                    info!("waiting for the router at {router}");
                    said = true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => {
                return Err(ClientError::Io(
                    format!("cannot reach the router at {router}"),
                    e,
                ));
            }
        }
    }
}
