//! The analysis of runs: from the rows of the machines' logs to the figures a lab notebook needs
//! (jumps, drift, queues, latency), per machine, per trial and across the trials of a run.
//!
//! Everything here is pure: [`analyze_trial`] and [`analyze_run`] take loaded records and return
//! figures, touching no file. [`load`] reads run directories into the inputs; `crate::report`
//! prints and writes the results. docs/ANALYSIS.md defines every figure.

pub mod load;
pub mod stats;

use std::collections::BTreeMap;

use crate::core::event::{EventKind, Record};
use stats::{Distribution, Summary, least_squares_slope};

/// The interval between two drift sampling instants, in microseconds (100 ms).
pub const DRIFT_STEP_US: u64 = 100_000;
/// How many of a machine's largest jumps are listed.
pub const LARGEST_JUMPS: usize = 5;

/// One machine's log and what the run's files say about it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MachineInput {
    /// Its id.
    pub id: u16,
    /// Its name, when a file records it.
    pub name: Option<String>,
    /// Its configured tick rate (ticks per second), when a file records it.
    pub rate: Option<f64>,
    /// Its log's rows, in file order.
    pub records: Vec<Record>,
    /// Why its data is incomplete (no summary, a truncated log), one sentence each; empty when
    /// complete.
    pub problems: Vec<String>,
}

/// One trial: its machines and what is known about it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrialInput {
    /// Its number (1 for a run of one trial).
    pub trial: u32,
    /// Its directory, for display.
    pub dir: String,
    /// Its seed, when `run.yaml` records it.
    pub seed: Option<u64>,
    /// Its common start time in microseconds since the UNIX epoch; times are reported from it.
    pub start_us: u64,
    /// Its machines, by ascending id.
    pub machines: Vec<MachineInput>,
    /// Why the trial as a whole is incomplete (e.g. no `router.yaml`); empty when complete.
    pub problems: Vec<String>,
}

/// A run: one or more trials, and how to name it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunInput {
    /// The directory as given.
    pub dir: String,
    /// A short name: the directory's last component.
    pub label: String,
    /// The scenario in a few words (rates and action range), from `run.yaml`.
    pub scenario: String,
    /// The run's parameters, as names and values, for the report.
    pub parameters: Vec<(String, String)>,
    /// Its trials, in order.
    pub trials: Vec<TrialInput>,
}

/// A clock jump: the rise of the clock at one event.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Jump {
    /// The rise.
    pub size: u64,
    /// When it happened, seconds since the trial's start.
    pub time_s: f64,
    /// The line of the log that shows it.
    pub line: u64,
}

/// Queue length figures of one machine.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QueueFigures {
    /// The largest `queue_len` of any row.
    pub max: u32,
    /// The mean `queue_len` over the rows.
    pub mean: f64,
    /// The last row's `queue_len`.
    pub last: u32,
    /// The least-squares slope of `queue_len` against time, messages per minute.
    pub growth_per_min: Option<f64>,
}

/// Drift figures, as magnitudes: how far behind the largest clock, in clock units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DriftFigures {
    /// The largest distance behind over the sampling instants.
    pub max: u64,
    /// The mean distance behind.
    pub mean: f64,
    /// The distance behind at the last instant.
    pub last: u64,
}

impl DriftFigures {
    fn of(behind: &[u64]) -> Option<DriftFigures> {
        Some(DriftFigures {
            max: *behind.iter().max()?,
            mean: behind.iter().sum::<u64>() as f64 / behind.len() as f64,
            last: *behind.last()?,
        })
    }
}

