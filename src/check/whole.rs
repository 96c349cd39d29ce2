//! The check of a trial with every row of its logs held: the rules of `rules.rs` applied to each
//! machine's rows in turn. [`super::check_trial`] comes here for the trials its stream cannot
//! judge alone; for any trial it gives the findings the stream gives, in the same order.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::rules::{
    self, ClockRule, MachineRows, SeqRule, Traffic, clock_differs, frames_checked, line_of,
    receives_checked,
};
use super::{Report, Start, machine_rows, start};
use crate::core::event::EventKind;
use crate::rundir::load::load_trial_files;

/// Checks the trial directory `dir`, its logs read whole.
pub(super) fn check(dir: &Path) -> Report {
    let Start {
        mut report,
        router,
        n,
        drops_planned,
        machines,
    } = match start(dir, load_trial_files(dir)) {
        Ok(start) => start,
        Err(skipped) => return skipped,
    };
    let machines: Vec<MachineRows> = machines
        .into_iter()
        .map(|m| machine_rows(&mut report, m))
        .collect();
    let rows: usize = machines.iter().map(|m| m.rows.len()).sum();
    check_clocks(&mut report, &machines);
    report.checked.push(rules::clocks_checked(rows as u64, n));
    let sent = collect_sends(&mut report, &machines, n);
    let received = check_receives(&mut report, &machines, &sent, n);
    let closing: Vec<rules::Machine> = machines.iter().map(MachineRows::machine).collect();
    let traffic = Traffic {
        sent_pairs: &sent_pairs(&sent),
        received: &received,
        went_to: &went_to(&sent),
    };
    rules::check_closing(
        &mut report,
        &closing,
        traffic,
        router.as_ref(),
        drops_planned,
        n,
    );
    report
}

/// Rule 1.
pub(super) fn check_clocks(report: &mut Report, machines: &[MachineRows]) {
    for m in machines {
        let mut rule = ClockRule::default();
        for (i, row) in m.rows.iter().enumerate() {
            rule.row(row, |message| {
                report.violation(&m.path, line_of(i), message)
            });
        }
    }
}

/// A data frame some machine sent.
pub(super) struct Sent {
    clock: u64,
    /// The destinations, ascending.
    dests: Vec<u16>,
}

/// Every (source, seq) sent, checking that each machine's seqs run 1, 2, 3, ...
pub(super) fn collect_sends(
    report: &mut Report,
    machines: &[MachineRows],
    n: u16,
) -> HashMap<(u16, u32), Sent> {
    let mut sent = HashMap::new();
    let mut frames = 0u64;
    for m in machines {
        let mut rule = SeqRule::default();
        for (i, row) in m.rows.iter().enumerate() {
            let found = |message| report.violation(&m.path, line_of(i), message);
            if let Some(frame) = rule.row(m.id, n, row, found) {
                frames += 1;
                let dests = frame.dests.list();
                sent.insert(
                    (m.id, frame.seq),
                    Sent {
                        clock: frame.clock,
                        dests,
                    },
                );
            }
        }
    }
    report.checked.push(frames_checked(frames));
    sent
}

/// Rule 2. Returns how many messages each ordered pair (source, dest) received.
pub(super) fn check_receives(
    report: &mut Report,
    machines: &[MachineRows],
    sent: &HashMap<(u16, u32), Sent>,
    n: u16,
) -> BTreeMap<(u16, u16), u64> {
    let mut received = BTreeMap::new();
    let mut seen: HashMap<(u16, u32, u16), usize> = HashMap::new();
    let mut total = 0u64;
    for m in machines {
        for (i, row) in m.rows.iter().enumerate() {
            if row.event != EventKind::Receive {
                continue;
            }
            let (Some(source), Some(seq), Some(clock)) = (row.peer, row.seq, row.msg_clock) else {
                continue;
            };
            total += 1;
            if let Some(first) = seen.insert((source, seq, m.id), i) {
                report.violation(
                    &m.path,
                    line_of(i),
                    format!(
                        "message seq {seq} from machine {source} received a second time (first at line {})",
                        first + 2
                    ),
                );
                continue;
            }
            let Some(s) = sent.get(&(source, seq)) else {
                let why = if source == 0 || source > n {
                    "no such machine"
                } else {
                    "its log has no such send"
                };
                report.violation(
                    &m.path,
                    line_of(i),
                    format!(
                        "received seq {seq} from machine {source}, which never sent it ({why})"
                    ),
                );
                continue;
            };
            if !s.dests.contains(&m.id) {
                report.violation(
                    &m.path,
                    line_of(i),
                    format!(
                        "received seq {seq} from machine {source}, which sent it to {:?}",
                        s.dests
                    ),
                );
            }
            if s.clock != clock {
                report.violation(
                    &m.path,
                    line_of(i),
                    clock_differs(seq, source, clock, s.clock),
                );
            }
            *received.entry((source, m.id)).or_insert(0) += 1;
        }
    }
    report.checked.push(receives_checked(total));
    received
}

/// How many frames each ordered pair (source, dest) was sent, from every data frame sent.
pub(super) fn sent_pairs(sent: &HashMap<(u16, u32), Sent>) -> BTreeMap<(u16, u16), u64> {
    let mut pairs: BTreeMap<(u16, u16), u64> = BTreeMap::new();
    for (&(source, _), s) in sent {
        for &dest in &s.dests {
            *pairs.entry((source, dest)).or_insert(0) += 1;
        }
    }
    pairs
}

/// Whether the frame `(source, seq)` of `sent` went to `dest` with `clock`.
pub(super) fn went_to(
    sent: &HashMap<(u16, u32), Sent>,
) -> impl Fn(u16, u32, u16, u64) -> bool + '_ {
    |source, seq, dest, clock| {
        sent.get(&(source, seq))
            .is_some_and(|s| s.dests.contains(&dest) && s.clock == clock)
    }
}
