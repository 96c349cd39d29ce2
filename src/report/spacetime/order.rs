//! Where each event comes in the order [`reconstruct`](crate::analysis::causality::reconstruct)
//! takes a trial's events in ([`Causality::order`]), worked out whatever order the events stream
//! by in, so that the diagram draws its messages in the same order as before.
//!
//! `reconstruct` sweeps over the machines again and again, each taking its events in log order
//! for as long as it can: a receive only once its send was taken. An event's place is therefore
//! `(round, machine, row)`, its round the first sweep it could be taken in: its machine's
//! previous event's round, and for a matched receive at least its send's round, one more when
//! the sender comes after the receiver in the sweep (the receiver's turn comes first). Only the
//! rounds of messages still in flight are held: a send's until every machine it went to took it.
//! (A receive whose logs contradict its send's, which `reconstruct` takes only once every
//! machine is stuck, may come elsewhere: `check` refuses such logs.)
//!
//! [`Causality::order`]: crate::analysis::causality::Causality::order

use std::collections::HashMap;

use super::Key;
use crate::analysis::causality::EventRef;
use crate::analysis::stream::Seen;
use crate::core::event::EventKind;

/// A message in flight: its send's round, and the machines (positions) yet to take it.
#[derive(Clone, Debug)]
struct Flight {
    round: u32,
    waiting: Vec<usize>,
}

/// The rounds of a trial's events as they stream by.
#[derive(Clone, Debug, Default)]
pub struct Order {
    /// The machines' ids, in trial order.
    ids: Vec<u16>,
    /// Per machine, the round of its latest event.
    rounds: Vec<u32>,
    /// The sends some machine has yet to receive.
    flights: HashMap<EventRef, Flight>,
}

impl Order {
    /// No event seen yet of the machines `ids`.
    pub fn new(ids: Vec<u16>) -> Order {
        Order {
            rounds: vec![0; ids.len()],
            ids,
            flights: HashMap::new(),
        }
    }

    /// The place of the event `e`, the next of its machine, and for a matched receive its
    /// send's place.
    pub fn seen(&mut self, e: &Seen<'_>) -> (Key, Option<Key>) {
        let i = e.event.machine;
        let mut round = self.rounds.get(i).copied().unwrap_or(0);
        let mut send_key = None;
        if let Some(s) = e.send
            && let Some(f) = self.flights.get_mut(&s.event)
        {
            send_key = Some((f.round, s.event.machine, s.event.index));
            round = round.max(f.round + u32::from(s.event.machine > i));
            f.waiting.retain(|&j| j != i);
            if f.waiting.is_empty() {
                self.flights.remove(&s.event);
            }
        }
        // A send no longer in flight (a receive logged twice) comes after every round.
        if let (None, Some(s)) = (send_key, e.send) {
            send_key = Some((u32::MAX, s.event.machine, s.event.index));
        }
        if let Some(r) = self.rounds.get_mut(i) {
            *r = round;
        }
        let targets: Vec<usize> = match (e.record.event, e.record.peer) {
            (EventKind::Send, Some(p)) => self
                .ids
                .iter()
                .position(|&id| id == p)
                .into_iter()
                .collect(),
            (EventKind::Send | EventKind::Broadcast, _) => {
                (0..self.ids.len()).filter(|&j| j != i).collect()
            }
            _ => Vec::new(),
        };
        if !targets.is_empty() {
            self.flights.insert(
                e.event,
                Flight {
                    round,
                    waiting: targets,
                },
            );
        }
        ((round, i, e.event.index), send_key)
    }

    /// The place of the send `send`, which some machine never received (after every round
    /// when it is not known as such).
    pub fn send_key(&self, send: EventRef) -> Key {
        let round = self.flights.get(&send).map_or(u32::MAX, |f| f.round);
        (round, send.machine, send.index)
    }

    /// How many messages are in flight.
    pub fn in_flight(&self) -> usize {
        self.flights.len()
    }
}
