//! The model machine, sans-IO: a state machine that is handed the time and incoming messages and
//! hands back the frames to send and the rows to log.
//!
//! It never reads the OS clock, a socket or a global RNG. Time is an argument (nanoseconds since the
//! UNIX epoch, real or simulated); randomness comes from a generator seeded by the caller. The mio
//! client and the simulator are two drivers of this one machine:
//!
//! ```text
//! loop {
//!     wait until machine.poll_timeout() or a frame arrives
//!     machine.handle_frame_at(frame, now) for each data frame that arrived
//!     while machine.handle_timeout(now) == 1 {      // one tick per call, `now` read afresh
//!         send every machine.poll_transmit(); log every machine.poll_event()
//!     }
//! }
//! ```
//!
//! The schedule (`schedule`): the k-th tick is due at `start + k/rate`, k = 1, 2, ... The queue
//! (`inbox`): a tick due at d takes the head if it arrived by d ([`ReceiveRule`]).

use std::collections::VecDeque;
use std::fmt;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use crate::core::clock::LamportClock;
use crate::core::event::{EventKind, Record};
use crate::core::fault::ClockSkew;
use crate::core::route;
use crate::core::wire::{Frame, Header, Kind, ROUTER_ID};

mod hops;
mod inbox;
mod schedule;

pub use inbox::ReceiveRule;
pub use schedule::{Lateness, MissedTicks, Timing, tick_offset_ns, ticks_due};

/// The default action range: with 3 machines, 10% to each other, 10% broadcast, 70% internal.
pub const DEFAULT_ACTION_RANGE: u32 = 10;
/// The fastest tick rate a machine accepts, in ticks per second.
pub const MAX_RATE: f64 = 100_000.0;

/// Everything a machine is made of.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MachineConfig {
    /// This machine's id, 1..=machines.
    pub id: u16,
    /// How many machines take part (at least 2).
    pub machines: u16,
    /// R: each idle tick draws r from 1..=R (R >= machines).
    pub action_range: u32,
    /// Ticks per second (may be fractional).
    pub rate: f64,
    /// The seed of this machine's random generator.
    pub seed: u64,
    /// The common start, nanoseconds since the UNIX epoch: the first tick is due one period
    /// after it, at `start_ns + 1/rate`.
    pub start_ns: u64,
}

/// Why a [`MachineConfig`] cannot make a machine.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MachineConfigError {
    /// Fewer than 2 machines, or more than 65,534.
    #[error("{0} machines: a model needs between 2 and 65534 machines")]
    Machines(u16),
    /// The id is not in 1..=machines.
    #[error("machine id {id}: ids run from 1 to {machines}")]
    Id {
        /// The id given.
        id: u16,
        /// The number of machines.
        machines: u16,
    },
    /// The action range is smaller than the number of machines.
    #[error("action range {range}: it must be at least the number of machines ({machines})")]
    ActionRange {
        /// The range given.
        range: u32,
        /// The number of machines.
        machines: u16,
    },
    /// The rate is not a positive number up to [`MAX_RATE`].
    #[error("{}", RateError(*.0))]
    Rate(f64),
}

/// A tick rate that breaks the one rule on rates (see [`check_rate`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateError(pub f64);

impl RateError {
    /// The rule, in words. Every message about a bad rate (a machine's, the configuration's, the
    /// command line's) ends with this text.
    pub fn rule() -> String {
        format!("a rate is a positive number of ticks per second, at most {MAX_RATE}")
    }
}

impl fmt::Display for RateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate {}: {}", self.0, RateError::rule())
    }
}

impl std::error::Error for RateError {}

/// The one rule on tick rates: a rate is a positive number of ticks per second, at most
/// [`MAX_RATE`]. NaN and infinities break it.
pub fn check_rate(rate: f64) -> Result<(), RateError> {
    if rate > 0.0 && rate <= MAX_RATE {
        Ok(())
    } else {
        Err(RateError(rate))
    }
}

