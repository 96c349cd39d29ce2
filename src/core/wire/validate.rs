//! The checks [`parse_with_limit`](super::parse_with_limit) runs: magic, version and kind as soon as
//! their bytes are present, then the header fields against what the kind allows, then the payload.

use zerocopy::FromBytes;

use super::{
    FrameError, Kind, MAGIC, MAX_CLOCK, MAX_NAME_LEN, ROUTER_ID, RawHeader, RawWelcome, VERSION,
    WELCOME_LEN, field,
};

pub(super) fn check_prefix(buf: &[u8]) -> Result<(), FrameError> {
    let present = buf.len().min(field::MAGIC.end);
    // Byte by byte: a comparison of slices of unknown length calls `bcmp`, which cost the
    // router's stream several percent (docs/BENCHMARKS.md).
    if buf.iter().zip(MAGIC).any(|(&got, want)| got != want) {
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
pub(super) fn check_fields(kind: Kind, raw: &RawHeader) -> Result<(), FrameError> {
    if kind.is_data() {
        return check_data_fields(kind, raw);
    }
    let source = raw.source.get();
    let dest = raw.dest.get();
    let seq = raw.seq.get();
    let clock = raw.logical_clock.get();
    let len = raw.payload_len.get();
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
pub(super) fn check_payload(kind: Kind, raw: &RawHeader, payload: &[u8]) -> Result<(), FrameError> {
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

/// Checks a data frame's header fields (`kind` is a data kind).
#[inline(always)]
pub(super) fn check_data_fields(kind: Kind, raw: &RawHeader) -> Result<(), FrameError> {
    let source = raw.source.get();
    let dest = raw.dest.get();
    let seq = raw.seq.get();
    let clock = raw.logical_clock.get();
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
    Ok(())
}
