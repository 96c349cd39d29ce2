//! Flow control and the deadlines of a connection's life (the policy is in the module comment of
//! `switchboard`): which senders a full outbox stops, when they are read again, the memory the
//! buffers hold, receivers that take nothing, and connections that never say HELLO.

use bytes::Bytes;

use super::conn::State;
use super::{ConnId, Switchboard};

impl Switchboard {
    /// Queues a copy of `frame` for `key` (the router's own frames; from machine `source` if it
    /// is data).
    pub(super) fn enqueue(&mut self, key: ConnId, frame: &[u8], source: Option<u16>, now_ns: u64) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        conn.about_to_queue(now_ns);
        self.conns
            .with_outbox(key, |outbox| outbox.push_copy(frame, source));
    }

    /// Queues for `key` the `count` data frames of `len` bytes each at `offset` in `read` (the
    /// read being routed), from machine `source`. Returns whether the outbox is now over high
    /// water, and whether it had no run open before (see `Outbox::extend_run`); `None` if `key`
    /// is closing or gone (the frames are undeliverable).
    pub(super) fn enqueue_run(
        &mut self,
        key: ConnId,
        read: &Bytes,
        (offset, len, count): (usize, usize, u32),
        source: u16,
        now_ns: u64,
    ) -> Option<(bool, bool)> {
        let conn = self.conns.get_mut(key)?;
        if conn.closing().is_some() {
            return None;
        }
        conn.about_to_queue(now_ns);
        let held = self.held_for(key);
        let limit = self.opts.outbox_limit.saturating_sub(held);
        self.conns.with_outbox(key, |outbox| {
            let first = outbox.extend_run(read, offset, len, count, source);
            (outbox.len() > limit, first)
        })
    }

    /// Closes the run each of `receivers` has open, as a slice of `read`.
    pub(super) fn close_runs(&mut self, receivers: &mut Vec<ConnId>, read: &Bytes) {
        for key in receivers.drain(..) {
            self.conns.with_outbox(key, |outbox| outbox.close_run(read));
        }
    }

    /// `key`'s socket has taken what it would: what still waits is copied into its outbox's own
    /// storage, letting go of the read buffers.
    pub(super) fn settle(&mut self, key: ConnId) {
        self.conns.with_outbox(key, |outbox| outbox.settle());
    }

    /// `sender` just added to `receiver`'s outbox, which is over high water: `sender` is not
    /// read until that outbox is down to low water (or gone).
    pub(super) fn stop_sender(&mut self, sender: ConnId, receiver: ConnId) {
        let Some(r) = self.conn_mut(receiver) else {
            return;
        };
        r.over_high_water = true;
        if r.stopped_senders.contains(&sender) {
            return;
        }
        r.stopped_senders.push(sender);
        if let Some(s) = self.conn_mut(sender) {
            s.stopped_by += 1;
            s.stall_paused = true;
        }
    }

    /// Bytes the fault plan holds for `key`'s machine: they count against its high water (0 in
    /// fair weather, at the cost of one test).
    pub(super) fn held_for(&self, key: ConnId) -> usize {
        match self.conns.weather() {
            None => 0,
            Some(w) => self
                .conn(key)
                .and_then(|c| c.id())
                .map_or(0, |id| w.held_for(id)),
        }
    }

    /// Reads again the senders `receiver` stopped, if its outbox is down to low water.
    pub(super) fn release_if_drained(&mut self, receiver: ConnId) {
        let low = self.opts.outbox_limit / 2;
        let held = self.held_for(receiver);
        let Some(r) = self.conn_mut(receiver) else {
            return;
        };
        if !r.over_high_water || r.outbox.len() + held > low {
            return;
        }
        r.over_high_water = false;
        let senders = std::mem::take(&mut r.stopped_senders);
        self.release(&senders);
    }

    /// Each of `senders` waits for one receiver fewer.
    pub(super) fn release(&mut self, senders: &[ConnId]) {
        for &s in senders {
            if let Some(s) = self.conn_mut(s) {
                s.stopped_by = s.stopped_by.saturating_sub(1);
            }
        }
    }

    /// `key` is going: the senders it stopped are read again, and no receiver waits to release
    /// it any more (its handle may be reused by a new connection).
    pub(super) fn forget_in_flow_control(&mut self, key: ConnId, stopped: &[ConnId]) {
        self.release(stopped);
        for c in self.conns.values_mut() {
            c.stopped_senders.retain(|&s| s != key);
        }
    }

    /// Refuses connections that have not said HELLO within the HELLO deadline.
    pub(super) fn expire_hello_deadlines(&mut self, now_ns: u64) {
        let timeout = self.opts.hello_timeout_ns;
        let expired: Vec<ConnId> = self
            .conns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((ConnId(i), c.as_ref()?)))
            .filter(|(_, c)| c.state == State::New)
            .filter(|(_, c)| now_ns >= c.connected_ns.saturating_add(timeout))
            .map(|(k, _)| k)
            .collect();
        for key in expired {
            let reason = format!(
                "no HELLO within {:.1} s of connecting",
                timeout as f64 / 1e9
            );
            self.refuse(key, reason, now_ns);
        }
    }

    /// Refuses receivers that took no byte of what waits for them for the reader timeout: the
    /// frames not begun are dropped (undeliverable), then the ERROR is queued behind what is left.
    pub(super) fn expire_readers(&mut self, now_ns: u64) {
        let timeout = self.opts.reader_timeout_ns;
        let expired: Vec<ConnId> = self
            .conns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((ConnId(i), c.as_ref()?)))
            .filter(|(_, c)| c.closing().is_none() && !c.outbox.is_empty())
            .filter(|(_, c)| now_ns >= c.waiting_since_ns.saturating_add(timeout))
            .map(|(k, _)| k)
            .collect();
        for key in expired {
            let Some(c) = self.conn(key) else {
                continue;
            };
            let (waiting, id, pairs) = (c.outbox.len(), c.id(), &mut self.pairs);
            self.conns.with_outbox(key, |outbox| {
                outbox.drop_unbegun(|source, frames| {
                    if let Some(id) = id {
                        pairs.undeliverable(source, id, frames);
                    }
                })
            });
            self.release_if_drained(key);
            let reason = format!(
                "not reading: {waiting} bytes waited {:.1} s and not one was taken",
                timeout as f64 / 1e9
            );
            self.refuse(key, reason, now_ns);
        }
    }

    /// Frames the fault plan held until `now_ns` go to their receivers' outboxes, in send order
    /// per pair; a frame whose receiver has departed or is closing is undeliverable.
    pub(super) fn release_held(&mut self, now_ns: u64) {
        while let Some((source, dest, held)) =
            self.conns.with_weather(|w| w.take_due(now_ns)).flatten()
        {
            self.pairs.released(source, dest);
            let receiver = self.machines[usize::from(dest) - 1];
            match receiver.filter(|&r| self.conn(r).is_some_and(|c| c.closing().is_none())) {
                Some(r) => self.enqueue(r, &held.frame, Some(source), now_ns),
                None => {
                    self.pairs.undeliverable(source, dest, 1);
                    // A closing receiver holds less: the senders it stopped may go on.
                    if let Some(r) = receiver {
                        self.release_if_drained(r);
                    }
                }
            }
        }
    }
}
