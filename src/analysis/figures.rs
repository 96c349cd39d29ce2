//! Every figure as a typed field: [`MachineFigures`] (one machine in one trial) and
//! [`TrialFigures`] (one trial), each with an enum that names its figures in the order every
//! output lists them ([`MachineFigure`], [`TrialFigure`]). Both sets are generic over the value
//! of a figure: `Option<f64>` for one trial (`None` where a figure is undefined), `Option<Summary>`
//! across trials ([`MachineSummaries`], [`TrialSummaries`]).
//!
//! One macro declares a set's struct and its enum from one list of `Variant => field` lines, so
//! the field, the enum's variant, its name (the field's, which serde also gives the JSON keys
//! and the CSV columns) and its place in the order cannot drift apart; and each result fills the
//! struct field by field, so a missing or misspelt figure does not compile.

use serde::Serialize;

use super::stats::Summary;
use super::{MachineAnalysis, TrialAnalysis};

/// A set of figures: its enum names one figure, `Set<T>` holds a `T` for each.
pub trait Figure: Copy + 'static {
    /// The set with a `T` per figure.
    type Set<T>;
    /// Every figure of the set, in the order every output lists them.
    const ALL: &'static [Self];
    /// The figure's name in every output (docs/ANALYSIS.md), the set's field name.
    fn name(self) -> &'static str;
    /// The figure's value in `set`.
    fn of<T>(self, set: &Self::Set<T>) -> &T;
    /// A set whose every figure's value is `f(figure)`, called in the set's order.
    fn set_from<T>(f: impl FnMut(Self) -> T) -> Self::Set<T>;
}

