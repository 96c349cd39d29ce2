//! Every figure pinned on a small hand-written trial whose values are worked out in the comments
//! (docs/ANALYSIS.md defines them).

use super::stats::Summary;
use super::*;
use crate::core::event::EventKind::{Broadcast, Internal, Receive, Send};

/// The trial's start: 1000 s after the epoch, in microseconds.
const T0: u64 = 1_000_000_000;

/// A row `ms` milliseconds after [`T0`].
fn row(machine: u16, event: EventKind, ms: u64, clock: u64, queue: u32) -> Record {
    Record {
        machine,
        event,
        system_time_us: T0 + ms * 1000,
        logical_clock: clock,
        queue_len: queue,
        peer: None,
        msg_clock: None,
        seq: None,
    }
}

/// A message row: `peer` (none for a broadcast), the message's clock and seq.
fn msg(mut r: Record, peer: Option<u16>, msg_clock: u64, seq: u32) -> Record {
    r.peer = peer;
    r.msg_clock = Some(msg_clock);
    r.seq = Some(seq);
    r
}

fn machine(id: u16, rate: f64, records: Vec<Record>) -> MachineInput {
    MachineInput {
        id,
        name: Some(format!("m{id}")),
        rate: Some(rate),
        records,
        queue_peak: None,
        timing: None,
        clock: Default::default(),
        problems: Vec::new(),
    }
}

/// Machine 1 ticks every 500 ms, machine 2 every 250 ms, machine 3 every second from 100 ms.
/// 1 sends seq 1 to 2 at 0.5 s; 2 sends seqs 1 and 2 to 1 at 0.5 and 0.75 s; 1 broadcasts seq 2 at
/// 2.0 s, received by 2 at 2.25 s and by 3 at 2.1 s (a jump of 5 on 3).
fn hand_trial() -> TrialInput {
    let m1 = vec![
        row(1, Internal, 0, 1, 0),
        msg(row(1, Send, 500, 2, 0), Some(2), 2, 1),
        msg(row(1, Receive, 1000, 4, 1), Some(2), 3, 1),
        msg(row(1, Receive, 1500, 5, 0), Some(2), 4, 2),
        msg(row(1, Broadcast, 2000, 6, 0), None, 6, 2),
    ];
    let mut m2 = vec![
        row(2, Internal, 0, 1, 0),
        row(2, Internal, 250, 2, 0),
        msg(row(2, Send, 500, 3, 0), Some(1), 3, 1),
        msg(row(2, Send, 750, 4, 0), Some(1), 4, 2),
        msg(row(2, Receive, 1000, 5, 0), Some(1), 2, 1),
    ];
    for (k, ms) in [1250, 1500, 1750, 2000].into_iter().enumerate() {
        m2.push(row(2, Internal, ms, 6 + k as u64, 0));
    }
    m2.push(msg(row(2, Receive, 2250, 10, 0), Some(1), 6, 2));
    let m3 = vec![
        row(3, Internal, 100, 1, 0),
        row(3, Internal, 1100, 2, 0),
        msg(row(3, Receive, 2100, 7, 0), Some(1), 6, 2),
    ];
    TrialInput {
        trial: 1,
        dir: "t".to_owned(),
        seed: Some(9),
        start_us: T0,
        machines: vec![
            machine(1, 2.0, m1),
            machine(2, 4.0, m2),
            machine(3, 1.0, m3),
        ],
        problems: Vec::new(),
        faults: Vec::new(),
    }
}

fn dist(count: u64, mean: f64, max: f64, p50: f64, p95: f64, p99: f64) -> Option<Distribution> {
    Some(Distribution {
        count,
        mean,
        max,
        p50,
        p95,
        p99,
    })
}

#[test]
fn events_rates_and_clock_of_machine_1() {
    let t = analyze_trial(&hand_trial());
    let m = &t.machines[0];
    assert_eq!(m.events, 5);
    // receive, send, broadcast, internal
    assert_eq!(m.by_kind, [2, 1, 1, 1]);
    // 4 intervals in 2.0 s; the clock rose from 1 to 6 in those 2.0 s.
    assert_eq!(m.tick_rate, Some(2.0));
    assert_eq!(m.final_clock, 6);
    assert_eq!(m.clock_per_s, Some(2.5));
    let f = m.figures();
    assert_eq!(f.receive_share, Some(0.4));
    assert_eq!(f.internal_share, Some(0.2));
    assert_eq!(f.rate, Some(2.0));
    assert_eq!(f.machine_complete, Some(1.0));
}

