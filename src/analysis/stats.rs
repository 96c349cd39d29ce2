//! The few statistics the analysis needs, each defined exactly as docs/ANALYSIS.md states it:
//! nearest-rank percentiles, the mean, the sample standard deviation and a least-squares slope.

use serde::Serialize;

/// A distribution of values: how many, their mean, and its maximum and nearest-rank percentiles.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Distribution {
    /// How many values.
    pub count: u64,
    /// Their arithmetic mean.
    pub mean: f64,
    /// The largest.
    pub max: f64,
    /// The 50th percentile (nearest rank).
    pub p50: f64,
    /// The 95th percentile (nearest rank).
    pub p95: f64,
    /// The 99th percentile (nearest rank).
    pub p99: f64,
}

impl Distribution {
    /// The distribution of `values`, or `None` when there are none. `values` need not be sorted.
    pub fn of(values: &[f64]) -> Option<Distribution> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(Distribution {
            count: sorted.len() as u64,
            mean: mean(&sorted)?,
            max: *sorted.last()?,
            p50: percentile_sorted(&sorted, 50.0)?,
            p95: percentile_sorted(&sorted, 95.0)?,
            p99: percentile_sorted(&sorted, 99.0)?,
        })
    }

    /// The distribution of whole-number values given as how many of each (`counts`, by value),
    /// equal to [`Distribution::of`] the values one by one (their sum is exact while below
    /// 2^53, as a sum of whole numbers in `f64` is), without holding them one by one.
    pub fn of_counts(counts: &std::collections::BTreeMap<u64, u64>) -> Option<Distribution> {
        let n: u64 = counts.values().sum();
        if n == 0 {
            return None;
        }
        let sum: u128 = counts
            .iter()
            .map(|(&v, &c)| u128::from(v) * u128::from(c))
            .sum();
        // The value of rank `rank` (from 1): the first whose running count reaches it.
        let at = |rank: usize| -> Option<f64> {
            let mut seen = 0u64;
            counts.iter().find_map(|(&v, &c)| {
                seen += c;
                (seen >= rank as u64).then_some(v as f64)
            })
        };
        Some(Distribution {
            count: n,
            mean: sum as f64 / n as f64,
            max: *counts.keys().next_back()? as f64,
            p50: at(nearest_rank(n as usize, 50.0))?,
            p95: at(nearest_rank(n as usize, 95.0))?,
            p99: at(nearest_rank(n as usize, 99.0))?,
        })
    }
}

impl Distribution {
    /// The distribution of the values `k / divisor` for whole numbers `k` given as how many of
    /// each (`counts`, by `k`): equal to [`Distribution::of`] the values one by one, their mean
    /// summed in ascending order as `of` sums them, without holding them one by one.
    pub fn of_scaled_counts(
        counts: &std::collections::BTreeMap<i64, u64>,
        divisor: f64,
    ) -> Option<Distribution> {
        let n: u64 = counts.values().sum();
        if n == 0 {
            return None;
        }
        let value = |k: i64| k as f64 / divisor;
        let mut sum = 0.0;
        for (&k, &c) in counts {
            for _ in 0..c {
                sum += value(k);
            }
        }
        let at = |rank: usize| -> Option<f64> {
            let mut seen = 0u64;
            counts.iter().find_map(|(&k, &c)| {
                seen += c;
                (seen >= rank as u64).then(|| value(k))
            })
        };
        Some(Distribution {
            count: n,
            mean: sum / n as f64,
            max: value(*counts.keys().next_back()?),
            p50: at(nearest_rank(n as usize, 50.0))?,
            p95: at(nearest_rank(n as usize, 95.0))?,
            p99: at(nearest_rank(n as usize, 99.0))?,
        })
    }
}

/// The rank (from 1) of the nearest-rank `p`-th percentile of `n` values: `ceil(p / 100 * n)`,
/// at least 1 and at most `n`.
fn nearest_rank(n: usize, p: f64) -> usize {
    // Computed in integers of hundredths of a percent, so 95 % of 20 is exactly rank 19.
    let basis = (p * 100.0).round() as u128;
    (basis * n as u128).div_ceil(10_000).clamp(1, n as u128) as usize
}

/// The nearest-rank `p`-th percentile (0 < p <= 100) of ascending `sorted`: the value at rank
/// `ceil(p / 100 * n)` (ranks from 1), so at least p % of the values are at most it. `None` when
/// `sorted` is empty.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    sorted.get(nearest_rank(n, p) - 1).copied()
}

/// The arithmetic mean, or `None` when there are no values.
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

