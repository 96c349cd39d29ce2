//! The books of memory, kept in one place: the connections by handle, and what their read buffers
//! and outboxes keep alive.
//!
//! A connection's two buffers are [`Counted`]: any code may read them, and the only way to change
//! one is a door of [`Conns`] ([`Conns::with_outbox`], [`Conns::with_inbuf`], [`Conns::room`],
//! [`Conns::take_inbuf`] and [`Conns::put_inbuf`]), which books the change. A `Counted` buffer is
//! made nowhere else (a connection gets its two in [`Conns::insert`]), so none can be put in place
//! of another unbooked, and what [`Conns::held`] says is what the buffers hold.
//!
//! The frames a fault plan holds (`weather`) are booked here too, as outbox storage: their one
//! door is [`Conns::with_weather`].

use std::ops::Deref;

use super::ConnId;
use super::buffers::{Footprint, Lending, Outbox, ReadBuf};
use super::conn::Conn;
use super::weather::Weather;

/// A buffer whose memory is in the books: read it freely; change it only through a door of
/// [`Conns`].
#[derive(Debug)]
pub(super) struct Counted<T>(T);

impl<T> Deref for Counted<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl Deref for Conns {
    type Target = [Option<Conn>];

    fn deref(&self) -> &[Option<Conn>] {
        &self.slots
    }
}

/// A connection's read buffer taken out of it by [`Conns::take_inbuf`] (so that its frames can be
/// queued into other connections' outboxes while it is read). It stays in the books meanwhile;
/// give it back with [`Conns::put_inbuf`], which books what changed.
#[must_use = "a read buffer taken out is given back with Conns::put_inbuf"]
#[derive(Debug)]
pub(super) struct TakenInbuf {
    buf: ReadBuf,
    /// What it held when it was taken (what the books count for it).
    held: usize,
}

impl TakenInbuf {
    /// The buffer, to take frames from.
    pub(super) fn buf(&mut self) -> &mut ReadBuf {
        &mut self.buf
    }
}

/// The open connections by [`ConnId`], and the memory their buffers keep alive. It reads as its
/// slots (`conns[i]` is `Some` for an open handle `ConnId(i)`); changes go through its methods.
#[derive(Debug)]
pub(super) struct Conns {
    /// Connections by handle; `None` for a free handle.
    slots: Vec<Option<Conn>>,
    /// How many entries of `slots` are `Some`.
    open: usize,
    /// Memory the outboxes and the read buffers keep alive, and the most the two held at once.
    outbox_held: usize,
    inbuf_held: usize,
    peak_held: usize,
    /// The most the outboxes together may keep alive (see [`Conns::memory_full`]).
    buffer_limit: usize,
    /// Over the buffer limit: no machine is read until the outboxes are down to half of it.
    memory_full: bool,
    /// Which read buffers may have slices out in outboxes.
    lending: Lending,
    /// The fault plan's rules and the frames they hold (counted in `outbox_held`); `None` in
    /// fair weather.
    weather: Option<Box<Weather>>,
}

impl Conns {
    /// No connections; the outboxes together may keep `buffer_limit` bytes alive.
    pub(super) fn new(buffer_limit: usize) -> Conns {
        Conns {
            slots: Vec::new(),
            open: 0,
            outbox_held: 0,
            inbuf_held: 0,
            peak_held: 0,
            buffer_limit,
            memory_full: false,
            lending: Lending::default(),
            weather: None,
        }
    }

    /// The fault plan's rules and held frames, if a plan is in force.
    pub(super) fn weather(&self) -> Option<&Weather> {
        self.weather.as_deref()
    }

    /// Puts `weather` in force (what an earlier one held is dropped from the books with it:
    /// callers replace only a weather that holds nothing, or change its plan instead).
    pub(super) fn set_weather(&mut self, weather: Weather) {
        let before = self.weather.as_ref().map_or(0, |w| w.held());
        self.weather = Some(Box::new(weather));
        self.held_frames_changed(before, 0);
    }

    /// The one door to the frames the fault plan holds: `change` them, and the books follow
    /// (they count as outbox storage). `None` in fair weather.
    pub(super) fn with_weather<R>(&mut self, change: impl FnOnce(&mut Weather) -> R) -> Option<R> {
        let weather = self.weather.as_deref_mut()?;
        let before = weather.held();
        let r = change(weather);
        let after = weather.held();
        if after != before {
            self.held_frames_changed(before, after);
        }
        Some(r)
    }

