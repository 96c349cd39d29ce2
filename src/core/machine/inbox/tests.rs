//! The receive rule with hand-worked clocks: a machine at 10 ticks per second (deadlines every
//! 100 ms from T0), messages handed in with their arrival times, ticks run late on purpose.

use super::super::{Machine, MachineConfig, Message, MissedTicks, ReceiveRule};
use crate::core::event::{EventKind, Record};
use crate::core::wire::{self, Header, Kind, Parsed};

/// An arbitrary start, far from 0 so that time arithmetic errors show.
const T0: u64 = 1_700_000_000_123_456_789;
/// The k-th deadline at 10 ticks per second.
const fn d(k: u64) -> u64 {
    T0 + k * 100_000_000
}
const US: u64 = 1_000;

fn machine(rule: ReceiveRule) -> Machine {
    Machine::new(MachineConfig {
        id: 1,
        machines: 3,
        action_range: 10,
        rate: 10.0,
        seed: 3,
        start_ns: T0,
    })
    .expect("a valid machine")
    .with_receive_rule(rule)
}

fn message(source: u16, seq: u32, clock: u64) -> Message {
    Message {
        source,
        seq,
        clock,
        sent_ns: T0,
    }
}

/// Takes every tick due by `now`, all run at `now`, and returns their rows.
fn ticks_at(m: &mut Machine, now: u64) -> Vec<Record> {
    while m.handle_timeout(now) == 1 {}
    std::iter::from_fn(|| m.poll_event()).collect()
}

fn receive(now: u64, clock: u64, msg: Message, queue_len: u32) -> Record {
    Record {
        machine: 1,
        event: EventKind::Receive,
        system_time_us: now / 1_000,
        logical_clock: clock,
        queue_len,
        peer: Some(msg.source),
        msg_clock: Some(msg.clock),
        seq: Some(msg.seq),
    }
}

#[test]
fn the_default_rule_is_by_deadline_and_both_rules_have_their_configuration_words() {
    let m = Machine::new(MachineConfig {
        id: 1,
        machines: 2,
        action_range: 2,
        rate: 1.0,
        seed: 0,
        start_ns: 0,
    })
    .unwrap();
    assert_eq!(m.receive_rule(), ReceiveRule::ByDeadline);
    assert_eq!(ReceiveRule::ByDeadline.as_str(), "by_deadline");
    assert_eq!(ReceiveRule::AsRun.as_str(), "as_run");
    for rule in [ReceiveRule::ByDeadline, ReceiveRule::AsRun] {
        let yaml = serde_yaml::to_string(&rule).unwrap();
        assert_eq!(yaml.trim(), rule.as_str());
        assert_eq!(serde_yaml::from_str::<ReceiveRule>(&yaml).unwrap(), rule);
    }
}

#[test]
fn a_message_one_microsecond_after_the_deadline_waits_for_the_next_tick() {
    let msg = message(2, 1, 10);
    let mut m = machine(ReceiveRule::ByDeadline);
    m.handle_message_at(msg, d(1) + US);
    // The tick due at d(1) runs 5 µs late, after the message arrived: it does not take it, and
    // draws exactly what a machine with an empty queue draws at that tick.
    let late = ticks_at(&mut m, d(1) + 5 * US);
    let mut empty = machine(ReceiveRule::ByDeadline);
    let idle = ticks_at(&mut empty, d(1) + 5 * US);
    assert_eq!(late.len(), 1);
    assert_ne!(late[0].event, EventKind::Receive);
    // The row is the idle machine's, queue included: the deadline saw none (one waits now).
    assert_eq!(late[0], idle[0]);
    assert_eq!((late[0].logical_clock, late[0].queue_len), (1, 0));
    assert_eq!(m.queue_len(), 1);
    assert_eq!(m.poll_transmit(), empty.poll_transmit());
    // The tick due at d(2) takes it, on time: max(1, 10) + 1.
    let next = ticks_at(&mut m, d(2));
    assert_eq!(next, [receive(d(2), 11, msg, 0)]);
    assert_eq!(m.stats().queue_peak, 1);
}

#[test]
fn as_run_a_late_tick_takes_what_arrived_after_its_deadline() {
    let msg = message(2, 1, 10);
    let mut m = machine(ReceiveRule::AsRun);
    assert_eq!(m.receive_rule(), ReceiveRule::AsRun);
    m.handle_message_at(msg, d(1) + US);
    let late = ticks_at(&mut m, d(1) + 5 * US);
    assert_eq!(late, [receive(d(1) + 5 * US, 11, msg, 0)]);
}

#[test]
fn a_message_that_arrived_exactly_at_the_deadline_is_taken() {
    let msg = message(3, 4, 2);
    let mut m = machine(ReceiveRule::ByDeadline);
    m.handle_message_at(msg, d(1));
    let late = ticks_at(&mut m, d(1) + 40 * US);
    assert_eq!(late, [receive(d(1) + 40 * US, 3, msg, 0)]);
}

