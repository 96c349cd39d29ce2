//! The check of a trial as its logs stream by: one pass over the logs merged by logical clock
//! ([`merge_by_clock`]), so that every receive comes after its send in logs that keep the clock
//! rules. It holds, per machine, the state of its rules (previous clock, time and seq, how many
//! rows, the last clock) and its findings; per message in flight (sent and not yet received by
//! every machine it was sent to), its clock and the machines still to receive it; and per ordered
//! pair, how many were sent and received. A message received by all its destinations is
//! forgotten, so memory grows with the machines and the messages in flight (those a machine never
//! received stay to the end: a queue left unprocessed, frames lost or dropped), not with the rows.
//!
//! The findings are those of [`super::whole`], in its order: each rule's findings are kept per
//! machine in row order and reported rule by rule. Where that would need what the stream has
//! forgotten (a message received twice, or by a machine it was not sent to, or before its send; a
//! seq out of order or reused; a summary's unprocessed message that was received; a log that does
//! not read), [`check`] answers `None` and the trial is checked whole.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::rules::{self, ClockRule, Dests, Machine, SeqRule, Traffic, line_of};
use super::{Report, Start, machine_rows, start};
use crate::core::event::{EventKind, Record};
use crate::rundir::load::{LogFile, MachineFiles, OpenLog, open_trial_files};
use crate::rundir::log::{LogError, LogRows, merge_by_clock};

/// A message sent and not yet received by every machine it was sent to.
struct Flight {
    clock: u64,
    waiting: Waiting,
}

/// The machines still to receive a message.
enum Waiting {
    /// A send's one destination.
    One(u16),
    /// A broadcast's: a bit per machine id, and how many are set.
    Many { ids: Box<[u64]>, left: u16 },
}

impl Waiting {
    /// Those `dests` name; `None` when that is no machine.
    fn of(dests: Dests) -> Option<Waiting> {
        match dests {
            Dests::To(peer) => peer.map(Waiting::One),
            Dests::AllBut { source, n } => {
                let mut ids = vec![0u64; usize::from(n) / 64 + 1].into_boxed_slice();
                let mut left = 0;
                for d in (1..=n).filter(|&d| d != source) {
                    ids[usize::from(d) / 64] |= 1 << (d % 64);
                    left += 1;
                }
                (left > 0).then_some(Waiting::Many { ids, left })
            }
        }
    }

    /// Whether machine `id` is still to receive it.
    fn has(&self, id: u16) -> bool {
        match self {
            Waiting::One(d) => *d == id,
            Waiting::Many { ids, .. } => ids
                .get(usize::from(id) / 64)
                .is_some_and(|word| word & (1 << (id % 64)) != 0),
        }
    }

    /// Machine `id` received it: whether every machine has now.
    fn received_by(&mut self, id: u16) -> bool {
        match self {
            Waiting::One(_) => true,
            Waiting::Many { ids, left } => {
                ids[usize::from(id) / 64] &= !(1 << (id % 64));
                *left -= 1;
                *left == 0
            }
        }
    }
}

/// What the stream holds of one machine.
#[derive(Default)]
struct State {
    clocks: ClockRule,
    seqs: SeqRule,
    /// The last seq it sent: it has sent seqs 1 to `last_seq`, each once.
    last_seq: u32,
    /// How many broadcasts it sent (one frame to every other machine each).
    broadcasts: u64,
    rows: u64,
    last_clock: Option<u64>,
    /// Each rule's findings, by row: rule 1, the sends, the receives.
    clock_findings: Vec<(usize, String)>,
    send_findings: Vec<(usize, String)>,
    receive_findings: Vec<(usize, String)>,
}

/// What the stream holds of the trial.
#[derive(Default)]
struct Trial {
    flights: HashMap<(u16, u32), Flight>,
    sent_pairs: BTreeMap<(u16, u16), u64>,
    received: BTreeMap<(u16, u16), u64>,
    frames: u64,
    receives: u64,
}

