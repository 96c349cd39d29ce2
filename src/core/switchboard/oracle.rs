//! The fuzz and property-test oracle: a model driver that runs the switchboard in process on
//! connections with no sockets behind them, and checks its promises after every step.

use std::collections::BTreeMap;

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
    /// Every byte the peer sent.
    pub(super) sent: Vec<u8>,
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
    pub(super) events: Vec<Event>,
}

impl Harness {
    pub(super) fn new(opts: Options) -> Harness {
        Harness {
            sb: Switchboard::new(opts),
            now: T0,
            peers: Vec::new(),
            ids: BTreeMap::new(),
            cursors: BTreeMap::new(),
            events: Vec::new(),
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

    /// The peer sends `bytes`. Whatever they are, no other connection changes its fate.
    pub(super) fn feed(&mut self, conn: ConnId, bytes: &[u8]) {
        if !self.open(conn) {
            return;
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
        self.sb.handle_read(conn, bytes, self.now);
        assert_eq!(
            before,
            others(&self.sb),
            "input on one connection changed another's fate"
        );
        self.peers[conn.0].sent.extend_from_slice(bytes);
        let frames = self.parse_sent(conn);
        self.drain_events();
        let taken = if closing_before || said_bye {
            &[][..]
        } else {
            &frames[..]
        };
        self.check_routed(conn, &sent_before, taken, said_hello);
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

    /// The peer shuts its side.
    pub(super) fn eof(&mut self, conn: ConnId) {
        if !self.open(conn) {
            return;
        }
        let fate = self.sb.handle_eof(conn);
        self.apply(conn, fate);
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
        self.sb.handle_close(conn, reason.into());
        self.apply(conn, Fate::Close);
    }

    /// What the driver does after every batch of events: timeouts, then each connection's fate.
    pub(super) fn round(&mut self) {
        self.sb.handle_timeout(self.now);
        for i in 0..self.peers.len() {
            if self.open(ConnId(i)) {
                let fate = self.sb.poll_fate(ConnId(i), self.now);
                self.apply(ConnId(i), fate);
            }
        }
        self.drain_events();
        self.check_flow_control();
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
                    self.peers[conn.0].closed = Some(closed.reason.clone());
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

    /// Parses what the peer sent since the last call: returns the frames that completed, in order
    /// (up to the first invalid one, where parsing stops for good).
    fn parse_sent(&mut self, conn: ConnId) -> Vec<Vec<u8>> {
        let max = self.sb.options().max_payload;
        let peer = &mut self.peers[conn.0];
        let mut frames = Vec::new();
        while !peer.sent_invalid {
            match wire::parse_with_limit(&peer.sent[peer.sent_parsed..], max) {
                Ok(Parsed::Complete { frame, len }) => {
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
        *cursor += offset + 1;
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
                assert!(
                    books.delivered + books.undeliverable <= books.sent,
                    "{books:?}"
                );
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
/// time advancing, stops) and checks after every step that it does not panic, that a data frame
/// is forwarded only if it arrived valid from a welcomed machine, byte for byte, to machines its
/// route names, that each input routes its accepted frames to exactly those machines, that input
/// on one connection never changes another's fate, that delivered counts are what the peers got,
/// and at the end that every pair's books balance.
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
        outbox_limit: 512,
        buffer_limit: 4096,
        reader_timeout_ns: 3_000 * MS,
    });
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
                h.feed(c, &bytes);
            }
            2 | 0 => {
                let c = conn(input.byte().unwrap_or(0));
                let (pick, arg, split) = (
                    input.byte().unwrap_or(0),
                    input.byte().unwrap_or(0),
                    input.byte().unwrap_or(0),
                );
                let bytes = frame(pick, arg, h.sb.machine_id(c), machines);
                let at = usize::from(split) % (bytes.len() + 1);
                h.feed(c, &bytes[..at]);
                h.feed(c, &bytes[at..]);
            }
            3 => h.eof(conn(input.byte().unwrap_or(0))),
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
