//! A line of a plot built point by point, in the memory of the points it draws: each point is
//! seen once, and only the thinned line ([`thin`](super::thin)'s rule) and the extremes of every
//! point (which set the axes) are kept. So a line of a million rows holds about 2,000
//! (`MAX_POINTS`) points, and draws exactly what thinning the whole series would.

use super::MAX_POINTS;

/// One line of a plot: its name in the legend, its points thinned to about 2,000
/// (`MAX_POINTS`), and the extremes of all its points, before thinning.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Its legend label.
    pub name: String,
    /// Its points, thinned, in order.
    pub points: Vec<(f64, f64)>,
    /// The smallest x of any point, and 0 if that is smaller.
    pub x_min: f64,
    /// The largest x of any point, and 0 if that is larger.
    pub x_max: f64,
    /// The smallest y of any point (`f64::MAX` without points).
    pub y_min: f64,
    /// The largest y of any point (`f64::MIN` without points).
    pub y_max: f64,
}

impl Line {
    /// The line of all of `points`, thinned.
    pub fn of(name: String, points: &[(f64, f64)]) -> Line {
        let mut t = Thinning::new(name, points.len());
        for &p in points {
            t.push(p);
        }
        t.finish()
    }
}

/// A [`Line`] as its points go by. Told how many points the line has, it cuts them into runs of
/// `len.div_ceil(max / 2)` consecutive points (runs of one when there are at most `max`) and keeps
/// each run's lowest point (the first of equals) and highest (the last of equals), in order.
#[derive(Clone, Debug)]
pub struct Thinning {
    line: Line,
    /// Points per run.
    run: usize,
    /// Points of the current run seen so far.
    seen: usize,
    /// The current run's lowest and highest points, with their places in the run.
    low: Option<(usize, (f64, f64))>,
    high: Option<(usize, (f64, f64))>,
}

impl Thinning {
    /// A line named `name` of `len` points, thinned to about 2,000 (`MAX_POINTS`).
    pub fn new(name: String, len: usize) -> Thinning {
        Thinning::with_max(name, len, MAX_POINTS)
    }

    /// A line of `len` points thinned to about `max` (at least 2).
    pub fn with_max(name: String, len: usize, max: usize) -> Thinning {
        let run = if len <= max { 1 } else { len.div_ceil(max / 2) };
        Thinning {
            line: Line {
                name,
                points: Vec::with_capacity(len.min(max + 1)),
                x_min: 0.0,
                x_max: 0.0,
                y_min: f64::MAX,
                y_max: f64::MIN,
            },
            run,
            seen: 0,
            low: None,
            high: None,
        }
    }

    /// The next point of the line.
    pub fn push(&mut self, p: (f64, f64)) {
        let l = &mut self.line;
        l.x_min = l.x_min.min(p.0);
        l.x_max = l.x_max.max(p.0);
        l.y_min = l.y_min.min(p.1);
        l.y_max = l.y_max.max(p.1);
        let at = self.seen;
        if self.low.is_none_or(|(_, q)| p.1.total_cmp(&q.1).is_lt()) {
            self.low = Some((at, p));
        }
        if self.high.is_none_or(|(_, q)| p.1.total_cmp(&q.1).is_ge()) {
            self.high = Some((at, p));
        }
        self.seen += 1;
        if self.seen == self.run {
            self.end_run();
        }
    }

    /// Keeps the current run's lowest and highest points, in order, and starts the next run.
    fn end_run(&mut self) {
        if let (Some((i, a)), Some((j, b))) = (self.low.take(), self.high.take()) {
            let kept = &mut self.line.points;
            match i.cmp(&j) {
                std::cmp::Ordering::Less => kept.extend([a, b]),
                std::cmp::Ordering::Greater => kept.extend([b, a]),
                std::cmp::Ordering::Equal => kept.push(a),
            }
        }
        self.seen = 0;
    }

    /// The line, once every point went by.
    pub fn finish(mut self) -> Line {
        self.end_run();
        self.line
    }
}
