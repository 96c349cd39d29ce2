//! The tick schedule, the one definition every driver and `check` share: the k-th tick of a
//! machine at rate r is due at `start + k/r` for k = 1, 2, ..., so a trial of T seconds has exactly
//! ⌊r·T⌋ ticks (the tick at T counts; there is none at 0). Deadlines are whole nanoseconds,
//! `round(k × 10⁹ / r)` (halves up) from the integer k, never a period added up, so they do not
//! drift; [`ticks_due`] counts with the same rounding, so the two always agree.
//!
//! [`Timing`] is what a machine knows about when its ticks really ran: lateness (the time a tick
//! ran minus its deadline, handed in by the driver), the ticks [`MissedTicks::Skip`] dropped, and
//! how long its messages took to arrive (the hop latency).

use serde::{Deserialize, Serialize};

use crate::core::histogram::Histogram;

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

/// The distribution of tick lateness: a [`Histogram`] (within 1.6%, `max` exact).
pub type Lateness = Histogram;

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
    /// How long each data message took from its send to this machine's queue: the time its
    /// driver handed in at the arrival minus the send time the frame carries
    /// ([`Machine::handle_frame_at`](super::Machine::handle_frame_at)).
    pub hop_latency: Histogram,
    /// Arrivals stamped before their send (clocks of two hosts apart), counted as 0 in
    /// `hop_latency`.
    pub negative_hops: u64,
}
