//! Frames as values: the validated [`Frame`] that borrows its bytes, the plain [`Header`] and
//! [`Welcome`] for building frames, [`Header::emit`], and the builders of control frames.

use std::fmt;

use zerocopy::{FromBytes, IntoBytes};

use super::{
    HEADER_LEN, Kind, MAGIC, MAX_CLOCK, MAX_NAME_LEN, ROUTER_ID, RawHeader, RawWelcome, VERSION,
    WELCOME_LEN,
};

/// A complete, validated frame, borrowing the bytes it was parsed from.
#[derive(Clone, Copy)]
pub struct Frame<'a> {
    raw: &'a RawHeader,
    kind: Kind,
    payload: &'a [u8],
}

impl fmt::Debug for Frame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("header", &self.header())
            .field("payload", &self.payload)
            .finish()
    }
}

impl<'a> Frame<'a> {
    /// A frame from a header, kind and payload that [`parse_with_limit`](super::parse_with_limit)
    /// has validated; nothing else builds one.
    pub(super) fn new(raw: &'a RawHeader, kind: Kind, payload: &'a [u8]) -> Frame<'a> {
        Frame { raw, kind, payload }
    }

    /// The frame's kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }
    /// The sender's machine id, or [`ROUTER_ID`].
    pub fn source(&self) -> u16 {
        self.raw.source.get()
    }
    /// The target id for SEND_TO and WELCOME; 0 otherwise.
    pub fn dest(&self) -> u16 {
        self.raw.dest.get()
    }
    /// The sender's data-frame counter (for BYE: how many data frames the sender sent).
    pub fn seq(&self) -> u32 {
        self.raw.seq.get()
    }
    /// The Lamport timestamp of the send event (for BYE: the sender's final clock).
    pub fn logical_clock(&self) -> u64 {
        self.raw.logical_clock.get()
    }
    /// The sender's wall clock at the send, in nanoseconds since the UNIX epoch.
    pub fn system_time_ns(&self) -> u64 {
        self.raw.system_time_ns.get()
    }
    /// The payload bytes.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
    /// Total length on the wire, header included.
    pub fn len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }
    /// Always false: a frame has at least its header. Present because `len` is.
    pub fn is_empty(&self) -> bool {
        false
    }
    /// The header's bytes exactly as they arrived.
    pub fn header_bytes(&self) -> &'a [u8] {
        self.raw.as_bytes()
    }
    /// The header as plain values.
    pub fn header(&self) -> Header {
        Header {
            kind: self.kind,
            source: self.source(),
            dest: self.dest(),
            seq: self.seq(),
            payload_len: self.raw.payload_len.get(),
            logical_clock: self.logical_clock(),
            system_time_ns: self.system_time_ns(),
        }
    }
    /// The name a HELLO carries.
    pub fn hello_name(&self) -> Option<&'a str> {
        self.text(Kind::Hello)
    }
    /// The reason an ERROR carries.
    pub fn error_reason(&self) -> Option<&'a str> {
        self.text(Kind::Error)
    }
    fn text(&self, kind: Kind) -> Option<&'a str> {
        if self.kind != kind {
            return None;
        }
        std::str::from_utf8(self.payload).ok()
    }
    /// The body of a WELCOME.
    pub fn welcome(&self) -> Option<Welcome> {
        if self.kind != Kind::Welcome {
            return None;
        }
        let body = RawWelcome::ref_from_bytes(self.payload).ok()?;
        Some(Welcome {
            id: self.dest(),
            machines: body.machines.get(),
            start_time_ns: body.start_time_ns.get(),
            seed: body.seed.get(),
        })
    }
}

/// What a WELCOME tells a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Welcome {
    /// The id assigned to the client (1..=machines).
    pub id: u16,
    /// How many machines take part.
    pub machines: u16,
    /// When every machine starts ticking, in nanoseconds since the UNIX epoch.
    pub start_time_ns: u64,
    /// The run's seed: each machine derives its own from it and its id, so one number replays
    /// the whole run.
    pub seed: u64,
}

impl Welcome {
    /// The 20 payload bytes of this WELCOME.
    pub fn payload(&self) -> [u8; WELCOME_LEN] {
        let raw = RawWelcome {
            machines: self.machines.into(),
            reserved: 0.into(),
            start_time_ns: self.start_time_ns.into(),
            seed: self.seed.into(),
        };
        let mut out = [0u8; WELCOME_LEN];
        out.copy_from_slice(raw.as_bytes());
        out
    }
}

