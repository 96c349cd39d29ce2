//! A loaded trial handed to a [`Watch`] event by event, as the streaming analysis hands a trial
//! that streams by: what lets the whole-trial drawings go through the same
//! [`Sketch`](crate::report::sketch::Sketch) parts.

use crate::analysis::TrialInput;
use crate::analysis::causality::{Causality, EventRef};
use crate::analysis::hlc;
use crate::analysis::stream::{Seen, Sent, Unreceived, Watch};
use crate::core::event::EventKind;

/// The send `s` of `t` as a receive names it.
pub fn sent(t: &TrialInput, s: EventRef) -> Sent {
    let r = &t.machines[s.machine].records[s.index];
    Sent {
        event: s,
        time_us: r.system_time_us,
        kind: r.event,
    }
}

/// Hands every event of the loaded trial `t` to `watch`: in `c`'s order with their matched sends,
/// vector clocks and hybrid timestamps; without `c` (a trial too large for vector clocks), each
/// machine's log in turn, with none of them.
pub fn replay(t: &TrialInput, c: Option<&Causality>, watch: &mut impl Watch) {
    let Some(c) = c else {
        for (i, m) in t.machines.iter().enumerate() {
            for (k, record) in m.records.iter().enumerate() {
                watch.seen(&Seen {
                    event: EventRef {
                        machine: i,
                        index: k,
                    },
                    record,
                    send: None,
                    vector: None,
                    hlc: None,
                });
            }
        }
        return;
    };
    let stamps = hlc::timestamps(t, c);
    for &e in &c.order {
        watch.seen(&Seen {
            event: e,
            record: &t.machines[e.machine].records[e.index],
            send: c.send_of[e.machine][e.index].map(|s| sent(t, s)),
            vector: Some(c.vector(e)),
            hlc: Some(stamps[e.machine][e.index]),
        });
    }
}

/// The messages of `t` some machine never received: for each send (to its peer, when the peer
/// is in the trial) and each broadcast (to every other machine), the machines no receive matched
/// with it came from, in `c`'s order.
pub fn unreceived(t: &TrialInput, c: &Causality) -> Vec<Unreceived> {
    let receives = c.receives_of();
    let mut out = Vec::new();
    for &e in &c.order {
        let r = &t.machines[e.machine].records[e.index];
        let targets: Vec<usize> = match (r.event, r.peer) {
            (EventKind::Send, Some(p)) => t
                .machines
                .iter()
                .position(|m| m.id == p)
                .into_iter()
                .collect(),
            (EventKind::Send | EventKind::Broadcast, _) => {
                (0..t.machines.len()).filter(|&j| j != e.machine).collect()
            }
            _ => continue,
        };
        let got = receives.get(&e).map_or(&[][..], |v| &v[..]);
        let receivers: Vec<usize> = targets
            .into_iter()
            .filter(|&j| !got.iter().any(|g| g.machine == j))
            .collect();
        if !receivers.is_empty() {
            out.push(Unreceived {
                send: sent(t, e),
                receivers,
            });
        }
    }
    out
}
