//! The pure pieces of a fault plan, time as an argument: a fault's window in the trial
//! ([`Window`]), a link between machines ([`Link`]), what a partition does with the frames that
//! cross it ([`PartitionMode`]), and a machine's bad physical clock ([`ClockSkew`]), which the
//! machine stamps its rows and frames with. `config::faults` reads a plan into these; the machine
//! applies [`ClockSkew`] (both drivers alike), and the router's rules will read the rest.
//!
//! A skewed clock, in microseconds since the UNIX epoch, with `start` the trial's common start:
//!
//! ```text
//! stamp = real + offset + floor(drift_ppb * (real - start) / 10^9)
//! ```
//!
//! For a drift of 0 or more, `stamp` rises strictly with `real`, so [`ClockSkew::real_us`] gives
//! back the real microsecond of every stamp exactly; for a negative drift two real microseconds
//! may share a stamp, and the real time comes back within 1 µs.

use std::fmt;
use std::str::FromStr;

/// Nanoseconds per second.
const NS_PER_S: f64 = 1e9;
/// Parts per billion in one.
const PPB: i128 = 1_000_000_000;

/// A machine's physical clock that is off by `offset_us` and runs fast by `drift_ppb` (parts per
/// billion; negative: slow). The default is a perfect clock, which stamps real time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClockSkew {
    /// How far ahead the clock is at the trial's start, microseconds (negative: behind).
    pub offset_us: i64,
    /// How much faster it runs, parts per billion of elapsed time (1000 ppb = 1 ppm).
    pub drift_ppb: i64,
}

impl ClockSkew {
    /// The largest drift, in parts per billion either way (10%): a clock that runs at least 90%
    /// of real time, so that the stamp always rises with it.
    pub const MAX_DRIFT_PPB: i64 = 100_000_000;

    /// Whether this is a perfect clock (stamps are real time).
    pub fn is_perfect(&self) -> bool {
        self.offset_us == 0 && self.drift_ppb == 0
    }

    /// The stamp this clock shows at real time `real_us`, microseconds since the UNIX epoch, in
    /// a trial that started at `start_us`. Clamped to `0..=u64::MAX`.
    pub fn stamp_us(&self, start_us: u64, real_us: u64) -> u64 {
        if self.is_perfect() {
            return real_us;
        }
        let elapsed = i128::from(real_us) - i128::from(start_us);
        let drift = (elapsed * i128::from(self.drift_ppb)).div_euclid(PPB);
        let stamp = i128::from(real_us) + i128::from(self.offset_us) + drift;
        u64::try_from(stamp.max(0)).unwrap_or(u64::MAX)
    }

    /// The stamp at real time `real_ns`, nanoseconds, in a trial that started at `start_ns`: the
    /// skewed microsecond of [`ClockSkew::stamp_us`], with the real time's nanoseconds within it,
    /// so a row (whole microseconds) of a frame's stamp is the stamp of the row's time.
    pub fn stamp_ns(&self, start_ns: u64, real_ns: u64) -> u64 {
        if self.is_perfect() {
            return real_ns;
        }
        let us = self.stamp_us(start_ns / 1_000, real_ns / 1_000);
        us.saturating_mul(1_000).saturating_add(real_ns % 1_000)
    }

    /// The real time, microseconds, at which this clock showed `stamp_us` in a trial that
    /// started at `start_us`: the latest real microsecond whose stamp is not after it (for a
    /// drift of 0 or more, the one microsecond whose stamp it is).
    pub fn real_us(&self, start_us: u64, stamp_us: u64) -> u64 {
        if self.is_perfect() {
            return stamp_us;
        }
        let (start, stamp) = (i128::from(start_us), i128::from(stamp_us));
        let from_start = stamp - i128::from(self.offset_us) - start;
        // The exact inverse without the floor, then a step or two to the floor's answer.
        let rate = PPB + i128::from(self.drift_ppb);
        let guess = start + (from_start * PPB).div_euclid(rate.max(1));
        let mut real = u64::try_from(guess.max(0)).unwrap_or(u64::MAX);
        while real > 0 && self.stamp_us(start_us, real) > stamp_us {
            real -= 1;
        }
        while real < u64::MAX && self.stamp_us(start_us, real + 1) <= stamp_us {
            real += 1;
        }
        real
    }
}

/// When a fault holds: from `from_ns` (included) to `to_ns` (excluded), nanoseconds from the
/// trial's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    /// The start, nanoseconds from the trial's start.
    pub from_ns: u64,
    /// The end (excluded), nanoseconds from the trial's start.
    pub to_ns: u64,
}

impl Window {
    /// The window from `from` to `to` seconds of the trial (rounded to the nanosecond).
    pub fn from_secs(from: f64, to: f64) -> Window {
        let ns = |s: f64| (s * NS_PER_S).round() as u64;
        Window {
            from_ns: ns(from),
            to_ns: ns(to),
        }
    }

    /// Whether `elapsed_ns` from the trial's start is inside the window.
    pub fn contains(&self, elapsed_ns: u64) -> bool {
        (self.from_ns..self.to_ns).contains(&elapsed_ns)
    }

    /// Whether the two windows share an instant.
    pub fn overlaps(&self, other: &Window) -> bool {
        self.from_ns < other.to_ns && other.from_ns < self.to_ns
    }
}

/// The frames a fault acts on: from one machine (or any) to one machine (or any). Written
/// `A->B`, with `*` for any: `1->3`, `*->2`, `*->*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Link {
    /// The sender, `None` for any.
    pub from: Option<u16>,
    /// The receiver, `None` for any.
    pub to: Option<u16>,
}

impl Link {
    /// Whether a frame from `source` to `dest` travels this link.
    pub fn matches(&self, source: u16, dest: u16) -> bool {
        self.from.is_none_or(|id| id == source) && self.to.is_none_or(|id| id == dest)
    }
}

/// Why a text is not a link.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a link \"A->B\" (each a machine id or * for any)")]
pub struct LinkError {
    /// The text as written.
    pub text: String,
}

impl FromStr for Link {
    type Err = LinkError;

    fn from_str(text: &str) -> Result<Link, LinkError> {
        let bad = || LinkError {
            text: text.to_owned(),
        };
        let end = |part: &str| match part.trim() {
            "*" => Ok(None),
            id => id.parse::<u16>().map(Some).map_err(|_| bad()),
        };
        let (from, to) = text.split_once("->").ok_or_else(bad)?;
        Ok(Link {
            from: end(from)?,
            to: end(to)?,
        })
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = |id: Option<u16>| id.map_or("*".to_owned(), |id| id.to_string());
        write!(f, "{}->{}", end(self.from), end(self.to))
    }
}

/// What a partition does with a frame between two of its groups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PartitionMode {
    /// Held, and released in send order when the window ends (as TCP would after a healed link).
    #[default]
    Hold,
    /// Dropped, and booked as dropped.
    Drop,
}

impl PartitionMode {
    /// The word a plan writes.
    pub const fn as_str(self) -> &'static str {
        match self {
            PartitionMode::Hold => "hold",
            PartitionMode::Drop => "drop",
        }
    }

    /// The mode a word names.
    pub fn from_word(word: &str) -> Option<PartitionMode> {
        [PartitionMode::Hold, PartitionMode::Drop]
            .into_iter()
            .find(|m| m.as_str() == word)
    }
}

#[cfg(test)]
mod tests;
