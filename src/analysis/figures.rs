//! The names of every figure, in the order every output lists them, and each result's values in
//! that order ([`MachineAnalysis::figures`], [`TrialAnalysis::figures`]).

use super::stats::Summary;
use super::{MachineAnalysis, TrialAnalysis};

/// Named figures, in a fixed order; `None` where a figure is undefined.
pub type Figures = Vec<(&'static str, Option<f64>)>;
/// Named figures summarized across trials, in a fixed order.
pub type Summaries = Vec<(&'static str, Option<Summary>)>;

/// The value of the figure `name` in `figures`: `None` if it is undefined or not there.
pub fn value_of(figures: &[(&'static str, Option<f64>)], name: &str) -> Option<f64> {
    figures
        .iter()
        .find_map(|&(figure, value)| if figure == name { value } else { None })
}

/// The summary of the figure `name` in `summaries`: `None` if it is undefined or not there.
pub fn summary_of<'a>(
    summaries: &'a [(&'static str, Option<Summary>)],
    name: &str,
) -> Option<&'a Summary> {
    summaries
        .iter()
        .find(|(figure, _)| *figure == name)
        .and_then(|(_, summary)| summary.as_ref())
}

/// The names of the per-machine figures, in the order every output lists them.
pub const MACHINE_FIGURES: [&str; 41] = [
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
    "queue_peak",
    "queue_after_tick_max",
    "queue_after_tick_mean",
    "queue_after_tick_final",
    "queue_after_tick_growth_per_min",
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
    "tick_lateness_p50_us",
    "tick_lateness_p99_us",
    "tick_lateness_max_us",
    "ticks_late",
    "hop_latency_p50_us",
    "hop_latency_p99_us",
    "same_instant_receives",
    "complete",
];

/// The names of the per-trial figures, in the order every output lists them.
pub const TRIAL_FIGURES: [&str; 31] = [
    "machines",
    "events",
    "final_clock_max",
    "jump_max",
    "jump_mean",
    "jump_p95",
    "jump_p99",
    "queue_peak",
    "queue_after_tick_max",
    "queue_after_tick_growth_max_per_min",
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
    "tick_lateness_max_us",
    "same_instant_receives",
    "complete",
    "concurrent_pairs",
    "concurrent_share",
    "false_orderings",
    "false_ordering_share",
    "longest_chain",
    "hlc_drift_max_ms",
    "hlc_drift_final_ms",
    "hlc_counter_max",
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
        // Hop latency is known only where the summary recorded messages.
        let hops = self
            .timing
            .map(|t| t.hop_latency_us)
            .filter(|h| h.count > 0);
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
            self.queue_peak.map(f64::from),
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
            self.timing.map(|t| t.lateness_us.p50),
            self.timing.map(|t| t.lateness_us.p99),
            self.timing.map(|t| t.lateness_us.max),
            self.timing.map(|t| t.late_over_one_period as f64),
            hops.map(|h| h.p50),
            hops.map(|h| h.p99),
            self.same_instant_receives.map(|n| n as f64),
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
        let (c, cf) = (
            self.causality.as_ref(),
            self.causality.as_ref().map(|c| c.figures),
        );
        let values = [
            Some(ms.len() as f64),
            Some(ms.iter().map(|m| m.events).sum::<u64>() as f64),
            max_of(&|m| Some(m.final_clock as f64)),
            self.jumps.map(|j| j.max),
            self.jumps.map(|j| j.mean),
            self.jumps.map(|j| j.p95),
            self.jumps.map(|j| j.p99),
            max_of(&|m| m.queue_peak.map(f64::from)),
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
            max_of(&|m| m.timing.map(|t| t.lateness_us.max)),
            ms.iter()
                .map(|m| m.same_instant_receives)
                .sum::<Option<u64>>()
                .map(|n| n as f64),
            flag(self.complete()),
            cf.map(|f| f.concurrent_pairs as f64),
            cf.and_then(|f| f.concurrent_share),
            cf.map(|f| f.false_orderings as f64),
            cf.and_then(|f| f.false_ordering_share),
            cf.map(|f| f.longest_chain as f64),
            c.and_then(|c| c.hlc_drift_max_ms()),
            c.and_then(|c| c.hlc_drift_final_ms()),
            c.and_then(|c| c.hlc_counter_max()),
        ];
        TRIAL_FIGURES.into_iter().zip(values).collect()
    }
}
