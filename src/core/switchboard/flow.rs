//! Flow control and the deadlines of a connection's life (the policy is in the module comment of
//! `switchboard`): which senders a full outbox stops, when they are read again, the memory the
//! buffers hold, receivers that take nothing, and connections that never say HELLO.

use super::conn::State;
use super::{ConnId, Switchboard};

impl Switchboard {
    /// An outbox's storage went from `before` to `after` bytes: the total, its peak and whether
    /// the memory is full (over the buffer limit; not full again until down to half of it).
    pub(super) fn outbox_changed(&mut self, before: usize, after: usize) {
        self.outbox_held = self.outbox_held + after - before;
        self.peak_held = self.peak_held.max(self.outbox_held + self.inbuf_held);
        let limit = self.opts.buffer_limit;
        if self.outbox_held > limit || (self.memory_full && self.outbox_held > limit / 2) {
            // Storage kept by empty outboxes for their next burst goes first: the memory is full
            // only of frames waiting, which drain or time out (else nothing would be read again).
            for c in self.conns.iter_mut().flatten() {
                let before = c.outbox.held();
                c.outbox.release();
                self.outbox_held -= before - c.outbox.held();
            }
        }
        if self.outbox_held > limit {
            self.memory_full = true;
        } else if self.outbox_held <= limit / 2 {
            self.memory_full = false;
        }
    }

    /// A read buffer's storage went from `before` to `after` bytes.
    pub(super) fn inbuf_changed(&mut self, before: usize, after: usize) {
        self.inbuf_held = self.inbuf_held + after - before;
        self.peak_held = self.peak_held.max(self.outbox_held + self.inbuf_held);
    }

    /// Queues a copy of `frame` for `key` (from machine `source` if it is data) and keeps the
    /// books of memory. Returns whether the outbox is now over high water.
    pub(super) fn enqueue(
        &mut self,
        key: ConnId,
        frame: &[u8],
        source: Option<u16>,
        now_ns: u64,
    ) -> bool {
        let Some(conn) = self.conns.get_mut(key.0).and_then(Option::as_mut) else {
            return false;
        };
        let before = conn.outbox.held();
        conn.enqueue(frame, source, now_ns);
        let over = conn.outbox.len() > self.opts.outbox_limit;
        let after = conn.outbox.held();
        self.outbox_changed(before, after);
        over
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
        }
    }

    /// Reads again the senders `receiver` stopped, if its outbox is down to low water.
    pub(super) fn release_if_drained(&mut self, receiver: ConnId) {
        let low = self.opts.outbox_limit / 2;
        let Some(r) = self.conn_mut(receiver) else {
            return;
        };
        if !r.over_high_water || r.outbox.len() > low {
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
        for c in self.conns.iter_mut().flatten() {
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
            let Some(c) = self.conns.get_mut(key.0).and_then(Option::as_mut) else {
                continue;
            };
            let waiting = c.outbox.len();
            let before = c.outbox.held();
            let (pairs, id) = (&mut self.pairs, c.id());
            c.outbox.drop_unbegun(|source| {
                if let Some(id) = id {
                    pairs.undeliverable(source, id);
                }
            });
            let after = c.outbox.held();
            self.outbox_changed(before, after);
            self.release_if_drained(key);
            let reason = format!(
                "not reading: {waiting} bytes waited {:.1} s and not one was taken",
                timeout as f64 / 1e9
            );
            self.refuse(key, reason, now_ns);
        }
    }
}
