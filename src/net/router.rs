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
mod events;

pub use events::Notice;

use crate::core::switchboard::{self, ConnId, Fate, Options, Switchboard};
use crate::net::wallclock::WallClock;
use crate::net::{STOP_SIGNALS, signal_name};
use conn::{ReadOutcome, Socket};

use crate::rundir::records::RouterStats;

const LISTENER: Token = Token(0);
const SIGNALS: Token = Token(1);
const STDIN: Token = Token(2);
const FIRST_CONN: usize = 3;
/// Reads of one connection per round of the loop at most, so that one fast sender cannot keep
/// the others waiting (what is left is read in the next round, at once).
const READS_PER_ROUND: usize = 16;
/// How long the router waits before it tries `accept` again after running out of descriptors
/// (it tries at once when one of its own connections closes).
const ACCEPT_RETRY: Duration = Duration::from_millis(50);
/// What stops the router when standard input ends (as `router.yaml` records it).
const STDIN_CLOSED: &str = "standard input closed (the parent ended)";

/// The router: a listener, its sockets and the switchboard.
pub struct Router {
    poll: Poll,
    listener: TcpListener,
    signals: Option<Signals>,
    sockets: Slab<Socket>,
    sb: Switchboard,
    clock: WallClock,
    stats: RouterStats,
    /// Connections that said HELLO before the start, for [`Notice::Joined`] and [`Notice::Left`].
    joined: Vec<ConnId>,
    /// Where a closing socket's last input is drained to.
    drain: Box<[u8]>,
    /// `accept` ran out of descriptors: when to try again (or as soon as a socket closes).
    accept_retry_ns: Option<u64>,
    /// A socket closed since the last `accept`.
    freed: bool,
    /// The slab keys a round goes through, kept so that a round allocates nothing.
    keys: Vec<usize>,
}

impl Router {
    /// A router with the options `opts` on an already bound listener. It leaves the process's
    /// signals and standard input alone unless asked ([`Router::stop_on_signals`],
    /// [`Router::stop_on_stdin_eof`]).
    pub fn new(listener: std::net::TcpListener, opts: Options) -> io::Result<Router> {
        conn::prepare_listener(&listener)?;
        let mut listener = TcpListener::from_std(listener);
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let stats = RouterStats {
            listen: listener.local_addr()?.to_string(),
            machines: opts.machines,
            seed: opts.seed,
            ..RouterStats::default()
        };
        Ok(Router {
            poll,
            listener,
            signals: None,
            sockets: Slab::new(),
            sb: Switchboard::new(opts),
            clock: WallClock::new(),
            stats,
            joined: Vec::new(),
            drain: vec![0; 64 * 1024].into_boxed_slice(),
            accept_retry_ns: None,
            freed: false,
            keys: Vec::new(),
        })
    }

    /// Puts the delays and partitions of a fault plan in force (see `switchboard::Plan`); their
    /// windows count from the start time the router announces in WELCOME.
    pub fn set_plan(&mut self, plan: switchboard::Plan) {
        self.sb.set_plan(plan);
    }

    /// Stops in order on SIGINT and SIGTERM, as the server does (a router embedded in a benchmark
    /// or a test leaves the process's signals alone). Asking again changes nothing.
    pub fn stop_on_signals(&mut self) -> io::Result<()> {
        if self.signals.is_none() {
            let mut signals = Signals::new(STOP_SIGNALS)?;
            self.poll
                .registry()
                .register(&mut signals, SIGNALS, Interest::READABLE)?;
            self.signals = Some(signals);
        }
        Ok(())
    }

