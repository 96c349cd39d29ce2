//! The rules `check` proves, one function each, on the rows and summaries of a trial's machines
//! (the module [`crate::check`] says what each rule is).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use super::Report;
use crate::core::event::{EventKind, Record};
use crate::core::machine::ticks_due;
use crate::rundir::log::log_path;
use crate::rundir::records::{ClientSummary, RouterStats};
use crate::rundir::{ROUTER_STATS_FILE, summary_file_name};

/// One machine to check: its id, its log's path and rows, and its summary if it has one.
pub(super) struct MachineRows {
    pub(super) id: u16,
    pub(super) path: PathBuf,
    pub(super) rows: Vec<Record>,
    pub(super) summary: Option<ClientSummary>,
}

/// The line of row `index` in a log (the header is line 1).
fn line_of(index: usize) -> Option<usize> {
    Some(index + 2)
}

/// Rule 1.
pub(super) fn check_clocks(report: &mut Report, machines: &[MachineRows]) {
    for m in machines {
        let mut previous = 0u64;
        let mut previous_time = 0u64;
        for (i, row) in m.rows.iter().enumerate() {
            let expected = match (row.event, row.msg_clock) {
                (EventKind::Receive, Some(msg)) => previous.max(msg) + 1,
                _ => previous + 1,
            };
            if row.logical_clock != expected {
                let rule = match row.event {
                    EventKind::Receive => "max(previous, msg_clock) + 1",
                    _ => "previous + 1",
                };
                report.violation(
                    &m.path,
                    line_of(i),
                    format!(
                        "{} moved the clock from {previous} to {}; the rule gives {rule} = {expected}",
                        row.event, row.logical_clock
                    ),
                );
            }
            if row.system_time_us < previous_time {
                report.violation(
                    &m.path,
                    line_of(i),
                    "system_time runs backwards".to_string(),
                );
            }
            previous = row.logical_clock;
            previous_time = row.system_time_us;
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
        let mut previous_seq = 0u32;
        for (i, row) in m.rows.iter().enumerate() {
            let dests = match row.event {
                EventKind::Send => row.peer.into_iter().collect(),
                EventKind::Broadcast => (1..=n).filter(|&d| d != m.id).collect(),
                _ => continue,
            };
            let (Some(seq), Some(clock)) = (row.seq, row.msg_clock) else {
                continue;
            };
            // The machine's rule: 1 first, then +1, wrapping from 2^32 - 1 back to 1.
            if seq != previous_seq.wrapping_add(1).max(1) {
                report.violation(
                    &m.path,
                    line_of(i),
                    format!(
                        "{} with seq {seq}; the previous data frame had seq {previous_seq}",
                        row.event
                    ),
                );
            }
            if clock != row.logical_clock {
                report.violation(
                    &m.path,
                    line_of(i),
                    format!(
                        "{} carries clock {clock} but the event's clock is {}",
                        row.event, row.logical_clock
                    ),
                );
            }
            previous_seq = seq;
            frames += 1;
            sent.insert((m.id, seq), Sent { clock, dests });
        }
    }
    report.checked.push(format!(
        "{frames} data frames sent, seqs consecutive per machine"
    ));
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
                    format!("received seq {seq} from machine {source} with clock {clock}; it was sent with clock {}", s.clock),
                );
            }
            *received.entry((source, m.id)).or_insert(0) += 1;
        }
    }
    report.checked.push(format!(
        "{total} receives each match exactly one send (source, seq, clock, destination), none twice"
    ));
    received
}

