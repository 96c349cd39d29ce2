//! The streamed figures against the whole-trial computation they replace.

use super::*;
use crate::analysis::{analyze_trial, analyze_trial_with, causality::reconstruct};

/// Every figure of `trial` from the whole-trial computation.
fn whole(trial: &TrialInput) -> TrialAnalysis {
    analyze_trial_with(trial, reconstruct(trial).as_ref())
}
use crate::analysis::causality::tests::three;
use crate::config::FaultPlan;
use crate::config::Latency;
use crate::core::machine::MissedTicks;
use crate::sim::{DEFAULT_EPOCH_NS, SimOptions, simulate};

/// A simulated trial as the loader would give it: rows per machine, rates, clocks and plan.
fn simulated(rates: &[f64], seconds: u64, seed: u64, latency: Latency, plan: &str) -> TrialInput {
    let faults = if plan.is_empty() {
        FaultPlan::default()
    } else {
        let config = crate::config::Config::from_yaml(plan, "test").unwrap();
        config.fault_plan("test").unwrap()
    };
    let n = rates.len();
    let opts = SimOptions {
        names: (1..=n).map(|i| format!("m{i}:{i}")).collect(),
        rates: rates.to_vec(),
        action_range: 6,
        receive_rule: Default::default(),
        missed_ticks: MissedTicks::default(),
        duration_ns: seconds * 1_000_000_000,
        seed,
        epoch_ns: DEFAULT_EPOCH_NS,
        latency,
        tick_lateness: None,
        measured: None,
        faults,
    };
    let mut rows = vec![Vec::new(); n];
    simulate(&opts, |r| rows[usize::from(r.machine) - 1].push(*r)).unwrap();
    let mut t = crate::analysis::causality::tests::trial(rows);
    t.start_us = DEFAULT_EPOCH_NS / 1_000;
    for (m, &rate) in t.machines.iter_mut().zip(rates) {
        m.rate = Some(rate);
        m.clock = opts.faults.clock_skew(m.id);
    }
    t.faults = opts.faults.faults.clone();
    t
}

