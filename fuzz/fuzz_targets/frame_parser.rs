//! Feeds arbitrary bytes to the frame parser and checks the wire module's contract on the answer
//! (`clocklab::core::wire::check_parse_properties`), with the format's limit and with a small limit taken
//! from the first byte, as a router configured lower would use.
#![no_main]

use clocklab::core::wire::{MAX_PAYLOAD_LEN, check_parse_properties};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check_parse_properties(data, MAX_PAYLOAD_LEN);
    if let Some((&limit, rest)) = data.split_first() {
        check_parse_properties(rest, u32::from(limit));
    }
});
