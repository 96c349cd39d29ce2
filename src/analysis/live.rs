//! The live model of a trial: what the live view (`clocklab watch`, `run --live`) shows, kept up
//! to date one log row at a time. [`LiveTrial::handle_record`] takes each row as the tail of its
//! log hands it over, in any order across machines (in order within one), and
//! [`LiveTrial::rows`] answers one [`LiveRow`] per machine: its figures so far, each defined as
//! `analyze` defines the figure of the same name (docs/ANALYSIS.md), so that the final state of a
//! finished trial shows exactly `analyze`'s numbers.
//!
//! Pure: rows in, figures out; time is the rows' own. The cost of a row is constant, and the
//! clock history kept for the plot is bounded ([`MAX_POINTS`] per machine, thinned evenly as the
//! trial grows), so a trial of any length is followed in bounded memory.

use std::collections::BTreeMap;

use crate::core::event::{EventKind, Record};

/// The most points of clock history kept per machine for the plot.
pub const MAX_POINTS: usize = 1024;

/// Every machine of one trial, as far as its log has been read.
#[derive(Clone, Debug, Default)]
pub struct LiveTrial {
    /// The trial's common start, microseconds since the UNIX epoch, when known (run.yaml, the
    /// router's statistics, or `run` itself).
    start_us: Option<u64>,
    machines: BTreeMap<u16, LiveMachine>,
}

/// One machine's figures so far.
#[derive(Clone, Debug, Default)]
struct LiveMachine {
    /// The configured rate, ticks/s, when known.
    rate: Option<f64>,
    /// Rows so far: one per tick.
    ticks: u64,
    /// Rows by kind, in [`EventKind::ALL`]'s order.
    by_kind: [u64; 4],
    /// The last row's clock, time and queue.
    clock: u64,
    queue: u32,
    first_us: Option<u64>,
    last_us: Option<u64>,
    /// The longest queue after a tick.
    queue_max: u32,
    /// The largest jump and the time of its row (the first such row: a later jump must be
    /// larger to replace it, as in `analyze`'s list of largest jumps).
    jump_max: u64,
    jump_max_us: Option<u64>,
    /// `(system_time_us, clock)` of every `stride`-th row.
    history: Vec<(u64, u64)>,
    stride: u64,
}

/// One machine's line of the live view.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveRow {
    /// The machine's id.
    pub id: u16,
    /// The configured rate, ticks/s, when known.
    pub rate: Option<f64>,
    /// The measured rate: ticks after the first over the seconds from the first row to the last
    /// (`tick_rate`); none before two rows at different times.
    pub tick_rate: Option<f64>,
    /// Ticks done: rows in the log (`events`).
    pub ticks: u64,
    /// The Lamport clock after the last row (`final_clock`).
    pub clock: u64,
    /// The clock minus the leader's (the largest clock now): 0 for the leader, negative for the
    /// others, as the drift plot of `analyze` draws it.
    pub drift: i64,
    /// Messages in the queue after the last tick (`queue_after_tick_final`).
    pub queue: u32,
    /// The longest queue after a tick so far (`queue_after_tick_max`).
    pub queue_max: u32,
    /// The largest jump so far (`jump_max`), and when, seconds after the start.
    pub jump_max: u64,
    /// When the largest jump happened, seconds after the trial's start.
    pub jump_max_at_s: Option<f64>,
    /// `send` rows: messages to one other machine (`send`).
    pub sends: u64,
    /// `broadcast` rows: one message to every other machine (`broadcast`).
    pub broadcasts: u64,
    /// `receive` rows (`receive`).
    pub receives: u64,
}

impl LiveTrial {
    /// An empty trial; `start_us` is its common start when known.
    pub fn new(start_us: Option<u64>) -> LiveTrial {
        LiveTrial {
            start_us,
            machines: BTreeMap::new(),
        }
    }

    /// Sets the common start, once it is known (a run's record appears at its end).
    pub fn set_start_us(&mut self, start_us: u64) {
        self.start_us = Some(start_us);
    }

    /// Sets machine `id`'s configured rate.
    pub fn set_rate(&mut self, id: u16, rate: f64) {
        self.machines.entry(id).or_default().rate = Some(rate);
    }

    /// The trial's start: the common start when known, else its earliest row (as `analyze`
    /// takes it).
    pub fn start_us(&self) -> Option<u64> {
        self.start_us
            .or_else(|| self.machines.values().filter_map(|m| m.first_us).min())
    }

    /// The time of the latest row of any machine.
    pub fn latest_us(&self) -> Option<u64> {
        self.machines.values().filter_map(|m| m.last_us).max()
    }

    /// Takes one row of machine `record.machine`'s log, the next after those it has had.
    pub fn handle_record(&mut self, record: &Record) {
        let m = self.machines.entry(record.machine).or_default();
        let jump = record.logical_clock.saturating_sub(m.clock);
        if m.ticks == 0 || jump > m.jump_max {
            m.jump_max = jump;
            m.jump_max_us = Some(record.system_time_us);
        }
        let kind = EventKind::ALL.iter().position(|&k| k == record.event);
        m.by_kind[kind.unwrap_or(0)] += 1;
        m.clock = record.logical_clock;
        m.queue = record.queue_len;
        m.queue_max = m.queue_max.max(record.queue_len);
        m.first_us.get_or_insert(record.system_time_us);
        m.last_us = Some(record.system_time_us);
        m.stride = m.stride.max(1);
        if m.ticks % m.stride == 0 {
            m.history
                .push((record.system_time_us, record.logical_clock));
            if m.history.len() > MAX_POINTS {
                // Keep every other point (the rows at multiples of twice the stride).
                m.history = m.history.iter().copied().step_by(2).collect();
                m.stride *= 2;
            }
        }
        m.ticks += 1;
    }

