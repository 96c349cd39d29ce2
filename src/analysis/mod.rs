//! The analysis of runs: from the rows of the machines' logs to the figures a lab notebook needs
//! (jumps, drift, queues, latency), per machine, per trial and across the trials of a run.
//!
//! Everything here is pure: [`analyze_trial`] and [`analyze_run`] take loaded records and return
//! figures, touching no file. [`load`] reads run directories into the inputs; `crate::report`
//! prints and writes the results. docs/ANALYSIS.md defines every figure.
//!
//! This file holds the inputs, the results and the two entry points; `figures` declares every
//! figure as a typed field of [`MachineFigures`] or [`TrialFigures`]; `compute` works out one machine's figures and the
//! drift series of a trial. [`live`] keeps the figures of a trial still being written, a row at a
//! time, for the live view.

pub mod causality;
pub mod clocks;
#[cfg(test)]
mod compute;
pub mod diff;
mod figures;
pub mod hlc;
pub mod live;
pub mod load;
pub mod queueing;
pub mod stats;
pub mod stream;
pub mod sweep;
pub mod weather;
pub mod weather_study;

use std::collections::BTreeMap;

use crate::core::event::Record;
// The tests name events; they import this module's items whole.
#[cfg(test)]
use crate::core::event::EventKind;
#[cfg(test)]
use compute::{MachineParts, analyze_machine, drift_series, send_deadlines, send_times};
pub use figures::{
    Figure, MachineFigure, MachineFigures, MachineSummaries, TrialFigure, TrialFigures,
    TrialSummaries, summarize,
};
use stats::Distribution;

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
    /// Its queue peak (the longest its queue was right after a message arrived), from its
    /// summary; `None` without one.
    pub queue_peak: Option<u32>,
    /// How late its ticks ran, from its summary; `None` without one.
    pub timing: Option<TickTiming>,
    /// Its physical clock, which stamped its rows: a `clock` fault of the plan `run.yaml`
    /// records, or a perfect clock (the real time of a row is `clock.real_us(start_us, t)`).
    pub clock: crate::core::fault::ClockSkew,
    /// Why its data is incomplete (no summary, a truncated log), one sentence each; empty when
    /// complete.
    pub problems: Vec<String>,
}

/// How late a machine's ticks ran after their deadlines, as its summary records it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TickTiming {
    /// The lateness distribution, microseconds.
    pub lateness_us: crate::rundir::records::TickLateness,
    /// Ticks that ran more than one period after their deadline.
    pub late_over_one_period: u64,
    /// Deadlines skipped (`missed_ticks: skip`).
    pub skipped: u64,
    /// How long its messages took from their send to its queue, microseconds.
    pub hop_latency_us: crate::rundir::records::HopLatency,
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
    /// Its fault plan, from `run.yaml`; empty in fair weather.
    pub faults: Vec<crate::config::faults::Fault>,
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

/// Queue figures of one machine from its log: the queue after each tick (`queue_len`, the
/// messages left once the tick took its message), as the `queue_after_tick_*` figures.
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
    #[cfg(test)]
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
    /// Rows by kind, in the order of [`EventKind::ALL`](crate::core::event::EventKind::ALL).
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
    /// Its queue after each tick; `None` without rows.
    pub queue: Option<QueueFigures>,
    /// Its queue peak, from its summary (see [`MachineInput::queue_peak`]).
    pub queue_peak: Option<u32>,
    /// How late its ticks ran, from its summary (see [`MachineInput::timing`]).
    pub timing: Option<TickTiming>,
    /// Receives of a message sent at the same tick deadline as the receiving tick, or a later
    /// one: the model, where every tick runs at its deadline and a hop takes time, never has
    /// them; a real run has them when a tick ran late. `None` when a rate is unknown.
    pub same_instant_receives: Option<u64>,
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
    /// The largest drift at each instant: the largest clock minus the smallest (the trailing
    /// machine's drift, as a magnitude).
    pub largest: Vec<u64>,
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
    /// The largest drift of any machine (largest clock minus smallest) over the instants.
    pub drift: Option<DriftFigures>,
    /// Every jump of every machine.
    pub jumps: Option<Distribution>,
    /// Latency of every matched receive, milliseconds.
    pub latency_ms: Option<Distribution>,
    /// Waiting ticks of every matched receive.
    pub wait_ticks: Option<Distribution>,
    /// Vector clock and hybrid clock figures; `None` for a trial too large to reconstruct.
    pub causality: Option<clocks::TrialCausality>,
    /// Its fault plan, each fault in a few words ([`weather::label`]); empty in fair weather.
    pub plan: Vec<String>,
    /// The figures before, during and after each window of its plan ([`weather`] defines them).
    pub weather: Vec<weather::WindowFigures>,
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
    /// Per machine id and configured rate, each of its [`MachineFigures`] summarized across the
    /// trials that ran it at that rate ([`MachineGroup`]), in id then rate order.
    pub machines: Vec<MachineGroup>,
    /// Each of the [`TrialFigures`] summarized across the trials, whatever their rates (see
    /// [`RunAnalysis::rates_differ`]).
    pub overall: TrialSummaries,
    /// The trials left out of the figures across trials, by number: the incomplete ones, unless
    /// they were asked for (`--include-incomplete`).
    pub left_out: Vec<u32>,
}

