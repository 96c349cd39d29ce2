//! The computations behind the figures: one machine's figures from its rows (jumps, queues,
//! latency, waits), and the drift series of a trial, which needs every machine.

use std::collections::BTreeMap;

use super::stats::{Distribution, least_squares_slope_of};
use super::{
    DRIFT_STEP_US, DriftSeries, Jump, LARGEST_JUMPS, MachineAnalysis, MachineInput, QueueFigures,
    TrialInput,
};
use crate::core::event::EventKind;
use crate::core::machine::tick_offset_ns;

/// Seconds from `start_us` to `t_us` (negative before the start).
fn seconds_since(start_us: u64, t_us: u64) -> f64 {
    (i128::from(t_us) - i128::from(start_us)) as f64 / 1e6
}

/// A value per message, by `(sender, seq)`, the first logged for it kept: seqs count up from 1 on
/// each sender, so each sender's values lie in a vector indexed by seq, as long as its seqs stay
/// within its rows; a larger seq (which only a hand-made log has) goes to a map.
pub(super) struct ByMessage {
    /// Per sender id: its values by seq, and how far that vector may grow (its rows).
    dense: BTreeMap<u16, (Vec<Option<u64>>, usize)>,
    /// The values whose seq lies beyond their sender's rows.
    sparse: BTreeMap<(u16, u32), u64>,
}

impl ByMessage {
    /// An empty table for the senders of `trial`.
    fn new(trial: &TrialInput) -> ByMessage {
        let mut dense: BTreeMap<u16, (Vec<Option<u64>>, usize)> = BTreeMap::new();
        for m in &trial.machines {
            dense.entry(m.id).or_default().1 += m.records.len();
        }
        ByMessage {
            dense,
            sparse: BTreeMap::new(),
        }
    }

    /// Keeps `value` for `(sender, seq)` unless one is kept already.
    fn insert(&mut self, (sender, seq): (u16, u32), value: u64) {
        let index = seq as usize;
        match self.dense.get_mut(&sender) {
            Some((values, rows)) if index <= *rows => {
                if values.len() <= index {
                    values.resize(index + 1, None);
                }
                values[index].get_or_insert(value);
            }
            _ => {
                self.sparse.entry((sender, seq)).or_insert(value);
            }
        }
    }

    /// The value kept for `(sender, seq)`.
    pub(super) fn get(&self, (sender, seq): (u16, u32)) -> Option<u64> {
        match self.dense.get(&sender) {
            Some((values, rows)) if seq as usize <= *rows => values.get(seq as usize).copied()?,
            _ => self.sparse.get(&(sender, seq)).copied(),
        }
    }
}

/// The time of a message: `(sender, seq)` to the sender's system time of its send or broadcast.
type SendTimes = ByMessage;

/// Each logged send's tick deadline, nanoseconds after the start, by (source, seq): the k-th row
/// of a machine at rate r is its k-th tick, due at start + k/r (`tick_offset_ns`). Machines with
/// no known rate, or that skipped deadlines (whose rows then are not their tick numbers), are
/// left out.
pub(super) type SendDeadlines = ByMessage;

/// The deadline of `m`'s `index`-th row (from 0), when it can be told.
fn row_deadline(m: &MachineInput, index: usize) -> Option<u64> {
    let rate = m.rate?;
    if m.timing.is_some_and(|t| t.skipped > 0) {
        return None;
    }
    Some(tick_offset_ns(rate, index as u64 + 1))
}

pub(super) fn send_deadlines(trial: &TrialInput) -> SendDeadlines {
    let mut sends = ByMessage::new(trial);
    for m in &trial.machines {
        for (i, r) in m.records.iter().enumerate() {
            if let (EventKind::Send | EventKind::Broadcast, Some(seq)) = (r.event, r.seq) {
                if let Some(deadline) = row_deadline(m, i) {
                    sends.insert((m.id, seq), deadline);
                }
            }
        }
    }
    sends
}

/// How many of `m`'s receives took a message sent at the same deadline as the receiving tick or
/// a later one; `None` when its own deadlines cannot be told.
fn same_instant_receives(m: &MachineInput, sends: &SendDeadlines) -> Option<u64> {
    row_deadline(m, 0)?;
    let mut count = 0;
    for (i, r) in m.records.iter().enumerate() {
        let (EventKind::Receive, Some(peer), Some(seq)) = (r.event, r.peer, r.seq) else {
            continue;
        };
        if let (Some(sent), Some(own)) = (sends.get((peer, seq)), row_deadline(m, i)) {
            count += u64::from(sent >= own);
        }
    }
    Some(count)
}

