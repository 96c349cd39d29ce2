//! The switchboard's rules, one function each: frames in, registration, routing, BYE, refusals,
//! closes, the stop and the timeouts.

use super::buffers::ReadBuf;
use super::conn::{CloseStep, Conn, State};
use super::{Closed, ConnId, Event, Fate, Phase, Switchboard};
use crate::core::route;
use crate::core::wire::{self, Kind, Parsed, Welcome};

/// What one complete frame asks of the switchboard, taken out of the read buffer's borrow.
enum Step {
    Data { kind: Kind, source: u16, dest: u16 },
    Hello(String),
    Bye(u16),
    Refuse(String),
    RefuseAfterBye(String),
}

impl Switchboard {
    /// Handles every complete frame in the connection's read buffer. The buffer is taken out of
    /// the connection meanwhile, so that frames are copied from it into other outboxes directly.
    pub(super) fn process(&mut self, key: ConnId, now_ns: u64) {
        let Some(conn) = self.conn_mut(key) else {
            return;
        };
        let mut inbuf = std::mem::take(&mut conn.inbuf);
        let need = self.process_buffer(key, &mut inbuf, now_ns);
        if let Some(conn) = self.conn_mut(key) {
            conn.inbuf = inbuf;
            conn.need = need;
        }
    }

