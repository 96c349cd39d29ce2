//! Flow control and the deadlines of a connection's life (the policy is in the module comment of
//! `switchboard`): which senders a full outbox stops, when they are read again, the memory the
//! buffers hold, receivers that take nothing, and connections that never say HELLO.

use bytes::Bytes;

use super::buffers::Footprint;
use super::conn::State;
use super::{ConnId, Switchboard};

impl Switchboard {
    /// An outbox's footprint went from `before` to `after`: the slices of read buffers out (see
    /// `buffers::Lending`), the total storage, its peak and whether the memory is full (over the
    /// buffer limit; not full again until down to half of it).
    pub(super) fn outbox_changed(&mut self, before: Footprint, after: Footprint) {
        self.lending.changed(before.slices, after.slices);
        self.outbox_held = self.outbox_held + after.held - before.held;
        self.peak_held = self.peak_held.max(self.outbox_held + self.inbuf_held);
        let limit = self.opts.buffer_limit;
        if self.outbox_held > limit || (self.memory_full && self.outbox_held > limit / 2) {
            // Storage kept by empty outboxes for their next burst goes first: the memory is full
            // only of frames waiting, which drain or time out (else nothing would be read again).
            for c in self.conns.iter_mut().flatten() {
                let before = c.outbox.footprint().held;
                c.outbox.release();
                self.outbox_held -= before - c.outbox.footprint().held;
            }
        }
        if self.outbox_held > limit {
            if !self.memory_full {
                self.pause_stall_clocks(|c| c.id().is_some());
            }
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

    /// Queues a copy of `frame` for `key` (the router's own frames; from machine `source` if it
    /// is data) and keeps the books of memory.
    pub(super) fn enqueue(&mut self, key: ConnId, frame: &[u8], source: Option<u16>, now_ns: u64) {
        let Some(conn) = self.conns.get_mut(key.0).and_then(Option::as_mut) else {
            return;
        };
        conn.about_to_queue(now_ns);
        let before = conn.outbox.footprint();
        conn.outbox.push_copy(frame, source);
        let after = conn.outbox.footprint();
        self.outbox_changed(before, after);
    }

    /// Queues for `key` the `count` data frames of `len` bytes each at `offset` in `read` (the
    /// read being routed), from machine `source`, and keeps the books of memory. Returns whether
    /// the outbox is now over high water, and whether it had no run open before (see
    /// `Outbox::extend_run`); `None` if `key` is closing or gone (the frames are undeliverable).
    pub(super) fn enqueue_run(
        &mut self,
        key: ConnId,
        read: &Bytes,
        (offset, len, count): (usize, usize, u32),
        source: u16,
        now_ns: u64,
    ) -> Option<(bool, bool)> {
        let conn = self.conns.get_mut(key.0).and_then(Option::as_mut)?;
        if conn.closing().is_some() {
            return None;
        }
        conn.about_to_queue(now_ns);
        let before = conn.outbox.footprint();
        let first = conn.outbox.extend_run(read, offset, len, count, source);
        let over = conn.outbox.len() > self.opts.outbox_limit;
        let after = conn.outbox.footprint();
        // Frames that extend a run change no storage, most of the time.
        if after != before {
            self.outbox_changed(before, after);
        }
        Some((over, first))
    }

    /// Closes the run each of `receivers` has open, as a slice of `read`.
    pub(super) fn close_runs(&mut self, receivers: &mut Vec<ConnId>, read: &Bytes) {
        for key in receivers.drain(..) {
            if let Some(conn) = self.conns.get_mut(key.0).and_then(Option::as_mut) {
                let before = conn.outbox.footprint();
                conn.outbox.close_run(read);
                let after = conn.outbox.footprint();
                self.outbox_changed(before, after);
            }
        }
    }

    /// `key`'s socket has taken what it would: what still waits is copied into its outbox's own
    /// storage, letting go of the read buffers.
    pub(super) fn settle(&mut self, key: ConnId) {
        if let Some(conn) = self.conns.get_mut(key.0).and_then(Option::as_mut) {
            let before = conn.outbox.footprint();
            conn.outbox.settle();
            let after = conn.outbox.footprint();
            self.outbox_changed(before, after);
        }
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
            let before = c.outbox.footprint();
            let (pairs, id) = (&mut self.pairs, c.id());
            c.outbox.drop_unbegun(|source, frames| {
                if let Some(id) = id {
                    pairs.undeliverable(source, id, frames);
                }
            });
            let after = c.outbox.footprint();
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
