//! Pins the model machine to the rules of the issue: the Lamport clock at every event, the action
//! draw and its routing, seqs, absolute deadlines, configuration errors, incoming frames and stats.
//! Every test is deterministic: seeds are fixed and time is an argument.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use super::*;
use crate::core::event::{EventKind, Record};
use crate::core::fault::ClockSkew;
use crate::core::route;
use crate::core::seed::derive_seed;
use crate::core::wire::{self, Header, Kind, Parsed};

/// An arbitrary start time, far from 0 so that time arithmetic errors show.
const T0: u64 = 1_700_000_000_123_456_789;

fn config(id: u16, machines: u16, action_range: u32, seed: u64) -> MachineConfig {
    MachineConfig {
        id,
        machines,
        action_range,
        rate: 10.0,
        seed,
        start_ns: T0,
    }
}

fn machine(id: u16, machines: u16, seed: u64) -> Machine {
    Machine::new(config(id, machines, DEFAULT_ACTION_RANGE, seed)).expect("valid config")
}

fn message(source: u16, seq: u32, clock: u64) -> Message {
    Message {
        source,
        seq,
        clock,
        sent_ns: T0 - 1_000,
    }
}

/// One tick at `now`, returning its record and the frame it sent, if any.
fn step(m: &mut Machine, now: u64) -> (Record, Option<Header>) {
    m.tick(now);
    let record = m.poll_event().expect("every tick logs one record");
    assert_eq!(m.poll_event(), None, "a tick logs exactly one record");
    let header = m.poll_transmit();
    assert_eq!(m.poll_transmit(), None, "a tick sends at most one frame");
    (record, header)
}

fn receive_record(id: u16, now: u64, clock: u64, msg: Message, queue_len: u32) -> Record {
    Record {
        machine: id,
        event: EventKind::Receive,
        system_time_us: now / 1_000,
        logical_clock: clock,
        queue_len,
        peer: Some(msg.source),
        msg_clock: Some(msg.clock),
        seq: Some(msg.seq),
    }
}

// ---- receive -------------------------------------------------------------------------------

#[test]
fn receive_jumps_past_a_later_message() {
    let mut m = machine(1, 3, 7);
    m.handle_message(message(2, 1, 1));
    step(&mut m, T0);
    assert_eq!(m.clock(), 2);

    let msg = message(3, 9, 10);
    m.handle_message(msg);
    let (record, header) = step(&mut m, T0 + 5_000);
    assert_eq!(m.clock(), 11);
    assert_eq!(record, receive_record(1, T0 + 5_000, 11, msg, 0));
    assert_eq!(header, None);
}

#[test]
fn receive_of_an_earlier_message_rises_by_one() {
    let mut m = machine(2, 3, 7);
    m.handle_message(message(1, 1, 19));
    step(&mut m, T0);
    assert_eq!(m.clock(), 20);

    let msg = message(3, 4, 5);
    m.handle_message(msg);
    let (record, _) = step(&mut m, T0 + 1);
    assert_eq!(m.clock(), 21);
    assert_eq!(record, receive_record(2, T0 + 1, 21, msg, 0));
}

#[test]
fn queued_messages_are_received_in_arrival_order() {
    let mut m = machine(3, 3, 7);
    let msgs = [
        message(1, 1, 7),
        message(2, 1, 3),
        message(1, 2, 30),
        message(2, 2, 1),
    ];
    for msg in msgs {
        m.handle_message(msg);
    }
    assert_eq!(m.queued().copied().collect::<Vec<_>>(), msgs);
    let expected_clocks = [8, 9, 31, 32];
    for (i, (msg, clock)) in msgs.into_iter().zip(expected_clocks).enumerate() {
        let now = T0 + i as u64 * 1_000;
        let (record, header) = step(&mut m, now);
        let left = (msgs.len() - 1 - i) as u32;
        assert_eq!(record, receive_record(3, now, clock, msg, left));
        assert_eq!(header, None);
        assert_eq!(m.queue_len(), left as usize);
    }
}

#[test]
fn a_receive_never_lowers_the_clock() {
    let mut m = machine(1, 3, 11);
    let mut stamps = Xoshiro256PlusPlus::seed_from_u64(99);
    for i in 0..5_000u64 {
        let before = m.clock();
        let stamp = stamps.random_range(0..=before + 20);
        m.handle_message(message(2, i as u32 + 1, stamp));
        let (record, _) = step(&mut m, T0 + i);
        assert_eq!(m.clock(), before.max(stamp) + 1);
        assert_eq!(record.logical_clock, m.clock());
    }
}

// ---- send and the action draw ----------------------------------------------------------------

