//! The drivers over real sockets: the only code that uses mio, signals, child processes and the OS
//! clock. Each is a thin loop around a sans-IO part of [`crate::core`]: the router around the
//! switchboard, the client around the model machine; [`process`] starts and stops them for `run`.

pub mod client;
pub mod process;
pub mod router;
pub mod wallclock;

use signal_hook::consts::{SIGINT, SIGTERM};

/// The two signals every driver stops on: SIGINT (Ctrl-C) and SIGTERM.
pub(crate) const STOP_SIGNALS: [i32; 2] = [SIGINT, SIGTERM];

/// The name of one of [`STOP_SIGNALS`], as the drivers log it and `router.yaml` records it.
pub(crate) fn signal_name(signal: i32) -> &'static str {
    if signal == SIGINT {
        "SIGINT"
    } else {
        "SIGTERM"
    }
}
