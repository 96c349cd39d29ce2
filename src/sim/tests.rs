use std::collections::BTreeMap;

use super::*;
use crate::config::LatencyError;
use crate::core::event::EventKind;
use crate::core::machine::{MachineConfigError, tick_offset_ns};

mod pause;
mod receive_rule;
mod router;

/// The rows of the other machines that sent machine `id` a message: its sends and every
/// broadcast.
fn sends_to(records: &[Record], id: u16) -> impl Iterator<Item = &Record> {
    records.iter().filter(move |r| {
        r.machine != id
            && (r.event == EventKind::Broadcast
                || (r.event == EventKind::Send && r.peer == Some(id)))
    })
}

fn opts(rates: &[f64], seed: u64) -> SimOptions {
    SimOptions {
        names: (1..=rates.len()).map(|i| format!("m{i}")).collect(),
        rates: rates.to_vec(),
        action_range: 10,
        receive_rule: ReceiveRule::default(),
        missed_ticks: MissedTicks::default(),
        duration_ns: 10_000_000_000,
        seed,
        epoch_ns: DEFAULT_EPOCH_NS,
        latency: Latency::default(),
        tick_lateness: None,
        measured: None,
        faults: Default::default(),
    }
}

/// When each message (source, seq) was sent, in microseconds.
fn sent_at(records: &[Record]) -> BTreeMap<(u16, u32), u64> {
    records
        .iter()
        .filter(|r| matches!(r.event, EventKind::Send | EventKind::Broadcast))
        .map(|r| ((r.machine, r.seq.unwrap()), r.system_time_us))
        .collect()
}

/// A trial's records, outcome and router's books, whose every pair balances.
fn run_with_books(opts: &SimOptions) -> (Vec<Record>, SimOutcome, PairTable) {
    let mut records = Vec::new();
    let (outcome, books) = trial(opts, Default::default(), |r| records.push(*r)).unwrap();
    let n = opts.names.len() as u16;
    for source in 1..=n {
        for dest in 1..=n {
            let pair = books.books(source, dest);
            assert!(pair.balance(), "{source} -> {dest}: {pair:?}");
            assert_eq!(pair.undeliverable, 0, "{source} -> {dest}: {pair:?}");
        }
    }
    (records, outcome, books)
}

fn run(opts: &SimOptions) -> (Vec<Record>, SimOutcome) {
    let (records, outcome, _) = run_with_books(opts);
    (records, outcome)
}

#[test]
fn latency_models_read_and_print() {
    assert_eq!("fixed:0".parse(), Ok(Latency::Fixed { ns: 0 }));
    assert_eq!("250us".parse(), Ok(Latency::Fixed { ns: 250_000 }));
    assert_eq!("fixed:1.5ms".parse(), Ok(Latency::Fixed { ns: 1_500_000 }));
    assert_eq!(
        "uniform:50us:2ms".parse(),
        Ok(Latency::Uniform {
            min_ns: 50_000,
            max_ns: 2_000_000
        })
    );
    assert_eq!(
        "exp:100us:1ms".parse(),
        Ok(Latency::Exponential {
            base_ns: 100_000,
            mean_ns: 1_000_000
        })
    );
    for text in ["fixed:0", "fixed:100us", "uniform:50us:2ms", "exp:7ns:1s"] {
        assert_eq!(text.parse::<Latency>().unwrap().to_string(), text);
    }
    assert_eq!(Latency::default().to_string(), "fixed:100us");
    let text = |s: &str| s.to_owned();
    for (bad, why) in [
        ("fast", LatencyError::Model { text: text("fast") }),
        (
            "fixed:-1ms",
            LatencyError::OutOfRange { text: text("-1ms") },
        ),
        (
            "uniform:1ms",
            LatencyError::Model {
                text: text("uniform:1ms"),
            },
        ),
        (
            "exp:1ms",
            LatencyError::Model {
                text: text("exp:1ms"),
            },
        ),
        ("fixed:2h", LatencyError::Duration { text: text("2h") }),
    ] {
        assert_eq!(bad.parse::<Latency>(), Err(why), "{bad} should be refused");
    }
    assert_eq!(
        "fixed:2h".parse::<Latency>().unwrap_err().to_string(),
        "\"2h\" is not a duration such as 250us, 1.5ms or 0"
    );
    assert_eq!(
        "fixed:1h".parse::<Latency>().unwrap_err().to_string(),
        "\"1h\" is not a duration such as 250us, 1.5ms or 0"
    );
    assert_eq!(
        "fixed:3600s".parse::<Latency>().unwrap_err().to_string(),
        "\"3600s\": a latency is between 0 and one hour"
    );
    assert_eq!(
        "fast".parse::<Latency>().unwrap_err().to_string(),
        "\"fast\": a latency model is fixed:DELAY, uniform:MIN:MAX or exp:BASE:MEAN (e.g. \
         fixed:100us, uniform:50us:2ms, exp:100us:1ms)"
    );
    let e = "uniform:2ms:1ms".parse::<Latency>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "\"uniform:2ms:1ms\": the minimum is above the maximum"
    );
    assert_eq!(
        e,
        LatencyError::MinAboveMax {
            text: "uniform:2ms:1ms".into()
        }
    );
}