#[test]
fn jumps_count_from_zero_and_the_histogram_counts_by_hand() {
    let t = analyze_trial(&hand_trial());
    // Machine 1: clocks 1, 2, 4, 5, 6 give jumps 1, 1, 2, 1, 1 (the first from clock 0).
    let m1 = &t.machines[0];
    assert_eq!(m1.jumps, dist(5, 1.2, 2.0, 1.0, 2.0, 2.0));
    assert_eq!(m1.jump_histogram, BTreeMap::from([(1, 4), (2, 1)]));
    let largest: Vec<(u64, f64, u64)> = m1
        .largest_jumps
        .iter()
        .map(|j| (j.size, j.time_s, j.line))
        .collect();
    assert_eq!(
        largest,
        [
            (2, 1.0, 4),
            (1, 0.0, 2),
            (1, 0.5, 3),
            (1, 1.5, 5),
            (1, 2.0, 6)
        ]
    );
    // Machine 3: clocks 1, 2, 7.
    let m3 = &t.machines[2];
    assert_eq!(m3.jump_histogram, BTreeMap::from([(1, 2), (5, 1)]));
    assert_eq!(
        m3.largest_jumps[0],
        Jump {
            size: 5,
            time_s: 2.1,
            line: 4
        }
    );
    // All 18 jumps: sixteen 1s, a 2 and a 5; the 95th percentile is rank ceil(17.1) = 18.
    assert_eq!(t.jumps, dist(18, 23.0 / 18.0, 5.0, 1.0, 5.0, 5.0));
}

#[test]
fn drift_sampled_every_100_ms_from_latest_start_to_earliest_end() {
    let t = analyze_trial(&hand_trial());
    // First rows at 0, 0 and 0.1 s; last rows at 2.0, 2.25 and 2.1 s: instants 0.1 to 2.0 s.
    assert_eq!(t.series.times_s.len(), 20);
    assert_eq!(t.series.times_s[0], 0.1);
    assert_eq!(t.series.times_s[19], 2.0);
    // Worked out on paper: machine 2 always leads.
    let m1: Vec<i64> = vec![0, 0, 1, 1, 1, 1, 1, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3];
    let m3: Vec<i64> = vec![0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 3, 3, 4, 4, 5, 5, 5, 6, 6, 7];
    let neg = |v: &[i64]| v.iter().map(|d| -d).collect::<Vec<_>>();
    assert_eq!(t.series.drift[0], neg(&m1));
    assert_eq!(t.series.drift[1], vec![0; 20]);
    assert_eq!(t.series.drift[2], neg(&m3));
    let largest: Vec<u64> = m3.iter().map(|&d| d as u64).collect();
    assert_eq!(t.series.largest, largest);
    let figures = |max, mean, last| Some(DriftFigures { max, mean, last });
    assert_eq!(t.machines[0].drift, figures(3, 31.0 / 20.0, 3));
    assert_eq!(t.machines[1].drift, figures(0, 0.0, 0));
    assert_eq!(t.machines[2].drift, figures(7, 3.3, 7));
    assert_eq!(t.drift, figures(7, 3.3, 7));
}

#[test]
fn latency_matches_receives_to_sends_across_logs() {
    let t = analyze_trial(&hand_trial());
    // Machine 1 received 2's seq 1 (sent 0.5 s) at 1.0 s and seq 2 (sent 0.75 s) at 1.5 s; its row
    // at 1.0 s came between the second send and its receive.
    assert_eq!(
        t.machines[0].latency_ms,
        dist(2, 625.0, 750.0, 500.0, 750.0, 750.0)
    );
    assert_eq!(t.machines[0].wait_ticks, dist(2, 0.5, 1.0, 0.0, 1.0, 1.0));
    // Machine 2: 1's seq 1 after 500 ms (its 0.75 s row between), the broadcast after 250 ms.
    assert_eq!(
        t.machines[1].latency_ms,
        dist(2, 375.0, 500.0, 250.0, 500.0, 500.0)
    );
    assert_eq!(t.machines[1].wait_ticks, dist(2, 0.5, 1.0, 0.0, 1.0, 1.0));
    // Machine 3: the broadcast after 100 ms.
    assert_eq!(
        t.machines[2].latency_ms,
        dist(1, 100.0, 100.0, 100.0, 100.0, 100.0)
    );
    // Pooled: 100, 250, 500, 500, 750 ms.
    assert_eq!(t.latency_ms, dist(5, 420.0, 750.0, 500.0, 750.0, 750.0));
    assert_eq!(t.wait_ticks, dist(5, 0.4, 1.0, 0.0, 1.0, 1.0));
    assert!(t.machines.iter().all(|m| m.unmatched_receives == 0));
}

