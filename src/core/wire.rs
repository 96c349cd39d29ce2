//! The clocklab frame format, version 1: the only module that knows byte offsets.
//!
//! A frame is a fixed 32-byte header followed by `payload_len` bytes of payload; every integer is
//! little-endian. `docs/PROTOCOL.md` describes it byte by byte.
//!
//! # Contract
//!
//! - [`parse`] accepts any byte slice, never panics and never allocates. It answers with exactly one of:
//!   a complete, validated [`Frame`] together with the number of bytes it occupies; [`Parsed::Incomplete`]
//!   when the bytes are a proper prefix of a frame that may still be valid; or a [`FrameError`] that says
//!   which field is wrong and what is allowed.
//! - A prefix of a valid frame is always `Incomplete`, never an error, so a stream reader can call
//!   `parse` again once more bytes have arrived. Magic, version and kind are checked as soon as their
//!   bytes are present, the other header fields once all [`HEADER_LEN`] header bytes are, and the
//!   payload once it is whole, so garbage is rejected early (but a short prefix whose later header
//!   fields are already wrong is still `Incomplete` until the header is whole).
//! - [`check_parse_properties`] states these promises as executable checks; the property tests and
//!   the fuzz target (`fuzz/fuzz_targets/frame_parser.rs`) run it on arbitrary bytes.
//! - A [`Frame`] has passed every check: its getters cannot fail and return already validated values
//!   (a [`Kind`], a payload of the advertised length, a UTF-8 name or reason, a decoded WELCOME body).
//! - [`Header::emit`] writes exactly [`HEADER_LEN`] bytes into an array of that length and cannot fail.
//!   The constructors of [`Header`] build only valid headers for their kind; re-parsing an emitted
//!   frame gives back the same header.
//! - A complete frame's header bytes re-emit to exactly the bytes they were parsed from.

use std::fmt;

use zerocopy::byteorder::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// Length of every frame header in bytes.
pub const HEADER_LEN: usize = 32;
/// The largest payload the format allows; a router may be configured lower.
pub const MAX_PAYLOAD_LEN: u32 = 65_536;
/// The two magic bytes, `L` `C`, that open every frame.
pub const MAGIC: [u8; 2] = *b"LC";
/// The only format version this module reads and writes.
pub const VERSION: u8 = 1;
/// The `source` of frames from the router and from a client that has not been welcomed yet.
pub const ROUTER_ID: u16 = 0xFFFF;
/// The longest machine name a HELLO may carry, in bytes.
pub const MAX_NAME_LEN: usize = 255;
/// The largest logical clock a data frame may carry (`i64::MAX`, so every clock fits a signed
/// 64-bit column in the tools that read the logs).
pub const MAX_CLOCK: u64 = crate::core::clock::MAX_CLOCK;
/// Length of a WELCOME payload.
pub const WELCOME_LEN: usize = 20;

/// The header exactly as it sits on the wire. Byteorder fields have alignment 1, so the struct has
/// no padding and can be viewed in place inside any buffer.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawHeader {
    magic: [u8; 2],
    version: u8,
    kind: u8,
    source: U16,
    dest: U16,
    seq: U32,
    payload_len: U32,
    logical_clock: U64,
    system_time_ns: U64,
}

const _: () = assert!(size_of::<RawHeader>() == HEADER_LEN);

/// The WELCOME payload as it sits on the wire.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawWelcome {
    machines: U16,
    reserved: U16,
    start_time_ns: U64,
    seed: U64,
}

const _: () = assert!(size_of::<RawWelcome>() == WELCOME_LEN);

/// Offsets of the fields that are checked before a whole header has arrived.
mod field {
    pub const MAGIC: std::ops::Range<usize> = 0..2;
    pub const VERSION: usize = 2;
    pub const KIND: usize = 3;
}

