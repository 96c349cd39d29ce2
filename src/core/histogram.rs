//! A distribution of nanosecond values kept as counts in log-linear buckets ([`Histogram`]), and
//! the inverse-CDF sampler drawn from one ([`Empirical`]).
//!
//! Values below 64 ns have a bucket each. Above, every power of two `[2^e, 2^(e+1))` is cut into
//! 32 buckets of width `2^(e-5)`, so a bucket's width is at most 1/32 of its lower bound and its
//! middle is within 1/64 (1.6%) of every value in it: a percentile read from the buckets is
//! within 1.6% of the true one. 1,920 buckets cover every `u64`. Adding a value is an index
//! computation and an increment; the counts grow (by doubling) only when a value lands above
//! every bucket used so far, so memory is bounded by the largest value, never by the count, and
//! a histogram that has seen its range allocates nothing more.
//!
//! Histograms are written into summaries ([`HistogramRecord`]: the count, the exact maximum and
//! the non-empty buckets by their lower bound), merged across machines, and turned into
//! [`Empirical`] models for the simulator.

use std::collections::BTreeMap;

use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// Sub-buckets per power of two: 2^5 = 32.
const SUB_BITS: u32 = 5;
/// Values below this have a bucket each.
const EXACT: u64 = 2 << SUB_BITS;
/// How many buckets cover every `u64`.
pub const BUCKETS: usize = 1_920;

/// A distribution of nanosecond values (see the module's documentation for the buckets).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "HistogramRecord", try_from = "HistogramRecord")]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Histogram {
    /// The bucket of `v`.
    pub fn index(v: u64) -> usize {
        if v < EXACT {
            return v as usize;
        }
        let e = 63 - v.leading_zeros();
        let shift = e - SUB_BITS;
        let m = (v >> shift) - (1 << SUB_BITS);
        (EXACT + u64::from(e - SUB_BITS - 1) * (1 << SUB_BITS) + m) as usize
    }

    /// The smallest value of bucket `i` (`i < BUCKETS`).
    pub fn low(i: usize) -> u64 {
        let i = i as u64;
        if i < EXACT {
            return i;
        }
        let above = i - EXACT;
        let m = (above & ((1 << SUB_BITS) - 1)) + (1 << SUB_BITS);
        m << ((above >> SUB_BITS) + 1)
    }

    /// How many values bucket `i` holds: 1 below 64 ns, `2^(e-5)` in `[2^e, 2^(e+1))`.
    pub fn width(i: usize) -> u64 {
        let i = i as u64;
        if i < EXACT {
            return 1;
        }
        1 << (((i - EXACT) >> SUB_BITS) + 1)
    }

    /// The middle of bucket `i`: what a percentile reads from it.
    fn middle(i: usize) -> u64 {
        Histogram::low(i) + Histogram::width(i) / 2
    }

    /// Adds one value.
    pub fn record(&mut self, ns: u64) {
        self.record_n(ns, 1);
    }

    /// Adds `n` values `ns`.
    fn record_n(&mut self, ns: u64, n: u64) {
        if n == 0 {
            return;
        }
        let i = Histogram::index(ns);
        if self.counts.len() <= i {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += n;
        self.total += n;
        self.max = self.max.max(ns);
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (mine, &theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// How many values were added.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The largest value, exactly (0 if none).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The non-empty buckets, lowest first: (bucket, count).
    pub fn buckets(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(|(i, &c)| (i, c))
    }

    /// The `p`-th percentile (0 < p <= 100) by nearest rank: the middle of the bucket that holds
    /// it (so within 1.6% of it), never above the largest value, which `p = 100` gives exactly;
    /// 0 if there are none.
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
                return Histogram::middle(i).min(self.max);
            }
        }
        self.max
    }
}

/// A [`Histogram`] as a summary writes it: `count`, `max` (exact) and `buckets`, each non-empty
/// bucket's lower bound in nanoseconds mapped to its count.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramRecord {
    /// How many values.
    pub count: u64,
    /// The largest value, nanoseconds.
    pub max: u64,
    /// Each non-empty bucket's lower bound, nanoseconds, and its count.
    pub buckets: BTreeMap<u64, u64>,
}

