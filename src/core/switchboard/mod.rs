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
//! epoch, as the driver's wall clock reads them). Frames are forwarded as the bytes that arrived:
//! a data frame is `split_to(len).freeze()` of the read buffer, and a broadcast queues clones of
//! that one `Bytes`. Invalid input closes only the connection it came on, after an ERROR.

mod conn;
mod pairs;
mod rules;

#[cfg(any(test, fuzzing))]
mod oracle;
#[cfg(test)]
mod tests;

#[cfg(any(test, fuzzing))]
pub use oracle::check_switchboard_properties;
pub use pairs::{Books, KindCount, PairCount, PairTable};

use std::collections::BTreeMap;

use crate::core::wire::Kind;
use conn::Conn;

/// An outbox larger than this means the peer is not reading; it is disconnected.
pub const MAX_OUTBOX_BYTES: usize = 64 * 1024 * 1024;

/// A connection's handle, chosen by the driver (the router uses its slab key). Unique among the
/// connections open at one time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub usize);

/// How the switchboard behaves; times are in nanoseconds.
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
}

/// What the driver must do with a connection's socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Keep it open.
    Keep,
    /// Everything is written and the connection is closing: shut the socket's write side and
    /// keep reading until the peer's end (asked once per connection).
    ShutWrite,
    /// It is gone from the switchboard (its [`Event::Closed`] has the reason recorded): close
    /// the socket.
    Close,
}

/// Something that happened, for the driver to log or pass on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A connection said HELLO and waits for the others.
    Registered {
        /// The connection.
        conn: ConnId,
        /// The peer's address, as the driver gave it.
        peer: String,
        /// Its name.
        name: String,
    },
    /// Every machine has registered and been welcomed.
    Started {
        /// The common start time, nanoseconds since the UNIX epoch.
        start_time_ns: u64,
        /// Machine names by id (index 0 is machine 1).
        names: Vec<String>,
        /// The machines' peer addresses by id, as the driver gave them.
        peers: Vec<String>,
    },
    /// A connection was refused: it got an ERROR with `reason` and will be closed.
    Refused {
        /// The connection.
        conn: ConnId,
        /// The peer's address, as the driver gave it.
        peer: String,
        /// The name it registered, if any.
        name: Option<String>,
        /// The reason sent.
        reason: String,
    },
    /// An orderly stop has begun (BYE was sent to every connection).
    Stopping {
        /// What asked for it (e.g. "SIGTERM").
        cause: String,
    },
    /// A second stop during the stop: everything closes at once.
    StopNow {
        /// What asked for it.
        cause: String,
    },
    /// A connection is gone.
    Closed {
        /// The connection (its handle is free again).
        conn: ConnId,
        /// The record of it.
        closed: Closed,
    },
}

/// A connection that ended, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    /// The peer's address, as the driver gave it.
    pub peer: String,
    /// The machine name it registered, if any.
    pub name: Option<String>,
    /// The machine id it was given, if any.
    pub id: Option<u16>,
    /// Why it ended.
    pub reason: String,
    /// It was a machine that left without saying BYE.
    pub departed: bool,
}

/// What the switchboard did, for the router's statistics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Machine names by id, once all registered.
    pub names: Vec<String>,
    /// The common start time, once all registered.
    pub start_time_ns: Option<u64>,
    /// What stopped it, if something did.
    pub stopped_by: Option<String>,
    /// Frames and bytes received by kind, indexed as [`Kind::ALL`].
    pub frames: [KindCount; Kind::ALL.len()],
    /// Deliveries for every ordered pair that exchanged data.
    pub pairs: Vec<PairCount>,
    /// Every connection that ended, in the order it ended.
    pub closed: Vec<Closed>,
}

impl Report {
    /// Frames and bytes received by kind name, kinds never seen left out: `RouterStats.frames`.
    pub fn frames_by_name(&self) -> BTreeMap<String, KindCount> {
        frames_by_name(&self.frames)
    }
}

/// Frames and bytes by kind name from counts indexed as [`Kind::ALL`], kinds never seen left out
/// (the simulator keeps the same counts as the switchboard).
pub fn frames_by_name(counts: &[KindCount; Kind::ALL.len()]) -> BTreeMap<String, KindCount> {
    let kinds = Kind::ALL.iter().zip(counts);
    kinds
        .filter(|(_, count)| count.frames > 0)
        .map(|(kind, &count)| (kind.name().to_string(), count))
        .collect()
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
    /// Connections by [`ConnId`]; `None` for a free handle.
    conns: Vec<Option<Conn>>,
    /// How many entries of `conns` are `Some`.
    open: usize,
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
}