    /// Handles every complete frame in `inbuf`, which holds `key`'s bytes; returns the length the
    /// partial frame left at its front needs (0 if none).
    fn process_buffer(&mut self, key: ConnId, inbuf: &mut ReadBuf, now_ns: u64) -> usize {
        let mut progressed = false;
        loop {
            let max_payload = self.opts.max_payload;
            let Some(conn) = self.conns.get_mut(key.0).and_then(Option::as_mut) else {
                return 0;
            };
            let after_bye = match conn.closing() {
                // After its BYE, a machine's first complete frame (or invalid bytes) is refused,
                // unless our write side is shut already (then there is no way to say so).
                Some(c) if c.said_bye && !c.refused && c.step == CloseStep::Flushing => true,
                Some(_) => {
                    inbuf.clear();
                    return 0;
                }
                None => false,
            };
            let (step, len) = match wire::parse_with_limit(inbuf.data(), max_payload) {
                Ok(Parsed::Complete { frame, len }) if after_bye => {
                    let kind = frame.kind();
                    (
                        Step::RefuseAfterBye(format!("{kind} after this machine's BYE")),
                        len,
                    )
                }
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
                        Kind::Bye => Step::Bye(frame.source()),
                        kind => Step::Refuse(format!("only the router sends {kind}")),
                    };
                    (step, len)
                }
                Ok(Parsed::Incomplete { needed }) => {
                    if inbuf.is_empty() {
                        conn.partial_since_ns = None;
                    } else if progressed || conn.partial_since_ns.is_none() {
                        conn.partial_since_ns = Some(now_ns);
                    }
                    return if inbuf.is_empty() { 0 } else { needed };
                }
                Err(e) if after_bye => (Step::RefuseAfterBye(format!("invalid frame: {e}")), 0),
                Err(e) => (Step::Refuse(format!("invalid frame: {e}")), 0),
            };
            progressed = true;
            match step {
                Step::Data { kind, source, dest } => {
                    self.on_data(key, kind, source, dest, &inbuf.data()[..len], now_ns);
                    inbuf.consume(len);
                }
                Step::Hello(name) => {
                    inbuf.consume(len);
                    self.on_hello(key, name, now_ns);
                }
                Step::Bye(source) => {
                    inbuf.consume(len);
                    self.on_bye(key, source, now_ns);
                }
                Step::Refuse(reason) => {
                    inbuf.clear();
                    self.refuse(key, reason, now_ns);
                }
                Step::RefuseAfterBye(reason) => {
                    inbuf.clear();
                    self.refuse_after_bye(key, reason, now_ns);
                }
            }
        }
    }

    fn on_data(
        &mut self,
        key: ConnId,
        kind: Kind,
        source: u16,
        dest: u16,
        frame: &[u8],
        now_ns: u64,
    ) {
        let Some(conn) = self.conn(key) else {
            return;
        };
        let id = match conn.state {
            State::Machine { id } => id,
            State::SaidBye { .. } => {
                return self.refuse(key, format!("{kind} after this machine's BYE"), now_ns);
            }
            _ => return self.refuse(key, format!("{kind} before WELCOME"), now_ns),
        };
        if source != id {
            let reason = format!("{kind} with source {source} on the connection of machine {id}");
            return self.refuse(key, reason, now_ns);
        }
        let n = self.opts.machines;
        let Some(targets) = route::targets(kind, source, dest, n) else {
            let reason = format!(
                "{kind} from machine {source} (dest {dest}) names no machine among 1..={n}"
            );
            return self.refuse(key, reason, now_ns);
        };
        for target in targets.iter(n) {
            self.pairs.routed(source, target);
            let open = self.machines[usize::from(target) - 1].filter(|k| {
                self.conns
                    .get(k.0)
                    .and_then(Option::as_ref)
                    .is_some_and(|c| c.closing().is_none())
            });
            match open {
                Some(receiver) => {
                    if self.enqueue(receiver, frame, Some(source), now_ns) {
                        self.stop_sender(key, receiver);
                    }
                }
                None => self.pairs.undeliverable(source, target),
            }
        }
    }

    fn on_hello(&mut self, key: ConnId, name: String, now_ns: u64) {
        if self.conn(key).is_some_and(|c| c.state != State::New) {
            return self.refuse(key, "a second HELLO on one connection".into(), now_ns);
        }
        match self.phase {
            Phase::Registering => {}
            Phase::Running => {
                let reason = format!("HELLO from {name:?}: the model has already started");
                return self.refuse(key, reason, now_ns);
            }
            Phase::Stopping { .. } => {
                let reason = format!("HELLO from {name:?}: the router is stopping");
                return self.refuse(key, reason, now_ns);
            }
        }
        let taken = self.pending.iter().any(|&k| {
            self.conn(k)
                .is_some_and(|c| c.name.as_deref() == Some(&name))
        });
        if taken {
            let reason = format!("the name {name:?} is already registered");
            return self.refuse(key, reason, now_ns);
        }
        let Some(conn) = self.conn_mut(key) else {
            return;
        };
        conn.name = Some(name.clone());
        conn.state = State::Registered;
        let peer = conn.peer.clone();
        self.pending.push(key);
        self.events.push_back(Event::Registered {
            conn: key,
            peer,
            name,
        });
        if self.pending.len() == usize::from(self.opts.machines) {
            self.welcome_all(now_ns);
        }
    }

    /// Assigns ids by sorted name and sends every machine its WELCOME with the common start time.
    fn welcome_all(&mut self, now_ns: u64) {
        let mut keys = std::mem::take(&mut self.pending);
        // Every pending connection is open: a close takes it out of `pending`.
        keys.retain(|&k| self.conn(k).is_some());
        debug_assert_eq!(keys.len(), usize::from(self.opts.machines));
        let name_of = |k: ConnId| self.conn(k).and_then(|c| c.name.as_deref());
        keys.sort_by(|&a, &b| name_of(a).cmp(&name_of(b)));
        let start_time_ns = now_ns.saturating_add(self.opts.start_delay_ns);
        let mut names = Vec::with_capacity(keys.len());
        let mut peers = Vec::with_capacity(keys.len());
        for (index, &key) in keys.iter().enumerate() {
            // There are at most 65,534 machines, so ids fit u16.
            let id = index as u16 + 1;
            let welcome = Welcome {
                id,
                machines: self.opts.machines,
                start_time_ns,
                seed: self.opts.seed,
            };
            self.enqueue(key, &wire::welcome(welcome, now_ns), None, now_ns);
            let conn = self.conns[key.0].as_mut().expect("kept open above");
            conn.state = State::Machine { id };
            self.machines[index] = Some(key);
            names.push(conn.name.clone().unwrap_or_default());
            peers.push(conn.peer.clone());
        }
        self.phase = Phase::Running;
        self.names = names.clone();
        self.start_time_ns = Some(start_time_ns);
        self.events.push_back(Event::Started {
            start_time_ns,
            names,
            peers,
        });
    }

    fn on_bye(&mut self, key: ConnId, source: u16, now_ns: u64) {
        let stopping = self.is_stopping();
        let Some(conn) = self.conn_mut(key) else {
            return;
        };
        match conn.state {
            State::Machine { id } if source != id => {
                let reason = format!("BYE with source {source} on the connection of machine {id}");
                self.refuse(key, reason, now_ns);
            }
            State::Machine { id } if stopping => conn.state = State::SaidBye { id },
            State::Machine { id } => {
                // A machine leaving on its own: finish writing to it, then close.
                conn.state = State::SaidBye { id };
                conn.begin_close("the machine said BYE".into(), now_ns);
            }
            State::SaidBye { .. } | State::Closing(_) => {}
            State::New | State::Registered => {
                conn.begin_close("it said BYE before WELCOME".into(), now_ns);
                self.pending.retain(|&k| k != key);
            }
        }
    }

    /// Sends ERROR with `reason`, then closes the connection once it is written.
    pub(super) fn refuse(&mut self, key: ConnId, reason: String, now_ns: u64) {
        self.enqueue(key, &wire::error(&reason, now_ns), None, now_ns);
        let Some(conn) = self.conn_mut(key) else {
            return;
        };
        conn.inbuf.clear();
        conn.begin_close(reason.clone(), now_ns);
        if let State::Closing(closing) = &mut conn.state {
            // One ERROR is all a connection gets.
            closing.refused = true;
        }
        let (peer, name) = (conn.peer.clone(), conn.name.clone());
        // A refused connection no longer counts towards the N machines the model waits for.
        self.pending.retain(|&k| k != key);
        self.events.push_back(Event::Refused {
            conn: key,
            peer,
            name,
            reason,
        });
    }

    /// A machine leaving after its BYE sent something more: ERROR with `reason` behind what is
    /// still written to it, and the connection closes for that reason.
    fn refuse_after_bye(&mut self, key: ConnId, reason: String, now_ns: u64) {
        self.enqueue(key, &wire::error(&reason, now_ns), None, now_ns);
        let Some(conn) = self.conn_mut(key) else {
            return;
        };
        let (peer, name) = (conn.peer.clone(), conn.name.clone());
        if let State::Closing(closing) = &mut conn.state {
            closing.reason = reason.clone();
            closing.refused = true;
        }
        self.events.push_back(Event::Refused {
            conn: key,
            peer,
            name,
            reason,
        });
    }

    /// Closes a closing connection for the reason it was closing for.
    fn close_closing(&mut self, key: ConnId) {
        let reason = self
            .conn(key)
            .and_then(Conn::closing)
            .map(|c| c.reason.clone());
        debug_assert!(reason.is_some(), "{key:?} is not closing");
        if let Some(reason) = reason {
            self.close(key, reason);
        }
    }

    /// Forgets a connection and records it with `reason` (a closing connection's own reason wins
    /// over it); its machine, if any, has departed. Once the last machine of a running model has
    /// departed, that is what stopped the router.
    pub(super) fn close(&mut self, key: ConnId, reason: String) {
        let Some(conn) = self.conns.get_mut(key.0).and_then(Option::take) else {
            return;
        };
        self.open -= 1;
        self.pending.retain(|&k| k != key);
        self.outbox_changed(conn.outbox.held(), 0);
        self.inbuf_held -= conn.inbuf.held();
        self.forget_in_flow_control(key, &conn.stopped_senders);
        let id = conn.id();
        if let Some(id) = id {
            self.machines[usize::from(id) - 1] = None;
            // Whatever was not written in full never reached the machine.
            for source in conn.outbox.sources() {
                self.pairs.undeliverable(source, id);
            }
        }
        let departed = id.is_some() && !conn.said_bye();
        let Conn {
            peer, name, state, ..
        } = conn;
        let reason = match state {
            State::Closing(closing) => closing.reason,
            _ => reason,
        };
        let closed = Closed {
            peer,
            name,
            id,
            reason,
            departed,
        };
        self.closed.push(closed.clone());
        self.events.push_back(Event::Closed { conn: key, closed });
        if self.phase == Phase::Running && self.machines.iter().all(Option::is_none) {
            self.stopped_by = Some("every machine departed".into());
        }
    }

    /// Sends BYE to every machine; the router then waits for their BYEs and drains the outboxes.
    pub(super) fn begin_stop(&mut self, cause: &str, now_ns: u64) {
        self.phase = Phase::Stopping {
            deadline_ns: now_ns.saturating_add(self.opts.stop_grace_ns),
        };
        self.events.push_back(Event::Stopping {
            cause: cause.to_string(),
        });
        let bye = wire::bye(wire::ROUTER_ID, 0, 0, now_ns);
        let open: Vec<ConnId> = (0..self.conns.len())
            .map(ConnId)
            .filter(|&k| self.conn(k).is_some_and(|c| c.closing().is_none()))
            .collect();
        for key in open {
            self.enqueue(key, &bye, None, now_ns);
        }
    }

    /// Refuses connections that sat on a partial frame for a stall timeout. A closing connection
    /// takes nothing more, so its partial frame no longer matters.
    pub(super) fn expire_partial_frames(&mut self, now_ns: u64) {
        let stall = self.opts.stall_timeout_ns;
        let expired: Vec<(ConnId, usize)> = self
            .conns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((ConnId(i), c.as_ref()?)))
            .filter(|(_, c)| c.closing().is_none())
            .filter(|(_, c)| {
                c.partial_since_ns
                    .is_some_and(|t| now_ns >= t.saturating_add(stall))
            })
            .map(|(k, c)| (k, c.inbuf.len()))
            .collect();
        for (key, buffered) in expired {
            let reason = format!(
                "a partial frame ({buffered} bytes) and nothing more for {:.1} s",
                stall as f64 / 1e9
            );
            self.refuse(key, reason, now_ns);
        }
    }

    /// In a stop, once every machine has said BYE, sets every connection to close.
    pub(super) fn end_stop_when_all_said_bye(&mut self, now_ns: u64) {
        if !self.is_stopping() {
            return;
        }
        let all_said_bye = self
            .conns
            .iter()
            .flatten()
            .all(|c| c.said_bye() || c.id().is_none());
        if all_said_bye {
            for conn in self.conns.iter_mut().flatten() {
                conn.begin_close("orderly stop".into(), now_ns);
            }
        }
    }

    /// The connection's fate after a round of writes.
    pub(super) fn fate(&mut self, key: ConnId, now_ns: u64) -> Fate {
        let stall = self.opts.stall_timeout_ns;
        let Some(conn) = self.conn_mut(key) else {
            // Gone already.
            return Fate::Close;
        };
        let expired = conn
            .closing()
            .is_some_and(|c| now_ns >= c.since_ns.saturating_add(stall));
        if expired {
            // Did not finish closing in time (the reason is the one it was closing for).
            self.close_closing(key);
            return Fate::Close;
        }
        let flushed = conn.outbox.is_empty();
        let State::Closing(closing) = &mut conn.state else {
            return Fate::Keep;
        };
        match closing.step {
            // Both sides are done.
            CloseStep::PeerShut if flushed => {
                self.close_closing(key);
                Fate::Close
            }
            // First half of the close: the peer gets everything, then end-of-stream. The
            // connection goes when the peer closes its side (or after the stall timeout).
            CloseStep::Flushing if flushed => {
                closing.step = CloseStep::WriteShut;
                Fate::ShutWrite
            }
            _ => Fate::Keep,
        }
    }
}
