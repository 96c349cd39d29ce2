//! Tests of the frame format: literal frames of every kind, every rejection with its exact error,
//! every short length, emit over a poisoned buffer, the builders, and property tests that run the
//! module's own oracle, [`check_parse_properties`], on arbitrary and mutated bytes.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use super::*;

// Header offsets, written out here (not taken from the module) so a moved field shows.
const SOURCE: usize = 4;
const DEST: usize = 6;
const SEQ: usize = 8;
const LEN: usize = 12;
const CLOCK: usize = 16;

#[rustfmt::skip]
const SEND_FIRST: [u8; 32] = [
    0x4c, 0x43, 0x01, 0x01, // magic "LC", version 1, kind 1 (SEND_FIRST)
    0x03, 0x00, 0x00, 0x00, // source 3, dest 0
    0x07, 0x00, 0x00, 0x00, // seq 7
    0x00, 0x00, 0x00, 0x00, // payload_len 0
    0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // logical_clock 42
    0x15, 0xcd, 0x85, 0x3d, 0xfe, 0x9c, 0x97, 0x17, // system_time_ns 1_700_000_000_123_456_789
];

#[rustfmt::skip]
const SEND_SECOND: [u8; 35] = [
    0x4c, 0x43, 0x01, 0x02, // kind 2 (SEND_SECOND)
    0x02, 0x01, 0x00, 0x00, // source 0x0102, dest 0
    0x04, 0x03, 0x02, 0x01, // seq 0x01020304
    0x03, 0x00, 0x00, 0x00, // payload_len 3
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // logical_clock 0x0102030405060708
    0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11, // system_time_ns 0x1112131415161718
    0xde, 0xad, 0xbe, // payload
];

#[rustfmt::skip]
const BROADCAST: [u8; 32] = [
    0x4c, 0x43, 0x01, 0x03, // kind 3 (BROADCAST)
    0x01, 0x00, 0x00, 0x00, // source 1, dest 0
    0x01, 0x00, 0x00, 0x00, // seq 1
    0x00, 0x00, 0x00, 0x00, // payload_len 0
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, // logical_clock 2^63-1 (the largest allowed)
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // system_time_ns u64::MAX
];

#[rustfmt::skip]
const SEND_TO: [u8; 34] = [
    0x4c, 0x43, 0x01, 0x04, // kind 4 (SEND_TO)
    0x02, 0x00, 0x05, 0x00, // source 2, dest 5
    0x09, 0x00, 0x00, 0x00, // seq 9
    0x02, 0x00, 0x00, 0x00, // payload_len 2
    0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // logical_clock 100
    0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // system_time_ns 5
    0x68, 0x69, // payload "hi"
];

#[rustfmt::skip]
const HELLO: [u8; 37] = [
    0x4c, 0x43, 0x01, 0x10, // kind 16 (HELLO)
    0xff, 0xff, 0x00, 0x00, // source 65535 (not yet welcomed), dest 0
    0x00, 0x00, 0x00, 0x00, // seq 0
    0x05, 0x00, 0x00, 0x00, // payload_len 5
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // logical_clock 0
    0xe8, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // system_time_ns 1_000
    0x61, 0x6c, 0x69, 0x63, 0x65, // "alice"
];

#[rustfmt::skip]
const WELCOME: [u8; 52] = [
    0x4c, 0x43, 0x01, 0x11, // kind 17 (WELCOME)
    0xff, 0xff, 0x02, 0x00, // source 65535 (router), dest 2 (the id assigned)
    0x00, 0x00, 0x00, 0x00, // seq 0
    0x14, 0x00, 0x00, 0x00, // payload_len 20
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // logical_clock 0
    0xd0, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // system_time_ns 2_000
    0x03, 0x00, 0x00, 0x00, // machines 3, reserved 0
    0x00, 0xca, 0xc4, 0x71, 0xfe, 0x9c, 0x97, 0x17, // start_time_ns 1_700_000_001_000_000_000
    0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, // seed 2^63 + 42
];

#[rustfmt::skip]
const BYE: [u8; 32] = [
    0x4c, 0x43, 0x01, 0x12, // kind 18 (BYE)
    0x02, 0x00, 0x00, 0x00, // source 2, dest 0
    0x0a, 0x00, 0x00, 0x00, // seq 10 (data frames sent)
    0x00, 0x00, 0x00, 0x00, // payload_len 0
    0x37, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // logical_clock 55 (final clock)
    0xb8, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // system_time_ns 3_000
];

