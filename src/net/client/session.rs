//! The client's side of the connection lifecycle (docs/PROTOCOL.md): where it is ([`State`]),
//! the model machine from WELCOME on, the bytes it has to send, and how the connection ended
//! ([`End`]), which becomes the summary. No sockets here: the driver hands it frames, signals and
//! a closed socket, and writes out what it queues.

use std::time::{Duration, Instant};

use log::{debug, info, warn};

use super::conn::Closed;
use super::{ClientError, ClientNotice, ClientOptions, LogDir, RateQuery, io_err};
use crate::core::event::EventKind;
use crate::core::machine::MachineConfig;
use crate::core::seed::{self, Stream};
use crate::core::wire::{self, Kind};
use crate::net::signal_name;
use crate::net::wallclock::WallClock;
use crate::rundir::dirs::manual_run_dir_name;
use crate::rundir::log::LogWriter;
use crate::rundir::records::{ClientSummary, ENDED_BY_ROUTER_BYE};
use crate::rundir::{SpaceReserve, prepare_dir, summary_file_name, write_yaml_atomically};

mod state;

pub(super) use state::{End, settle};
use state::{Model, State};

/// How far past the next deadline `poll` waits at most: the tick timer wakes it first.
const BACKSTOP: Duration = Duration::from_millis(5);

/// One client's lifecycle and machine.
pub(super) struct Session {
    opts: ClientOptions,
    clock: WallClock,
    state: State,
    /// When the handshake times out if WELCOME has not come.
    deadline: Instant,
    /// Bytes to send, oldest first; the driver writes them out.
    pub(super) outbox: Vec<u8>,
}

impl Session {
    /// A session that has HELLO to send and must be welcomed by `deadline`.
    pub(super) fn new(
        opts: ClientOptions,
        clock: WallClock,
        deadline: Instant,
    ) -> Result<Session, ClientError> {
        let hello = wire::hello(&opts.name, clock.now_ns()).ok_or_else(|| {
            ClientError::Protocol(format!(
                "the name {:?} must be 1 to {} bytes",
                opts.name,
                wire::MAX_NAME_LEN
            ))
        })?;
        Ok(Session {
            opts,
            clock,
            state: State::Registering,
            deadline,
            outbox: hello,
        })
    }

    /// How long `poll` may wait: while running, a little past the machine's next deadline (the
    /// tick timer wakes the loop at the deadline itself; this only guards against a timer that
    /// never fires); until the handshake deadline while waiting for WELCOME; `None` (nothing to
    /// wait for) once leaving.
    pub(super) fn poll_timeout(&self) -> Option<Duration> {
        match &self.state {
            // Past its end, a machine only reads until the router's BYE.
            State::Running(model) => model
                .next_deadline()
                .map(|due| self.clock.until(Instant::now(), due) + BACKSTOP),
            State::Registering => Some(self.deadline.saturating_duration_since(Instant::now())),
            State::Leaving { .. } => None,
        }
    }

    /// The wall-clock time of the machine's next deadline while it runs: what the tick timer is
    /// armed for.
    pub(super) fn next_deadline(&self) -> Option<u64> {
        match &self.state {
            State::Running(model) => model.next_deadline(),
            _ => None,
        }
    }

    /// Whether WELCOME is still awaited.
    pub(super) fn is_registering(&self) -> bool {
        matches!(self.state, State::Registering)
    }

    /// The driver's clock now, nanoseconds since the UNIX epoch.
    pub(super) fn now_ns(&self) -> u64 {
        self.clock.now_ns()
    }

    /// The router's address.
    pub(super) fn router(&self) -> std::net::SocketAddr {
        self.opts.router
    }

