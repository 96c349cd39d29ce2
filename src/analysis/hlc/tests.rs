//! Hybrid logical clocks on a hand-written trial with skewed wall clocks, worked out on paper (in
//! the comments), and the rules the trial does not reach.

use super::*;
use crate::analysis::causality::reconstruct;
use crate::analysis::causality::tests::{T0, row, trial, vectors};
use crate::core::event::EventKind::{Internal, Receive, Send};

/// Two machines whose wall clocks disagree: m2's runs about 600 us behind m1's (times in us).
///
/// ```text
/// m1  a1 send→2 #1 (1000)   a2 int (1000)   a3 recv 2#1 (1000)   a4 int (1200)
/// m2  b1 int (100)   b2 recv 1#1 (400)   b3 send→1 #1 (500)   b4 int (2000)
/// ```
pub(crate) fn skewed() -> TrialInput {
    trial(vec![
        vec![
            row(1, Send, 1000, 1, Some((Some(2), 1, 1))),
            row(1, Internal, 1000, 2, None),
            row(1, Receive, 1000, 4, Some((Some(2), 3, 1))),
            row(1, Internal, 1200, 5, None),
        ],
        vec![
            row(2, Internal, 100, 1, None),
            row(2, Receive, 400, 2, Some((Some(1), 1, 1))),
            row(2, Send, 500, 3, Some((Some(1), 3, 1))),
            row(2, Internal, 2000, 4, None),
        ],
    ])
}

#[test]
fn hybrid_clocks_worked_by_hand() {
    // l and c (l as us after T0):
    //   a1: max(0, 1000) = 1000, new l: (1000, 0)      a2: l stays 1000: (1000, 1)
    //   b1: (100, 0)
    //   b2: max(100, 1000 from a1, 400) = 1000 = the message's only: c = 0 + 1: (1000, 1),
    //       600 us ahead of m2's wall clock
    //   b3: max(1000, 500) = 1000, unchanged: (1000, 2), 500 us ahead     b4: (2000, 0)
    //   a3: max(1000, 1000 from b3, 1000) equals both: c = max(1, 2) + 1: (1000, 3)
    //   a4: (1200, 0)
    let t = skewed();
    let c = reconstruct(&t).unwrap();
    let stamps = timestamps(&t, &c);
    let h = |l: u64, c: u32| Hlc { l: T0 + l, c };
    assert_eq!(
        stamps,
        [
            vec![h(1000, 0), h(1000, 1), h(1000, 3), h(1200, 0)],
            vec![h(100, 0), h(1000, 1), h(1000, 2), h(2000, 0)],
        ]
    );
    let figures = machine_figures(&t, &stamps);
    assert_eq!(
        figures,
        [
            HlcMachine {
                id: 1,
                drift_max_us: 0,
                drift_final_us: 0,
                counter_max: 3
            },
            HlcMachine {
                id: 2,
                drift_max_us: 600,
                drift_final_us: 0,
                counter_max: 2
            },
        ]
    );
    // Vector clocks: a1 [1,0] a2 [2,0] b1 [0,1] b2 [1,2] b3 [1,3] b4 [1,4] a3 [3,3] a4 [4,3].
    assert_eq!(
        vectors(&c),
        [
            vec![vec![1, 0], vec![2, 0], vec![3, 3], vec![4, 3]],
            vec![vec![0, 1], vec![1, 2], vec![1, 3], vec![1, 4]],
        ]
    );
}

#[test]
fn the_other_hybrid_clock_rules() {
    let h = |l: u64, c: u32| Hlc { l, c };
    // A receive that keeps the machine's l, the message's being older: c + 1.
    assert_eq!(step(h(50, 4), 10, Some(h(40, 9))), h(50, 5));
    // A receive whose wall time passes both: c = 0.
    assert_eq!(step(h(50, 4), 60, Some(h(55, 9))), h(60, 0));
    // A local event that keeps l (the wall clock is behind): c + 1.
    assert_eq!(step(h(50, 4), 49, None), h(50, 5));
}

