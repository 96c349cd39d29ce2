//! The weather figures on hand-written trials, worked out in the comments: the worked example of
//! docs/ANALYSIS.md ("Causality") cut by a window, and a trial with a clock fault whose hybrid
//! clocks drift by known amounts in each phase.

use super::*;
use crate::analysis::causality::tests::{T0, row, three, trial};
use crate::config::Latency;
use crate::core::event::EventKind::{Internal, Receive, Send};
use crate::core::fault::{ClockSkew, Link, PartitionMode};

fn pause(machine: u16, from: f64, to: f64) -> Fault {
    Fault::Pause {
        machine,
        window: Window::from_secs(from, to),
    }
}

#[test]
fn each_fault_is_named_in_a_few_words() {
    let delay = Fault::Delay {
        link: Link {
            from: Some(1),
            to: Some(3),
        },
        window: Window::from_secs(0.0, 30.0),
        latency: Latency::Fixed { ns: 50_000_000 },
    };
    let partition = |mode| Fault::Partition {
        groups: vec![vec![1, 2], vec![3]],
        window: Window::from_secs(10.0, 20.0),
        mode,
    };
    let clock = Fault::Clock {
        machine: 2,
        skew: ClockSkew {
            offset_us: 250_000,
            drift_ppb: 100_000,
        },
    };
    assert_eq!(label(&delay), "delay 1->3 fixed:50ms 0-30 s");
    assert_eq!(
        label(&partition(PartitionMode::Hold)),
        "partition {1,2}|{3} 10-20 s"
    );
    assert_eq!(
        label(&partition(PartitionMode::Drop)),
        "partition {1,2}|{3} drop 10-20 s"
    );
    assert_eq!(label(&pause(2, 5.0, 8.5)), "pause m2 5-8.5 s");
    assert_eq!(label(&clock), "clock m2 +250 ms +100 ppm");
    assert_eq!(window(&clock), None);
}

#[test]
fn a_trial_without_a_windowed_fault_has_no_weather() {
    let mut t = three();
    assert!(analyze(&t).is_empty());
    t.faults = vec![Fault::Clock {
        machine: 1,
        skew: ClockSkew::default(),
    }];
    assert!(analyze(&t).is_empty());
}

/// The worked example (docs/ANALYSIS.md), with a pause of machine 2 from 100 ms to 260 ms:
///
/// - before, [0, 100 ms): a1, c1, b1, every pair concurrent: 3 of 3;
/// - during, [100, 260 ms): a2 b2 b3 b4, one chain (a2 -> b2, then m2's own order): 0 of 6; b2
///   jumps by 2; c2 at 260 ms is after the window (its end is excluded);
/// - after, [260, 400 ms]: a3 a4 c2 c3, of which a3 and a4 are each concurrent with c2 and c3
///   (c1 -> a4 only): 4 of 6; c2 jumps by 4.
#[test]
fn the_worked_example_cut_by_a_window() {
    let mut t = three();
    t.machines[1].records[2].queue_len = 3; // b3, at 200 ms
    t.faults = vec![pause(2, 0.1, 0.26)];
    let w = analyze(&t);
    assert_eq!(w.len(), 1);
    let w = &w[0];
    assert_eq!(
        (w.fault, w.kind, w.label.as_str()),
        (0, "pause", "pause m2 0.1-0.26 s")
    );
    assert_eq!((w.from_s, w.to_s), (0.1, 0.26));
    let [before, during, after] = &w.phases;
    assert_eq!(
        (before.phase, before.from_s, before.to_s),
        (Phase::Before, 0.0, 0.1)
    );
    assert_eq!(
        (after.phase, after.from_s, after.to_s),
        (Phase::After, 0.26, 0.4)
    );
    let counts = |p: &PhaseFigures| (p.events, p.jump_max, p.big_jumps, p.queue_after_tick_max);
    assert_eq!(counts(before), (3, Some(1), 0, Some(0)));
    assert_eq!(counts(during), (4, Some(2), 0, Some(3)));
    assert_eq!(counts(after), (4, Some(4), 0, Some(0)));
    assert_eq!(before.concurrent_share, Some(1.0));
    assert_eq!(during.concurrent_share, Some(0.0));
    assert_eq!(after.concurrent_share, Some(4.0 / 6.0));
    // One host, no clock fault: the hybrid clocks are the wall clock.
    for p in &w.phases {
        assert_eq!(
            (p.hlc_drift_max_ms, p.hlc_counter_max),
            (Some(0.0), Some(0))
        );
    }
}

