//! The router's rules as a sans-IO state machine: registration (HELLO, ids by sorted name,
//! WELCOME), data validation and routing, BYE, refusals, the stop protocol and the books. The mio
//! driver in `net::router` feeds it bytes and times and carries out what it decides.

mod pairs;

pub use pairs::{KindCount, PairCount, PairTable};
