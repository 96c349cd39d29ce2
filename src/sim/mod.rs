//! The simulator: the second driver of the sans-IO [`Machine`](crate::core::machine::Machine)
//! and of the router's rules, the real [`Switchboard`](crate::core::switchboard::Switchboard),
//! on virtual time.
//!
//! Each machine connects to the switchboard over a virtual network (`net`), says HELLO and is
//! made from the WELCOME it gets (ids by sorted name, the common start at `epoch_ns`), as in a
//! real run. Machines tick at their deadlines exactly as the real client does (absolute deadlines
//! from a common start); the frames a machine sends are written into the switchboard as the
//! router's driver reads them, and what it writes to each receiver reaches that machine's queue
//! (`handle_frame_at`) after a latency drawn from a [`Latency`] model (or from a real run's
//! measured distribution, [`MeasuredTiming`]), stamped with the time it arrives; a tick that runs
//! late takes by [`ReceiveRule`] (only what arrived by its deadline, by default). When the
//! trial's time is up, the switchboard stops as the real router does: BYE to every machine, each
//! answers once it has taken the ticks due by the end, and every connection closes in order.
//! Frames still in flight are delivered into the queues, as the real router writes out
//! everything that arrived before each BYE: they are reported as unprocessed. The router's
//! books and `router.yaml` come from the switchboard's report, the same code as a real run's
//! (`driver` has the scheduler). A machine that a `pause` fault stops neither ticks nor reads
//! until its window ends ([`pause`]), then follows its [`MissedTicks`] policy.
//!
//! Everything is a function of the options: the same options give the same records, byte for byte.
//! Nothing here reads a clock or touches a file.

mod driver;
mod net;

use crate::config::{FaultPlan, Latency};
use crate::core::event::Record;
use crate::core::histogram::Empirical;
use crate::core::machine::{MachineConfigError, MissedTicks, ReceiveRule};
use crate::core::switchboard::{self, PairTable};
use crate::rundir::records::{ClientSummary, RouterStats};
use driver::Driver;

pub mod pause;

/// The default start of simulated time: 2026-01-01T00:00:00Z, in nanoseconds since the UNIX epoch.
pub const DEFAULT_EPOCH_NS: u64 = 1_767_225_600_000_000_000;

/// One simulated trial.
#[derive(Clone, Debug, PartialEq)]
pub struct SimOptions {
    /// Machine names by id (index 0 is machine 1); their number is N.
    pub names: Vec<String>,
    /// Ticks per second by id.
    pub rates: Vec<f64>,
    /// R, the action range.
    pub action_range: u32,
    /// Which message a tick takes: what arrived by its deadline, or by the time it runs (the two
    /// differ only when ticks run late, `tick_lateness` or `measured`).
    pub receive_rule: ReceiveRule,
    /// What a machine does with the deadlines that pass while it cannot tick (a `pause`, or
    /// ticks that run late): catch up, or skip to the last.
    pub missed_ticks: MissedTicks,
    /// How long the trial runs, nanoseconds of virtual time.
    pub duration_ns: u64,
    /// The trial's seed: machine `id` gets `seed::derive(seed, Stream::Machine(id))`, as under `run`.
    pub seed: u64,
    /// When simulated time starts, nanoseconds since the UNIX epoch.
    pub epoch_ns: u64,
    /// The network's latency.
    pub latency: Latency,
    /// How late each tick runs after its deadline, drawn per tick; `None`: every tick runs at
    /// its deadline. A tick never runs before the one before it (the machine catches up), and
    /// a tick due by the end runs even when its lateness takes it past the end, as a real
    /// machine takes the ticks due by its stop.
    pub tick_lateness: Option<Latency>,
    /// Timing measured in a real run (`simulate --timing-from`): when given, the hop latencies
    /// and the ticks' lateness are drawn from its distributions, on the same streams, in place of
    /// `latency` and `tick_lateness`.
    pub measured: Option<MeasuredTiming>,
    /// The fault plan. Its `clock` faults give machines bad physical clocks
    /// ([`crate::core::machine::Machine::with_clock_skew`]): their rows and frames are stamped with them, while
    /// everything the scheduler does stays on (virtual) real time. Its `pause` faults stop
    /// machines ([`pause::Pauses`]).
    pub faults: FaultPlan,
}

/// The distributions of a run's timing, to draw from by inverse CDF.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasuredTiming {
    /// How long a message took from its send to its receiver's queue.
    pub hop_latency: Empirical,
    /// How late a tick ran after its deadline.
    pub tick_lateness: Empirical,
}

/// What a simulated trial produced besides its log records.
#[derive(Clone, Debug, PartialEq)]
pub struct SimOutcome {
    /// Each machine's summary, by id.
    pub summaries: Vec<ClientSummary>,
    /// The counts a router would have kept.
    pub router: RouterStats,
    /// Events the machines logged: the trial's log rows (with logs written), one per tick.
    pub events: u64,
    /// Frames handed to their receivers' queues (each frame of a broadcast apart).
    pub deliveries: u64,
}

/// Why a trial could not run.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SimError {
    /// A machine's settings make no machine.
    #[error(transparent)]
    Machine(#[from] MachineConfigError),
    /// The switchboard did not welcome a machine (a name it refused, or one taken twice).
    #[error("machine name {name:?}: {reason}")]
    NotWelcomed {
        /// The name the machine registered with.
        name: String,
        /// What the switchboard said, or why it could not be asked.
        reason: String,
    },
}

/// Runs one trial, handing every log record to `sink` in the order each machine produced them.
/// The router runs with the documented defaults ([`switchboard::Options::default`]).
pub fn simulate(opts: &SimOptions, sink: impl FnMut(&Record)) -> Result<SimOutcome, SimError> {
    simulate_with_router(opts, switchboard::Options::default(), sink)
}

/// [`simulate`] with the router's options `router` (a configuration's `router:` section, as
/// `Config::router_options` gives it to a real router); its `machines` and `seed` are the
/// trial's.
pub fn simulate_with_router(
    opts: &SimOptions,
    router: switchboard::Options,
    sink: impl FnMut(&Record),
) -> Result<SimOutcome, SimError> {
    trial(opts, router, sink).map(|(outcome, _)| outcome)
}

/// [`simulate_with_router`], and the router's books of every pair besides (sent as well as
/// delivered).
fn trial(
    opts: &SimOptions,
    router: switchboard::Options,
    mut sink: impl FnMut(&Record),
) -> Result<(SimOutcome, PairTable), SimError> {
    let mut driver = Driver::register(opts, router)?;
    driver.run(&mut sink);
    Ok(driver.finish())
}

#[cfg(test)]
mod tests;
