//! A connection's two buffers: the read buffer the driver reads straight into, and the outbox of
//! frames waiting to be written, each counted by the memory it keeps alive (in the books that
//! `memory` keeps: a connection's buffers change only through its doors).
//!
//! A data frame is forwarded as the bytes that arrived: a [`Bytes`] slice of the sender's read
//! buffer, never re-encoded and, for a receiver that keeps up, never copied. Frames that arrived
//! in one read and go to one receiver back to back are one slice, so the socket takes a run of
//! them in one piece, and a broadcast shares one slice among its receivers.
//!
//! A slice keeps the whole read buffer it points into alive, and that once let an empty frame for
//! a machine that did not read pin the 64 KiB it arrived with (issue 10). So a slice lives only
//! until the write that follows its read: whatever the receiver's socket did not take then is
//! copied, verbatim, into the outbox's own storage ([`Outbox::settle`]), which holds exactly the
//! bytes waiting. A read buffer whose slices are all written or settled is reused in place; while
//! some are still out, it is not read into (the driver comes back after its writes), so forwarding
//! allocates nothing in steady state and the memory pinned is never more than the read buffers.

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

/// A read buffer: `buf[..filled]` holds the bytes received and not yet taken as frames, and the
/// rest of `buf` (initialised) is room for the next read.
#[derive(Debug, Default)]
pub(super) struct ReadBuf {
    buf: BytesMut,
    filled: usize,
    /// The size of the allocation `buf` lives in: what the buffer keeps alive.
    alloc: usize,
    /// The lending round in which slices of this buffer were last handed out (see
    /// [`ReadBuf::room`]); `None` if none are out.
    lent: Option<u64>,
}

impl ReadBuf {
    /// The bytes received and not yet taken as frames.
    pub(super) fn data(&self) -> &[u8] {
        &self.buf[..self.filled]
    }

    pub(super) fn len(&self) -> usize {
        self.filled
    }

    pub(super) fn is_empty(&self) -> bool {
        self.filled == 0
    }

    /// Takes `n` bytes off the front.
    pub(super) fn consume(&mut self, n: usize) {
        let n = n.min(self.filled);
        self.buf.advance(n);
        self.filled -= n;
    }

    /// Takes `n` bytes off the front as a slice that shares the buffer (it stays alive while the
    /// slice does).
    pub(super) fn take(&mut self, n: usize) -> Bytes {
        let n = n.min(self.filled);
        self.filled -= n;
        self.buf.split_to(n).freeze()
    }

    /// Slices taken from it were queued in `round` (a round of [`Lending`]).
    pub(super) fn lent_in(&mut self, round: u64) {
        self.lent = Some(round);
    }

    pub(super) fn clear(&mut self) {
        self.consume(self.filled);
    }

    /// Whether slices of it handed out in the current round of `lending` may still be waiting:
    /// until they are back, [`ReadBuf::room`] may give no room.
    pub(super) fn is_lent(&self, lending: &Lending) -> bool {
        self.lent.is_some_and(|round| lending.is_current(round))
    }

    /// Room for the next read: at least `size` bytes of buffer (a frame needing more gets what it
    /// needs, `need`). When the room behind the data runs short, the buffer is reclaimed in place
    /// (the unparsed bytes move to its front) if no slice of it is out any more, and a larger one
    /// is allocated only to grow. `None` while slices handed out in the current round of
    /// `lending` may still be waiting: they are written or settled before the next round, and the
    /// buffer is reused then.
    pub(super) fn room(
        &mut self,
        size: usize,
        need: usize,
        lending: &Lending,
    ) -> Option<&mut [u8]> {
        let want = size.max(need).max(1);
        if !self.roomy(want, need) {
            self.buf.truncate(self.filled);
            let more = want.saturating_sub(self.filled).max(1);
            if self.alloc < want {
                self.grow(want);
            } else if !self.buf.try_reclaim(more) {
                if self.lent.is_some_and(|round| lending.is_current(round)) {
                    return None;
                }
                // No slice is out, yet the data cannot move to the front in place (it is longer
                // than what was taken before it): a new buffer of the same size.
                self.grow(self.alloc);
            }
            self.lent = None;
            let capacity = self.buf.capacity();
            self.buf.resize(capacity, 0);
        }
        Some(&mut self.buf[self.filled..])
    }

    /// Whether the room behind the data is enough for a read of `want` (a quarter of it will do)
    /// and for the frame that needs `need` bytes.
    fn roomy(&self, want: usize, need: usize) -> bool {
        let spare = self.buf.len() - self.filled;
        spare >= (want / 4).max(1) && self.filled + spare >= need
    }

    /// Moves the data into a new allocation of at least `size` bytes.
    fn grow(&mut self, size: usize) {
        let mut buf = BytesMut::with_capacity(size.max(self.filled));
        buf.extend_from_slice(self.data());
        self.buf = buf;
        self.alloc = self.buf.capacity();
    }

    /// The driver read `n` bytes into [`ReadBuf::room`].
    pub(super) fn filled(&mut self, n: usize) {
        self.filled = (self.filled + n).min(self.buf.len());
    }