#[test]
fn every_idle_tick_raises_the_clock_by_exactly_one() {
    for (id, machines, range) in [(1, 3, 10), (3, 3, 3), (2, 2, 2), (4, 5, 10)] {
        let mut m = Machine::new(config(id, machines, range, 5)).expect("valid config");
        for i in 0..10_000u64 {
            let before = m.clock();
            let (record, header) = step(&mut m, T0 + i);
            assert_eq!(m.clock(), before + 1);
            assert_eq!(record.logical_clock, before + 1);
            assert_eq!(record.queue_len, 0);
            if let Some(header) = header {
                assert_eq!(header.logical_clock, before + 1);
            }
        }
    }
}

#[test]
fn the_first_send_carries_exact_fields() {
    let mut m = machine(2, 3, 1);
    let mut now = m.poll_timeout();
    let (record, header) = loop {
        let before = m.clock();
        assert_eq!(m.handle_timeout(now), 1);
        let record = m.poll_event().expect("a record per tick");
        assert_eq!(m.clock(), before + 1);
        if let Some(header) = m.poll_transmit() {
            break (record, header);
        }
        assert_eq!(record.event, EventKind::Internal);
        now = m.poll_timeout();
    };
    // Seed 1 at machine 2 draws internal events on ticks 1-2 and r = 2 on tick 3 (at 300 ms).
    assert_eq!(now, T0 + 300_000_000);
    let expected = Header {
        kind: Kind::SendSecond,
        source: 2,
        dest: 0,
        seq: 1,
        payload_len: 0,
        logical_clock: 3,
        system_time_ns: T0 + 300_000_000,
    };
    assert_eq!(header, expected);
    assert_eq!(
        record,
        Record {
            machine: 2,
            event: EventKind::Send,
            system_time_us: (T0 + 300_000_000) / 1_000,
            logical_clock: 3,
            queue_len: 0,
            peer: Some(3),
            msg_clock: Some(3),
            seq: Some(1),
        }
    );
}

/// What one tick of a machine did, in the terms of the issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    /// Sent to the `r`-th other machine (1-based).
    SendToOther(u16),
    Broadcast,
    Internal,
}

/// Checks one idle tick's record and frame against each other and the routing rule, and says
/// what it was.
fn classify(m: &Machine, before: u64, now: u64, record: Record, header: Option<Header>) -> Action {
    let cfg = *m.config();
    let Some(h) = header else {
        assert_eq!(record.event, EventKind::Internal);
        assert_eq!(
            (record.peer, record.msg_clock, record.seq),
            (None, None, None)
        );
        return Action::Internal;
    };
    assert_eq!(h.source, cfg.id);
    assert_eq!(h.payload_len, 0);
    assert_eq!(h.logical_clock, before + 1);
    assert_eq!(h.system_time_ns, now);
    assert_eq!(record.msg_clock, Some(h.logical_clock));
    assert_eq!(record.seq, Some(h.seq));
    let targets: Vec<u16> = route::targets(h.kind, h.source, h.dest, cfg.machines)
        .expect("a machine only sends frames that route")
        .iter(cfg.machines)
        .collect();
    let others: Vec<u16> = (1..=cfg.machines).filter(|&i| i != cfg.id).collect();
    if h.kind == Kind::Broadcast {
        assert_eq!(record.event, EventKind::Broadcast);
        assert_eq!(record.peer, None);
        assert_eq!(h.dest, 0);
        assert_eq!(targets, others);
        return Action::Broadcast;
    }
    assert_eq!(record.event, EventKind::Send);
    let peer = record.peer.expect("a send names its peer");
    assert_eq!(targets, vec![peer]);
    let r = others
        .iter()
        .position(|&o| o == peer)
        .expect("peer is an other")
        + 1;
    let (kind, dest) = match r {
        1 => (Kind::SendFirst, 0),
        2 => (Kind::SendSecond, 0),
        _ => (Kind::SendTo, peer),
    };
    assert_eq!((h.kind, h.dest), (kind, dest), "r = {r}");
    Action::SendToOther(r as u16)
}

/// Runs `ticks` idle ticks and counts the actions.
fn count_actions(id: u16, machines: u16, range: u32, seed: u64, ticks: u64) -> Vec<(Action, u64)> {
    let mut m = Machine::new(config(id, machines, range, seed)).expect("valid config");
    let mut counts = BTreeMap::new();
    for i in 0..ticks {
        let before = m.clock();
        let now = T0 + i * 1_000;
        let (record, header) = step(&mut m, now);
        *counts
            .entry(classify(&m, before, now, record, header))
            .or_insert(0) += 1;
    }
    let stats = m.stats();
    assert_eq!(stats.ticks, ticks);
    assert_eq!(stats.events.iter().sum::<u64>(), ticks);
    counts.into_iter().collect()
}

