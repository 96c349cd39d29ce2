//! The simulator: the second driver of the sans-IO [`Machine`], on virtual time.
//!
//! A discrete-event scheduler holds (time, kind, sequence number, event) in a priority queue and
//! jumps straight to the next event; at the same instant deliveries come before ticks, as the real
//! client queues what has arrived before it ticks. Machines tick at their deadlines exactly as the real client does
//! (absolute deadlines from a common start); a frame a machine sends goes where [`route::targets`]
//! (the router's own rule) says, and joins each destination's queue after a latency drawn from a
//! [`Latency`] model (or from a real run's measured distribution, [`MeasuredTiming`]), stamped
//! with the time it arrives; a tick that runs late takes by [`ReceiveRule`] (only what arrived by
//! its deadline, by default). When the trial's time is up, the machines stop ticking and the
//! frames still in flight are delivered into the queues, as the real router delivers everything
//! that arrived before each BYE: they are reported as unprocessed. A machine that a `pause`
//! fault stops neither ticks nor reads until its window ends ([`pause`]), then follows its
//! [`MissedTicks`] policy.
//!
//! Everything is a function of the options: the same options give the same records, byte for byte.
//! Nothing here reads a clock or touches a file.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

use crate::config::{FaultPlan, Latency};
use crate::core::event::Record;
use crate::core::histogram::Empirical;
use crate::core::machine::{
    Machine, MachineConfig, MachineConfigError, Message, MissedTicks, ReceiveRule,
};
use crate::core::route;
use crate::core::seed::{self, Stream};
use crate::core::switchboard::{self, KindCount, PairTable};
use crate::core::wire::{HEADER_LEN, Kind};
use crate::rundir::records::{ClientSummary, RouterStats};

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
    /// ([`Machine::with_clock_skew`]): their rows and frames are stamped with them, while
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
    /// Events processed: ticks plus deliveries.
    pub events: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// Machine index (id - 1) is due to tick.
    Tick(u16),
    /// A message joins the queue of machine index `dest`.
    Deliver { dest: u16, message: Message },
}

/// Runs one trial, handing every log record to `sink` in the order each machine produced them.
pub fn simulate(
    opts: &SimOptions,
    sink: impl FnMut(&Record),
) -> Result<SimOutcome, MachineConfigError> {
    trial(opts, sink).map(|(outcome, _)| outcome)
}

