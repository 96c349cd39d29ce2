//! The drivers over real sockets: the only code that uses mio, signals and the OS clock. Each is a
//! thin loop around a sans-IO part of [`crate::core`]: the router around the switchboard, the
//! client around the model machine.

pub mod client;
pub mod router;
pub mod wallclock;