impl From<Histogram> for HistogramRecord {
    fn from(h: Histogram) -> HistogramRecord {
        HistogramRecord {
            count: h.total,
            max: h.max,
            buckets: h.buckets().map(|(i, c)| (Histogram::low(i), c)).collect(),
        }
    }
}

/// Why a [`HistogramRecord`] is not a histogram.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HistogramRecordError {
    /// A bucket key that is not the lower bound of a bucket.
    #[error("bucket {0}: not the lower bound of a bucket")]
    NotALowerBound(u64),
    /// The buckets' counts do not add up to `count`.
    #[error("the buckets hold {held} values, but count is {count}")]
    Count {
        /// What the buckets hold together.
        held: u64,
        /// The record's `count`.
        count: u64,
    },
    /// `max` is not in the highest non-empty bucket.
    #[error("max {0} is not in the highest bucket")]
    MaxOutsideHighest(u64),
    /// `max` is not 0 though no bucket holds a value.
    #[error("max {0} with no values")]
    MaxWithoutValues(u64),
}

impl TryFrom<HistogramRecord> for Histogram {
    type Error = HistogramRecordError;

    /// Refuses a bucket that is not a bucket's lower bound, counts that do not add up to
    /// `count`, and a `max` outside the highest bucket.
    fn try_from(r: HistogramRecord) -> Result<Histogram, HistogramRecordError> {
        let mut h = Histogram::default();
        for (&low, &c) in &r.buckets {
            if Histogram::low(Histogram::index(low)) != low {
                return Err(HistogramRecordError::NotALowerBound(low));
            }
            h.record_n(low, c);
        }
        if h.total != r.count {
            return Err(HistogramRecordError::Count {
                held: h.total,
                count: r.count,
            });
        }
        if let Some((i, _)) = h.buckets().last() {
            if Histogram::index(r.max) != i {
                return Err(HistogramRecordError::MaxOutsideHighest(r.max));
            }
        } else if r.max != 0 {
            return Err(HistogramRecordError::MaxWithoutValues(r.max));
        }
        h.max = r.max;
        Ok(h)
    }
}

/// An empirical distribution drawn by inverse CDF from a [`Histogram`]: a uniform `u` in [0, 1)
/// picks the value at rank `u × count`, uniform within its bucket (whose width is at most 1/32 of
/// its values), never above the histogram's maximum. One draw takes one `f64` from the
/// generator, so a seed replays the same values.
#[derive(Clone, Debug, PartialEq)]
pub struct Empirical {
    /// Non-empty buckets, lowest first: (values in this and every lower bucket, lower bound, width).
    steps: Vec<(u64, u64, u64)>,
    total: u64,
    max: u64,
}

impl Empirical {
    /// The distribution of `h`; `None` if it holds no values.
    pub fn new(h: &Histogram) -> Option<Empirical> {
        if h.count() == 0 {
            return None;
        }
        let mut cum = 0;
        let steps = h
            .buckets()
            .map(|(i, c)| {
                cum += c;
                (cum, Histogram::low(i), Histogram::width(i))
            })
            .collect();
        Some(Empirical {
            steps,
            total: h.count(),
            max: h.max(),
        })
    }

    /// The value at quantile `u` (0 <= u < 1; clamped into that range).
    pub fn at(&self, u: f64) -> u64 {
        let rank = u.clamp(0.0, 1.0) * self.total as f64;
        let i = self
            .steps
            .partition_point(|&(cum, _, _)| (cum as f64) <= rank)
            .min(self.steps.len() - 1);
        let (cum, low, width) = self.steps[i];
        let before = if i == 0 { 0 } else { self.steps[i - 1].0 };
        let within = ((rank - before as f64) / (cum - before) as f64).clamp(0.0, 1.0);
        let offset = ((within * width as f64) as u64).min(width - 1);
        low.saturating_add(offset).min(self.max)
    }

    /// One value drawn from the distribution.
    pub fn draw(&self, rng: &mut Xoshiro256PlusPlus) -> u64 {
        self.at(rng.random::<f64>())
    }
}

#[cfg(test)]
mod tests;
