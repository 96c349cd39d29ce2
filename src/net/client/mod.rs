//! The model-machine client: one mio loop that drives one sans-IO [`Machine`].
//!
//! The poll timeout is the time left to the machine's next tick deadline, so an idle client sleeps
//! in `poll` between ticks. Frames that arrive go onto the machine's queue at once (network speed),
//! whatever the tick rate. At each deadline the machine ticks; its log rows are written first, then
//! its frames (queued on `WouldBlock`).
//!
//! This module owns the public API and the event loop; `session` owns the lifecycle (the state,
//! the machine, how the connection ended) and `conn` the socket. Every handler returns whether
//! the connection has ended, and the loop stops on the first end, save that the flush which
//! follows may still find the connection broken and make an orderly end abrupt
//! (`session::settle`).
//!
//! [`Machine`]: crate::core::machine::Machine

mod conn;
mod session;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use log::{info, warn};
use mio::{Events, Interest, Poll, Token};
use signal_hook_mio::v1_0::Signals;

use crate::net::wallclock::WallClock;
use crate::rundir::records::ClientSummary;
use conn::Conn;
use session::{End, Session};

const SIGNALS: Token = Token(1);

/// How a client finds its rate, in ticks per second, once WELCOME has told it what
/// [`RateQuery`] holds; an `Err` is the reason it cannot run, and stops the client.
pub type RateFor = Box<dyn Fn(RateQuery) -> Result<f64, String>>;

/// What a client knows when it asks [`RateFor`] for its rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateQuery {
    /// The machine's id, from WELCOME.
    pub id: u16,
    /// The number of machines in the run, from WELCOME.
    pub machines: u16,
    /// The run's seed: the client's own if given, otherwise WELCOME's.
    pub run_seed: u64,
}

/// Everything a client needs.
pub struct ClientOptions {
    /// The machine's name, `ADDRESS:PORT`.
    pub name: String,
    /// The router's address.
    pub router: SocketAddr,
    /// How long to keep trying to reach the router.
    pub connect_timeout: Duration,
    /// The run's seed, if given; otherwise the one the router sends in WELCOME. The machine's
    /// own seed is derived from it and the id.
    pub run_seed: Option<u64>,
    /// R, the action range.
    pub action_range: u32,
    /// The rate, from the id and the number of machines.
    pub rate_for: RateFor,
    /// Where the log and summary go.
    pub log_dir: PathBuf,
}

/// Why a client stopped with an error.
#[derive(Debug)]
pub enum ClientError {
    /// Reaching the router, or talking to it, failed.
    Io(String, io::Error),
    /// The router refused us or broke the protocol.
    Protocol(String),
    /// The router went away without BYE; the summary was written.
    RouterVanished(Box<ClientSummary>),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Io(what, e) => write!(f, "{what}: {e}"),
            ClientError::Protocol(reason) => f.write_str(reason),
            ClientError::RouterVanished(s) => write!(f, "machine {}: {}", s.id, s.ended),
        }
    }
}

impl std::error::Error for ClientError {}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> ClientError {
    let what = what.into();
    move |e| ClientError::Io(what, e)
}

/// Connects, registers, runs the machine until the router stops it, and writes the summary.
pub fn run(opts: ClientOptions) -> Result<ClientSummary, ClientError> {
    let clock = WallClock::new();
    let stream = connect(opts.router, opts.connect_timeout)?;
    Client::new(opts, clock, stream)?.run()
}

fn connect(router: SocketAddr, timeout: Duration) -> Result<std::net::TcpStream, ClientError> {
    let deadline = Instant::now() + timeout;
    let mut said = false;
    loop {
        match std::net::TcpStream::connect(router) {
            Ok(stream) => return Ok(stream),
            Err(e) if Instant::now() < deadline && e.kind() == io::ErrorKind::ConnectionRefused => {
                if !said {
                    info!("waiting for the router at {router}");
                    said = true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => {
                return Err(ClientError::Io(
                    format!("cannot reach the router at {router}"),
                    e,
                ));
            }
        }
    }
}

/// The event loop: the socket, the signals and the session they feed.
struct Client {
    poll: Poll,
    signals: Signals,
    conn: Conn,
    session: Session,
}

impl Client {
    fn new(
        opts: ClientOptions,
        clock: WallClock,
        stream: std::net::TcpStream,
    ) -> Result<Client, ClientError> {
        let poll = Poll::new().map_err(io_err("poll"))?;
        let conn = Conn::register(stream, poll.registry())?;
        let mut signals = Signals::new(crate::net::STOP_SIGNALS).map_err(io_err("signals"))?;
        poll.registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)
            .map_err(io_err("poll"))?;
        let session = Session::new(opts, clock)?;
        Ok(Client {
            poll,
            signals,
            conn,
            session,
        })
    }

    /// Runs until the connection ends, then writes the summary.
    fn run(mut self) -> Result<ClientSummary, ClientError> {
        let mut events = Events::with_capacity(16);
        let mut end = self.flush()?;
        let end = loop {
            if let Some(end) = end {
                break end;
            }
            if let Err(e) = self.poll.poll(&mut events, self.session.poll_timeout()) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(ClientError::Io("poll".into(), e));
            }
            for event in events.iter() {
                end = match event.token() {
                    SIGNALS => self.on_signals()?,
                    _ => self.on_readable()?,
                };
                if end.is_some() {
                    break;
                }
            }
            // Due ticks are taken even when the connection has just ended: the summary's stop
            // time owes them.
            self.session.tick()?;
            let flushed = self.flush()?;
            end = session::settle(end, flushed);
        };
        self.session.finish(end)
    }

    fn on_signals(&mut self) -> Result<Option<End>, ClientError> {
        let signals: Vec<i32> = self.signals.pending().collect();
        for signal in signals {
            if let Some(end) = self.session.handle_signal(signal)? {
                return Ok(Some(end));
            }
        }
        Ok(None)
    }

    /// Reads what has arrived and hands the session every whole frame, then the socket's end.
    fn on_readable(&mut self) -> Result<Option<End>, ClientError> {
        let closed = self.conn.receive()?;
        let session = &mut self.session;
        let handled = self.conn.frames(|frame| session.handle_frame(frame));
        let Some(closed) = closed else {
            return handled.map(|()| None);
        };
        if self.conn.partial_len() > 0 {
            warn!(
                "the router closed the connection in the middle of a frame ({} bytes)",
                self.conn.partial_len()
            );
        }
        handled?;
        Ok(Some(self.session.handle_closed(closed)))
    }

    fn flush(&mut self) -> Result<Option<End>, ClientError> {
        let closed = self
            .conn
            .flush(&mut self.session.outbox, self.poll.registry())?;
        Ok(closed.map(|closed| self.session.handle_closed(closed)))
    }
}
