//! The scheduler of a simulated trial: machines, the virtual network and virtual time.
//!
//! A priority queue holds (time, rank and sequence number, event) and the driver jumps straight to
//! the next event, or to the switchboard's [`Net::poll_timeout`] when that comes first. At one
//! instant deliveries come before ticks (as the real client queues what has arrived before it
//! ticks), and the stop at the end of the trial after both.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

use super::net::{Net, Out};
use super::pause::Pauses;
use super::{SimError, SimOptions, SimOutcome};
use crate::core::event::Record;
use crate::core::machine::{Machine, MachineConfig, MachineConfigError};
use crate::core::seed::{self, Stream};
use crate::core::switchboard::{Options, PairTable};
use crate::core::wire::{self, HEADER_LEN, Parsed, Welcome};
use crate::rundir::records::{ClientSummary, RouterStats};

/// What stops the simulated router, as `router.yaml` records it.
const STOPPED_BY: &str = "the end of the simulated trial";
/// What ends a simulated machine that the router did not refuse, as its summary records it.
const ENDED: &str = "the simulated trial ended";
/// Why the router closes the connections left when its loop ends, as `router.yaml` records it.
const ROUTER_STOPPED: &str = "the router stopped";
/// The address a simulated router "listens" on, as `router.yaml` records it.
const LISTEN: &str = "simulated";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// A frame the switchboard wrote reaches machine index `dest` (id - 1); its bytes wait in
    /// slot `slot` of the frames in flight (so that the queue's entries stay small).
    Deliver { dest: u16, slot: u32 },
    /// Machine index (id - 1) is due to tick.
    Tick(u16),
    /// The trial's time is up: the router stops.
    Stop,
}

impl Event {
    /// The order of events at one instant.
    fn rank(&self) -> u64 {
        match self {
            Event::Deliver { .. } => 0,
            Event::Tick(_) => 1,
            Event::Stop => 2,
        }
    }
}

/// One machine and its connection.
struct Seat {
    machine: Machine,
    /// Its connection in the virtual network.
    conn: usize,
    /// The router has said BYE and the machine has not answered yet.
    bye_owed: bool,
    /// The machine has said BYE.
    said_bye: bool,
    /// Data frames it refused.
    refused: u64,
    /// Why the router refused it, if it did.
    refusal: Option<String>,
}

/// A trial in progress.
pub(super) struct Driver<'o> {
    opts: &'o SimOptions,
    end_ns: u64,
    net: Net,
    outs: Vec<Out>,
    /// The machines' `pause` windows.
    pauses: Pauses,
    /// Machines by id - 1.
    seats: Vec<Seat>,
    /// Machine index by connection.
    index_of: Vec<u16>,
    /// Events by (time, rank and sequence number): the rank in the top two bits, so that one
    /// comparison orders an instant's events by rank and then in the order they were scheduled.
    heap: BinaryHeap<Reverse<(u64, u64, Event)>>,
    /// The bytes of the frames in flight, by slot, and the slots free for reuse.
    in_flight: Vec<[u8; HEADER_LEN]>,
    free_slots: Vec<u32>,
    next_seq: u64,
    latency_rng: Xoshiro256PlusPlus,
    lateness_rng: Xoshiro256PlusPlus,
    /// Events the machines logged: one log row each.
    events: u64,
    /// Frames handed to their receivers.
    deliveries: u64,
    now: u64,
    /// When the switchboard finished: the router's stop time.
    finished_ns: Option<u64>,
}