/// A data message waiting in a machine's queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Message {
    /// The sender's id.
    pub source: u16,
    /// The sender's seq for the frame.
    pub seq: u32,
    /// The Lamport timestamp of the send.
    pub clock: u64,
    /// The sender's wall clock at the send, nanoseconds since the UNIX epoch.
    pub sent_ns: u64,
}

impl Message {
    /// The message a data frame carries.
    pub fn from_frame(frame: &Frame<'_>) -> Option<Message> {
        frame.kind().is_data().then(|| Message {
            source: frame.source(),
            seq: frame.seq(),
            clock: frame.logical_clock(),
            sent_ns: frame.system_time_ns(),
        })
    }

    /// The message a data frame with this header carries.
    pub fn from_header(header: &Header) -> Message {
        Message {
            source: header.source,
            seq: header.seq,
            clock: header.logical_clock,
            sent_ns: header.system_time_ns,
        }
    }
}

/// Why a machine refused an incoming frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not a data frame.
    NotData(Kind),
    /// A data frame that, by the routing rule, is not addressed to this machine.
    Misrouted {
        /// Its kind.
        kind: Kind,
        /// Its source.
        source: u16,
    },
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::NotData(kind) => write!(f, "{kind} is not a data frame"),
            Refused::Misrouted { kind, source } => {
                write!(
                    f,
                    "{kind} from machine {source} is not addressed to this machine"
                )
            }
        }
    }
}

/// Counters a machine keeps about itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Ticks taken.
    pub ticks: u64,
    /// Events by kind, indexed as [`EventKind::ALL`].
    pub events: [u64; 4],
    /// Data messages put on the queue.
    pub enqueued: u64,
    /// The queue's peak: the longest it has been, counted right after each message arrived (so
    /// it includes arrivals after the last tick). Not the logged `queue_len`, which is the length
    /// after a tick took its message (analyze's `queue_after_tick_*` figures).
    pub queue_peak: u32,
    /// The largest clock rise at one event.
    pub max_jump: u64,
}

impl Stats {
    /// How many events of `kind` happened.
    pub fn count(&self, kind: EventKind) -> u64 {
        self.events[kind as usize]
    }
}

/// One model machine.
pub struct Machine {
    cfg: MachineConfig,
    rng: Xoshiro256PlusPlus,
    clock: LamportClock,
    queue: inbox::Inbox,
    receive_rule: ReceiveRule,
    /// The seq of the last data frame sent.
    seq: u32,
    /// The index (from 1) of the next deadline of the schedule, and when it is due.
    next_k: u64,
    next_tick_ns: u64,
    missed_ticks: MissedTicks,
    /// The machine's physical clock: what its rows and frames are stamped with.
    clock_skew: ClockSkew,
    timing: Timing,
    stats: Stats,
    transmits: VecDeque<Header>,
    events: VecDeque<Record>,
}

