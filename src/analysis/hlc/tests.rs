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
