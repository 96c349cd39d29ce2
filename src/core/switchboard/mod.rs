//! The router's rules as a sans-IO state machine: registration (HELLO, ids by sorted name,
//! WELCOME with the common start time), data validation and routing, BYE, every refusal, the
//! partial-frame stall timeout, the stop protocol and the books. The mio driver in `net::router`
//! feeds it bytes and times and carries out what it decides:
//!
//! ```text
//! loop {
//!     wait for events until switchboard.poll_timeout()
//!     handle_connect / handle_read / handle_eof / handle_stop for what happened
//!     handle_timeout(now)
//!     for each connection: while wants_write(conn), write poll_transmit(conn, max) and report
//!         handle_written(conn, n); then act on poll_fate(conn, now): keep, shut the write
//!         side, or close
//!     log every poll_event(); stop once is_finished(now)
//! }
//! ```
//!
//! It never reads a clock or touches a socket: time is an argument (nanoseconds since the UNIX
//! epoch, as the driver's wall clock reads them). The driver reads straight into a connection's
//! read buffer ([`Switchboard::read_buffer`], then [`Switchboard::handle_filled`]); frames are
//! forwarded as the bytes that arrived, `Bytes` slices of that buffer in each receiver's outbox,
//! copied verbatim into the outbox only if its socket did not take them in the same turn (see
//! `buffers`). Invalid input closes only the connection it came on, after an ERROR. A fault plan's
//! delays and partitions ([`Switchboard::set_plan`], see `weather`) hold data frames until a
//! release time or drop them, and the books say so.
//!
//! # Flow control
//!
//! The driver reads a connection only while [`Switchboard::wants_read`] says so. A receiver whose
//! outbox passes high water ([`Options::outbox_limit`] bytes waiting) stops every sender that
//! adds a frame to it while it is over; they are read again once it has drained to low water
//! (half the limit) or is gone. While all the outboxes together keep more than
//! [`Options::buffer_limit`] bytes alive, no machine is read until they are down to half of it.
//! TCP then pushes back on the fast sender; nobody is disconnected for sending fast. A receiver
//! with frames waiting that takes no byte of them for [`Options::reader_timeout_ns`] is refused as
//! "not reading": the frames not begun are dropped (undeliverable) and it gets an ERROR.
//!
//! Nor is a stopped sender disconnected for *not* sending. A read often ends inside a frame, and
//! a connection whose partial frame gets nothing more for [`Options::stall_timeout_ns`] is
//! refused; but a stopped sender's next bytes wait unread in its socket. So the stall clock runs
//! only while the switchboard is willing to read the connection ([`Switchboard::wants_read`]; a
//! read buffer lent to outboxes in this turn only defers the check to the next): it is paused the moment flow control or the memory limit
//! stops it, and restarts from zero at the first [`Switchboard::handle_timeout`] that finds it read
//! again (which [`Switchboard::poll_timeout`] asks for at once). The rule is "nothing more for the
//! stall timeout while we were reading": time read before a pause is not counted after it.
//!
//! This cannot deadlock the router. Stopping only ever stops *reading*: every outbox, including a
//! stopped sender's own, is written whenever its socket takes bytes, so each outbox drains at the
//! speed its peer reads, whatever else is stopped. Take A and B each sending to the other, both
//! outboxes over high water, so that both are stopped: the router still writes A's outbox to A and
//! B's to B. If the peers read, both drain to low water and both are read again; the wait of A on
//! B and of B on A is broken by the writes, which never wait for anything but the peer. Only a peer
//! that does not read keeps an outbox full, and then the reader timeout ends it (its ERROR names
//! the reason), which releases every sender it stopped. The same holds for the global limit: it
//! stops reads alone, outboxes drain or their readers time out, and the limit is checked again as
//! they shrink. A cycle of peers that each block in `write` and stop reading is broken the same
//! way, by the timeout, since none of them reads.

mod buffers;
mod conn;
mod events;
mod flow;
mod intake;
mod memory;
mod pairs;
mod rules;
mod weather;

#[cfg(any(test, fuzzing))]
mod oracle;
#[cfg(test)]
mod tests;