#[test]
fn each_caught_up_tick_takes_only_what_arrived_by_its_own_deadline() {
    // Stalled until d(3) + 50 ms: three ticks are owed, all run then.
    let now = d(3) + 50_000_000;
    let a = message(2, 1, 5); // arrived before d(1)
    let b = message(3, 1, 3); // 1 µs after d(2)
    let c = message(2, 2, 20); // 1 µs after d(3)
    let arrivals = [(a, d(1) - 1), (b, d(2) + US), (c, d(3) + US)];

    let mut m = machine(ReceiveRule::ByDeadline);
    for (msg, at) in arrivals {
        m.handle_message_at(msg, at);
    }
    let rows = ticks_at(&mut m, now);
    assert_eq!(rows.len(), 3);
    // d(1): a, max(0, 5) + 1 = 6; b and c wait, but neither had arrived by d(1).
    assert_eq!(rows[0], receive(now, 6, a, 0));
    // d(2): the head, b, arrived after d(2): a draw, clock 7.
    assert_ne!(rows[1].event, EventKind::Receive);
    assert_eq!((rows[1].logical_clock, rows[1].queue_len), (7, 0));
    // d(3): b, max(7, 3) + 1 = 8; c arrived after d(3) and stays.
    assert_eq!(rows[2], receive(now, 8, b, 0));
    assert_eq!(m.queued().copied().collect::<Vec<_>>(), [c]);

    // As run, the three late ticks take the three messages.
    let mut m = machine(ReceiveRule::AsRun);
    for (msg, at) in arrivals {
        m.handle_message_at(msg, at);
    }
    let rows = ticks_at(&mut m, now);
    assert_eq!(
        rows,
        [
            receive(now, 6, a, 2),
            receive(now, 7, b, 1),
            receive(now, 21, c, 0)
        ]
    );
}

#[test]
fn a_row_logs_the_queue_its_deadline_saw() {
    // Two messages by d(1), one 1 µs after it; the tick runs 5 µs late and takes the first.
    let (a, b, c) = (message(2, 1, 1), message(3, 1, 1), message(2, 2, 1));
    let arrivals = [(a, d(1) - 2), (b, d(1)), (c, d(1) + US)];
    let now = d(1) + 5 * US;
    for (rule, seen) in [(ReceiveRule::ByDeadline, 1), (ReceiveRule::AsRun, 2)] {
        let mut m = machine(rule);
        for (msg, at) in arrivals {
            m.handle_message_at(msg, at);
        }
        assert_eq!(
            ticks_at(&mut m, now),
            [receive(now, 2, a, seen)],
            "{rule:?}"
        );
        assert_eq!((m.queue_len(), m.stats().queue_peak), (2, 3), "{rule:?}");
    }
    // Arrivals never run backwards along the queue: one handed in with an earlier time than the
    // message ahead of it counts as arrived with it, and waits behind it as ever.
    let mut m = machine(ReceiveRule::ByDeadline);
    m.handle_message_at(c, d(1) + US);
    m.handle_message_at(a, d(1) - 2);
    let late = ticks_at(&mut m, now);
    assert_eq!(
        (late[0].event == EventKind::Receive, late[0].queue_len),
        (false, 0)
    );
    assert_eq!(
        ticks_at(&mut m, d(2)),
        [receive(d(2), 2, c, 1)],
        "both arrived by d(2)"
    );
}

#[test]
fn a_skipping_machine_takes_by_the_deadline_of_the_tick_it_takes() {
    // Stalled until d(3) + 50 ms under skip: only the tick due at d(3) runs, and a message that
    // arrived after d(2) but by d(3) is the one it may take.
    let msg = message(2, 1, 9);
    let mut m = machine(ReceiveRule::ByDeadline).with_missed_ticks(MissedTicks::Skip);
    m.handle_message_at(msg, d(2) + US);
    let now = d(3) + 50_000_000;
    assert_eq!(ticks_at(&mut m, now), [receive(now, 10, msg, 0)]);
    assert_eq!(m.timing().skipped, 2);
}

#[test]
fn a_frame_carries_its_arrival_time_into_the_queue() {
    let mut bytes = Vec::new();
    Header::data(Kind::SendTo, 2, 1, 1, 4, d(1) - 300 * US).write_frame(&[], &mut bytes);
    let Ok(Parsed::Complete { frame, .. }) = wire::parse(&bytes) else {
        panic!("not a frame");
    };
    let msg = Message::from_frame(&frame).unwrap();
    let mut m = machine(ReceiveRule::ByDeadline);
    m.handle_frame_at(&frame, d(1) + US).unwrap();
    let late = ticks_at(&mut m, d(1) + 2 * US);
    assert_ne!(late[0].event, EventKind::Receive);
    assert_eq!(ticks_at(&mut m, d(2)), [receive(d(2), 5, msg, 0)]);
    // Without an arrival time, a frame counts as arrived before every deadline.
    let mut untimed = machine(ReceiveRule::ByDeadline);
    untimed.handle_frame(&frame).unwrap();
    let late = ticks_at(&mut untimed, d(1) + 2 * US);
    assert_eq!(late, [receive(d(1) + 2 * US, 5, msg, 0)]);
}
