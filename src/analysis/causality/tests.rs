//! Vector clocks, concurrency, false orderings and the longest chain on hand-written trials worked
//! out on paper (in the comments), and the fast pair count checked against comparing every pair on
//! random trials.

use super::*;
use crate::analysis::MachineInput;
use crate::core::event::EventKind::{Broadcast, Internal, Receive, Send};
use crate::core::event::Record;

/// The trials' start: 1000 s after the epoch, in microseconds.
pub(crate) const T0: u64 = 1_000_000_000;

/// A row `us` microseconds after [`T0`]; `message` is `(peer, msg_clock, seq)`.
pub(crate) fn row(
    machine: u16,
    event: EventKind,
    us: u64,
    clock: u64,
    message: Option<(Option<u16>, u64, u32)>,
) -> Record {
    Record {
        machine,
        event,
        system_time_us: T0 + us,
        logical_clock: clock,
        queue_len: 0,
        peer: message.and_then(|m| m.0),
        msg_clock: message.map(|m| m.1),
        seq: message.map(|m| m.2),
    }
}

pub(crate) fn trial(machines: Vec<Vec<Record>>) -> TrialInput {
    TrialInput {
        trial: 1,
        start_us: T0,
        machines: machines
            .into_iter()
            .map(|records| MachineInput {
                id: records[0].machine,
                records,
                ..MachineInput::default()
            })
            .collect(),
        ..TrialInput::default()
    }
}

/// Three machines (times in ms):
///
/// ```text
/// m1  a1 int(0) L1   a2 send→2 #1 (100) L2   a3 int(300) L3   a4 recv 3#1 (400) L4
/// m2  b1 int(50) L1  b2 recv 1#1 (150) L3    b3 bcast #1 (200) L4   b4 int(250) L5
/// m3  c1 send→1 #1 (20) L1   c2 recv 2#1 (260) L5   c3 int(300) L6
/// ```
///
/// m1 never takes the broadcast b3: it is still queued at the end.
pub(crate) fn three() -> TrialInput {
    let ms = |t: u64| t * 1000;
    trial(vec![
        vec![
            row(1, Internal, ms(0), 1, None),
            row(1, Send, ms(100), 2, Some((Some(2), 2, 1))),
            row(1, Internal, ms(300), 3, None),
            row(1, Receive, ms(400), 4, Some((Some(3), 1, 1))),
        ],
        vec![
            row(2, Internal, ms(50), 1, None),
            row(2, Receive, ms(150), 3, Some((Some(1), 2, 1))),
            row(2, Broadcast, ms(200), 4, Some((None, 4, 1))),
            row(2, Internal, ms(250), 5, None),
        ],
        vec![
            row(3, Send, ms(20), 1, Some((Some(1), 1, 1))),
            row(3, Receive, ms(260), 5, Some((Some(2), 4, 1))),
            row(3, Internal, ms(300), 6, None),
        ],
    ])
}

fn at(machine: usize, index: usize) -> EventRef {
    EventRef { machine, index }
}

pub(crate) fn vectors(c: &Causality) -> Vec<Vec<Vec<u32>>> {
    (0..c.machines)
        .map(|i| {
            (0..c.counts[i])
                .map(|k| c.vector(at(i, k)).to_vec())
                .collect()
        })
        .collect()
}

