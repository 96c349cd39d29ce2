//! The weather on virtual time: a partition in `hold` mode delays exactly the frames that cross
//! it and releases them in send order at its end, `drop` mode books what it drops and the books
//! balance, a fixed delay delivers at exactly its latency, held frames count in the memory and
//! stop a sender at high water, and the oracle keeps its properties with plans in force.

use proptest::prelude::*;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use super::super::oracle::{Harness, T0};
use super::super::tests::{MS, bye, data, opts, running_with};
use super::*;
use crate::core::switchboard::{ConnId, Options, Switchboard, check_switchboard_properties};
use crate::core::wire::{HEADER_LEN, Kind};

/// The common start time `opts` gives (a start delay of 200 ms after the last HELLO at T0).
const START: u64 = T0 + 200 * MS;

/// Machines alice (1), bob (2) and carol (3) under `opts`, welcomed, with `plan` in force.
fn weather(opts: Options, plan: Plan) -> (Harness, [ConnId; 3]) {
    let (mut h, conns) = running_with(opts, &["alice", "bob", "carol"]);
    h.sb.set_plan(plan);
    assert_eq!(h.sb.report().start_time_ns, Some(START));
    (h, [conns[0], conns[1], conns[2]])
}

/// The data frames written to `conn` in full, in order.
fn got(h: &Harness, conn: ConnId) -> Vec<Vec<u8>> {
    let frames = &h.peers[conn.0].frames;
    frames
        .iter()
        .filter(|f| Kind::from_code(f[3]).is_some_and(Kind::is_data))
        .cloned()
        .collect()
}

/// Time comes to `now`: timeouts, fates, and every outbox written.
fn at(h: &mut Harness, now: u64) {
    h.now = now;
    h.round();
    h.flush();
}

fn partition(mode: PartitionMode) -> Plan {
    Plan {
        delays: vec![],
        partitions: vec![Partition {
            groups: vec![vec![1, 2], vec![3]],
            window: Window {
                from_ns: 100 * MS,
                to_ns: 400 * MS,
            },
            mode,
        }],
    }
}

#[test]
fn a_held_partition_delays_exactly_the_frames_that_cross_it_and_releases_them_in_order() {
    let (mut h, [alice, bob, carol]) = weather(opts(3), partition(PartitionMode::Hold));
    // Before the window: straight through.
    at(&mut h, START + 50 * MS);
    let early = data(Kind::SendTo, 1, 3, 1);
    h.feed(alice, &early);
    at(&mut h, START + 50 * MS);
    assert_eq!(got(&h, carol), std::slice::from_ref(&early));
    // In the window: 1 -> 3 and 2 -> 3 cross it, 1 -> 2 does not.
    at(&mut h, START + 150 * MS);
    let crossing: Vec<Vec<u8>> = (2..=4).map(|seq| data(Kind::SendTo, 1, 3, seq)).collect();
    let inside = data(Kind::SendTo, 1, 2, 5);
    let from_bob = data(Kind::SendTo, 2, 3, 1);
    h.feed(
        alice,
        &[crossing[0].clone(), inside.clone(), crossing[1].clone()].concat(),
    );
    h.feed(bob, &from_bob);
    at(&mut h, START + 200 * MS);
    h.feed(alice, &crossing[2]);
    at(&mut h, START + 200 * MS);
    assert_eq!(got(&h, bob), std::slice::from_ref(&inside));
    assert_eq!(
        got(&h, carol),
        std::slice::from_ref(&early),
        "nothing crosses the partition"
    );
    assert_eq!(h.sb.poll_timeout(), Some(START + 400 * MS));
    let books = h.sb.pairs().books(1, 3);
    assert_eq!((books.sent, books.held, books.released), (4, 3, 0));
    at(&mut h, START + 400 * MS - 1);
    assert_eq!(got(&h, carol).len(), 1, "held until the window's end");
    // The window's end: each sender's frames in the order they were sent.
    at(&mut h, START + 400 * MS);
    let carol_got = got(&h, carol);
    assert_eq!(carol_got.len(), 5);
    let from_alice: Vec<&Vec<u8>> = carol_got.iter().filter(|f| f[4] == 1).collect();
    let want: Vec<&Vec<u8>> = std::iter::once(&early).chain(&crossing).collect();
    assert_eq!(from_alice, want);
    assert!(carol_got.contains(&from_bob));
    let books = h.sb.pairs().books(1, 3);
    assert_eq!(
        (books.sent, books.delivered, books.held, books.released),
        (4, 4, 3, 3)
    );
    assert_eq!(h.sb.pairs().books(2, 3).held, 1);
    assert_eq!(h.sb.pairs().books(1, 2).held, 0);
    h.finish();
}