pub use events::{Closed, Event, Fate, Report};
#[cfg(any(test, fuzzing))]
pub use oracle::check_switchboard_properties;
pub use pairs::{Books, KindCount, PairCount, PairTable};
pub use weather::{Delay, Partition, Plan};

use crate::core::wire::Kind;
use conn::Conn;
use memory::Conns;

/// The read buffer of a machine (a connection before WELCOME gets a small one, grown only for
/// a frame that needs more).
pub const READ_BUFFER: usize = 64 * 1024;
/// The read buffer of a connection that has not been welcomed: room for a HELLO.
pub const SMALL_READ_BUFFER: usize = 1024;

/// A connection's handle, chosen by the driver (the router uses its slab key). Unique among the
/// connections open at one time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub usize);

/// How the router behaves: the one set of its options, which the mio driver (`net::router`),
/// its tests and benchmarks and the fuzz oracle all take. Times are in nanoseconds.
///
/// [`Options::default`] has the documented defaults of `config/config.yaml` (seed 0); the
/// configuration gives its own with `Config::router_options`. Set a few fields by hand with
/// struct update: `Options { machines: 2, ..Options::default() }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// How many machines must register before the model starts.
    pub machines: u16,
    /// The run's seed, sent to every machine in its WELCOME.
    pub seed: u64,
    /// The largest payload accepted.
    pub max_payload: u32,
    /// How long a connection may sit on a partial frame (or on a close it does not finish).
    pub stall_timeout_ns: u64,
    /// Time from the last HELLO to the common start time announced in WELCOME.
    pub start_delay_ns: u64,
    /// How long an orderly stop waits for every machine's BYE and for outboxes to drain.
    pub stop_grace_ns: u64,
    /// How long a new connection may take to say HELLO.
    pub hello_timeout_ns: u64,
    /// The most connections that have not said HELLO at one time; more are refused at once.
    pub max_unregistered: usize,
    /// High water of one outbox, in bytes waiting: the senders adding to it are no longer read
    /// until it is down to half this.
    pub outbox_limit: usize,
    /// The most memory all the outboxes together keep alive before no machine is read (until
    /// they are down to half this).
    pub buffer_limit: usize,
    /// How long a connection with frames waiting may take no byte of them.
    pub reader_timeout_ns: u64,
}

/// Nanoseconds in a second.
const SECOND_NS: u64 = 1_000_000_000;

