//! The fuzz and property-test oracle: a model driver that runs the switchboard in process on
//! connections with no sockets behind them, and checks its promises after every step.

use std::collections::BTreeMap;

mod driver;
mod flow;
mod input;

use super::{ConnId, Event, Fate, Options, Report, Switchboard};
use crate::core::route;
use crate::core::wire::{self, Header, Kind, MAX_PAYLOAD_LEN, Parsed};
use input::{Input, frame};

/// Nanoseconds in a millisecond.
const MS: u64 = 1_000_000;
/// An arbitrary start time, far from 0.
pub(super) const T0: u64 = 1_700_000_000_000_000_000;

/// One connection as the model driver sees it: what its peer sent and what it received.
#[derive(Debug, Default)]
pub(super) struct Peer {
    /// Every byte the peer sent (its socket accepted them).
    pub(super) sent: Vec<u8>,
    /// How many of them the switchboard read (the rest wait in the socket).
    pub(super) read: usize,
    /// The peer shut its side after `sent` (the driver sees it once it has read them all).
    pub(super) eof: bool,
    /// The driver saw the end of the stream and told the switchboard.
    eof_seen: bool,
    /// The rest of a frame the fuzzer split, sent with the next frame to this connection.
    tail: Vec<u8>,
    /// Complete frames in what the switchboard read.
    frames_read: usize,
    /// Since when (and at how many `frames_read`) the switchboard has wanted it read and held a
    /// partial frame, at every look since: a stall may refuse it only a stall timeout later.
    stall_streak: Option<(u64, usize)>,
    /// It was refused (an ERROR named it), or the driver closed it.
    refused: bool,
    driver_closed: bool,
    /// Every byte written to the peer.
    pub(super) received: Vec<u8>,
    /// The data frames of `sent`, up to its first invalid frame.
    arrived: Vec<Vec<u8>>,
    sent_parsed: usize,
    sent_invalid: bool,
    /// A complete HELLO (another is refused), a complete BYE (nothing after it is routed) sent.
    sent_hello: bool,
    sent_bye: bool,
    received_parsed: usize,
    /// Frames written to the peer in full, in order.
    pub(super) frames: Vec<Vec<u8>>,
    /// The switchboard is done with it, for this reason.
    pub(super) closed: Option<String>,
    /// Its write side was shut.
    pub(super) write_shut: bool,
    name: Option<String>,
}

/// A model driver of one switchboard, on virtual time.
pub(super) struct Harness {
    pub(super) sb: Switchboard,
    pub(super) now: u64,
    pub(super) peers: Vec<Peer>,
    /// Ids by connection, once welcomed.
    pub(super) ids: BTreeMap<usize, u16>,
    /// Per (from connection, to connection): how far into the sender's arrived frames the
    /// forwarded ones have been matched.
    cursors: BTreeMap<(usize, usize), usize>,
    /// Per (from connection, to connection): frames whose route names `to` that the cursor went
    /// past, never written to it (each must be booked undeliverable).
    skipped: BTreeMap<(usize, usize), u64>,
    pub(super) events: Vec<Event>,
    /// Reads wait for a read buffer's slices to come back, as the router's do (else bytes are
    /// handed over with `handle_read`, so that a test need not run a round between inputs).
    pub(super) patient: bool,
}

impl Harness {
    pub(super) fn new(opts: Options) -> Harness {
        Harness {
            sb: Switchboard::new(opts),
            now: T0,
            peers: Vec::new(),
            ids: BTreeMap::new(),
            cursors: BTreeMap::new(),
            skipped: BTreeMap::new(),
            events: Vec::new(),
            patient: false,
        }
    }

    pub(super) fn connect(&mut self) -> ConnId {
        let conn = ConnId(self.peers.len());
        self.sb
            .handle_connect(conn, format!("127.0.0.1:{}", 40_000 + conn.0), self.now);
        self.peers.push(Peer::default());
        conn
    }

    fn open(&self, conn: ConnId) -> bool {
        self.peers[conn.0].closed.is_none()
    }

    /// The peer sends `bytes` and the driver reads what the switchboard wants read (see
    /// `driver`). (The unit tests' shorthand; the fuzz loop sends and drives apart.)
    #[cfg(test)]
    pub(super) fn feed(&mut self, conn: ConnId, bytes: &[u8]) {
        self.send(conn, bytes);
        self.drive();
    }

    /// The peer shuts its side; the driver sees it once it has read everything before it.
    pub(super) fn eof(&mut self, conn: ConnId) {
        if self.open(conn) {
            self.peers[conn.0].eof = true;
            self.drive();
        }
    }