    /// Appends `bytes` (for callers that hold the bytes already), growing as needed: this path
    /// allocates rather than wait for slices to come back.
    pub(super) fn extend(&mut self, bytes: &[u8]) {
        let need = self.filled + bytes.len();
        if !self.roomy(need, need) {
            self.buf.truncate(self.filled);
            if !self.buf.try_reclaim(bytes.len()) {
                self.grow(need.max(self.alloc));
            }
            let capacity = self.buf.capacity();
            self.buf.resize(capacity, 0);
        }
        self.buf[self.filled..need].copy_from_slice(bytes);
        self.filled = need;
    }

    /// Bytes of memory it keeps alive.
    pub(super) fn held(&self) -> usize {
        self.alloc
    }
}

/// Which read buffers may still have slices waiting in outboxes. A round of lending ends each time
/// no outbox holds a slice any more (in the router, at the latest once every outbox has been
/// written and settled after its reads); a buffer that lent in an earlier round has every slice
/// back.
#[derive(Debug, Default)]
pub(super) struct Lending {
    round: u64,
    /// Slices waiting in all the outboxes together.
    out: usize,
}

impl Lending {
    /// The current round.
    pub(super) fn round(&self) -> u64 {
        self.round
    }

    /// Slices out in all the outboxes together.
    #[cfg(any(test, fuzzing))]
    pub(super) fn out(&self) -> usize {
        self.out
    }

    fn is_current(&self, round: u64) -> bool {
        round == self.round
    }

    /// An outbox's slices went from `before` to `after`.
    pub(super) fn changed(&mut self, before: usize, after: usize) {
        let was = self.out;
        self.out = self.out + after - before;
        if was > 0 && self.out == 0 {
            self.round += 1;
        }
    }
}

/// Frames back to back in an outbox that have one length and one source: a stream of one
/// machine's frames (of one size, as the model's are) costs one entry per run, not one per frame.
#[derive(Clone, Copy, Debug)]
struct Queued {
    /// Each frame's length; a frame is at most 32 + 65,536 bytes.
    len: u32,
    /// How many frames.
    count: u32,
    /// The source machine of data frames; 0 for the router's own frames.
    source: u16,
}

/// Above this much storage an outbox that drains gives memory back; up to it the storage is kept
/// for the next burst, so that steady traffic allocates nothing (it still counts as held, and an
/// empty outbox gives it all back when the memory is full: see `Outbox::release`).
const KEEP_CAPACITY: usize = 256 * 1024;

/// What an outbox keeps alive: its own storage, and the slices of read buffers it holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Footprint {
    /// Bytes of its own storage.
    pub(super) held: usize,
    /// Slices of read buffers.
    pub(super) slices: usize,
}

/// The frames waiting to be written to one connection, in order: first those settled into its
/// own storage, then the slices queued since the last write.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    /// Frames that waited through a write, copied verbatim: one run of bytes.
    stored: VecDeque<u8>,
    /// Frames since the last write: slices of the read buffers they arrived in, or the router's
    /// own frames.
    fresh: VecDeque<Bytes>,
    /// The run being queued from the read being routed (see [`Outbox::extend_run`]): a range of
    /// that read's bytes, not yet a slice.
    run: Option<(usize, usize)>,
    /// The frames waiting, in order, as runs of frames of one length and source: which bytes
    /// complete a frame, and whose frame it is for the books.
    frames: VecDeque<Queued>,
    /// Bytes of the front frame already written (less than one frame's length).
    front_written: usize,
    /// Bytes waiting.
    len: usize,
}

impl Outbox {
    /// Bytes waiting to be written.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queues `frame` (the router's own, or one from a caller that holds the bytes); `source` is
    /// the machine a data frame came from.
    pub(super) fn push_copy(&mut self, frame: &[u8], source: Option<u16>) {
        debug_assert!(
            self.run.is_none(),
            "a run is closed before anything else is queued"
        );
        if self.fresh.is_empty() {
            self.stored.extend(frame);
        } else {
            self.fresh.push_back(Bytes::copy_from_slice(frame));
        }
        self.queued(frame.len(), 1, source);
    }

    /// Queues the `count` frames of `len` bytes each that lie back to back from `offset` in
    /// `read`, the bytes of one read being routed, from machine `source`. Frames that follow the
    /// previous ones in `read` extend the same run; the run becomes a slice when the next frames
    /// do not follow it or at [`Outbox::close_run`]. Returns whether the outbox had no run open
    /// before (the caller closes it once the read is routed).
    pub(super) fn extend_run(
        &mut self,
        read: &Bytes,
        offset: usize,
        len: usize,
        count: u32,
        source: u16,
    ) -> bool {
        let first = self.run.is_none();
        let bytes = len * count as usize;
        match &mut self.run {
            Some((_, end)) if *end == offset => *end += bytes,
            _ => {
                self.close_run(read);
                self.run = Some((offset, offset + bytes));
            }
        }
        self.queued(len, count, Some(source));
        first
    }