impl fmt::Debug for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Machine")
            .field("cfg", &self.cfg)
            .field("clock", &self.clock.value())
            .field("queue_len", &self.queue.len())
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl Machine {
    /// A machine at clock 0 with an empty queue, its first tick due at `cfg.start_ns + 1/rate`,
    /// catching up on missed ticks (see [`Machine::with_missed_ticks`]) and receiving by deadline
    /// (see [`Machine::with_receive_rule`]).
    pub fn new(cfg: MachineConfig) -> Result<Machine, MachineConfigError> {
        if cfg.machines < 2 || cfg.machines == ROUTER_ID {
            return Err(MachineConfigError::Machines(cfg.machines));
        }
        if cfg.id == 0 || cfg.id > cfg.machines {
            return Err(MachineConfigError::Id {
                id: cfg.id,
                machines: cfg.machines,
            });
        }
        if cfg.action_range < u32::from(cfg.machines) {
            return Err(MachineConfigError::ActionRange {
                range: cfg.action_range,
                machines: cfg.machines,
            });
        }
        check_rate(cfg.rate).map_err(|RateError(rate)| MachineConfigError::Rate(rate))?;
        Ok(Machine {
            cfg,
            rng: Xoshiro256PlusPlus::seed_from_u64(cfg.seed),
            clock: LamportClock::new(),
            queue: inbox::Inbox::default(),
            receive_rule: ReceiveRule::default(),
            seq: 0,
            next_k: 1,
            next_tick_ns: cfg.start_ns.saturating_add(tick_offset_ns(cfg.rate, 1)),
            missed_ticks: MissedTicks::default(),
            clock_skew: ClockSkew::default(),
            timing: Timing::default(),
            stats: Stats::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        })
    }

    /// The same machine, doing `policy` with deadlines that pass while it cannot tick.
    pub fn with_missed_ticks(mut self, policy: MissedTicks) -> Machine {
        self.missed_ticks = policy;
        self
    }

    /// The same machine with a bad physical clock (a `clock` fault): its log rows, its frames and
    /// the arrival times of its hop latencies read `skew` of the real time it is handed, from
    /// the common start; its ticks stay on real time (the deadlines, their lateness).
    pub fn with_clock_skew(mut self, skew: ClockSkew) -> Machine {
        self.clock_skew = skew;
        self
    }

    /// What the machine's physical clock shows at real time `now_ns`.
    pub fn stamp_ns(&self, now_ns: u64) -> u64 {
        self.clock_skew.stamp_ns(self.cfg.start_ns, now_ns)
    }

    /// What the machine does with missed deadlines.
    pub fn missed_ticks(&self) -> MissedTicks {
        self.missed_ticks
    }

    /// When its ticks really ran, and the deadlines it skipped.
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// What the machine was made of.
    pub fn config(&self) -> &MachineConfig {
        &self.cfg
    }
    /// This machine's id.
    pub fn id(&self) -> u16 {
        self.cfg.id
    }
    /// The current logical clock.
    pub fn clock(&self) -> u64 {
        self.clock.value()
    }
    /// Messages waiting in the queue.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }
    /// How many data frames the machine has sent (the seq of the last one).
    pub fn frames_sent(&self) -> u32 {
        self.seq
    }
    /// The machine's counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
    /// The messages still waiting, oldest first.
    pub fn queued(&self) -> impl Iterator<Item = &Message> {
        self.queue.iter()
    }

    /// When the next tick is due, nanoseconds since the UNIX epoch (`u64::MAX`: never). Deadlines
    /// are absolute: the k-th tick (from 1) is due at `start + round(k * 1e9 / rate)`, so ticks
    /// never drift however late they run.
    pub fn poll_timeout(&self) -> u64 {
        self.next_tick_ns
    }

    /// Takes the next tick if it is due at `now`, and says how many it took (0 or 1): its row and
    /// frames carry `now` as the machine's clock shows it ([`Machine::stamp_ns`]), and its
    /// lateness is `now` minus its deadline. Several due ticks take
    /// several calls, each handed the time it really runs (the driver reads its clock afresh).
    /// Under [`MissedTicks::Skip`], every due deadline but the last is dropped first.
    pub fn handle_timeout(&mut self, now_ns: u64) -> u64 {
        self.handle_timeout_due_by(now_ns, now_ns)
    }

    /// [`Machine::handle_timeout`], counting as due only deadlines at or before `due_by_ns`: at a
    /// stop, the ticks owed up to the stop time are taken, each at the time it really runs.
    pub fn handle_timeout_due_by(&mut self, due_by_ns: u64, now_ns: u64) -> u64 {
        // A deadline that saturated at the end of time is never due.
        if self.next_tick_ns > due_by_ns || self.next_tick_ns == u64::MAX {
            return 0;
        }
        if self.missed_ticks == MissedTicks::Skip {
            let elapsed = due_by_ns.saturating_sub(self.cfg.start_ns);
            let last = ticks_due(self.cfg.rate, elapsed).max(self.next_k);
            self.timing.skipped += last - self.next_k;
            self.next_k = last;
            self.next_tick_ns = self.deadline(last);
        }
        let late = now_ns.saturating_sub(self.next_tick_ns);
        self.timing.lateness.record(late);
        if late as f64 > 1e9 / self.cfg.rate {
            self.timing.late_over_one_period += 1;
        }
        self.tick(now_ns);
        1
    }

    /// The next frame to send, if any. Its header is complete; a data frame has no payload.
    pub fn poll_transmit(&mut self) -> Option<Header> {
        self.transmits.pop_front()
    }

    /// The next row to log, if any.
    pub fn poll_event(&mut self) -> Option<Record> {
        self.events.pop_front()
    }

    /// The next tick of the schedule at time `now_ns`, whether or not it is due (its lateness is
    /// not recorded): receive the message at the head of the queue if the receive rule lets this
    /// tick take it (by its deadline, not `now_ns`), otherwise draw an action.
    pub fn tick(&mut self, now_ns: u64) {
        let deadline = self.next_tick_ns;
        self.stats.ticks += 1;
        self.next_k = self.next_k.saturating_add(1);
        self.next_tick_ns = self.deadline(self.next_k);
        let before = self.clock.value();
        let mut record = match self.queue.take(self.receive_rule, deadline) {
            Some(message) => {
                let clock = self.clock.receive(message.clock);
                self.record(
                    EventKind::Receive,
                    now_ns,
                    clock,
                    Some(message.source),
                    Some((message.clock, message.seq)),
                )
            }
            None => self.act(now_ns),
        };
        record.queue_len = self.queue.seen_by(self.receive_rule, deadline);
        self.stats.max_jump = self.stats.max_jump.max(record.logical_clock - before);
        self.stats.events[record.event as usize] += 1;
        self.events.push_back(record);
    }

    /// An idle tick: draw r from 1..=R and send, broadcast or do an internal event.
    fn act(&mut self, now_ns: u64) -> Record {
        let n = self.cfg.machines;
        let r = self.rng.random_range(1..=self.cfg.action_range);
        let clock = self.clock.tick();
        // r <= n - 1 sends to the r-th other, r = n broadcasts, anything above is internal.
        let nth = u16::try_from(r)
            .ok()
            .and_then(|r| route::to_nth_other(self.cfg.id, n, r));
        let (event, kind, dest, peer) = if r == u32::from(n) {
            (EventKind::Broadcast, Kind::Broadcast, 0, None)
        } else if let Some((kind, dest, target)) = nth {
            (EventKind::Send, kind, dest, Some(target))
        } else {
            return self.record(EventKind::Internal, now_ns, clock, None, None);
        };
        self.seq = self.seq.wrapping_add(1).max(1);
        let header = Header::data(
            kind,
            self.cfg.id,
            dest,
            self.seq,
            clock,
            self.stamp_ns(now_ns),
        );
        self.transmits.push_back(header);
        self.record(event, now_ns, clock, peer, Some((clock, self.seq)))
    }

    fn record(
        &self,
        event: EventKind,
        now_ns: u64,
        logical_clock: u64,
        peer: Option<u16>,
        // The clock and seq of the message received or sent.
        message: Option<(u64, u32)>,
    ) -> Record {
        Record {
            machine: self.cfg.id,
            event,
            system_time_us: self.stamp_ns(now_ns) / 1_000,
            logical_clock,
            // Set by `tick`: the queue as the rule lets the tick's deadline see it.
            queue_len: 0,
            peer,
            msg_clock: message.map(|(clock, _)| clock),
            seq: message.map(|(_, seq)| seq),
        }
    }

    /// When tick `k` (from 1) is due: `start + tick_offset_ns(rate, k)`.
    fn deadline(&self, k: u64) -> u64 {
        self.cfg
            .start_ns
            .saturating_add(tick_offset_ns(self.cfg.rate, k))
    }

    fn queue_len_u32(&self) -> u32 {
        self.queue.len().try_into().unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests;
