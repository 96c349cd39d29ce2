//! The router: one single-threaded mio loop that registers the model machines and forwards their
//! data frames by kind, as the very bytes that arrived.
//!
//! Connections live in a slab (tokens are slab keys offset past the reserved tokens). Each has a
//! `BytesMut` read buffer, parsed in place by [`wire`], and an outbox of `Bytes` written with
//! vectored writes; WRITABLE interest is asked for only while the outbox is non-empty. A frame to
//! forward is `split_to(len).freeze()` of the read buffer; a broadcast enqueues clones of one
//! `Bytes`. Invalid input closes only the connection it came on, after an ERROR with the reason.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use log::{debug, info, warn};
use std::os::fd::AsRawFd;

use mio::net::TcpListener;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;
use slab::Slab;

use crate::core::route;

mod conn;

use crate::core::wire::{self, Kind, Parsed, Welcome};
use crate::net::wallclock::WallClock;
use conn::{Conn, State};

use crate::core::switchboard::{KindCount, PairTable};
pub use crate::rundir::records::{ClosedConnection, RouterStats};

const LISTENER: Token = Token(0);
const SIGNALS: Token = Token(1);
const STDIN: Token = Token(2);
const FIRST_CONN: usize = 3;
/// Bytes read per `read` call.
const READ_CHUNK: usize = 64 * 1024;
/// The most a closing connection's unread input is drained before its socket is dropped.
const MAX_DRAIN_ON_CLOSE: usize = 1024 * 1024;
/// An outbox larger than this means the peer is not reading; it is disconnected.
const MAX_OUTBOX_BYTES: usize = 64 * 1024 * 1024;

/// How the router behaves.
#[derive(Clone, Debug)]
pub struct RouterOptions {
    /// How many machines must register before the model starts.
    pub machines: u16,
    /// The run's seed, sent to every machine in its WELCOME.
    pub seed: u64,
    /// The largest payload accepted.
    pub max_payload: u32,
    /// How long a connection may sit on a partial frame (or on an ERROR it does not read) before
    /// it is closed.
    pub stall_timeout: Duration,
    /// Time from the last HELLO to the common start time announced in WELCOME.
    pub start_delay: Duration,
    /// How long an orderly stop waits for every machine's BYE and for outboxes to drain.
    pub stop_grace: Duration,
    /// Stop in order on SIGINT and SIGTERM (the server does; a router embedded in a benchmark or a
    /// test leaves the process's signals alone).
    pub handle_signals: bool,
    /// Stop in order when standard input reaches its end: `run` gives the router a pipe it never
    /// writes to, so a router outlives its parent by no more than an orderly stop.
    pub stop_on_stdin_eof: bool,
}

/// Something the router tells its caller as it happens (the server prints these for `run`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Every machine has registered and been welcomed.
    Started {
        /// The common start time, nanoseconds since the UNIX epoch.
        start_time_ns: u64,
        /// Machine names by id (index 0 is machine 1).
        names: Vec<String>,
    },
    /// An orderly stop has begun.
    Stopping,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Registering,
    Running,
    Stopping { deadline: Instant },
}

/// What one complete frame asks of the router, taken out of the read buffer's borrow.
enum Step {
    Data { kind: Kind, source: u16, dest: u16 },
    Hello(String),
    Bye,
    Refuse(String),
}

/// The router: a listener, its connections and the routing table.
pub struct Router {
    poll: Poll,
    listener: TcpListener,
    signals: Option<Signals>,
    conns: Slab<Conn>,
    /// Slab key of each machine's connection by id - 1; `None` once it has departed.
    machines: Vec<Option<usize>>,
    /// Keys of registered connections waiting for the others.
    pending: Vec<usize>,
    phase: Phase,
    opts: RouterOptions,
    clock: WallClock,
    stats: RouterStats,
    pairs: PairTable,
    /// Frames and bytes received by kind, indexed as [`Kind::ALL`].
    kinds: [KindCount; Kind::ALL.len()],
    scratch: Box<[u8]>,
}

