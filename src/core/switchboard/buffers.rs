//! A connection's two buffers: the read buffer the driver reads straight into, and the outbox of
//! frames waiting to be written, each counted by the memory it keeps alive.
//!
//! A frame is forwarded as the bytes that arrived, copied verbatim from the sender's read buffer
//! into each receiver's outbox (never re-encoded). It used to be queued as a `Bytes` slice of the
//! read buffer, which kept that whole buffer alive: an empty frame waiting for a machine that did
//! not read pinned the 64 KiB it arrived with (issue 10). A copy holds exactly its own bytes, a run
//! of frames for one receiver is one contiguous slice for the socket, and the read buffer is
//! reused for the next read.

use std::collections::VecDeque;

/// A read buffer: a fixed, initialised allocation with the unparsed bytes at `start..end`.
#[derive(Debug, Default)]
pub(super) struct ReadBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReadBuf {
    /// The bytes received and not yet taken as frames.
    pub(super) fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub(super) fn len(&self) -> usize {
        self.end - self.start
    }

    pub(super) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Takes `n` bytes off the front.
    pub(super) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    pub(super) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Room for the next read: at least `size` bytes of buffer (a frame needing more gets what it
    /// needs, `need`), with the unparsed bytes moved to the front when the room behind them runs
    /// short. The buffer is allocated on first use and only grows.
    pub(super) fn room(&mut self, size: usize, need: usize) -> &mut [u8] {
        let size = size.max(need).max(1);
        if self.buf.len() < size {
            self.buf.resize(size, 0);
        }
        let short =
            self.buf.len() - self.end < (size / 4).max(1) || self.start + need > self.buf.len();
        if short && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        &mut self.buf[self.end..]
    }

    /// The driver read `n` bytes into [`ReadBuf::room`].
    pub(super) fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }

    /// Appends `bytes` (for callers that hold the bytes already), growing as needed.
    pub(super) fn extend(&mut self, bytes: &[u8]) {
        let need = self.len() + bytes.len();
        let size = self.buf.len().max(need);
        self.room(size, need)[..bytes.len()].copy_from_slice(bytes);
        self.filled(bytes.len());
    }

    /// Bytes of memory it keeps alive.
    pub(super) fn held(&self) -> usize {
        self.buf.capacity()
    }
}

/// One frame in an outbox: its length, and the machine it came from if it is a data frame.
#[derive(Clone, Copy, Debug)]
struct Queued {
    len: u32,
    /// The source machine of a data frame; 0 for the router's own frames.
    source: u16,
}

/// Above this much storage an outbox that drains gives memory back; up to it the storage is kept
/// for the next burst, so that steady traffic allocates nothing (it still counts as held, and an
/// empty outbox gives it all back when the memory is full: see `Outbox::release`).
const KEEP_CAPACITY: usize = 256 * 1024;

/// The frames waiting to be written to one connection, as one run of bytes.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    bytes: VecDeque<u8>,
    frames: VecDeque<Queued>,
    /// Bytes of the front frame already written.
    front_written: usize,
}