#[test]
fn vector_clocks_of_three_machines_worked_by_hand() {
    // a1 [1,0,0]  a2 [2,0,0]  a3 [3,0,0]  a4 = max(a3, c1 [0,0,1]), own 4: [4,0,1]
    // b1 [0,1,0]  b2 = max(b1, a2), own 2: [2,2,0]  b3 [2,3,0]  b4 [2,4,0]
    // c1 [0,0,1]  c2 = max(c1, b3), own 2: [2,3,2]  c3 [2,3,3]
    let t = three();
    let c = reconstruct(&t).unwrap();
    assert_eq!(
        vectors(&c),
        [
            vec![vec![1, 0, 0], vec![2, 0, 0], vec![3, 0, 0], vec![4, 0, 1]],
            vec![vec![0, 1, 0], vec![2, 2, 0], vec![2, 3, 0], vec![2, 4, 0]],
            vec![vec![0, 0, 1], vec![2, 3, 2], vec![2, 3, 3]],
        ]
    );
    assert_eq!(c.send_of[0][3], Some(at(2, 0)));
    assert_eq!(c.send_of[1][1], Some(at(0, 1)));
    assert_eq!(c.send_of[2][1], Some(at(1, 2)));
    assert!(
        c.happened_before(at(0, 0), at(2, 2)),
        "a1 -> a2 -> b2 -> b3 -> c2 -> c3"
    );
    assert!(c.concurrent(at(0, 2), at(1, 1)), "a3 || b2");
    // b3 was received by m3 alone.
    assert_eq!(c.receives_of().get(&at(1, 2)), Some(&vec![at(2, 1)]));
    assert_eq!((c.unmatched, c.contradictions), (0, 0));
}

#[test]
fn concurrency_false_orderings_and_chain_worked_by_hand() {
    // Concurrent pairs, machine by machine (e -> f when f's entry for e's machine reaches e's
    // position; nothing of m2 or m3 reaches m1 but c1 -> a4):
    //   m1 x m2: a1 || b1; a2 || b1; a3 || b1..b4; a4 || b1..b4          10
    //   m1 x m3: a1 || c1; a2 || c1; a3 || c1..c3; a4 || c2, c3            7
    //   m2 x m3: b1 || c1; b2 || c1; b3 || c1; b4 || c1..c3               6
    // 23 of the 11 * 10 / 2 = 55 pairs. Lamport ties among them: (a1,b1) 1, (a3,b2) 3, (a4,b3) 4,
    // (a1,c1) 1, (b1,c1) 1, (b4,c2) 5: 6 pairs; the other 17 the Lamport order puts one before
    // the other. Longest chain a1 a2 b2 b3 c2 c3: 6 events, c3's Lamport clock.
    let t = three();
    let c = reconstruct(&t).unwrap();
    let f = figures(&t, &c);
    assert_eq!(
        f,
        CausalFigures {
            events: 11,
            pairs: 55,
            concurrent_pairs: 23,
            false_orderings: 17,
            concurrent_share: Some(23.0 / 55.0),
            false_ordering_share: Some(17.0 / 23.0),
            longest_chain: 6,
            unmatched_receives: 0,
        }
    );
    assert_eq!(brute_force(&t, &c), (23, 17));
    assert_eq!(c.chain[2], [1, 5, 6]);
    assert_eq!(c.chain[0], [1, 2, 3, 4]);
}

#[test]
fn a_receive_whose_send_is_in_no_log_is_a_local_event() {
    // Without m3's log, a4's send is missing: a4 = [4, 0]. m1 x m2 is as above: 10 concurrent
    // pairs of 8 * 7 / 2 = 28, three of them Lamport ties, so 7 false orderings. The longest
    // chain is a1 a2 b2 b3 b4, 5 events.
    let mut t = three();
    t.machines.pop();
    let c = reconstruct(&t).unwrap();
    assert_eq!(c.vector(at(0, 3)), [4, 0]);
    assert_eq!(c.send_of[0][3], None);
    let f = figures(&t, &c);
    assert_eq!(
        (
            f.pairs,
            f.concurrent_pairs,
            f.false_orderings,
            f.unmatched_receives
        ),
        (28, 10, 7, 1)
    );
    assert_eq!(f.longest_chain, 5);
}

