//! The oracle's driver of reads, as the router drives them, and its checks of what may end a
//! connection: bytes wait in a peer's socket until the switchboard wants the connection read
//! ([`Switchboard::wants_read`]), are read straight into its read buffer
//! ([`Switchboard::read_buffer`], as much as there is room for), and the end of the stream is
//! seen only after them. So a connection the switchboard stopped reading keeps its bytes, and
//! must not be refused for not sending them.

use super::{Harness, Switchboard};
use crate::core::route;
use crate::core::switchboard::ConnId;
use crate::core::wire::{self, Kind, Parsed};

/// The beginning of the reason of a partial-frame refusal.
const STALL: &str = "a partial frame (";

impl Harness {
    /// The peer sends `bytes` into its socket (nothing once it has shut its side).
    pub(in crate::core::switchboard) fn send(&mut self, conn: ConnId, bytes: &[u8]) {
        let peer = &mut self.peers[conn.0];
        if peer.closed.is_none() && !peer.eof {
            peer.sent.extend_from_slice(bytes);
        }
    }

    /// The peer sends the rest of the frame it split last, then `frame` up to `at`, keeping the
    /// rest for its next frame.
    pub(in crate::core::switchboard) fn send_split(
        &mut self,
        conn: ConnId,
        frame: &[u8],
        at: usize,
    ) {
        let tail = std::mem::take(&mut self.peers[conn.0].tail);
        self.send(conn, &tail);
        self.send(conn, &frame[..at]);
        self.peers[conn.0].tail = frame[at..].to_vec();
    }

    /// Reads every connection the switchboard wants read, as long as its socket has bytes (or an
    /// end of stream not yet seen) and its read buffer has room.
    pub(in crate::core::switchboard) fn drive(&mut self) {
        loop {
            let mut progress = false;
            for i in 0..self.peers.len() {
                while self.read_once(ConnId(i)) {
                    progress = true;
                }
            }
            if !progress {
                return self.observe_stalls();
            }
        }
    }

    /// One read of `conn`, if the switchboard wants it read: returns whether it read anything (or
    /// saw the end of the stream).
    fn read_once(&mut self, conn: ConnId) -> bool {
        if !self.open(conn) || !self.sb.wants_read(conn) {
            return false;
        }
        let peer = &mut self.peers[conn.0];
        let (read, unread) = (peer.read, peer.sent.len() - peer.read);
        if unread == 0 {
            if !peer.eof || peer.eof_seen {
                return false;
            }
            peer.eof_seen = true;
            let fate = self.sb.handle_eof(conn);
            self.apply(conn, fate);
            return true;
        }
        let others = |sb: &Switchboard| -> Vec<(bool, bool)> {
            (0..self.peers.len())
                .filter(|&i| i != conn.0)
                .map(|i| (sb.is_open(ConnId(i)), sb.is_closing(ConnId(i))))
                .collect()
        };
        let before = others(&self.sb);
        let sent_before = self.sent();
        let peer = &self.peers[conn.0];
        let (said_hello, said_bye) = (peer.sent_hello, peer.sent_bye);
        let closing_before = self.sb.is_closing(conn);
        let n = match self.sb.read_buffer(conn) {
            Some(buf) => {
                let n = buf.len().min(unread);
                assert!(n > 0, "a read buffer with no room");
                buf[..n].copy_from_slice(&self.peers[conn.0].sent[read..read + n]);
                self.sb.handle_filled(conn, n, self.now);
                n
            }
            // Slices of its read buffer are out: the router reads it after this round's writes.
            None if self.patient => return false,
            // A driver that holds the bytes already hands them over.
            None => {
                let bytes = &self.peers[conn.0].sent[read..];
                self.sb.handle_read(conn, bytes, self.now);
                unread
            }
        };
        assert_eq!(
            before,
            others(&self.sb),
            "input on one connection changed another's fate"
        );
        self.peers[conn.0].read += n;
        let frames = self.parse_sent(conn);
        self.drain_events();
        let taken = if closing_before || said_bye {
            &[][..]
        } else {
            &frames[..]
        };
        self.check_routed(conn, &sent_before, taken, said_hello);
        true
    }

    /// Notes, for every connection, whether the switchboard wants it read while it holds a partial
    /// frame (what it read ends inside a frame), and since when without a break or a frame
    /// completed.
    pub(in crate::core::switchboard) fn observe_stalls(&mut self) {
        for i in 0..self.peers.len() {
            let conn = ConnId(i);
            let waits = self.open(conn) && !self.sb.is_closing(conn) && self.sb.wants_read(conn);
            let peer = &mut self.peers[i];
            let partial = !peer.sent_invalid && peer.sent_parsed < peer.read;
            peer.stall_streak = match peer.stall_streak {
                _ if !(waits && partial) => None,
                Some((since, frames)) if frames == peer.frames_read => Some((since, frames)),
                _ => Some((self.now, peer.frames_read)),
            };
        }
    }

