//! clocklab: a scale model of an asynchronous distributed system for studying Lamport logical
//! clocks.
//!
//! The pure core takes time and input as arguments and touches no sockets, files or OS clock:
//! [`wire`] (the frame format), [`clock`] and [`machine`] (the model machine), [`route`] (who a
//! frame goes to). The drivers around it own the I/O.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod analysis;
pub mod check;
pub mod cli;
pub mod client;
pub mod clock;
pub mod commands;
pub mod config;
pub mod eventlog;
pub mod experiment;
pub mod machine;
pub mod report;
pub mod route;
pub mod router;
pub mod run;
pub mod rundir;
pub mod sim;
pub mod simulate;
pub mod wallclock;
pub mod wire;
