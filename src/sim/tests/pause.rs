//! The `pause` fault on virtual time: a machine stopped for 3 s takes the ticks its
//! `missed_ticks` policy says when it wakes, and each caught-up tick takes only a message that had
//! arrived by its own deadline (those that reached it while it was stopped arrive when it wakes).

use super::*;
use crate::config::Fault;
use crate::core::fault::Window;

/// A network of exactly 100 µs.
const HOP_NS: u64 = 100_000;
/// Machine 2 is stopped from 1.5 s to 4.5 s of a 5 s trial.
const FROM_NS: u64 = 1_500_000_000;
const TO_NS: u64 = 4_500_000_000;

/// Machines at 1.5, 2.5 and 1.6 ticks/s for 5 s, every tick of an idle machine a send (action
/// range 3), machine 2 paused for [1.5 s, 4.5 s): the trial of `tests/pause.rs`'s real run.
fn paused(policy: MissedTicks, seed: u64) -> SimOptions {
    SimOptions {
        action_range: 3,
        missed_ticks: policy,
        duration_ns: 5_000_000_000,
        latency: Latency::Fixed { ns: HOP_NS },
        faults: FaultPlan {
            faults: vec![Fault::Pause {
                machine: 2,
                window: Window::from_secs(1.5, 4.5),
            }],
        },
        ..opts(&[1.5, 2.5, 1.6], seed)
    }
}

/// When each message to machine `id` reached it: its send plus the hop, or the pause's end if
/// that falls inside the pause. By (source, seq), with the send's time.
fn arrivals_at(records: &[Record], id: u16) -> Vec<((u16, u32), u64, u64)> {
    sends_to(records, id)
        .map(|r| {
            // Sends run at deadlines or at the pause's end: whole microseconds here.
            let sent = r.system_time_us * 1_000;
            let mut arrived = sent + HOP_NS;
            if (DEFAULT_EPOCH_NS + FROM_NS..DEFAULT_EPOCH_NS + TO_NS).contains(&arrived) {
                arrived = DEFAULT_EPOCH_NS + TO_NS;
            }
            ((r.machine, r.seq.unwrap()), sent, arrived)
        })
        .collect()
}

#[test]
fn a_3_s_pause_caught_up_takes_every_missed_tick_at_the_wake_each_by_its_own_deadline() {
    const RATE: f64 = 2.5;
    let wake_us = (DEFAULT_EPOCH_NS + TO_NS) / 1_000;
    let mut caught_up_receives = 0;
    let mut held_back = 0;
    for seed in 1..=20 {
        let o = paused(MissedTicks::CatchUp, seed);
        let (records, outcome) = run(&o);
        let rows: Vec<&Record> = records.iter().filter(|r| r.machine == 2).collect();
        let s = &outcome.summaries[1];
        // ⌊2.5 × 5⌋ = 12 ticks, none skipped. Deadlines every 0.4 s: those at 1.6, 2.0, ..,
        // 4.4 s (ticks 4 to 11) fall in [1.5, 4.5) and all run at 4.5 s, 0.1 to 2.9 s late;
        // the seven due by 4.0 s run more than a period (0.4 s) late.
        assert_eq!((s.ticks, s.ticks_skipped), (12, 0), "seed {seed}");
        assert_eq!(s.ticks_late_over_one_period, 7, "seed {seed}");
        assert_eq!(rows.len(), 12);
        for (i, row) in rows.iter().enumerate() {
            let k = i as u64 + 1;
            let due_us = (DEFAULT_EPOCH_NS + tick_offset_ns(RATE, k)) / 1_000;
            let ran = if (4..=11).contains(&k) {
                wake_us
            } else {
                due_us
            };
            assert_eq!(row.system_time_us, ran, "seed {seed} tick {k}");
        }
        // Exactly what a FIFO queue of these arrivals gives each tick by its deadline.
        let arrivals = arrivals_at(&records, 2);
        let mut taken = 0;
        for (i, row) in rows.iter().enumerate() {
            let k = i as u64 + 1;
            let deadline = DEFAULT_EPOCH_NS + tick_offset_ns(RATE, k);
            let arrived = arrivals.iter().filter(|a| a.2 <= deadline).count();
            assert_eq!(
                row.event == EventKind::Receive,
                arrived > taken,
                "seed {seed} tick {k}"
            );
            if row.event == EventKind::Receive {
                let message = (row.peer.unwrap(), row.seq.unwrap());
                let (_, sent, at) = *arrivals.iter().find(|a| a.0 == message).unwrap();
                assert!(at <= deadline, "seed {seed} tick {k}: {message:?}");
                taken += 1;
                if (4..=11).contains(&k) {
                    // Caught up: a message that had reached the machine before it stopped.
                    assert!(sent + HOP_NS < DEFAULT_EPOCH_NS + FROM_NS);
                    caught_up_receives += 1;
                }
            } else if (4..=11).contains(&k) && arrivals.len() > taken {
                // A message was waiting at the wake, but it had not arrived by this deadline.
                held_back += 1;
            }
        }
        assert_eq!(s.events["receive"], taken as u64);
        // Byte-identical for a seed.
        assert_eq!(run(&o), (records, outcome), "seed {seed}");
    }
    // Both halves of the rule happened: caught-up ticks took what was queued before the
    // pause, and drew actions although messages that came during it were waiting.
    assert!(
        caught_up_receives > 0 && held_back > 20,
        "{caught_up_receives} {held_back}"
    );
}

