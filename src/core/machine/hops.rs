//! Messages arriving: a data frame addressed to the machine joins its queue, and the hop latency
//! it counts as it arrives (the time its driver hands in at the arrival minus the send time the
//! frame carries, into [`Timing`](super::Timing)'s histogram).

use super::{Machine, Message, Refused};
use crate::core::route;
use crate::core::wire::Frame;

impl Machine {
    /// A data frame has arrived from the network: it joins the back of the queue (at network speed,
    /// whatever the tick rate). Frames that are not data, or not addressed to this machine, are refused.
    /// Without its arrival time ([`Machine::handle_frame_at`] has one) it counts as arrived before
    /// every deadline.
    pub fn handle_frame(&mut self, frame: &Frame<'_>) -> Result<(), Refused> {
        let message = self.addressed(frame)?;
        self.handle_message(message);
        Ok(())
    }

    /// The message of `frame`, if it is a data frame addressed to this machine.
    fn addressed(&self, frame: &Frame<'_>) -> Result<Message, Refused> {
        let kind = frame.kind();
        let message = Message::from_frame(frame).ok_or(Refused::NotData(kind))?;
        let addressed = route::targets(kind, frame.source(), frame.dest(), self.cfg.machines)
            .is_some_and(|t| t.iter(self.cfg.machines).any(|id| id == self.cfg.id));
        if !addressed {
            return Err(Refused::Misrouted {
                kind,
                source: frame.source(),
            });
        }
        Ok(message)
    }

    /// A message has arrived: it joins the back of the queue, as arrived before every deadline
    /// ([`Machine::handle_message_at`] gives its arrival time).
    pub fn handle_message(&mut self, message: Message) {
        self.enqueue(message, 0);
    }

    /// [`Machine::handle_frame`] for a frame that arrived at `arrived_ns`: a data frame addressed
    /// to this machine joins the queue with that arrival time and counts its hop latency,
    /// `arrived_ns` minus its send time (0 and counted in `negative_hops` when it arrived
    /// "before" it was sent, clocks apart).
    pub fn handle_frame_at(&mut self, frame: &Frame<'_>, arrived_ns: u64) -> Result<(), Refused> {
        let message = self.addressed(frame)?;
        self.handle_message_at(message, arrived_ns);
        Ok(())
    }

    /// [`Machine::handle_message`] for a message that arrived at `arrived_ns` (the time the receive
    /// rule compares with a tick's deadline), counting its hop latency as
    /// [`Machine::handle_frame_at`] does.
    pub fn handle_message_at(&mut self, message: Message, arrived_ns: u64) {
        self.enqueue(message, arrived_ns);
        self.record_hop(message.sent_ns, arrived_ns);
    }

    /// The hop as this machine sees it: the arrival on its own clock (skewed, under a `clock`
    /// fault) minus the stamp the sender's clock put on the frame.
    fn record_hop(&mut self, sent_ns: u64, arrived_ns: u64) {
        let arrived_ns = self.stamp_ns(arrived_ns);
        if arrived_ns < sent_ns {
            self.timing.negative_hops += 1;
        }
        self.timing
            .hop_latency
            .record(arrived_ns.saturating_sub(sent_ns));
    }
}
