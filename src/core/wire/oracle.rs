//! The wire contract as executable checks: the oracle the property tests and the fuzz target run on
//! arbitrary bytes. Compiled only for tests and for `--cfg fuzzing`.

use super::{
    Frame, FrameError, HEADER_LEN, Kind, MAX_PAYLOAD_LEN, Parsed, parse_in_full, parse_with_limit,
};

/// The fuzz and property-test oracle: checks that [`parse_with_limit`] keeps the module contract
/// on `data` with the limit `max_payload`.
///
/// On a complete frame: `len` is `HEADER_LEN + payload_len`, within the limit and within `data`;
/// the header bytes are `data[..HEADER_LEN]` and re-emit to exactly those bytes; the payload is
/// `data[HEADER_LEN..len]`; the kind's typed getter answers; re-parsing `data[..len]` gives the
/// same frame; and every proper prefix up to the header's end, plus a few longer ones, is
/// `Incomplete` with the right `needed`. On `Incomplete`: `needed` exceeds `data.len()` and is at
/// most a maximal frame. On an error: its message is not empty. Whatever the answer, the shortcut
/// for whole data frames agrees with every check taken in order (`parse_in_full`).
///
/// # Panics
///
/// With a message naming the broken property, if any property fails (that is, if the parser has a
/// bug). Panicking is the point: the fuzzer and proptest report it with the input.
pub fn check_parse_properties(data: &[u8], max_payload: u32) {
    let limit = max_payload.min(MAX_PAYLOAD_LEN) as usize;
    let parsed = parse_with_limit(data, max_payload);
    check_shortcut_agrees(data, max_payload, &parsed);
    match parsed {
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

/// `parse_with_limit`'s answer `parsed` is the one the full parse gives: the same frame and
/// length, the same bytes needed, or the same error.
fn check_shortcut_agrees(data: &[u8], max_payload: u32, parsed: &Result<Parsed<'_>, FrameError>) {
    let full = parse_in_full(data, max_payload);
    let agree = match (parsed, &full) {
        (Ok(Parsed::Complete { frame, len }), Ok(Parsed::Complete { frame: f, len: l })) => {
            len == l && frame.header() == f.header() && frame.payload() == f.payload()
        }
        (Ok(Parsed::Incomplete { needed }), Ok(Parsed::Incomplete { needed: n })) => needed == n,
        (Err(e), Err(f)) => e == f,
        _ => false,
    };
    assert!(
        agree,
        "the data-frame shortcut gives {parsed:?}, the full parse {full:?}"
    );
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
