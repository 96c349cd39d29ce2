//! `router.yaml` from a switchboard's report: the one way both drivers, the real router and the
//! simulator, record what the router did.

use super::{ClosedConnection, RouterStats};
use crate::core::switchboard;

impl RouterStats {
    /// A router's statistics from what its switchboard did ([`switchboard::Report`]), the one
    /// way both drivers write `router.yaml`: the real router listening on `listen` and stopped
    /// at `stop_time_ns` by its wall clock, the simulator on virtual time.
    pub fn from_report(
        listen: String,
        opts: &switchboard::Options,
        report: switchboard::Report,
        stop_time_ns: u64,
    ) -> RouterStats {
        RouterStats {
            listen,
            machines: opts.machines,
            frames: report.frames_by_name(),
            names: report.names,
            seed: opts.seed,
            start_time_ns: report.start_time_ns,
            stop_time_ns,
            // A router that never stopped that way records an empty cause, as it always has.
            stopped_by: report.stopped_by.unwrap_or_default(),
            pairs: report.pairs,
            connections: report
                .closed
                .into_iter()
                .map(ClosedConnection::from)
                .collect(),
        }
    }
}

impl From<switchboard::Closed> for ClosedConnection {
    /// A switchboard's record of a connection that ended, as `router.yaml` lists it.
    fn from(closed: switchboard::Closed) -> ClosedConnection {
        ClosedConnection {
            peer: closed.peer,
            name: closed.name,
            id: closed.id,
            reason: closed.reason,
        }
    }
}