/// Every figure of one machine in one trial.
#[derive(Clone, Debug, PartialEq)]
pub struct MachineAnalysis {
    /// Its id.
    pub id: u16,
    /// Its name, if known.
    pub name: Option<String>,
    /// Its configured rate, if known.
    pub rate: Option<f64>,
    /// Why its data is incomplete; empty when complete.
    pub problems: Vec<String>,
    /// Rows in its log.
    pub events: u64,
    /// Rows by kind, in the order of [`EventKind::ALL`].
    pub by_kind: [u64; 4],
    /// Measured ticks per second: (rows - 1) over the time from its first row to its last.
    pub tick_rate: Option<f64>,
    /// The last row's clock (0 without rows).
    pub final_clock: u64,
    /// Clock units per second: the rise from its first row to its last over the time between.
    pub clock_per_s: Option<f64>,
    /// The distribution of its jumps.
    pub jumps: Option<Distribution>,
    /// How many jumps of each size.
    pub jump_histogram: BTreeMap<u64, u64>,
    /// Its [`LARGEST_JUMPS`] largest jumps, largest first (earlier first among equals).
    pub largest_jumps: Vec<Jump>,
    /// Its queue figures; `None` without rows.
    pub queue: Option<QueueFigures>,
    /// Its drift figures; `None` when it has no sampling instant.
    pub drift: Option<DriftFigures>,
    /// Real-time latency of the messages it received, milliseconds.
    pub latency_ms: Option<Distribution>,
    /// Its own ticks between each message's send and its receive.
    pub wait_ticks: Option<Distribution>,
    /// Receives whose send is in no log.
    pub unmatched_receives: u64,
}

/// The drift of every machine at every sampling instant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DriftSeries {
    /// The instants, seconds since the trial's start.
    pub times_s: Vec<f64>,
    /// Per machine (in trial order) its clock minus the largest clock at each instant (0 or
    /// less); empty for a machine without rows.
    pub drift: Vec<Vec<i64>>,
    /// The largest clock minus the smallest at each instant.
    pub spread: Vec<u64>,
}

/// Every figure of one trial.
#[derive(Clone, Debug, PartialEq)]
pub struct TrialAnalysis {
    /// Its number.
    pub trial: u32,
    /// Its directory.
    pub dir: String,
    /// Its seed, if known.
    pub seed: Option<u64>,
    /// Its start, microseconds since the UNIX epoch.
    pub start_us: u64,
    /// Why the trial as a whole is incomplete.
    pub problems: Vec<String>,
    /// Its machines.
    pub machines: Vec<MachineAnalysis>,
    /// Drift at each sampling instant.
    pub series: DriftSeries,
    /// Spread (largest clock minus smallest) figures over the instants.
    pub spread: Option<DriftFigures>,
    /// Every jump of every machine.
    pub jumps: Option<Distribution>,
    /// Latency of every matched receive, milliseconds.
    pub latency_ms: Option<Distribution>,
    /// Waiting ticks of every matched receive.
    pub wait_ticks: Option<Distribution>,
}

impl TrialAnalysis {
    /// Whether neither the trial nor any machine has a problem.
    pub fn complete(&self) -> bool {
        self.problems.is_empty() && self.machines.iter().all(|m| m.problems.is_empty())
    }

    /// Every problem, the trial's first, then each machine's prefixed with its id.
    pub fn all_problems(&self) -> Vec<String> {
        let mut all = self.problems.clone();
        for m in &self.machines {
            all.extend(m.problems.iter().map(|p| format!("machine {}: {p}", m.id)));
        }
        all
    }
}

/// A run's trials and their figures summarized across trials.
#[derive(Clone, Debug, PartialEq)]
pub struct RunAnalysis {
    /// The directory as given.
    pub dir: String,
    /// Its short name.
    pub label: String,
    /// The scenario in a few words.
    pub scenario: String,
    /// The run's parameters.
    pub parameters: Vec<(String, String)>,
    /// Each trial's figures.
    pub trials: Vec<TrialAnalysis>,
    /// Per machine id, each of [`MACHINE_FIGURES`] summarized across the trials.
    pub machines: Vec<(u16, Summaries)>,
    /// Each of [`TRIAL_FIGURES`] summarized across the trials.
    pub overall: Summaries,
}

impl RunAnalysis {
    /// Every problem of every trial, each prefixed with its trial.
    pub fn problems(&self) -> Vec<String> {
        self.trials
            .iter()
            .flat_map(|t| {
                t.all_problems()
                    .into_iter()
                    .map(move |p| format!("trial {}: {p}", t.trial))
            })
            .collect()
    }
}