/// The sample standard deviation (divisor n - 1), or `None` for fewer than two values.
pub fn sample_std(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = mean(values)?;
    let squares: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    Some((squares / (values.len() - 1) as f64).sqrt())
}

/// The slope of the ordinary least-squares line through the points `(x, y)`, multiplied by `per`:
/// `per * (n * sum(x y) - sum(x) sum(y)) / (n * sum(x^2) - sum(x)^2)`. Computed in whole numbers
/// with a single rounding at the end, so a flat or straight series gives its slope exactly.
/// `None` for fewer than two points or when every x is the same.
pub fn least_squares_slope(points: &[(i64, i64)], per: i64) -> Option<f64> {
    least_squares_slope_of(points.iter().copied(), per)
}

/// [`least_squares_slope`] of the points `points` yields, for points worked out on the way rather
/// than held.
pub fn least_squares_slope_of(points: impl Iterator<Item = (i64, i64)>, per: i64) -> Option<f64> {
    let mut slope = Slope::new();
    for (x, y) in points {
        slope.add(x, y);
    }
    slope.slope(per)
}

/// The sums behind a least-squares slope, added to a point at a time ([`least_squares_slope`]
/// once every point is in): `(n, sum x, sum y, sum x², sum x y)` in whole numbers while they fit,
/// in floating point from the first point that does not.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Slope {
    /// Every sum so far in whole numbers.
    Exact(u64, i128, i128, i128, i128),
    /// Past whole numbers.
    Float(u64, f64, f64, f64, f64),
}

impl Default for Slope {
    fn default() -> Slope {
        Slope::new()
    }
}

impl Slope {
    /// No points yet.
    pub fn new() -> Slope {
        Slope::Exact(0, 0, 0, 0, 0)
    }

    /// Adds the point `(x, y)`.
    pub fn add(&mut self, x: i64, y: i64) {
        *self = match *self {
            Slope::Exact(n, sx, sy, sxx, sxy) => {
                let (xi, yi) = (i128::from(x), i128::from(y));
                let sums = || {
                    Some((
                        sx.checked_add(xi)?,
                        sy.checked_add(yi)?,
                        sxx.checked_add(xi.checked_mul(xi)?)?,
                        sxy.checked_add(xi.checked_mul(yi)?)?,
                    ))
                };
                match sums() {
                    Some((sx, sy, sxx, sxy)) => Slope::Exact(n + 1, sx, sy, sxx, sxy),
                    None => {
                        let (x, y) = (x as f64, y as f64);
                        let (sx, sy) = (sx as f64 + x, sy as f64 + y);
                        Slope::Float(n + 1, sx, sy, sxx as f64 + x * x, sxy as f64 + x * y)
                    }
                }
            }
            Slope::Float(n, sx, sy, sxx, sxy) => {
                let (x, y) = (x as f64, y as f64);
                Slope::Float(n + 1, sx + x, sy + y, sxx + x * x, sxy + x * y)
            }
        }
    }

    /// The slope of the ordinary least-squares line through the points so far, times `per`:
    /// `per * (n * sum(x y) - sum(x) sum(y)) / (n * sum(x^2) - sum(x)^2)`, in whole numbers with a
    /// single rounding at the end, so a flat or straight series gives its slope exactly (past
    /// whole numbers, the same formula in floating point). `None` for fewer than two points or
    /// when every x is the same.
    pub fn slope(&self, per: i64) -> Option<f64> {
        let (num, den) = match *self {
            Slope::Exact(n, sx, sy, sxx, sxy) if n >= 2 => {
                let n = i128::from(n);
                let exact = || {
                    let num = n.checked_mul(sxy)?.checked_sub(sx.checked_mul(sy)?)?;
                    let den = n.checked_mul(sxx)?.checked_sub(sx.checked_mul(sx)?)?;
                    Some((num.checked_mul(i128::from(per))? as f64, den as f64))
                };
                match exact() {
                    Some(v) => v,
                    None => Slope::Float(n as u64, sx as f64, sy as f64, sxx as f64, sxy as f64)
                        .float(per)?,
                }
            }
            Slope::Float(n, ..) if n >= 2 => self.float(per)?,
            _ => return None,
        };
        (den > 0.0).then(|| num / den)
    }

    /// The numerator and denominator of the slope from floating-point sums.
    fn float(&self, per: i64) -> Option<(f64, f64)> {
        let Slope::Float(n, sx, sy, sxx, sxy) = *self else {
            return None;
        };
        let n = n as f64;
        Some(((n * sxy - sx * sy) * per as f64, n * sxx - sx * sx))
    }
}

