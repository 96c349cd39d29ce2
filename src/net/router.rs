//! The router's driver: one single-threaded mio loop around the sans-IO
//! [`Switchboard`], which holds every rule.
//!
//! The loop owns the listener, a slab of sockets (tokens are slab keys offset past the reserved
//! tokens; a socket's slab key is its connection's handle in the switchboard), the signals and
//! standard input, and the OS clock. It reads until `WouldBlock` and hands the bytes over, writes
//! what the switchboard has queued with vectored writes (WRITABLE interest only while something
//! waits), and carries out each connection's [`Fate`]: keep, shut the write side, or close.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use log::{debug, info, warn};
use mio::net::TcpListener;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use signal_hook_mio::v1_0::Signals;
use slab::Slab;

mod conn;

use crate::core::switchboard::{self, ConnId, Event, Fate, Switchboard};
use crate::net::wallclock::WallClock;
use crate::net::{STOP_SIGNALS, signal_name};
use conn::{ReadOutcome, Socket};

use crate::rundir::records::{ClosedConnection, RouterStats};

const LISTENER: Token = Token(0);
const SIGNALS: Token = Token(1);
const STDIN: Token = Token(2);
const FIRST_CONN: usize = 3;
/// Bytes read per `read` call.
const READ_CHUNK: usize = 64 * 1024;
/// What stops the router when standard input ends (as `router.yaml` records it).
const STDIN_CLOSED: &str = "standard input closed (the parent ended)";

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

impl RouterOptions {
    /// The switchboard's options: the same, in nanoseconds.
    fn switchboard(&self) -> switchboard::Options {
        let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        switchboard::Options {
            machines: self.machines,
            seed: self.seed,
            max_payload: self.max_payload,
            stall_timeout_ns: ns(self.stall_timeout),
            start_delay_ns: ns(self.start_delay),
            stop_grace_ns: ns(self.stop_grace),
        }
    }
}

/// Something the router tells its caller as it happens (the server prints these for `run`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// A machine said HELLO before the start.
    Joined {
        /// Its name.
        name: String,
        /// The peer's address.
        peer: String,
        /// How many have joined now, this one included.
        joined: usize,
        /// How many the router waits for.
        machines: u16,
    },
    /// A machine that had joined went away before the start.
    Left {
        /// Its name.
        name: String,
        /// The peer's address.
        peer: String,
        /// How many have joined now.
        joined: usize,
        /// How many the router waits for.
        machines: u16,
    },
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