/// Declares a figure set: a struct with one `T` field per figure and an enum of its figures.
macro_rules! figure_set {
    (
        $(#[$set_meta:meta])* set $set:ident;
        $(#[$enum_meta:meta])* enum $figure:ident;
        $( $(#[$meta:meta])* $variant:ident => $field:ident, )+
    ) => {
        $(#[$set_meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
        pub struct $set<T = Option<f64>> {
            $( $(#[$meta])* pub $field: T, )+
        }

        $(#[$enum_meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $figure {
            $( $(#[$meta])* $variant, )+
        }

        impl Figure for $figure {
            type Set<T> = $set<T>;
            const ALL: &'static [$figure] = &[$($figure::$variant),+];
            fn name(self) -> &'static str {
                match self {
                    $($figure::$variant => stringify!($field),)+
                }
            }
            fn of<T>(self, set: &$set<T>) -> &T {
                match self {
                    $($figure::$variant => &set.$field,)+
                }
            }
            fn set_from<T>(mut f: impl FnMut(Self) -> T) -> $set<T> {
                $set { $($field: f($figure::$variant),)+ }
            }
        }

        impl<T> $set<T> {
            /// The value of `figure`.
            pub fn get(&self, figure: $figure) -> &T {
                figure.of(self)
            }

            /// A set whose every figure's value is `f(figure)`, called in the set's order.
            pub fn from_fn(f: impl FnMut($figure) -> T) -> Self {
                $figure::set_from(f)
            }

            /// Each figure with its value, in the set's order.
            pub fn iter(&self) -> impl Iterator<Item = ($figure, &T)> {
                <$figure as Figure>::ALL.iter().map(move |&k| (k, k.of(self)))
            }
        }
    };
}

figure_set! {
    /// One machine's figures in one trial (docs/ANALYSIS.md, "Per machine"), in the order every
    /// output lists them.
    set MachineFigures;
    /// A per-machine figure.
    enum MachineFigure;
    /// The configured tick rate, ticks/s.
    Rate => rate,
    /// The measured tick rate, ticks/s.
    TickRate => tick_rate,
    /// Rows in the log.
    Events => events,
    /// Receive rows.
    Receive => receive,
    /// Send rows.
    Send => send,
    /// Broadcast rows.
    Broadcast => broadcast,
    /// Internal rows.
    Internal => internal,
    /// Receive rows over all rows.
    ReceiveShare => receive_share,
    /// Send rows over all rows.
    SendShare => send_share,
    /// Broadcast rows over all rows.
    BroadcastShare => broadcast_share,
    /// Internal rows over all rows.
    InternalShare => internal_share,
    /// The last row's clock.
    FinalClock => final_clock,
    /// Clock units per second.
    ClockPerS => clock_per_s,
    /// The largest jump.
    JumpMax => jump_max,
    /// The mean jump.
    JumpMean => jump_mean,
    /// The median jump.
    JumpP50 => jump_p50,
    /// The 95th percentile jump.
    JumpP95 => jump_p95,
    /// The 99th percentile jump.
    JumpP99 => jump_p99,
    /// The queue's peak, from the summary.
    QueuePeak => queue_peak,
    /// The largest queue after a tick.
    QueueAfterTickMax => queue_after_tick_max,
    /// The mean queue after a tick.
    QueueAfterTickMean => queue_after_tick_mean,
    /// The last queue after a tick.
    QueueAfterTickFinal => queue_after_tick_final,
    /// The growth of the queue after each tick, messages per minute.
    QueueAfterTickGrowthPerMin => queue_after_tick_growth_per_min,
    /// The largest distance behind the largest clock.
    DriftMax => drift_max,
    /// The mean distance behind the largest clock.
    DriftMean => drift_mean,
    /// The distance behind the largest clock at the last instant.
    DriftFinal => drift_final,
    /// The median latency of its received messages, ms.
    LatencyMsP50 => latency_ms_p50,
    /// The 95th percentile latency, ms.
    LatencyMsP95 => latency_ms_p95,
    /// The largest latency, ms.
    LatencyMsMax => latency_ms_max,
    /// The median wait of its received messages, ticks.
    WaitTicksP50 => wait_ticks_p50,
    /// The 95th percentile wait, ticks.
    WaitTicksP95 => wait_ticks_p95,
    /// The largest wait, ticks.
    WaitTicksMax => wait_ticks_max,
    /// Receives whose send is in no log.
    UnmatchedReceives => unmatched_receives,
    /// The median tick lateness, µs, from the summary.
    TickLatenessP50Us => tick_lateness_p50_us,
    /// The 99th percentile tick lateness, µs.
    TickLatenessP99Us => tick_lateness_p99_us,
    /// The largest tick lateness, µs.
    TickLatenessMaxUs => tick_lateness_max_us,
    /// Ticks more than one period late.
    TicksLate => ticks_late,
    /// The median hop latency of its messages, µs, from the summary.
    HopLatencyP50Us => hop_latency_p50_us,
    /// The 99th percentile hop latency, µs.
    HopLatencyP99Us => hop_latency_p99_us,
    /// Receives of a message sent at the receiving tick's deadline or later.
    SameInstantReceives => same_instant_receives,
    /// 1 when the machine has no problem, else 0.
    Complete => machine_complete,
}

figure_set! {
    /// One trial's figures (docs/ANALYSIS.md, "Per trial"), in the order every output lists
    /// them.
    set TrialFigures;
    /// A per-trial figure.
    enum TrialFigure;
    /// How many machines.
    Machines => machines,
    /// Rows of all machines.
    Events => events,
    /// The largest final clock.
    FinalClockMax => final_clock_max,
    /// The largest jump of any machine.
    JumpMax => jump_max,
    /// The mean jump of all machines.
    JumpMean => jump_mean,
    /// The 95th percentile jump of all machines.
    JumpP95 => jump_p95,
    /// The 99th percentile jump of all machines.
    JumpP99 => jump_p99,
    /// The largest queue peak of any machine.
    QueuePeak => queue_peak,
    /// The largest queue after a tick of any machine.
    QueueAfterTickMax => queue_after_tick_max,
    /// The largest growth of a queue after each tick, messages per minute.
    QueueAfterTickGrowthMaxPerMin => queue_after_tick_growth_max_per_min,
    /// The largest drift of any machine (at each instant the largest clock minus the
    /// smallest: the trailing machine's drift).
    DriftMax => drift_max,
    /// The mean over the instants of the trailing machine's drift.
    DriftMean => drift_mean,
    /// The trailing machine's drift at the last instant.
    DriftFinal => drift_final,
    /// The median latency of all matched receives, ms.
    LatencyMsP50 => latency_ms_p50,
    /// The 95th percentile latency, ms.
    LatencyMsP95 => latency_ms_p95,
    /// The largest latency, ms.
    LatencyMsMax => latency_ms_max,
    /// The median wait of all matched receives, ticks.
    WaitTicksP50 => wait_ticks_p50,
    /// The 95th percentile wait, ticks.
    WaitTicksP95 => wait_ticks_p95,
    /// The largest wait, ticks.
    WaitTicksMax => wait_ticks_max,
    /// Receives whose send is in no log, all machines.
    UnmatchedReceives => unmatched_receives,
    /// The largest tick lateness of any machine, µs.
    TickLatenessMaxUs => tick_lateness_max_us,
    /// Same-instant receives, all machines.
    SameInstantReceives => same_instant_receives,
    /// 1 when neither the trial nor any machine has a problem, else 0.
    Complete => trial_complete,
    /// Pairs of concurrent events.
    ConcurrentPairs => concurrent_pairs,
    /// Concurrent pairs over all pairs.
    ConcurrentShare => concurrent_share,
    /// Concurrent pairs whose Lamport clocks differ.
    FalseOrderings => false_orderings,
    /// False orderings over concurrent pairs.
    FalseOrderingShare => false_ordering_share,
    /// The most events on one causal chain.
    LongestChain => longest_chain,
    /// The largest hybrid clock drift, ms.
    HlcDriftMaxMs => hlc_drift_max_ms,
    /// The largest hybrid clock drift at a machine's last event, ms.
    HlcDriftFinalMs => hlc_drift_final_ms,
    /// The largest hybrid clock counter.
    HlcCounterMax => hlc_counter_max,
}

/// A machine's figures summarized across trials.
pub type MachineSummaries = MachineFigures<Option<Summary>>;
/// A trial's figures summarized across trials.
pub type TrialSummaries = TrialFigures<Option<Summary>>;

/// Each figure of `K` summarized over `rows` (one set per trial); a figure a row leaves
/// undefined does not count for that row.
pub fn summarize<K: Figure>(rows: &[K::Set<Option<f64>>]) -> K::Set<Option<Summary>> {
    K::set_from(|k| {
        let values: Vec<f64> = rows.iter().filter_map(|r| *k.of(r)).collect();
        Summary::of(&values)
    })
}

fn flag(b: bool) -> Option<f64> {
    Some(if b { 1.0 } else { 0.0 })
}

impl MachineAnalysis {
    /// Its figures; `None` where undefined.
    pub fn figures(&self) -> MachineFigures {
        let share =
            |k: usize| (self.events > 0).then(|| self.by_kind[k] as f64 / self.events as f64);
        let q = self.queue;
        let d = self.drift;
        // Hop latency is known only where the summary recorded messages.
        let hops = self
            .timing
            .map(|t| t.hop_latency_us)
            .filter(|h| h.count > 0);
        MachineFigures {
            rate: self.rate,
            tick_rate: self.tick_rate,
            events: Some(self.events as f64),
            receive: Some(self.by_kind[0] as f64),
            send: Some(self.by_kind[1] as f64),
            broadcast: Some(self.by_kind[2] as f64),
            internal: Some(self.by_kind[3] as f64),
            receive_share: share(0),
            send_share: share(1),
            broadcast_share: share(2),
            internal_share: share(3),
            final_clock: Some(self.final_clock as f64),
            clock_per_s: self.clock_per_s,
            jump_max: self.jumps.map(|j| j.max),
            jump_mean: self.jumps.map(|j| j.mean),
            jump_p50: self.jumps.map(|j| j.p50),
            jump_p95: self.jumps.map(|j| j.p95),
            jump_p99: self.jumps.map(|j| j.p99),
            queue_peak: self.queue_peak.map(f64::from),
            queue_after_tick_max: q.map(|q| f64::from(q.max)),
            queue_after_tick_mean: q.map(|q| q.mean),
            queue_after_tick_final: q.map(|q| f64::from(q.last)),
            queue_after_tick_growth_per_min: q.and_then(|q| q.growth_per_min),
            drift_max: d.map(|d| d.max as f64),
            drift_mean: d.map(|d| d.mean),
            drift_final: d.map(|d| d.last as f64),
            latency_ms_p50: self.latency_ms.map(|l| l.p50),
            latency_ms_p95: self.latency_ms.map(|l| l.p95),
            latency_ms_max: self.latency_ms.map(|l| l.max),
            wait_ticks_p50: self.wait_ticks.map(|w| w.p50),
            wait_ticks_p95: self.wait_ticks.map(|w| w.p95),
            wait_ticks_max: self.wait_ticks.map(|w| w.max),
            unmatched_receives: Some(self.unmatched_receives as f64),
            tick_lateness_p50_us: self.timing.map(|t| t.lateness_us.p50),
            tick_lateness_p99_us: self.timing.map(|t| t.lateness_us.p99),
            tick_lateness_max_us: self.timing.map(|t| t.lateness_us.max),
            ticks_late: self.timing.map(|t| t.late_over_one_period as f64),
            hop_latency_p50_us: hops.map(|h| h.p50),
            hop_latency_p99_us: hops.map(|h| h.p99),
            same_instant_receives: self.same_instant_receives.map(|n| n as f64),
            machine_complete: flag(self.problems.is_empty()),
        }
    }
}

impl TrialAnalysis {
    /// Its figures; `None` where undefined.
    pub fn figures(&self) -> TrialFigures {
        let ms = &self.machines;
        let max_of =
            |f: &dyn Fn(&MachineAnalysis) -> Option<f64>| ms.iter().filter_map(f).reduce(f64::max);
        let s = self.drift;
        let (c, cf) = (
            self.causality.as_ref(),
            self.causality.as_ref().map(|c| c.figures),
        );
        TrialFigures {
            machines: Some(ms.len() as f64),
            events: Some(ms.iter().map(|m| m.events).sum::<u64>() as f64),
            final_clock_max: max_of(&|m| Some(m.final_clock as f64)),
            jump_max: self.jumps.map(|j| j.max),
            jump_mean: self.jumps.map(|j| j.mean),
            jump_p95: self.jumps.map(|j| j.p95),
            jump_p99: self.jumps.map(|j| j.p99),
            queue_peak: max_of(&|m| m.queue_peak.map(f64::from)),
            queue_after_tick_max: max_of(&|m| m.queue.map(|q| f64::from(q.max))),
            queue_after_tick_growth_max_per_min: max_of(&|m| {
                m.queue.and_then(|q| q.growth_per_min)
            }),
            drift_max: s.map(|s| s.max as f64),
            drift_mean: s.map(|s| s.mean),
            drift_final: s.map(|s| s.last as f64),
            latency_ms_p50: self.latency_ms.map(|l| l.p50),
            latency_ms_p95: self.latency_ms.map(|l| l.p95),
            latency_ms_max: self.latency_ms.map(|l| l.max),
            wait_ticks_p50: self.wait_ticks.map(|w| w.p50),
            wait_ticks_p95: self.wait_ticks.map(|w| w.p95),
            wait_ticks_max: self.wait_ticks.map(|w| w.max),
            unmatched_receives: Some(ms.iter().map(|m| m.unmatched_receives).sum::<u64>() as f64),
            tick_lateness_max_us: max_of(&|m| m.timing.map(|t| t.lateness_us.max)),
            same_instant_receives: ms
                .iter()
                .map(|m| m.same_instant_receives)
                .sum::<Option<u64>>()
                .map(|n| n as f64),
            trial_complete: flag(self.complete()),
            concurrent_pairs: cf.map(|f| f.concurrent_pairs as f64),
            concurrent_share: cf.and_then(|f| f.concurrent_share),
            false_orderings: cf.map(|f| f.false_orderings as f64),
            false_ordering_share: cf.and_then(|f| f.false_ordering_share),
            longest_chain: cf.map(|f| f.longest_chain as f64),
            hlc_drift_max_ms: c.and_then(|c| c.hlc_drift_max_ms()),
            hlc_drift_final_ms: c.and_then(|c| c.hlc_drift_final_ms()),
            hlc_counter_max: c.and_then(|c| c.hlc_counter_max()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header serde gives a set's struct when the csv crate writes it.
    fn csv_header(set: &impl Serialize) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(set).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        text.lines().next().unwrap().to_owned()
    }

    fn names<K: Figure>() -> String {
        K::ALL
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(",")
    }

    #[test]
    fn serde_names_each_field_as_its_figure_in_the_same_order() {
        let m = MachineFigures::<Option<f64>>::default();
        assert_eq!(csv_header(&m), names::<MachineFigure>());
        let t = TrialFigures::<Option<f64>>::default();
        assert_eq!(csv_header(&t), names::<TrialFigure>());
        // The order every output lists them in, as before the figures were typed: first, last
        // and a few between.
        assert_eq!(MachineFigure::ALL.len(), 41);
        assert_eq!(TrialFigure::ALL.len(), 31);
        assert!(names::<MachineFigure>().starts_with("rate,tick_rate,events,receive,send,"));
        assert!(names::<MachineFigure>().ends_with(",same_instant_receives,machine_complete"));
        assert!(names::<TrialFigure>().starts_with("machines,events,final_clock_max,"));
        assert!(
            names::<TrialFigure>()
                .ends_with(",hlc_drift_max_ms,hlc_drift_final_ms,hlc_counter_max")
        );
    }

    #[test]
    fn every_figure_reads_its_own_field() {
        // A set whose k-th figure holds k: each figure reads back its own position, so no two
        // figures share a field and `iter` follows the declared order.
        let m = MachineFigures::from_fn(|k| MachineFigure::ALL.iter().position(|&f| f == k));
        for (i, (k, v)) in m.iter().enumerate() {
            assert_eq!((MachineFigure::ALL[i], *v), (k, Some(i)));
        }
        let t = TrialFigures::from_fn(|k| TrialFigure::ALL.iter().position(|&f| f == k));
        for (i, (k, v)) in t.iter().enumerate() {
            assert_eq!((TrialFigure::ALL[i], *v), (k, Some(i)));
        }
        assert_eq!(t.drift_max, Some(10));
        assert_eq!(*t.get(TrialFigure::DriftMax), Some(10));
        assert_eq!(TrialFigure::DriftMax.name(), "drift_max");
    }

    #[test]
    fn json_keys_are_the_figure_names() {
        let value = serde_json::to_value(TrialFigures::from_fn(|_| Some(1.0))).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut names: Vec<&str> = TrialFigure::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        assert_eq!(keys, names);
    }

    #[test]
    fn summarize_counts_only_the_rows_that_define_a_figure() {
        let rows = [
            MachineFigures {
                jump_max: Some(4.0),
                ..MachineFigures::default()
            },
            MachineFigures {
                jump_max: Some(6.0),
                queue_peak: Some(3.0),
                ..MachineFigures::default()
            },
        ];
        let s = summarize::<MachineFigure>(&rows);
        assert_eq!(
            s.jump_max.map(|s| (s.n, s.mean, s.min, s.max)),
            Some((2, 5.0, 4.0, 6.0))
        );
        assert_eq!(
            s.queue_peak.map(|s| (s.n, s.mean, s.std)),
            Some((1, 3.0, None))
        );
        assert_eq!(s.rate, None);
    }
}
