//! The hop latency a machine counts as messages arrive: the time its driver hands in at the
//! arrival minus the send time the frame carries, into [`Timing`](super::Timing)'s histogram.

use super::{Machine, Message, Refused};
use crate::core::wire::Frame;

impl Machine {
    /// [`Machine::handle_frame`] for a frame that arrived at `arrived_ns`: a data frame addressed
    /// to this machine also counts its hop latency, `arrived_ns` minus its send time (0 and
    /// counted in `negative_hops` when it arrived "before" it was sent, clocks apart).
    pub fn handle_frame_at(&mut self, frame: &Frame<'_>, arrived_ns: u64) -> Result<(), Refused> {
        self.handle_frame(frame)?;
        self.record_hop(frame.system_time_ns(), arrived_ns);
        Ok(())
    }

    /// [`Machine::handle_message`] for a message that arrived at `arrived_ns`, counting its hop
    /// latency as [`Machine::handle_frame_at`] does.
    pub fn handle_message_at(&mut self, message: Message, arrived_ns: u64) {
        self.handle_message(message);
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