    /// Stops in order when standard input reaches its end: `run` gives the router a pipe it never
    /// writes to, so a router outlives its parent by no more than an orderly stop. Ask once: a
    /// second time fails (standard input is registered already).
    pub fn stop_on_stdin_eof(&mut self) -> io::Result<()> {
        let fd = io::stdin().as_raw_fd();
        self.poll
            .registry()
            .register(&mut SourceFd(&fd), STDIN, Interest::READABLE)
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
            let now = self.clock.now_ns();
            let deadline = [self.sb.poll_timeout(), self.accept_retry_ns]
                .into_iter()
                .flatten()
                .min();
            let mut timeout = deadline.map(|d| Duration::from_nanos(d.saturating_sub(now)));
            if self.unread_waiting() {
                timeout = Some(Duration::ZERO);
            }
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
                            if let Some(socket) = self.sockets.get_mut(t - FIRST_CONN) {
                                socket.unread = true;
                            }
                        }
                    }
                }
            }
            self.read_all();
            let now = self.clock.now_ns();
            self.sb.handle_timeout(now);
            self.flush_all(now);
            self.retry_accept(now);
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
        let peak = self.sb.peak_held_bytes();
        info!("buffers: peak held {peak} bytes (outboxes and read buffers)");
        Ok(self.into_stats())
    }

    fn into_stats(self) -> RouterStats {
        let stop_time_ns = self.clock.now_ns();
        let opts = self.sb.options();
        RouterStats::from_report(self.stats.listen, opts, self.sb.report(), stop_time_ns)
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
                        unread: true,
                    });
                    let now = self.clock.now_ns();
                    self.sb.handle_connect(ConnId(key), peer.to_string(), now);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Out of file descriptors and the like: keep serving the others, and try again
                // soon, or as soon as a socket closes. Edge-triggered readiness does not say
                // again that the backlog holds connections, so nothing else would.
                Err(e) => {
                    if self.accept_retry_ns.is_none() {
                        warn!("accept failed: {e}; trying again as descriptors free up");
                    }
                    let retry = u64::try_from(ACCEPT_RETRY.as_nanos()).unwrap_or(u64::MAX);
                    self.accept_retry_ns = Some(self.clock.now_ns().saturating_add(retry));
                    self.freed = false;
                    return Ok(());
                }
            }
        }
    }

    /// After `accept` ran out of descriptors: tries again once the retry time has come or a
    /// socket has closed.
    fn retry_accept(&mut self, now: u64) {
        let Some(at) = self.accept_retry_ns else {
            return;
        };
        if now >= at || self.freed {
            self.accept_retry_ns = None;
            if let Err(e) = self.accept() {
                warn!("accept failed: {e}");
            }
            if self.accept_retry_ns.is_none() {
                info!("accepting connections again");
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

    /// Whether a socket has input left unread that the switchboard now wants read.
    fn unread_waiting(&self) -> bool {
        let mut unread = self.sockets.iter().filter(|(_, s)| s.unread);
        unread.any(|(key, _)| self.sb.wants_read(ConnId(key)))
    }

    /// Reads every socket with input the switchboard wants (flow control may hold some back;
    /// they are read once it releases them).
    fn read_all(&mut self) {
        let mut keys = std::mem::take(&mut self.keys);
        keys.clear();
        keys.extend(
            self.sockets
                .iter()
                .filter(|(_, s)| s.unread)
                .map(|(k, _)| k),
        );
        for &key in &keys {
            self.on_readable(key);
        }
        self.keys = keys;
    }

    /// Reads `key` straight into its read buffer in the switchboard until `WouldBlock`, until
    /// flow control holds it back, until its read buffer is full of frames still waiting to be
    /// written (it is read again next round, once they have been), or for [`READS_PER_ROUND`]
    /// reads.
    fn on_readable(&mut self, key: usize) {
        let conn = ConnId(key);
        for _ in 0..READS_PER_ROUND {
            if !self.sb.wants_read(conn) {
                return;
            }
            let (Some(socket), Some(buf)) = (self.sockets.get_mut(key), self.sb.read_buffer(conn))
            else {
                return;
            };
            match socket.read(buf) {
                ReadOutcome::Bytes(n) => self.sb.handle_filled(conn, n, self.clock.now_ns()),
                ReadOutcome::Eof => {
                    socket.unread = false;
                    if let Fate::Close = self.sb.handle_eof(conn) {
                        self.drop_socket(key);
                    }
                    return;
                }
                ReadOutcome::WouldBlock => {
                    socket.unread = false;
                    return;
                }
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
        let mut keys = std::mem::take(&mut self.keys);
        keys.clear();
        keys.extend(self.sockets.iter().map(|(k, _)| k));
        for &key in &keys {
            if let Err(failed) = self.flush_one(key, now) {
                self.sb.handle_close(ConnId(key), failed.to_string());
                self.drop_socket(key);
            }
        }
        self.keys = keys;
    }

    /// One connection's writes and fate; `Err` with the reason when the socket failed.
    fn flush_one(&mut self, key: usize, now: u64) -> Result<(), SocketFailed> {
        let conn = ConnId(key);
        let Some(socket) = self.sockets.get_mut(key) else {
            return Ok(());
        };
        socket
            .flush(&mut self.sb, conn, &self.clock)
            .map_err(SocketFailed::Write)?;
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
            .map_err(SocketFailed::Reregister)
    }

    /// Closes and forgets a socket the switchboard is done with.
    fn drop_socket(&mut self, key: usize) {
        if let Some(socket) = self.sockets.try_remove(key) {
            socket.close(self.poll.registry(), &mut self.drain);
            self.freed = true;
        }
    }
}

/// Why the driver gave up a connection's socket after the switchboard had kept it: its close
/// reason, as `router.yaml` lists it.
#[derive(Debug, thiserror::Error)]
enum SocketFailed {
    /// Writing its outbox failed.
    #[error("write failed: {0}")]
    Write(#[source] io::Error),
    /// Changing its interest (writable or not) failed.
    #[error("could not reregister: {0}")]
    Reregister(#[source] io::Error),
}