/// Machine 1's clock is 250 ms ahead. It ticks 7 times, every 10 ms from 0, then sends to machine
/// 2 at 100 ms (clock 8), all stamped 250 ms late. Machine 2: an internal event at 0, the
/// receive at 200 ms (clock 9, a jump of 8), an internal event at 300 ms. Machine 2 pauses from
/// 150 to 250 ms.
///
/// Hybrid clocks: machine 1's `l` is its own stamp, 250 ms ahead of real time, `c` 0. Machine
/// 2's receive takes the message's `l` (350 ms), 150 ms ahead of its real 200 ms, with `c` 1; its
/// last event keeps that `l` at real 300 ms: 50 ms ahead, `c` 2.
///
/// - before, [0, 150 ms): machine 1's 8 events and machine 2's first, which is concurrent with
///   all 8: 8 of 36 pairs; every drift 250 ms or 0;
/// - during: the receive alone (no pair), a jump of 8, over 5;
/// - after: the last event, drift 50 ms, counter 2.
#[test]
fn a_clock_fault_shows_in_the_hybrid_clocks_of_each_phase() {
    let ms = |real: u64| 250_000 + real * 1000; // machine 1's stamp of a real millisecond
    let mut m1: Vec<_> = (0..7)
        .map(|k| row(1, Internal, ms(10 * k), k + 1, None))
        .collect();
    m1.push(row(1, Send, ms(100), 8, Some((Some(2), 8, 1))));
    let mut t = trial(vec![
        m1,
        vec![
            row(2, Internal, 0, 1, None),
            row(2, Receive, 200_000, 9, Some((Some(1), 8, 1))),
            row(2, Internal, 300_000, 10, None),
        ],
    ]);
    t.machines[1].records[2].queue_len = 2;
    t.machines[0].clock = ClockSkew {
        offset_us: 250_000,
        drift_ppb: 0,
    };
    t.faults = vec![
        Fault::Clock {
            machine: 1,
            skew: t.machines[0].clock,
        },
        pause(2, 0.15, 0.25),
    ];
    let w = analyze(&t);
    assert_eq!(w.len(), 1);
    assert_eq!(
        (w[0].fault, w[0].label.as_str()),
        (1, "pause m2 0.15-0.25 s")
    );
    let [before, during, after] = &w[0].phases;
    assert_eq!(T0, t.start_us);
    assert_eq!((before.events, during.events, after.events), (9, 1, 1));
    assert_eq!((after.from_s, after.to_s), (0.25, 0.3));
    assert_eq!((before.jump_max, before.big_jumps), (Some(1), 0));
    assert_eq!((during.jump_max, during.big_jumps), (Some(8), 1));
    assert_eq!((after.jump_max, after.big_jumps), (Some(1), 0));
    assert_eq!(after.queue_after_tick_max, Some(2));
    assert_eq!(before.concurrent_share, Some(8.0 / 36.0));
    assert_eq!(
        (during.concurrent_share, after.concurrent_share),
        (None, None)
    );
    let hlc = |p: &PhaseFigures| (p.hlc_drift_max_ms, p.hlc_counter_max);
    assert_eq!(hlc(before), (Some(250.0), Some(0)));
    assert_eq!(hlc(during), (Some(150.0), Some(1)));
    assert_eq!(hlc(after), (Some(50.0), Some(2)));
}

/// On random trials (an event every 10 µs), each phase's concurrent share equals the share found
/// by comparing every pair of its events.
#[test]
fn the_phase_share_agrees_with_comparing_every_pair() {
    use crate::analysis::causality::tests::random_trial;
    for seed in 1..=30u64 {
        let mut t = random_trial(seed * 104_729, 2 + (seed % 4) as u16, 150);
        t.faults = vec![pause(1, 0.0004, 0.0009)];
        let c = reconstruct(&t).unwrap();
        let w = analyze(&t);
        let cuts = [(0, 400), (400, 900), (900, u64::MAX)];
        for (p, (lo, hi)) in w[0].phases.iter().zip(cuts) {
            let inside: Vec<EventRef> = t
                .machines
                .iter()
                .enumerate()
                .flat_map(|(i, m)| {
                    m.records.iter().enumerate().filter_map(move |(k, r)| {
                        let us = r.system_time_us - T0;
                        (lo <= us && us < hi).then_some(EventRef {
                            machine: i,
                            index: k,
                        })
                    })
                })
                .collect();
            let mut concurrent = 0u64;
            for (x, &a) in inside.iter().enumerate() {
                concurrent += inside[x + 1..]
                    .iter()
                    .filter(|&&b| c.concurrent(a, b))
                    .count() as u64;
            }
            let e = inside.len() as u64;
            assert_eq!(p.events, e, "seed {seed} {:?}", p.phase);
            let pairs = e * e.saturating_sub(1) / 2;
            let want = (pairs > 0).then(|| concurrent as f64 / pairs as f64);
            assert_eq!(p.concurrent_share, want, "seed {seed} {:?}", p.phase);
        }
    }
}