#[test]
fn a_dropping_partition_books_what_it_drops_and_the_books_balance() {
    let (mut h, [alice, _, carol]) = weather(opts(3), partition(PartitionMode::Drop));
    at(&mut h, START + 150 * MS);
    let frames: Vec<u8> = (1..=4)
        .flat_map(|seq| data(Kind::SendTo, 1, 3, seq))
        .collect();
    h.feed(alice, &frames);
    at(&mut h, START + 150 * MS);
    // After the window, frames go through again.
    at(&mut h, START + 400 * MS);
    let after = data(Kind::SendTo, 1, 3, 5);
    h.feed(alice, &after);
    at(&mut h, START + 400 * MS);
    assert_eq!(got(&h, carol), [after]);
    let books = h.sb.pairs().books(1, 3);
    assert_eq!(
        (books.sent, books.delivered, books.dropped, books.held),
        (5, 1, 4, 0)
    );
    assert!(books.balance());
    let pair = h.sb.report().pairs;
    let row = pair.iter().find(|p| (p.source, p.dest) == (1, 3));
    assert_eq!(row.map(|p| (p.delivered, p.dropped)), Some((1, 4)));
    h.finish();
}

/// A plan that delays every frame from machine 1 to machine 2 by `latency_ns` in the trial's
/// first second.
fn delayed_1_to_2(latency_ns: u64) -> Plan {
    Plan {
        delays: vec![Delay {
            link: "1->2".parse().expect("a link"),
            window: Window {
                from_ns: 0,
                to_ns: 1_000 * MS,
            },
            latency: Latency::Fixed { ns: latency_ns },
        }],
        partitions: vec![],
    }
}

#[test]
fn a_fixed_delay_delivers_at_exactly_its_latency_on_its_link_only() {
    let (mut h, [alice, bob, carol]) = weather(opts(3), delayed_1_to_2(50 * MS));
    let sent_at = START + 10 * MS;
    at(&mut h, sent_at);
    let slow = data(Kind::SendTo, 1, 2, 1);
    let fast = data(Kind::SendTo, 1, 3, 2);
    h.feed(alice, &[slow.clone(), fast.clone()].concat());
    at(&mut h, sent_at);
    assert_eq!(got(&h, carol), [fast]);
    assert!(got(&h, bob).is_empty());
    assert_eq!(h.sb.poll_timeout(), Some(sent_at + 50 * MS));
    at(&mut h, sent_at + 50 * MS - 1);
    assert!(got(&h, bob).is_empty());
    at(&mut h, sent_at + 50 * MS);
    assert_eq!(got(&h, bob), [slow]);
    h.finish();
}

#[test]
fn frames_held_when_the_stop_begins_are_delivered_before_the_connections_close() {
    let (mut h, [alice, bob, carol]) = weather(opts(3), delayed_1_to_2(300 * MS));
    let sent_at = START + 900 * MS;
    at(&mut h, sent_at);
    let late = data(Kind::SendTo, 1, 2, 1);
    h.feed(alice, &late);
    at(&mut h, sent_at);
    // The trial ends at 1 s: every machine has said BYE while the frame is still held.
    h.now = START + 1_000 * MS;
    h.sb.handle_stop("the trial's end", h.now);
    for (conn, id) in [(alice, 1), (bob, 2), (carol, 3)] {
        h.feed(conn, &bye(id));
    }
    at(&mut h, START + 1_000 * MS);
    assert!(
        !h.sb.is_closing(bob),
        "closed with a frame still held for it"
    );
    assert_eq!(h.sb.poll_timeout(), Some(sent_at + 300 * MS));
    // At its time the frame reaches bob, who reads until the router closes; then all close.
    at(&mut h, sent_at + 300 * MS);
    assert_eq!(got(&h, bob), [late]);
    let books = h.sb.pairs().books(1, 2);
    assert_eq!(
        (
            books.delivered,
            books.held,
            books.released,
            books.undeliverable
        ),
        (1, 1, 1, 0)
    );
    assert!(h.sb.is_closing(bob));
    h.finish();
}