/// The stream cannot judge the trial alone: check it whole.
struct Whole;

/// Checks the trial directory `dir` in one pass over its logs; `None` when it must be checked
/// whole (the module says when).
pub(super) fn check(dir: &Path) -> Option<Report> {
    let Start {
        mut report,
        router,
        n,
        drops_planned,
        machines,
    } = match start(dir, open_trial_files(dir)) {
        Ok(start) => start,
        Err(skipped) => return Some(skipped),
    };
    // The machines' files apart from their logs, and the logs present as streams.
    let mut files = Vec::with_capacity(machines.len());
    let (mut logs, mut owner): (Vec<LogRows>, Vec<usize>) = (Vec::new(), Vec::new());
    for m in machines {
        let log = match m.log {
            OpenLog::Missing(e) => Some(e),
            OpenLog::Rows(rows) => {
                owner.push(files.len());
                logs.push(*rows);
                None
            }
        };
        files.push(MachineFiles {
            id: m.id,
            summary_path: m.summary_path,
            summary: m.summary,
            log_path: m.log_path,
            log,
        });
    }
    let ids: Vec<u16> = files.iter().map(|m| m.id).collect();
    let mut states: Vec<State> = ids.iter().map(|_| State::default()).collect();
    let mut trial = Trial::default();
    let mut stream = merge_by_clock(logs);
    for row in stream.by_ref() {
        let row = row.ok()?;
        let at = owner[row.machine];
        let state = &mut states[at];
        trial.row(state, ids[at], n, row.index, &row.record).ok()?;
    }
    let cuts: Vec<Option<LogError>> = stream
        .into_sources()
        .into_iter()
        .map(LogRows::into_cut)
        .collect();
    let mut cuts = cuts.into_iter();
    // Each machine's files judged as `whole` judges them, its log as the stream found it.
    let mut closing = Vec::with_capacity(files.len());
    for (m, state) in files.into_iter().zip(&states) {
        let log = match m.log {
            Some(missing) => LogFile::Missing(missing),
            None => match cuts.next().flatten() {
                // A machine that stopped in order leaves no cut row: the log is an error, its
                // rows are not checked.
                Some(_) if stopped_in_order(&m) => return None,
                Some(cut) => LogFile::Cut {
                    cut,
                    before: Ok(Vec::new()),
                },
                None => LogFile::Whole(Vec::new()),
            },
        };
        let m = MachineFiles {
            id: m.id,
            summary_path: m.summary_path,
            summary: m.summary,
            log_path: m.log_path,
            log,
        };
        let held = machine_rows(&mut report, m);
        closing.push(Machine {
            id: held.id,
            path: held.path,
            summary: held.summary,
            rows: state.rows,
            last_clock: state.last_clock,
        });
    }
    let rows = states.iter().map(|s| s.rows).sum();
    let findings = |report: &mut Report, rule: fn(&State) -> &Vec<(usize, String)>| {
        for (m, state) in closing.iter().zip(&states) {
            for (index, message) in rule(state) {
                report.violation(&m.path, line_of(*index), message.clone());
            }
        }
    };
    findings(&mut report, |s| &s.clock_findings);
    report.checked.push(rules::clocks_checked(rows, n));
    findings(&mut report, |s| &s.send_findings);
    report.checked.push(rules::frames_checked(trial.frames));
    findings(&mut report, |s| &s.receive_findings);
    report.checked.push(rules::receives_checked(trial.receives));
    // Each broadcast was a frame to every other machine.
    for (&source, state) in ids.iter().zip(&states) {
        if state.broadcasts > 0 {
            for dest in (1..=n).filter(|&d| d != source) {
                *trial.sent_pairs.entry((source, dest)).or_insert(0) += state.broadcasts;
            }
        }
    }
    let went_to = trial.unprocessed_matcher(&closing, &ids, &states)?;
    let traffic = Traffic {
        sent_pairs: &trial.sent_pairs,
        received: &trial.received,
        went_to: &went_to,
    };
    rules::check_closing(
        &mut report,
        &closing,
        traffic,
        router.as_ref(),
        drops_planned,
        n,
    );
    Some(report)
}

