//! The event loop: one `Poll` for the process's signals and, per machine, its socket and its tick
//! timer. Each machine ([`Slot`]) is a session of its own: its frames, ticks, flushes and end
//! touch no other machine's, and one that ends (in order or with an error) is taken out of the
//! loop while the others go on. The loop stops when the last has ended.
//!
//! Tokens: [`SIGNALS`] is 0; machine `i` (from 0) has its socket at `1 + 2i` and its timer at
//! `2 + 2i`.

use std::io;
use std::time::{Duration, Instant};

use log::warn;
use mio::{Events, Interest, Poll, Token};
use signal_hook_mio::v1_0::Signals;

use super::conn::Conn;
use super::session::{self, End, Session};
use super::timer::TickTimer;
use super::{ClientError, ClientOptions, io_err};
use crate::net::wallclock::WallClock;
use crate::rundir::records::ClientSummary;

const SIGNALS: Token = Token(0);

/// What a token is for.
enum Source {
    Signals,
    Socket(usize),
    Timer(usize),
}

fn socket_token(i: usize) -> Token {
    Token(1 + 2 * i)
}

fn timer_token(i: usize) -> Token {
    Token(2 + 2 * i)
}

fn source(token: Token) -> Source {
    match token.0 {
        0 => Source::Signals,
        t if t % 2 == 1 => Source::Socket((t - 1) / 2),
        t => Source::Timer((t - 2) / 2),
    }
}

/// One machine of the loop: its socket, its tick timer and its session, until it ends.
pub(super) struct Slot {
    conn: Conn,
    timer: TickTimer,
    session: Session,
}

impl Slot {
    /// A machine connected by `stream`, registered with `poll` as machine `i`.
    pub(super) fn new(
        poll: &Poll,
        i: usize,
        opts: ClientOptions,
        clock: WallClock,
        stream: std::net::TcpStream,
        deadline: Instant,
    ) -> Result<Slot, ClientError> {
        let conn = Conn::register(stream, poll.registry(), socket_token(i))?;
        let timer = TickTimer::register(&clock, poll.registry(), timer_token(i))?;
        let session = Session::new(opts, clock, deadline)?;
        Ok(Slot {
            conn,
            timer,
            session,
        })
    }

    /// Reads what has arrived and hands the session every whole frame, then the socket's end.
    fn on_readable(&mut self) -> Result<Option<End>, ClientError> {
        let closed = self.conn.receive()?;
        // What one read brought arrived at one moment: one reading of the clock for all of it.
        let arrived_ns = self.session.now_ns();
        let session = &mut self.session;
        let stranger = session.is_registering().then_some(session.router());
        let handled = self
            .conn
            .frames(stranger, |frame| session.handle_frame(frame, arrived_ns));
        let Some(closed) = closed else {
            return handled.map(|()| None);
        };
        // Bytes that are no frame explain the end better than the end itself.
        handled?;
        if self.conn.partial_len() > 0 {
            warn!(
                "the router closed the connection in the middle of a frame ({} bytes)",
                self.conn.partial_len()
            );
        }
        Ok(Some(self.session.handle_closed(closed)))
    }

    fn on_signals(&mut self, signals: &[i32]) -> Result<Option<End>, ClientError> {
        for &signal in signals {
            if let Some(end) = self.session.handle_signal(signal)? {
                return Ok(Some(end));
            }
        }
        Ok(None)
    }

    fn flush(&mut self, poll: &Poll) -> Result<Option<End>, ClientError> {
        let closed = self.conn.flush(&mut self.session.outbox, poll.registry())?;
        Ok(closed.map(|closed| self.session.handle_closed(closed)))
    }

    /// The end of a turn of the loop, `end` being what the events of the turn found: the
    /// handshake's deadline, the ticks due (taken even when the connection has just ended: the
    /// summary's stop time owes them), and the flush.
    fn settle(&mut self, poll: &Poll, end: Option<End>) -> Result<Option<End>, ClientError> {
        if end.is_none() {
            self.session.check_handshake()?;
        }
        self.session.tick()?;
        let flushed = self.flush(poll)?;
        Ok(session::settle(end, flushed))
    }

    /// Whether the loop should poll without sleeping (this machine's deadline is that close),
    /// and how long it may sleep otherwise.
    fn plan(&mut self) -> Result<(bool, Option<Duration>), ClientError> {
        let now = self.session.now_ns();
        let spin = self.timer.plan(self.session.next_deadline(), now)?;
        Ok((spin, self.session.poll_timeout()))
    }
}

/// The event loop of one or more machines, each until its connection ends.
pub(super) struct Driver {
    poll: Poll,
    signals: Signals,
    /// The machines, by index; `None` once ended.
    slots: Vec<Option<Slot>>,
    /// How each machine ended, by index; `None` while it runs.
    results: Vec<Option<Result<ClientSummary, ClientError>>>,
}