#[rustfmt::skip]
const ERROR: [u8; 39] = [
    0x4c, 0x43, 0x01, 0x13, // kind 19 (ERROR)
    0xff, 0xff, 0x00, 0x00, // source 65535 (router), dest 0
    0x00, 0x00, 0x00, 0x00, // seq 0
    0x07, 0x00, 0x00, 0x00, // payload_len 7
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // logical_clock 0
    0xa0, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // system_time_ns 4_000
    0x6e, 0x6f, 0x20, 0x6d, 0xc3, 0xa1, 0x73, // "no más"
];

/// Every literal frame above.
const VALID: [&[u8]; 8] = [
    &SEND_FIRST,
    &SEND_SECOND,
    &BROADCAST,
    &SEND_TO,
    &HELLO,
    &WELCOME,
    &BYE,
    &ERROR,
];

fn complete(buf: &[u8]) -> (Frame<'_>, usize) {
    match parse(buf) {
        Ok(Parsed::Complete { frame, len }) => (frame, len),
        other => panic!("expected a complete frame, got {other:?}"),
    }
}

fn error_of(buf: &[u8]) -> FrameError {
    match parse(buf) {
        Err(error) => error,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// `base` with `bytes` written at `offset`.
fn patched(base: &[u8], offset: usize, bytes: &[u8]) -> Vec<u8> {
    let mut out = base.to_vec();
    out[offset..offset + bytes.len()].copy_from_slice(bytes);
    out
}

/// A frame with `base`'s header and `payload` (payload_len set to match).
fn with_payload(base: &[u8], payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).expect("test payloads are small");
    let mut out = patched(&base[..HEADER_LEN], LEN, &len.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

fn field_error(kind: Kind, field: &'static str, value: u64, allowed: &'static str) -> FrameError {
    FrameError::BadField {
        kind,
        field,
        value,
        allowed,
    }
}

fn payload_error(kind: Kind, reason: &'static str) -> FrameError {
    FrameError::BadPayload { kind, reason }
}

#[test]
fn data_frames_parse_with_every_field() {
    let (f, len) = complete(&SEND_FIRST);
    assert_eq!(len, 32);
    assert_eq!(f.kind(), Kind::SendFirst);
    assert_eq!((f.source(), f.dest(), f.seq()), (3, 0, 7));
    assert_eq!(f.logical_clock(), 42);
    assert_eq!(f.system_time_ns(), 1_700_000_000_123_456_789);
    assert_eq!(f.payload(), b"");
    assert_eq!((f.len(), f.is_empty()), (32, false));
    assert_eq!(f.header_bytes(), &SEND_FIRST[..]);
    assert_eq!(f.header().payload_len, 0);
    assert_eq!(
        (f.hello_name(), f.error_reason(), f.welcome()),
        (None, None, None)
    );

    let (f, len) = complete(&SEND_SECOND);
    assert_eq!(len, 35);
    assert_eq!(f.kind(), Kind::SendSecond);
    assert_eq!((f.source(), f.dest(), f.seq()), (0x0102, 0, 0x0102_0304));
    assert_eq!(f.logical_clock(), 0x0102_0304_0506_0708);
    assert_eq!(f.system_time_ns(), 0x1112_1314_1516_1718);
    assert_eq!(f.payload(), &[0xde, 0xad, 0xbe]);
    assert_eq!(f.len(), 35);
    assert_eq!(f.header().payload_len, 3);

    let (f, len) = complete(&BROADCAST);
    assert_eq!(len, 32);
    assert_eq!(f.kind(), Kind::Broadcast);
    assert_eq!((f.source(), f.dest(), f.seq()), (1, 0, 1));
    assert_eq!(f.logical_clock(), MAX_CLOCK);
    assert_eq!(f.system_time_ns(), u64::MAX);

    let (f, len) = complete(&SEND_TO);
    assert_eq!(len, 34);
    assert_eq!(
        f.header(),
        Header {
            kind: Kind::SendTo,
            source: 2,
            dest: 5,
            seq: 9,
            payload_len: 2,
            logical_clock: 100,
            system_time_ns: 5,
        }
    );
    assert_eq!(f.payload(), b"hi");
    assert_eq!(f.hello_name(), None);
}

#[test]
fn control_frames_parse_with_every_field() {
    let (f, len) = complete(&HELLO);
    assert_eq!(len, 37);
    assert_eq!(f.kind(), Kind::Hello);
    assert_eq!((f.source(), f.dest(), f.seq()), (ROUTER_ID, 0, 0));
    assert_eq!((f.logical_clock(), f.system_time_ns()), (0, 1_000));
    assert_eq!(f.hello_name(), Some("alice"));
    assert_eq!((f.error_reason(), f.welcome()), (None, None));

    let (f, len) = complete(&WELCOME);
    assert_eq!(len, 52);
    assert_eq!(f.kind(), Kind::Welcome);
    assert_eq!((f.source(), f.dest(), f.seq()), (ROUTER_ID, 2, 0));
    assert_eq!((f.logical_clock(), f.system_time_ns()), (0, 2_000));
    assert_eq!(
        f.welcome(),
        Some(Welcome {
            id: 2,
            machines: 3,
            start_time_ns: 1_700_000_001_000_000_000,
            seed: (1 << 63) + 42,
        })
    );
    assert_eq!(f.payload(), &WELCOME[32..]);
    assert_eq!((f.hello_name(), f.error_reason()), (None, None));

    let (f, len) = complete(&BYE);
    assert_eq!(len, 32);
    assert_eq!(f.kind(), Kind::Bye);
    assert_eq!((f.source(), f.dest(), f.seq()), (2, 0, 10));
    assert_eq!((f.logical_clock(), f.system_time_ns()), (55, 3_000));
    assert_eq!(f.welcome(), None);

    let (f, len) = complete(&ERROR);
    assert_eq!(len, 39);
    assert_eq!(f.kind(), Kind::Error);
    assert_eq!((f.source(), f.dest(), f.seq()), (ROUTER_ID, 0, 0));
    assert_eq!((f.logical_clock(), f.system_time_ns()), (0, 4_000));
    assert_eq!(f.error_reason(), Some("no más"));
    assert_eq!(f.hello_name(), None);

    // A BYE from the router and a BYE with the largest clock are valid too.
    let router_bye = patched(&BYE, SOURCE, &[0xff, 0xff]);
    assert_eq!(complete(&router_bye).0.source(), ROUTER_ID);
    let last_clock = patched(&BYE, CLOCK, &MAX_CLOCK.to_le_bytes());
    assert_eq!(complete(&last_clock).0.logical_clock(), MAX_CLOCK);
}

#[test]
fn kind_codes_names_and_classes() {
    let codes: Vec<u8> = Kind::ALL.iter().map(|k| k.code()).collect();
    assert_eq!(codes, [1, 2, 3, 4, 16, 17, 18, 19]);
    for kind in Kind::ALL {
        assert_eq!(Kind::from_code(kind.code()), Some(kind));
        assert_eq!(kind.to_string(), kind.name());
        assert_eq!(kind.is_data(), kind.code() <= 4);
    }
    let known = (0..=255u8)
        .filter(|&c| Kind::from_code(c).is_some())
        .count();
    assert_eq!(known, 8);
    assert_eq!(Kind::SendFirst.name(), "SEND_FIRST");
    assert_eq!(Kind::Error.to_string(), "ERROR");
}

#[test]
fn bad_magic_version_and_kind() {
    assert_eq!(error_of(b"XC"), FrameError::BadMagic(*b"XC"));
    assert_eq!(error_of(b"LX\x01\x01"), FrameError::BadMagic(*b"LX"));
    // One byte is enough to reject; the missing byte shows as 0.
    assert_eq!(error_of(b"Q"), FrameError::BadMagic([b'Q', 0]));
    assert_eq!(
        error_of(&patched(&SEND_FIRST, 0, b"CL")),
        FrameError::BadMagic(*b"CL")
    );
    // The version and kind are rejected as soon as their byte is there.
    assert_eq!(error_of(b"LC\x02"), FrameError::BadVersion(2));
    assert_eq!(
        error_of(&patched(&HELLO, 2, &[0])),
        FrameError::BadVersion(0)
    );
    for code in [0u8, 5, 15, 20, 255] {
        assert_eq!(
            error_of(&[0x4c, 0x43, 0x01, code]),
            FrameError::UnknownKind(code)
        );
        assert_eq!(
            error_of(&patched(&SEND_FIRST, 3, &[code])),
            FrameError::UnknownKind(code)
        );
    }
    assert_eq!(
        FrameError::BadMagic(*b"XC").to_string(),
        "bad magic 0x58 0x43: a frame must start with 0x4c 0x43 (\"LC\")"
    );
    assert_eq!(
        FrameError::UnknownKind(5).to_string(),
        "unknown kind 5: allowed kinds are 1-4 (data) and 16-19 (control)"
    );
}

#[test]
fn oversized_payload_len() {
    let too_long = patched(&SEND_FIRST, LEN, &65_537u32.to_le_bytes());
    assert_eq!(
        error_of(&too_long),
        FrameError::PayloadTooLong {
            len: 65_537,
            max: 65_536
        }
    );
    let huge = patched(&SEND_FIRST, LEN, &u32::MAX.to_le_bytes());
    assert_eq!(
        error_of(&huge),
        FrameError::PayloadTooLong {
            len: u32::MAX,
            max: 65_536
        }
    );
    // A limit above the format's own is capped at it.
    assert_eq!(
        parse_with_limit(&too_long, u32::MAX).err(),
        Some(FrameError::PayloadTooLong {
            len: 65_537,
            max: 65_536
        })
    );
    // Exactly the limit is fine (and waits for the payload).
    let largest = patched(&SEND_FIRST, LEN, &65_536u32.to_le_bytes());
    assert!(matches!(
        parse(&largest),
        Ok(Parsed::Incomplete { needed: 65_568 })
    ));
    // A lower limit, as a router may configure it.
    assert_eq!(
        parse_with_limit(&SEND_SECOND, 2).err(),
        Some(FrameError::PayloadTooLong { len: 3, max: 2 })
    );
    assert!(matches!(
        parse_with_limit(&SEND_SECOND, 3),
        Ok(Parsed::Complete { len: 35, .. })
    ));
    assert_eq!(
        parse_with_limit(&HELLO, 0).err(),
        Some(FrameError::PayloadTooLong { len: 5, max: 0 })
    );
    assert_eq!(
        FrameError::PayloadTooLong { len: 3, max: 2 }.to_string(),
        "payload_len 3 exceeds the limit of 2 bytes"
    );
}

#[test]
fn data_frame_fields_are_checked() {
    const ID: &str = "a data frame's source must be a machine id (1-65534)";
    const CLOCK_RANGE: &str = "a send event's clock is between 1 and 2^63-1";
    let cases: Vec<(Vec<u8>, FrameError)> = vec![
        (
            patched(&SEND_FIRST, SOURCE, &[0, 0]),
            field_error(Kind::SendFirst, "source", 0, ID),
        ),
        (
            patched(&BROADCAST, SOURCE, &[0xff, 0xff]),
            field_error(Kind::Broadcast, "source", 65_535, ID),
        ),
        (
            patched(&SEND_FIRST, DEST, &[1, 0]),
            field_error(Kind::SendFirst, "dest", 1, "must be 0 for this kind"),
        ),
        (
            patched(&SEND_SECOND, DEST, &[0, 1]),
            field_error(Kind::SendSecond, "dest", 256, "must be 0 for this kind"),
        ),
        (
            patched(&BROADCAST, DEST, &[0xff, 0xff]),
            field_error(Kind::Broadcast, "dest", 65_535, "must be 0 for this kind"),
        ),
        (
            patched(&SEND_TO, DEST, &[2, 0]),
            field_error(
                Kind::SendTo,
                "dest",
                2,
                "SEND_TO needs a machine id (1-65534) other than its source",
            ),
        ),
        (
            patched(&SEND_TO, DEST, &[0, 0]),
            field_error(
                Kind::SendTo,
                "dest",
                0,
                "SEND_TO needs a machine id (1-65534) other than its source",
            ),
        ),
        (
            patched(&SEND_TO, DEST, &[0xff, 0xff]),
            field_error(
                Kind::SendTo,
                "dest",
                65_535,
                "SEND_TO needs a machine id (1-65534) other than its source",
            ),
        ),
        (
            patched(&SEND_FIRST, SEQ, &[0, 0, 0, 0]),
            field_error(Kind::SendFirst, "seq", 0, "a data frame's seq starts at 1"),
        ),
        (
            patched(&SEND_TO, SEQ, &[0, 0, 0, 0]),
            field_error(Kind::SendTo, "seq", 0, "a data frame's seq starts at 1"),
        ),
        (
            patched(&SEND_FIRST, CLOCK, &0u64.to_le_bytes()),
            field_error(Kind::SendFirst, "logical_clock", 0, CLOCK_RANGE),
        ),
        (
            patched(&BROADCAST, CLOCK, &(1u64 << 63).to_le_bytes()),
            field_error(Kind::Broadcast, "logical_clock", 1 << 63, CLOCK_RANGE),
        ),
        (
            patched(&SEND_SECOND, CLOCK, &u64::MAX.to_le_bytes()),
            field_error(Kind::SendSecond, "logical_clock", u64::MAX, CLOCK_RANGE),
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(error_of(&bytes), expected, "{bytes:02x?}");
    }
    assert_eq!(
        error_of(&patched(&SEND_FIRST, DEST, &[1, 0])).to_string(),
        "SEND_FIRST frame with dest = 1: must be 0 for this kind"
    );
}

#[test]
fn control_frame_fields_are_checked() {
    const UNWELCOMED: &str = "must be 65535 (router or not yet welcomed)";
    const ZERO: &str = "must be 0 for this kind";
    let cases: Vec<(Vec<u8>, FrameError)> = vec![
        (
            patched(&HELLO, SOURCE, &[1, 0]),
            field_error(Kind::Hello, "source", 1, UNWELCOMED),
        ),
        (
            patched(&WELCOME, SOURCE, &[0, 0]),
            field_error(Kind::Welcome, "source", 0, UNWELCOMED),
        ),
        (
            patched(&ERROR, SOURCE, &[7, 0]),
            field_error(Kind::Error, "source", 7, UNWELCOMED),
        ),
        (
            patched(&BYE, SOURCE, &[0, 0]),
            field_error(
                Kind::Bye,
                "source",
                0,
                "must be a machine id or 65535 (router)",
            ),
        ),
        (
            patched(&WELCOME, DEST, &[0, 0]),
            field_error(
                Kind::Welcome,
                "dest",
                0,
                "WELCOME assigns a machine id (1-65534)",
            ),
        ),
        (
            patched(&WELCOME, DEST, &[0xff, 0xff]),
            field_error(
                Kind::Welcome,
                "dest",
                65_535,
                "WELCOME assigns a machine id (1-65534)",
            ),
        ),
        (
            patched(&HELLO, DEST, &[1, 0]),
            field_error(Kind::Hello, "dest", 1, ZERO),
        ),
        (
            patched(&BYE, DEST, &[2, 0]),
            field_error(Kind::Bye, "dest", 2, ZERO),
        ),
        (
            patched(&ERROR, DEST, &[3, 0]),
            field_error(Kind::Error, "dest", 3, ZERO),
        ),
        (
            patched(&HELLO, SEQ, &[1, 0, 0, 0]),
            field_error(Kind::Hello, "seq", 1, ZERO),
        ),
        (
            patched(&WELCOME, SEQ, &[0, 0, 0, 0x80]),
            field_error(Kind::Welcome, "seq", 0x8000_0000, ZERO),
        ),
        (
            patched(&ERROR, SEQ, &[9, 0, 0, 0]),
            field_error(Kind::Error, "seq", 9, ZERO),
        ),
        (
            patched(&HELLO, CLOCK, &1u64.to_le_bytes()),
            field_error(Kind::Hello, "logical_clock", 1, ZERO),
        ),
        (
            patched(&WELCOME, CLOCK, &5u64.to_le_bytes()),
            field_error(Kind::Welcome, "logical_clock", 5, ZERO),
        ),
        (
            patched(&ERROR, CLOCK, &u64::MAX.to_le_bytes()),
            field_error(Kind::Error, "logical_clock", u64::MAX, ZERO),
        ),
        (
            patched(&BYE, CLOCK, &(1u64 << 63).to_le_bytes()),
            field_error(
                Kind::Bye,
                "logical_clock",
                1 << 63,
                "must be at most 2^63-1",
            ),
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(error_of(&bytes), expected, "{bytes:02x?}");
    }
}

#[test]
fn control_payload_lengths_are_checked() {
    const NAME: &str = "a name is 1 to 255 bytes";
    const TWENTY: &str = "a WELCOME payload is exactly 20 bytes";
    let cases: Vec<(Vec<u8>, FrameError)> = vec![
        (
            with_payload(&HELLO, b""),
            field_error(Kind::Hello, "payload_len", 0, NAME),
        ),
        (
            with_payload(&HELLO, &[b'n'; 256]),
            field_error(Kind::Hello, "payload_len", 256, NAME),
        ),
        (
            with_payload(&WELCOME, &WELCOME[32..51]),
            field_error(Kind::Welcome, "payload_len", 19, TWENTY),
        ),
        (
            with_payload(&WELCOME, &[0; 21]),
            field_error(Kind::Welcome, "payload_len", 21, TWENTY),
        ),
        (
            with_payload(&WELCOME, b""),
            field_error(Kind::Welcome, "payload_len", 0, TWENTY),
        ),
        (
            with_payload(&BYE, &[0]),
            field_error(Kind::Bye, "payload_len", 1, "BYE has no payload"),
        ),
        (
            with_payload(&ERROR, b""),
            field_error(
                Kind::Error,
                "payload_len",
                0,
                "an ERROR carries a reason of at least 1 byte",
            ),
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(error_of(&bytes), expected, "{bytes:02x?}");
    }
    // The length checks need only the header: a 256-byte HELLO is refused before its payload.
    assert_eq!(
        error_of(&with_payload(&HELLO, &[b'n'; 256])[..HEADER_LEN]),
        field_error(Kind::Hello, "payload_len", 256, NAME)
    );
    // The longest name is fine.
    let longest = with_payload(&HELLO, &[b'n'; 255]);
    assert_eq!(complete(&longest).0.hello_name().map(str::len), Some(255));
}

#[test]
fn control_payload_contents_are_checked() {
    const UTF8: &str = "is not valid UTF-8";
    let cases: Vec<(Vec<u8>, FrameError)> = vec![
        (
            with_payload(&HELLO, b"al\xffce"),
            payload_error(Kind::Hello, UTF8),
        ),
        // A name cut inside a character.
        (
            with_payload(&HELLO, &"é".as_bytes()[..1]),
            payload_error(Kind::Hello, UTF8),
        ),
        (
            with_payload(&ERROR, b"\xc3("),
            payload_error(Kind::Error, UTF8),
        ),
        (
            patched(&WELCOME, 32, &[1, 0]),
            payload_error(Kind::Welcome, "must name between 2 and 65534 machines"),
        ),
        (
            patched(&WELCOME, 32, &[0, 0]),
            payload_error(Kind::Welcome, "must name between 2 and 65534 machines"),
        ),
        (
            patched(&WELCOME, 32, &[0xff, 0xff]),
            payload_error(Kind::Welcome, "must name between 2 and 65534 machines"),
        ),
        (
            patched(&WELCOME, DEST, &[4, 0]),
            payload_error(
                Kind::Welcome,
                "assigns an id larger than the number of machines",
            ),
        ),
        (
            patched(&WELCOME, 34, &[0, 1]),
            payload_error(Kind::Welcome, "has non-zero reserved bytes"),
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(error_of(&bytes), expected, "{bytes:02x?}");
    }
    // The edges that are allowed: id = machines, and 2 machines.
    let last_id = patched(&WELCOME, DEST, &[3, 0]);
    assert_eq!(complete(&last_id).0.welcome().map(|w| w.id), Some(3));
    let two = patched(&patched(&WELCOME, 32, &[2, 0]), DEST, &[1, 0]);
    assert_eq!(
        complete(&two).0.welcome().map(|w| (w.id, w.machines)),
        Some((1, 2))
    );
    assert_eq!(
        payload_error(Kind::Hello, UTF8).to_string(),
        "HELLO payload is not valid UTF-8"
    );
}

#[test]
fn every_short_length_is_incomplete() {
    for frame in VALID {
        for cut in 0..frame.len() {
            let needed = if cut < HEADER_LEN {
                HEADER_LEN
            } else {
                frame.len()
            };
            match parse(&frame[..cut]) {
                Ok(Parsed::Incomplete { needed: got }) => {
                    assert_eq!(got, needed, "{cut} bytes of {frame:02x?}")
                }
                other => panic!("{cut} bytes of {frame:02x?} gave {other:?}"),
            }
        }
    }
}

#[test]
fn trailing_bytes_are_left_unconsumed() {
    let mut stream = Vec::new();
    for frame in VALID {
        stream.extend_from_slice(frame);
    }
    stream.extend_from_slice(&HELLO[..10]);
    let mut rest = &stream[..];
    for frame in VALID {
        let (parsed, len) = complete(rest);
        assert_eq!(len, frame.len());
        assert_eq!(parsed.header_bytes(), &frame[..HEADER_LEN]);
        assert_eq!(parsed.payload(), &frame[HEADER_LEN..]);
        rest = &rest[len..];
    }
    assert_eq!(rest, &HELLO[..10]);
    assert!(matches!(parse(rest), Ok(Parsed::Incomplete { needed: 32 })));
}

#[test]
fn emit_writes_every_byte() {
    let header = Header {
        kind: Kind::SendSecond,
        source: 0x0102,
        dest: 0,
        seq: 0x0102_0304,
        payload_len: 3,
        logical_clock: 0x0102_0304_0506_0708,
        system_time_ns: 0x1112_1314_1516_1718,
    };
    let mut out = [0xa5; HEADER_LEN];
    header.emit(&mut out);
    assert_eq!(out, SEND_SECOND[..HEADER_LEN]);

    let mut out = [0xa5; HEADER_LEN];
    Header::data(Kind::SendFirst, 3, 0, 7, 42, 1_700_000_000_123_456_789).emit(&mut out);
    assert_eq!(out, SEND_FIRST);

    // write_frame appends, and takes payload_len from the payload.
    let mut buf = vec![0xa5];
    Header {
        payload_len: 999,
        ..header
    }
    .write_frame(&[0xde, 0xad, 0xbe], &mut buf);
    assert_eq!(buf[0], 0xa5);
    assert_eq!(buf[1..], SEND_SECOND);

    let to = Header::data(Kind::SendTo, 2, 5, 9, 100, 5).to_frame(b"hi");
    assert_eq!(to, SEND_TO);
    assert_eq!(
        Header::data(Kind::Broadcast, 1, 0, 1, MAX_CLOCK, u64::MAX).to_frame(&[]),
        BROADCAST
    );
}

#[test]
fn builders_make_the_literal_frames() {
    assert_eq!(hello("alice", 1_000).as_deref(), Some(&HELLO[..]));
    assert_eq!(hello("", 1_000), None);
    assert_eq!(hello(&"n".repeat(256), 1_000), None);
    let longest = hello(&"n".repeat(255), 0).expect("255 bytes is allowed");
    assert_eq!(complete(&longest).0.hello_name().map(str::len), Some(255));

    let body = Welcome {
        id: 2,
        machines: 3,
        start_time_ns: 1_700_000_001_000_000_000,
        seed: (1 << 63) + 42,
    };
    assert_eq!(body.payload(), WELCOME[32..]);
    assert_eq!(welcome(body, 2_000), WELCOME);
    assert_eq!(complete(&welcome(body, 2_000)).0.welcome(), Some(body));

    assert_eq!(bye(2, 10, 55, 3_000), BYE);
    // A clock past the wire's range is clamped, so the BYE still parses.
    let clamped = bye(ROUTER_ID, 0, u64::MAX, 0);
    let (frame, _) = complete(&clamped);
    assert_eq!(
        (frame.source(), frame.logical_clock()),
        (ROUTER_ID, MAX_CLOCK)
    );

    assert_eq!(error("no más", 4_000), ERROR);
    assert_eq!(complete(&error("", 0)).0.error_reason(), Some("error"));
    let long = complete_owned_reason(&"x".repeat(2_000));
    assert_eq!(long.len(), 1_024);
    // 1 + 600 two-byte characters: byte 1,024 falls inside a character, so the cut is at 1,023.
    let multibyte = format!("a{}", "é".repeat(600));
    let cut = complete_owned_reason(&multibyte);
    assert_eq!(cut.len(), 1_023);
    assert_eq!(cut, multibyte[..1_023]);
}

/// The reason an [`error`] frame built from `reason` carries.
fn complete_owned_reason(reason: &str) -> String {
    let frame = error(reason, 0);
    let (parsed, len) = complete(&frame);
    assert_eq!(len, frame.len());
    parsed.error_reason().unwrap_or_default().to_owned()
}

#[test]
fn every_one_byte_change_of_every_literal_keeps_the_contract() {
    for frame in VALID {
        for at in 0..frame.len() {
            for value in 0..=255u8 {
                let mut bytes = frame.to_vec();
                bytes[at] = value;
                check_parse_properties(&bytes, MAX_PAYLOAD_LEN);
                check_parse_properties(&bytes, 4);
            }
        }
    }
}

#[test]
fn the_committed_fuzz_seeds_are_what_their_names_say() {
    macro_rules! seed {
        ($name:literal) => {
            &include_bytes!(concat!("../../../fuzz/corpus/frame_parser/seed-", $name))[..]
        };
    }
    let literal = [
        (seed!("send-first"), &SEND_FIRST[..]),
        (seed!("send-second"), &SEND_SECOND[..]),
        (seed!("broadcast"), &BROADCAST[..]),
        (seed!("send-to"), &SEND_TO[..]),
        (seed!("hello"), &HELLO[..]),
        (seed!("welcome"), &WELCOME[..]),
        (seed!("bye"), &BYE[..]),
        (seed!("error"), &ERROR[..]),
    ];
    for (seed, frame) in literal {
        assert_eq!(seed, frame);
    }
    assert_eq!(error_of(seed!("bad-magic")), FrameError::BadMagic(*b"CL"));
    assert_eq!(error_of(seed!("unknown-kind")), FrameError::UnknownKind(5));
    assert_eq!(
        error_of(seed!("hello-not-utf8")),
        payload_error(Kind::Hello, "is not valid UTF-8")
    );
    assert_eq!(
        error_of(seed!("welcome-reserved")),
        payload_error(Kind::Welcome, "has non-zero reserved bytes")
    );
    assert!(matches!(
        parse(seed!("send-to-short")),
        Ok(Parsed::Incomplete { needed: 34 })
    ));
    let two = seed!("two-frames");
    let (first, len) = complete(two);
    assert_eq!((first.kind(), len), (Kind::SendFirst, 32));
    assert_eq!(complete(&two[len..]).0.hello_name(), Some("bob"));
}

/// The bytes of the hex dump in the first `text` block after `marker` in docs/PROTOCOL.md: lines
/// of an offset (hex) and up to 8 two-digit hex bytes, then an optional comment.
fn doc_dump(marker: &str) -> Vec<u8> {
    let doc = include_str!("../../../docs/PROTOCOL.md");
    let (_, after) = doc.split_once(marker).expect("the marker is in the doc");
    let (_, block) = after.split_once("```text\n").expect("a text block follows");
    let (block, _) = block.split_once("```").expect("the block ends");
    let mut bytes = Vec::new();
    for (row, line) in block.lines().enumerate() {
        let mut tokens = line.split_whitespace();
        assert_eq!(
            tokens.next(),
            Some(format!("{:02x}", row * 8).as_str()),
            "{line}"
        );
        let hex = tokens.take_while(|t| t.len() == 2 && t.bytes().all(|b| b.is_ascii_hexdigit()));
        bytes.extend(hex.map(|t| u8::from_str_radix(t, 16).expect("two hex digits")));
    }
    bytes
}

#[test]
fn the_protocol_doc_examples_are_what_the_code_emits() {
    let send_first = Header::data(Kind::SendFirst, 2, 0, 1, 5, 1_732_560_000_123_456_789);
    assert_eq!(
        doc_dump("<!-- dump: send_first -->"),
        send_first.to_frame(&[])
    );
    let hello_frame = hello("alice", 1_732_559_999_000_000_000).expect("a short name");
    assert_eq!(doc_dump("<!-- dump: hello -->"), hello_frame);
}

/// A valid data-frame header without payload: any kind 1-4, any machine ids, seq and clock in range.
fn data_header() -> impl Strategy<Value = Header> {
    (
        0..4usize,
        1..=65_534u16,
        1..=65_533u16,
        1..=u32::MAX,
        1..=MAX_CLOCK,
        any::<u64>(),
    )
        .prop_map(|(k, source, d, seq, clock, time)| {
            let kind = Kind::ALL[k];
            // Skip over the source so SEND_TO never targets itself.
            let dest = match kind {
                Kind::SendTo if d >= source => d + 1,
                Kind::SendTo => d,
                _ => 0,
            };
            Header::data(kind, source, dest, seq, clock, time)
        })
}

/// A valid frame of any kind.
fn valid_frame() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (data_header(), vec(any::<u8>(), 0..40)).prop_map(|(h, p)| h.to_frame(&p)),
        ("\\PC{1,40}", any::<u64>())
            .prop_filter_map("a name of 1-255 bytes", |(name, t)| hello(&name, t)),
        (
            2..=65_534u16,
            any::<u16>(),
            any::<u64>(),
            any::<u64>(),
            any::<u64>()
        )
            .prop_map(|(machines, id, start_time_ns, seed, t)| welcome(
                Welcome {
                    id: 1 + id % machines,
                    machines,
                    start_time_ns,
                    seed,
                },
                t
            )),
        (1..=u16::MAX, any::<u32>(), any::<u64>(), any::<u64>())
            .prop_map(|(source, sent, clock, t)| bye(source, sent, clock, t)),
        ("\\PC{0,40}", any::<u64>()).prop_map(|(reason, t)| error(&reason, t)),
    ]
}

/// A payload limit: the format's own, a small one, or one above the format's.
fn limit() -> impl Strategy<Value = u32> {
    prop_oneof![Just(MAX_PAYLOAD_LEN), 0..64u32, Just(u32::MAX)]
}

proptest! {
    #[test]
    fn data_headers_round_trip(header in data_header(), payload in vec(any::<u8>(), 0..64)) {
        let bytes = header.to_frame(&payload);
        let (frame, len) = complete(&bytes);
        prop_assert_eq!(len, HEADER_LEN + payload.len());
        let expected = Header { payload_len: payload.len() as u32, ..header };
        prop_assert_eq!(frame.header(), expected);
        prop_assert_eq!(frame.payload(), &payload[..]);
    }

    #[test]
    fn arbitrary_bytes_keep_the_contract(data in vec(any::<u8>(), 0..100), max in limit()) {
        check_parse_properties(&data, max);
    }

    #[test]
    fn mutated_frames_keep_the_contract(
        frame in valid_frame(),
        changes in vec((any::<Index>(), any::<u8>()), 0..4),
        cut in any::<Index>(),
        max in limit(),
    ) {
        let mut data = frame;
        for (at, value) in changes {
            let at = at.index(data.len());
            data[at] = value;
        }
        data.truncate(cut.index(data.len() + 1));
        check_parse_properties(&data, max);
    }

    #[test]
    fn a_frame_followed_by_anything_parses_alone(
        frame in valid_frame(),
        tail in vec(any::<u8>(), 0..64),
    ) {
        check_parse_properties(&frame, MAX_PAYLOAD_LEN);
        let mut data = frame.clone();
        data.extend_from_slice(&tail);
        let (alone, alone_len) = complete(&frame);
        let (followed, len) = complete(&data);
        prop_assert_eq!(len, alone_len);
        prop_assert_eq!(len, frame.len());
        prop_assert_eq!(followed.header(), alone.header());
        prop_assert_eq!(followed.payload(), alone.payload());
    }
}

#[test]
fn kind_index_is_the_position_in_all() {
    for (i, kind) in Kind::ALL.into_iter().enumerate() {
        assert_eq!(kind.index(), i);
        assert_eq!(Kind::from_code(kind.code()), Some(kind));
    }
}