    /// Gives up once the handshake deadline has passed without WELCOME. A silent peer and a
    /// router still waiting for the other machines look the same from here (the router says
    /// nothing before WELCOME), so the message names both.
    pub(super) fn check_handshake(&self) -> Result<(), ClientError> {
        if !self.is_registering() || Instant::now() < self.deadline {
            return Ok(());
        }
        Err(ClientError::Protocol(format!(
            "gave up on {}: no WELCOME within the handshake timeout of {} s. Either it is not a \
             clocklab router, or not all the machines joined in time (raise --handshake-timeout \
             or machines.handshake_timeout)",
            self.opts.router,
            self.opts.handshake_timeout.as_secs_f64()
        )))
    }

    /// SIGINT or SIGTERM: leave in order while running; otherwise the end.
    pub(super) fn handle_signal(&mut self, signal: i32) -> Result<Option<End>, ClientError> {
        let name = signal_name(signal);
        Ok(match self.state {
            State::Leaving { .. } => {
                warn!("{name} again: leaving without waiting for the router");
                // Frames the router has already written may be left unread: not an orderly end.
                Some(End::Abrupt(format!(
                    "{name} twice: left without waiting for the router"
                )))
            }
            State::Registering => Some(End::Abrupt(format!("{name} before the model started"))),
            State::Running(_) => {
                info!("{name}: leaving in order");
                self.leave(format!("{name}: left with BYE"), None)?;
                None
            }
        })
    }

    /// The socket has closed: the end, orderly only after BYE and only on end of stream.
    pub(super) fn handle_closed(&self, closed: Closed) -> End {
        match (closed, &self.state) {
            (Closed::Broken(why), _) => End::Abrupt(why),
            (Closed::Eof, State::Leaving { why, .. }) => End::Orderly(why.clone()),
            (Closed::Eof, State::Registering) => End::Abrupt(format!(
                "{} closed the connection before WELCOME without a word: it is not a clocklab \
                 router (a router that refuses a machine sends ERROR first)",
                self.opts.router
            )),
            (Closed::Eof, State::Running(_)) => {
                End::Abrupt("the router closed the connection without BYE".into())
            }
        }
    }

    /// Stops ticking at `stop_ns` (now, or the router's stop time from its BYE) and says BYE;
    /// the client then reads until the router closes.
    fn leave(&mut self, why: String, stop_ns: Option<u64>) -> Result<(), ClientError> {
        // The ticks due by the stop are taken first, each at the time it really runs: a client
        // woken late (a busy or stopped machine) would otherwise stop short of the ticks its
        // schedule owes up to its stop time. Those due after it are not owed.
        let stop_ns = match stop_ns {
            // Never past now: a router whose clock runs ahead cannot make the machine tick early.
            Some(stop_ns) => self.tick_due_by(stop_ns.min(self.clock.now_ns()))?,
            None => self.tick()?,
        };
        // The machine moves from the old state into Leaving (Registering only holds the place).
        let model = match std::mem::replace(&mut self.state, State::Registering) {
            State::Running(model) => Some(model),
            State::Registering => None,
            State::Leaving { model, .. } => model,
        };
        let (id, sent, clock) = model.as_ref().map_or((wire::ROUTER_ID, 0, 0), |m| {
            if m.log.failure().is_some() {
                (m.machine.id(), m.logged_seq, m.logged_clock)
            } else {
                (m.machine.id(), m.machine.frames_sent(), m.machine.clock())
            }
        });
        self.outbox
            .extend_from_slice(&wire::bye(id, sent, clock, stop_ns));
        self.state = State::Leaving {
            model,
            why,
            stop_ns,
        };
        Ok(())
    }