    /// The socket takes at most `max` bytes of what waits.
    pub(super) fn write(&mut self, conn: ConnId, max: usize) {
        if !self.open(conn) || self.peers[conn.0].write_shut {
            return;
        }
        let mut taken = Vec::new();
        for slice in self.sb.poll_transmit(conn) {
            let room = max - taken.len();
            taken.extend_from_slice(&slice[..slice.len().min(room)]);
            if taken.len() == max {
                break;
            }
        }
        self.sb.handle_written(conn, taken.len(), self.now);
        self.peers[conn.0].received.extend_from_slice(&taken);
        self.parse_received(conn);
    }

    /// Writes everything that waits on every connection.
    pub(super) fn flush(&mut self) {
        for i in 0..self.peers.len() {
            while self.open(ConnId(i)) && self.sb.wants_write(ConnId(i)) {
                self.write(ConnId(i), usize::MAX);
            }
        }
    }

    /// The driver closes `conn` (a failed write, say).
    pub(super) fn close(&mut self, conn: ConnId, reason: &str) {
        if !self.open(conn) {
            return;
        }
        self.peers[conn.0].driver_closed = true;
        self.sb.handle_close(conn, reason.into());
        self.apply(conn, Fate::Close);
    }

    /// What the driver does after every batch of events: reads, timeouts, then each
    /// connection's fate.
    pub(super) fn round(&mut self) {
        self.drive();
        self.observe_stalls();
        self.sb.handle_timeout(self.now);
        for i in 0..self.peers.len() {
            if self.open(ConnId(i)) {
                let fate = self.sb.poll_fate(ConnId(i), self.now);
                self.apply(ConnId(i), fate);
            }
        }
        self.drain_events();
        self.observe_stalls();
        self.check_flow_control();
        self.check_conservation();
    }

    fn apply(&mut self, conn: ConnId, fate: Fate) {
        match fate {
            Fate::Keep => {}
            Fate::ShutWrite => {
                let peer = &mut self.peers[conn.0];
                assert!(!peer.write_shut, "ShutWrite asked twice");
                assert!(!self.sb.wants_write(conn), "ShutWrite with frames waiting");
                peer.write_shut = true;
            }
            Fate::Close => {
                assert!(!self.sb.is_open(conn), "Close for a connection still open");
            }
        }
        self.drain_events();
    }

    fn drain_events(&mut self) {
        while let Some(event) = self.sb.poll_event() {
            match &event {
                Event::Registered { conn, name, .. } => {
                    self.peers[conn.0].name = Some(name.clone())
                }
                Event::Closed { conn, closed } => {
                    self.check_closed_unread(*conn);
                    self.peers[conn.0].closed = Some(closed.reason.clone());
                }
                Event::Refused { conn, reason, .. } => {
                    self.check_stall_refusal(*conn, reason);
                    self.peers[conn.0].refused = true;
                }
                Event::Started { names, .. } => {
                    for (i, peer) in self.peers.iter().enumerate() {
                        let Some(name) = &peer.name else { continue };
                        if let Some(index) = names.iter().position(|n| n == name) {
                            if self.sb.machine_id(ConnId(i)) == Some(index as u16 + 1) {
                                self.ids.insert(i, index as u16 + 1);
                            }
                        }
                    }
                    let mut sorted = names.clone();
                    sorted.sort();
                    assert_eq!(&sorted, names, "ids are not given by sorted name");
                }
                _ => {}
            }
            self.events.push(event);
        }
    }

    /// Parses what the switchboard read of what the peer sent since the last call: returns the
    /// frames that completed, in order (up to the first invalid one, where parsing stops for good).
    fn parse_sent(&mut self, conn: ConnId) -> Vec<Vec<u8>> {
        let max = self.sb.options().max_payload;
        let peer = &mut self.peers[conn.0];
        let mut frames = Vec::new();
        while !peer.sent_invalid {
            match wire::parse_with_limit(&peer.sent[peer.sent_parsed..peer.read], max) {
                Ok(Parsed::Complete { frame, len }) => {
                    peer.frames_read += 1;
                    let at = peer.sent_parsed;
                    let bytes = peer.sent[at..at + len].to_vec();
                    match frame.kind() {
                        kind if kind.is_data() => peer.arrived.push(bytes.clone()),
                        Kind::Hello => peer.sent_hello = true,
                        Kind::Bye => peer.sent_bye = true,
                        _ => {}
                    }
                    frames.push(bytes);
                    peer.sent_parsed += len;
                }
                Ok(Parsed::Incomplete { .. }) => break,
                Err(_) => peer.sent_invalid = true,
            }
        }
        frames
    }

