//! Two trials of the same seed compared event by event: per machine, whether the sequences of
//! (event, peer, clock) are identical, and if not the first divergence with both rows and its
//! likely cause. `clocklab diff` prints it; the rows come from the logs, so a real run can be
//! compared with its simulation, or two simulations with different timing models.

use std::fmt;

use crate::core::event::{EventKind, Record};

pub mod weather;

/// One machine's comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum MachineDiff {
    /// The same events, in the same order, with the same clocks.
    Identical {
        /// How many events each side has.
        events: usize,
    },
    /// The sequences part at `index` (from 0): the rows there (absent when that side ended).
    Diverged(Divergence),
}

/// Where two sequences of events first differ.
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// The index of the first differing event (0 for the first), in both logs.
    pub index: usize,
    /// Side A's row there, if A has one.
    pub a: Option<Record>,
    /// Side B's row there, if B has one.
    pub b: Option<Record>,
    /// The likely cause.
    pub cause: Cause,
}

/// Why two sequences parted, as far as the rows tell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cause {
    /// One side took a message at this tick that the other took at another tick (or never):
    /// it arrived on the other side of a tick. `other_index` is where the other side received
    /// it, if it did.
    ArrivedAcrossATick {
        /// The side that received it here: `'A'` or `'B'`.
        side: char,
        /// The message's sender.
        source: u16,
        /// The message's seq.
        seq: u32,
        /// Where the other side received it, if it did.
        other_index: Option<usize>,
    },
    /// Both received a message from the same sender at the same event but with another clock:
    /// the sender had diverged first.
    SenderDivergedFirst {
        /// The sender.
        source: u16,
    },
    /// The same draw history led elsewhere: the seeds (or the action range) differ.
    DifferentDraws,
    /// One side has more events: it ran longer, or stopped earlier.
    Length,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::ArrivedAcrossATick {
                side,
                source,
                seq,
                other_index,
            } => {
                write!(
                    f,
                    "the message from machine {source} (seq {seq}) arrived on the other side of a \
                     tick: {side} took it here, "
                )?;
                match other_index {
                    Some(k) => write!(f, "the other side at event {}", k + 1),
                    None => write!(f, "the other side never did"),
                }
            }
            Cause::SenderDivergedFirst { source } => write!(
                f,
                "the message from machine {source} carries another clock: machine {source} \
                 diverged first"
            ),
            Cause::DifferentDraws => f.write_str(
                "the machine drew another action: the seeds or the action range differ, or an \
                 earlier receive changed its draws",
            ),
            Cause::Length => {
                f.write_str("one side has more events: it ran longer or stopped earlier")
            }
        }
    }
}

/// What the comparison looks at in a row: its event, its peer and its clock.
fn key(r: &Record) -> (EventKind, Option<u16>, u64) {
    (r.event, r.peer, r.logical_clock)
}

/// Where `side` received the message `(source, seq)`, if it did.
fn received_at(side: &[Record], source: u16, seq: u32) -> Option<usize> {
    side.iter()
        .position(|r| r.event == EventKind::Receive && r.peer == Some(source) && r.seq == Some(seq))
}

/// Compares one machine's rows in trial A with its rows in trial B.
pub fn diff_machine(a: &[Record], b: &[Record]) -> MachineDiff {
    let Some(index) = (0..a.len().max(b.len())).find(|&i| a.get(i).map(key) != b.get(i).map(key))
    else {
        return MachineDiff::Identical { events: a.len() };
    };
    let (ra, rb) = (a.get(index).copied(), b.get(index).copied());
    let receive = |r: &Option<Record>| {
        r.filter(|r| r.event == EventKind::Receive)
            .and_then(|r| Some((r.peer?, r.seq?)))
    };
    let cause = match (receive(&ra), receive(&rb)) {
        _ if ra.is_none() || rb.is_none() => Cause::Length,
        (Some(ma), Some(mb)) if ma == mb => Cause::SenderDivergedFirst { source: ma.0 },
        (Some((source, seq)), _) => Cause::ArrivedAcrossATick {
            side: 'A',
            source,
            seq,
            other_index: received_at(b, source, seq),
        },
        (None, Some((source, seq))) => Cause::ArrivedAcrossATick {
            side: 'B',
            source,
            seq,
            other_index: received_at(a, source, seq),
        },
        (None, None) => Cause::DifferentDraws,
    };
    MachineDiff::Diverged(Divergence {
        index,
        a: ra,
        b: rb,
        cause,
    })
}