#[test]
fn a_receive_without_its_send_is_counted_unmatched() {
    let mut trial = hand_trial();
    // Machine 2's sends are in no log: machine 1's two receives cannot be matched.
    trial.machines[1].records.retain(|r| r.event != Send);
    let t = analyze_trial(&trial);
    assert_eq!(t.machines[0].unmatched_receives, 2);
    assert_eq!(t.machines[0].latency_ms, None);
    assert_eq!(t.figures().unmatched_receives, Some(2.0));
}

#[test]
fn queue_growth_is_the_least_squares_slope_in_messages_per_minute() {
    let rows: Vec<Record> = (0..4)
        .map(|k| {
            msg(
                row(1, Receive, k * 1000, k + 1, k as u32),
                Some(2),
                0,
                k as u32,
            )
        })
        .collect();
    let trial = TrialInput {
        start_us: T0,
        machines: vec![machine(1, 1.0, rows)],
        ..TrialInput::default()
    };
    let q = analyze_trial(&trial).machines[0].queue;
    // One more message every second: 60 a minute.
    assert_eq!(
        q,
        Some(QueueFigures {
            max: 3,
            mean: 1.5,
            last: 3,
            growth_per_min: Some(60.0)
        })
    );
    // Machine 1 of the hand trial: queue 0, 0, 1, 0, 0 has no trend.
    let m1 = &analyze_trial(&hand_trial()).machines[0];
    assert_eq!(m1.queue.and_then(|q| q.growth_per_min), Some(0.0));
    assert_eq!(m1.queue.map(|q| (q.max, q.mean, q.last)), Some((1, 0.2, 0)));
}

#[test]
fn a_machine_without_rows_has_no_figures_and_takes_no_part_in_drift() {
    let mut trial = hand_trial();
    trial.machines.push(MachineInput {
        id: 4,
        problems: vec!["no summary-4.yaml".to_owned()],
        ..MachineInput::default()
    });
    let t = analyze_trial(&trial);
    let m4 = &t.machines[3];
    assert_eq!((m4.events, m4.final_clock), (0, 0));
    assert_eq!(
        (m4.jumps, m4.queue, m4.drift, m4.tick_rate),
        (None, None, None, None)
    );
    assert!(t.series.drift[3].is_empty());
    assert_eq!(t.drift.map(|s| s.max), Some(7));
    assert!(!t.complete());
    assert_eq!(t.all_problems(), ["machine 4: no summary-4.yaml"]);
    assert_eq!(m4.figures().machine_complete, Some(0.0));
}

#[test]
fn across_trials_mean_std_min_max_per_machine_and_trial() {
    let first = hand_trial();
    let mut second = hand_trial();
    second.trial = 2;
    // Machine 3 ends on clock 9 instead of 7 (its jump is 7); the drift instants end at 2.0 s,
    // before that row, so the largest drift is unchanged.
    second.machines[2].records[2].logical_clock = 9;
    let run = RunInput {
        trials: vec![first, second],
        ..RunInput::default()
    };
    let a = analyze_run(&run);
    assert_eq!(a.trials.len(), 2);
    let group = &a.machines[2];
    assert_eq!((group.id, &group.trials[..]), (3, &[1, 2][..]));
    assert!(!a.rates_differ());
    assert_eq!(
        group.figures.final_clock,
        Some(Summary {
            n: 2,
            mean: 8.0,
            std: Some(2.0f64.sqrt()),
            min: 7.0,
            max: 9.0
        })
    );
    assert_eq!(
        a.overall.jump_max.map(|s| (s.min, s.max, s.mean)),
        Some((5.0, 7.0, 6.0))
    );
    assert_eq!(
        a.overall.drift_max.map(|s| (s.mean, s.std)),
        Some((7.0, Some(0.0)))
    );
}