    /// Checks every frame newly written in full to `conn`.
    fn parse_received(&mut self, conn: ConnId) {
        loop {
            let peer = &self.peers[conn.0];
            let rest = &peer.received[peer.received_parsed..];
            let (kind, header, len) = match wire::parse(rest) {
                Ok(Parsed::Complete { frame, len }) => (frame.kind(), frame.header(), len),
                Ok(Parsed::Incomplete { .. }) => return,
                Err(e) => panic!("the router wrote an invalid frame: {e}"),
            };
            if let Some(last) = peer.frames.last() {
                assert_ne!(
                    last[3],
                    Kind::Error.code(),
                    "a frame was written after an ERROR"
                );
            }
            let bytes = rest[..len].to_vec();
            if kind.is_data() {
                self.check_forwarded(conn, header, &bytes);
            }
            let peer = &mut self.peers[conn.0];
            peer.received_parsed += len;
            peer.frames.push(bytes);
        }
    }

    /// A data frame reached `to`: it arrived, byte for byte, from the machine it names as its
    /// source, that machine was welcomed, and the route names `to`'s machine.
    fn check_forwarded(&mut self, to: ConnId, header: Header, bytes: &[u8]) {
        let n = self.sb.options().machines;
        let dest = self.ids.get(&to.0).copied();
        let dest = dest.unwrap_or_else(|| panic!("data written to a connection never welcomed"));
        let from = self
            .ids
            .iter()
            .find(|&(_, &id)| id == header.source)
            .map(|(&i, _)| i)
            .unwrap_or_else(|| {
                panic!(
                    "data from machine {} that was never welcomed",
                    header.source
                )
            });
        assert_ne!(from, to.0, "a frame went back to its sender");
        let targets = route::targets(header.kind, header.source, header.dest, n);
        let named = targets.is_some_and(|t| t.iter(n).any(|id| id == dest));
        assert!(
            named,
            "{header:?} reached machine {dest}, which its route does not name"
        );
        let cursor = self.cursors.entry((from, to.0)).or_default();
        let arrived = &self.peers[from].arrived;
        let Some(offset) = arrived[*cursor..].iter().position(|f| f == bytes) else {
            panic!(
                "machine {dest} got a frame machine {} did not send",
                header.source
            );
        };
        let names_dest = |f: &Vec<u8>| match wire::parse(f) {
            Ok(Parsed::Complete { frame, .. }) => {
                route::targets(frame.kind(), frame.source(), frame.dest(), n)
                    .is_some_and(|t| t.iter(n).any(|id| id == dest))
            }
            _ => false,
        };
        let passed = arrived[*cursor..*cursor + offset]
            .iter()
            .filter(|f| names_dest(f))
            .count() as u64;
        *cursor += offset + 1;
        let skipped = self.skipped.entry((from, to.0)).or_default();
        *skipped += passed;
        let books = self.sb.pairs().books(header.source, dest);
        let lost = books.undeliverable + books.dropped;
        assert!(
            *skipped <= lost,
            "machine {dest} never got {skipped} frames from machine {} that came before one it \
             got, and only {lost} are booked undeliverable or dropped",
            header.source
        );
    }

    /// Every pair's books: delivered is what the peers got, and nothing is counted twice.
    pub(super) fn check_books(&self, everything_closed: bool) {
        let n = self.sb.options().machines;
        let mut got: BTreeMap<(u16, u16), u64> = BTreeMap::new();
        for (i, peer) in self.peers.iter().enumerate() {
            let Some(&dest) = self.ids.get(&i) else {
                continue;
            };
            for frame in &peer.frames {
                if let Ok(Parsed::Complete { frame, .. }) = wire::parse(frame) {
                    if frame.kind().is_data() {
                        *got.entry((frame.source(), dest)).or_default() += 1;
                    }
                }
            }
        }
        for source in 1..=n {
            for dest in 1..=n {
                let books = self.sb.pairs().books(source, dest);
                let delivered = got.get(&(source, dest)).copied().unwrap_or(0);
                assert_eq!(books.delivered, delivered, "delivered {source} -> {dest}");
                let accounted = books.delivered + books.undeliverable + books.dropped;
                assert!(accounted + books.still_held() <= books.sent, "{books:?}");
                if everything_closed {
                    assert!(
                        books.balance(),
                        "{source} -> {dest} does not balance: {books:?}"
                    );
                }
            }
        }
    }

    /// The driver's end: everything open is closed; then the books must balance.
    pub(super) fn finish(&mut self) {
        for i in 0..self.peers.len() {
            self.close(ConnId(i), "the router stopped");
        }
        assert_eq!(self.sb.open_connections(), 0);
        assert_eq!(self.sb.report().closed.len(), self.peers.len());
        self.check_books(true);
    }
}

