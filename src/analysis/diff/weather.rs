//! Twins in bad weather: the figures of two trials with a fault plan that docs/SIMULATION.md
//! ("Twins in bad weather") says must agree, side by side, each flagged when it differs by more
//! than that section allows: every machine's tick count (exactly), its hop latency p50 (within
//! 10% + 1 ms), and the router's books per ordered pair (delivered, held, released, dropped:
//! within the frames the sender's events sent differently plus those sent just before a window's
//! edge, which may cross the router on either side of it).

use std::collections::BTreeMap;

use crate::core::event::{EventKind, Record};
use crate::core::switchboard::PairCount;

/// How long before a window's edge (or the trial's end) a frame may be sent and still reach the
/// router on either side of it, in microseconds: a real hop through the router is 0.1 to 3 ms
/// on a loaded host, the simulated network's 100 µs.
pub const EDGE_US: u64 = 5_000;

/// The slack allowed between two hop latency p50s, beside 10% of the larger: the real network's
/// own hop (0.1-0.5 ms on loopback, more under load) against the simulated fixed 100 µs.
pub const HOP_SLACK_US: f64 = 1_000.0;

/// Frames per ordered pair `(source, dest)`.
pub type PerPair = BTreeMap<(u16, u16), u64>;

/// One side's figures, as its records and logs give them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SideFigures {
    /// Each machine's ticks, by id from 1 (index 0); `None` without a summary.
    pub ticks: Vec<Option<u64>>,
    /// Each machine's hop latency p50 in µs, by id from 1; `None` without a summary.
    pub hop_p50_us: Vec<Option<f64>>,
    /// The router's books per ordered pair (`router.yaml`); `None` without one.
    pub pairs: Option<Vec<PairCount>>,
    /// The frames each ordered pair's sender logged sending (a broadcast counts once for each
    /// other machine).
    pub sent: PerPair,
    /// Of those, the frames sent within [`EDGE_US`] before an edge.
    pub near_edge: PerPair,
}

/// The frames the logs `rows` (machine `id` at index `id - 1`) sent per ordered pair, and of
/// those the ones sent within [`EDGE_US`] before one of `edges_us`; `real_us(id, stamp)` turns a
/// row's stamp into µs since the trial's start on real time (a `clock` fault skews the stamps).
pub fn sends(
    rows: &[Vec<Record>],
    edges_us: &[u64],
    real_us: impl Fn(u16, u64) -> u64,
) -> (PerPair, PerPair) {
    let machines = rows.len() as u16;
    let (mut sent, mut near) = (BTreeMap::new(), BTreeMap::new());
    for (index, log) in rows.iter().enumerate() {
        let source = index as u16 + 1;
        for row in log {
            let dests: Vec<u16> = match (row.event, row.peer) {
                (EventKind::Send, Some(dest)) => vec![dest],
                (EventKind::Broadcast, _) => (1..=machines).filter(|&d| d != source).collect(),
                _ => continue,
            };
            let at = real_us(source, row.system_time_us);
            let close = edges_us
                .iter()
                .any(|&edge| at <= edge && edge - at < EDGE_US);
            for dest in dests {
                *sent.entry((source, dest)).or_insert(0) += 1;
                if close {
                    *near.entry((source, dest)).or_insert(0) += 1;
                }
            }
        }
    }
    (sent, near)
}

/// One compared figure.
#[derive(Clone, Debug, PartialEq)]
pub enum Compared {
    /// A machine's ticks and hop latency p50.
    Machine {
        /// Its id.
        id: u16,
        /// Ticks on each side.
        ticks: (Option<u64>, Option<u64>),
        /// Hop latency p50 on each side, µs.
        hop_p50_us: (Option<f64>, Option<f64>),
        /// Whether the ticks differ (they must not).
        ticks_beyond: bool,
        /// Whether the p50s differ by more than 10% of the larger plus [`HOP_SLACK_US`].
        hop_beyond: bool,
    },
    /// An ordered pair's books.
    Pair {
        /// The sender.
        source: u16,
        /// The receiver.
        dest: u16,
        /// Each side's books (zeros where a side has none for the pair).
        books: (PairCount, PairCount),
        /// How far each count may differ.
        tolerance: u64,
        /// Whether some count differs by more.
        beyond: bool,
    },
}

impl Compared {
    /// Whether it differs by more than allowed.
    pub fn beyond(&self) -> bool {
        match self {
            Compared::Machine {
                ticks_beyond,
                hop_beyond,
                ..
            } => *ticks_beyond || *hop_beyond,
            Compared::Pair { beyond, .. } => *beyond,
        }
    }
}

/// Whether two hop latency p50s (µs) agree as a twin's must.
pub fn hop_agrees(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.1 * a.max(b) + HOP_SLACK_US
}

