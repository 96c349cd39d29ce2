//! The machine's queue and the receive rule: which message, if any, a tick takes.
//!
//! Every queued message carries the time it arrived: the `now` its driver handed in with it
//! ([`Machine::handle_frame_at`], [`Machine::handle_message_at`]), on the same clock as the tick
//! deadlines. A tick is due at a deadline d of the schedule and may run later (a busy or stalled
//! machine). Under [`ReceiveRule::ByDeadline`] it takes only a message that had arrived by d (at
//! or before it), whenever it really runs; under [`ReceiveRule::AsRun`] it takes whatever has
//! arrived by the time it runs.
//!
//! The queue is first in, first out, and a tick takes at most its head: "the first message that
//! arrived by d" is the head if the head arrived by d, and none otherwise. With none, the tick does
//! what it does with an empty queue (it draws an action), and the head waits for a later tick. The
//! drivers hand messages in as they arrive, so arrival times never decrease along the queue and the
//! head is the only candidate. A message handed in without a time ([`Machine::handle_message`],
//! [`Machine::handle_frame`]) counts as arrived at time 0, before every deadline.
//!
//! A tick's row logs the queue its deadline saw (`queue_len`): under `ByDeadline` the messages
//! still waiting that had arrived by the deadline, so a row never shows a message its tick could
//! not take, and a tick that drew an action always shows 0, as it would have at its deadline.
//! Under `AsRun`, every message waiting when the tick ran.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::{Machine, Message};

/// Which message a tick takes. The configuration's `machines.receive_rule`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiveRule {
    /// A tick due at d takes the head of the queue only if it arrived at or before d, however
    /// late the tick runs: the model's rule, in which a tick happens at its deadline, so a tick's
    /// lateness does not change what it does (a real run's late ticks do what their punctual
    /// simulated twins do). The default.
    #[default]
    ByDeadline,
    /// A tick takes the head of the queue whenever it arrived, its own lateness included: what a
    /// late tick of a real machine finds. Clocklab's rule before `receive_rule` existed.
    AsRun,
}

impl ReceiveRule {
    /// The word the configuration uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiveRule::ByDeadline => "by_deadline",
            ReceiveRule::AsRun => "as_run",
        }
    }
}

/// The queue: messages in arrival order, each with the time it arrived.
#[derive(Clone, Debug, Default)]
pub(super) struct Inbox {
    queue: VecDeque<(Message, u64)>,
}

impl Inbox {
    /// `message` arrived at `arrived_ns`: it joins the back. Its arrival counts as no earlier
    /// than the one ahead of it, so arrival times never decrease along the queue (drivers hand
    /// messages in as they arrive anyway; a message behind a later one cannot be taken before it).
    pub(super) fn push(&mut self, message: Message, arrived_ns: u64) {
        let after = self.queue.back().map_or(0, |&(_, ahead)| ahead);
        self.queue.push_back((message, arrived_ns.max(after)));
    }

    /// What a tick due at `deadline_ns` takes under `rule`: the head, unless the rule is
    /// [`ReceiveRule::ByDeadline`] and the head arrived after the deadline.
    pub(super) fn take(&mut self, rule: ReceiveRule, deadline_ns: u64) -> Option<Message> {
        let &(_, arrived_ns) = self.queue.front()?;
        if rule == ReceiveRule::ByDeadline && arrived_ns > deadline_ns {
            return None;
        }
        self.queue.pop_front().map(|(message, _)| message)
    }

    /// How many messages wait, whenever they arrived.
    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    /// How many waiting messages a tick due at `deadline_ns` sees under `rule`: those that had
    /// arrived by the deadline ([`ReceiveRule::ByDeadline`]), or all ([`ReceiveRule::AsRun`]).
    /// What the tick's row logs as `queue_len`, once it took its message: 0 after a tick that
    /// drew an action, under either rule.
    pub(super) fn seen_by(&self, rule: ReceiveRule, deadline_ns: u64) -> u32 {
        let seen = match rule {
            ReceiveRule::ByDeadline => self.queue.partition_point(|&(_, at)| at <= deadline_ns),
            ReceiveRule::AsRun => self.queue.len(),
        };
        seen.try_into().unwrap_or(u32::MAX)
    }

    /// The messages waiting, oldest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Message> {
        self.queue.iter().map(|(message, _)| message)
    }
}

impl Machine {
    /// The same machine, taking messages at its ticks by `rule`.
    pub fn with_receive_rule(mut self, rule: ReceiveRule) -> Machine {
        self.receive_rule = rule;
        self
    }

    /// Which message a tick takes.
    pub fn receive_rule(&self) -> ReceiveRule {
        self.receive_rule
    }

    /// `message` joins the back of the queue, arrived at `arrived_ns`.
    pub(super) fn enqueue(&mut self, message: Message, arrived_ns: u64) {
        self.queue.push(message, arrived_ns);
        self.stats.enqueued += 1;
        self.stats.queue_peak = self.stats.queue_peak.max(self.queue_len_u32());
    }
}

#[cfg(test)]
mod tests;
