//! The tick schedule, the one definition every driver and `check` share: the k-th tick of a
//! machine at rate r is due at `start + k/r` for k = 1, 2, ..., so a trial of T seconds has exactly
//! ⌊r·T⌋ ticks (the tick at T counts; there is none at 0). Deadlines are whole nanoseconds,
//! `round(k × 10⁹ / r)` (halves up) from the integer k, never a period added up, so they do not
//! drift; [`ticks_due`] counts with the same rounding, so the two always agree.
//!
//! [`Timing`] is what a machine knows about when its ticks really ran: lateness (the time a tick
//! ran minus its deadline, handed in by the driver) and the ticks [`MissedTicks::Skip`] dropped.

use serde::{Deserialize, Serialize};

/// What a machine does with deadlines that passed while it could not tick (a stalled or
/// overloaded process). The configuration's `machines.missed_ticks`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissedTicks {
    /// Takes every missed tick, one after another as fast as it can, each logged with the time
    /// it really ran: the machine still takes ⌊r·T⌋ ticks, some of them late. The default: the
    /// model's rate is the number of things a machine does per second, and the simulator (which
    /// never stalls) takes the same number.
    #[default]
    CatchUp,
    /// Drops every missed deadline but the last, and takes that one: the schedule stays at
    /// `start + k/r`, no tick runs more than a period late, and the summary counts the dropped
    /// ones (`ticks_skipped`).
    Skip,
}

impl MissedTicks {
    /// The word the configuration uses.
    pub fn as_str(self) -> &'static str {
        match self {
            MissedTicks::CatchUp => "catch_up",
            MissedTicks::Skip => "skip",
        }
    }
}

/// When tick `k` (from 1) is due, nanoseconds after the start: `round(k × 10⁹ / rate)`, halves
/// up, saturating at `u64::MAX` (a deadline that is never due). Whole rates are computed in
/// integers, exactly; fractional ones in `f64` from the integer k.
pub fn tick_offset_ns(rate: f64, k: u64) -> u64 {
    if rate >= 1.0 && rate.fract() == 0.0 && rate <= u64::MAX as f64 {
        let r = rate as u128;
        let ns = (u128::from(k) * 1_000_000_000 + r / 2) / r;
        u64::try_from(ns).unwrap_or(u64::MAX)
    } else {
        // `as` saturates, and the product of two exact values is rounded once.
        (k as f64 * 1e9 / rate).round() as u64
    }
}

/// How many ticks are due within `elapsed_ns` of the start: the k >= 1 with
/// `tick_offset_ns(rate, k) <= elapsed_ns`, ⌊rate × elapsed⌋ with the deadlines' rounding.
/// A rate that is not positive has none.
pub fn ticks_due(rate: f64, elapsed_ns: u64) -> u64 {
    if rate.is_nan() || rate <= 0.0 {
        return 0;
    }
    let due = |k: u64| {
        let offset = tick_offset_ns(rate, k);
        offset <= elapsed_ns && offset != u64::MAX
    };
    // A float estimate, then corrected to the rounded deadlines (a step or two at most).
    let mut n = (elapsed_ns as f64 * rate / 1e9).floor() as u64;
    while n > 0 && !due(n) {
        n -= 1;
    }
    while n < u64::MAX && due(n + 1) {
        n += 1;
    }
    n
}

/// Sub-buckets per power of two in [`Lateness`]: values are kept to within 1/32 (3%).
const SUB_BITS: u32 = 5;
/// Values below this are counted exactly.
const EXACT: u64 = 2 << SUB_BITS;

/// A distribution of nanosecond values (log-linear buckets, exact below 64 ns, within 3% above),
/// small and cheap to add to: memory grows with the largest value, not the count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lateness {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Lateness {
    fn index(v: u64) -> usize {
        if v < EXACT {
            return v as usize;
        }
        let e = 63 - v.leading_zeros();
        let shift = e - SUB_BITS;
        let m = (v >> shift) - (1 << SUB_BITS);
        (EXACT + u64::from(e - SUB_BITS - 1) * (1 << SUB_BITS) + m) as usize
    }

    /// The middle of bucket `i`.
    fn value(i: usize) -> u64 {
        let i = i as u64;
        if i < EXACT {
            return i;
        }
        let above = i - EXACT;
        let shift = above >> SUB_BITS;
        let m = (above & ((1 << SUB_BITS) - 1)) + (1 << SUB_BITS);
        let low = m << (shift + 1);
        low + (1u64 << (shift + 1)) / 2
    }

    /// Adds one value.
    pub fn record(&mut self, ns: u64) {
        let i = Lateness::index(ns);
        if self.counts.len() <= i {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += 1;
        self.total += 1;
        self.max = self.max.max(ns);
    }

    /// How many values were added.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The largest value, exactly (0 if none).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The `p`-th percentile (0 < p <= 100) by nearest rank, to within 3% and never above the
    /// largest value; 0 if there are none.
    pub fn percentile(&self, p: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((self.total as f64 * p / 100.0).ceil() as u64).clamp(1, self.total);
        if rank == self.total {
            return self.max;
        }
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Lateness::value(i).min(self.max);
            }
        }
        self.max
    }
}

/// When a machine's ticks really ran, as its driver reported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timing {
    /// How late each tick taken by [`Machine::handle_timeout`](super::Machine::handle_timeout)
    /// ran: the time handed in minus its deadline (0 if early).
    pub lateness: Lateness,
    /// Ticks that ran more than one period (1/rate) after their deadline.
    pub late_over_one_period: u64,
    /// Deadlines dropped under [`MissedTicks::Skip`].
    pub skipped: u64,
}