#[test]
fn machines_across_trials_are_grouped_by_their_rate_with_the_count_of_trials() {
    // Three trials; machine 1 runs at 2 ticks/s in trials 1 and 3 and at 5 in trial 2, the
    // others keep their rates.
    let trials: Vec<TrialInput> = (1..=3)
        .map(|k| {
            let mut t = hand_trial();
            t.trial = k;
            if k == 2 {
                t.machines[0].rate = Some(5.0);
                t.machines[0].records.truncate(2);
            }
            t
        })
        .collect();
    let a = analyze_run(&RunInput {
        trials,
        ..RunInput::default()
    });
    let groups: Vec<(u16, Option<f64>, &[u32])> = a
        .machines
        .iter()
        .map(|g| (g.id, g.rate, &g.trials[..]))
        .collect();
    assert_eq!(
        groups,
        [
            (1, Some(2.0), &[1, 3][..]),
            (1, Some(5.0), &[2][..]),
            (2, Some(4.0), &[1, 2, 3][..]),
            (3, Some(1.0), &[1, 2, 3][..]),
        ]
    );
    assert!(a.rates_differ());
    // Each group summarizes its own trials only: one rate, its own events.
    let rate = |g: usize| a.machines[g].figures.rate.map(|s| (s.n, s.min, s.max));
    assert_eq!(rate(0), Some((2, 2.0, 2.0)));
    assert_eq!(rate(1), Some((1, 5.0, 5.0)));
    assert_eq!(a.machines[1].figures.events.map(|s| s.mean), Some(2.0));
    assert_eq!(a.machines[0].figures.events.map(|s| s.mean), Some(5.0));

    // A trial that records no rate for machine 3 (no run.yaml, no summary) is a group of its
    // own, first, never mixed into a rate's.
    let mut unknown = hand_trial();
    unknown.trial = 4;
    unknown.machines[2].rate = None;
    let a = analyze_run(&RunInput {
        trials: vec![hand_trial(), unknown],
        ..RunInput::default()
    });
    let threes: Vec<(Option<f64>, &[u32])> = a
        .machines
        .iter()
        .filter(|g| g.id == 3)
        .map(|g| (g.rate, &g.trials[..]))
        .collect();
    assert_eq!(threes, [(None, &[4][..]), (Some(1.0), &[1][..])]);
}

#[test]
fn incomplete_trials_are_left_out_of_the_figures_across_trials_unless_included() {
    let first = hand_trial();
    let mut second = hand_trial();
    second.trial = 2;
    second.machines[2].records[2].logical_clock = 9;
    second.problems.push("no router.yaml".to_owned());
    let run = RunInput {
        trials: vec![first, second],
        ..RunInput::default()
    };
    let final_clock_of_3 = |a: &RunAnalysis| a.machines[2].figures.final_clock;
    let default = analyze_run(&run);
    assert_eq!(default.left_out, [2]);
    assert_eq!(default.trials.len(), 2, "the trial keeps its own figures");
    let s = final_clock_of_3(&default).unwrap();
    assert_eq!((s.n, s.mean, s.std), (1, 7.0, None));
    assert_eq!(default.overall.trial_complete.map(|s| s.n), Some(1));
    let all = analyze_run_with(&run, true);
    assert!(all.left_out.is_empty());
    let s = final_clock_of_3(&all).unwrap();
    assert_eq!((s.n, s.mean), (2, 8.0));
    assert_eq!(
        all.overall.trial_complete.map(|s| (s.n, s.mean)),
        Some((2, 0.5))
    );
}

#[test]
fn the_queue_peak_comes_from_the_summary_and_the_after_tick_figures_from_the_log() {
    let mut trial = hand_trial();
    trial.machines[0].queue_peak = Some(2);
    let t = analyze_trial(&trial);
    let m1 = t.machines[0].figures();
    // Machine 1's log shows the queue after each tick: 0, 0, 1, 0, 0.
    assert_eq!(m1.queue_peak, Some(2.0));
    assert_eq!(m1.queue_after_tick_max, Some(1.0));
    assert_eq!(m1.queue_after_tick_final, Some(0.0));
    assert_eq!(m1.queue_after_tick_growth_per_min, Some(0.0));
    // Without a summary the peak is unknown, and the trial's is the largest known.
    assert_eq!(t.machines[1].figures().queue_peak, None);
    assert_eq!(t.figures().queue_peak, Some(2.0));
    assert_eq!(t.figures().queue_after_tick_max, Some(1.0));
}