/// One machine's figures summarized across the counted trials that ran it at one configured
/// rate: with `rates: random` a machine's rate changes from trial to trial, and a mean over
/// trials at different rates would describe no machine that ran.
#[derive(Clone, Debug, PartialEq)]
pub struct MachineGroup {
    /// The machine's id.
    pub id: u16,
    /// The configured rate of its trials, ticks per second; `None` for the trials that record no
    /// rate (a group of its own).
    pub rate: Option<f64>,
    /// The trials it counts, by number, in order.
    pub trials: Vec<u32>,
    /// Each figure summarized over those trials.
    pub figures: MachineSummaries,
}

impl RunAnalysis {
    /// Whether some machine ran at different rates in the counted trials: then it has several
    /// [`MachineGroup`]s, and the trial figures across trials ([`RunAnalysis::overall`]) mix
    /// trials at different rates.
    pub fn rates_differ(&self) -> bool {
        self.machines.windows(2).any(|w| w[0].id == w[1].id)
    }

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
/// Every figure of one trial, from its rows in memory, in the one pass [`stream::analyze_rows`]
/// makes over rows read from the logs.
pub fn analyze_trial(trial: &TrialInput) -> TrialAnalysis {
    let logs = trial
        .machines
        .iter()
        .map(|m| {
            m.records
                .iter()
                .copied()
                .map(Ok::<_, std::convert::Infallible>)
        })
        .collect();
    let events = trial.machines.iter().map(|m| m.records.len() as u64).sum();
    match stream::analyze_rows(trial, logs, Some(events), &mut ()) {
        Ok(streamed) => streamed.analysis,
        Err(never) => match never {},
    }
}

/// [`analyze_trial`] computed over the whole trial in memory, with the trial's vector clocks
/// already reconstructed ([`causality::reconstruct`], `None` for a trial too large): the
/// computation the one pass replaced, kept as the tests' oracle.
#[cfg(test)]
pub(crate) fn analyze_trial_with(
    trial: &TrialInput,
    c: Option<&causality::Causality>,
) -> TrialAnalysis {
    let sends = send_times(trial);
    let deadlines = send_deadlines(trial);
    let (mut machines, parts): (Vec<MachineAnalysis>, Vec<MachineParts>) = trial
        .machines
        .iter()
        .map(|m| analyze_machine(trial.start_us, m, &sends, &deadlines))
        .unzip();
    let series = drift_series(trial);
    for (m, drift) in machines.iter_mut().zip(&series.drift) {
        let behind: Vec<u64> = drift.iter().map(|d| d.unsigned_abs()).collect();
        m.drift = DriftFigures::of(&behind);
    }
    // The trial's jumps, latencies and waits: every machine's together.
    let mut all_jumps = BTreeMap::new();
    let mut all_waits = BTreeMap::new();
    for (m, p) in machines.iter().zip(&parts) {
        for (size, n) in &m.jump_histogram {
            *all_jumps.entry(*size).or_insert(0) += n;
        }
        for (wait, n) in &p.waits {
            *all_waits.entry(*wait).or_insert(0) += n;
        }
    }
    let all_latency: Vec<f64> = parts.into_iter().flat_map(|p| p.latency_ms).collect();
    TrialAnalysis {
        trial: trial.trial,
        dir: trial.dir.clone(),
        seed: trial.seed,
        start_us: trial.start_us,
        problems: trial.problems.clone(),
        machines,
        drift: DriftFigures::of(&series.largest),
        series,
        jumps: Distribution::of_counts(&all_jumps),
        latency_ms: Distribution::of(&all_latency),
        wait_ticks: Distribution::of_counts(&all_waits),
        causality: clocks::analyze_with(trial, c),
        plan: trial.faults.iter().map(weather::label).collect(),
        weather: weather::analyze_with(trial, c),
    }
}

/// Every trial of a run, and each figure summarized across its complete trials (per machine id,
/// and for the trial figures); [`analyze_run_with`] can count the incomplete ones too.
pub fn analyze_run(run: &RunInput) -> RunAnalysis {
    analyze_run_with(run, false)
}

/// Every trial of a run, and each figure summarized across its trials (per machine id, and for
/// the trial figures): the complete trials, and the incomplete ones too when `include_incomplete`.
/// A figure a trial leaves undefined does not count for that trial.
pub fn analyze_run_with(run: &RunInput, include_incomplete: bool) -> RunAnalysis {
    let head = RunHead {
        dir: run.dir.clone(),
        label: run.label.clone(),
        scenario: run.scenario.clone(),
        parameters: run.parameters.clone(),
    };
    let trials = run.trials.iter().map(analyze_trial).collect();
    summarize_run(head, trials, include_incomplete)
}

/// What names a run apart from its trials: its directory, label, scenario and parameters (those
/// of a [`RunInput`]), for [`summarize_run`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunHead {
    /// The directory as given.
    pub dir: String,
    /// A short name.
    pub label: String,
    /// The scenario in a few words.
    pub scenario: String,
    /// The run's parameters, as names and values.
    pub parameters: Vec<(String, String)>,
}