/// A 20-second simulated trial of machines at rates 2, 3 and 5 with `faults`, as the loader
/// would give it: rows per machine, and each machine's clock from the plan.
fn simulated(faults: crate::config::FaultPlan) -> TrialInput {
    use crate::sim::{DEFAULT_EPOCH_NS, SimOptions, simulate};
    let opts = SimOptions {
        names: vec!["a:1".into(), "b:2".into(), "c:3".into()],
        rates: vec![2.0, 3.0, 5.0],
        action_range: 6,
        receive_rule: Default::default(),
        missed_ticks: Default::default(),
        duration_ns: 20_000_000_000,
        seed: 20,
        epoch_ns: DEFAULT_EPOCH_NS,
        latency: crate::config::Latency::default(),
        tick_lateness: None,
        measured: None,
        faults,
    };
    let mut rows = vec![Vec::new(); 3];
    simulate(&opts, |r| rows[usize::from(r.machine) - 1].push(*r)).unwrap();
    let mut t = trial(rows);
    t.start_us = DEFAULT_EPOCH_NS / 1_000;
    for m in &mut t.machines {
        m.clock = opts.faults.clock_skew(m.id);
    }
    t
}

fn clock_fault(offset_ms: f64, drift_ppm: f64) -> crate::config::FaultPlan {
    let yaml = format!(
        "faults:\n- {{kind: clock, machine: 2, offset_ms: {offset_ms}, drift_ppm: {drift_ppm}}}\n"
    );
    let config = crate::config::Config::from_yaml(&yaml, "test").unwrap();
    config.fault_plan("test").unwrap()
}

fn hlc_of(t: &TrialInput) -> Vec<HlcMachine> {
    let c = reconstruct(t).unwrap();
    machine_figures(t, &timestamps(t, &c))
}

#[test]
fn a_clock_250_ms_ahead_drifts_its_hybrid_clock_250_ms_and_pulls_the_others() {
    let fair = hlc_of(&simulated(Default::default()));
    // Perfect clocks and a 100 µs network: every hybrid clock is its own wall clock.
    for h in &fair {
        assert_eq!(
            (h.drift_max_us, h.drift_final_us, h.counter_max),
            (0, 0, 0),
            "{h:?}"
        );
    }
    let skewed = simulated(clock_fault(250.0, 0.0));
    let hlc = hlc_of(&skewed);
    // Machine 2's l is never behind its own stamp, 250 ms ahead of real time, and never more
    // ahead than that (nothing it hears of is later): exactly 250 ms at every event.
    assert_eq!(
        (hlc[1].drift_max_us, hlc[1].drift_final_us),
        (250_000, 250_000)
    );
    // The others are pulled ahead by what they hear from machine 2, by less than 250 ms: by
    // 250 ms less the time its message waited for their next tick.
    for h in [&hlc[0], &hlc[2]] {
        assert!(h.drift_max_us > 0 && h.drift_max_us < 250_000, "{h:?}");
        assert!(h.counter_max > 0, "{h:?}");
    }
}

#[test]
fn the_real_time_of_a_skewed_machines_events_comes_back_exactly() {
    let fair = simulated(Default::default());
    for (offset, drift) in [(250.0, 0.0), (250.0, 100.0), (-40.0, 3.5)] {
        let skewed = simulated(clock_fault(offset, drift));
        for (s, f) in skewed.machines.iter().zip(&fair.machines) {
            assert_eq!(s.records.len(), f.records.len());
            for (a, b) in s.records.iter().zip(&f.records) {
                let real = s.clock.real_us(skewed.start_us, a.system_time_us);
                assert_eq!(
                    crate::core::event::Record {
                        system_time_us: real,
                        ..*a
                    },
                    *b,
                    "machine {} at offset {offset} ms, drift {drift} ppm",
                    s.id
                );
                if s.id == 2 {
                    assert!(a.system_time_us >= b.system_time_us + 249_000 || offset < 0.0);
                } else {
                    assert_eq!(a, b);
                }
            }
        }
    }
}