#[test]
fn run_labels_are_the_shortest_ends_of_their_paths_that_differ() {
    use std::path::PathBuf;
    let dirs: Vec<PathBuf> = [
        "no-such/logs/a/run",
        "no-such/logs/b/run",
        "no-such/x/other",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    assert_eq!(
        crate::analysis::load::suffix_labels(&dirs),
        ["a/run", "b/run", "other"]
    );
    // One directory given twice: nothing tells them apart, so each gets its whole path (and
    // `analyze` numbers the repeats).
    let twice = [PathBuf::from("no-such/r"), PathBuf::from("no-such/r")];
    assert_eq!(
        crate::analysis::load::suffix_labels(&twice),
        ["no-such/r", "no-such/r"]
    );
}

#[test]
fn same_instant_receives_count_messages_sent_at_the_receiving_tick_s_own_deadline() {
    // By the schedule, row k (from 0) of a machine at rate r is its tick due at (k + 1) / r:
    // machine 1 (2 ticks/s) at 0.5, 1.0, .. 2.5 s; machine 2 (4 ticks/s) at 0.25, .. 2.5 s;
    // machine 3 (1 tick/s) at 1, 2, 3 s. The receives and their sends' deadlines:
    // - 1 row 2 (1.5 s) takes 2's seq 1 (row 2, 0.75 s); 1 row 3 (2.0 s) takes 2's seq 2 (1.0 s);
    // - 2 row 4 (1.25 s) takes 1's seq 1 (row 1, 1.0 s);
    // - 2 row 9 (2.5 s) takes 1's broadcast seq 2 (row 4, 2.5 s): the same deadline, counted;
    // - 3 row 2 (3.0 s) takes the same broadcast (2.5 s).
    let trial = hand_trial();
    let t = analyze_trial(&trial);
    let counts: Vec<Option<f64>> = t
        .machines
        .iter()
        .map(|m| m.figures().same_instant_receives)
        .collect();
    assert_eq!(counts, [Some(0.0), Some(1.0), Some(0.0)]);
    assert_eq!(t.figures().same_instant_receives, Some(1.0));
    // A machine that skipped deadlines has rows that are not its tick numbers: unknown, and so
    // is the trial's total; the others still count.
    let mut skipped = hand_trial();
    skipped.machines[1].timing = Some(TickTiming {
        skipped: 3,
        ..TickTiming::default()
    });
    let t = analyze_trial(&skipped);
    assert_eq!(t.machines[1].figures().same_instant_receives, None);
    assert_eq!(t.machines[0].figures().same_instant_receives, Some(0.0));
    assert_eq!(t.figures().same_instant_receives, None);
    // Lateness comes from the summary, and is unknown without one.
    assert_eq!(t.machines[1].figures().tick_lateness_p99_us, Some(0.0));
    assert_eq!(t.machines[0].figures().tick_lateness_p99_us, None);
}

#[test]
fn hop_latency_comes_from_the_summary_and_is_unknown_without_messages() {
    let mut trial = hand_trial();
    trial.machines[0].timing = Some(TickTiming {
        hop_latency_us: crate::rundir::records::HopLatency {
            p50: 250.5,
            p99: 900.0,
            max: 1_000.0,
            count: 10,
            negative: 0,
        },
        ..TickTiming::default()
    });
    trial.machines[1].timing = Some(TickTiming::default());
    let t = analyze_trial(&trial);
    let hop = |m: usize| t.machines[m].figures();
    assert_eq!(hop(0).hop_latency_p50_us, Some(250.5));
    assert_eq!(hop(0).hop_latency_p99_us, Some(900.0));
    // A summary that counted no message (or none at all) leaves it unknown.
    assert_eq!(hop(1).hop_latency_p50_us, None);
    assert_eq!(hop(2).hop_latency_p50_us, None);
}