    /// One frame from the router, read off the socket at `arrived_ns`. Data joins the machine's
    /// queue, in any state after WELCOME, and counts its hop latency.
    pub(super) fn handle_frame(
        &mut self,
        frame: &wire::Frame<'_>,
        arrived_ns: u64,
    ) -> Result<(), ClientError> {
        match frame.kind() {
            kind if kind.is_data() => match self.state.model_mut() {
                Some(model) => {
                    if let Err(refused) = model.machine.handle_frame_at(frame, arrived_ns) {
                        warn!("refused a frame: {refused}");
                        model.refused += 1;
                    }
                }
                None => {
                    return Err(ClientError::Protocol(format!(
                        "the router sent {kind} before WELCOME"
                    )));
                }
            },
            Kind::Welcome => self.handle_welcome(frame)?,
            Kind::Bye => match self.state {
                // The router's stop time ends the schedule: ticks due after it are not owed,
                // however late the BYE is read.
                State::Running(_) => {
                    self.leave(ENDED_BY_ROUTER_BYE.into(), Some(frame.system_time_ns()))?;
                }
                State::Registering => {
                    self.state = State::Leaving {
                        model: None,
                        why: "the router stopped before the model started".into(),
                        stop_ns: self.clock.now_ns(),
                    };
                }
                State::Leaving { .. } => {}
            },
            Kind::Error => {
                return Err(ClientError::Protocol(format!(
                    "the router refused us: {}",
                    frame.error_reason().unwrap_or_default()
                )));
            }
            kind => return Err(ClientError::Protocol(format!("the router sent {kind}"))),
        }
        Ok(())
    }

    fn handle_welcome(&mut self, frame: &wire::Frame<'_>) -> Result<(), ClientError> {
        let Some(welcome) = frame.welcome() else {
            return Err(ClientError::Protocol("a WELCOME without its body".into()));
        };
        if !matches!(self.state, State::Registering) {
            return Err(ClientError::Protocol("a second WELCOME".into()));
        }
        let run_seed = self.opts.run_seed.unwrap_or(welcome.seed);
        let rate = (self.opts.rate_for)(RateQuery {
            id: welcome.id,
            machines: welcome.machines,
            run_seed,
        })
        .map_err(ClientError::Rate)?;
        let cfg = MachineConfig {
            id: welcome.id,
            machines: welcome.machines,
            action_range: self.opts.action_range,
            rate,
            seed: seed::derive(run_seed, Stream::Machine(welcome.id)),
            start_ns: welcome.start_time_ns,
        };
        let machine = (self.opts.machine(cfg))
            .map_err(|e| ClientError::Protocol(format!("machine {}: {e}", welcome.id)))?;
        let dir = match &self.opts.log_dir {
            LogDir::Given(dir) => dir.clone(),
            LogDir::PerRun(parent) => {
                let dir = parent.join(manual_run_dir_name(welcome.start_time_ns, welcome.seed));
                prepare_dir(&dir).map_err(ClientError::Dir)?;
                dir
            }
        };
        let what = format!("machine {}: log", welcome.id);
        let log = LogWriter::create(&dir, welcome.id).map_err(io_err(what.clone()))?;
        let reserve = SpaceReserve::for_machine(&dir, welcome.id).map_err(io_err(what))?;
        debug!(
            "{} is machine {} of {}, {rate} ticks/s, seed {}",
            self.opts.name, welcome.id, welcome.machines, cfg.seed
        );
        (self.opts.notify)(ClientNotice::Welcomed {
            id: welcome.id,
            machines: welcome.machines,
            rate,
            seed: welcome.seed,
            start_time_ns: welcome.start_time_ns,
            log_dir: dir.clone(),
        });
        self.state = State::Running(Model {
            machine,
            log,
            reserve,
            logged_seq: 0,
            logged_clock: 0,
            run_seed,
            refused: 0,
            dir,
            said_started: false,
            ticked_until: 0,
            end_ns: self.opts.duration.map_or(u64::MAX, |d| {
                welcome
                    .start_time_ns
                    .saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            }),
        });
        Ok(())
    }

    /// Takes every due tick while running, each at a fresh reading of the clock, logging its row
    /// and then queueing its frames. Returns the time by which every deadline has been taken.
    ///
    /// A row that cannot be written (a full disk) stops the machine: the frames of the sends the
    /// log shows still go out, those of the sends it lost do not (no machine may receive a
    /// message its sender's log lacks), and the machine leaves with BYE.
    pub(super) fn tick(&mut self) -> Result<u64, ClientError> {
        self.take_ticks(None)
    }