/// Whether the machine stopped in order, as `machine_rows` judges it: it has a summary that reads
/// and names no failure of its log.
fn stopped_in_order<L>(m: &MachineFiles<L>) -> bool {
    matches!(&m.summary, Ok(Some(s)) if s.log_error.is_none())
}

impl Trial {
    /// Row `index` of machine `id`'s log (whose state is `state`), in a trial of `n` machines
    /// whose ids are `ids`.
    fn row(
        &mut self,
        state: &mut State,
        id: u16,
        n: u16,
        index: usize,
        row: &Record,
    ) -> Result<(), Whole> {
        state
            .clocks
            .row(row, |message| state.clock_findings.push((index, message)));
        state.rows += 1;
        state.last_clock = Some(row.logical_clock);
        match row.event {
            EventKind::Send | EventKind::Broadcast => {
                let found = |message| state.send_findings.push((index, message));
                let Some(frame) = state.seqs.row(id, n, row, found) else {
                    return Ok(());
                };
                if !frame.fresh {
                    return Err(Whole);
                }
                state.last_seq = frame.seq;
                self.frames += 1;
                match frame.dests {
                    Dests::To(Some(dest)) => *self.sent_pairs.entry((id, dest)).or_insert(0) += 1,
                    Dests::To(None) => {}
                    Dests::AllBut { .. } => state.broadcasts += 1,
                }
                if let Some(waiting) = Waiting::of(frame.dests) {
                    let flight = Flight {
                        clock: frame.clock,
                        waiting,
                    };
                    self.flights.insert((id, frame.seq), flight);
                }
            }
            EventKind::Receive => {
                let (Some(source), Some(seq), Some(clock)) = (row.peer, row.seq, row.msg_clock)
                else {
                    return Ok(());
                };
                self.receives += 1;
                // A first receipt by a machine the message was sent to; anything else needs what
                // the stream forgot.
                let flight = self.flights.get_mut(&(source, seq)).ok_or(Whole)?;
                if !flight.waiting.has(id) {
                    return Err(Whole);
                }
                if flight.clock != clock {
                    let message = rules::clock_differs(seq, source, clock, flight.clock);
                    state.receive_findings.push((index, message));
                }
                if flight.waiting.received_by(id) {
                    self.flights.remove(&(source, seq));
                }
                *self.received.entry((source, id)).or_insert(0) += 1;
            }
            EventKind::Internal => {}
        }
        Ok(())
    }

    /// Whether a summary's unprocessed message (source, seq) went to the machine with its clock,
    /// as the rows held would say, for every unprocessed message of `machines`; `None` when one
    /// of them was sent and is no longer in flight for that machine (it was received, or sent
    /// elsewhere), which only the rows held can tell.
    fn unprocessed_matcher(
        &self,
        machines: &[Machine],
        ids: &[u16],
        states: &[State],
    ) -> Option<impl Fn(u16, u32, u16, u64) -> bool + '_> {
        let last_seq = |source: u16| {
            ids.binary_search(&source)
                .map_or(0, |at| states[at].last_seq)
        };
        for m in machines {
            let Some(summary) = &m.summary else { continue };
            for u in &summary.unprocessed {
                let waiting = self
                    .flights
                    .get(&(u.source, u.seq))
                    .is_some_and(|f| f.waiting.has(m.id));
                let sent = (1..=last_seq(u.source)).contains(&u.seq);
                if sent && !waiting {
                    return None;
                }
            }
        }
        Some(|source, seq, dest, clock| {
            self.flights
                .get(&(source, seq))
                .is_some_and(|f: &Flight| f.waiting.has(dest) && f.clock == clock)
        })
    }
}
