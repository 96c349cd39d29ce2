//! Drift as the stream goes: every machine's clock at each sampling instant, [`DRIFT_STEP_US`]
//! apart from the latest first row to the earliest last row. An instant is settled once every
//! machine has a row after it; until then the clocks of the machines that have are held, so what
//! is held is the instants between the machine furthest on in time and the one furthest behind,
//! not the trial's. Settled instants feed the drift figures and the drift series.
//!
//! The series is kept whole up to [`SERIES_INSTANTS`] instants (27 minutes); past that only every
//! second instant is kept, then every fourth, and so on, so a trial of any length keeps at most
//! that many for its drift plot. The figures count every instant.

use std::collections::VecDeque;

use crate::analysis::{DRIFT_STEP_US, DriftFigures, DriftSeries};

/// The most instants the drift series keeps.
pub const SERIES_INSTANTS: usize = 16_384;

/// Running max, sum and last of a distance behind, and how many instants.
#[derive(Clone, Copy, Debug, Default)]
struct Behind {
    max: u64,
    sum: u64,
    last: u64,
    n: u64,
}

impl Behind {
    fn add(&mut self, d: u64) {
        self.max = self.max.max(d);
        self.sum += d;
        self.last = d;
        self.n += 1;
    }

    fn figures(&self) -> Option<DriftFigures> {
        (self.n > 0).then(|| DriftFigures {
            max: self.max,
            mean: self.sum as f64 / self.n as f64,
            last: self.last,
        })
    }
}

/// The drift of a trial's machines as their rows go by.
#[derive(Debug)]
pub(super) struct Drift {
    /// The first instant, microseconds since the UNIX epoch; `None` for a trial without rows.
    first: Option<u64>,
    start_us: u64,
    /// Which machines have rows.
    present: Vec<bool>,
    present_count: u32,
    /// The first instant not settled, from 0.
    settled: u64,
    /// Per machine its clock at each instant from `settled` on that it has passed.
    clocks: Vec<VecDeque<u64>>,
    /// Per instant from `settled` on, how many machines have passed it.
    passed: VecDeque<u32>,
    behind: Vec<Behind>,
    largest: Behind,
    series: DriftSeries,
    /// The series keeps every `stride`-th instant.
    stride: u64,
}

impl Drift {
    /// Drift for machines of which `present` have rows, the earliest of all having its first at
    /// `first` (the latest first row).
    pub fn new(present: Vec<bool>, first: Option<u64>, start_us: u64) -> Drift {
        let n = present.len();
        Drift {
            first,
            start_us,
            present_count: present.iter().filter(|&&p| p).count() as u32,
            present,
            settled: 0,
            clocks: vec![VecDeque::new(); n],
            passed: VecDeque::new(),
            behind: vec![Behind::default(); n],
            largest: Behind::default(),
            series: DriftSeries {
                drift: vec![Vec::new(); n],
                ..DriftSeries::default()
            },
            stride: 1,
        }
    }

    /// Machine `i`, whose clock is `clock` since its last row (`None` before its first), is
    /// about to take a row at `t_us`: its clock at every instant before `t_us` is `clock`.
    pub fn before_row(&mut self, i: usize, t_us: u64, clock: Option<u64>) {
        let (Some(first), Some(clock)) = (self.first, clock) else {
            return;
        };
        loop {
            let k = self.settled + self.clocks[i].len() as u64;
            if first + k * DRIFT_STEP_US >= t_us {
                break;
            }
            self.clocks[i].push_back(clock);
            let at = (k - self.settled) as usize;
            if self.passed.len() <= at {
                self.passed.resize(at + 1, 0);
            }
            self.passed[at] += 1;
        }
        while self.passed.front() == Some(&self.present_count) {
            self.settle();
        }
    }

    /// Settles the first unsettled instant, which every machine with rows has passed.
    fn settle(&mut self) {
        self.passed.pop_front();
        let clocks: Vec<Option<u64>> = self
            .clocks
            .iter_mut()
            .zip(&self.present)
            .map(|(c, &p)| if p { c.pop_front() } else { None })
            .collect();
        let top = clocks.iter().flatten().copied().max().unwrap_or(0);
        let bottom = clocks.iter().flatten().copied().min().unwrap_or(0);
        let k = self.settled;
        self.settled += 1;
        let keep = k % self.stride == 0;
        for (i, c) in clocks.iter().enumerate() {
            if let Some(c) = c {
                self.behind[i].add(top - c);
                if keep {
                    self.series.drift[i].push(-((top - c) as i64));
                }
            }
        }
        self.largest.add(top - bottom);
        if keep {
            self.series.largest.push(top - bottom);
            let t = self.first.unwrap_or(0) + k * DRIFT_STEP_US;
            let since = (i128::from(t) - i128::from(self.start_us)) as f64 / 1e6;
            self.series.times_s.push(since);
            if self.series.times_s.len() >= SERIES_INSTANTS {
                self.halve();
            }
        }
    }

    /// Keeps every second instant of the series, and from now on every `2 * stride`-th.
    fn halve(&mut self) {
        fn every_other<T: Copy>(v: &mut Vec<T>) {
            let kept: Vec<T> = v.iter().copied().step_by(2).collect();
            *v = kept;
        }
        every_other(&mut self.series.times_s);
        every_other(&mut self.series.largest);
        for d in &mut self.series.drift {
            every_other(d);
        }
        self.stride *= 2;
    }

    /// Settles every instant up to the earliest last row, `clocks` giving each machine's last
    /// clock and the time of its last row; answers each machine's drift figures, the trial's,
    /// and the series.
    pub fn finish(
        mut self,
        last: &[Option<(u64, u64)>],
    ) -> (Vec<Option<DriftFigures>>, Option<DriftFigures>, DriftSeries) {
        let end = last.iter().flatten().map(|&(t, _)| t).min();
        if let (Some(first), Some(end)) = (self.first, end) {
            if end >= first {
                for (i, l) in last.iter().enumerate() {
                    if let Some((_, clock)) = *l {
                        self.before_row(i, end + 1, Some(clock));
                    }
                }
            }
        }
        let figures = self.behind.iter().map(Behind::figures).collect();
        (figures, self.largest.figures(), self.series)
    }
}