impl Router {
    /// A router on an already bound listener. Registers for SIGINT and SIGTERM.
    pub fn new(listener: std::net::TcpListener, opts: RouterOptions) -> io::Result<Router> {
        listener.set_nonblocking(true)?;
        let mut listener = TcpListener::from_std(listener);
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let signals = if opts.handle_signals {
            let mut signals = Signals::new([SIGINT, SIGTERM])?;
            poll.registry()
                .register(&mut signals, SIGNALS, Interest::READABLE)?;
            Some(signals)
        } else {
            None
        };
        if opts.stop_on_stdin_eof {
            let fd = io::stdin().as_raw_fd();
            poll.registry()
                .register(&mut SourceFd(&fd), STDIN, Interest::READABLE)?;
        }
        let stats = RouterStats {
            listen: listener.local_addr()?.to_string(),
            machines: opts.machines,
            seed: opts.seed,
            ..RouterStats::default()
        };
        Ok(Router {
            poll,
            listener,
            signals,
            conns: Slab::new(),
            machines: vec![None; usize::from(opts.machines)],
            pairs: PairTable::new(opts.machines),
            kinds: [KindCount::default(); Kind::ALL.len()],
            pending: Vec::new(),
            phase: Phase::Registering,
            opts,
            clock: WallClock::new(),
            stats,
            scratch: vec![0; READ_CHUNK].into_boxed_slice(),
        })
    }

