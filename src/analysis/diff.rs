//! Two trials of the same seed compared event by event: per machine, whether the sequences of
//! (event, peer, clock) are identical, and if not the first divergence with both rows and its
//! likely cause. `clocklab diff` prints it; the rows come from the logs, so a real run can be
//! compared with its simulation, or two simulations with different timing models.
//!
//! In a real run the first divergence is most often a race the model cannot decide: two machines
//! that share a deadline each send a message to a third at that instant, and the network queues
//! them in the other order than the twin did. The cause names it
//! ([`Cause::SameInstantReordering`]), told apart by the send instants ([`send_instants`]) from a
//! message that really arrived on the other side of a tick.

use std::collections::BTreeMap;
use std::fmt;

use crate::core::event::{EventKind, Record};
use crate::core::machine::tick_offset_ns;

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

/// A message: its sender and the sender's seq.
pub type MessageId = (u16, u32);

/// When each message was sent, by [`MessageId`]: the deadline of the sender's tick that sent it,
/// nanoseconds after the trial's start.
pub type SendInstants = BTreeMap<MessageId, u64>;

/// The send instants of a trial's messages: `rows[i]` is machine i + 1's log, `rates[i]` its rate
/// when its rows are its tick numbers (its k-th row its k-th tick, due at `tick_offset_ns(rate,
/// k)`); a machine whose rate is unknown, or that skipped deadlines, is `None` and its sends are
/// left out.
pub fn send_instants(rows: &[Vec<Record>], rates: &[Option<f64>]) -> SendInstants {
    let mut sent = SendInstants::new();
    for (id, (log, rate)) in (1u16..).zip(rows.iter().zip(rates)) {
        let Some(rate) = rate.filter(|r| *r > 0.0) else {
            continue;
        };
        for (i, r) in log.iter().enumerate() {
            if let (EventKind::Send | EventKind::Broadcast, Some(seq)) = (r.event, r.seq) {
                sent.entry((id, seq))
                    .or_insert_with(|| tick_offset_ns(rate, i as u64 + 1));
            }
        }
    }
    sent
}

