//! The pure core: rules with time as an argument and no I/O. Nothing here opens a socket or a file,
//! reads a clock or imports a module outside `core`.
//!
//! - [`wire`]: the frame format, the only code that knows byte offsets.
//! - [`clock`]: the Lamport clock. [`route`]: who a data frame goes to.
//! - [`machine`]: the model machine, `handle_*` in and `poll_*` out.
//! - [`event`]: one event of a machine, as a log row.
//! - [`fault`]: the pure pieces of a fault plan: windows, links, partition modes, skewed clocks.
//! - [`latency`]: latency models (fixed, uniform, exponential), drawn from a seeded generator.
//! - [`seed`]: every seed derived from a run's master seed.
//! - [`histogram`]: distributions of nanosecond values (tick lateness, hop latency) and the
//!   empirical model drawn from one.
//! - [`switchboard`]: the router's rules as a sans-IO state machine.

pub mod clock;
pub mod event;
pub mod fault;
pub mod histogram;
pub mod latency;
pub mod machine;
pub mod route;
pub mod seed;
pub mod switchboard;
pub mod wire;