/// The figures of `a` and `b` compared: one [`Compared::Machine`] per machine, then one
/// [`Compared::Pair`] per ordered pair either router booked (none when a side has no
/// `router.yaml`).
pub fn compare(a: &SideFigures, b: &SideFigures) -> Vec<Compared> {
    let mut out = Vec::new();
    let machines = a.ticks.len().max(b.ticks.len());
    for index in 0..machines {
        let ticks = (
            a.ticks.get(index).copied().flatten(),
            b.ticks.get(index).copied().flatten(),
        );
        let hop = (
            a.hop_p50_us.get(index).copied().flatten(),
            b.hop_p50_us.get(index).copied().flatten(),
        );
        out.push(Compared::Machine {
            id: index as u16 + 1,
            ticks,
            hop_p50_us: hop,
            ticks_beyond: ticks.0 != ticks.1,
            hop_beyond: match hop {
                (Some(x), Some(y)) => !hop_agrees(x, y),
                (x, y) => x.is_some() != y.is_some(),
            },
        });
    }
    let (Some(pa), Some(pb)) = (&a.pairs, &b.pairs) else {
        return out;
    };
    let mut pairs: BTreeMap<(u16, u16), (PairCount, PairCount)> = BTreeMap::new();
    let zero = |source, dest| PairCount {
        source,
        dest,
        ..PairCount::default()
    };
    for (side, books) in [(0, pa), (1, pb)] {
        for p in books {
            let entry = pairs
                .entry((p.source, p.dest))
                .or_insert_with(|| (zero(p.source, p.dest), zero(p.source, p.dest)));
            if side == 0 {
                entry.0 = *p;
            } else {
                entry.1 = *p;
            }
        }
    }
    for ((source, dest), (x, y)) in pairs {
        let get = |m: &PerPair| m.get(&(source, dest)).copied().unwrap_or(0);
        let tolerance =
            get(&a.sent).abs_diff(get(&b.sent)) + get(&a.near_edge).max(get(&b.near_edge));
        let counts = |p: &PairCount| [p.delivered, p.held, p.released, p.dropped];
        let beyond = counts(&x)
            .iter()
            .zip(counts(&y))
            .any(|(u, v)| u.abs_diff(v) > tolerance);
        out.push(Compared::Pair {
            source,
            dest,
            books: (x, y),
            tolerance,
            beyond,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(event: EventKind, at_us: u64, peer: Option<u16>) -> Record {
        Record {
            machine: 1,
            event,
            system_time_us: at_us,
            logical_clock: 1,
            queue_len: 0,
            peer,
            msg_clock: None,
            seq: Some(1),
        }
    }

    #[test]
    fn sends_count_a_broadcast_once_per_other_machine_and_those_just_before_an_edge() {
        let rows = vec![
            vec![
                row(EventKind::Send, 100, Some(2)),
                // 4 ms before the edge at 1 s: near it.
                row(EventKind::Broadcast, 996_000, None),
                // Just after the edge: not near it.
                row(EventKind::Send, 1_000_001, Some(3)),
            ],
            vec![row(EventKind::Internal, 5, None)],
            vec![row(EventKind::Receive, 6, Some(1))],
        ];
        let (sent, near) = sends(&rows, &[1_000_000], |_, t| t);
        assert_eq!(
            sent.into_iter().collect::<Vec<_>>(),
            vec![((1, 2), 2), ((1, 3), 2)]
        );
        assert_eq!(
            near.into_iter().collect::<Vec<_>>(),
            vec![((1, 2), 1), ((1, 3), 1)]
        );
        // A stamp skewed 10 ms ahead, turned back to real time, is no longer near the edge.
        let (_, near) = sends(&rows, &[1_010_000], |_, t| t.saturating_sub(10_000));
        assert!(near.is_empty(), "{near:?}");
    }

    fn pair(source: u16, dest: u16, delivered: u64, held: u64, dropped: u64) -> PairCount {
        PairCount {
            source,
            dest,
            delivered,
            undeliverable: 0,
            held,
            released: held,
            dropped,
        }
    }

    #[test]
    fn ticks_must_be_equal_hops_close_and_books_within_the_edge_and_send_differences() {
        let mut a = SideFigures {
            ticks: vec![Some(40), Some(12)],
            hop_p50_us: vec![Some(30_400.0), Some(380.0)],
            pairs: Some(vec![pair(1, 2, 30, 30, 0), pair(2, 1, 10, 0, 2)]),
            ..SideFigures::default()
        };
        a.sent.insert((2, 1), 12);
        let mut b = a.clone();
        b.hop_p50_us = vec![Some(30_100.0), Some(100.0)];
        let compared = compare(&a, &b);
        assert_eq!(compared.len(), 4);
        assert!(compared.iter().all(|c| !c.beyond()), "{compared:?}");

        // One tick more, a p50 off by 20%, and one frame more dropped with no slack for it.
        b.ticks[1] = Some(13);
        b.hop_p50_us[0] = Some(36_500.0);
        b.pairs = Some(vec![pair(1, 2, 30, 30, 0), pair(2, 1, 10, 0, 3)]);
        let compared = compare(&a, &b);
        let beyond: Vec<bool> = compared.iter().map(Compared::beyond).collect();
        assert_eq!(beyond, vec![true, true, false, true]);
        assert!(matches!(
            compared[0],
            Compared::Machine {
                ticks_beyond: false,
                hop_beyond: true,
                ..
            }
        ));

        // A frame sent just before an edge, or one sent more on one side, allows one more.
        b.near_edge.insert((2, 1), 1);
        assert!(!compare(&a, &b)[3].beyond());
        b.near_edge.clear();
        b.sent.insert((2, 1), 13);
        let Compared::Pair {
            tolerance, beyond, ..
        } = compare(&a, &b)[3]
        else {
            panic!("a pair");
        };
        assert_eq!((tolerance, beyond), (1, false));

        // A pair only one router booked is compared with zeros.
        b.pairs = Some(vec![pair(1, 2, 30, 30, 0)]);
        let Compared::Pair { books, beyond, .. } = compare(&a, &b)[3] else {
            panic!("a pair");
        };
        assert_eq!((books.1.delivered, beyond), (0, true));
    }

    #[test]
    fn hop_agreement_is_ten_percent_of_the_larger_plus_a_millisecond() {
        assert!(hop_agrees(50_100.0, 55_000.0));
        assert!(!hop_agrees(50_100.0, 57_000.0));
        assert!(hop_agrees(100.0, 1_050.0));
        assert!(!hop_agrees(100.0, 1_300.0));
    }
}
