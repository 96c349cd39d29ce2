//! The rules `check` proves (the module [`crate::check`] says what each rule is): those of a row
//! as steps a log takes one row at a time ([`ClockRule`], [`SeqRule`]), the messages they find,
//! and those that close a trial, on each machine's summary and counts ([`Machine`]). Both drivers
//! call them: `stream.rs` as the rows go by, `whole.rs` on the rows held.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Report;
use crate::core::event::{EventKind, Record};
use crate::core::machine::ticks_due;
use crate::rundir::log::log_path;
use crate::rundir::records::{ClientSummary, RouterStats};
use crate::rundir::{ROUTER_STATS_FILE, summary_file_name};

/// One machine to check with its rows held ([`super::whole`]): its id, its log's path and rows,
/// and its summary if it has one.
pub(super) struct MachineRows {
    pub(super) id: u16,
    pub(super) path: PathBuf,
    pub(super) rows: Vec<Record>,
    pub(super) summary: Option<ClientSummary>,
}

/// One machine as the rules that close a trial see it: its id, its log's path, its summary if it
/// has one, how many rows its log has and the clock of the last.
pub(super) struct Machine {
    pub(super) id: u16,
    pub(super) path: PathBuf,
    pub(super) summary: Option<ClientSummary>,
    pub(super) rows: u64,
    pub(super) last_clock: Option<u64>,
}

impl MachineRows {
    /// The machine as the closing rules see it.
    pub(super) fn machine(&self) -> Machine {
        Machine {
            id: self.id,
            path: self.path.clone(),
            summary: self.summary.clone(),
            rows: self.rows.len() as u64,
            last_clock: self.rows.last().map(|r| r.logical_clock),
        }
    }
}

/// The line of row `index` in a log (the header is line 1).
pub(super) fn line_of(index: usize) -> Option<usize> {
    Some(index + 2)
}

/// Rule 1 on one log, a row at a time: the clock's step, and time that never runs backwards.
#[derive(Default)]
pub(super) struct ClockRule {
    previous: u64,
    previous_time: u64,
}

impl ClockRule {
    /// The next row of the log; `found` is told what is wrong with it.
    pub(super) fn row(&mut self, row: &Record, mut found: impl FnMut(String)) {
        let previous = self.previous;
        let expected = match (row.event, row.msg_clock) {
            (EventKind::Receive, Some(msg)) => previous.max(msg) + 1,
            _ => previous + 1,
        };
        if row.logical_clock != expected {
            let rule = match row.event {
                EventKind::Receive => "max(previous, msg_clock) + 1",
                _ => "previous + 1",
            };
            found(format!(
                "{} moved the clock from {previous} to {}; the rule gives {rule} = {expected}",
                row.event, row.logical_clock
            ));
        }
        if row.system_time_us < self.previous_time {
            found("system_time runs backwards".to_string());
        }
        self.previous = row.logical_clock;
        self.previous_time = row.system_time_us;
    }
}

/// What [`check_clocks`] checked.
pub(super) fn clocks_checked(rows: u64, n: u16) -> String {
    format!("clock rules on {rows} events of {n} machines")
}

/// Where a data frame went: to one peer, or to every machine of the trial but its sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dests {
    /// A send, to its peer.
    To(Option<u16>),
    /// A broadcast by `source`, to machines 1 to `n` but itself.
    AllBut {
        /// The sender.
        source: u16,
        /// The trial's machines.
        n: u16,
    },
}

impl Dests {
    /// The destinations, ascending.
    pub(super) fn list(self) -> Vec<u16> {
        match self {
            Dests::To(peer) => peer.into_iter().collect(),
            Dests::AllBut { source, n } => (1..=n).filter(|&d| d != source).collect(),
        }
    }
}

/// A data frame a row sent ([`SeqRule::row`]): its seq, clock and destinations, and whether that
/// seq came in order.
pub(super) struct DataFrame {
    pub(super) seq: u32,
    pub(super) clock: u64,
    pub(super) dests: Dests,
    /// The seq follows the previous one without wrapping: no earlier frame of the machine had it.
    pub(super) fresh: bool,
}

/// The sends of one log, a row at a time: seqs run 1, 2, 3, ..., and a frame carries its event's
/// clock.
#[derive(Default)]
pub(super) struct SeqRule {
    previous_seq: u32,
}