/// A header as plain values, for building frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The frame's kind.
    pub kind: Kind,
    /// The sender's machine id, or [`ROUTER_ID`].
    pub source: u16,
    /// The target id for SEND_TO and WELCOME; 0 otherwise.
    pub dest: u16,
    /// The sender's data-frame counter.
    pub seq: u32,
    /// Bytes of payload after the header.
    pub payload_len: u32,
    /// The Lamport timestamp of the send event.
    pub logical_clock: u64,
    /// The sender's wall clock, nanoseconds since the UNIX epoch.
    pub system_time_ns: u64,
}

impl Header {
    /// The header of a data frame with no payload. `dest` is 0 except for [`Kind::SendTo`].
    pub fn data(
        kind: Kind,
        source: u16,
        dest: u16,
        seq: u32,
        logical_clock: u64,
        system_time_ns: u64,
    ) -> Header {
        debug_assert!(kind.is_data());
        Header {
            kind,
            source,
            dest,
            seq,
            payload_len: 0,
            logical_clock,
            system_time_ns,
        }
    }

    fn control(kind: Kind, source: u16, dest: u16, payload_len: usize, now_ns: u64) -> Header {
        Header {
            kind,
            source,
            dest,
            seq: 0,
            // Control payloads are bounded by their constructors' callers (names, reasons).
            payload_len: payload_len.try_into().unwrap_or(u32::MAX),
            logical_clock: 0,
            system_time_ns: now_ns,
        }
    }

    /// Writes the header's 32 bytes.
    pub fn emit(&self, out: &mut [u8; HEADER_LEN]) {
        let raw = RawHeader {
            magic: MAGIC,
            version: VERSION,
            kind: self.kind.code(),
            source: self.source.into(),
            dest: self.dest.into(),
            seq: self.seq.into(),
            payload_len: self.payload_len.into(),
            logical_clock: self.logical_clock.into(),
            system_time_ns: self.system_time_ns.into(),
        };
        out.copy_from_slice(raw.as_bytes());
    }

    /// Appends the header and `payload` to `out`; `payload_len` is taken from `payload`.
    pub fn write_frame(mut self, payload: &[u8], out: &mut Vec<u8>) {
        self.payload_len = payload.len().try_into().unwrap_or(u32::MAX);
        let mut head = [0u8; HEADER_LEN];
        self.emit(&mut head);
        out.extend_from_slice(&head);
        out.extend_from_slice(payload);
    }

    /// The header and `payload` as one frame.
    pub fn to_frame(self, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        self.write_frame(payload, &mut out);
        out
    }
}

/// A HELLO frame carrying `name`, or `None` if the name is empty or longer than 255 bytes.
pub fn hello(name: &str, now_ns: u64) -> Option<Vec<u8>> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return None;
    }
    Some(Header::control(Kind::Hello, ROUTER_ID, 0, name.len(), now_ns).to_frame(name.as_bytes()))
}

/// A WELCOME frame.
pub fn welcome(welcome: Welcome, now_ns: u64) -> Vec<u8> {
    Header::control(Kind::Welcome, ROUTER_ID, welcome.id, WELCOME_LEN, now_ns)
        .to_frame(&welcome.payload())
}

/// A BYE frame from `source` (a machine id or [`ROUTER_ID`]), carrying how many data frames the
/// sender sent and its final clock.
pub fn bye(source: u16, frames_sent: u32, final_clock: u64, now_ns: u64) -> Vec<u8> {
    Header {
        seq: frames_sent,
        logical_clock: final_clock.min(MAX_CLOCK),
        ..Header::control(Kind::Bye, source, 0, 0, now_ns)
    }
    .to_frame(&[])
}

/// An ERROR frame carrying `reason`, cut to at most 1,024 bytes on a character boundary.
pub fn error(reason: &str, now_ns: u64) -> Vec<u8> {
    let mut end = reason.len().min(1024);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let reason = if end == 0 { "error" } else { &reason[..end] };
    Header::control(Kind::Error, ROUTER_ID, 0, reason.len(), now_ns).to_frame(reason.as_bytes())
}