pub(super) fn send_times(trial: &TrialInput) -> SendTimes {
    let mut sends = ByMessage::new(trial);
    for m in &trial.machines {
        for r in &m.records {
            if let (EventKind::Send | EventKind::Broadcast, Some(seq)) = (r.event, r.seq) {
                sends.insert((m.id, seq), r.system_time_us);
            }
        }
    }
    sends
}

/// What a trial's figures take from one machine beside its own: its latencies and waits, and how
/// many of each jump size (also in its [`MachineAnalysis::jump_histogram`]).
pub(super) struct MachineParts {
    /// The real-time latency of each matched receive, milliseconds, in log order.
    pub latency_ms: Vec<f64>,
    /// How many matched receives waited each number of its own ticks.
    pub waits: BTreeMap<u64, u64>,
}

/// One machine's figures, all but drift (which needs every machine), in one walk over its rows
/// that keeps counts rather than a value per row (docs/ANALYSIS.md: what each figure holds).
pub(super) fn analyze_machine(
    start_us: u64,
    m: &MachineInput,
    sends: &SendTimes,
    deadlines: &SendDeadlines,
) -> (MachineAnalysis, MachineParts) {
    let rows = &m.records;
    let mut by_kind = [0u64; 4];
    for r in rows {
        by_kind[EventKind::ALL
            .iter()
            .position(|&k| k == r.event)
            .unwrap_or(0)] += 1;
    }
    let span = match (rows.first(), rows.last()) {
        (Some(a), Some(b)) if b.system_time_us > a.system_time_us => {
            Some(((b.system_time_us - a.system_time_us) as f64 / 1e6, a, b))
        }
        _ => None,
    };
    // Jumps: each row's clock minus the previous row's, from 0 before the first row; the largest
    // kept as they come, largest first and the earlier first among equals.
    let mut previous = 0u64;
    let mut jump_histogram = BTreeMap::new();
    let mut largest: Vec<Jump> = Vec::with_capacity(LARGEST_JUMPS + 1);
    for (i, r) in rows.iter().enumerate() {
        let size = r.logical_clock.saturating_sub(previous);
        previous = r.logical_clock;
        *jump_histogram.entry(size).or_insert(0u64) += 1;
        if largest.len() < LARGEST_JUMPS || largest.last().is_some_and(|j| size > j.size) {
            let at = largest.partition_point(|j| j.size >= size);
            largest.insert(
                at,
                Jump {
                    size,
                    time_s: seconds_since(start_us, r.system_time_us),
                    line: i as u64 + 2,
                },
            );
            largest.truncate(LARGEST_JUMPS);
        }
    }

    let queue = (!rows.is_empty()).then(|| {
        // Microseconds from the first row, so the sums stay small and exact.
        let t0 = rows.first().map_or(0, |r| r.system_time_us);
        let points = rows.iter().map(|r| {
            let dt = i64::try_from(r.system_time_us.saturating_sub(t0)).unwrap_or(i64::MAX);
            (dt, i64::from(r.queue_len))
        });
        QueueFigures {
            max: rows.iter().map(|r| r.queue_len).max().unwrap_or(0),
            mean: rows.iter().map(|r| f64::from(r.queue_len)).sum::<f64>() / rows.len() as f64,
            last: rows.last().map_or(0, |r| r.queue_len),
            growth_per_min: least_squares_slope_of(points, 60_000_000),
        }
    });

    let (latency, waits, unmatched) = latencies(m, sends);
    let analysis = MachineAnalysis {
        id: m.id,
        name: m.name.clone(),
        rate: m.rate,
        problems: m.problems.clone(),
        events: rows.len() as u64,
        by_kind,
        tick_rate: span.map(|(s, _, _)| (rows.len() - 1) as f64 / s),
        final_clock: rows.last().map_or(0, |r| r.logical_clock),
        clock_per_s: span
            .map(|(s, a, b)| b.logical_clock.saturating_sub(a.logical_clock) as f64 / s),
        jumps: Distribution::of_counts(&jump_histogram),
        jump_histogram,
        largest_jumps: largest,
        queue,
        queue_peak: m.queue_peak,
        timing: m.timing,
        same_instant_receives: same_instant_receives(m, deadlines),
        drift: None,
        latency_ms: Distribution::of(&latency),
        wait_ticks: Distribution::of_counts(&waits),
        unmatched_receives: unmatched,
    };
    let parts = MachineParts {
        latency_ms: latency,
        waits,
    };
    (analysis, parts)
}