/// What a frame is for. Codes 1-4 are data frames between model machines; 16-19 are control frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// To the first of the sender's others (ascending id order).
    SendFirst,
    /// To the second of the sender's others.
    SendSecond,
    /// To every other machine.
    Broadcast,
    /// To the machine named in `dest`.
    SendTo,
    /// Client to router: the payload is the client's name.
    Hello,
    /// Router to client: `dest` is the id assigned; the payload is a [`Welcome`].
    Welcome,
    /// Orderly goodbye, either way.
    Bye,
    /// Router to client: the payload is the reason the connection is being closed.
    Error,
}

impl Kind {
    /// Every kind, in code order.
    pub const ALL: [Kind; 8] = [
        Kind::SendFirst,
        Kind::SendSecond,
        Kind::Broadcast,
        Kind::SendTo,
        Kind::Hello,
        Kind::Welcome,
        Kind::Bye,
        Kind::Error,
    ];

    /// The byte that stands for this kind on the wire.
    pub const fn code(self) -> u8 {
        match self {
            Kind::SendFirst => 1,
            Kind::SendSecond => 2,
            Kind::Broadcast => 3,
            Kind::SendTo => 4,
            Kind::Hello => 16,
            Kind::Welcome => 17,
            Kind::Bye => 18,
            Kind::Error => 19,
        }
    }

    /// The kind's position in [`Kind::ALL`], for tables indexed by kind.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The kind a wire byte stands for, if any.
    pub const fn from_code(code: u8) -> Option<Kind> {
        Some(match code {
            1 => Kind::SendFirst,
            2 => Kind::SendSecond,
            3 => Kind::Broadcast,
            4 => Kind::SendTo,
            16 => Kind::Hello,
            17 => Kind::Welcome,
            18 => Kind::Bye,
            19 => Kind::Error,
            _ => return None,
        })
    }

    /// Whether this is a data frame between model machines (as opposed to a control frame).
    pub const fn is_data(self) -> bool {
        matches!(
            self,
            Kind::SendFirst | Kind::SendSecond | Kind::Broadcast | Kind::SendTo
        )
    }

    /// The protocol's name for the kind, as written in docs/PROTOCOL.md.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::SendFirst => "SEND_FIRST",
            Kind::SendSecond => "SEND_SECOND",
            Kind::Broadcast => "BROADCAST",
            Kind::SendTo => "SEND_TO",
            Kind::Hello => "HELLO",
            Kind::Welcome => "WELCOME",
            Kind::Bye => "BYE",
            Kind::Error => "ERROR",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a byte sequence is not a valid frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The first two bytes are not `L` `C`.
    BadMagic([u8; 2]),
    /// The version byte is not [`VERSION`].
    BadVersion(u8),
    /// The kind byte names no kind.
    UnknownKind(u8),
    /// `payload_len` exceeds the limit in force.
    PayloadTooLong {
        /// The length the header announced.
        len: u32,
        /// The limit in force.
        max: u32,
    },
    /// A header field holds a value its kind does not allow.
    BadField {
        /// The frame's kind.
        kind: Kind,
        /// The field's name as in docs/PROTOCOL.md.
        field: &'static str,
        /// The value found.
        value: u64,
        /// What the kind allows, in words.
        allowed: &'static str,
    },
    /// The payload does not have the form its kind requires.
    BadPayload {
        /// The frame's kind.
        kind: Kind,
        /// What is wrong, in words.
        reason: &'static str,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::BadMagic(m) => write!(
                f,
                "bad magic 0x{:02x} 0x{:02x}: a frame must start with 0x4c 0x43 (\"LC\")",
                m[0], m[1]
            ),
            FrameError::BadVersion(v) => {
                write!(
                    f,
                    "unsupported version {v}: only version {VERSION} is spoken"
                )
            }
            FrameError::UnknownKind(k) => write!(
                f,
                "unknown kind {k}: allowed kinds are 1-4 (data) and 16-19 (control)"
            ),
            FrameError::PayloadTooLong { len, max } => {
                write!(f, "payload_len {len} exceeds the limit of {max} bytes")
            }
            FrameError::BadField {
                kind,
                field,
                value,
                allowed,
            } => write!(f, "{kind} frame with {field} = {value}: {allowed}"),
            FrameError::BadPayload { kind, reason } => write!(f, "{kind} payload {reason}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// The result of a successful [`parse`] call.
#[derive(Debug)]
pub enum Parsed<'a> {
    /// A whole, valid frame; `len` bytes of the input belong to it.
    Complete {
        /// The frame, borrowing the input.
        frame: Frame<'a>,
        /// How many bytes the frame occupies: `HEADER_LEN + payload_len`.
        len: usize,
    },
    /// The input is a proper prefix of a frame whose bytes checked so far are valid (see the module
    /// contract for which fields are checked when).
    Incomplete {
        /// The least number of bytes the frame needs in total (known once the header is in).
        needed: usize,
    },
}

/// Parses one frame from the start of `buf`, allowing payloads up to [`MAX_PAYLOAD_LEN`].
pub fn parse(buf: &[u8]) -> Result<Parsed<'_>, FrameError> {
    parse_with_limit(buf, MAX_PAYLOAD_LEN)
}