/// Named figures, in a fixed order; `None` where a figure is undefined.
pub type Figures = Vec<(&'static str, Option<f64>)>;
/// Named figures summarized across trials, in a fixed order.
pub type Summaries = Vec<(&'static str, Option<Summary>)>;

/// The names of the per-machine figures, in the order every output lists them.
pub const MACHINE_FIGURES: [&str; 33] = [
    "rate",
    "tick_rate",
    "events",
    "receive",
    "send",
    "broadcast",
    "internal",
    "receive_share",
    "send_share",
    "broadcast_share",
    "internal_share",
    "final_clock",
    "clock_per_s",
    "jump_max",
    "jump_mean",
    "jump_p50",
    "jump_p95",
    "jump_p99",
    "queue_max",
    "queue_mean",
    "queue_final",
    "queue_growth_per_min",
    "drift_max",
    "drift_mean",
    "drift_final",
    "latency_ms_p50",
    "latency_ms_p95",
    "latency_ms_max",
    "wait_ticks_p50",
    "wait_ticks_p95",
    "wait_ticks_max",
    "unmatched_receives",
    "complete",
];

/// The names of the per-trial figures, in the order every output lists them.
pub const TRIAL_FIGURES: [&str; 20] = [
    "machines",
    "events",
    "final_clock_max",
    "jump_max",
    "jump_mean",
    "jump_p95",
    "jump_p99",
    "queue_max",
    "queue_growth_max_per_min",
    "spread_max",
    "spread_mean",
    "spread_final",
    "latency_ms_p50",
    "latency_ms_p95",
    "latency_ms_max",
    "wait_ticks_p50",
    "wait_ticks_p95",
    "wait_ticks_max",
    "unmatched_receives",
    "complete",
];

fn flag(b: bool) -> Option<f64> {
    Some(if b { 1.0 } else { 0.0 })
}

impl MachineAnalysis {
    /// The value of each of [`MACHINE_FIGURES`], in that order; `None` where undefined.
    pub fn figures(&self) -> Figures {
        let share =
            |k: usize| (self.events > 0).then(|| self.by_kind[k] as f64 / self.events as f64);
        let q = self.queue;
        let d = self.drift;
        let values = [
            self.rate,
            self.tick_rate,
            Some(self.events as f64),
            Some(self.by_kind[0] as f64),
            Some(self.by_kind[1] as f64),
            Some(self.by_kind[2] as f64),
            Some(self.by_kind[3] as f64),
            share(0),
            share(1),
            share(2),
            share(3),
            Some(self.final_clock as f64),
            self.clock_per_s,
            self.jumps.map(|j| j.max),
            self.jumps.map(|j| j.mean),
            self.jumps.map(|j| j.p50),
            self.jumps.map(|j| j.p95),
            self.jumps.map(|j| j.p99),
            q.map(|q| f64::from(q.max)),
            q.map(|q| q.mean),
            q.map(|q| f64::from(q.last)),
            q.and_then(|q| q.growth_per_min),
            d.map(|d| d.max as f64),
            d.map(|d| d.mean),
            d.map(|d| d.last as f64),
            self.latency_ms.map(|l| l.p50),
            self.latency_ms.map(|l| l.p95),
            self.latency_ms.map(|l| l.max),
            self.wait_ticks.map(|w| w.p50),
            self.wait_ticks.map(|w| w.p95),
            self.wait_ticks.map(|w| w.max),
            Some(self.unmatched_receives as f64),
            flag(self.problems.is_empty()),
        ];
        MACHINE_FIGURES.into_iter().zip(values).collect()
    }
}

impl TrialAnalysis {
    /// The value of each of [`TRIAL_FIGURES`], in that order; `None` where undefined.
    pub fn figures(&self) -> Figures {
        let ms = &self.machines;
        let max_of =
            |f: &dyn Fn(&MachineAnalysis) -> Option<f64>| ms.iter().filter_map(f).reduce(f64::max);
        let s = self.spread;
        let values = [
            Some(ms.len() as f64),
            Some(ms.iter().map(|m| m.events).sum::<u64>() as f64),
            max_of(&|m| Some(m.final_clock as f64)),
            self.jumps.map(|j| j.max),
            self.jumps.map(|j| j.mean),
            self.jumps.map(|j| j.p95),
            self.jumps.map(|j| j.p99),
            max_of(&|m| m.queue.map(|q| f64::from(q.max))),
            max_of(&|m| m.queue.and_then(|q| q.growth_per_min)),
            s.map(|s| s.max as f64),
            s.map(|s| s.mean),
            s.map(|s| s.last as f64),
            self.latency_ms.map(|l| l.p50),
            self.latency_ms.map(|l| l.p95),
            self.latency_ms.map(|l| l.max),
            self.wait_ticks.map(|w| w.p50),
            self.wait_ticks.map(|w| w.p95),
            self.wait_ticks.map(|w| w.max),
            Some(ms.iter().map(|m| m.unmatched_receives).sum::<u64>() as f64),
            flag(self.complete()),
        ];
        TRIAL_FIGURES.into_iter().zip(values).collect()
    }
}

/// Seconds from `start_us` to `t_us` (negative before the start).
fn seconds_since(start_us: u64, t_us: u64) -> f64 {
    (i128::from(t_us) - i128::from(start_us)) as f64 / 1e6
}

/// The time of a message: `(sender, seq)` to the sender's system time of its send or broadcast.
type SendTimes = BTreeMap<(u16, u32), u64>;

fn send_times(trial: &TrialInput) -> SendTimes {
    let mut sends = BTreeMap::new();
    for m in &trial.machines {
        for r in &m.records {
            if let (EventKind::Send | EventKind::Broadcast, Some(seq)) = (r.event, r.seq) {
                sends.entry((m.id, seq)).or_insert(r.system_time_us);
            }
        }
    }
    sends
}

/// One machine's figures, all but drift (which needs every machine).
fn analyze_machine(start_us: u64, m: &MachineInput, sends: &SendTimes) -> MachineAnalysis {
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
    // Jumps: each row's clock minus the previous row's, from 0 before the first row.
    let mut previous = 0u64;
    let mut jumps = Vec::with_capacity(rows.len());
    let mut jump_histogram = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        let size = r.logical_clock.saturating_sub(previous);
        previous = r.logical_clock;
        *jump_histogram.entry(size).or_insert(0u64) += 1;
        jumps.push(Jump {
            size,
            time_s: seconds_since(start_us, r.system_time_us),
            line: i as u64 + 2,
        });
    }
    let sizes: Vec<f64> = jumps.iter().map(|j| j.size as f64).collect();
    // Stable sort: among equal sizes the earlier row stays first.
    let mut largest = jumps;
    largest.sort_by_key(|j| std::cmp::Reverse(j.size));
    largest.truncate(LARGEST_JUMPS);

    let queue = (!rows.is_empty()).then(|| {
        // Microseconds from the first row, so the sums stay small and exact.
        let t0 = rows.first().map_or(0, |r| r.system_time_us);
        let points: Vec<(i64, i64)> = rows
            .iter()
            .map(|r| {
                let dt = i64::try_from(r.system_time_us.saturating_sub(t0)).unwrap_or(i64::MAX);
                (dt, i64::from(r.queue_len))
            })
            .collect();
        QueueFigures {
            max: rows.iter().map(|r| r.queue_len).max().unwrap_or(0),
            mean: rows.iter().map(|r| f64::from(r.queue_len)).sum::<f64>() / rows.len() as f64,
            last: rows.last().map_or(0, |r| r.queue_len),
            growth_per_min: least_squares_slope(&points, 60_000_000),
        }
    });

    let (latency, waits, unmatched) = latencies(m, sends);
    MachineAnalysis {
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
        jumps: Distribution::of(&sizes),
        jump_histogram,
        largest_jumps: largest,
        queue,
        drift: None,
        latency_ms: Distribution::of(&latency),
        wait_ticks: Distribution::of(&waits),
        unmatched_receives: unmatched,
    }
}

/// For each receive of `m` whose send is known: its latency in milliseconds and the number of `m`'s
/// rows strictly after the send's time and before the receive. Also how many receives had no send.
fn latencies(m: &MachineInput, sends: &SendTimes) -> (Vec<f64>, Vec<f64>, u64) {
    let rows = &m.records;
    let (mut latency, mut waits, mut unmatched) = (Vec::new(), Vec::new(), 0);
    for (i, r) in rows.iter().enumerate() {
        let (EventKind::Receive, Some(peer), Some(seq)) = (r.event, r.peer, r.seq) else {
            continue;
        };
        let Some(&sent) = sends.get(&(peer, seq)) else {
            unmatched += 1;
            continue;
        };
        latency.push((i128::from(r.system_time_us) - i128::from(sent)) as f64 / 1000.0);
        let not_after = rows[..i].partition_point(|x| x.system_time_us <= sent);
        waits.push((i - not_after) as f64);
    }
    (latency, waits, unmatched)
}

/// Samples every machine's clock each [`DRIFT_STEP_US`] from the latest first row to the earliest
/// last row (machines without rows take no part).
fn drift_series(trial: &TrialInput) -> DriftSeries {
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
        series.spread.push(top - bottom);
        series.times_s.push(seconds_since(trial.start_us, t));
        t += DRIFT_STEP_US;
    }
    series
}