#[test]
fn ticks_fall_exactly_on_the_deadlines_up_to_the_end() {
    // 10 s: ticks at 1/rate, 2/rate, ..., up to and including the end (none at 0).
    let (records, outcome) = run(&opts(&[1.0, 2.5, 6.0], 1));
    let ticks: Vec<u64> = outcome.summaries.iter().map(|s| s.ticks).collect();
    assert_eq!(ticks, vec![10, 25, 60]);
    for id in 1..=3u16 {
        let rows = records.iter().filter(|r| r.machine == id).count() as u64;
        assert_eq!(rows, ticks[usize::from(id) - 1]);
    }
    let first_of_3: Vec<u64> = records
        .iter()
        .filter(|r| r.machine == 3)
        .take(3)
        .map(|r| r.system_time_us)
        .collect();
    let epoch_us = DEFAULT_EPOCH_NS / 1_000;
    // Logs show microseconds, truncated: the deadline 166,666,667 ns shows as 166,666 us.
    assert_eq!(
        first_of_3,
        vec![epoch_us + 166_666, epoch_us + 333_333, epoch_us + 500_000]
    );
}

#[test]
fn the_same_seed_gives_the_same_trial_and_another_seed_another() {
    let a = run(&opts(&[3.0, 5.0, 40.0], 42));
    let b = run(&opts(&[3.0, 5.0, 40.0], 42));
    assert_eq!(a, b);
    let c = run(&opts(&[3.0, 5.0, 40.0], 43));
    assert_ne!(a.0, c.0);
    let mut jittered = opts(&[3.0, 5.0, 40.0], 42);
    jittered.latency = Latency::Exponential {
        base_ns: 50_000,
        mean_ns: 2_000_000,
    };
    assert_eq!(run(&jittered), run(&jittered));
}