/// One side of a divergence as text: `receive from 2, clock 9 (line 18)`.
pub fn describe(row: Option<&Record>, index: usize) -> String {
    let Some(r) = row else {
        return format!("no event {} (the log ends)", index + 1);
    };
    let peer = match (r.event, r.peer) {
        (EventKind::Receive, Some(p)) => format!(" from {p}"),
        (EventKind::Send, Some(p)) => format!(" to {p}"),
        _ => String::new(),
    };
    // Line 1 of a log is its header.
    format!(
        "{}{peer}, clock {} (line {})",
        r.event.as_str(),
        r.logical_clock,
        index + 2
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(event: EventKind, clock: u64, peer: Option<u16>, seq: Option<u32>) -> Record {
        Record {
            machine: 1,
            event,
            system_time_us: 1_000_000 * clock,
            logical_clock: clock,
            queue_len: 0,
            peer,
            msg_clock: seq.map(|_| 1),
            seq,
        }
    }

    fn internal(clock: u64) -> Record {
        row(EventKind::Internal, clock, None, None)
    }

    fn receive(clock: u64, source: u16, seq: u32) -> Record {
        row(EventKind::Receive, clock, Some(source), Some(seq))
    }

    #[test]
    fn the_same_events_are_identical_whatever_their_times() {
        let a = [internal(1), receive(5, 2, 1)];
        let mut b = a;
        b[1].system_time_us += 777;
        b[1].queue_len = 3;
        assert_eq!(diff_machine(&a, &b), MachineDiff::Identical { events: 2 });
    }

    #[test]
    fn a_message_taken_a_tick_earlier_is_named_with_where_the_other_side_took_it() {
        // A takes machine 2's first message at its second tick; B ticks internally first and
        // takes it one tick later.
        let a = [internal(1), receive(5, 2, 1), internal(6)];
        let b = [internal(1), internal(2), receive(5, 2, 1)];
        let MachineDiff::Diverged(d) = diff_machine(&a, &b) else {
            panic!("they differ");
        };
        assert_eq!((d.index, d.a, d.b), (1, Some(a[1]), Some(b[1])));
        assert_eq!(
            d.cause,
            Cause::ArrivedAcrossATick {
                side: 'A',
                source: 2,
                seq: 1,
                other_index: Some(2)
            }
        );
        assert_eq!(
            d.cause.to_string(),
            "the message from machine 2 (seq 1) arrived on the other side of a tick: A took it \
             here, the other side at event 3"
        );
        assert_eq!(
            describe(d.a.as_ref(), 1),
            "receive from 2, clock 5 (line 3)"
        );
    }

    #[test]
    fn other_causes_are_told_apart() {
        let a = [internal(1), receive(5, 2, 1)];
        // The same message with another clock: its sender diverged first.
        let b = [internal(1), receive(7, 2, 1)];
        let MachineDiff::Diverged(d) = diff_machine(&a, &b) else {
            panic!()
        };
        assert_eq!(d.cause, Cause::SenderDivergedFirst { source: 2 });
        // One side longer.
        let MachineDiff::Diverged(d) = diff_machine(&a, &a[..1]) else {
            panic!()
        };
        assert_eq!((d.index, d.cause, d.b), (1, Cause::Length, None));
        assert_eq!(describe(None, 1), "no event 2 (the log ends)");
        // Another draw with no receive on either side.
        let c = [internal(1), row(EventKind::Send, 2, Some(3), Some(1))];
        let MachineDiff::Diverged(d) = diff_machine(&[internal(1), internal(2)], &c) else {
            panic!()
        };
        assert_eq!(d.cause, Cause::DifferentDraws);
        // B received a message A never did.
        let MachineDiff::Diverged(d) = diff_machine(&[internal(1), internal(2)], &a) else {
            panic!()
        };
        assert_eq!(
            d.cause,
            Cause::ArrivedAcrossATick {
                side: 'B',
                source: 2,
                seq: 1,
                other_index: None
            }
        );
    }
}