#[test]
fn action_shares_with_three_machines_are_10_10_10_70() {
    let ticks = 100_000;
    let counts = count_actions(1, 3, 10, 2024, ticks);
    let share = |a: Action| counts.iter().find(|c| c.0 == a).map_or(0, |c| c.1);
    // Binomial standard deviations are 95 (p = 0.1) and 145 (p = 0.7): the bounds are ~5 sigma.
    for a in [
        Action::SendToOther(1),
        Action::SendToOther(2),
        Action::Broadcast,
    ] {
        assert!((9_500..=10_500).contains(&share(a)), "{a:?}: {counts:?}");
    }
    assert!(
        (69_300..=70_700).contains(&share(Action::Internal)),
        "{counts:?}"
    );
    assert_eq!(
        counts,
        vec![
            (Action::SendToOther(1), 9_926),
            (Action::SendToOther(2), 9_910),
            (Action::Broadcast, 10_015),
            (Action::Internal, 70_149),
        ]
    );
}

#[test]
fn with_five_machines_send_to_reaches_the_third_and_fourth_other() {
    for id in 1..=5 {
        let counts = count_actions(id, 5, 10, 77, 20_000);
        let kinds: Vec<Action> = counts.iter().map(|c| c.0).collect();
        assert_eq!(
            kinds,
            vec![
                Action::SendToOther(1),
                Action::SendToOther(2),
                Action::SendToOther(3),
                Action::SendToOther(4),
                Action::Broadcast,
                Action::Internal,
            ],
            "machine {id}"
        );
        for (action, n) in &counts {
            let (lo, hi) = if *action == Action::Internal {
                (9_600, 10_400)
            } else {
                (1_800, 2_200)
            };
            assert!((lo..=hi).contains(n), "machine {id}: {counts:?}");
        }
    }
}

#[test]
fn when_the_range_equals_the_machines_there_are_no_internal_events() {
    let counts = count_actions(2, 3, 3, 8, 3_000);
    assert_eq!(
        counts.iter().map(|c| c.0).collect::<Vec<_>>(),
        [
            Action::SendToOther(1),
            Action::SendToOther(2),
            Action::Broadcast
        ]
    );
    let counts = count_actions(2, 2, 2, 8, 3_000);
    assert_eq!(
        counts.iter().map(|c| c.0).collect::<Vec<_>>(),
        [Action::SendToOther(1), Action::Broadcast]
    );
}

#[test]
fn seqs_count_every_data_frame_from_one() {
    let mut m = machine(3, 3, 4);
    let mut seqs = Vec::new();
    for i in 0..10_000u64 {
        if i % 5 == 0 {
            m.handle_message(message(1, i as u32 + 1, i));
        }
        let (record, header) = step(&mut m, T0 + i);
        if let Some(h) = header {
            assert_eq!(record.seq, Some(h.seq));
            seqs.push(h.seq);
        }
    }
    assert!(seqs.len() > 2_000, "{} sends", seqs.len());
    assert_eq!(seqs, (1..=seqs.len() as u32).collect::<Vec<_>>());
    assert_eq!(m.frames_sent() as usize, seqs.len());
}

// ---- determinism -----------------------------------------------------------------------------

/// The rules of the issue written out plainly, drawing from the same generator: an oracle.
struct Model {
    id: u16,
    machines: u16,
    range: u32,
    rng: Xoshiro256PlusPlus,
    clock: u64,
    queue: VecDeque<Message>,
    seq: u32,
}

impl Model {
    fn tick(&mut self, now: u64) -> (Record, Option<Header>) {
        if let Some(msg) = self.queue.pop_front() {
            self.clock = self.clock.max(msg.clock) + 1;
            let left = self.queue.len() as u32;
            return (receive_record(self.id, now, self.clock, msg, left), None);
        }
        let r = self.rng.random_range(1..=self.range);
        self.clock += 1;
        let mut record = Record {
            machine: self.id,
            event: EventKind::Internal,
            system_time_us: now / 1_000,
            logical_clock: self.clock,
            queue_len: 0,
            peer: None,
            msg_clock: None,
            seq: None,
        };
        let n = u32::from(self.machines);
        if r > n {
            return (record, None);
        }
        let others: Vec<u16> = (1..=self.machines).filter(|&i| i != self.id).collect();
        let (kind, dest, peer) = match r {
            _ if r == n => (Kind::Broadcast, 0, None),
            1 => (Kind::SendFirst, 0, Some(others[0])),
            2 => (Kind::SendSecond, 0, Some(others[1])),
            _ => (
                Kind::SendTo,
                others[r as usize - 1],
                Some(others[r as usize - 1]),
            ),
        };
        self.seq += 1;
        record.event = if peer.is_some() {
            EventKind::Send
        } else {
            EventKind::Broadcast
        };
        record.peer = peer;
        record.msg_clock = Some(self.clock);
        record.seq = Some(self.seq);
        let header = Header::data(kind, self.id, dest, self.seq, self.clock, now);
        (record, Some(header))
    }
}

/// 10,000 ticks with a message fed in before every third tick, as (records, headers).
fn run(id: u16, machines: u16, range: u32, seed: u64) -> (Vec<Record>, Vec<Header>) {
    let mut m = Machine::new(config(id, machines, range, seed)).expect("valid config");
    let (mut records, mut headers) = (Vec::new(), Vec::new());
    for i in 0..10_000u64 {
        if i % 3 == 0 {
            m.handle_message(message(
                1 + (i % 2) as u16,
                i as u32 + 1,
                1 + (i * 37) % 9_000,
            ));
        }
        let (record, header) = step(&mut m, T0 + i * 100_000);
        records.push(record);
        headers.extend(header);
    }
    (records, headers)
}