/// Under an outbox limit of 4 × HEADER_LEN, alice sends frames 1 to `n` to carol at 150 ms into
/// the hold partition, and they are held: the harness after that instant's round.
fn held_across_the_partition(n: u32) -> (Harness, [ConnId; 3]) {
    let opts = Options {
        outbox_limit: 4 * HEADER_LEN,
        ..opts(3)
    };
    let (mut h, conns) = weather(opts, partition(PartitionMode::Hold));
    at(&mut h, START + 150 * MS);
    let frames: Vec<u8> = (1..=n)
        .flat_map(|seq| data(Kind::SendTo, 1, 3, seq))
        .collect();
    h.feed(conns[0], &frames);
    at(&mut h, START + 150 * MS);
    (h, conns)
}

#[test]
fn held_frames_count_in_the_memory_and_stop_their_sender_at_high_water() {
    let (mut h, [alice, _, carol]) = held_across_the_partition(4);
    let weather = h.sb.conns.weather().map(|w| (w.held(), w.held_for(3)));
    assert_eq!(weather, Some((4 * HEADER_LEN, 4 * HEADER_LEN)));
    // The books: read buffers, outbox storage, and the held frames.
    let buffers: usize = h.sb.conns.iter().flatten().map(|c| c.inbuf.held()).sum();
    let outboxes: usize =
        h.sb.conns
            .iter()
            .flatten()
            .map(|c| c.outbox.footprint().held)
            .sum();
    assert_eq!(h.sb.held_bytes(), buffers + outboxes + 4 * HEADER_LEN);
    assert!(h.sb.wants_read(alice), "at high water, not over it");
    h.feed(alice, &data(Kind::SendTo, 1, 3, 5));
    at(&mut h, START + 150 * MS);
    assert!(!h.sb.wants_read(alice), "over high water: alice is stopped");
    // The window ends: the frames go, carol reads them and alice is read again.
    at(&mut h, START + 400 * MS);
    assert_eq!(got(&h, carol).len(), 5);
    assert_eq!(h.sb.conns.weather().map(Weather::held), Some(0));
    assert!(h.sb.wants_read(alice));
    h.finish();
}

#[test]
fn fair_weather_holds_nothing_and_an_empty_plan_installs_nothing() {
    let mut sb = Switchboard::new(opts(3));
    sb.set_plan(Plan::default());
    assert!(sb.conns.weather().is_none());
    let plan = Plan {
        delays: vec![],
        partitions: vec![Partition {
            groups: vec![vec![1], vec![2]],
            window: Window {
                from_ns: 0,
                to_ns: 1,
            },
            mode: PartitionMode::Hold,
        }],
    };
    assert!(plan.partitions[0].separates(1, 2) && !plan.partitions[0].separates(1, 3));
}

/// The oracle's input for three machines that register, a plan, the trial started, then `ops`:
/// mostly data frames (split anywhere), short waits, partial writes and flushes, another plan
/// now and then, rarely an end of stream, a close or a stop.
fn weather_ops(ops: &[(u8, u8, u8, u8)], pick: u8) -> Vec<u8> {
    // Three machines; three connections; each says HELLO (m0, m1, m2).
    let mut data = vec![1, 0, 0, 0, 0];
    for c in 0..3 {
        data.extend([2, c, 0, c, 0]);
    }
    // The start is 200 ms after the last HELLO: 210 ms on, a plan.
    data.extend([5, 21, 9, pick]);
    for &(op, a, b, c) in ops {
        match op {
            // From the connection's own machine (a source of another is refused).
            0..=5 => data.extend([2, a, 1 + b % 4, c & 0x7f, a]),
            6 => data.extend([4, a, b, c % 2]),
            7 => data.extend([5, a % 8]),
            8 => data.extend([8]),
            9 => data.extend([9, b]),
            // Now and then an end of stream, a stop or a close.
            _ if a % 4 == 0 => data.extend([[3, 6, 7][usize::from(b % 3)], c]),
            _ => data.extend([8]),
        }
    }
    data
}