/// Rule 3, and the router's own books.
pub(super) fn check_conservation(
    report: &mut Report,
    machines: &[MachineRows],
    sent: &HashMap<(u16, u32), Sent>,
    received: &BTreeMap<(u16, u16), u64>,
    router: Option<&RouterStats>,
    drops_planned: bool,
    n: u16,
) {
    let mut sent_pairs: BTreeMap<(u16, u16), u64> = BTreeMap::new();
    for (&(source, _), s) in sent {
        for &dest in &s.dests {
            *sent_pairs.entry((source, dest)).or_insert(0) += 1;
        }
    }
    let mut unprocessed: BTreeMap<(u16, u16), u64> = BTreeMap::new();
    for m in machines {
        let Some(summary) = &m.summary else { continue };
        for u in &summary.unprocessed {
            match sent.get(&(u.source, u.seq)) {
                Some(s) if s.dests.contains(&m.id) && s.clock == u.clock => {}
                _ => report.violation(
                    &m.path.with_file_name(summary_file_name(m.id)),
                    None,
                    format!(
                        "unprocessed message seq {} from machine {} (clock {}) matches no send to machine {}",
                        u.seq, u.source, u.clock, m.id
                    ),
                ),
            }
            *unprocessed.entry((u.source, m.id)).or_insert(0) += 1;
        }
    }
    // What never reached the destination: undeliverable, dropped by the fault plan, or still
    // held by it when the router stopped.
    let router_pairs: BTreeMap<(u16, u16), (u64, u64)> = router
        .map(|r| {
            r.pairs
                .iter()
                .map(|p| {
                    let lost = p.undeliverable + p.dropped + p.still_held();
                    ((p.source, p.dest), (p.delivered, lost))
                })
                .collect()
        })
        .unwrap_or_default();
    let router_file = report.dir.join(ROUTER_STATS_FILE);
    check_weather_books(report, router, drops_planned, &router_file);
    // A machine that ended in order read everything the router wrote to it before it closed.
    let orderly = |id: u16| {
        machines
            .get(usize::from(id) - 1)
            .is_some_and(|m| m.summary.as_ref().is_some_and(|s| s.orderly))
    };
    let mut pairs = 0;
    for source in 1..=n {
        for dest in (1..=n).filter(|&d| d != source) {
            let key = (source, dest);
            let s = sent_pairs.get(&key).copied().unwrap_or(0);
            let r = received.get(&key).copied().unwrap_or(0);
            let u = unprocessed.get(&key).copied().unwrap_or(0);
            let (delivered, undeliverable) = router_pairs.get(&key).copied().unwrap_or((0, 0));
            pairs += 1;
            // A machine that did not end in order may have logged sends that never reached the
            // router (it logs before it sends): its outgoing pairs may fall short, never over.
            let exact = orderly(source);
            let balanced = |accounted: u64| s == accounted || (!exact && s > accounted);
            if !exact && router.is_some() && s > delivered + undeliverable {
                report.notes.push(format!(
                    "pair {source}->{dest}: {} frames machine {source} logged as sent never reached the router",
                    s - delivered - undeliverable
                ));
            }
            if router.is_some() && !balanced(delivered + undeliverable) {
                report.violation(
                    &router_file,
                    None,
                    format!(
                        "pair {source}->{dest}: the logs show {s} sent, the router {delivered} delivered + {undeliverable} undeliverable"
                    ),
                );
            }
            if orderly(dest) {
                if !balanced(r + u + undeliverable) {
                    report.violation(
                        &log_path(&report.dir, dest),
                        None,
                        format!(
                            "pair {source}->{dest}: {s} sent but {r} received + {u} unprocessed + {undeliverable} undeliverable"
                        ),
                    );
                }
            } else if r + u > delivered && router.is_some() {
                report.violation(
                    &log_path(&report.dir, dest),
                    None,
                    format!(
                        "pair {source}->{dest}: {r} received + {u} unprocessed but the router delivered only {delivered}"
                    ),
                );
            } else if delivered > r + u {
                report.notes.push(format!(
                    "pair {source}->{dest}: {} delivered to machine {dest} were lost when it ended out of order",
                    delivered - r - u
                ));
            }
        }
    }
    report.checked.push(format!(
        "conservation on {pairs} ordered pairs: sent = received + unprocessed + undeliverable \
         (+ dropped + still held by the fault plan)"
    ));
}

/// The fault plan's books in `router.yaml`: a frame dropped is a finding unless the plan has a
/// partition in `drop` mode (`drops_planned`), a pair cannot release more than it held, and what
/// was held, released, dropped and still held at the end is said.
pub(super) fn check_weather_books(
    report: &mut Report,
    router: Option<&RouterStats>,
    drops_planned: bool,
    router_file: &std::path::Path,
) {
    let Some(router) = router else { return };
    let (mut held, mut released, mut dropped) = (0, 0, 0);
    for p in &router.pairs {
        let pair = format!("pair {}->{}", p.source, p.dest);
        if p.dropped > 0 && !drops_planned {
            report.violation(
                router_file,
                None,
                format!(
                    "{pair}: {} frames dropped, but no partition of the fault plan drops frames \
                     (mode: drop)",
                    p.dropped
                ),
            );
        }
        if p.released > p.held {
            report.violation(
                router_file,
                None,
                format!("{pair}: {} released but only {} held", p.released, p.held),
            );
        }
        (held, released, dropped) = (held + p.held, released + p.released, dropped + p.dropped);
    }
    if held + dropped > 0 {
        report.notes.push(format!(
            "fault plan: {held} frames held ({released} released, {} still held at the end), \
             {dropped} dropped",
            held.saturating_sub(released)
        ));
    }
}

/// Rule 4, and agreement between each summary and its log.
pub(super) fn check_summaries(report: &mut Report, machines: &[MachineRows]) {
    let mut checked = 0;
    for m in machines {
        let Some(s) = &m.summary else { continue };
        checked += 1;
        let file = m.path.with_file_name(summary_file_name(m.id));
        if s.ticks != m.rows.len() as u64 {
            report.violation(
                &file,
                None,
                format!(
                    "{} ticks but {} has {} rows",
                    s.ticks,
                    m.path.display(),
                    m.rows.len()
                ),
            );
        }
        if let Some(last) = m.rows.last() {
            if last.logical_clock != s.final_clock {
                report.violation(
                    &file,
                    None,
                    format!(
                        "final clock {} but the log ends at {}",
                        s.final_clock, last.logical_clock
                    ),
                );
            }
        }
        // The schedule (core::machine::ticks_due): the deadlines start + k/rate, k = 1, 2, ..., up
        // to the stop; each was taken, or dropped and counted under `missed_ticks: skip`.
        let ran_ns = s.stop_time_ns.saturating_sub(s.start_time_ns);
        let expected = ticks_due(s.rate, ran_ns);
        if s.ticks.saturating_add(s.ticks_skipped) != expected {
            let skipped = if s.ticks_skipped > 0 {
                format!(" (and {} skipped)", s.ticks_skipped)
            } else {
                String::new()
            };
            report.violation(
                &file,
                None,
                format!(
                    "{} ticks{skipped} in {:.3} s at {} ticks/s; the schedule has {expected} deadlines by the stop",
                    s.ticks,
                    ran_ns as f64 / 1e9,
                    s.rate
                ),
            );
        }
    }
    report.checked.push(format!(
        "tick counts of {checked} machines are the schedule's deadlines up to their stop (taken or skipped), and their summaries match their logs"
    ));
}