#[test]
fn the_machine_follows_the_rules_written_out() {
    for (id, machines, range) in [
        (1, 3, 10),
        (2, 3, 10),
        (3, 3, 10),
        (4, 5, 10),
        (2, 5, 5),
        (7, 8, 20),
    ] {
        let seed = derive_seed(3, id.into());
        let mut model = Model {
            id,
            machines,
            range,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            clock: 0,
            queue: VecDeque::new(),
            seq: 0,
        };
        let (records, headers) = run(id, machines, range, seed);
        let mut sent = headers.into_iter();
        for (i, record) in records.into_iter().enumerate() {
            let i = i as u64;
            if i % 3 == 0 {
                model.queue.push_back(message(
                    1 + (i % 2) as u16,
                    i as u32 + 1,
                    1 + (i * 37) % 9_000,
                ));
            }
            let (expected, header) = model.tick(T0 + i * 100_000);
            assert_eq!(record, expected, "machine {id}/{machines}, tick {i}");
            if header.is_some() {
                assert_eq!(sent.next(), header, "machine {id}/{machines}, tick {i}");
            }
        }
        assert_eq!(sent.next(), None);
    }
}

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_another() {
    let first = run(2, 3, 10, 12_345);
    assert_eq!(run(2, 3, 10, 12_345), first);
    assert!(first.1.len() > 1_000);
    let other = run(2, 3, 10, 12_346);
    assert_ne!(other.0, first.0);
    assert_ne!(other.1, first.1);
}

#[test]
fn derived_seeds_are_distinct_and_pure() {
    for master in [0, 1, 42, u64::MAX] {
        let seeds: BTreeSet<u64> = (1..=1_000).map(|id| derive_seed(master, id)).collect();
        assert_eq!(seeds.len(), 1_000, "master {master}");
        assert!(!seeds.contains(&master));
    }
    assert_eq!(derive_seed(42, 1), derive_seed(42, 1));
    assert_ne!(derive_seed(42, 1), derive_seed(43, 1));
    // Worked out outside Rust (Python, wrapping 64-bit arithmetic) from the steps of derive_seed.
    assert_eq!(derive_seed(42, 1), 13_837_796_820_679_303_446);
}

// ---- deadlines -------------------------------------------------------------------------------

fn at_rate(rate: f64) -> Machine {
    Machine::new(MachineConfig {
        rate,
        ..config(1, 3, 10, 1)
    })
    .expect("valid config")
}

#[test]
fn deadlines_at_rate_three_are_rounded_thirds_of_a_second() {
    let mut m = at_rate(3.0);
    assert_eq!(m.handle_timeout(T0), 0, "no tick at the start");
    let mut deadlines = vec![m.poll_timeout()];
    for _ in 0..3 {
        let due = m.poll_timeout();
        assert_eq!(m.handle_timeout(due - 1), 0, "not early");
        assert_eq!(m.handle_timeout(due), 1);
        deadlines.push(m.poll_timeout());
    }
    assert_eq!(
        deadlines,
        [
            T0 + 333_333_333,
            T0 + 666_666_667,
            T0 + 1_000_000_000,
            T0 + 1_333_333_333
        ]
    );
}

/// Drives `m` through every deadline up to `start + secs`, each tick exactly on time; the ticks taken.
fn ticks_in(m: &mut Machine, secs: u64) -> u64 {
    let end = T0 + secs * 1_000_000_000;
    let mut taken = 0;
    while m.poll_timeout() <= end {
        taken += m.handle_timeout(m.poll_timeout());
    }
    assert_eq!(m.handle_timeout(end), 0);
    taken
}

#[test]
fn a_machine_at_rate_r_for_t_seconds_takes_exactly_floor_r_t_ticks() {
    // (rate, seconds, ⌊r·T⌋): the tick at T counts, there is none at 0.
    for (rate, secs, expected) in [
        (1.0, 60, 60),
        (3.0, 20, 60),
        (0.5, 3, 1),
        (0.5, 4, 2),
        (1000.0, 2, 2000),
        (2.5, 3, 7),
        (0.7, 10, 7),
        (7.0, 1, 7),
    ] {
        let mut m = at_rate(rate);
        assert_eq!(m.poll_timeout(), T0 + tick_offset_ns(rate, 1), "{rate}");
        assert_eq!(ticks_in(&mut m, secs), expected, "rate {rate}, {secs} s");
        assert_eq!(m.stats().ticks, expected);
        assert_eq!(
            ticks_due(rate, secs * 1_000_000_000),
            expected,
            "rate {rate}"
        );
    }
}