    /// [`Session::tick`], but only the ticks due at or before `stop_ns`.
    fn tick_due_by(&mut self, stop_ns: u64) -> Result<u64, ClientError> {
        self.take_ticks(Some(stop_ns))
    }

    fn take_ticks(&mut self, due_by: Option<u64>) -> Result<u64, ClientError> {
        let State::Running(model) = &mut self.state else {
            return Ok(self.clock.now_ns());
        };
        if model.log.failure().is_some() {
            return Ok(model.ticked_until);
        }
        // The ticks due when the loop starts, no more: a machine too slow for its rate would
        // otherwise never get back to its socket and signals. Each tick still runs at a fresh
        // reading of the clock; later ones are taken on the next turn of the event loop.
        // A machine that knows its end takes no deadline after it, whatever the stop.
        let limit = due_by
            .unwrap_or_else(|| self.clock.now_ns())
            .min(model.end_ns);
        loop {
            let now = self.clock.now_ns();
            if model.machine.handle_timeout_due_by(limit, now) == 0 {
                // Every deadline up to the limit is taken; a tick taken before a stop that came
                // later (the BYE in flight) moves the stop to it.
                model.ticked_until = model.ticked_until.max(limit);
                return Ok(model.ticked_until);
            }
            if !model.said_started {
                model.said_started = true;
                (self.opts.notify)(ClientNotice::Started { time_ns: now });
            }
            while let Some(record) = model.machine.poll_event() {
                if model.log.failure().is_some() {
                    continue;
                }
                match model.log.append(&record) {
                    Ok(()) => {
                        model.logged_clock = record.logical_clock;
                        if matches!(record.event, EventKind::Send | EventKind::Broadcast) {
                            model.logged_seq = record.seq.unwrap_or(model.logged_seq);
                        }
                    }
                    Err(e) => warn!("machine {}: {e}; it stops", model.machine.id()),
                }
            }
            let failed = model.log.failure().is_some();
            while let Some(header) = model.machine.poll_transmit() {
                if !failed || header.seq <= model.logged_seq {
                    header.write_frame(&[], &mut self.outbox);
                }
            }
            if let Some((_, why)) = model.log.failure() {
                let why = format!("could not write its log: {why}");
                model.ticked_until = now;
                self.leave(why, Some(now))?;
                return Ok(now);
            }
        }
    }

    /// Writes the summary of a connection that ended with `end`. An end that was not orderly is
    /// [`ClientError::RouterVanished`], summary and all; one before WELCOME has no summary.
    pub(super) fn finish(mut self, end: End) -> Result<ClientSummary, ClientError> {
        let (why, orderly) = match end {
            End::Orderly(why) => (why, true),
            End::Abrupt(why) => (why, false),
        };
        let (model, stop_ns) = match &mut self.state {
            State::Running(model) => {
                let until = model.ticked_until;
                (model, until)
            }
            State::Leaving {
                model: Some(model),
                stop_ns,
                ..
            } => (model, *stop_ns),
            State::Registering | State::Leaving { model: None, .. } => {
                return Err(ClientError::Protocol(why));
            }
        };
        let mut summary = ClientSummary::of(
            &model.machine,
            &self.opts.name,
            model.run_seed,
            stop_ns,
            model.refused,
            &why,
            orderly,
        );
        summary.log_error = model.log.failure().map(|(_, why)| why.to_string());
        // The reserve's room is for this file, on a disk that may have filled up.
        model.reserve.release();
        write_yaml_atomically(&model.dir.join(summary_file_name(summary.id)), &summary)
            .map_err(io_err("writing the summary"))?;
        if summary.log_error.is_some() {
            Err(ClientError::LogFailed(Box::new(summary)))
        } else if orderly {
            Ok(summary)
        } else {
            Err(ClientError::RouterVanished(Box::new(summary)))
        }
    }
}

#[cfg(test)]
mod tests;
