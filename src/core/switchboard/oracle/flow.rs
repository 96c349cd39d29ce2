//! The oracle's checks of flow control and of the memory counted.

use super::Harness;
use crate::core::switchboard::ConnId;
use crate::core::switchboard::conn::State;

impl Harness {
    /// Flow control keeps its books: a sender is held back exactly by the receivers that list it,
    /// each of them over low water (else it would have released it), so no sender waits for
    /// nothing; and the memory counted is what the buffers hold.
    pub(super) fn check_flow_control(&self) {
        let sb = &self.sb;
        let low = sb.opts.outbox_limit / 2;
        let conns = || {
            sb.conns
                .iter()
                .enumerate()
                .filter_map(|(i, c)| Some((i, c.as_ref()?)))
        };
        for (i, c) in conns() {
            let listing = conns()
                .filter(|(_, r)| r.stopped_senders.contains(&ConnId(i)))
                .count();
            assert_eq!(
                c.stopped_by as usize, listing,
                "connection {i} waits for a receiver that forgot it"
            );
            // Frames the fault plan holds for it count against its high water.
            let held = match (sb.conns.weather(), c.id()) {
                (Some(w), Some(id)) => w.held_for(id),
                _ => 0,
            };
            if c.over_high_water {
                assert!(
                    c.outbox.len() + held > low,
                    "connection {i} is at low water but keeps its senders"
                );
            } else {
                assert!(
                    c.stopped_senders.is_empty(),
                    "connection {i} holds senders below high water"
                );
            }
        }
        let new = conns().filter(|(_, c)| c.state == State::New).count();
        assert_eq!(sb.unregistered, new, "connections without HELLO miscounted");
        // The frames the fault plan holds count as outbox storage.
        let weather = sb.conns.weather().map_or(0, |w| w.held());
        let outboxes: usize = conns()
            .map(|(_, c)| c.outbox.footprint().held)
            .sum::<usize>()
            + weather;
        let inbufs: usize = conns().map(|(_, c)| c.inbuf.held()).sum();
        let slices: usize = conns().map(|(_, c)| c.outbox.footprint().slices).sum();
        assert_eq!(
            sb.conns.booked(),
            (outboxes, inbufs, slices),
            "memory miscounted"
        );
        // This runs after every connection's fate: what its socket did not take was settled.
        assert_eq!(
            slices, 0,
            "slices of read buffers outlived the writes after their read"
        );
        assert!(sb.held_bytes() <= sb.peak_held_bytes());
    }
}
