//! The drivers over real sockets: the only code that uses mio, signals, child processes and the OS
//! clock. Each is a thin loop around a sans-IO part of [`crate::core`]: the router around the
//! switchboard, the client around the model machine; [`process`] starts and stops them for `run`.

pub mod client;
pub mod process;
pub mod router;
pub mod wallclock;