/// Parses one frame from the start of `buf`, allowing payloads up to `max_payload` bytes (which is
/// itself capped at [`MAX_PAYLOAD_LEN`]).
pub fn parse_with_limit(buf: &[u8], max_payload: u32) -> Result<Parsed<'_>, FrameError> {
    check_prefix(buf)?;
    let Ok((raw, rest)) = RawHeader::ref_from_prefix(buf) else {
        return Ok(Parsed::Incomplete { needed: HEADER_LEN });
    };
    // check_prefix has vetted the kind byte.
    let kind = Kind::from_code(raw.kind).ok_or(FrameError::UnknownKind(raw.kind))?;
    let payload_len = raw.payload_len.get();
    let max = max_payload.min(MAX_PAYLOAD_LEN);
    if payload_len > max {
        return Err(FrameError::PayloadTooLong {
            len: payload_len,
            max,
        });
    }
    check_fields(kind, raw)?;
    // payload_len <= 65,536, so this cannot overflow on any platform clocklab runs on.
    let payload_len = payload_len as usize;
    let Some(payload) = rest.get(..payload_len) else {
        return Ok(Parsed::Incomplete {
            needed: HEADER_LEN + payload_len,
        });
    };
    check_payload(kind, raw, payload)?;
    Ok(Parsed::Complete {
        frame: Frame { raw, kind, payload },
        len: HEADER_LEN + payload_len,
    })
}

/// The fuzz and property-test oracle: checks that [`parse_with_limit`] keeps the module contract
/// on `data` with the limit `max_payload`.
///
/// On a complete frame: `len` is `HEADER_LEN + payload_len`, within the limit and within `data`;
/// the header bytes are `data[..HEADER_LEN]` and re-emit to exactly those bytes; the payload is
/// `data[HEADER_LEN..len]`; the kind's typed getter answers; re-parsing `data[..len]` gives the
/// same frame; and every proper prefix up to the header's end, plus a few longer ones, is
/// `Incomplete` with the right `needed`. On `Incomplete`: `needed` exceeds `data.len()` and is at
/// most a maximal frame. On an error: its message is not empty.
///
/// # Panics
///
/// With a message naming the broken property, if any property fails (that is, if the parser has a
/// bug). Panicking is the point: the fuzzer and proptest report it with the input.
pub fn check_parse_properties(data: &[u8], max_payload: u32) {
    let limit = max_payload.min(MAX_PAYLOAD_LEN) as usize;
    match parse_with_limit(data, max_payload) {
        Ok(Parsed::Complete { frame, len }) => {
            let payload_len = frame.header().payload_len as usize;
            assert_eq!(len, HEADER_LEN + payload_len, "len is not 32 + payload_len");
            assert!(len <= data.len(), "len {len} exceeds the input");
            assert!(
                payload_len <= limit,
                "payload_len exceeds the limit {limit}"
            );
            check_complete(&data[..len], max_payload, frame);
        }
        Ok(Parsed::Incomplete { needed }) => {
            assert!(
                needed > data.len(),
                "Incomplete needs {needed} bytes but has them"
            );
            assert!(
                needed <= HEADER_LEN + limit,
                "Incomplete needs {needed} bytes"
            );
        }
        Err(error) => assert!(
            !error.to_string().is_empty(),
            "{error:?} displays as nothing"
        ),
    }
}