#[test]
fn the_first_tick_is_one_period_after_the_start() {
    for (rate, first) in [
        (1.0, 1_000_000_000),
        (3.0, 333_333_333),
        (0.5, 2_000_000_000),
    ] {
        let mut m = at_rate(rate);
        assert_eq!(m.poll_timeout(), T0 + first);
        assert_eq!(m.handle_timeout(T0 + first - 1), 0);
        assert_eq!(m.handle_timeout(T0 + first), 1);
        assert_eq!(m.stats().ticks, 1);
    }
}

#[test]
fn ticks_due_counts_exactly_the_rounded_deadlines() {
    for rate in [
        1.0, 3.0, 0.5, 0.7, 2.5, 6.0, 1000.0, 5000.0, 99_999.5, MAX_RATE,
    ] {
        for k in [1u64, 2, 3, 10, 59, 60, 61, 1_000, 123_457, 1_000_000_000] {
            let at = tick_offset_ns(rate, k);
            assert!(at < tick_offset_ns(rate, k + 1), "rate {rate}, k {k}");
            assert_eq!(ticks_due(rate, at), k, "rate {rate}, k {k}");
            assert_eq!(ticks_due(rate, at - 1), k - 1, "rate {rate}, k {k}");
        }
    }
    assert_eq!(ticks_due(3.0, 0), 0);
    assert_eq!(ticks_due(0.0, u64::MAX), 0);
    assert_eq!(ticks_due(f64::NAN, 5), 0);
}

#[test]
fn a_stalled_machine_catches_up_tick_by_tick_each_at_its_own_time() {
    let mut m = at_rate(3.0);
    // Ticks 1-4 are due by T0 + 1_333_333_333; tick 5 is due at T0 + 1_666_666_667.
    let woke = T0 + 1_500_000_000;
    let mut now = woke;
    while m.handle_timeout(now) == 1 {
        now += 1_000;
    }
    assert_eq!(m.stats().ticks, 4);
    assert_eq!(m.poll_timeout(), T0 + 1_666_666_667);
    let stamps: Vec<u64> = std::iter::from_fn(|| m.poll_event())
        .map(|r| r.system_time_us)
        .collect();
    assert_eq!(
        stamps,
        [
            woke / 1_000,
            woke / 1_000 + 1,
            woke / 1_000 + 2,
            woke / 1_000 + 3
        ]
    );
    // Late by 1.17, 0.83, 0.50 s (more than the period of 0.33 s) and 0.17 s.
    let timing = m.timing();
    assert_eq!(timing.late_over_one_period, 3);
    assert_eq!(timing.skipped, 0);
    assert_eq!(timing.lateness.count(), 4);
    assert_eq!(timing.lateness.max(), woke - (T0 + 333_333_333));
    assert_eq!(m.handle_timeout(T0 + 1_666_666_666), 0);
    assert_eq!(m.handle_timeout(T0 + 1_666_666_667), 1);
    assert_eq!(m.poll_timeout(), T0 + 2_000_000_000);
}

#[test]
fn a_stalled_machine_that_skips_takes_only_the_last_due_tick_and_counts_the_rest() {
    let mut m = at_rate(3.0).with_missed_ticks(MissedTicks::Skip);
    assert_eq!(m.missed_ticks(), MissedTicks::Skip);
    let woke = T0 + 1_500_000_000;
    assert_eq!(m.handle_timeout(woke), 1);
    assert_eq!(m.handle_timeout(woke + 1_000), 0, "nothing else is due");
    assert_eq!(m.stats().ticks, 1);
    assert_eq!(m.timing().skipped, 3);
    // The tick taken is the one due at 1.33 s: 0.17 s late, less than a period.
    assert_eq!(m.timing().late_over_one_period, 0);
    assert_eq!(m.timing().lateness.max(), woke - (T0 + 1_333_333_333));
    // The schedule is unchanged: the next tick is the fifth, at 1.67 s.
    assert_eq!(m.poll_timeout(), T0 + 1_666_666_667);
    assert_eq!(m.handle_timeout(T0 + 2_000_000_000), 1);
    assert_eq!(m.timing().skipped, 4);
    // Taken + skipped is the schedule's count, as `check` expects.
    assert_eq!(
        m.stats().ticks + m.timing().skipped,
        ticks_due(3.0, 2_000_000_000)
    );
}

#[test]
fn at_a_stop_only_the_ticks_due_by_the_stop_time_are_taken() {
    let mut m = at_rate(1000.0);
    let stop = T0 + 10_000_000;
    // The stop is read 5 ms late: the 5 ticks due after it are not owed.
    let mut now = stop + 5_000_000;
    while m.handle_timeout_due_by(stop, now) == 1 {
        now += 1;
    }
    assert_eq!(m.stats().ticks, 10);
    assert_eq!(m.poll_timeout(), T0 + 11_000_000);
}