/// Every figure of one trial.
pub fn analyze_trial(trial: &TrialInput) -> TrialAnalysis {
    let sends = send_times(trial);
    let mut machines: Vec<MachineAnalysis> = trial
        .machines
        .iter()
        .map(|m| analyze_machine(trial.start_us, m, &sends))
        .collect();
    let series = drift_series(trial);
    for (m, drift) in machines.iter_mut().zip(&series.drift) {
        let behind: Vec<u64> = drift.iter().map(|d| d.unsigned_abs()).collect();
        m.drift = DriftFigures::of(&behind);
    }
    let mut all_jumps = Vec::new();
    let mut all_latency = Vec::new();
    let mut all_waits = Vec::new();
    for m in &trial.machines {
        let mut previous = 0u64;
        for r in &m.records {
            all_jumps.push(r.logical_clock.saturating_sub(previous) as f64);
            previous = r.logical_clock;
        }
        let (latency, waits, _) = latencies(m, &sends);
        all_latency.extend(latency);
        all_waits.extend(waits);
    }
    TrialAnalysis {
        trial: trial.trial,
        dir: trial.dir.clone(),
        seed: trial.seed,
        start_us: trial.start_us,
        problems: trial.problems.clone(),
        machines,
        spread: DriftFigures::of(&series.spread),
        series,
        jumps: Distribution::of(&all_jumps),
        latency_ms: Distribution::of(&all_latency),
        wait_ticks: Distribution::of(&all_waits),
    }
}

