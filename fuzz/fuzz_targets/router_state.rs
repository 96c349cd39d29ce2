//! Drives the router's switchboard in process with arbitrary operations on several connections
//! and checks its promises after every step (`clocklab::core::switchboard::check_switchboard_properties`).
#![no_main]

use clocklab::core::switchboard::check_switchboard_properties;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = check_switchboard_properties(data);
});
