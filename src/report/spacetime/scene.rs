//! What the space-time diagram draws, gathered from a trial as it streams by (the
//! [`Sketch`](crate::report::sketch::Sketch)): the events that may lie in the window, the
//! messages with an end there, the messages never received, and where each machine's log ends.
//! Nothing else of the trial is needed to draw it.

use crate::core::event::EventKind;

/// Where an event comes in an order consistent with happened-before that is the same whatever
/// order the events were seen in: `(round, machine position, row index)`, the round being the
/// first sweep over the machines (each machine as far as it can go, a receive only once its send
/// was taken) in which the event could be taken ([`Causality::order`]'s order).
///
/// [`Causality::order`]: crate::analysis::causality::Causality::order
pub type Key = (u32, usize, usize);

/// One event the diagram may mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// Its `system_time`, microseconds since the UNIX epoch.
    pub time_us: u64,
    /// Its kind.
    pub kind: EventKind,
    /// Its Lamport clock.
    pub clock: u64,
    /// Whether its clock rose by more than one at it.
    pub jumped: bool,
}

/// A message received, drawn as an arrow from its send to its receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrow {
    /// Where the send comes in the causal order.
    pub send: Key,
    /// Where the receive comes.
    pub receive: Key,
    /// The send's time and machine position.
    pub from: (u64, usize),
    /// The receive's time and machine position.
    pub to: (u64, usize),
    /// 1 from a send, 2 from a broadcast.
    pub colour: usize,
}

/// A message one machine never received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lost {
    /// Where the send comes in the causal order.
    pub send: Key,
    /// The send's time and machine position.
    pub from: (u64, usize),
    /// The machine (position) that did not receive it.
    pub to: usize,
}

/// Everything the diagram of one window draws.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scene {
    /// Per machine, in log order, the events that may lie in the window (at least those that
    /// do).
    pub marks: Vec<Vec<Mark>>,
    /// The messages with an end in the window (at least those), by send then receive.
    pub arrows: Vec<Arrow>,
    /// Every message never received, once per machine that did not, by send then machine.
    pub lost: Vec<Lost>,
    /// Per machine, the time of the last row of its log.
    pub last_us: Vec<Option<u64>>,
}

impl Scene {
    /// Puts the messages in the order they are drawn: by send, then by receive or machine.
    pub fn sort(&mut self) {
        self.arrows.sort_unstable_by_key(|a| (a.send, a.receive));
        self.lost.sort_unstable_by_key(|l| (l.send, l.to));
    }
}
