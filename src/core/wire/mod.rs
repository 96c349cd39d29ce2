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
//! - `check_parse_properties` (in `oracle`, compiled for tests and `--cfg fuzzing` only) states these
//!   promises as executable checks; the property tests and the fuzz target
//!   (`fuzz/fuzz_targets/frame_parser.rs`) run it on arbitrary bytes.
//! - A [`Frame`] has passed every check: its getters cannot fail and return already validated values
//!   (a [`Kind`], a payload of the advertised length, a UTF-8 name or reason, a decoded WELCOME body).
//! - [`Header::emit`] writes exactly [`HEADER_LEN`] bytes into an array of that length and cannot fail.
//!   The constructors of [`Header`] build only valid headers for their kind; re-parsing an emitted
//!   frame gives back the same header.
//! - A complete frame's header bytes re-emit to exactly the bytes they were parsed from.
//!
//! # Layout
//!
//! - this file: the constants, the private wire layouts ([`HEADER_LEN`] bytes of header, the
//!   WELCOME body), [`Kind`], [`FrameError`] and [`parse`];
//! - `validate`: the checks of the prefix, the header fields and the payload;
//! - `frame`: the validated [`Frame`], the plain [`Header`] and [`Welcome`], emit and the builders;
//! - `oracle`: the contract as executable checks, for tests and fuzzing.

use std::fmt;

use zerocopy::byteorder::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

mod frame;
#[cfg(any(test, fuzzing))]
mod oracle;
mod validate;

pub use frame::{Frame, Header, Welcome, bye, error, hello, welcome};
#[cfg(any(test, fuzzing))]
pub use oracle::check_parse_properties;
use validate::{check_data_fields, check_fields, check_payload, check_prefix};

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
#[inline]
pub fn parse_with_limit(buf: &[u8], max_payload: u32) -> Result<Parsed<'_>, FrameError> {
    match whole_data_frame(buf, max_payload) {
        Some(parsed) => Ok(parsed),
        None => parse_in_full(buf, max_payload),
    }
}

/// The common case, small enough to inline into every stream reader: a whole data frame with
/// every field valid. Anything else (a control frame, a prefix, an error) is `None`, and
/// [`parse_in_full`] takes it from the start, with the same checks and the reason for a refusal.
#[inline(always)]
fn whole_data_frame(buf: &[u8], max_payload: u32) -> Option<Parsed<'_>> {
    let (raw, rest) = RawHeader::ref_from_prefix(buf).ok()?;
    let kind = Kind::from_code(raw.kind).filter(|k| k.is_data())?;
    let payload_len = raw.payload_len.get();
    if raw.magic != MAGIC || raw.version != VERSION || payload_len > max_payload {
        return None;
    }
    if payload_len > MAX_PAYLOAD_LEN || check_data_fields(kind, raw).is_err() {
        return None;
    }
    // payload_len <= 65,536 (see parse_in_full).
    let payload = rest.get(..payload_len as usize)?;
    Some(Parsed::Complete {
        frame: Frame::new(raw, kind, payload),
        len: HEADER_LEN + payload.len(),
    })
}

/// [`parse_with_limit`] for any input: every check in order, so that an error names the first
/// field that is wrong.
#[inline(never)]
fn parse_in_full(buf: &[u8], max_payload: u32) -> Result<Parsed<'_>, FrameError> {
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
        frame: Frame::new(raw, kind, payload),
        len: HEADER_LEN + payload_len,
    })
}

#[cfg(test)]
mod tests;