#[test]
fn lateness_percentiles_are_within_three_percent() {
    let mut l = Lateness::default();
    assert_eq!((l.percentile(50.0), l.max()), (0, 0));
    for v in 1..=1_000u64 {
        l.record(v * 1_000);
    }
    assert_eq!(l.count(), 1_000);
    assert_eq!(l.max(), 1_000_000);
    for (p, exact) in [(50.0, 500_000.0), (99.0, 990_000.0), (100.0, 1_000_000.0)] {
        let got = l.percentile(p) as f64;
        assert!(
            (got - exact).abs() <= exact * 0.03,
            "p{p}: {got} vs {exact}"
        );
    }
    let mut small = Lateness::default();
    for v in [0, 0, 5, 63] {
        small.record(v);
    }
    assert_eq!(small.percentile(50.0), 0);
    assert_eq!(small.percentile(75.0), 5);
    assert_eq!(small.percentile(100.0), 63);
    let mut huge = Lateness::default();
    huge.record(u64::MAX);
    assert_eq!(huge.percentile(50.0), u64::MAX);
}

// ---- configuration ---------------------------------------------------------------------------

/// The base configuration (machine 1 of 3, R = 10, rate 10) changed by `change`.
fn with(change: impl FnOnce(&mut MachineConfig)) -> MachineConfig {
    let mut cfg = config(1, 3, 10, 0);
    change(&mut cfg);
    cfg
}

#[test]
fn bad_configurations_are_refused_with_the_exact_error() {
    let err = |cfg: MachineConfig| Machine::new(cfg).map(|_| ()).unwrap_err();
    let cases = [
        (with(|c| c.machines = 0), MachineConfigError::Machines(0)),
        (with(|c| c.machines = 1), MachineConfigError::Machines(1)),
        (
            with(|c| c.machines = u16::MAX),
            MachineConfigError::Machines(u16::MAX),
        ),
        (
            with(|c| c.id = 0),
            MachineConfigError::Id { id: 0, machines: 3 },
        ),
        (
            with(|c| c.id = 4),
            MachineConfigError::Id { id: 4, machines: 3 },
        ),
        (
            with(|c| c.action_range = 2),
            MachineConfigError::ActionRange {
                range: 2,
                machines: 3,
            },
        ),
        (with(|c| c.rate = 0.0), MachineConfigError::Rate(0.0)),
        (with(|c| c.rate = -1.0), MachineConfigError::Rate(-1.0)),
        (
            with(|c| c.rate = MAX_RATE + 0.5),
            MachineConfigError::Rate(MAX_RATE + 0.5),
        ),
        (
            with(|c| c.rate = f64::INFINITY),
            MachineConfigError::Rate(f64::INFINITY),
        ),
        // Checks run in field order: the machine count is reported before the id.
        (
            with(|c| (c.machines, c.id) = (1, 5)),
            MachineConfigError::Machines(1),
        ),
    ];
    for (cfg, expected) in cases {
        assert_eq!(err(cfg), expected, "{cfg:?}");
    }
    // NaN is not equal to itself, so match it.
    let nan = err(with(|c| c.rate = f64::NAN));
    assert!(
        matches!(nan, MachineConfigError::Rate(r) if r.is_nan()),
        "{nan:?}"
    );
    let range = MachineConfigError::ActionRange {
        range: 2,
        machines: 3,
    };
    assert_eq!(
        range.to_string(),
        "action range 2: it must be at least the number of machines (3)"
    );
    for (e, text) in [
        (
            MachineConfigError::Machines(1),
            "1 machines: a model needs between 2 and 65534 machines".to_owned(),
        ),
        (
            MachineConfigError::Id { id: 4, machines: 3 },
            "machine id 4: ids run from 1 to 3".to_owned(),
        ),
        (
            MachineConfigError::Rate(0.0),
            format!("rate 0: {}", RateError::rule()),
        ),
    ] {
        assert_eq!(e.to_string(), text);
    }
}

#[test]
fn edge_configurations_are_accepted() {
    for cfg in [
        with(|c| (c.machines, c.id, c.action_range) = (2, 2, 2)),
        with(|c| (c.id, c.action_range) = (3, 3)),
        with(|c| (c.machines, c.id, c.action_range) = (u16::MAX - 1, u16::MAX - 1, u32::MAX)),
        with(|c| c.rate = MAX_RATE),
        with(|c| c.rate = 1e-3),
    ] {
        let m = Machine::new(cfg).expect("valid config");
        let first = T0 + tick_offset_ns(cfg.rate, 1);
        assert_eq!((m.clock(), m.queue_len(), m.poll_timeout()), (0, 0, first));
    }
}

// ---- incoming frames -------------------------------------------------------------------------

fn frame_bytes(kind: Kind, source: u16, dest: u16) -> Vec<u8> {
    Header::data(kind, source, dest, 7, 42, T0 - 9).to_frame(&[])
}

fn deliver(m: &mut Machine, bytes: &[u8]) -> Result<(), Refused> {
    match wire::parse(bytes) {
        Ok(Parsed::Complete { frame, len }) => {
            assert_eq!(len, bytes.len());
            m.handle_frame(&frame)
        }
        other => panic!("test frame does not parse: {other:?}"),
    }
}