/// The properties of a complete `frame` parsed from exactly the bytes `data`.
fn check_complete(data: &[u8], max_payload: u32, frame: Frame<'_>) {
    let len = data.len();
    let header = frame.header();
    assert_eq!(frame.len(), len, "Frame::len disagrees with len");
    assert_eq!(
        frame.header_bytes(),
        &data[..HEADER_LEN],
        "header_bytes are not the input's"
    );
    let mut emitted = [0u8; HEADER_LEN];
    header.emit(&mut emitted);
    assert_eq!(
        emitted,
        data[..HEADER_LEN],
        "{header:?} does not re-emit to its bytes"
    );
    assert_eq!(
        frame.payload(),
        &data[HEADER_LEN..],
        "payload is not data[32..len]"
    );
    let typed = match frame.kind() {
        Kind::Hello => frame.hello_name().is_some(),
        Kind::Error => frame.error_reason().is_some(),
        Kind::Welcome => frame.welcome().is_some_and(|w| w.id == header.dest),
        _ => frame.hello_name().or(frame.error_reason()).is_none() && frame.welcome().is_none(),
    };
    assert!(
        typed,
        "the typed getters of a {} frame disagree with its kind",
        frame.kind()
    );
    match parse_with_limit(data, max_payload) {
        Ok(Parsed::Complete {
            frame: again,
            len: again_len,
        }) => {
            assert_eq!(again_len, len, "re-parse gives a different len");
            assert_eq!(again.header(), header, "re-parse gives a different header");
            assert_eq!(
                again.payload(),
                frame.payload(),
                "re-parse gives a different payload"
            );
        }
        other => panic!("re-parsing the frame's own {len} bytes gives {other:?}"),
    }
    // Every cut up to the header's end, then a few inside the payload.
    let cuts = (0..=HEADER_LEN).chain([HEADER_LEN + 1, (HEADER_LEN + len) / 2, len - 1]);
    for cut in cuts.filter(|&cut| cut < len) {
        let needed = if cut < HEADER_LEN { HEADER_LEN } else { len };
        match parse_with_limit(&data[..cut], max_payload) {
            Ok(Parsed::Incomplete { needed: got }) if got == needed => {}
            other => panic!("a {cut}-byte prefix of a {len}-byte frame gives {other:?}"),
        }
    }
}

/// Checks magic, version and kind as far as `buf` holds them.
fn check_prefix(buf: &[u8]) -> Result<(), FrameError> {
    let present = buf.len().min(field::MAGIC.end);
    if buf[..present] != MAGIC[..present] {
        let mut found = [0u8; 2];
        found[..present].copy_from_slice(&buf[..present]);
        return Err(FrameError::BadMagic(found));
    }
    if let Some(&version) = buf.get(field::VERSION) {
        if version != VERSION {
            return Err(FrameError::BadVersion(version));
        }
    }
    if let Some(&kind) = buf.get(field::KIND) {
        if Kind::from_code(kind).is_none() {
            return Err(FrameError::UnknownKind(kind));
        }
    }
    Ok(())
}

fn bad(kind: Kind, field: &'static str, value: u64, allowed: &'static str) -> FrameError {
    FrameError::BadField {
        kind,
        field,
        value,
        allowed,
    }
}