/// [`simulate`], and the router's books of every pair besides (sent as well as delivered).
fn trial(
    opts: &SimOptions,
    mut sink: impl FnMut(&Record),
) -> Result<(SimOutcome, PairTable), MachineConfigError> {
    let n = u16::try_from(opts.names.len()).map_err(|_| MachineConfigError::Machines(u16::MAX))?;
    let mut machines = Vec::with_capacity(usize::from(n));
    for id in 1..=n {
        machines.push(
            Machine::new(MachineConfig {
                id,
                machines: n,
                action_range: opts.action_range,
                rate: opts.rates.get(usize::from(id) - 1).copied().unwrap_or(0.0),
                seed: seed::derive(opts.seed, Stream::Machine(id)),
                start_ns: opts.epoch_ns,
            })?
            .with_receive_rule(opts.receive_rule)
            .with_missed_ticks(opts.missed_ticks)
            .with_clock_skew(opts.faults.clock_skew(id)),
        );
    }
    let end_ns = opts.epoch_ns.saturating_add(opts.duration_ns);
    let pauses = pause::Pauses::new(&opts.faults, n, opts.epoch_ns);
    let mut latency_rng =
        Xoshiro256PlusPlus::seed_from_u64(seed::derive(opts.seed, Stream::Latency));
    let mut lateness_rng =
        Xoshiro256PlusPlus::seed_from_u64(seed::derive(opts.seed, Stream::TickLateness));
    // When the next tick of a machine due at `deadline` runs, having run its last at `last`.
    let mut tick_time = |deadline: u64, last: u64| {
        let late = match (&opts.measured, &opts.tick_lateness) {
            (Some(measured), _) => measured.tick_lateness.draw(&mut lateness_rng),
            (None, Some(model)) => model.draw(&mut lateness_rng),
            (None, None) => return deadline,
        };
        deadline.saturating_add(late).max(last)
    };
    let hop = |rng: &mut Xoshiro256PlusPlus| match &opts.measured {
        Some(measured) => measured.hop_latency.draw(rng),
        None => opts.latency.draw(rng),
    };
    // Ordered by time, then deliveries before ticks (as the real client queues what has arrived
    // before it ticks), then the order of scheduling.
    let mut heap: BinaryHeap<Reverse<(u64, u8, u64, Event)>> = BinaryHeap::new();
    let mut next_seq = 0u64;
    let mut push = |heap: &mut BinaryHeap<_>, time: u64, event: Event| {
        let rank = match event {
            Event::Deliver { .. } => 0,
            Event::Tick(_) => 1,
        };
        heap.push(Reverse((time, rank, next_seq, event)));
        next_seq += 1;
    };
    for (index, m) in machines.iter().enumerate() {
        let at = tick_time(m.poll_timeout(), 0);
        push(&mut heap, at, Event::Tick(index as u16));
    }
    // The router's books, kept as it keeps them. Every frame routed is delivered, the ones in
    // flight at the stop included: a simulated frame is never undeliverable.
    let mut kinds = [KindCount::default(); Kind::ALL.len()];
    let mut pairs = PairTable::new(n);
    let mut events = 0u64;
    while let Some(Reverse((time, _, _, event))) = heap.pop() {
        if time > end_ns {
            match event {
                // In flight at the stop: it still reaches the queue, unprocessed.
                Event::Deliver { .. } => {}
                // Due by the end but running late: still taken, as a real machine takes the
                // ticks due by its stop.
                Event::Tick(index) if machines[usize::from(index)].poll_timeout() <= end_ns => {}
                Event::Tick(_) => continue,
            }
        }
        // A paused machine neither ticks nor reads: both wait for its window's end.
        let index = match event {
            Event::Deliver { dest, .. } => dest,
            Event::Tick(index) => index,
        };
        if let Some(resume) = pauses.resume_at(index, time) {
            push(&mut heap, resume, event);
            continue;
        }
        events += 1;
        match event {
            Event::Deliver { dest, message } => {
                let m = &mut machines[usize::from(dest)];
                m.handle_message_at(message, time);
                pairs.delivered(message.source, dest + 1, 1);
            }
            Event::Tick(index) => {
                let m = &mut machines[usize::from(index)];
                m.handle_timeout(time);
                while let Some(record) = m.poll_event() {
                    sink(&record);
                }
                while let Some(header) = m.poll_transmit() {
                    let count = &mut kinds[header.kind.index()];
                    count.frames += 1;
                    count.bytes += HEADER_LEN as u64;
                    let Some(targets) = route::targets(header.kind, header.source, header.dest, n)
                    else {
                        continue;
                    };
                    let message = Message::from_header(&header);
                    for dest in targets.iter(n) {
                        pairs.routed(header.source, dest, 1);
                        let at = time.saturating_add(hop(&mut latency_rng));
                        push(
                            &mut heap,
                            at,
                            Event::Deliver {
                                dest: dest - 1,
                                message,
                            },
                        );
                    }
                }
                // A tick owed from before now (catching up after a pause) runs now.
                let at = tick_time(m.poll_timeout(), time).max(time);
                push(&mut heap, at, Event::Tick(index));
            }
        }
    }
    let summaries = machines
        .iter()
        .zip(&opts.names)
        .map(|(m, name)| {
            ClientSummary::of(
                m,
                name,
                opts.seed,
                end_ns,
                0,
                "the simulated trial ended",
                true,
            )
        })
        .collect();
    let frames = switchboard::frames_by_name(&kinds);
    let router = RouterStats {
        listen: "simulated".into(),
        machines: n,
        seed: opts.seed,
        names: opts.names.clone(),
        start_time_ns: Some(opts.epoch_ns),
        stop_time_ns: end_ns,
        stopped_by: "the end of the simulated trial".into(),
        frames,
        pairs: pairs.to_vec(),
        connections: Vec::new(),
    };
    Ok((
        SimOutcome {
            summaries,
            router,
            events,
        },
        pairs,
    ))
}

#[cfg(test)]
mod tests;