    /// The frames the fault plan holds went from `before` to `after` bytes.
    fn held_frames_changed(&mut self, before: usize, after: usize) {
        let footprint = |held| Footprint { held, slices: 0 };
        self.outbox_changed(footprint(before), footprint(after));
    }

    /// The connection, to change anything but its buffers (those go through the doors).
    pub(super) fn get_mut(&mut self, key: ConnId) -> Option<&mut Conn> {
        self.slots.get_mut(key.0).and_then(Option::as_mut)
    }

    /// The open connections, to change anything but their buffers.
    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut Conn> {
        self.slots.iter_mut().flatten()
    }

    /// How many connections are open.
    pub(super) fn open(&self) -> usize {
        self.open
    }

    /// Opens `key` (a free handle) for a connection from `peer` at `now_ns`, with empty buffers.
    pub(super) fn insert(&mut self, key: ConnId, peer: String, now_ns: u64) {
        debug_assert!(self.get_mut(key).is_none(), "{key:?} is open already");
        if self.slots.len() <= key.0 {
            self.slots.resize_with(key.0 + 1, || None);
        }
        let (inbuf, outbox) = (Counted(ReadBuf::default()), Counted(Outbox::default()));
        // Empty buffers hold nothing: the books do not change.
        debug_assert_eq!(
            (inbuf.held(), outbox.footprint()),
            (0, Footprint::default())
        );
        if self.slots[key.0]
            .replace(Conn::new(peer, now_ns, inbuf, outbox))
            .is_none()
        {
            self.open += 1;
        }
    }

    /// Forgets `key`: what its buffers held leaves the books. Returns the connection, its buffers
    /// emptied (so that it holds nothing the books would miss, wherever it goes), and what its
    /// outbox held (which tells what never reached it).
    pub(super) fn remove(&mut self, key: ConnId) -> Option<(Conn, Outbox)> {
        let mut conn = self.slots.get_mut(key.0).and_then(Option::take)?;
        self.open -= 1;
        let outbox = std::mem::take(&mut conn.outbox.0);
        let inbuf = std::mem::take(&mut conn.inbuf.0);
        self.outbox_changed(outbox.footprint(), Footprint::default());
        self.inbuf_changed(inbuf.held(), 0);
        Some((conn, outbox))
    }

    /// The one door to `key`'s outbox: `change` it, and the books follow. `None` if `key` is not
    /// open.
    pub(super) fn with_outbox<R>(
        &mut self,
        key: ConnId,
        change: impl FnOnce(&mut Outbox) -> R,
    ) -> Option<R> {
        let outbox = &mut self.slots.get_mut(key.0)?.as_mut()?.outbox.0;
        let before = outbox.footprint();
        let r = change(outbox);
        let after = outbox.footprint();
        // A change of no storage (frames that extend a run, most of the time) keeps the books as
        // they are, unless the memory is full: then storage kept for the next burst by outboxes
        // that just emptied is given back (see `outbox_changed`).
        if after != before || self.memory_full {
            self.outbox_changed(before, after);
        }
        Some(r)
    }

    /// The one door to `key`'s read buffer: `change` it, and the books follow. `None` if `key` is
    /// not open.
    pub(super) fn with_inbuf<R>(
        &mut self,
        key: ConnId,
        change: impl FnOnce(&mut ReadBuf) -> R,
    ) -> Option<R> {
        let inbuf = &mut self.slots.get_mut(key.0)?.as_mut()?.inbuf.0;
        let before = inbuf.held();
        let r = change(inbuf);
        let after = inbuf.held();
        if after != before {
            self.inbuf_changed(before, after);
        }
        Some(r)
    }

    /// Room to read `key`'s next bytes into, at least `size` bytes (see `ReadBuf::room`); the
    /// books follow if the buffer grows. `None` if `key` is not open or its read buffer still
    /// lends slices in this round.
    pub(super) fn room(&mut self, key: ConnId, size: usize) -> Option<&mut [u8]> {
        let lending = &self.lending;
        let conn = self.slots.get_mut(key.0)?.as_mut()?;
        let before = conn.inbuf.held();
        let ready = conn.inbuf.0.room(size, conn.need, lending).is_some();
        let after = conn.inbuf.held();
        if after != before {
            self.inbuf_changed(before, after);
        }
        if !ready {
            return None;
        }
        // Room was made above: this finds it at once.
        let conn = self.slots.get_mut(key.0)?.as_mut()?;
        conn.inbuf.0.room(size, conn.need, &self.lending)
    }