/// For each receive of `m` whose send is known: its latency in milliseconds, and how many
/// receives waited each number of `m`'s rows strictly after the send's time and before the
/// receive. Also how many receives had no send.
fn latencies(m: &MachineInput, sends: &SendTimes) -> (Vec<f64>, BTreeMap<u64, u64>, u64) {
    let rows = &m.records;
    let (mut latency, mut waits, mut unmatched) = (Vec::new(), BTreeMap::new(), 0);
    for (i, r) in rows.iter().enumerate() {
        let (EventKind::Receive, Some(peer), Some(seq)) = (r.event, r.peer, r.seq) else {
            continue;
        };
        let Some(sent) = sends.get((peer, seq)) else {
            unmatched += 1;
            continue;
        };
        latency.push((i128::from(r.system_time_us) - i128::from(sent)) as f64 / 1000.0);
        let not_after = rows[..i].partition_point(|x| x.system_time_us <= sent);
        *waits.entry((i - not_after) as u64).or_insert(0) += 1;
    }
    (latency, waits, unmatched)
}

/// Samples every machine's clock each [`DRIFT_STEP_US`] from the latest first row to the earliest
/// last row (machines without rows take no part).
pub(super) fn drift_series(trial: &TrialInput) -> DriftSeries {
    let present: Vec<&MachineInput> = trial
        .machines
        .iter()
        .filter(|m| !m.records.is_empty())
        .collect();
    let first = present
        .iter()
        .filter_map(|m| m.records.first())
        .map(|r| r.system_time_us)
        .max();
    let last = present
        .iter()
        .filter_map(|m| m.records.last())
        .map(|r| r.system_time_us)
        .min();
    let mut series = DriftSeries {
        drift: vec![Vec::new(); trial.machines.len()],
        ..DriftSeries::default()
    };
    let (Some(first), Some(last)) = (first, last) else {
        return series;
    };
    let mut cursor = vec![0usize; trial.machines.len()];
    let mut t = first;
    while t <= last {
        // Each present machine's clock at t: that of its last row at or before t.
        let mut clocks: Vec<Option<u64>> = Vec::with_capacity(trial.machines.len());
        for (k, m) in trial.machines.iter().enumerate() {
            let rows = &m.records;
            while cursor[k] < rows.len() && rows[cursor[k]].system_time_us <= t {
                cursor[k] += 1;
            }
            clocks.push(cursor[k].checked_sub(1).map(|i| rows[i].logical_clock));
        }
        let top = clocks.iter().flatten().copied().max().unwrap_or(0);
        let bottom = clocks.iter().flatten().copied().min().unwrap_or(0);
        for (k, c) in clocks.iter().enumerate() {
            if let Some(c) = c {
                series.drift[k].push(-((top - c) as i64));
            }
        }
        series.largest.push(top - bottom);
        series.times_s.push(seconds_since(trial.start_us, t));
        t += DRIFT_STEP_US;
    }
    series
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::Record;

    #[test]
    fn a_message_keeps_its_first_value_whatever_its_seq() {
        let send = |seq: u32, t: u64| Record {
            machine: 1,
            event: EventKind::Send,
            system_time_us: t,
            logical_clock: t,
            queue_len: 0,
            peer: Some(2),
            msg_clock: Some(t),
            seq: Some(seq),
        };
        // A seq far beyond the machine's rows (a hand-made log) goes to the map, not a vector
        // of four billion entries; a seq logged twice keeps its first time.
        let rows = vec![send(1, 10), send(u32::MAX, 20), send(1, 30), send(3, 40)];
        let trial = TrialInput {
            machines: vec![MachineInput {
                id: 1,
                records: rows,
                ..MachineInput::default()
            }],
            ..TrialInput::default()
        };
        let sends = send_times(&trial);
        assert_eq!(sends.get((1, 1)), Some(10));
        assert_eq!(sends.get((1, u32::MAX)), Some(20));
        assert_eq!(sends.get((1, 3)), Some(40));
        assert_eq!(sends.get((1, 2)), None);
        assert_eq!(sends.get((1, 5)), None);
        assert_eq!(sends.get((2, 1)), None);
        assert!(sends.dense[&1].0.len() <= 5, "{}", sends.dense[&1].0.len());
    }
}