impl SeqRule {
    /// The next row of machine `id`'s log, in a trial of `n` machines: the data frame it sent,
    /// if it sent one; `found` is told what is wrong with it.
    pub(super) fn row(
        &mut self,
        id: u16,
        n: u16,
        row: &Record,
        mut found: impl FnMut(String),
    ) -> Option<DataFrame> {
        let dests = match row.event {
            EventKind::Send => Dests::To(row.peer),
            EventKind::Broadcast => Dests::AllBut { source: id, n },
            _ => return None,
        };
        let (Some(seq), Some(clock)) = (row.seq, row.msg_clock) else {
            return None;
        };
        // The machine's rule: 1 first, then +1, wrapping from 2^32 - 1 back to 1.
        let previous_seq = self.previous_seq;
        if seq != previous_seq.wrapping_add(1).max(1) {
            found(format!(
                "{} with seq {seq}; the previous data frame had seq {previous_seq}",
                row.event
            ));
        }
        if clock != row.logical_clock {
            found(format!(
                "{} carries clock {clock} but the event's clock is {}",
                row.event, row.logical_clock
            ));
        }
        self.previous_seq = seq;
        Some(DataFrame {
            seq,
            clock,
            dests,
            fresh: previous_seq.checked_add(1) == Some(seq),
        })
    }
}

/// What [`collect_sends`] checked.
pub(super) fn frames_checked(frames: u64) -> String {
    format!("{frames} data frames sent, seqs consecutive per machine")
}

/// A receive whose message carries another clock than its send.
pub(super) fn clock_differs(seq: u32, source: u16, clock: u64, sent: u64) -> String {
    format!(
        "received seq {seq} from machine {source} with clock {clock}; it was sent with clock {sent}"
    )
}

/// What [`check_receives`] checked.
pub(super) fn receives_checked(total: u64) -> String {
    format!(
        "{total} receives each match exactly one send (source, seq, clock, destination), none twice"
    )
}

/// The frames sent and received that rule 3 weighs: per ordered pair, how many were sent and
/// received, and whether a frame (source, seq) went to a machine with a clock.
pub(super) struct Traffic<'a> {
    pub(super) sent_pairs: &'a BTreeMap<(u16, u16), u64>,
    pub(super) received: &'a BTreeMap<(u16, u16), u64>,
    pub(super) went_to: &'a dyn Fn(u16, u32, u16, u64) -> bool,
}

/// The rules that close a trial, from its machines' closing state and its traffic: conservation
/// per ordered pair ([`check_conservation`]), then the summaries against the logs
/// ([`check_summaries`]).
pub(super) fn check_closing(
    report: &mut Report,
    machines: &[Machine],
    traffic: Traffic<'_>,
    router: Option<&RouterStats>,
    drops_planned: bool,
    n: u16,
) {
    check_conservation(report, machines, traffic, router, drops_planned, n);
    check_summaries(report, machines);
}

/// Rule 3, and the router's own books.
fn check_conservation(
    report: &mut Report,
    machines: &[Machine],
    traffic: Traffic<'_>,
    router: Option<&RouterStats>,
    drops_planned: bool,
    n: u16,
) {
    let Traffic {
        sent_pairs,
        received,
        went_to,
    } = traffic;
    let mut unprocessed: BTreeMap<(u16, u16), u64> = BTreeMap::new();
    for m in machines {
        let Some(summary) = &m.summary else { continue };
        for u in &summary.unprocessed {
            if !went_to(u.source, u.seq, m.id, u.clock) {
                report.violation(
                    &m.path.with_file_name(summary_file_name(m.id)),
                    None,
                    format!(
                        "unprocessed message seq {} from machine {} (clock {}) matches no send to machine {}",
                        u.seq, u.source, u.clock, m.id
                    ),
                );
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
fn check_summaries(report: &mut Report, machines: &[Machine]) {
    let mut checked = 0;
    for m in machines {
        let Some(s) = &m.summary else { continue };
        checked += 1;
        let file = m.path.with_file_name(summary_file_name(m.id));
        if s.ticks != m.rows {
            report.violation(
                &file,
                None,
                format!(
                    "{} ticks but {} has {} rows",
                    s.ticks,
                    m.path.display(),
                    m.rows
                ),
            );
        }
        if let Some(last) = m.last_clock {
            if last != s.final_clock {
                report.violation(
                    &file,
                    None,
                    format!("final clock {} but the log ends at {last}", s.final_clock),
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