    /// Takes `key`'s read buffer out (an empty one takes its place), still counted as its own,
    /// until [`Conns::put_inbuf`]. `None` if `key` is not open.
    pub(super) fn take_inbuf(&mut self, key: ConnId) -> Option<TakenInbuf> {
        let inbuf = &mut self.get_mut(key)?.inbuf.0;
        let buf = std::mem::take(inbuf);
        let held = buf.held();
        Some(TakenInbuf { buf, held })
    }

    /// Gives back the read buffer taken out of `key` (what it held now goes in the books); if
    /// `key` has closed meanwhile, the buffer goes, and so does what it held.
    pub(super) fn put_inbuf(&mut self, key: ConnId, taken: TakenInbuf) {
        let TakenInbuf { buf, held } = taken;
        let now = match self.get_mut(key) {
            Some(conn) => {
                // The empty buffer that stood in holds nothing.
                debug_assert_eq!(conn.inbuf.held(), 0);
                let now = buf.held();
                conn.inbuf.0 = buf;
                now
            }
            None => 0,
        };
        if now != held {
            self.inbuf_changed(held, now);
        }
    }

    /// Memory the outboxes and read buffers keep alive now, in bytes.
    pub(super) fn held(&self) -> usize {
        self.outbox_held + self.inbuf_held
    }

    /// The most [`Conns::held`] has been.
    pub(super) fn peak_held(&self) -> usize {
        self.peak_held
    }

    /// Whether the outboxes together passed the buffer limit and are not yet down to half of it.
    pub(super) fn memory_full(&self) -> bool {
        self.memory_full
    }

    /// Which read buffers may have slices out in outboxes (see `buffers::Lending`).
    pub(super) fn lending(&self) -> &Lending {
        &self.lending
    }

    /// The current round of lending (see `buffers::Lending`).
    pub(super) fn lending_round(&self) -> u64 {
        self.lending.round()
    }

    /// What the books say: bytes the outboxes hold, bytes the read buffers hold, and slices of
    /// read buffers out in outboxes (for the oracle to count the buffers against).
    #[cfg(any(test, fuzzing))]
    pub(super) fn booked(&self) -> (usize, usize, usize) {
        (self.outbox_held, self.inbuf_held, self.lending.out())
    }

    /// An outbox's footprint went from `before` to `after`: the slices of read buffers out (see
    /// `buffers::Lending`), the total storage, its peak and whether the memory is full (over the
    /// buffer limit; not full again until down to half of it).
    fn outbox_changed(&mut self, before: Footprint, after: Footprint) {
        self.lending.changed(before.slices, after.slices);
        self.outbox_held = self.outbox_held + after.held - before.held;
        self.peak_held = self.peak_held.max(self.outbox_held + self.inbuf_held);
        let limit = self.buffer_limit;
        if self.outbox_held > limit || (self.memory_full && self.outbox_held > limit / 2) {
            // Storage kept by empty outboxes for their next burst goes first: the memory is full
            // only of frames waiting, which drain or time out (else nothing would be read again).
            for c in self.slots.iter_mut().flatten() {
                let before = c.outbox.footprint().held;
                c.outbox.0.release();
                self.outbox_held -= before - c.outbox.footprint().held;
            }
        }
        if self.outbox_held > limit {
            if !self.memory_full {
                // No machine is read from now on: their partial frames' stall clocks stand still
                // (see `rules::expire_partial_frames`).
                for c in self.slots.iter_mut().flatten().filter(|c| c.id().is_some()) {
                    c.stall_paused = true;
                }
            }
            self.memory_full = true;
        } else if self.outbox_held <= limit / 2 {
            self.memory_full = false;
        }
    }

    /// A read buffer's storage went from `before` to `after` bytes.
    fn inbuf_changed(&mut self, before: usize, after: usize) {
        self.inbuf_held = self.inbuf_held + after - before;
        self.peak_held = self.peak_held.max(self.outbox_held + self.inbuf_held);
    }
}

#[cfg(test)]
mod tests;