#[test]
fn control_frames_are_refused_as_not_data() {
    let mut m = machine(2, 3, 0);
    let hello = wire::hello("machine-two", T0).expect("a short name");
    assert_eq!(deliver(&mut m, &hello), Err(Refused::NotData(Kind::Hello)));
    let bye = wire::bye(1, 3, 9, T0);
    assert_eq!(deliver(&mut m, &bye), Err(Refused::NotData(Kind::Bye)));
    assert_eq!((m.queue_len(), m.stats().enqueued), (0, 0));
}

#[test]
fn frames_for_another_machine_are_refused_as_misrouted() {
    let mut m = machine(3, 3, 0);
    for (kind, source, dest) in [
        (Kind::SendFirst, 1, 0), // the first other of 1 is 2
        (Kind::SendFirst, 2, 0), // the first other of 2 is 1
        (Kind::SendTo, 1, 2),
        (Kind::SendTo, 2, 1),
        (Kind::Broadcast, 3, 0), // its own broadcast
        (Kind::SendFirst, 4, 0), // there is no machine 4
    ] {
        let result = deliver(&mut m, &frame_bytes(kind, source, dest));
        assert_eq!(
            result,
            Err(Refused::Misrouted { kind, source }),
            "{kind} from {source}"
        );
    }
    assert_eq!((m.queue_len(), m.stats().enqueued), (0, 0));
    // The second other of 2 is 3: the same machine takes that one.
    assert_eq!(
        deliver(&mut m, &frame_bytes(Kind::SendSecond, 2, 0)),
        Ok(())
    );
    assert_eq!(m.queue_len(), 1);
    // With two machines there is no second other.
    let mut two = machine(2, 2, 0);
    assert_eq!(
        deliver(&mut two, &frame_bytes(Kind::SendSecond, 1, 0)),
        Err(Refused::Misrouted {
            kind: Kind::SendSecond,
            source: 1
        })
    );
}

#[test]
fn frames_addressed_here_are_queued_with_their_fields() {
    let mut m = machine(2, 3, 0);
    for (kind, source, dest) in [
        (Kind::SendFirst, 1, 0),
        (Kind::SendSecond, 3, 0),
        (Kind::SendTo, 3, 2),
        (Kind::Broadcast, 1, 0),
    ] {
        assert_eq!(deliver(&mut m, &frame_bytes(kind, source, dest)), Ok(()));
    }
    let expected = Message {
        source: 1,
        seq: 7,
        clock: 42,
        sent_ns: T0 - 9,
    };
    assert_eq!(
        m.queued().copied().collect::<Vec<_>>(),
        [
            expected,
            Message {
                source: 3,
                ..expected
            },
            Message {
                source: 3,
                ..expected
            },
            expected
        ]
    );
    assert_eq!(m.stats().enqueued, 4);
}

#[test]
fn machines_wired_together_deliver_every_frame_once_and_keep_the_clock_condition() {
    let n = 3u16;
    let rates = [10.0, 3.0, 7.0];
    let mut ms: Vec<Machine> = (1..=n)
        .map(|id| {
            Machine::new(MachineConfig {
                rate: rates[usize::from(id - 1)],
                ..config(id, n, 10, derive_seed(2025, id.into()))
            })
            .expect("valid config")
        })
        .collect();
    let mut delivered = 0u64;
    for _ in 0..6_000 {
        let i = (0..ms.len())
            .min_by_key(|&i| ms[i].poll_timeout())
            .expect("machines");
        let now = ms[i].poll_timeout();
        assert_eq!(ms[i].handle_timeout(now), 1);
        while let Some(record) = ms[i].poll_event() {
            if let (EventKind::Receive, Some(stamp)) = (record.event, record.msg_clock) {
                assert!(record.logical_clock > stamp, "{record:?}");
            }
        }
        while let Some(header) = ms[i].poll_transmit() {
            let bytes = header.to_frame(&[]);
            let to = route::targets(header.kind, header.source, header.dest, n);
            for id in to.expect("routes").iter(n) {
                assert_eq!(deliver(&mut ms[usize::from(id - 1)], &bytes), Ok(()));
                assert_eq!(
                    ms[usize::from(id - 1)].queued().last(),
                    Some(&Message::from_header(&header))
                );
                delivered += 1;
            }
        }
    }
    let received: u64 = ms.iter().map(|m| m.stats().count(EventKind::Receive)).sum();
    let waiting: u64 = ms.iter().map(|m| m.queue_len() as u64).sum();
    assert!(delivered > 1_000, "{delivered}");
    assert_eq!(received + waiting, delivered);
}

// ---- stats -----------------------------------------------------------------------------------