/// Every trial of a run, and each figure summarized across its trials (per machine id, and for
/// the trial figures). A figure a trial leaves undefined does not count for that trial.
pub fn analyze_run(run: &RunInput) -> RunAnalysis {
    let trials: Vec<TrialAnalysis> = run.trials.iter().map(analyze_trial).collect();
    let mut by_machine: BTreeMap<u16, Vec<Figures>> = BTreeMap::new();
    for t in &trials {
        for m in &t.machines {
            by_machine.entry(m.id).or_default().push(m.figures());
        }
    }
    let machines = by_machine
        .into_iter()
        .map(|(id, rows)| (id, summarize(&MACHINE_FIGURES, &rows)))
        .collect();
    let rows: Vec<_> = trials.iter().map(TrialAnalysis::figures).collect();
    RunAnalysis {
        dir: run.dir.clone(),
        label: run.label.clone(),
        scenario: run.scenario.clone(),
        parameters: run.parameters.clone(),
        overall: summarize(&TRIAL_FIGURES, &rows),
        machines,
        trials,
    }
}

/// Each named figure summarized over `rows` (one figure list per trial, in `names` order).
fn summarize(names: &[&'static str], rows: &[Figures]) -> Summaries {
    names
        .iter()
        .enumerate()
        .map(|(i, &name)| {
            let values: Vec<f64> = rows
                .iter()
                .filter_map(|r| r.get(i).and_then(|f| f.1))
                .collect();
            (name, Summary::of(&values))
        })
        .collect()
}

#[cfg(test)]
mod tests;