    /// The address the router listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Runs until an orderly stop completes (after SIGINT or SIGTERM, or once every machine has
    /// gone), telling `notify` what happens. Returns the statistics.
    pub fn run(mut self, mut notify: impl FnMut(Notice)) -> io::Result<RouterStats> {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self.next_timeout(Instant::now());
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept()?,
                    SIGNALS => {
                        let signals: Vec<i32> = match &mut self.signals {
                            Some(signals) => signals.pending().collect(),
                            None => Vec::new(),
                        };
                        for signal in signals {
                            self.on_signal(signal, &mut notify);
                        }
                    }
                    STDIN => self.on_stdin(&mut notify),
                    Token(t) => {
                        let key = t - FIRST_CONN;
                        if event.is_readable() || event.is_read_closed() {
                            self.on_readable(key, &mut notify);
                        }
                    }
                }
            }
            self.check_timeouts(Instant::now());
            self.flush_all();
            if self.finished(Instant::now()) {
                break;
            }
        }
        self.close_all("the router stopped");
        self.stats.stop_time_ns = self.clock.now_ns();
        self.stats.pairs = self.pairs.to_vec();
        self.stats.frames = Kind::ALL
            .iter()
            .zip(self.kinds)
            .filter(|(_, count)| count.frames > 0)
            .map(|(kind, count)| (kind.name().to_string(), count))
            .collect();
        Ok(self.stats)
    }

    fn accept(&mut self) -> io::Result<()> {
        loop {
            match self.listener.accept() {
                Ok((mut stream, peer)) => {
                    let entry = self.conns.vacant_entry();
                    let token = Token(entry.key() + FIRST_CONN);
                    if let Err(e) =
                        self.poll
                            .registry()
                            .register(&mut stream, token, Interest::READABLE)
                    {
                        warn!("could not register connection from {peer}: {e}");
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    debug!("connection from {peer}");
                    entry.insert(Conn {
                        stream,
                        peer,
                        state: State::New,
                        inbuf: BytesMut::with_capacity(READ_CHUNK),
                        outbox: VecDeque::new(),
                        outbox_bytes: 0,
                        partial_since: None,
                        said_bye: false,
                        closing: None,
                        write_shut: false,
                        peer_shut: false,
                        interest: Interest::READABLE,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Out of file descriptors and the like: say so and keep serving the others.
                Err(e) => {
                    warn!("accept failed: {e}");
                    return Ok(());
                }
            }
        }
    }

    fn on_signal(&mut self, signal: i32, notify: &mut impl FnMut(Notice)) {
        let name = if signal == SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        match self.phase {
            Phase::Stopping { .. } => {
                warn!("{name} during the stop: closing at once");
                self.stats.stopped_by = format!("{name}, twice");
                self.phase = Phase::Stopping {
                    deadline: Instant::now(),
                };
            }
            _ => {
                info!("{name}: stopping in order");
                self.stats.stopped_by = name.to_string();
                self.begin_stop(notify);
            }
        }
    }

    fn on_stdin(&mut self, notify: &mut impl FnMut(Notice)) {
        let mut buf = [0u8; 256];
        // The pipe is only readable at its end (or if the parent writes, which it never does).
        let ended = matches!(io::stdin().read(&mut buf), Ok(0) | Err(_));
        if ended && !matches!(self.phase, Phase::Stopping { .. }) {
            info!("standard input closed: stopping in order");
            self.stats.stopped_by = "standard input closed (the parent ended)".into();
            let fd = io::stdin().as_raw_fd();
            let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
            self.begin_stop(notify);
        }
    }

    /// Sends BYE to every machine; the router then waits for their BYEs and drains the outboxes.
    fn begin_stop(&mut self, notify: &mut impl FnMut(Notice)) {
        self.phase = Phase::Stopping {
            deadline: Instant::now() + self.opts.stop_grace,
        };
        notify(Notice::Stopping);
        let bye = Bytes::from(wire::bye(wire::ROUTER_ID, 0, 0, self.clock.now_ns()));
        for (_, conn) in self.conns.iter_mut() {
            if conn.closing.is_none() {
                conn.enqueue(bye.clone(), None);
            }
        }
    }

    fn on_readable(&mut self, key: usize, notify: &mut impl FnMut(Notice)) {
        loop {
            let Some(conn) = self.conns.get_mut(key) else {
                return;
            };
            if conn.closing.is_some() {
                // Nothing more is taken from a connection being closed; drain and drop.
                match conn.stream.read(&mut self.scratch) {
                    // The peer is done sending; what we still have for it is written first.
                    Ok(0) if !conn.outbox.is_empty() => {
                        conn.peer_shut = true;
                        return;
                    }
                    Ok(0) => return self.close(key, "the peer closed the connection".into()),
                    Ok(_) => continue,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                    Err(e) => return self.close(key, format!("read failed: {e}")),
                }
            }
            match conn.stream.read(&mut self.scratch) {
                Ok(0) => {
                    let reason = if conn.inbuf.is_empty() {
                        "the peer closed the connection".to_string()
                    } else {
                        format!(
                            "the peer closed the connection in the middle of a frame ({} bytes)",
                            conn.inbuf.len()
                        )
                    };
                    return self.close(key, reason);
                }
                Ok(n) => {
                    conn.inbuf.extend_from_slice(&self.scratch[..n]);
                    self.process(key, notify);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => return self.close(key, format!("read failed: {e}")),
            }
        }
    }

    /// Handles every complete frame in the connection's read buffer.
    fn process(&mut self, key: usize, notify: &mut impl FnMut(Notice)) {
        let mut progressed = false;
        loop {
            let Some(conn) = self.conns.get_mut(key) else {
                return;
            };
            if conn.closing.is_some() {
                return;
            }
            let (step, len) = match wire::parse_with_limit(&conn.inbuf, self.opts.max_payload) {
                Ok(Parsed::Complete { frame, len }) => {
                    let count = &mut self.kinds[frame.kind().index()];
                    count.frames += 1;
                    count.bytes += len as u64;
                    let step = match frame.kind() {
                        kind if kind.is_data() => Step::Data {
                            kind,
                            source: frame.source(),
                            dest: frame.dest(),
                        },
                        Kind::Hello => Step::Hello(frame.hello_name().unwrap_or_default().into()),
                        Kind::Bye => Step::Bye,
                        kind => Step::Refuse(format!("only the router sends {kind}")),
                    };
                    (step, len)
                }
                Ok(Parsed::Incomplete { .. }) => {
                    if conn.inbuf.is_empty() {
                        conn.partial_since = None;
                    } else if progressed || conn.partial_since.is_none() {
                        conn.partial_since = Some(Instant::now());
                    }
                    return;
                }
                Err(e) => (Step::Refuse(format!("invalid frame: {e}")), 0),
            };
            progressed = true;
            match step {
                Step::Data { kind, source, dest } => {
                    let bytes = conn.inbuf.split_to(len).freeze();
                    self.on_data(key, kind, source, dest, bytes);
                }
                Step::Hello(name) => {
                    conn.inbuf.advance(len);
                    self.on_hello(key, name, notify);
                }
                Step::Bye => {
                    conn.inbuf.advance(len);
                    self.on_bye(key);
                }
                Step::Refuse(reason) => self.refuse(key, reason),
            }
        }
    }
}

impl Router {
    fn on_data(&mut self, key: usize, kind: Kind, source: u16, dest: u16, frame: Bytes) {
        let conn = &self.conns[key];
        let Some(id) = conn.id() else {
            return self.refuse(key, format!("{kind} before WELCOME"));
        };
        if conn.said_bye {
            return self.refuse(key, format!("{kind} after this machine's BYE"));
        }
        if source != id {
            return self.refuse(
                key,
                format!("{kind} with source {source} on the connection of machine {id}"),
            );
        }
        let n = self.opts.machines;
        let Some(targets) = route::targets(kind, source, dest, n) else {
            return self.refuse(
                key,
                format!(
                    "{kind} from machine {source} (dest {dest}) names no machine among 1..={n}"
                ),
            );
        };
        for target in targets.iter(n) {
            let open = self.machines[usize::from(target) - 1]
                .and_then(|k| self.conns.get_mut(k))
                .filter(|c| c.closing.is_none());
            match open {
                Some(conn) => conn.enqueue(frame.clone(), Some(source)),
                None => self.pairs.undeliverable(source, target),
            }
        }
    }

    fn on_hello(&mut self, key: usize, name: String, notify: &mut impl FnMut(Notice)) {
        if self.conns[key].state != State::New {
            return self.refuse(key, "a second HELLO on one connection".into());
        }
        match self.phase {
            Phase::Registering => {}
            Phase::Running => {
                return self.refuse(
                    key,
                    format!("HELLO from {name:?}: the model has already started"),
                );
            }
            Phase::Stopping { .. } => {
                return self.refuse(key, format!("HELLO from {name:?}: the router is stopping"));
            }
        }
        if self
            .pending
            .iter()
            .any(|&k| self.conns[k].name() == Some(&name))
        {
            return self.refuse(key, format!("the name {name:?} is already registered"));
        }
        info!("{} registered as {name:?}", self.conns[key].peer);
        self.conns[key].state = State::Registered(name);
        self.pending.push(key);
        if self.pending.len() == usize::from(self.opts.machines) {
            self.welcome_all(notify);
        }
    }

    /// Assigns ids by sorted name and sends every machine its WELCOME with the common start time.
    fn welcome_all(&mut self, notify: &mut impl FnMut(Notice)) {
        let mut keys = std::mem::take(&mut self.pending);
        keys.sort_by(|&a, &b| self.conns[a].name().cmp(&self.conns[b].name()));
        let now = self.clock.now_ns();
        let delay = u64::try_from(self.opts.start_delay.as_nanos()).unwrap_or(u64::MAX);
        let start_time_ns = now.saturating_add(delay);
        let mut names = Vec::with_capacity(keys.len());
        for (index, &key) in keys.iter().enumerate() {
            // There are at most 65,534 machines, so ids fit u16.
            let id = index as u16 + 1;
            let conn = &mut self.conns[key];
            let name = conn.name().unwrap_or_default().to_string();
            let welcome = Welcome {
                id,
                machines: self.opts.machines,
                start_time_ns,
                seed: self.opts.seed,
            };
            conn.enqueue(Bytes::from(wire::welcome(welcome, now)), None);
            conn.state = State::Machine {
                id,
                name: name.clone(),
            };
            self.machines[index] = Some(key);
            info!("machine {id} is {name:?} ({})", conn.peer);
            names.push(name);
        }
        self.phase = Phase::Running;
        self.stats.names = names.clone();
        self.stats.start_time_ns = Some(start_time_ns);
        notify(Notice::Started {
            start_time_ns,
            names,
        });
    }

    fn on_bye(&mut self, key: usize) {
        let stopping = matches!(self.phase, Phase::Stopping { .. });
        let conn = &mut self.conns[key];
        if conn.id().is_none() {
            conn.closing = Some(("it said BYE before WELCOME".into(), Instant::now()));
            self.pending.retain(|&k| k != key);
            return;
        }
        conn.said_bye = true;
        if !stopping {
            // A machine leaving on its own: finish writing to it, then close.
            conn.closing = Some(("the machine said BYE".into(), Instant::now()));
        }
    }

    /// Sends ERROR with `reason`, then closes the connection once it is written.
    fn refuse(&mut self, key: usize, reason: String) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let name = conn.name().unwrap_or("-");
        warn!("closing {} ({name}): {reason}", conn.peer);
        conn.inbuf.clear();
        conn.enqueue(Bytes::from(wire::error(&reason, self.clock.now_ns())), None);
        conn.closing = Some((reason, Instant::now()));
        // A refused connection no longer counts towards the N machines the model waits for.
        self.pending.retain(|&k| k != key);
    }

    /// Deregisters and drops a connection; its machine, if any, has departed.
    fn close(&mut self, key: usize, reason: String) {
        if !self.conns.contains(key) {
            return;
        }
        let mut conn = self.conns.remove(key);
        let _ = self.poll.registry().deregister(&mut conn.stream);
        // End-of-stream first, and take what the peer still had in flight: a socket dropped with
        // unread data would send a reset, which can destroy what the peer has yet to read.
        let _ = conn.stream.shutdown(std::net::Shutdown::Write);
        let mut drained = 0;
        while drained < MAX_DRAIN_ON_CLOSE {
            match conn.stream.read(&mut self.scratch) {
                Ok(n) if n > 0 => drained += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                _ => break,
            }
        }
        self.pending.retain(|&k| k != key);
        let id = conn.id();
        if let Some(id) = id {
            self.machines[usize::from(id) - 1] = None;
            // Whatever was not written in full never reached the machine.
            for out in &conn.outbox {
                if let Some(source) = out.source {
                    self.pairs.undeliverable(source, id);
                }
            }
        }
        let reason = conn.closing.take().map_or(reason, |(r, _)| r);
        match id {
            Some(id) if !conn.said_bye => warn!("machine {id} departed: {reason}"),
            _ => info!("closed {}: {reason}", conn.peer),
        }
        self.stats.connections.push(ClosedConnection {
            peer: conn.peer.to_string(),
            name: conn.name().map(str::to_string),
            id,
            reason,
        });
    }

    fn close_all(&mut self, reason: &str) {
        let keys: Vec<usize> = self.conns.iter().map(|(k, _)| k).collect();
        for key in keys {
            self.close(key, reason.to_string());
        }
    }

    /// Writes every outbox with something in it and updates each connection's interest.
    fn flush_all(&mut self) {
        let keys: Vec<usize> = self
            .conns
            .iter()
            .filter(|(_, c)| !c.outbox.is_empty() || (c.closing.is_some() && !c.write_shut))
            .map(|(k, _)| k)
            .collect();
        for key in keys {
            if let Err(reason) = self.flush_one(key) {
                self.close(key, reason);
            }
        }
    }

    fn flush_one(&mut self, key: usize) -> Result<(), String> {
        let conn = &mut self.conns[key];
        let pairs = &mut self.pairs;
        if let Some(id) = conn.id() {
            conn.flush(|source| pairs.delivered(source, id))
        } else {
            conn.flush(|_| {})
        }
        .map_err(|e| format!("write failed: {e}"))?;
        if conn.outbox_bytes > MAX_OUTBOX_BYTES {
            return Err(format!(
                "not reading: more than {MAX_OUTBOX_BYTES} bytes waiting to be sent"
            ));
        }
        if conn.outbox.is_empty() && conn.closing.is_some() && !conn.write_shut {
            // First half of the close: the peer gets everything, then end-of-stream. The
            // connection goes when the peer closes its side (or after the stall timeout).
            conn.write_shut = true;
            let _ = conn.stream.shutdown(std::net::Shutdown::Write);
        }
        if conn.write_shut && conn.peer_shut {
            // Both sides are done: close now (the reason is the one `closing` holds).
            return Err(String::new());
        }
        let wanted = if conn.outbox.is_empty() {
            Interest::READABLE
        } else {
            Interest::READABLE | Interest::WRITABLE
        };
        if wanted != conn.interest {
            let token = Token(key + FIRST_CONN);
            self.poll
                .registry()
                .reregister(&mut conn.stream, token, wanted)
                .map_err(|e| format!("could not reregister: {e}"))?;
            conn.interest = wanted;
        }
        Ok(())
    }

    /// When the loop must wake even without events: a stall to check, or the end of a stop.
    fn next_timeout(&self, now: Instant) -> Option<Duration> {
        let stall = self.opts.stall_timeout;
        let mut next: Option<Instant> = None;
        for (_, conn) in &self.conns {
            let since = conn.closing.as_ref().map(|c| c.1).or(conn.partial_since);
            if let Some(since) = since {
                next = Some(next.map_or(since + stall, |n| n.min(since + stall)));
            }
        }
        if let Phase::Stopping { deadline } = self.phase {
            next = Some(next.map_or(deadline, |n| n.min(deadline)));
        }
        next.map(|t| t.saturating_duration_since(now))
    }

    /// Closes connections that sat on a partial frame, or did not finish closing, for too long.
    fn check_timeouts(&mut self, now: Instant) {
        let stall = self.opts.stall_timeout;
        let mut expired = Vec::new();
        for (key, conn) in &self.conns {
            if conn.closing.as_ref().is_some_and(|c| now >= c.1 + stall) {
                expired.push((key, true, conn.inbuf.len()));
            } else if conn.closing.is_none() && conn.partial_since.is_some_and(|t| now >= t + stall)
            {
                // A closing connection takes nothing more, so a partial frame no longer matters
                // (without this, a stalled connection was refused a second time).
                expired.push((key, false, conn.inbuf.len()));
            }
        }
        for (key, closing, buffered) in expired {
            if closing {
                self.close(key, String::new());
            } else {
                self.refuse(
                    key,
                    format!(
                        "a partial frame ({buffered} bytes) and nothing more for {:.1} s",
                        stall.as_secs_f64()
                    ),
                );
            }
        }
    }

    /// Whether the loop is done: a stop whose machines have all said BYE and whose connections have
    /// all closed, a stop past its grace period, or a model whose machines have all departed.
    fn finished(&mut self, now: Instant) -> bool {
        match self.phase {
            Phase::Registering => false,
            Phase::Running => {
                let gone = self.machines.iter().all(Option::is_none);
                if gone {
                    self.stats.stopped_by = "every machine departed".into();
                }
                gone
            }
            Phase::Stopping { deadline } => {
                if now >= deadline {
                    if !self.conns.is_empty() {
                        warn!(
                            "stop grace period over: closing {} connections",
                            self.conns.len()
                        );
                    }
                    return true;
                }
                let all_said_bye = self
                    .conns
                    .iter()
                    .all(|(_, c)| c.said_bye || c.id().is_none());
                if all_said_bye {
                    for (_, conn) in self.conns.iter_mut() {
                        if conn.closing.is_none() {
                            conn.closing = Some(("orderly stop".into(), now));
                        }
                    }
                    self.flush_all();
                }
                self.conns.is_empty()
            }
        }
    }
}