#[test]
fn stats_follow_a_scripted_run() {
    let mut m = machine(1, 3, 6);
    for clock in [10, 3, 50] {
        m.handle_message(message(2, 1, clock));
    }
    assert_eq!(m.stats().queue_peak, 3);
    // Receives take the clock 0 -> 11 -> 12 -> 51: jumps of 11, 1 and 39.
    for _ in 0..3 {
        step(&mut m, T0);
    }
    assert_eq!((m.clock(), m.stats().max_jump), (51, 39));
    for _ in 0..5 {
        step(&mut m, T0);
    }
    m.handle_message(message(3, 1, 2));
    step(&mut m, T0);
    let stats = *m.stats();
    assert_eq!(m.clock(), 57);
    assert_eq!(stats.ticks, 9);
    assert_eq!(stats.enqueued, 4);
    assert_eq!(stats.queue_peak, 3);
    assert_eq!(stats.max_jump, 39);
    assert_eq!(stats.count(EventKind::Receive), 4);
    assert_eq!(stats.events.iter().sum::<u64>(), 9);
    assert_eq!(
        u64::from(m.frames_sent()),
        stats.count(EventKind::Send) + stats.count(EventKind::Broadcast)
    );
    // Seed 6 draws one send and four internal events.
    assert_eq!(stats.events, [4, 1, 0, 4]);
}

#[test]
fn a_frame_counts_its_hop_latency_and_an_early_arrival_counts_as_zero() {
    let mut m = Machine::new(config(2, 3, 10, 0)).unwrap();
    let mut bytes = Vec::new();
    Header::data(Kind::SendTo, 1, 2, 1, 5, T0 + 1_000).write_frame(&[], &mut bytes);
    let Ok(Parsed::Complete { frame, .. }) = wire::parse(&bytes) else {
        panic!("not a frame");
    };
    m.handle_frame_at(&frame, T0 + 251_000).unwrap();
    // Clocks of two hosts apart: "arrived" 400 ns before it was sent.
    m.handle_frame_at(&frame, T0 + 600).unwrap();
    let t = m.timing();
    assert_eq!((t.hop_latency.count(), t.hop_latency.max()), (2, 250_000));
    assert_eq!((t.hop_latency.percentile(50.0), t.negative_hops), (0, 1));
    assert_eq!(m.queue_len(), 2);
}

#[test]
fn a_skewed_clock_stamps_rows_frames_and_arrivals_but_ticks_on_real_time() {
    // 250 ms ahead, 100 ppm fast: at 300 ms after the start it shows 250 ms + 30 µs more.
    let skew = ClockSkew {
        offset_us: 250_000,
        drift_ppb: 100_000,
    };
    let mut m = machine(2, 3, 1).with_clock_skew(skew);
    let mut perfect = machine(2, 3, 1);
    // Same deadlines, same draws: the third tick (at 300 ms) sends, as without the fault.
    for k in 1..=3 {
        let due = m.poll_timeout();
        assert_eq!((due, perfect.poll_timeout()), (T0 + k * 100_000_000, due));
        assert_eq!((m.handle_timeout(due), perfect.handle_timeout(due)), (1, 1));
    }
    let real = T0 + 300_000_000;
    let stamp = (real / 1_000 + 250_000 + 30) * 1_000 + real % 1_000;
    assert_eq!(m.stamp_ns(real), stamp);
    let rows_frames = |m: &mut Machine| {
        let rows: Vec<Record> = std::iter::from_fn(|| m.poll_event()).collect();
        (
            rows,
            std::iter::from_fn(|| m.poll_transmit()).collect::<Vec<_>>(),
        )
    };
    let (skewed_rows, skewed_frames) = rows_frames(&mut m);
    let (rows, frames) = rows_frames(&mut perfect);
    assert_eq!(skewed_rows.len(), 3);
    for (s, r) in skewed_rows.iter().zip(&rows) {
        let real_us = r.system_time_us;
        assert_eq!(s.system_time_us, skew.stamp_us(T0 / 1_000, real_us));
        assert_eq!(
            Record {
                system_time_us: real_us,
                ..*s
            },
            *r
        );
    }
    assert_eq!(skewed_rows[2].system_time_us, stamp / 1_000);
    assert_eq!(skewed_frames.len(), 1);
    assert_eq!(skewed_frames[0].system_time_ns, stamp);
    assert_eq!(
        Header {
            system_time_ns: real,
            ..skewed_frames[0]
        },
        frames[0]
    );
    // The next deadline and the ticks' lateness stay on real time.
    assert_eq!(m.poll_timeout(), T0 + 400_000_000);
    assert_eq!(m.timing().lateness.max(), 0);
    // A frame from a perfect clock, read 1 ms after its send, looks 251 ms (and 30 µs) long.
    let sent = Header::data(Kind::SendFirst, 1, 0, 1, 1, real);
    let mut bytes = [0u8; wire::HEADER_LEN];
    sent.emit(&mut bytes);
    let Ok(Parsed::Complete { frame, .. }) = wire::parse(&bytes) else {
        panic!("a whole frame");
    };
    m.handle_frame_at(&frame, real + 1_000_000).unwrap();
    assert_eq!(m.timing().hop_latency.max(), 251_030_000);
}