/// The router: a listener, its sockets and the switchboard.
pub struct Router {
    poll: Poll,
    listener: TcpListener,
    signals: Option<Signals>,
    sockets: Slab<Socket>,
    sb: Switchboard,
    clock: WallClock,
    stats: RouterStats,
    scratch: Box<[u8]>,
    /// Connections that said HELLO before the start, for [`Notice::Joined`] and [`Notice::Left`].
    joined: Vec<ConnId>,
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
            let mut signals = Signals::new(STOP_SIGNALS)?;
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
            sockets: Slab::new(),
            sb: Switchboard::new(opts.switchboard()),
            clock: WallClock::new(),
            stats,
            scratch: vec![0; READ_CHUNK].into_boxed_slice(),
            joined: Vec::new(),
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
            let timeout = self
                .sb
                .poll_timeout()
                .map(|deadline| Duration::from_nanos(deadline.saturating_sub(self.clock.now_ns())));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept()?,
                    SIGNALS => self.on_signals(),
                    STDIN => self.on_stdin(),
                    Token(t) => {
                        if event.is_readable() || event.is_read_closed() {
                            self.on_readable(t - FIRST_CONN);
                        }
                    }
                }
            }
            let now = self.clock.now_ns();
            self.sb.handle_timeout(now);
            self.flush_all(now);
            self.pass_on_events(&mut notify);
            if self.sb.is_finished(now) {
                break;
            }
        }
        if self.sb.is_stopping() && !self.sockets.is_empty() {
            let n = self.sockets.len();
            warn!("stop grace period over: closing {n} connections");
        }
        let keys: Vec<usize> = self.sockets.iter().map(|(k, _)| k).collect();
        for key in keys {
            self.sb
                .handle_close(ConnId(key), "the router stopped".into());
            self.drop_socket(key);
        }
        self.pass_on_events(&mut notify);
        Ok(self.into_stats())
    }

    fn into_stats(mut self) -> RouterStats {
        let report = self.sb.report();
        self.stats.frames = report.frames_by_name();
        self.stats.names = report.names;
        self.stats.start_time_ns = report.start_time_ns;
        // A router that never stopped that way records an empty cause, as it always has.
        self.stats.stopped_by = report.stopped_by.unwrap_or_default();
        self.stats.stop_time_ns = self.clock.now_ns();
        self.stats.pairs = report.pairs;
        let closed = report.closed.into_iter();
        self.stats.connections = closed.map(closed_connection).collect();
        self.stats
    }

    fn accept(&mut self) -> io::Result<()> {
        loop {
            match self.listener.accept() {
                Ok((mut stream, peer)) => {
                    let entry = self.sockets.vacant_entry();
                    let key = entry.key();
                    let token = Token(key + FIRST_CONN);
                    let registry = self.poll.registry();
                    if let Err(e) = registry.register(&mut stream, token, Interest::READABLE) {
                        warn!("could not register connection from {peer}: {e}");
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    debug!("connection from {peer}");
                    entry.insert(Socket {
                        stream,
                        interest: Interest::READABLE,
                    });
                    self.sb.handle_connect(ConnId(key), peer.to_string());
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

    fn on_signals(&mut self) {
        let signals: Vec<i32> = match &mut self.signals {
            Some(signals) => signals.pending().collect(),
            None => Vec::new(),
        };
        for signal in signals {
            self.sb
                .handle_stop(signal_name(signal), self.clock.now_ns());
        }
    }

    fn on_stdin(&mut self) {
        let mut buf = [0u8; 256];
        // The pipe is only readable at its end (or if the parent writes, which it never does).
        let ended = matches!(io::stdin().read(&mut buf), Ok(0) | Err(_));
        // Its end during a stop is no second stop.
        if ended && !self.sb.is_stopping() {
            let fd = io::stdin().as_raw_fd();
            let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
            self.sb.handle_stop(STDIN_CLOSED, self.clock.now_ns());
        }
    }

    /// Reads `key` until `WouldBlock`, handing every chunk to the switchboard.
    fn on_readable(&mut self, key: usize) {
        let conn = ConnId(key);
        loop {
            let Some(socket) = self.sockets.get_mut(key) else {
                return;
            };
            match socket.read(&mut self.scratch) {
                ReadOutcome::Bytes(n) => {
                    self.sb
                        .handle_read(conn, &self.scratch[..n], self.clock.now_ns());
                }
                ReadOutcome::Eof => {
                    if let Fate::Close = self.sb.handle_eof(conn) {
                        self.drop_socket(key);
                    }
                    return;
                }
                ReadOutcome::WouldBlock => return,
                ReadOutcome::Failed(e) => {
                    self.sb.handle_close(conn, format!("read failed: {e}"));
                    return self.drop_socket(key);
                }
            }
        }
    }

    /// Writes every outbox with something in it, carries out each connection's fate and updates
    /// its interest.
    fn flush_all(&mut self, now: u64) {
        let keys: Vec<usize> = self.sockets.iter().map(|(k, _)| k).collect();
        for key in keys {
            if let Err(reason) = self.flush_one(key, now) {
                self.sb.handle_close(ConnId(key), reason);
                self.drop_socket(key);
            }
        }
    }

    /// One connection's writes and fate; `Err` with the reason when the socket failed.
    fn flush_one(&mut self, key: usize, now: u64) -> Result<(), String> {
        let conn = ConnId(key);
        let Some(socket) = self.sockets.get_mut(key) else {
            return Ok(());
        };
        socket
            .flush(&mut self.sb, conn)
            .map_err(|e| format!("write failed: {e}"))?;
        match self.sb.poll_fate(conn, now) {
            Fate::Keep => {}
            Fate::ShutWrite => socket.shut_write(),
            Fate::Close => {
                self.drop_socket(key);
                return Ok(());
            }
        }
        let token = Token(key + FIRST_CONN);
        socket
            .update_interest(self.poll.registry(), token, self.sb.wants_write(conn))
            .map_err(|e| format!("could not reregister: {e}"))
    }

    /// Closes and forgets a socket the switchboard is done with.
    fn drop_socket(&mut self, key: usize) {
        if let Some(socket) = self.sockets.try_remove(key) {
            socket.close(self.poll.registry(), &mut self.scratch);
        }
    }

    /// Logs what the switchboard did and passes the notices on.
    fn pass_on_events(&mut self, notify: &mut impl FnMut(Notice)) {
        while let Some(event) = self.sb.poll_event() {
            match event {
                Event::Registered { conn, peer, name } => {
                    debug!("{peer} registered as {name:?}");
                    self.joined.push(conn);
                    notify(Notice::Joined {
                        name,
                        peer,
                        joined: self.joined.len(),
                        machines: self.sb.options().machines,
                    });
                }
                Event::Started {
                    start_time_ns,
                    names,
                    peers,
                } => {
                    self.joined.clear();
                    for (index, (name, peer)) in names.iter().zip(&peers).enumerate() {
                        debug!("machine {} is {name:?} ({peer})", index + 1);
                    }
                    notify(Notice::Started {
                        start_time_ns,
                        names,
                    });
                }
                Event::Refused {
                    peer, name, reason, ..
                } => {
                    let name = name.as_deref().unwrap_or("-");
                    warn!("closing {peer} ({name}): {reason}");
                }
                Event::Stopping { cause } => {
                    let name = if cause == STDIN_CLOSED {
                        "standard input closed"
                    } else {
                        &cause
                    };
                    info!("{name}: stopping in order");
                    notify(Notice::Stopping);
                }
                Event::StopNow { cause } => warn!("{cause} during the stop: closing at once"),
                Event::Closed { conn, closed } => match closed.id {
                    // During a stop every connection closes: no one "left".
                    None if self.joined.contains(&conn) && !self.sb.is_stopping() => {
                        info!("closed {}: {}", closed.peer, closed.reason);
                        self.joined.retain(|c| *c != conn);
                        notify(Notice::Left {
                            name: closed.name.unwrap_or_default(),
                            peer: closed.peer,
                            joined: self.joined.len(),
                            machines: self.sb.options().machines,
                        });
                    }
                    Some(id) if closed.departed => {
                        warn!("machine {id} departed: {}", closed.reason);
                    }
                    _ => info!("closed {}: {}", closed.peer, closed.reason),
                },
            }
        }
    }
}

/// A switchboard's record of a connection that ended, as `router.yaml` lists it.
fn closed_connection(closed: switchboard::Closed) -> ClosedConnection {
    ClosedConnection {
        peer: closed.peer,
        name: closed.name,
        id: closed.id,
        reason: closed.reason,
    }
}