    /// A connection stopped from reading is never refused for not sending: a partial-frame
    /// refusal of `conn` comes only after a whole stall timeout in which the switchboard wanted it
    /// read, and it held a partial frame and completed none.
    pub(super) fn check_stall_refusal(&self, conn: ConnId, reason: &str) {
        if !reason.starts_with(STALL) {
            return;
        }
        let stall = self.sb.options().stall_timeout_ns;
        let since = self.peers[conn.0].stall_streak.map(|(since, _)| since);
        assert!(
            since.is_some_and(|t| self.now >= t.saturating_add(stall)),
            "connection {} refused ({reason}) though it was read with a partial frame only since \
             {since:?} (now {}, stall timeout {stall} ns)",
            conn.0,
            self.now
        );
    }

    /// Every byte a peer sent is read, or its connection was refused, or the driver closed it:
    /// the switchboard never ends a connection whose bytes wait unread in its socket otherwise.
    pub(super) fn check_closed_unread(&self, conn: ConnId) {
        let peer = &self.peers[conn.0];
        let unread = peer.sent.len() - peer.read;
        assert!(
            unread == 0 || peer.refused || peer.driver_closed,
            "connection {} closed with {unread} bytes its peer sent never read, and no refusal",
            conn.0
        );
    }

    /// Conservation of data frames for every ordered pair of machines: each frame routed is
    /// delivered, booked undeliverable, still waiting in the receiver's outbox, dropped by the
    /// fault plan or still held by it.
    pub(in crate::core::switchboard) fn check_conservation(&self) {
        let n = self.sb.options().machines;
        let mut waiting = vec![0u64; usize::from(n) * usize::from(n)];
        for (&i, &dest) in &self.ids {
            let Some(c) = self.sb.conn(ConnId(i)) else {
                continue;
            };
            for (source, frames) in c.outbox.sources() {
                waiting[usize::from(source - 1) * usize::from(n) + usize::from(dest - 1)] += frames;
            }
        }
        for source in 1..=n {
            for dest in 1..=n {
                let books = self.sb.pairs().books(source, dest);
                let wait =
                    waiting[usize::from(source - 1) * usize::from(n) + usize::from(dest - 1)];
                let weather = books.dropped + books.still_held();
                assert_eq!(
                    books.sent,
                    books.delivered + books.undeliverable + wait + weather,
                    "{source} -> {dest}: routed is not delivered + undeliverable + waiting + \
                     dropped + held ({books:?}, {wait} waiting)"
                );
            }
        }
    }

    /// Frames routed so far, for every ordered pair, by `(source - 1) * n + dest - 1`.
    fn sent(&self) -> Vec<u64> {
        let n = self.sb.options().machines;
        let pairs = (1..=n).flat_map(|s| (1..=n).map(move |d| (s, d)));
        pairs
            .map(|(s, d)| self.sb.pairs().books(s, d).sent)
            .collect()
    }

    /// What one input routed is exactly the route of the `frames` the switchboard took (none if
    /// it was closing or had said BYE), up to the first one refused or a BYE: each data frame from
    /// this machine once for every machine its route names. So a connection still open routed
    /// every valid frame of the input, and a refused one exactly those before the refusal.
    /// `said_hello`: the connection had sent a HELLO before them.
    fn check_routed(&self, conn: ConnId, before: &[u64], frames: &[Vec<u8>], mut said_hello: bool) {
        let n = usize::from(self.sb.options().machines);
        let routed: Vec<u64> = self.sent().iter().zip(before).map(|(a, b)| a - b).collect();
        let mut sum = vec![0u64; n * n];
        let id = self.sb.machine_id(conn);
        for bytes in frames {
            let Ok(Parsed::Complete { frame, .. }) = wire::parse(bytes) else {
                break;
            };
            let (kind, source, dest) = (frame.kind(), frame.source(), frame.dest());
            if kind == Kind::Hello && !said_hello {
                // It registers (and is routed once welcomed, so `id` tells) or it is refused.
                said_hello = true;
                continue;
            }
            if !kind.is_data() {
                break;
            }
            let targets = route::targets(kind, source, dest, n as u16);
            let (Some(targets), true) = (targets, id == Some(source)) else {
                break;
            };
            for target in targets.iter(n as u16) {
                sum[(usize::from(source) - 1) * n + usize::from(target) - 1] += 1;
            }
        }
        assert_eq!(
            routed, sum,
            "an input routed {routed:?}, not every valid frame it took up to a refusal or BYE"
        );
    }
}
