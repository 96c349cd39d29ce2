//! The switchboard's rules, one function each: registration, BYE, refusals, closes, the stop and
//! the timeouts (frames in and routing are in `intake`).

use super::buffers::ReadBuf;
use super::conn::{CloseStep, Conn, State};
use super::{Closed, ConnId, Event, Fate, Phase, Switchboard};
use crate::core::wire::{self, Welcome};

impl Switchboard {
    pub(super) fn on_hello(&mut self, key: ConnId, name: String, now_ns: u64) {
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
        self.unregistered -= 1;
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
            let conn = self.conns.get_mut(key).expect("kept open above");
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

    pub(super) fn on_bye(&mut self, key: ConnId, source: u16, now_ns: u64) {
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
                // A machine has said HELLO: no count changes.
                let _ = conn.begin_close("the machine said BYE".into(), now_ns);
            }
            State::SaidBye { .. } | State::Closing(_) => {}
            State::New | State::Registered => {
                let was_new = conn.begin_close("it said BYE before WELCOME".into(), now_ns);
                self.unregistered -= usize::from(was_new);
                self.pending.retain(|&k| k != key);
            }
        }
    }

    /// Sends ERROR with `reason`, then closes the connection once it is written.
    pub(super) fn refuse(&mut self, key: ConnId, reason: String, now_ns: u64) {
        self.enqueue(key, &wire::error(&reason, now_ns), None, now_ns);
        if self.conns.with_inbuf(key, ReadBuf::clear).is_none() {
            return;
        }
        let Some(conn) = self.conn_mut(key) else {
            return;
        };
        let was_new = conn.begin_close(reason.clone(), now_ns);
        conn.refused();
        let (peer, name) = (conn.peer.clone(), conn.name.clone());
        self.unregistered -= usize::from(was_new);
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
    pub(super) fn refuse_after_bye(&mut self, key: ConnId, reason: String, now_ns: u64) {
        self.enqueue(key, &wire::error(&reason, now_ns), None, now_ns);
        let Some(conn) = self.conn_mut(key) else {
            return;
        };
        let (peer, name) = (conn.peer.clone(), conn.name.clone());
        if let State::Closing(closing) = &mut conn.state {
            closing.reason = reason.clone();
        }
        conn.refused();
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
        let Some((conn, outbox)) = self.conns.remove(key) else {
            return;
        };
        self.unregistered -= usize::from(conn.state == State::New);
        self.pending.retain(|&k| k != key);
        self.forget_in_flow_control(key, &conn.stopped_senders);
        let id = conn.id();
        if let Some(id) = id {
            self.machines[usize::from(id) - 1] = None;
            // Whatever was not written in full never reached the machine.
            for (source, frames) in outbox.sources() {
                self.pairs.undeliverable(source, id, frames);
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

    /// Refuses connections that sat on a partial frame for a stall timeout while they were read.
    /// A closing connection takes nothing more, so its partial frame no longer matters.
    ///
    /// The stall clock runs only while the switchboard is willing to read the connection (a
    /// sender held back by flow control or by the memory limit cannot be blamed for sending
    /// nothing): one it does not read now has its clock paused, and one paused that is read again
    /// starts it again from zero, now. The rule is "nothing more for a stall timeout while we were
    /// reading", with no credit for the time before a pause.
    pub(super) fn expire_partial_frames(&mut self, now_ns: u64) {
        let stall = self.opts.stall_timeout_ns;
        let mut expired: Vec<(ConnId, usize)> = Vec::new();
        for i in 0..self.conns.len() {
            let key = ConnId(i);
            let (reads, lent) = self.conn(key).map_or((false, false), |c| {
                (self.reads(c), c.inbuf.is_lent(self.conns.lending()))
            });
            let Some(c) = self.conn_mut(key) else {
                continue;
            };
            let Some(since) = c.partial_since_ns.filter(|_| c.closing().is_none()) else {
                continue;
            };
            if !reads {
                c.stall_paused = true;
            } else if c.stall_paused {
                c.stall_paused = false;
                c.partial_since_ns = Some(now_ns);
            } else if !lent && now_ns >= since.saturating_add(stall) {
                // (A read buffer lent in this turn comes back with its writes: the connection is
                // read again in the next turn, so its clock is not paused for that.)
                expired.push((key, c.inbuf.len()));
            }
        }
        for (key, buffered) in expired {
            let reason = format!(
                "a partial frame ({buffered} bytes) and nothing more for {:.1} s",
                stall as f64 / 1e9
            );
            self.refuse(key, reason, now_ns);
        }
    }

    /// In a stop, once every machine has said BYE and the fault plan holds no frame any more,
    /// sets every connection to close. Frames a `delay` or `partition` still holds are released
    /// to machines that said BYE (they read until the router closes) as they come due, within the
    /// stop's grace: a stop cuts off only what is still held at its deadline.
    pub(super) fn end_stop_when_all_said_bye(&mut self, now_ns: u64) {
        if !self.is_stopping() {
            return;
        }
        let all_said_bye = self
            .conns
            .iter()
            .flatten()
            .all(|c| c.said_bye() || c.id().is_none());
        let still_held = self.conns.weather().is_some_and(|w| w.held() > 0);
        if all_said_bye && !still_held {
            let mut were_new = 0;
            for conn in self.conns.values_mut() {
                were_new += usize::from(conn.begin_close("orderly stop".into(), now_ns));
            }
            self.unregistered -= were_new;
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
            CloseStep::AfterBye | CloseStep::Flushing if flushed => {
                closing.step = CloseStep::WriteShut;
                Fate::ShutWrite
            }
            _ => Fate::Keep,
        }
    }
}