const WEATHER: &str = "faults:
- {kind: delay, link: \"1->3\", from: 0, to: 6, latency: \"fixed:300ms\"}
- {kind: partition, groups: [[1, 2], [3]], from: 2, to: 4, mode: hold}
- {kind: partition, groups: [[1], [2, 3]], from: 5, to: 6, mode: drop}
- {kind: pause, machine: 2, from: 7, to: 8}
- {kind: clock, machine: 3, offset_ms: 120, drift_ppm: 300}
";

#[test]
fn every_figure_streamed_equals_the_whole_trial_computation() {
    let fixed = |us: u64| Latency::Fixed { ns: us * 1000 };
    let uniform = Latency::Uniform {
        min_ns: 50_000,
        max_ns: 40_000_000,
    };
    let cases: Vec<(&str, TrialInput)> = vec![
        ("worked example", three()),
        (
            "rates 1,2,6",
            simulated(&[1.0, 2.0, 6.0], 60, 3, fixed(100), ""),
        ),
        (
            "slow receiver",
            simulated(&[2.0, 40.0, 90.0], 30, 9, fixed(100), ""),
        ),
        (
            "uniform hops",
            simulated(&[5.0, 7.0, 11.0, 13.0], 20, 4, uniform, ""),
        ),
        (
            "long hops",
            simulated(&[50.0, 60.0], 10, 5, fixed(250_000), ""),
        ),
        (
            "weather",
            simulated(&[4.0, 9.0, 20.0], 10, 7, uniform, WEATHER),
        ),
        (
            "many rows",
            simulated(&[100.0, 300.0, 1000.0], 8, 11, uniform, ""),
        ),
    ];
    for (name, trial) in cases {
        let streamed = analyze_trial(&trial);
        assert_eq!(streamed, whole(&trial), "{name}");
        let rows: usize = trial.machines.iter().map(|m| m.records.len()).sum();
        assert!(rows > 0, "{name}");
    }
}

#[test]
fn a_trial_past_the_entries_bound_has_no_causality_streamed_or_not() {
    let trial = simulated(&[100.0, 300.0, 1000.0], 8, 11, Latency::default(), WEATHER);
    let rows: u64 = trial.machines.iter().map(|m| m.records.len() as u64).sum();
    let logs = || {
        trial
            .machines
            .iter()
            .map(|m| m.records.iter().copied().map(Ok::<_, ()>))
            .collect()
    };
    // Told the number of rows, and not told it (vector clocks then stop where they no longer fit).
    let known = analyze_rows(&trial, logs(), Some(rows), &mut ())
        .unwrap()
        .analysis;
    let unknown = analyze_rows(&trial, logs(), None, &mut ())
        .unwrap()
        .analysis;
    assert_eq!(known, unknown);
    assert!(known.causality.is_some());
    assert!(
        known
            .weather
            .iter()
            .all(|w| w.phases[1].concurrent_share.is_some())
    );
}

/// Watches every event, checking the order the stream promises.
#[derive(Default)]
struct Order {
    next: Vec<usize>,
    seen: std::collections::HashSet<EventRef>,
    clocks: Vec<u64>,
}

impl Watch for Order {
    fn seen(&mut self, e: &Seen<'_>) {
        let i = e.event.machine;
        if self.next.len() <= i {
            self.next.resize(i + 1, 0);
        }
        assert_eq!(e.event.index, self.next[i], "each log in its order");
        self.next[i] += 1;
        if let Some(s) = e.send {
            assert!(self.seen.contains(&s.event), "a receive after its send");
        }
        self.seen.insert(e.event);
        self.clocks.push(e.record.logical_clock);
        let v = e.vector.expect("vector clocks");
        assert_eq!(v[i] as usize, e.event.index + 1);
    }
}

#[test]
fn the_watch_sees_each_log_in_order_every_receive_after_its_send_by_clock() {
    let trial = simulated(&[2.0, 40.0, 90.0], 30, 9, Latency::default(), "");
    let logs = trial
        .machines
        .iter()
        .map(|m| m.records.iter().copied().map(Ok::<_, ()>))
        .collect();
    let mut order = Order::default();
    let streamed = analyze_rows(&trial, logs, None, &mut order).unwrap();
    let rows: usize = trial.machines.iter().map(|m| m.records.len()).sum();
    assert_eq!(order.seen.len(), rows);
    assert!(order.clocks.windows(2).all(|w| w[0] <= w[1]));
    // What stays in flight is what no receive took: each (send, receiver) once.
    let c = reconstruct(&trial).unwrap();
    let received = c.receives_of();
    for u in &streamed.unreceived {
        let got = received.get(&u.send.event).map_or(0, Vec::len);
        let targets = match u.send.kind {
            EventKind::Broadcast => trial.machines.len() - 1,
            _ => 1,
        };
        assert_eq!(got + u.receivers.len(), targets, "{u:?}");
    }
    assert!(
        !streamed.unreceived.is_empty(),
        "the slow machine's queue holds messages at the end"
    );
}

#[test]
fn a_long_trial_keeps_every_second_instant_of_its_drift_series_and_counts_them_all() {
    // 2,000 s: 20,000 instants, past the 16,384 kept.
    let trial = simulated(&[1.0, 2.0, 3.0], 2000, 2, Latency::default(), "");
    let streamed = analyze_trial(&trial);
    let all = whole(&trial);
    let every_other = |v: &[i64]| v.iter().copied().step_by(2).collect::<Vec<_>>();
    assert!(all.series.times_s.len() > drift::SERIES_INSTANTS);
    assert_eq!(
        streamed.series.times_s.len(),
        all.series.times_s.len().div_ceil(2)
    );
    assert_eq!(
        streamed.series.times_s,
        all.series
            .times_s
            .iter()
            .copied()
            .step_by(2)
            .collect::<Vec<_>>()
    );
    for (s, a) in streamed.series.drift.iter().zip(&all.series.drift) {
        assert_eq!(*s, every_other(a));
    }
    // Every figure but the series is the whole computation's, drift included.
    let unseries = |mut t: TrialAnalysis| {
        t.series = Default::default();
        t
    };
    assert_eq!(unseries(streamed), unseries(all));
}