#[test]
fn a_3_s_pause_skipped_drops_every_missed_deadline_but_the_last() {
    let wake_us = (DEFAULT_EPOCH_NS + TO_NS) / 1_000;
    let (records, outcome) = run(&paused(MissedTicks::Skip, 1));
    let s = &outcome.summaries[1];
    // At 4.5 s the last deadline due is tick 11 (4.4 s): ticks 4 to 10 are dropped, 11 runs
    // 0.1 s late, so 5 ticks plus 7 skipped make the 12 due.
    assert_eq!((s.ticks, s.ticks_skipped), (5, 7));
    assert_eq!(s.ticks_late_over_one_period, 0);
    let times: Vec<u64> = records
        .iter()
        .filter(|r| r.machine == 2)
        .map(|r| r.system_time_us - DEFAULT_EPOCH_NS / 1_000)
        .collect();
    assert_eq!(
        times,
        [
            400_000,
            800_000,
            1_200_000,
            wake_us - DEFAULT_EPOCH_NS / 1_000,
            4_800_000
        ]
    );
    // The others never stop.
    for other in [&outcome.summaries[0], &outcome.summaries[2]] {
        assert_eq!(
            (other.ticks_skipped, other.ticks_late_over_one_period),
            (0, 0)
        );
    }
    assert_eq!(
        (outcome.summaries[0].ticks, outcome.summaries[2].ticks),
        (7, 8)
    );
}

#[test]
fn a_message_to_a_paused_machine_arrives_when_it_wakes() {
    let (records, outcome) = run(&paused(MissedTicks::CatchUp, 3));
    let s = &outcome.summaries[1];
    let arrivals = arrivals_at(&records, 2);
    let during = arrivals
        .iter()
        .filter(|a| a.2 == DEFAULT_EPOCH_NS + TO_NS)
        .count();
    assert!(during > 0);
    // Its hop latency is measured to the wake: the longest is from the earliest send inside
    // the window (within the histogram's 1.6%).
    let first = arrivals
        .iter()
        .filter(|a| a.2 == DEFAULT_EPOCH_NS + TO_NS)
        .map(|a| a.1)
        .min()
        .unwrap();
    let longest = (DEFAULT_EPOCH_NS + TO_NS - first) as f64 / 1e3;
    assert!(
        (s.hop_latency_us.max - longest).abs() <= longest * 0.016,
        "{} {longest}",
        s.hop_latency_us.max
    );
}
