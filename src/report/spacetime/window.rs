//! The diagram's window of time: given (`--window`, [`parse_window`]) or placed around the
//! trial's largest clock jump ([`place`], [`auto_window`]). Placing needs only how many events
//! come before the jump and the times of those near it ([`Times`]), so a trial that streams by
//! keeps just the rows of a span around the jump (docs/ANALYSIS.md, "The space-time diagram").

use super::{AUTO_EVENTS, AUTO_SECONDS};
use crate::analysis::TrialInput;

/// A window of time, seconds since the trial's start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    /// Its start.
    pub start_s: f64,
    /// Its end, after the start.
    pub end_s: f64,
}

impl Window {
    /// Whether `s` seconds since the trial's start lie in the window, its ends included.
    pub fn holds(&self, s: f64) -> bool {
        (self.start_s..=self.end_s).contains(&s)
    }
}

/// A `--window` that is not `START..END` with `0 <= START < END`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "a window is START..END in seconds since the trial's start, such as 10s..15s or 2.5..4, with \
     0 <= START < END"
)]
pub struct WindowError {
    /// The text given.
    pub text: String,
}

/// `--window START..END`: seconds since the trial's start, each with an optional `s`
/// (`10s..15s`, `2.5..4`), `0 <= START < END`.
pub fn parse_window(text: &str) -> Result<Window, WindowError> {
    let rule = || WindowError {
        text: text.to_owned(),
    };
    let seconds = |part: &str| -> Option<f64> {
        let part = part.trim();
        let number = part.strip_suffix('s').unwrap_or(part);
        number.parse::<f64>().ok().filter(|v| v.is_finite())
    };
    let (a, b) = text.split_once("..").ok_or_else(rule)?;
    match (seconds(a), seconds(b)) {
        (Some(start_s), Some(end_s)) if 0.0 <= start_s && start_s < end_s => {
            Ok(Window { start_s, end_s })
        }
        _ => Err(rule()),
    }
}

/// Seconds from `start_us` (a trial's start) to `t_us`.
pub fn since(start_us: u64, t_us: u64) -> f64 {
    (i128::from(t_us) - i128::from(start_us)) as f64 / 1e6
}

/// The largest clock jump of a trial, as the window is placed around it: which machine (its id),
/// from what clock to what, when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JumpAt {
    /// The row's `system_time`, microseconds since the UNIX epoch.
    pub time_us: u64,
    /// The machine's id.
    pub machine: u16,
    /// The clock before the row (0 before the first).
    pub from: u64,
    /// The row's clock.
    pub to: u64,
}

/// The times of a trial's events as placing a window needs them: how many there are, and, in
/// ascending order, those of a span (every event's, for a whole trial), after `below` earlier
/// ones.
#[derive(Clone, Copy, Debug)]
pub struct Times<'a> {
    /// Every event of the trial.
    pub total: usize,
    /// The events before the span.
    pub below: usize,
    /// The times in the span, ascending.
    pub kept: &'a [u64],
}

impl Times<'_> {
    /// The `i`-th smallest time (from 0) in seconds since `start_us`: -∞ before the span, +∞
    /// after it.
    fn seconds(&self, i: usize, start_us: u64) -> f64 {
        match i.checked_sub(self.below) {
            None => f64::NEG_INFINITY,
            Some(k) => self
                .kept
                .get(k)
                .map_or(f64::INFINITY, |&t| since(start_us, t)),
        }
    }
}

/// The window drawn when none is given: the [`AUTO_EVENTS`] events around the largest clock jump
/// `jump` (half before it), cut to [`AUTO_SECONDS`] around it; the first [`AUTO_EVENTS`] events
/// when no clock jumped by more than one. Padded by 3% either side so that no mark sits on the
/// edge. Also answers why, in words.
///
/// `times` must hold every time within `AUTO_SECONDS + 0.2` s of the jump (the window lies within
/// `AUTO_SECONDS` of it, padded by at most 3% of that): an event further away only shows that
/// the window is cut to [`AUTO_SECONDS`], which the infinities of [`Times`] give as well.
/// Without a jump, `times` must hold the [`AUTO_EVENTS`] first times.
pub fn place(times: Times<'_>, jump: Option<JumpAt>, start_us: u64) -> (Window, String) {
    if times.total == 0 {
        return (
            Window {
                start_s: 0.0,
                end_s: 1.0,
            },
            "no events".to_owned(),
        );
    }
    let last = times.total - 1;
    let at_s = |i: usize| times.seconds(i, start_us);
    let (lo, hi, why) = match jump {
        Some(jump) => {
            let t = jump.time_us;
            let at = times.below + times.kept.partition_point(|&x| x < t);
            let lo = at.saturating_sub(AUTO_EVENTS / 2);
            let hi = (lo + AUTO_EVENTS - 1).min(last);
            let lo = hi.saturating_sub(AUTO_EVENTS - 1).min(lo);
            let (mut a, mut b) = (at_s(lo), at_s(hi));
            let centre = since(start_us, t);
            if b - a > AUTO_SECONDS {
                a = a.max(centre - AUTO_SECONDS / 2.0);
                b = a + AUTO_SECONDS;
            }
            let JumpAt {
                machine, from, to, ..
            } = jump;
            let why = format!(
                "around the largest clock jump: machine {machine}'s clock jumped {from} → {to} at \
                 {centre:.3} s"
            );
            (a, b, why)
        }
        None => {
            let hi = (AUTO_EVENTS - 1).min(last);
            let (a, mut b) = (at_s(0), at_s(hi));
            b = b.min(a + AUTO_SECONDS);
            (
                a,
                b,
                "the first events (no clock jumped by more than 1)".to_owned(),
            )
        }
    };
    let pad = ((hi - lo) * 0.03).max(0.001);
    let window = Window {
        start_s: (lo - pad).max(0.0).min(lo),
        end_s: hi + pad,
    };
    (window, why)
}

/// The largest clock jump of `trial` over 1, the earliest of equal jumps, the first machine's of
/// equal jumps at one time; with its row's place (machine position, row index).
pub fn largest_jump(trial: &TrialInput) -> Option<(JumpAt, (usize, usize))> {
    let mut jump: Option<(JumpAt, (usize, usize))> = None;
    for (i, m) in trial.machines.iter().enumerate() {
        let mut previous = 0;
        for (k, r) in m.records.iter().enumerate() {
            let size = r.logical_clock.saturating_sub(previous);
            let t = r.system_time_us;
            let better = |j: &JumpAt| {
                let best = j.to - j.from;
                size > best || (size == best && t < j.time_us)
            };
            if size > 1 && jump.as_ref().is_none_or(|(j, _)| better(j)) {
                let at = JumpAt {
                    time_us: t,
                    machine: m.id,
                    from: previous,
                    to: r.logical_clock,
                };
                jump = Some((at, (i, k)));
            }
            previous = r.logical_clock;
        }
    }
    jump
}

/// The window drawn when none is given ([`place`]), from every row of `trial`; also answers why,
/// in words, naming the machine that jumped (`around the largest clock jump: machine 3's clock
/// jumped 1 → 5 at 0.260 s`).
pub fn auto_window(trial: &TrialInput) -> (Window, String) {
    let mut times: Vec<u64> = trial
        .machines
        .iter()
        .flat_map(|m| m.records.iter().map(|r| r.system_time_us))
        .collect();
    times.sort_unstable();
    let all = Times {
        total: times.len(),
        below: 0,
        kept: &times,
    };
    place(all, largest_jump(trial).map(|j| j.0), trial.start_us)
}
