//! Where a client is in the connection's lifecycle ([`State`]), the model machine it drives from
//! WELCOME on ([`Model`]), and how the connection ended ([`End`]): the session's state as types,
//! apart from the rules that move it.

use crate::core::machine::Machine;
use crate::rundir::SpaceReserve;
use crate::rundir::log::LogWriter;

/// Where the client is in the lifecycle, and the model machine from WELCOME on.
pub(super) enum State {
    /// HELLO sent, waiting for WELCOME.
    Registering,
    /// WELCOME received: the machine ticks.
    Running(Model),
    /// BYE said, by us or by the router; reading until the router closes, which ends the
    /// connection in order.
    Leaving {
        /// The machine, stopped; `None` if the router said BYE before WELCOME.
        model: Option<Model>,
        /// What ended the run, for the summary.
        why: String,
        /// When the machine stopped ticking, nanoseconds since the UNIX epoch.
        stop_ns: u64,
    },
}

impl State {
    /// The machine, in any state after WELCOME.
    pub(super) fn model_mut(&mut self) -> Option<&mut Model> {
        match self {
            State::Registering => None,
            State::Running(model) => Some(model),
            State::Leaving { model, .. } => model.as_mut(),
        }
    }
}

/// How the connection ended: the summary's `ended` and `orderly`.
#[derive(Debug)]
pub(in crate::net::client) enum End {
    /// The router closed after BYE was said: everything it wrote for us was read.
    Orderly(String),
    /// Anything else: frames may have been lost.
    Abrupt(String),
}

/// The end of the connection once the flush that follows the handlers has run: `end`, the first
/// end they found, unless the flush found the connection broken after an orderly end. Then our
/// own frames (BYE among them) may never reach the router, so the end is abrupt, as the flush
/// says. With no end yet, the flush's.
pub(in crate::net::client) fn settle(end: Option<End>, flushed: Option<End>) -> Option<End> {
    match (end, flushed) {
        (Some(End::Orderly(_)), Some(broken @ End::Abrupt(_))) => Some(broken),
        (Some(end), _) => Some(end),
        (None, flushed) => flushed,
    }
}

/// The model machine, from WELCOME on, and what its summary needs besides.
pub(super) struct Model {
    pub(super) machine: Machine,
    pub(super) log: LogWriter,
    /// Room kept on the log's disk for the summary.
    pub(super) reserve: SpaceReserve,
    /// The seq and the clock of the last data frame and event that reached the log: after the
    /// log fails, BYE says what the log shows, not what the machine went on to do.
    pub(super) logged_seq: u32,
    pub(super) logged_clock: u64,
    /// The run's seed, as WELCOME settled it.
    pub(super) run_seed: u64,
    /// Data frames the machine refused.
    pub(super) refused: u64,
    /// Where the log and the summary are.
    pub(super) dir: std::path::PathBuf,
    /// Whether the first tick has been announced.
    pub(super) said_started: bool,
    /// Every deadline at or before this time has been taken (or skipped): the stop time a
    /// summary gives, so that its tick count is exactly the schedule's.
    pub(super) ticked_until: u64,
    /// `start + duration` when told its duration (no later deadline is taken), else `u64::MAX`.
    pub(super) end_ns: u64,
}

impl Model {
    /// The next deadline to take: `None` once the next one is past the end.
    pub(super) fn next_deadline(&self) -> Option<u64> {
        Some(self.machine.poll_timeout()).filter(|&due| due <= self.end_ns)
    }
}