/// A run's analysis from its trials' analyses, in trial order (each from [`analyze_trial`], which
/// a caller may run one trial at a time, freeing each trial's rows before the next): each figure
/// summarized across the complete trials, and the incomplete ones too when `include_incomplete`.
/// [`analyze_run_with`] is this over a run loaded whole.
pub fn summarize_run(
    head: RunHead,
    trials: Vec<TrialAnalysis>,
    include_incomplete: bool,
) -> RunAnalysis {
    let counted = |t: &&TrialAnalysis| include_incomplete || t.complete();
    let left_out = trials
        .iter()
        .filter(|t| !counted(t))
        .map(|t| t.trial)
        .collect();
    // Grouped by id, then by the rate's bits: rates are positive, so their bits sort as they do
    // (and `None`, no rate recorded, comes first).
    // Per group: the trials' numbers and the machine's figures in each.
    type Group = (Vec<u32>, Vec<MachineFigures>);
    let mut groups: BTreeMap<(u16, Option<u64>), Group> = BTreeMap::new();
    for t in trials.iter().filter(counted) {
        for m in &t.machines {
            let group = groups.entry((m.id, m.rate.map(f64::to_bits))).or_default();
            group.0.push(t.trial);
            group.1.push(m.figures());
        }
    }
    let machines = groups
        .into_iter()
        .map(|((id, rate), (trials, rows))| MachineGroup {
            id,
            rate: rate.map(f64::from_bits),
            trials,
            figures: summarize::<MachineFigure>(&rows),
        })
        .collect();
    let rows: Vec<_> = trials
        .iter()
        .filter(counted)
        .map(TrialAnalysis::figures)
        .collect();
    RunAnalysis {
        dir: head.dir,
        label: head.label,
        scenario: head.scenario,
        parameters: head.parameters,
        overall: summarize::<TrialFigure>(&rows),
        machines,
        trials,
        left_out,
    }
}

#[cfg(test)]
mod tests;