impl Outbox {
    /// Bytes waiting to be written.
    pub(super) fn len(&self) -> usize {
        self.bytes.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Queues a copy of `frame`; `source` is the machine a data frame came from.
    pub(super) fn push(&mut self, frame: &[u8], source: Option<u16>) {
        self.bytes.extend(frame);
        self.frames.push_back(Queued {
            // A frame is at most 32 + 65,536 bytes.
            len: frame.len() as u32,
            source: source.unwrap_or(0),
        });
    }

    /// What waits, as at most two slices (the run wraps around the ring at most once).
    pub(super) fn slices(&self) -> (&[u8], &[u8]) {
        self.bytes.as_slices()
    }

    /// Takes `n` written bytes off the front, calling `delivered(source)` for each data frame now
    /// written in full.
    pub(super) fn written(&mut self, n: usize, mut delivered: impl FnMut(u16)) {
        let n = n.min(self.bytes.len());
        self.bytes.drain(..n);
        let mut done = self.front_written + n;
        while let Some(&front) = self.frames.front() {
            let len = front.len as usize;
            if done < len {
                break;
            }
            done -= len;
            self.frames.pop_front();
            if front.source != 0 {
                delivered(front.source);
            }
        }
        self.front_written = done;
        self.give_back();
    }

    /// Drops every frame not begun, calling `dropped(source)` for each data frame among them; a
    /// frame partly written stays, so that the stream stays whole. Returns how many bytes went.
    pub(super) fn drop_unbegun(&mut self, mut dropped: impl FnMut(u16)) -> usize {
        let keep_frames = usize::from(self.front_written > 0);
        let keep_bytes = self
            .frames
            .front()
            .filter(|_| keep_frames == 1)
            .map_or(0, |f| f.len as usize - self.front_written);
        for f in self.frames.iter().skip(keep_frames) {
            if f.source != 0 {
                dropped(f.source);
            }
        }
        let gone = self.bytes.len() - keep_bytes;
        self.frames.truncate(keep_frames);
        self.bytes.truncate(keep_bytes);
        self.give_back();
        gone
    }

    /// The sources of the data frames still waiting (for the books when the connection goes).
    pub(super) fn sources(&self) -> impl Iterator<Item = u16> + '_ {
        self.frames.iter().map(|f| f.source).filter(|&s| s != 0)
    }

    /// Frees storage an emptied (or much drained) outbox no longer needs.
    fn give_back(&mut self) {
        let cap = self.bytes.capacity();
        if cap > KEEP_CAPACITY && self.bytes.len() <= cap / 4 {
            self.bytes
                .shrink_to((self.bytes.len() * 2).max(KEEP_CAPACITY));
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

    /// Bytes of memory it keeps alive: the run of bytes and the frame lengths.
    pub(super) fn held(&self) -> usize {
        self.bytes.capacity() + self.frames.capacity() * std::mem::size_of::<Queued>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outbox_counts_frames_written_in_full_and_gives_memory_back() {
        let mut out = Outbox::default();
        let big = vec![7u8; 1 << 20];
        out.push(&big, Some(2));
        out.push(&[1, 2, 3], None);
        out.push(&[4; 10], Some(3));
        let mut got = Vec::new();
        out.written((1 << 20) - 1, |s| got.push(s));
        assert!(got.is_empty());
        out.written(1 + 3 + 5, |s| got.push(s));
        assert_eq!(got, [2]);
        assert_eq!(out.len(), 5);
        assert!(out.held() < 300 * 1024, "{}", out.held());
        assert_eq!(
            out.drop_unbegun(|s| got.push(s)),
            0,
            "the begun frame stays"
        );
        out.written(5, |s| got.push(s));
        assert_eq!(got, [2, 3]);
        assert!(out.is_empty());
    }

    #[test]
    fn dropping_keeps_the_rest_of_a_begun_frame() {
        let mut out = Outbox::default();
        out.push(&[1; 8], Some(1));
        out.push(&[2; 8], Some(2));
        out.written(3, |_| panic!("nothing complete"));
        let mut dropped = Vec::new();
        assert_eq!(out.drop_unbegun(|s| dropped.push(s)), 8);
        assert_eq!((dropped, out.len()), (vec![2], 5));
        assert_eq!(out.slices().0, &[1; 5]);
    }

    #[test]
    fn a_read_buffer_moves_a_partial_frame_to_the_front_and_grows_for_a_big_one() {
        let mut buf = ReadBuf::default();
        let room = buf.room(16, 0);
        assert_eq!(room.len(), 16);
        room[..16].copy_from_slice(&[9; 16]);
        buf.filled(16);
        buf.consume(12);
        assert_eq!(buf.data(), &[9; 4]);
        assert_eq!(buf.room(16, 40).len(), 36);
        assert_eq!(buf.data(), &[9; 4]);
        buf.extend(&[1; 100]);
        assert_eq!(buf.len(), 104);
    }
}