/// Why two sequences parted, as far as the rows tell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cause {
    /// Both sides took a message here, but not the same one: two messages sent at the same
    /// instant (by two machines sharing a deadline) reached this machine's queue in the other
    /// order. Only the network's timing decided which came first; no message crossed a tick.
    SameInstantReordering {
        /// When both were sent, nanoseconds after the start.
        sent_ns: u64,
        /// The message A took here.
        a: MessageId,
        /// The message B took here.
        b: MessageId,
        /// Where B took A's message, if it did.
        a_in_b: Option<usize>,
        /// Where A took B's message, if it did.
        b_in_a: Option<usize>,
    },
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
        let at = |k: &Option<usize>| match k {
            Some(k) => format!("at event {}", k + 1),
            None => "never".to_owned(),
        };
        match self {
            Cause::SameInstantReordering {
                sent_ns,
                a,
                b,
                a_in_b,
                b_in_a,
            } => write!(
                f,
                "a same-instant reordering: machine {} (seq {}) and machine {} (seq {}) both sent \
                 {:.3} s into the trial, and the two messages were queued in the other order: A \
                 took machine {}'s here and the other {}, B took machine {}'s here and the other \
                 {}; the network's timing chose, not the model",
                a.0,
                a.1,
                b.0,
                b.1,
                *sent_ns as f64 / 1e9,
                a.0,
                at(b_in_a),
                b.0,
                at(a_in_b),
            ),
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

/// Compares one machine's rows in trial A with its rows in trial B; `sent` tells when the
/// messages were sent (either side's: the twins send each message at the same deadline).
pub fn diff_machine(a: &[Record], b: &[Record], sent: &SendInstants) -> MachineDiff {
    let Some(index) = (0..a.len().max(b.len())).find(|&i| a.get(i).map(key) != b.get(i).map(key))
    else {
        return MachineDiff::Identical { events: a.len() };
    };
    let (ra, rb) = (a.get(index).copied(), b.get(index).copied());
    let receive = |r: &Option<Record>| {
        r.filter(|r| r.event == EventKind::Receive)
            .and_then(|r| Some((r.peer?, r.seq?)))
    };
    let (ma, mb) = (receive(&ra), receive(&rb));
    // When both messages taken here were sent, if at one instant.
    let instant = |m: Option<MessageId>| m.and_then(|m| sent.get(&m).copied());
    let same_instant = instant(ma).filter(|t| instant(mb) == Some(*t));
    let cause = match (ma, mb) {
        _ if ra.is_none() || rb.is_none() => Cause::Length,
        (Some(ma), Some(mb)) if ma == mb => Cause::SenderDivergedFirst { source: ma.0 },
        (Some(ma), Some(mb)) if same_instant.is_some() => Cause::SameInstantReordering {
            sent_ns: same_instant.unwrap_or_default(),
            a: ma,
            b: mb,
            a_in_b: received_at(b, ma.0, ma.1),
            b_in_a: received_at(a, mb.0, mb.1),
        },
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

    fn none() -> SendInstants {
        SendInstants::new()
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
        assert_eq!(
            diff_machine(&a, &b, &none()),
            MachineDiff::Identical { events: 2 }
        );
    }

    #[test]
    fn a_message_taken_a_tick_earlier_is_named_with_where_the_other_side_took_it() {
        // A takes machine 2's first message at its second tick; B ticks internally first and
        // takes it one tick later.
        let a = [internal(1), receive(5, 2, 1), internal(6)];
        let b = [internal(1), internal(2), receive(5, 2, 1)];
        let MachineDiff::Diverged(d) = diff_machine(&a, &b, &none()) else {
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
        let MachineDiff::Diverged(d) = diff_machine(&a, &b, &none()) else {
            panic!()
        };
        assert_eq!(d.cause, Cause::SenderDivergedFirst { source: 2 });
        // One side longer.
        let MachineDiff::Diverged(d) = diff_machine(&a, &a[..1], &none()) else {
            panic!()
        };
        assert_eq!((d.index, d.cause, d.b), (1, Cause::Length, None));
        assert_eq!(describe(None, 1), "no event 2 (the log ends)");
        // Another draw with no receive on either side.
        let c = [internal(1), row(EventKind::Send, 2, Some(3), Some(1))];
        let MachineDiff::Diverged(d) = diff_machine(&[internal(1), internal(2)], &c, &none())
        else {
            panic!()
        };
        assert_eq!(d.cause, Cause::DifferentDraws);
        // B received a message A never did.
        let MachineDiff::Diverged(d) = diff_machine(&[internal(1), internal(2)], &a, &none())
        else {
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

    #[test]
    fn two_messages_sent_at_one_instant_and_queued_in_the_other_order_are_named_so() {
        // Machines 2 and 3 both sent at 0.5 s; A queued 2's first, B 3's first.
        let a = [internal(1), receive(5, 2, 1), receive(7, 3, 1)];
        let b = [internal(1), receive(6, 3, 1), receive(7, 2, 1)];
        let sent = SendInstants::from([((2, 1), 500_000_000), ((3, 1), 500_000_000)]);
        let MachineDiff::Diverged(d) = diff_machine(&a, &b, &sent) else {
            panic!("they differ");
        };
        assert_eq!(
            d.cause,
            Cause::SameInstantReordering {
                sent_ns: 500_000_000,
                a: (2, 1),
                b: (3, 1),
                a_in_b: Some(2),
                b_in_a: Some(2),
            }
        );
        assert_eq!(
            d.cause.to_string(),
            "a same-instant reordering: machine 2 (seq 1) and machine 3 (seq 1) both sent 0.500 s \
             into the trial, and the two messages were queued in the other order: A took machine \
             2's here and the other at event 3, B took machine 3's here and the other at event 3; \
             the network's timing chose, not the model"
        );
        // Sent at two instants: one of them arrived on the other side of a tick.
        let sent = SendInstants::from([((2, 1), 500_000_000), ((3, 1), 250_000_000)]);
        let MachineDiff::Diverged(d) = diff_machine(&a, &b, &sent) else {
            panic!("they differ");
        };
        assert!(
            matches!(
                d.cause,
                Cause::ArrivedAcrossATick {
                    side: 'A',
                    source: 2,
                    ..
                }
            ),
            "{:?}",
            d.cause
        );
        // An instant unknown (no rate for a sender): not called a same-instant reordering.
        let sent = SendInstants::from([((2, 1), 500_000_000)]);
        let MachineDiff::Diverged(d) = diff_machine(&a, &b, &sent) else {
            panic!("they differ");
        };
        assert!(matches!(d.cause, Cause::ArrivedAcrossATick { .. }));
    }

    #[test]
    fn a_send_instant_is_the_deadline_of_its_row() {
        let send = |clock, seq| row(EventKind::Send, clock, Some(2), Some(seq));
        let bcast = |clock, seq| row(EventKind::Broadcast, clock, None, Some(seq));
        // Machine 1 at 2 ticks/s: rows 2 and 4 are its ticks due at 1 s and 2 s. Machine 2's rate
        // is unknown and machine 3 at 3 ticks/s sent at its first tick, 1/3 s.
        let rows = vec![
            vec![internal(1), send(2, 1), internal(3), bcast(4, 2)],
            vec![send(1, 1)],
            vec![send(1, 1)],
        ];
        let sent = send_instants(&rows, &[Some(2.0), None, Some(3.0)]);
        assert_eq!(
            sent,
            SendInstants::from([
                ((1, 1), 1_000_000_000),
                ((1, 2), 2_000_000_000),
                ((3, 1), 333_333_333)
            ])
        );
    }
}