impl<'o> Driver<'o> {
    /// Connects a machine for each name to the switchboard (with the options `router`, its
    /// machines and seed the trial's), which welcomes them (ids by sorted
    /// name, the common start at `opts.epoch_ns`), and makes each machine from its WELCOME.
    pub(super) fn register(opts: &'o SimOptions, router: Options) -> Result<Driver<'o>, SimError> {
        let n = match u16::try_from(opts.names.len()) {
            Ok(n) if n >= 2 => n,
            Ok(n) => return Err(MachineConfigError::Machines(n).into()),
            Err(_) => return Err(MachineConfigError::Machines(u16::MAX).into()),
        };
        let router = Options {
            machines: n,
            seed: opts.seed,
            ..router
        };
        // Every machine says HELLO at once, the start delay before the epoch.
        let hello_ns = opts.epoch_ns.saturating_sub(router.start_delay_ns);
        let peers: Vec<String> = (1..=n).map(|k| format!("{LISTEN}:{k}")).collect();
        // The plan's delays and partitions are the switchboard's rules, as in a real run.
        let mut net = Net::new(router, opts.faults.weather(), &peers, hello_ns);
        for (conn, name) in opts.names.iter().enumerate() {
            let hello = wire::hello(name, hello_ns).ok_or_else(|| SimError::NotWelcomed {
                name: name.clone(),
                reason: format!("a name is 1 to {} bytes", wire::MAX_NAME_LEN),
            })?;
            net.write(conn, &hello);
        }
        let mut outs = Vec::new();
        net.round(hello_ns, &mut outs);
        let (seats, index_of) = seat_welcomed(opts, n, &mut outs)?;
        let mut driver = Driver {
            opts,
            end_ns: opts.epoch_ns.saturating_add(opts.duration_ns),
            net,
            outs,
            pauses: Pauses::new(&opts.faults, n, opts.epoch_ns),
            seats,
            index_of,
            heap: BinaryHeap::new(),
            in_flight: Vec::new(),
            free_slots: Vec::new(),
            next_seq: 0,
            latency_rng: Xoshiro256PlusPlus::seed_from_u64(seed::derive(
                opts.seed,
                Stream::Latency,
            )),
            lateness_rng: Xoshiro256PlusPlus::seed_from_u64(seed::derive(
                opts.seed,
                Stream::TickLateness,
            )),
            events: 0,
            deliveries: 0,
            now: hello_ns,
            finished_ns: None,
        };
        for index in 0..n {
            let due = driver.seats[usize::from(index)].machine.poll_timeout();
            let at = driver.tick_time(due, 0);
            driver.push(at, Event::Tick(index));
        }
        driver.push(driver.end_ns, Event::Stop);
        Ok(driver)
    }

    fn push(&mut self, time: u64, event: Event) {
        let rank = event.rank();
        self.heap
            .push(Reverse((time, rank << 62 | self.next_seq, event)));
        self.next_seq += 1;
    }

    /// When the next tick of a machine due at `deadline` runs, having run its last at `last`.
    fn tick_time(&mut self, deadline: u64, last: u64) -> u64 {
        let late = match (&self.opts.measured, &self.opts.tick_lateness) {
            (Some(measured), _) => measured.tick_lateness.draw(&mut self.lateness_rng),
            (None, Some(model)) => model.draw(&mut self.lateness_rng),
            (None, None) => return deadline,
        };
        deadline.saturating_add(late).max(last)
    }

    /// How long a data frame takes from the switchboard to its receiver.
    fn hop(&mut self) -> u64 {
        match &self.opts.measured {
            Some(measured) => measured.hop_latency.draw(&mut self.latency_rng),
            None => self.opts.latency.draw(&mut self.latency_rng),
        }
    }

    /// Runs the trial to its end: every event, then the stop protocol until the switchboard has
    /// closed every connection.
    pub(super) fn run(&mut self, sink: &mut impl FnMut(&Record)) {
        loop {
            let next = self.heap.peek().map(|Reverse((time, ..))| *time);
            if let Some(due) = self.net.poll_timeout(self.now) {
                if next.is_none_or(|t| due <= t) {
                    self.now = due;
                    self.round();
                    continue;
                }
            }
            let Some(Reverse((time, _, event))) = self.heap.pop() else {
                break;
            };
            self.now = time;
            if self.sleeps(event, time) {
                continue;
            }
            match event {
                Event::Deliver { dest, slot } => {
                    let frame = self.in_flight[slot as usize];
                    self.free_slots.push(slot);
                    self.deliver(dest, &frame, time);
                }
                Event::Tick(index) => self.tick(index, time, sink),
                Event::Stop => {
                    self.net.stop(STOPPED_BY, time);
                    self.round();
                }
            }
        }
        // A switchboard that never finished (nothing woke it again) ends with the trial.
        if self.finished_ns.is_none() {
            self.finished_ns = Some(self.now);
            self.net.close_all(ROUTER_STOPPED);
        }
    }

    /// Whether `event` is for a machine that a `pause` holds at `time`: then it waits for the
    /// window's end (a paused machine neither ticks nor reads; a tick not owed is left to
    /// [`Driver::tick`], which drops it).
    fn sleeps(&mut self, event: Event, time: u64) -> bool {
        let index = match event {
            Event::Deliver { dest, .. } => dest,
            Event::Tick(index) => {
                let due = self.seats[usize::from(index)].machine.poll_timeout();
                if time > self.end_ns && due > self.end_ns {
                    return false;
                }
                index
            }
            Event::Stop => return false,
        };
        match self.pauses.resume_at(index, time) {
            Some(resume) => {
                self.push(resume, event);
                true
            }
            None => false,
        }
    }

    /// A frame reaches its receiver, in its queue from `time` on (after the end too: frames in
    /// flight at the stop are reported as unprocessed, as the real router writes out everything
    /// that arrived before each BYE).
    fn deliver(&mut self, dest: u16, frame: &[u8; HEADER_LEN], time: u64) {
        self.deliveries += 1;
        let seat = &mut self.seats[usize::from(dest)];
        let accepted = match wire::parse(frame) {
            Ok(Parsed::Complete { frame, .. }) => {
                seat.machine.handle_frame_at(&frame, time).is_ok()
            }
            _ => false,
        };
        seat.refused += u64::from(!accepted);
    }

    /// Machine `index`'s tick at `time`: its rows to `sink`, its frames into the network one at a
    /// time, each routed and written out before the next.
    fn tick(&mut self, index: u16, time: u64, sink: &mut impl FnMut(&Record)) {
        let i = usize::from(index);
        let due = self.seats[i].machine.poll_timeout();
        if time > self.end_ns && due > self.end_ns {
            // Not owed: a machine takes no tick due after the end.
            return;
        }
        // Due by the end but running late: still taken, as a real machine takes the ticks due
        // by its stop.
        let seat = &mut self.seats[i];
        seat.machine.handle_timeout(time);
        while let Some(record) = seat.machine.poll_event() {
            self.events += 1;
            sink(&record);
        }
        while let Some(header) = self.seats[i].machine.poll_transmit() {
            self.net.write_header(self.seats[i].conn, &header);
            self.round();
        }
        let due = self.seats[i].machine.poll_timeout();
        // A tick owed from before now (catching up after a pause) runs now.
        let at = self.tick_time(due, time).max(time);
        self.push(at, Event::Tick(index));
        if self.answer_bye(i) {
            self.round();
        }
    }

    /// Machine `i` says BYE if the router has and it owes no more ticks. Returns whether it did.
    fn answer_bye(&mut self, i: usize) -> bool {
        let end_ns = self.end_ns;
        let seat = &mut self.seats[i];
        if !seat.bye_owed || seat.said_bye || seat.machine.poll_timeout() <= end_ns {
            return false;
        }
        seat.bye_owed = false;
        seat.said_bye = true;
        let (m, conn) = (&seat.machine, seat.conn);
        let bye = wire::bye(m.id(), m.frames_sent(), m.clock(), end_ns);
        self.net.write(conn, &bye);
        true
    }

    /// Turns of the router's loop at the current time until nothing more is written to it: each
    /// data frame written out leaves for its receiver after a latency from the model (drawn in
    /// the order the switchboard wrote them: by frame, then by receiver id); control frames
    /// arrive at once and draw nothing.
    fn round(&mut self) {
        loop {
            self.net.round(self.now, &mut self.outs);
            if self.finished_ns.is_none() && self.net.is_finished(self.now) {
                // The router's loop ends here: it closes what is left (a stop grace that ran
                // out) and reads nothing more.
                self.finished_ns = Some(self.now);
                self.net.close_all(ROUTER_STOPPED);
            }
            let mut outs = std::mem::take(&mut self.outs);
            let mut wrote = false;
            for out in outs.drain(..) {
                match out {
                    Out::Data { conn, frame } => {
                        let dest = self.index_of[conn];
                        let at = self.now.saturating_add(self.hop());
                        let slot = match self.free_slots.pop() {
                            Some(slot) => {
                                self.in_flight[slot as usize] = frame;
                                slot
                            }
                            None => {
                                self.in_flight.push(frame);
                                (self.in_flight.len() - 1) as u32
                            }
                        };
                        self.push(at, Event::Deliver { dest, slot });
                    }
                    Out::Bye { conn } => {
                        let i = usize::from(self.index_of[conn]);
                        self.seats[i].bye_owed = true;
                        wrote |= self.answer_bye(i);
                    }
                    Out::Error { conn, reason } => {
                        let i = usize::from(self.index_of[conn]);
                        self.seats[i].refusal = Some(reason);
                    }
                    // Every machine was welcomed before the first tick.
                    Out::Welcome { .. } => {}
                }
            }
            self.outs = outs;
            // A BYE answered is read in another turn; other bytes the switchboard did not
            // take wait for a later round.
            if !wrote {
                return;
            }
        }
    }

    /// The machines' summaries and the router's statistics, from the switchboard's report.
    pub(super) fn finish(self) -> (SimOutcome, PairTable) {
        let opts = self.opts;
        let summaries = self
            .seats
            .iter()
            .map(|seat| {
                let name = &opts.names[seat.conn];
                let (ended, orderly) = match &seat.refusal {
                    Some(reason) => (format!("the router refused us: {reason}"), false),
                    None => (ENDED.to_string(), true),
                };
                ClientSummary::of(
                    &seat.machine,
                    name,
                    opts.seed,
                    self.end_ns,
                    seat.refused,
                    &ended,
                    orderly,
                )
            })
            .collect();
        let report = self.net.report();
        let books = self.net.pairs().clone();
        let router = RouterStats::from_report(
            LISTEN.into(),
            self.net.options(),
            report,
            self.finished_ns.unwrap_or(self.now),
        );
        let outcome = SimOutcome {
            summaries,
            router,
            events: self.events,
            deliveries: self.deliveries,
        };
        (outcome, books)
    }
}

/// The machines the switchboard welcomed, made from their WELCOMEs (in `outs`), by id; and the
/// machine index of each connection. A machine missing means a connection was refused: the error
/// names it with the switchboard's reason.
fn seat_welcomed(
    opts: &SimOptions,
    n: u16,
    outs: &mut Vec<Out>,
) -> Result<(Vec<Seat>, Vec<u16>), SimError> {
    let mut welcomed: Vec<Option<(usize, Welcome)>> = vec![None; usize::from(n)];
    let mut refusals: Vec<Option<String>> = vec![None; usize::from(n)];
    for out in outs.drain(..) {
        match out {
            Out::Welcome { conn, welcome } => {
                if let Some(slot) = welcomed.get_mut(usize::from(welcome.id).wrapping_sub(1)) {
                    *slot = Some((conn, welcome));
                }
            }
            Out::Error { conn, reason } => refusals[conn] = Some(reason),
            Out::Data { .. } | Out::Bye { .. } => {}
        }
    }
    let mut seats = Vec::with_capacity(usize::from(n));
    let mut index_of = vec![0u16; usize::from(n)];
    for (index, slot) in welcomed.into_iter().enumerate() {
        let Some((conn, welcome)) = slot else {
            // A machine missing means one connection was refused: name it.
            let conn = (0..usize::from(n))
                .find(|&c| refusals[c].is_some())
                .unwrap_or(index);
            return Err(SimError::NotWelcomed {
                name: opts.names[conn].clone(),
                reason: refusals[conn]
                    .take()
                    .unwrap_or_else(|| "not welcomed".into()),
            });
        };
        let id = welcome.id;
        let machine = Machine::new(MachineConfig {
            id,
            machines: welcome.machines,
            action_range: opts.action_range,
            rate: opts.rates.get(index).copied().unwrap_or(0.0),
            seed: seed::derive(welcome.seed, Stream::Machine(id)),
            start_ns: welcome.start_time_ns,
        })?
        .with_receive_rule(opts.receive_rule)
        .with_missed_ticks(opts.missed_ticks)
        .with_clock_skew(opts.faults.clock_skew(id));
        index_of[conn] = index as u16;
        seats.push(Seat {
            machine,
            conn,
            bye_owed: false,
            said_bye: false,
            refused: 0,
            refusal: None,
        });
    }
    Ok((seats, index_of))
}