/// Every pair's books balance: sent = received + unprocessed (nothing is undeliverable on a
/// simulated network), and every receive obeys the clock rule. The router's books agree: it
/// routed what the logs sent.
fn assert_books_balance(records: &[Record], outcome: &SimOutcome, books: &PairTable, n: u16) {
    let mut sent: BTreeMap<(u16, u16), u64> = BTreeMap::new();
    let mut received: BTreeMap<(u16, u16), u64> = BTreeMap::new();
    let mut clocks = vec![0u64; usize::from(n)];
    for r in records {
        let previous = &mut clocks[usize::from(r.machine) - 1];
        match r.event {
            EventKind::Send => *sent.entry((r.machine, r.peer.unwrap())).or_default() += 1,
            EventKind::Broadcast => {
                for d in (1..=n).filter(|&d| d != r.machine) {
                    *sent.entry((r.machine, d)).or_default() += 1;
                }
            }
            EventKind::Receive => {
                *received.entry((r.peer.unwrap(), r.machine)).or_default() += 1;
                assert_eq!(r.logical_clock, (*previous).max(r.msg_clock.unwrap()) + 1);
            }
            EventKind::Internal => {}
        }
        if r.event != EventKind::Receive {
            assert_eq!(r.logical_clock, *previous + 1);
        }
        *previous = r.logical_clock;
    }
    for s in &outcome.summaries {
        for u in &s.unprocessed {
            *received.entry((u.source, s.id)).or_default() += 1;
        }
    }
    assert_eq!(sent, received);
    let delivered: BTreeMap<(u16, u16), u64> = outcome
        .router
        .pairs
        .iter()
        .map(|p| ((p.source, p.dest), p.delivered))
        .collect();
    assert_eq!(sent, delivered);
    let routed: BTreeMap<(u16, u16), u64> = (1..=n)
        .flat_map(|s| (1..=n).map(move |d| (s, d)))
        .map(|(s, d)| ((s, d), books.books(s, d).sent))
        .filter(|&(_, count)| count > 0)
        .collect();
    assert_eq!(sent, routed);
}

#[test]
fn books_balance_and_clock_rules_hold() {
    for (rates, latency) in [
        (vec![1.0, 6.0, 3.0], Latency::default()),
        (vec![0.5, 60.0, 60.0], Latency::Fixed { ns: 0 }),
        (
            vec![2.0, 3.0, 4.0, 5.0, 6.0],
            Latency::Uniform {
                min_ns: 0,
                max_ns: 900_000_000,
            },
        ),
    ] {
        let mut o = opts(&rates, 7);
        o.latency = latency;
        let (records, outcome, books) = run_with_books(&o);
        assert!(!outcome.router.pairs.is_empty());
        assert_books_balance(&records, &outcome, &books, rates.len() as u16);
    }
}

#[test]
fn a_message_arrives_no_sooner_than_the_latency() {
    let mut o = opts(&[20.0, 20.0, 20.0], 3);
    o.latency = Latency::Fixed { ns: 120_000_000 };
    let (records, _) = run(&o);
    let sent_at = sent_at(&records);
    let mut receives = 0;
    for r in records.iter().filter(|r| r.event == EventKind::Receive) {
        let sent = sent_at[&(r.peer.unwrap(), r.seq.unwrap())];
        assert!(r.system_time_us >= sent + 120_000, "{r:?} sent at {sent}");
        receives += 1;
    }
    assert!(receives > 100);
}

#[test]
fn a_slow_machine_among_fast_ones_builds_a_queue() {
    // Machine 1 serves 1 message a second; the others send it about 0.2 * 6 each a second.
    let (_, outcome) = run(&SimOptions {
        duration_ns: 60_000_000_000,
        ..opts(&[1.0, 6.0, 6.0], 11)
    });
    let slow = &outcome.summaries[0];
    assert_eq!(slow.ticks, 60);
    // Its first tick is at 1 s, after six ticks of each peer: a message is waiting at every tick.
    assert_eq!(slow.events["receive"], 60);
    assert!(slow.unprocessed.len() > 60, "{}", slow.unprocessed.len());
    assert!(outcome.summaries[1].queue_peak <= 3);
}

#[test]
fn bad_machine_settings_are_refused() {
    assert_eq!(
        simulate(&opts(&[1.0], 1), |_| {}).unwrap_err(),
        SimError::Machine(MachineConfigError::Machines(1))
    );
    let mut o = opts(&[1.0, 2.0], 1);
    o.rates = vec![1.0];
    assert_eq!(
        simulate(&o, |_| {}).unwrap_err(),
        SimError::Machine(MachineConfigError::Rate(0.0))
    );
}