/// Mean, sample standard deviation, min and max of one figure across trials.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// How many trials had a value.
    pub n: u64,
    /// The mean.
    pub mean: f64,
    /// The sample standard deviation; `None` for a single value.
    pub std: Option<f64>,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Summary {
    /// The summary of `values`, or `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Summary> {
        Some(Summary {
            n: values.len() as u64,
            mean: mean(values)?,
            std: sample_std(values),
            min: values.iter().copied().reduce(f64::min)?,
            max: values.iter().copied().reduce(f64::max)?,
        })
    }
}

/// Reads one statistic of a [`Summary`].
pub type Stat = fn(&Summary) -> Option<f64>;

/// The statistics across trials by name, in the order the outputs list them.
pub const STATS: [(&str, Stat); 5] = [
    ("n", |s| Some(s.n as f64)),
    ("mean", |s| Some(s.mean)),
    ("std", |s| s.std),
    ("min", |s| Some(s.min)),
    ("max", |s| Some(s.max)),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_of_twenty_values() {
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile_sorted(&values, 50.0), Some(10.0));
        assert_eq!(percentile_sorted(&values, 95.0), Some(19.0));
        assert_eq!(percentile_sorted(&values, 99.0), Some(20.0));
        assert_eq!(percentile_sorted(&values, 100.0), Some(20.0));
        assert_eq!(percentile_sorted(&[7.0], 50.0), Some(7.0));
        assert_eq!(percentile_sorted(&[], 50.0), None);
    }

    #[test]
    fn distribution_sorts_its_input() {
        let d = Distribution::of(&[3.0, 1.0, 2.0, 10.0]).expect("four values");
        assert_eq!(
            d,
            Distribution {
                count: 4,
                mean: 4.0,
                max: 10.0,
                p50: 2.0,
                p95: 10.0,
                p99: 10.0
            }
        );
        assert_eq!(Distribution::of(&[]), None);
    }

    #[test]
    fn scaled_counts_give_the_distribution_of_the_values_one_by_one() {
        let ks: [i64; 9] = [-3, 1001, 7, 7, 250, 1001, 1001, 99_999, 0];
        let values: Vec<f64> = ks.iter().map(|&k| k as f64 / 1000.0).collect();
        let mut counts = std::collections::BTreeMap::new();
        for k in ks {
            *counts.entry(k).or_insert(0u64) += 1;
        }
        assert_eq!(
            Distribution::of_scaled_counts(&counts, 1000.0),
            Distribution::of(&values)
        );
        assert_eq!(
            Distribution::of_scaled_counts(&Default::default(), 1.0),
            None
        );
    }

    #[test]
    fn a_slope_added_a_point_at_a_time_equals_the_slope_of_the_points() {
        let points: Vec<(i64, i64)> = (0..50).map(|i| (i * 37 % 101, (i * i) % 17)).collect();
        let mut s = Slope::new();
        for &(x, y) in &points {
            s.add(x, y);
        }
        assert_eq!(s.slope(60), least_squares_slope(&points, 60));
        assert!(s.slope(60).is_some());
    }

    #[test]
    fn slope_of_a_straight_line_and_degenerate_cases() {
        // y = 3 + x / 2: half a unit per x, 30 per 60 x.
        let line: Vec<(i64, i64)> = (0..5).map(|i| (2 * i, 3 + i)).collect();
        assert_eq!(least_squares_slope(&line, 1), Some(0.5));
        assert_eq!(least_squares_slope(&line, 60), Some(30.0));
        let flat: Vec<(i64, i64)> = [(0, 0), (5, 0), (10, 1), (15, 0), (20, 0)].into();
        assert_eq!(least_squares_slope(&flat, 60), Some(0.0));
        assert_eq!(least_squares_slope(&[(1, 2)], 1), None);
        assert_eq!(least_squares_slope(&[(1, 2), (1, 5)], 1), None);
        // Past whole numbers, the floating-point path gives the same slope.
        let big: Vec<(i64, i64)> = (0..3).map(|i| (i * (i64::MAX / 2), 7 * i)).collect();
        let slope = least_squares_slope(&big, 1).expect("a slope");
        assert!((slope - 7.0 / (i64::MAX / 2) as f64).abs() < 1e-30);
    }

    #[test]
    fn summary_uses_the_sample_standard_deviation() {
        let s = Summary::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).expect("values");
        assert_eq!(s.n, 8);
        assert_eq!(s.mean, 5.0);
        assert_eq!(s.std, Some((32.0f64 / 7.0).sqrt()));
        assert_eq!((s.min, s.max), (2.0, 9.0));
        assert_eq!(Summary::of(&[3.0]).map(|s| s.std), Some(None));
        assert_eq!(Summary::of(&[]), None);
    }
}