    /// Makes the open run a slice of `read`, the read it was queued from.
    pub(super) fn close_run(&mut self, read: &Bytes) {
        if let Some((start, end)) = self.run.take() {
            self.fresh.push_back(read.slice(start..end));
        }
    }

    /// Counts `count` frames of `len` bytes each at the back, from `source` if they are data.
    fn queued(&mut self, len: usize, count: u32, source: Option<u16>) {
        self.len += len * count as usize;
        // A frame is at most 32 + 65,536 bytes.
        let (len, source) = (len as u32, source.unwrap_or(0));
        match self.frames.back_mut() {
            Some(back)
                if back.len == len && back.source == source && back.count <= u32::MAX - count =>
            {
                back.count += count;
            }
            _ => self.frames.push_back(Queued { len, count, source }),
        }
    }

    /// What waits, in order, as slices for a vectored write: the stored run (at most two slices,
    /// where its ring wraps), then each slice queued since.
    pub(super) fn slices(&self) -> impl Iterator<Item = &[u8]> {
        let (a, b) = self.stored.as_slices();
        let fresh = self.fresh.iter().map(|b| &b[..]);
        [a, b].into_iter().chain(fresh).filter(|s| !s.is_empty())
    }

    /// Takes `n` written bytes off the front, calling `delivered(source, frames)` for the data
    /// frames now written in full, a run of frames from one source at a time.
    pub(super) fn written(&mut self, n: usize, mut delivered: impl FnMut(u16, u64)) {
        let n = n.min(self.len);
        self.len -= n;
        let from_stored = n.min(self.stored.len());
        self.stored.drain(..from_stored);
        let mut left = n - from_stored;
        while left > 0 {
            let Some(front) = self.fresh.front_mut() else {
                break;
            };
            if front.len() <= left {
                left -= front.len();
                self.fresh.pop_front();
            } else {
                front.advance(left);
                left = 0;
            }
        }
        let mut done = self.front_written + n;
        while let Some(front) = self.frames.front_mut() {
            let len = front.len as usize;
            let whole = (done / len).min(front.count as usize) as u32;
            if whole > 0 && front.source != 0 {
                delivered(front.source, whole.into());
            }
            done -= whole as usize * len;
            if whole < front.count {
                // The run goes on past what was written: `done` is less than a frame of it.
                front.count -= whole;
                break;
            }
            self.frames.pop_front();
        }
        self.front_written = done;
        self.give_back();
    }

    /// The socket has taken what it would: the slices still waiting are copied into the outbox's
    /// own storage, so that they no longer keep the read buffers they point into alive.
    pub(super) fn settle(&mut self) {
        debug_assert!(self.run.is_none());
        for slice in self.fresh.drain(..) {
            self.stored.extend(&slice[..]);
        }
    }

    /// Drops every frame not begun, calling `dropped(source, frames)` for the data frames among
    /// them; a frame partly written stays, so that the stream stays whole. Returns how many bytes
    /// went.
    pub(super) fn drop_unbegun(&mut self, mut dropped: impl FnMut(u16, u64)) -> usize {
        self.settle();
        let begun = self.front_written > 0;
        let keep_bytes = self
            .frames
            .front()
            .filter(|_| begun)
            .map_or(0, |f| f.len as usize - self.front_written);
        for (i, f) in self.frames.iter().enumerate() {
            let unbegun = f.count - u32::from(i == 0 && begun);
            if f.source != 0 && unbegun > 0 {
                dropped(f.source, unbegun.into());
            }
        }
        let gone = self.len - keep_bytes;
        self.frames.truncate(usize::from(begun));
        if let Some(front) = self.frames.front_mut() {
            front.count = 1;
        }
        self.stored.truncate(keep_bytes);
        self.len = keep_bytes;
        self.give_back();
        gone
    }

    /// The sources of the data frames still waiting, with how many frames, a run at a time (for
    /// the books when the connection goes).
    pub(super) fn sources(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.frames
            .iter()
            .filter(|f| f.source != 0)
            .map(|f| (f.source, f.count.into()))
    }

    /// Frees storage an emptied (or much drained) outbox no longer needs.
    fn give_back(&mut self) {
        let cap = self.stored.capacity();
        if cap > KEEP_CAPACITY && self.stored.len() <= cap / 4 {
            self.stored
                .shrink_to((self.stored.len() * 2).max(KEEP_CAPACITY));
            let frames = self.frames.len();
            self.frames.shrink_to((frames * 2).max(KEEP_CAPACITY / 32));
        }
    }

    /// Gives back all the storage of an empty outbox.
    pub(super) fn release(&mut self) {
        if self.is_empty() {
            *self = Outbox::default();
        }
    }

    /// What it keeps alive: its own storage (the stored run, the frame lengths and the slots for
    /// slices), and how many slices of read buffers it holds (their memory is the read buffers').
    pub(super) fn footprint(&self) -> Footprint {
        let held = self.stored.capacity()
            + self.frames.capacity() * std::mem::size_of::<Queued>()
            + self.fresh.capacity() * std::mem::size_of::<Bytes>();
        Footprint {
            held,
            slices: self.fresh.len(),
        }
    }
}

#[cfg(test)]
mod tests;
