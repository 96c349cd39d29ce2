//! clocklab: a scale model of an asynchronous distributed system for studying Lamport logical
//! clocks.
//!
//! The modules are layers, and each imports only the layers below it (docs/ARCHITECTURE.md; the
//! test `tests/layers.rs` keeps it so):
//!
//! - [`core`]: the pure rules, with time as an argument and no I/O: the wire format, the Lamport
//!   clock, routing, the model machine, the event record, seeds, and the router's switchboard.
//! - [`config`]: the typed configuration file, its validation, and the latency models.
//! - [`rundir`]: the files of a run directory (names, YAML records, event logs) and the one loader
//!   of a run.
//! - [`net`] and [`sim`]: the two drivers of the core, over real sockets and on virtual time.
//! - [`check`], [`analysis`], [`report`]: verdicts, figures and their rendering, from the files.
//! - [`cli`]: one file per subcommand.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod analysis;
pub mod check;
pub mod cli;
pub mod config;
pub mod core;
pub mod net;
pub mod report;
pub mod rundir;
pub mod sim;