#[test]
fn a_message_arriving_on_a_tick_is_there_for_that_tick_whichever_machine_sent_it() {
    // Every machine ticks each whole second and every message takes exactly one second, so each
    // arrives on a tick of its receiver: at equal times deliveries come first, for every pair.
    let mut o = opts(&[1.0, 1.0, 1.0], 4);
    o.duration_ns = 60_000_000_000;
    o.latency = Latency::Fixed { ns: 1_000_000_000 };
    let (records, _) = run(&o);
    let sent_at = sent_at(&records);
    let mut on_arrival: BTreeMap<(u16, u16), u32> = BTreeMap::new();
    for r in records.iter().filter(|r| r.event == EventKind::Receive) {
        let source = r.peer.unwrap();
        let waited = r.system_time_us - sent_at[&(source, r.seq.unwrap())];
        assert!(waited >= 1_000_000, "{r:?}");
        if waited == 1_000_000 {
            *on_arrival.entry((source, r.machine)).or_default() += 1;
        }
    }
    let pairs: Vec<(u16, u16)> = on_arrival.keys().copied().collect();
    assert_eq!(pairs, [(1, 2), (1, 3), (2, 1), (2, 3), (3, 1), (3, 2)]);
}

#[test]
fn a_machine_at_rate_r_for_t_seconds_takes_exactly_floor_r_t_ticks() {
    // (rates, seconds, ⌊r·T⌋ for each): the tick at the end counts, there is none at the start.
    for (rates, secs, expected) in [
        ([1.0, 3.0, 0.5], 20, [20, 60, 10]),
        ([0.5, 1000.0, 3.0], 3, [1, 3000, 9]),
        ([2.5, 0.7, 7.0], 10, [25, 7, 70]),
    ] {
        let (records, outcome) = run(&SimOptions {
            duration_ns: secs * 1_000_000_000,
            ..opts(&rates, 5)
        });
        for (i, s) in outcome.summaries.iter().enumerate() {
            assert_eq!(s.ticks, expected[i], "rate {}", rates[i]);
            assert_eq!(s.ticks_skipped, 0);
            let rows: Vec<&Record> = records.iter().filter(|r| r.machine == s.id).collect();
            assert_eq!(rows.len() as u64, expected[i]);
            // The first tick is one period after the start, the last at most at the end.
            let first = DEFAULT_EPOCH_NS + crate::core::machine::tick_offset_ns(rates[i], 1);
            assert_eq!(rows[0].system_time_us, first / 1_000, "rate {}", rates[i]);
            let end_us = (DEFAULT_EPOCH_NS + secs * 1_000_000_000) / 1_000;
            assert!(rows.last().unwrap().system_time_us <= end_us);
        }
    }
}