#[test]
fn the_oracle_with_plans_holds_releases_and_drops() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(20);
    let (mut held, mut released, mut dropped) = (0, 0, 0);
    for case in 0..120u32 {
        let ops: Vec<(u8, u8, u8, u8)> = (0..80)
            .map(|_| {
                (
                    rng.random_range(0..10),
                    rng.random(),
                    rng.random(),
                    rng.random(),
                )
            })
            .collect();
        let report = check_switchboard_properties(&weather_ops(&ops, case as u8));
        for p in &report.pairs {
            (held, released, dropped) = (held + p.held, released + p.released, dropped + p.dropped);
        }
    }
    assert!(
        held > 0 && released > 0 && dropped > 0,
        "{held} {released} {dropped}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_oracle_holds_with_a_plan_in_force(
        pick in any::<u8>(),
        ops in proptest::collection::vec((0u8..11, any::<u8>(), any::<u8>(), any::<u8>()), 0..120)
    ) {
        let _ = check_switchboard_properties(&weather_ops(&ops, pick));
    }
}

#[test]
fn a_random_delay_draws_from_the_runs_weather_stream_so_a_seed_replays() {
    use crate::core::seed::{self, Stream};
    let latency = Latency::Uniform {
        min_ns: 0,
        max_ns: 50 * MS,
    };
    let plan = Plan {
        delays: vec![Delay {
            link: "*->*".parse().expect("a link"),
            window: Window {
                from_ns: 0,
                to_ns: 1_000 * MS,
            },
            latency,
        }],
        partitions: vec![],
    };
    let releases = |seed: u64| -> Vec<Verdict> {
        let mut w = Weather::new(plan.clone(), 3, seed);
        // One frame of each of three pairs, each released before the next is sent.
        [(1, 2), (2, 3), (3, 1)]
            .iter()
            .map(|&(s, d)| w.verdict(s, d, START + 10 * MS, START, Some(10 * MS)))
            .collect()
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed::derive(42, Stream::Weather));
    let want: Vec<Verdict> = (0..3)
        .map(|_| Verdict::Hold(START + 10 * MS + latency.draw(&mut rng)))
        .collect();
    assert_eq!(releases(42), want);
    assert_ne!(releases(43), want);
}

#[test]
fn a_shorter_draw_never_overtakes_the_frame_ahead_of_it() {
    let plan = Plan {
        delays: vec![Delay {
            link: "1->2".parse().expect("a link"),
            window: Window {
                from_ns: 0,
                to_ns: 1_000 * MS,
            },
            latency: Latency::Exponential {
                base_ns: 0,
                mean_ns: 20 * MS,
            },
        }],
        partitions: vec![],
    };
    let mut w = Weather::new(plan, 2, 7);
    let mut releases = Vec::new();
    for k in 0..50u64 {
        let now = START + k * MS;
        let Verdict::Hold(release) = w.verdict(1, 2, now, START, Some(k * MS)) else {
            panic!("frame {k} is not held");
        };
        assert!(release >= now);
        w.hold(1, 2, Bytes::from(vec![k as u8]), release);
        releases.push(release);
    }
    assert!(releases.windows(2).all(|r| r[0] <= r[1]), "{releases:?}");
    assert_eq!(w.next_release(), Some(releases[0]));
    // Out they come in send order, each at its time.
    let mut order = Vec::new();
    while let Some((source, dest, held)) = w.take_due(u64::MAX) {
        assert_eq!((source, dest), (1, 2));
        order.push(held.frame[0]);
    }
    assert_eq!(order, (0..50).collect::<Vec<u8>>());
    assert_eq!((w.held(), w.held_for(2)), (0, 0));
}

/// Found by the oracle: a receiver that closes with frames held for it books them undeliverable
/// at their release, and the senders they stopped are read again then.
#[test]
fn held_frames_of_a_closing_receiver_are_undeliverable_and_release_their_sender() {
    let (mut h, [alice, _, carol]) = held_across_the_partition(5);
    assert!(!h.sb.wants_read(alice), "over high water: alice is stopped");
    // Carol is refused; its ERROR waits unwritten, so it is closing, not gone.
    h.feed(carol, &crate::core::wire::error("no", T0));
    h.now = START + 400 * MS;
    h.round();
    assert!(h.sb.is_closing(carol));
    let books = h.sb.pairs().books(1, 3);
    assert_eq!((books.held, books.released, books.undeliverable), (5, 5, 5));
    assert!(h.sb.wants_read(alice), "nothing is held for carol any more");
    h.flush();
    h.finish();
}