impl Switchboard {
    /// A switchboard with no connections, waiting for `opts.machines` HELLOs.
    pub fn new(opts: Options) -> Switchboard {
        Switchboard {
            opts,
            conns: Vec::new(),
            open: 0,
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
        }
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// A new connection from `peer` under the handle `conn`, which must not be open already (if
    /// it is, the old connection is closed first).
    pub fn handle_connect(&mut self, conn: ConnId, peer: String) {
        if self.conn(conn).is_some() {
            self.close(conn, "its handle was reused".into());
        }
        if self.conns.len() <= conn.0 {
            self.conns.resize_with(conn.0 + 1, || None);
        }
        self.conns[conn.0] = Some(Conn::new(peer));
        self.open += 1;
    }

    /// Bytes that arrived on `conn` at `now_ns`: every complete frame among them is handled. A
    /// closing connection takes nothing more (the bytes are dropped).
    pub fn handle_read(&mut self, conn: ConnId, bytes: &[u8], now_ns: u64) {
        let Some(c) = self.conn_mut(conn) else {
            return;
        };
        if c.closing().is_some() {
            return;
        }
        c.inbuf.extend_from_slice(bytes);
        self.process(conn, now_ns);
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

    /// Time has come to `now_ns`: partial frames that stalled are refused, and once every machine
    /// in a stop has said BYE, every connection is set to close.
    pub fn handle_timeout(&mut self, now_ns: u64) {
        self.expire_partial_frames(now_ns);
        self.end_stop_when_all_said_bye(now_ns);
    }

    /// Up to `max` byte slices of what waits in `conn`'s outbox, in order, for a vectored write.
    /// They stay queued until [`Switchboard::handle_written`] says how much of them went.
    pub fn poll_transmit(&self, conn: ConnId, max: usize) -> impl Iterator<Item = &[u8]> {
        self.conn(conn)
            .into_iter()
            .flat_map(|c| c.outbox.iter())
            .take(max)
            .map(|out| &out.bytes[..])
    }

    /// Whether something waits to be written on `conn` (the driver asks for WRITABLE only then).
    pub fn wants_write(&self, conn: ConnId) -> bool {
        self.conn(conn).is_some_and(|c| !c.outbox.is_empty())
    }

    /// The driver wrote the first `n` bytes of what [`Switchboard::poll_transmit`] gave: data frames
    /// written in full count as delivered.
    pub fn handle_written(&mut self, conn: ConnId, n: usize) {
        let Some(c) = self.conns.get_mut(conn.0).and_then(Option::as_mut) else {
            return;
        };
        let pairs = &mut self.pairs;
        match c.id() {
            Some(id) => c.written(n, |source| pairs.delivered(source, id)),
            None => c.written(n, |_| {}),
        }
    }

    /// What the driver must do with `conn` now that it has written what it could.
    pub fn poll_fate(&mut self, conn: ConnId, now_ns: u64) -> Fate {
        self.fate(conn, now_ns)
    }

    /// The next event to log or pass on, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When the driver must call [`Switchboard::handle_timeout`] and [`Switchboard::poll_fate`]
    /// even if nothing happens: a stall to check, or the end of a stop.
    pub fn poll_timeout(&self) -> Option<u64> {
        let stall = self.opts.stall_timeout_ns;
        let conns = self.conns.iter().flatten().filter_map(|c| {
            let since = c.closing().map(|c| c.since_ns).or(c.partial_since_ns)?;
            Some(since.saturating_add(stall))
        });
        let stop = match self.phase {
            Phase::Stopping { deadline_ns } => Some(deadline_ns),
            _ => None,
        };
        conns.chain(stop).min()
    }

    /// Whether the router is done: a stop whose connections have all closed, a stop past its
    /// grace deadline, or a model whose machines have all departed.
    pub fn is_finished(&self, now_ns: u64) -> bool {
        match self.phase {
            Phase::Registering => false,
            Phase::Running => self.machines.iter().all(Option::is_none),
            Phase::Stopping { deadline_ns } => now_ns >= deadline_ns || self.open == 0,
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
        self.open
    }

    /// The machine id `conn` was welcomed as, if it was.
    pub fn machine_id(&self, conn: ConnId) -> Option<u16> {
        self.conn(conn).and_then(Conn::id)
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
        self.conns.get_mut(conn.0).and_then(Option::as_mut)
    }
}