#[test]
fn logs_that_contradict_each_other_still_give_clocks() {
    // Each machine receives the other's seq 1 before sending its own: a cycle. m1's receive is
    // made local (a1 [1,0]), then a2 [2,0], b1 = max([0,0], a2) own 1: [2,1], b2 [2,2].
    let t = trial(vec![
        vec![
            row(1, Receive, 10, 2, Some((Some(2), 1, 1))),
            row(1, Send, 20, 3, Some((Some(2), 3, 1))),
        ],
        vec![
            row(2, Receive, 10, 4, Some((Some(1), 3, 1))),
            row(2, Send, 20, 5, Some((Some(1), 5, 1))),
        ],
    ]);
    let c = reconstruct(&t).unwrap();
    assert_eq!(
        vectors(&c),
        [vec![vec![1, 0], vec![2, 0]], vec![vec![2, 1], vec![2, 2]]]
    );
    assert_eq!((c.unmatched, c.contradictions), (0, 1));
    assert_eq!(figures(&t, &c).unmatched_receives, 1);
}

/// A tiny generator for random trials (xorshift, fixed seeds).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A random trial of `n` machines and `steps` events under the model's rules: at each step one
/// machine takes the oldest message of its queue, or, with an empty queue, sends, broadcasts or
/// does something internal.
pub(crate) fn random_trial(seed: u64, n: u16, steps: usize) -> TrialInput {
    let mut rng = Rng(seed);
    let mut clocks = vec![0u64; usize::from(n)];
    let mut seqs = vec![0u32; usize::from(n)];
    let mut queues: Vec<std::collections::VecDeque<(u16, u64, u32)>> =
        vec![Default::default(); usize::from(n)];
    let mut logs: Vec<Vec<Record>> = vec![Vec::new(); usize::from(n)];
    for step in 0..steps {
        let m = rng.below(u64::from(n)) as usize;
        let id = m as u16 + 1;
        let us = step as u64 * 10;
        let rec = if let Some((from, clock, seq)) = queues[m].pop_front() {
            clocks[m] = clocks[m].max(clock) + 1;
            row(id, Receive, us, clocks[m], Some((Some(from), clock, seq)))
        } else {
            clocks[m] += 1;
            let draw = rng.below(4);
            if draw == 3 {
                row(id, Internal, us, clocks[m], None)
            } else {
                seqs[m] += 1;
                let targets: Vec<u16> = if draw == 2 {
                    (1..=n).filter(|&t| t != id).collect()
                } else {
                    let k = rng.below(u64::from(n) - 1) as u16 + 1;
                    vec![if k >= id { k + 1 } else { k }]
                };
                for &t in &targets {
                    queues[usize::from(t) - 1].push_back((id, clocks[m], seqs[m]));
                }
                let (kind, peer) = match targets[..] {
                    [one] if draw != 2 => (Send, Some(one)),
                    _ => (Broadcast, None),
                };
                row(id, kind, us, clocks[m], Some((peer, clocks[m], seqs[m])))
            }
        };
        logs[m].push(rec);
    }
    trial(logs.into_iter().filter(|l| !l.is_empty()).collect())
}

#[test]
fn the_fast_count_agrees_with_comparing_every_pair() {
    for seed in 1..=40u64 {
        let n = 2 + (seed % 4) as u16;
        let t = random_trial(seed * 7919, n, 150);
        let c = reconstruct(&t).unwrap();
        let f = figures(&t, &c);
        assert_eq!(
            (f.concurrent_pairs, f.false_orderings),
            brute_force(&t, &c),
            "seed {seed}"
        );
        // With every send logged, an event's Lamport clock is the longest chain ending at it.
        for (m, chains) in t.machines.iter().zip(&c.chain) {
            let clocks: Vec<u64> = m.records.iter().map(|r| r.logical_clock).collect();
            assert_eq!(&clocks, chains, "seed {seed}");
        }
        // Vector clocks characterise happened-before: a -> b iff V(a) <= V(b) entrywise, a != b.
        let all: Vec<EventRef> = (0..c.machines)
            .flat_map(|i| (0..c.counts[i]).map(move |k| at(i, k)))
            .collect();
        for &a in all.iter().step_by(7) {
            for &b in &all {
                let le = c.vector(a).iter().zip(c.vector(b)).all(|(x, y)| x <= y);
                assert_eq!(c.happened_before(a, b), le && a != b, "seed {seed}");
            }
        }
    }
}