/// Checks the header fields against what the kind allows.
fn check_fields(kind: Kind, raw: &RawHeader) -> Result<(), FrameError> {
    let source = raw.source.get();
    let dest = raw.dest.get();
    let seq = raw.seq.get();
    let clock = raw.logical_clock.get();
    let len = raw.payload_len.get();
    if kind.is_data() {
        if source == 0 || source == ROUTER_ID {
            return Err(bad(
                kind,
                "source",
                source.into(),
                "a data frame's source must be a machine id (1-65534)",
            ));
        }
        if kind == Kind::SendTo {
            if dest == 0 || dest == ROUTER_ID || dest == source {
                return Err(bad(
                    kind,
                    "dest",
                    dest.into(),
                    "SEND_TO needs a machine id (1-65534) other than its source",
                ));
            }
        } else if dest != 0 {
            return Err(bad(kind, "dest", dest.into(), "must be 0 for this kind"));
        }
        if seq == 0 {
            return Err(bad(kind, "seq", 0, "a data frame's seq starts at 1"));
        }
        if clock == 0 || clock > MAX_CLOCK {
            return Err(bad(
                kind,
                "logical_clock",
                clock,
                "a send event's clock is between 1 and 2^63-1",
            ));
        }
        return Ok(());
    }
    match kind {
        Kind::Hello | Kind::Welcome | Kind::Error if source != ROUTER_ID => {
            return Err(bad(
                kind,
                "source",
                source.into(),
                "must be 65535 (router or not yet welcomed)",
            ));
        }
        Kind::Bye if source == 0 => {
            return Err(bad(
                kind,
                "source",
                0,
                "must be a machine id or 65535 (router)",
            ));
        }
        _ => {}
    }
    if kind == Kind::Welcome {
        if dest == 0 || dest == ROUTER_ID {
            return Err(bad(
                kind,
                "dest",
                dest.into(),
                "WELCOME assigns a machine id (1-65534)",
            ));
        }
    } else if dest != 0 {
        return Err(bad(kind, "dest", dest.into(), "must be 0 for this kind"));
    }
    // BYE carries the sender's count of data frames sent and its final clock; the other control
    // frames carry neither.
    if kind != Kind::Bye {
        if seq != 0 {
            return Err(bad(kind, "seq", seq.into(), "must be 0 for this kind"));
        }
        if clock != 0 {
            return Err(bad(kind, "logical_clock", clock, "must be 0 for this kind"));
        }
    } else if clock > MAX_CLOCK {
        return Err(bad(kind, "logical_clock", clock, "must be at most 2^63-1"));
    }
    match kind {
        Kind::Hello if len == 0 || len as usize > MAX_NAME_LEN => Err(bad(
            kind,
            "payload_len",
            len.into(),
            "a name is 1 to 255 bytes",
        )),
        Kind::Welcome if len as usize != WELCOME_LEN => Err(bad(
            kind,
            "payload_len",
            len.into(),
            "a WELCOME payload is exactly 20 bytes",
        )),
        Kind::Bye if len != 0 => Err(bad(kind, "payload_len", len.into(), "BYE has no payload")),
        Kind::Error if len == 0 => Err(bad(
            kind,
            "payload_len",
            0,
            "an ERROR carries a reason of at least 1 byte",
        )),
        _ => Ok(()),
    }
}

/// Checks the payload against what the kind requires.
fn check_payload(kind: Kind, raw: &RawHeader, payload: &[u8]) -> Result<(), FrameError> {
    match kind {
        Kind::Hello | Kind::Error if std::str::from_utf8(payload).is_err() => {
            return Err(FrameError::BadPayload {
                kind,
                reason: "is not valid UTF-8",
            });
        }
        Kind::Welcome => {
            // check_fields has pinned the length to WELCOME_LEN.
            let Ok(body) = RawWelcome::ref_from_bytes(payload) else {
                return Err(FrameError::BadPayload {
                    kind,
                    reason: "is not 20 bytes long",
                });
            };
            let machines = body.machines.get();
            if machines < 2 || machines == ROUTER_ID {
                return Err(FrameError::BadPayload {
                    kind,
                    reason: "must name between 2 and 65534 machines",
                });
            }
            if raw.dest.get() > machines {
                return Err(FrameError::BadPayload {
                    kind,
                    reason: "assigns an id larger than the number of machines",
                });
            }
            if body.reserved.get() != 0 {
                return Err(FrameError::BadPayload {
                    kind,
                    reason: "has non-zero reserved bytes",
                });
            }
        }
        _ => {}
    }
    Ok(())
}

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

#[cfg(test)]
mod tests;