impl Default for Options {
    /// 3 machines, seed 0, payloads up to 64 KiB, a stall timeout of 5 s, a start delay of
    /// 0.5 s, a stop grace of 5 s, a HELLO timeout of 5 s, 1,024 connections without HELLO, an
    /// outbox limit of 1 MiB, a buffer limit of 64 MiB and a reader timeout of 10 s.
    fn default() -> Options {
        Options {
            machines: 3,
            seed: 0,
            max_payload: crate::core::wire::MAX_PAYLOAD_LEN,
            stall_timeout_ns: 5 * SECOND_NS,
            start_delay_ns: SECOND_NS / 2,
            stop_grace_ns: 5 * SECOND_NS,
            hello_timeout_ns: 5 * SECOND_NS,
            max_unregistered: 1024,
            outbox_limit: 1 << 20,
            buffer_limit: 64 << 20,
            reader_timeout_ns: 10 * SECOND_NS,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Registering,
    Running,
    Stopping { deadline_ns: u64 },
}

/// The router's rules for every connection it has.
#[derive(Debug)]
pub struct Switchboard {
    opts: Options,
    /// Connections by [`ConnId`], and the memory their buffers hold.
    conns: Conns,
    /// How many of them have not said HELLO (kept as they change, so that an accept in a burst
    /// of thousands costs no scan).
    unregistered: usize,
    /// Each machine's connection by id - 1; `None` once it has departed.
    machines: Vec<Option<ConnId>>,
    /// Registered connections waiting for the others, in the order they registered.
    pending: Vec<ConnId>,
    phase: Phase,
    names: Vec<String>,
    start_time_ns: Option<u64>,
    stopped_by: Option<String>,
    pairs: PairTable,
    /// Frames and bytes received by kind, indexed as [`Kind::ALL`].
    kinds: [KindCount; Kind::ALL.len()],
    closed: Vec<Closed>,
    events: std::collections::VecDeque<Event>,
    /// The data frames of the read being routed (kept to allocate nothing per read).
    batch: Vec<intake::Segment>,
    /// The receivers with a run open for the read being routed.
    touched: Vec<ConnId>,
}

impl Switchboard {
    /// A switchboard with no connections, waiting for `opts.machines` HELLOs.
    pub fn new(opts: Options) -> Switchboard {
        Switchboard {
            opts,
            conns: Conns::new(opts.buffer_limit),
            unregistered: 0,
            machines: vec![None; usize::from(opts.machines)],
            pending: Vec::new(),
            phase: Phase::Registering,
            names: Vec::new(),
            start_time_ns: None,
            stopped_by: None,
            pairs: PairTable::new(opts.machines),
            kinds: [KindCount::default(); Kind::ALL.len()],
            closed: Vec::new(),
            events: std::collections::VecDeque::new(),
            batch: Vec::new(),
            touched: Vec::new(),
        }
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// A new connection from `peer` at `now_ns` under the handle `conn`, which must not be open
    /// already (if it is, the old connection is closed first). Beyond
    /// [`Options::max_unregistered`] connections that have not said HELLO, it is refused at once.
    pub fn handle_connect(&mut self, conn: ConnId, peer: String, now_ns: u64) {
        if self.conn(conn).is_some() {
            self.close(conn, "its handle was reused".into());
        }
        let unregistered = self.unregistered;
        self.conns.insert(conn, peer, now_ns);
        self.unregistered += 1;
        let max = self.opts.max_unregistered;
        if unregistered >= max {
            let reason = format!("too many connections that have not said HELLO (at most {max})");
            self.refuse(conn, reason, now_ns);
        }
    }

    /// Bytes that arrived on `conn` at `now_ns` (for a caller that holds them already; the
    /// router reads into [`Switchboard::read_buffer`] instead): every complete frame among them
    /// is handled. A closing connection takes nothing more, except that anything after a BYE is
    /// answered with ERROR.
    pub fn handle_read(&mut self, conn: ConnId, bytes: &[u8], now_ns: u64) {
        if self
            .conns
            .with_inbuf(conn, |inbuf| inbuf.extend(bytes))
            .is_none()
        {
            return;
        }
        self.process(conn, now_ns);
    }

    /// Room to read `conn`'s next bytes into, straight into its read buffer; then tell
    /// [`Switchboard::handle_filled`] how many came. `None` if it is not open, or if its read
    /// buffer still has frames out in outboxes from this round: come back after the writes
    /// (after [`Switchboard::poll_fate`] of every connection), when it is reused in place.
    pub fn read_buffer(&mut self, conn: ConnId) -> Option<&mut [u8]> {
        let size = match self.conn(conn)?.state {
            conn::State::Machine { .. } | conn::State::SaidBye { .. } => READ_BUFFER,
            _ => SMALL_READ_BUFFER,
        };
        self.conns.room(conn, size)
    }

    /// The driver read `n` bytes into [`Switchboard::read_buffer`] at `now_ns`: every complete
    /// frame among the bytes waiting is handled.
    pub fn handle_filled(&mut self, conn: ConnId, n: usize, now_ns: u64) {
        if self
            .conns
            .with_inbuf(conn, |inbuf| inbuf.filled(n))
            .is_none()
        {
            return;
        }
        self.process(conn, now_ns);
    }

    /// Whether the driver should read `conn` now: not while flow control holds it back (see the
    /// module's "Flow control"). A closing connection is always read (to see its end).
    pub fn wants_read(&self, conn: ConnId) -> bool {
        self.conn(conn).is_some_and(|c| self.reads(c))
    }

    /// [`Switchboard::wants_read`] of one connection.
    fn reads(&self, c: &Conn) -> bool {
        c.closing().is_some()
            || (c.stopped_by == 0 && !(self.conns.memory_full() && c.id().is_some()))
    }

    /// The peer closed its side of `conn`. A closing connection with frames still to write keeps
    /// them written first; any other connection is closed now (one not open is gone already).
    pub fn handle_eof(&mut self, conn: ConnId) -> Fate {
        let Some(c) = self.conn_mut(conn) else {
            return Fate::Close;
        };
        if let conn::State::Closing(closing) = &mut c.state {
            if !c.outbox.is_empty() {
                closing.step = conn::CloseStep::PeerShut;
                return Fate::Keep;
            }
        }
        let reason = if c.inbuf.is_empty() {
            "the peer closed the connection".to_string()
        } else {
            format!(
                "the peer closed the connection in the middle of a frame ({} bytes)",
                c.inbuf.len()
            )
        };
        self.close(conn, reason);
        Fate::Close
    }

    /// The driver closes `conn` for `reason` (a failed read or write, the router stopping); a
    /// closing connection keeps the reason it was closing for. Returns no [`Fate`]: the driver
    /// has decided it already, and the connection is always gone (its [`Event::Closed`] has the
    /// reason recorded).
    pub fn handle_close(&mut self, conn: ConnId, reason: String) {
        self.close(conn, reason);
    }

    /// A stop was asked for at `now_ns` by `cause` (e.g. "SIGTERM"). The first sends BYE to every
    /// connection and waits for the machines' BYEs until the grace deadline; a second one during
    /// the stop ends it at once.
    pub fn handle_stop(&mut self, cause: &str, now_ns: u64) {
        if self.is_stopping() {
            self.stopped_by = Some(format!("{cause}, twice"));
            self.phase = Phase::Stopping {
                deadline_ns: now_ns,
            };
            self.events.push_back(Event::StopNow {
                cause: cause.to_string(),
            });
        } else {
            self.stopped_by = Some(cause.to_string());
            self.begin_stop(cause, now_ns);
        }
    }

    /// Time has come to `now_ns`: partial frames that stalled, connections that did not say
    /// HELLO in time and receivers that took nothing for the reader timeout are refused, frames
    /// the fault plan held until now go to their receivers, and once every machine in a stop has
    /// said BYE, every connection is set to close.
    pub fn handle_timeout(&mut self, now_ns: u64) {
        self.expire_partial_frames(now_ns);
        self.expire_hello_deadlines(now_ns);
        self.expire_readers(now_ns);
        self.release_held(now_ns);
        self.end_stop_when_all_said_bye(now_ns);
    }

    /// What waits in `conn`'s outbox, in order, as slices for a vectored write: the bytes that
    /// arrived, a run of frames from one read in one slice. They stay queued until
    /// [`Switchboard::handle_written`] says how much of them went.
    pub fn poll_transmit(&self, conn: ConnId) -> impl Iterator<Item = &[u8]> {
        self.conn(conn).into_iter().flat_map(|c| c.outbox.slices())
    }

    /// Whether something waits to be written on `conn` (the driver asks for WRITABLE only then).
    pub fn wants_write(&self, conn: ConnId) -> bool {
        self.conn(conn).is_some_and(|c| !c.outbox.is_empty())
    }

    /// The driver wrote the first `n` bytes of what [`Switchboard::poll_transmit`] gave, at
    /// `now_ns`: data frames written in full count as delivered, and senders it stopped are read
    /// again once it is down to low water.
    pub fn handle_written(&mut self, conn: ConnId, n: usize, now_ns: u64) {
        let Some(c) = self.conns.get_mut(conn) else {
            return;
        };
        if n > 0 {
            c.waiting_since_ns = now_ns;
        }
        let (id, pairs) = (c.id(), &mut self.pairs);
        self.conns.with_outbox(conn, |outbox| match id {
            Some(id) => outbox.written(n, |source, frames| pairs.delivered(source, id, frames)),
            None => outbox.written(n, |_, _| {}),
        });
        self.release_if_drained(conn);
    }

    /// What the driver must do with `conn` now that it has written what it could. What its
    /// socket did not take is copied out of the read buffers it points into (see `buffers`).
    pub fn poll_fate(&mut self, conn: ConnId, now_ns: u64) -> Fate {
        self.settle(conn);
        self.fate(conn, now_ns)
    }

    /// The next event to log or pass on, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When the driver must call [`Switchboard::handle_timeout`] and [`Switchboard::poll_fate`]
    /// even if nothing happens: a stall, a HELLO deadline or a reader to check, the end of a
    /// stop, or a frame the fault plan held to release.
    pub fn poll_timeout(&self) -> Option<u64> {
        let stall = self.opts.stall_timeout_ns;
        let conns = self.conns.iter().flatten().filter_map(|c| {
            if let Some(closing) = c.closing() {
                return Some(closing.since_ns.saturating_add(stall));
            }
            // A paused stall clock has no deadline; once the connection is read again, the next
            // `handle_timeout` starts it again (due at once: its old start is past).
            let partial = match c.partial_since_ns {
                Some(t) if c.stall_paused => self.reads(c).then_some(t),
                since => since.map(|t| t.saturating_add(stall)),
            };
            let hello = (c.state == conn::State::New)
                .then(|| c.connected_ns.saturating_add(self.opts.hello_timeout_ns));
            let reader = (!c.outbox.is_empty()).then(|| {
                c.waiting_since_ns
                    .saturating_add(self.opts.reader_timeout_ns)
            });
            [partial, hello, reader].into_iter().flatten().min()
        });
        let stop = match self.phase {
            Phase::Stopping { deadline_ns } => Some(deadline_ns),
            _ => None,
        };
        let held = self
            .conns
            .weather()
            .and_then(weather::Weather::next_release);
        conns.chain(stop).chain(held).min()
    }

    /// Whether the router is done: a stop whose connections have all closed, a stop past its
    /// grace deadline, or a model whose machines have all departed.
    pub fn is_finished(&self, now_ns: u64) -> bool {
        match self.phase {
            Phase::Registering => false,
            Phase::Running => self.machines.iter().all(Option::is_none),
            Phase::Stopping { deadline_ns } => now_ns >= deadline_ns || self.conns.open() == 0,
        }
    }

    /// Whether an orderly stop has begun.
    pub fn is_stopping(&self) -> bool {
        matches!(self.phase, Phase::Stopping { .. })
    }

    /// Whether `conn` is open (closing or not).
    pub fn is_open(&self, conn: ConnId) -> bool {
        self.conn(conn).is_some()
    }

    /// Whether `conn` is open and on its way out (it takes nothing more).
    pub fn is_closing(&self, conn: ConnId) -> bool {
        self.conn(conn).is_some_and(|c| c.closing().is_some())
    }

    /// How many connections are open.
    pub fn open_connections(&self) -> usize {
        self.conns.open()
    }

    /// The machine id `conn` was welcomed as, if it was.
    pub fn machine_id(&self, conn: ConnId) -> Option<u16> {
        self.conn(conn).and_then(Conn::id)
    }

    /// Memory the outboxes and read buffers keep alive now, in bytes, with the frames the fault
    /// plan holds.
    pub fn held_bytes(&self) -> usize {
        self.conns.held()
    }

    /// The most [`Switchboard::held_bytes`] has been.
    pub fn peak_held_bytes(&self) -> usize {
        self.conns.peak_held()
    }

    /// The books of every ordered pair.
    pub fn pairs(&self) -> &PairTable {
        &self.pairs
    }

    /// What the switchboard did so far.
    pub fn report(&self) -> Report {
        Report {
            names: self.names.clone(),
            start_time_ns: self.start_time_ns,
            stopped_by: self.stopped_by.clone(),
            frames: self.kinds,
            pairs: self.pairs.to_vec(),
            closed: self.closed.clone(),
        }
    }

    fn conn(&self, conn: ConnId) -> Option<&Conn> {
        self.conns.get(conn.0).and_then(Option::as_ref)
    }

    fn conn_mut(&mut self, conn: ConnId) -> Option<&mut Conn> {
        self.conns.get_mut(conn)
    }
}