impl Driver {
    /// A loop with the process's stop signals registered and no machine yet.
    pub(super) fn new() -> Result<Driver, ClientError> {
        let poll = Poll::new().map_err(io_err("poll"))?;
        let mut signals = Signals::new(crate::net::STOP_SIGNALS).map_err(io_err("signals"))?;
        poll.registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)
            .map_err(io_err("poll"))?;
        Ok(Driver {
            poll,
            signals,
            slots: Vec::new(),
            results: Vec::new(),
        })
    }

    /// The `Poll` a new [`Slot`] registers with.
    pub(super) fn poll(&self) -> &Poll {
        &self.poll
    }

    /// How many machines the loop has been given.
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Adds machine `len()`: a slot that runs, or how it failed before it could.
    pub(super) fn push(&mut self, slot: Result<Slot, ClientError>) {
        match slot {
            Ok(slot) => {
                self.slots.push(Some(slot));
                self.results.push(None);
            }
            Err(e) => {
                self.slots.push(None);
                self.results.push(Some(Err(e)));
            }
        }
    }

    /// Runs every machine until its connection ends, and returns how each ended, in order: its
    /// summary, or why it failed. An error of the loop itself (`poll`) ends every machine
    /// still running with it.
    pub(super) fn run(mut self) -> Vec<Result<ClientSummary, ClientError>> {
        let mut events = Events::with_capacity(64 + 2 * self.slots.len().min(512));
        // HELLO goes out first; a connection that breaks on it has ended.
        for i in 0..self.slots.len() {
            if let Some(end) = self.step(i, |slot, poll| slot.flush(poll)) {
                self.finish(i, end);
            }
        }
        while self.slots.iter().any(Option::is_some) {
            if let Err(e) = self.turn(&mut events) {
                for i in 0..self.slots.len() {
                    if self.slots[i].is_some() {
                        let what = e.to_string();
                        self.fail(i, ClientError::Io("poll".into(), io::Error::other(what)));
                    }
                }
            }
        }
        self.results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(ClientError::Protocol("never ran".into()))))
            .collect()
    }

    /// One turn: wait for the nearest wake-up of any machine, hand each event to its machine,
    /// then settle every machine still running.
    fn turn(&mut self, events: &mut Events) -> io::Result<()> {
        let mut spin = false;
        let mut timeout: Option<Duration> = None;
        for i in 0..self.slots.len() {
            let Some(slot) = self.slots[i].as_mut() else {
                continue;
            };
            match slot.plan() {
                Ok((s, t)) => {
                    spin |= s;
                    timeout = match (timeout, t) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                Err(e) => self.fail(i, e),
            }
        }
        let timeout = if spin { Some(Duration::ZERO) } else { timeout };
        if let Err(e) = self.poll.poll(events, timeout) {
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(());
            }
            return Err(e);
        }
        // The first end each machine met in this turn.
        let mut ends: Vec<Option<End>> = Vec::new();
        ends.resize_with(self.slots.len(), || None);
        for event in events.iter() {
            match source(event.token()) {
                Source::Signals => {
                    let signals: Vec<i32> = self.signals.pending().collect();
                    for (i, end) in ends.iter_mut().enumerate() {
                        if end.is_none() {
                            *end = self.step(i, |slot, _| slot.on_signals(&signals));
                        }
                    }
                }
                Source::Socket(i) if ends.get(i).is_some_and(Option::is_none) => {
                    ends[i] = self.step(i, |slot, _| slot.on_readable());
                }
                Source::Timer(i) => {
                    if let Some(Some(slot)) = self.slots.get_mut(i) {
                        slot.timer.fired();
                    }
                }
                Source::Socket(_) => {}
            }
        }
        for (i, end) in ends.into_iter().enumerate() {
            if let Some(end) = self.step(i, |slot, poll| slot.settle(poll, end)) {
                self.finish(i, end);
            }
        }
        Ok(())
    }

    /// Runs `f` on machine `i` if it still runs; an error ends that machine (and only it).
    fn step(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut Slot, &Poll) -> Result<Option<End>, ClientError>,
    ) -> Option<End> {
        let slot = self.slots.get_mut(i)?.as_mut()?;
        match f(slot, &self.poll) {
            Ok(end) => end,
            Err(e) => {
                self.fail(i, e);
                None
            }
        }
    }

    /// Machine `i`'s connection ended with `end`: its summary is written, and it leaves the loop.
    fn finish(&mut self, i: usize, end: End) {
        if let Some(slot) = self.take(i) {
            self.results[i] = Some(slot.session.finish(end));
        }
    }

    /// Machine `i` failed with `e`: it leaves the loop (its socket closes) without a summary, as a
    /// process of its own would exit.
    fn fail(&mut self, i: usize, e: ClientError) {
        if self.take(i).is_some() {
            self.results[i] = Some(Err(e));
        }
    }

    fn take(&mut self, i: usize) -> Option<Slot> {
        let mut slot = self.slots.get_mut(i)?.take()?;
        slot.conn.deregister(self.poll.registry());
        slot.timer.deregister(self.poll.registry());
        Some(slot)
    }
}
