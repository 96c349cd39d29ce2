//! A trial analysed as its rows stream by, in one pass over its logs merged in causal order
//! ([`merge_by_clock`](crate::rundir::log::merge_by_clock)), holding state per machine and per
//! message in flight rather than the trial's rows (docs/ANALYSIS.md, "Memory and time").
//!
//! A [`Watch`] sees every event as the stream meets it, with what the pass worked out for it
//! (its matched send, vector clock and hybrid timestamp): the drawings keep the few events they
//! draw this way.

use crate::analysis::causality::EventRef;
use crate::analysis::hlc::Hlc;
use crate::core::event::{EventKind, Record};

/// The send a receive was matched with, as the stream knew it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The send or broadcast.
    pub event: EventRef,
    /// Its `system_time`, microseconds since the UNIX epoch.
    pub time_us: u64,
    /// `Send` or `Broadcast`.
    pub kind: EventKind,
}

/// One event as the stream meets it: each machine's events in log order, every receive after its
/// send.
#[derive(Clone, Copy, Debug)]
pub struct Seen<'a> {
    /// The event: its machine's position in the trial and its row's position in the log.
    pub event: EventRef,
    /// Its row.
    pub record: &'a Record,
    /// For a receive, the send it was matched with; `None` for other events and for receives
    /// whose send is in no log (or comes after them: logs that break the receive rule).
    pub send: Option<Sent>,
    /// Its vector clock, in trial machine order; `None` when the trial is too large for vector
    /// clocks ([`MAX_ENTRIES`](crate::analysis::causality::MAX_ENTRIES)).
    pub vector: Option<&'a [u32]>,
    /// Its hybrid logical timestamp ([`hlc::step`](crate::analysis::hlc::step)); `None` as
    /// `vector` is.
    pub hlc: Option<Hlc>,
}

/// A message some machine never took off its queue by the end of the trial: the send, and the
/// machines (by position in the trial) that did not receive it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreceived {
    /// The send or broadcast, as a receive would have named it.
    pub send: Sent,
    /// The machines that should have received it and did not, ascending.
    pub receivers: Vec<usize>,
}

/// Something that looks at every event of a trial as the stream meets it.
pub trait Watch {
    /// Called once per event, in the stream's order.
    fn seen(&mut self, event: &Seen<'_>);
}

/// A watch that looks at nothing.
impl Watch for () {
    fn seen(&mut self, _: &Seen<'_>) {}
}
