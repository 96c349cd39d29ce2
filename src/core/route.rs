//! Who a data frame goes to: the one routing rule shared by the machine (which picks a kind), the
//! router (which forwards by kind) and the simulator.
//!
//! Machine ids run from 1 to N. A machine's "others" are every id but its own, in ascending order.

use std::ops::RangeInclusive;

use crate::core::wire::Kind;

/// The `r`-th (1-based) other machine of `me` among `1..=machines`, if there is one.
pub fn nth_other(me: u16, machines: u16, r: u16) -> Option<u16> {
    if r == 0 || r >= machines || me == 0 || me > machines {
        return None;
    }
    Some(if r < me { r } else { r + 1 })
}

/// How `me` sends to its `r`-th other: the frame's kind, its `dest` field and the target id.
/// r = 1 is SEND_FIRST, r = 2 is SEND_SECOND, and r >= 3 is SEND_TO with `dest` = the target.
pub fn to_nth_other(me: u16, machines: u16, r: u16) -> Option<(Kind, u16, u16)> {
    let target = nth_other(me, machines, r)?;
    Some(match r {
        1 => (Kind::SendFirst, 0, target),
        2 => (Kind::SendSecond, 0, target),
        _ => (Kind::SendTo, target, target),
    })
}

/// Where a data frame goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Targets {
    /// To one machine.
    One(u16),
    /// To every machine but the source.
    AllBut(u16),
}

impl Targets {
    /// The destination ids, ascending.
    pub fn iter(self, machines: u16) -> TargetIter {
        let (range, skip) = match self {
            Targets::One(id) => (id..=id, None),
            Targets::AllBut(id) => (1..=machines, Some(id)),
        };
        TargetIter { range, skip }
    }
}

/// The destination ids of a [`Targets`], ascending: a range of ids with at most one left out, so
/// that one destination costs one step and a broadcast no more than a count.
#[derive(Clone, Debug)]
pub struct TargetIter {
    range: RangeInclusive<u16>,
    /// The id left out (the source of a broadcast).
    skip: Option<u16>,
}

impl Iterator for TargetIter {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        let id = self.range.next()?;
        if Some(id) == self.skip {
            return self.range.next();
        }
        Some(id)
    }
}

/// Where a data frame of `kind` from `source` (with its `dest` field) goes among `machines`
/// machines, or `None` when it names no machine that exists (e.g. SEND_SECOND with only one other).
pub fn targets(kind: Kind, source: u16, dest: u16, machines: u16) -> Option<Targets> {
    if source == 0 || source > machines {
        return None;
    }
    match kind {
        Kind::SendFirst => nth_other(source, machines, 1).map(Targets::One),
        Kind::SendSecond => nth_other(source, machines, 2).map(Targets::One),
        Kind::SendTo if dest != source && (1..=machines).contains(&dest) => {
            Some(Targets::One(dest))
        }
        Kind::Broadcast => Some(Targets::AllBut(source)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn others_skip_self_in_ascending_order() {
        assert_eq!(nth_other(1, 3, 1), Some(2));
        assert_eq!(nth_other(1, 3, 2), Some(3));
        assert_eq!(nth_other(2, 3, 1), Some(1));
        assert_eq!(nth_other(2, 3, 2), Some(3));
        assert_eq!(nth_other(3, 3, 1), Some(1));
        assert_eq!(nth_other(3, 3, 2), Some(2));
        assert_eq!(nth_other(3, 3, 3), None);
        assert_eq!(nth_other(3, 3, 0), None);
        assert_eq!(nth_other(4, 3, 1), None);
    }

    #[test]
    fn to_nth_other_and_targets_agree_for_every_pair() {
        for n in 2..=6u16 {
            for me in 1..=n {
                let mut reached = Vec::new();
                for r in 1..n {
                    let (kind, dest, target) = to_nth_other(me, n, r).unwrap();
                    let got: Vec<u16> = targets(kind, me, dest, n).unwrap().iter(n).collect();
                    assert_eq!(got, vec![target], "n={n} me={me} r={r}");
                    reached.push(target);
                }
                let others: Vec<u16> = (1..=n).filter(|&t| t != me).collect();
                assert_eq!(reached, others, "n={n} me={me}");
                assert_eq!(to_nth_other(me, n, n), None);
            }
        }
        assert_eq!(to_nth_other(2, 5, 3), Some((Kind::SendTo, 4, 4)));
        assert_eq!(to_nth_other(2, 5, 1), Some((Kind::SendFirst, 0, 1)));
    }

    #[test]
    fn target_ids_end_at_the_edges_of_the_id_range() {
        let all = |t: Targets, n: u16| t.iter(n).collect::<Vec<_>>();
        assert_eq!(all(Targets::AllBut(1), 3), [2, 3]);
        assert_eq!(all(Targets::AllBut(3), 3), [1, 2]);
        assert_eq!(all(Targets::One(65_534), 65_534), [65_534]);
        let big = Targets::AllBut(65_534).iter(65_534);
        assert_eq!((big.clone().count(), big.last()), (65_533, Some(65_533)));
        let big = Targets::AllBut(1).iter(65_534);
        assert_eq!((big.clone().count(), big.last()), (65_533, Some(65_534)));
        // 65,535 is no machine id, but the iterator still ends where its range does.
        assert_eq!(all(Targets::One(65_535), 65_535), [65_535]);
        let big = Targets::AllBut(65_535).iter(65_535);
        assert_eq!((big.clone().count(), big.last()), (65_534, Some(65_534)));
    }

    #[test]
    fn broadcast_reaches_everyone_else() {
        let t = targets(Kind::Broadcast, 2, 0, 4).unwrap();
        assert_eq!(t.iter(4).collect::<Vec<_>>(), vec![1, 3, 4]);
    }

    #[test]
    fn impossible_targets_are_none() {
        assert_eq!(targets(Kind::SendSecond, 1, 0, 2), None);
        assert_eq!(targets(Kind::SendTo, 1, 1, 3), None);
        assert_eq!(targets(Kind::SendTo, 1, 4, 3), None);
        assert_eq!(targets(Kind::SendFirst, 4, 0, 3), None);
        assert_eq!(targets(Kind::Hello, 1, 0, 3), None);
    }
}