    /// One line per machine, by id: its figures so far.
    pub fn rows(&self) -> Vec<LiveRow> {
        let leader = self
            .machines
            .values()
            .filter(|m| m.ticks > 0)
            .map(|m| m.clock)
            .max()
            .unwrap_or(0);
        let start = self.start_us();
        let kind = |m: &LiveMachine, k: EventKind| {
            EventKind::ALL
                .iter()
                .position(|&x| x == k)
                .map_or(0, |i| m.by_kind[i])
        };
        self.machines
            .iter()
            .map(|(&id, m)| LiveRow {
                id,
                rate: m.rate,
                tick_rate: match (m.first_us, m.last_us) {
                    (Some(a), Some(b)) if b > a => Some((m.ticks - 1) as f64 / secs(a, b)),
                    _ => None,
                },
                ticks: m.ticks,
                clock: m.clock,
                drift: m.clock as i64 - leader as i64,
                queue: m.queue,
                queue_max: m.queue_max,
                jump_max: m.jump_max,
                jump_max_at_s: m.jump_max_us.zip(start).map(|(t, s)| secs(s, t)),
                sends: kind(m, EventKind::Send),
                broadcasts: kind(m, EventKind::Broadcast),
                receives: kind(m, EventKind::Receive),
            })
            .collect()
    }

    /// Each machine's clock against time, by id: `(seconds after the start, clock)`, thinned to
    /// at most [`MAX_POINTS`] + 1 points, the last row always among them.
    pub fn clock_series(&self) -> Vec<(u16, Vec<(f64, f64)>)> {
        let Some(start) = self.start_us() else {
            return Vec::new();
        };
        self.machines
            .iter()
            .map(|(&id, m)| {
                let mut points: Vec<(f64, f64)> = m
                    .history
                    .iter()
                    .map(|&(t, c)| (secs(start, t), c as f64))
                    .collect();
                if let Some(last) = m
                    .last_us
                    .filter(|&t| m.history.last() != Some(&(t, m.clock)))
                {
                    points.push((secs(start, last), m.clock as f64));
                }
                (id, points)
            })
            .collect()
    }
}

/// Seconds from `from_us` to `to_us` (negative before).
fn secs(from_us: u64, to_us: u64) -> f64 {
    (i128::from(to_us) - i128::from(from_us)) as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(machine: u16, t_ms: u64, clock: u64, event: EventKind, queue: u32) -> Record {
        let message = event != EventKind::Internal;
        Record {
            machine,
            event,
            system_time_us: 1_000_000_000 + t_ms * 1000,
            logical_clock: clock,
            queue_len: queue,
            peer: matches!(event, EventKind::Send | EventKind::Receive).then_some(1),
            msg_clock: message.then_some(clock),
            seq: message.then_some(1),
        }
    }

    #[test]
    fn figures_worked_out_by_hand() {
        use EventKind::*;
        let mut trial = LiveTrial::new(Some(1_000_000_000));
        trial.set_rate(1, 2.0);
        // Machine 1: clocks 1, 2, 7 (a jump of 5 at 1.5 s), 8; machine 2: 1, 2.
        for r in [
            row(1, 500, 1, Internal, 0),
            row(1, 1000, 2, Send, 1),
            row(1, 1500, 7, Receive, 2),
            row(1, 2000, 8, Broadcast, 0),
            row(2, 1000, 1, Send, 0),
            row(2, 2000, 2, Internal, 1),
        ] {
            trial.handle_record(&r);
        }
        let rows = trial.rows();
        let one = &rows[0];
        assert_eq!((one.ticks, one.clock, one.drift), (4, 8, 0));
        assert_eq!((one.queue, one.queue_max), (0, 2));
        assert_eq!((one.jump_max, one.jump_max_at_s), (5, Some(1.5)));
        assert_eq!((one.sends, one.broadcasts, one.receives), (1, 1, 1));
        assert_eq!((one.rate, one.tick_rate), (Some(2.0), Some(2.0)));
        let two = &rows[1];
        assert_eq!((two.clock, two.drift, two.jump_max), (2, -6, 1));
        assert_eq!((two.rate, two.tick_rate), (None, Some(1.0)));
        assert_eq!(two.jump_max_at_s, Some(1.0), "the first of equal jumps");
    }

    #[test]
    fn the_history_stays_bounded_and_keeps_the_last_row() {
        let mut trial = LiveTrial::new(None);
        for k in 0..10_000u64 {
            trial.handle_record(&row(1, k, k + 1, EventKind::Internal, 0));
        }
        let series = trial.clock_series();
        let points = &series[0].1;
        assert!(points.len() <= MAX_POINTS + 1, "{}", points.len());
        assert_eq!(points.first(), Some(&(0.0, 1.0)));
        assert_eq!(points.last(), Some(&(9.999, 10_000.0)));
        assert!(points.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
