//! What the stream keeps of one machine: its figures summed as its rows go by, the times of its
//! recent rows (for the waits of messages sent to it), and its clock at each drift sampling
//! instant.

use std::collections::{BTreeMap, VecDeque};

use crate::analysis::stats::{Distribution, Slope};
use crate::analysis::{Jump, LARGEST_JUMPS, MachineAnalysis, MachineInput, QueueFigures};
use crate::core::event::{EventKind, Record};
use crate::core::machine::tick_offset_ns;

/// Seconds from `start_us` to `t_us` (negative before the start).
pub(super) fn seconds_since(start_us: u64, t_us: u64) -> f64 {
    (i128::from(t_us) - i128::from(start_us)) as f64 / 1e6
}

/// The tick deadline of a machine's `index`-th row (from 0), nanoseconds after the start, when it
/// can be told: the k-th row of a machine at rate r is its k-th tick, due at k/r; a machine with
/// no known rate, or that skipped deadlines (whose rows then are not its tick numbers), has none.
pub(super) fn row_deadline(m: &MachineInput, index: usize) -> Option<u64> {
    let rate = m.rate?;
    if m.timing.is_some_and(|t| t.skipped > 0) {
        return None;
    }
    Some(tick_offset_ns(rate, index as u64 + 1))
}

/// One machine's figures as its rows go by.
#[derive(Debug, Default)]
pub(super) struct MachineState {
    /// Rows so far.
    pub rows: u64,
    by_kind: [u64; 4],
    first: Option<Record>,
    pub last: Option<Record>,
    jump_histogram: BTreeMap<u64, u64>,
    largest: Vec<Jump>,
    queue_sum: f64,
    queue_max: u32,
    queue_slope: Slope,
    /// Matched receives by latency, microseconds.
    pub latency_us: BTreeMap<i64, u64>,
    /// Matched receives by how many of its own rows they waited.
    pub waits: BTreeMap<u64, u64>,
    pub unmatched: u64,
    /// Receives of a message sent at the receiving tick's deadline or later; `None` when its own
    /// deadlines cannot be told.
    pub same_instant: Option<u64>,
    /// The times of its latest rows (for [`MachineState::rows_after`]).
    recent: VecDeque<u64>,
}

impl MachineState {
    /// A machine before its first row; `deadlines` says whether its tick deadlines can be told.
    pub fn new(deadlines: bool) -> MachineState {
        MachineState {
            same_instant: deadlines.then_some(0),
            ..MachineState::default()
        }
    }

    /// Takes its next row, `start_us` being the trial's start.
    pub fn take(&mut self, r: &Record, start_us: u64) {
        let k = EventKind::ALL.iter().position(|&k| k == r.event);
        self.by_kind[k.unwrap_or(0)] += 1;
        let previous = self.last.map_or(0, |l| l.logical_clock);
        let size = r.logical_clock.saturating_sub(previous);
        *self.jump_histogram.entry(size).or_insert(0) += 1;
        // The largest kept as they come, largest first and the earlier first among equals.
        if self.largest.len() < LARGEST_JUMPS || self.largest.last().is_some_and(|j| size > j.size)
        {
            let at = self.largest.partition_point(|j| j.size >= size);
            self.largest.insert(
                at,
                Jump {
                    size,
                    time_s: seconds_since(start_us, r.system_time_us),
                    line: self.rows + 2,
                },
            );
            self.largest.truncate(LARGEST_JUMPS);
        }
        let t0 = self.first.get_or_insert(*r).system_time_us;
        // Microseconds from the first row, so the sums stay small and exact.
        let dt = i64::try_from(r.system_time_us.saturating_sub(t0)).unwrap_or(i64::MAX);
        self.queue_slope.add(dt, i64::from(r.queue_len));
        self.queue_sum += f64::from(r.queue_len);
        self.queue_max = self.queue_max.max(r.queue_len);
        self.recent.push_back(r.system_time_us);
        self.last = Some(*r);
        self.rows += 1;
    }

    /// How many of its rows so far came after `t_us`, when its recent rows reach back that far
    /// (it has a row after `t_us` and every row after `t_us` is still kept); `None` when none of
    /// its rows came after `t_us` yet.
    pub fn rows_after(&self, t_us: u64) -> Option<u64> {
        let last = self.last?;
        if last.system_time_us <= t_us {
            return None;
        }
        let not_after = self.recent.partition_point(|&t| t <= t_us);
        Some((self.recent.len() - not_after) as u64)
    }

    /// Forgets the times of its rows at or before `t_us`, which no message sent from now on can
    /// need (every send still to come is at `t_us` or later).
    pub fn forget_before(&mut self, t_us: u64) {
        while self.recent.front().is_some_and(|&t| t <= t_us) {
            self.recent.pop_front();
        }
    }

    /// Its figures, all but drift (which needs every machine).
    pub fn figures(&self, m: &MachineInput) -> MachineAnalysis {
        let span = match (self.first, self.last) {
            (Some(a), Some(b)) if b.system_time_us > a.system_time_us => {
                Some(((b.system_time_us - a.system_time_us) as f64 / 1e6, a, b))
            }
            _ => None,
        };
        let queue = self.last.map(|last| QueueFigures {
            max: self.queue_max,
            mean: self.queue_sum / self.rows as f64,
            last: last.queue_len,
            growth_per_min: self.queue_slope.slope(60_000_000),
        });
        MachineAnalysis {
            id: m.id,
            name: m.name.clone(),
            rate: m.rate,
            problems: m.problems.clone(),
            events: self.rows,
            by_kind: self.by_kind,
            tick_rate: span.map(|(s, _, _)| (self.rows - 1) as f64 / s),
            final_clock: self.last.map_or(0, |r| r.logical_clock),
            clock_per_s: span
                .map(|(s, a, b)| b.logical_clock.saturating_sub(a.logical_clock) as f64 / s),
            jumps: Distribution::of_counts(&self.jump_histogram),
            jump_histogram: self.jump_histogram.clone(),
            largest_jumps: self.largest.clone(),
            queue,
            queue_peak: m.queue_peak,
            timing: m.timing,
            same_instant_receives: self.same_instant,
            drift: None,
            latency_ms: Distribution::of_scaled_counts(&self.latency_us, 1000.0),
            wait_ticks: Distribution::of_counts(&self.waits),
            unmatched_receives: self.unmatched,
        }
    }
}