#[test]
fn late_ticks_run_after_their_deadlines_and_still_every_one_due_by_the_end() {
    // Each tick 1 ms late: the same ⌊r·T⌋ ticks (the last, due at the end, runs 1 ms past it),
    // each row 1 ms after its deadline, and the summary says so.
    let late = SimOptions {
        tick_lateness: Some(Latency::Fixed { ns: 1_000_000 }),
        ..opts(&[1.0, 2.5, 6.0], 1)
    };
    let (records, outcome) = run(&late);
    let ticks: Vec<u64> = outcome.summaries.iter().map(|s| s.ticks).collect();
    assert_eq!(ticks, vec![10, 25, 60]);
    let epoch_us = DEFAULT_EPOCH_NS / 1_000;
    let first_of_3: Vec<u64> = records
        .iter()
        .filter(|r| r.machine == 3)
        .take(3)
        .map(|r| r.system_time_us)
        .collect();
    assert_eq!(
        first_of_3,
        vec![epoch_us + 167_666, epoch_us + 334_333, epoch_us + 501_000]
    );
    let last_of_1 = records.iter().rfind(|r| r.machine == 1).unwrap();
    assert_eq!(last_of_1.system_time_us, epoch_us + 10_001_000);
    for s in &outcome.summaries {
        assert_eq!(s.tick_lateness_us.p50, 1000.0, "machine {}", s.id);
        assert_eq!(s.tick_lateness_us.max, 1000.0, "machine {}", s.id);
    }
    // A random lateness: every tick at or after its deadline, each machine's rows in time
    // order, the same trial for the same seed, and the books still balance.
    let random = SimOptions {
        tick_lateness: Some(Latency::Exponential {
            base_ns: 20_000,
            mean_ns: 300_000,
        }),
        ..opts(&[1.0, 2.5, 6.0], 4)
    };
    let (records, outcome, books) = run_with_books(&random);
    assert_books_balance(&records, &outcome, &books, 3);
    for id in 1..=3u16 {
        let rate = random.rates[usize::from(id) - 1];
        let rows: Vec<&Record> = records.iter().filter(|r| r.machine == id).collect();
        assert_eq!(rows.len() as f64, (rate * 10.0).floor());
        for (k, r) in rows.iter().enumerate() {
            let deadline_us = (DEFAULT_EPOCH_NS + tick_offset_ns(rate, k as u64 + 1)) / 1_000;
            assert!(r.system_time_us >= deadline_us + 20, "machine {id} row {k}");
        }
        assert!(
            rows.windows(2)
                .all(|w| w[0].system_time_us <= w[1].system_time_us)
        );
    }
    assert_eq!(run(&random).0, records);
    // Lateness is a model of its own: the same seed without it is another trial's timing.
    assert_ne!(run(&opts(&[1.0, 2.5, 6.0], 4)).0, records);
}

#[test]
fn the_simulator_counts_every_hop_at_its_latency() {
    let mut o = opts(&[2.0, 6.0, 6.0], 3);
    o.latency = Latency::Fixed { ns: 120_000 };
    let (_, outcome) = run(&o);
    for s in &outcome.summaries {
        let hops = s.hop_latency_ns.as_ref().unwrap();
        let queued = s.events["receive"] + s.unprocessed.len() as u64;
        assert_eq!(
            (hops.count(), hops.max()),
            (queued, 120_000),
            "machine {}",
            s.id
        );
        assert_eq!(s.hop_latency_us.count, queued);
        // 120 µs is in the bucket [118,784, 120,832) ns, whose middle is 119.808 µs.
        assert_eq!(
            (s.hop_latency_us.p50, s.hop_latency_us.negative),
            (119.8, 0)
        );
    }
}

#[test]
fn measured_timing_replays_for_a_seed_and_takes_the_models_place() {
    use crate::core::histogram::{Empirical, Histogram};
    let mut hops = Histogram::default();
    let mut late = Histogram::default();
    for v in 0..1_000u64 {
        hops.record(200_000 + v * 700);
        late.record(20_000 + v * 90);
    }
    let mut o = opts(&[2.0, 6.0, 6.0], 8);
    o.measured = Some(MeasuredTiming {
        hop_latency: Empirical::new(&hops).unwrap(),
        tick_lateness: Empirical::new(&late).unwrap(),
    });
    let (records, outcome) = run(&o);
    assert_eq!(run(&o), (records.clone(), outcome.clone()));
    // Every hop and every tick's lateness lies within the measured ranges.
    for s in &outcome.summaries {
        let h = s.hop_latency_ns.as_ref().unwrap();
        assert!(h.count() > 0 && h.max() <= hops.max(), "machine {}", s.id);
        assert!(h.percentile(1.0) >= 196_000, "machine {}", s.id);
        let l = s.tick_lateness_ns.as_ref().unwrap();
        assert!(
            l.percentile(1.0) >= 19_000 && l.max() <= late.max(),
            "machine {}",
            s.id
        );
    }
    let (plain, _) = run(&opts(&[2.0, 6.0, 6.0], 8));
    assert_ne!(plain, records);
}