/// The fuzz and property-test oracle: drives a switchboard with the operations `data` encodes
/// (connections, bytes split anywhere, valid and invalid frames, ends of stream, partial writes,
/// virtual time advancing with a timeout check after every step, stops), reading a connection
/// only while the switchboard wants it read, into its read buffer, as the router does, with small
/// limits and timeouts so that flow control, the memory limit and stalls come within a few
/// operations. It checks after every step that it does not panic, that a data frame is forwarded
/// only if it arrived valid from a welcomed machine, byte for byte, to machines its route names,
/// that each read routes its accepted frames to exactly those machines, that input on one
/// connection never changes another's fate, that delivered counts are what the peers got (with
/// a small fault plan in force from any step on: delays, partitions that hold or drop); that a
/// connection the switchboard stopped reading is never refused for not sending (a partial-frame
/// refusal comes only after a whole stall timeout of being wanted for reading with a partial
/// frame); that every byte a peer sent is read unless its connection was refused or closed by
/// the driver; that for every ordered pair routed = delivered + undeliverable + waiting +
/// dropped + held, and a frame a machine never got before one it got is booked undeliverable or
/// dropped; and at the end that every pair's books balance.
///
/// Returns what the switchboard reported at the end, so tests can see what a seed exercised.
///
/// # Panics
///
/// With a message naming the broken promise, if the switchboard breaks one.
pub fn check_switchboard_properties(data: &[u8]) -> Report {
    let mut input = Input(data);
    let machines = 2 + u16::from(input.byte().unwrap_or(0) % 3);
    let max_payload = match input.byte().unwrap_or(0) {
        0..=127 => MAX_PAYLOAD_LEN,
        b => u32::from(b),
    };
    let mut h = Harness::new(Options {
        machines,
        seed: 5,
        max_payload,
        stall_timeout_ns: 500 * MS,
        start_delay_ns: 200 * MS,
        stop_grace_ns: 1_000 * MS,
        hello_timeout_ns: 2_000 * MS,
        max_unregistered: 6,
        // Small enough that flow control and the memory limit come into play often.
        outbox_limit: 256,
        buffer_limit: 4096,
        reader_timeout_ns: 3_000 * MS,
    });
    h.patient = true;
    let mut steps = 0;
    while let Some(op) = input.byte() {
        steps += 1;
        if steps > 4_000 {
            break;
        }
        let count = h.peers.len();
        let conn = |b: u8| ConnId(usize::from(b) % count.max(1));
        match op % 10 {
            0 if count < 8 => {
                h.connect();
            }
            _ if count == 0 => continue,
            1 => {
                let (c, len) = (conn(input.byte().unwrap_or(0)), input.u16().unwrap_or(0));
                let bytes = input.bytes(usize::from(len)).to_vec();
                h.send(c, &bytes);
            }
            2 | 0 => {
                let c = conn(input.byte().unwrap_or(0));
                let (pick, arg, split) = (
                    input.byte().unwrap_or(0),
                    input.byte().unwrap_or(0),
                    input.byte().unwrap_or(0),
                );
                let bytes = frame(pick, arg, h.sb.machine_id(c), machines);
                // The peer sends the rest of the last data frame it split, then a data frame up
                // to `split` (the router reads them in one read: a read may end inside a frame,
                // the one that stops a sender too), or any other frame whole.
                let data = Kind::from_code(bytes[3]).is_some_and(Kind::is_data);
                let at = if data {
                    usize::from(split) % (bytes.len() + 1)
                } else {
                    bytes.len()
                };
                h.send_split(c, &bytes, at);
            }
            3 => {
                let c = conn(input.byte().unwrap_or(0));
                h.send_split(c, &[], 0);
                h.eof(c);
            }
            4 => {
                let c = conn(input.byte().unwrap_or(0));
                let max = usize::from(input.u16().unwrap_or(0));
                h.write(c, if max == 0 { usize::MAX } else { max });
            }
            5 => h.now += u64::from(input.byte().unwrap_or(0)) * 10 * MS,
            6 => {
                h.sb.handle_stop("SIGTERM", h.now);
            }
            7 => h.close(conn(input.byte().unwrap_or(0)), "write failed: broken pipe"),
            8 => h.flush(),
            9 => {
                h.sb.set_plan(input::plan(input.byte().unwrap_or(0), machines))
            }
            _ => {}
        }
        h.round();
        h.check_books(false);
        if let Some(deadline) = h.sb.poll_timeout() {
            assert!(deadline >= T0, "a deadline before the start");
        }
        if h.sb.is_finished(h.now) {
            break;
        }
    }
    h.flush();
    h.round();
    h.finish();
    h.sb.report()
}
