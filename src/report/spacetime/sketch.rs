//! The space-time diagram's share of a [`Sketch`](crate::report::sketch::Sketch): the rows of a span of time that
//! holds the diagram's window whatever it turns out to be ([`Plan`]), the messages with an end in
//! that span, how many rows came before it, and each machine's last row. From these, once the
//! trial went by, it places the window exactly as [`auto_window`] does from every row, and gives
//! the [`Scene`] the diagram draws.
//!
//! [`auto_window`]: crate::report::spacetime::auto_window

use std::collections::BinaryHeap;

use super::order::Order;
use super::{
    AUTO_EVENTS, AUTO_SECONDS, Arrow, JumpAt, Lost, Mark, Scene, Times, Window, largest_jump,
    place, since,
};
use crate::analysis::stream::{Seen, Unreceived, Watch};
use crate::analysis::{TrialAnalysis, TrialInput};
use crate::core::event::EventKind;

/// How far beyond [`AUTO_SECONDS`] of its anchor (the jump, or the first event) the rows kept
/// for an automatic window reach, microseconds: more than the window's padding (3% of
/// [`AUTO_SECONDS`]).
const MARGIN_US: u64 = 300_000;

/// Where the diagram's window will be, as far as it is known before the rows go by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Plan {
    /// `--window`: exactly this.
    Given(Window),
    /// Around the largest jump: the row `index` of the machine at position `machine`, at about
    /// `near_us` (microseconds since the UNIX epoch).
    Jump {
        /// The machine's position in the trial.
        machine: usize,
        /// The row's index in its log.
        index: usize,
        /// About when, microseconds since the UNIX epoch.
        near_us: u64,
    },
    /// No clock jumped by more than one: the first events.
    First,
}

impl Plan {
    /// The plan for `t` from its rows: `window` if given, else its largest jump ([`largest_jump`]).
    pub fn of(t: &TrialInput, window: Option<Window>) -> Plan {
        if let Some(w) = window {
            return Plan::Given(w);
        }
        match largest_jump(t) {
            Some((at, (machine, index))) => Plan::Jump {
                machine,
                index,
                near_us: at.time_us,
            },
            None => Plan::First,
        }
    }

    /// The plan from a trial's figures: `window` if given, else the largest of the machines'
    /// largest jumps over 1, the earliest of equal ones, the first machine's of equal ones at one
    /// time ([`auto_window`](crate::report::spacetime::auto_window)'s rule).
    pub fn from_analysis(a: &TrialAnalysis, window: Option<Window>) -> Plan {
        if let Some(w) = window {
            return Plan::Given(w);
        }
        let mut best: Option<(usize, &crate::analysis::Jump)> = None;
        for (i, m) in a.machines.iter().enumerate() {
            let Some(j) = m.largest_jumps.first().filter(|j| j.size > 1) else {
                continue;
            };
            if best
                .is_none_or(|(_, b)| j.size > b.size || (j.size == b.size && j.time_s < b.time_s))
            {
                best = Some((i, j));
            }
        }
        match best {
            Some((machine, j)) => {
                let near = i128::from(a.start_us) + (j.time_s * 1e6).round() as i128;
                Plan::Jump {
                    machine,
                    index: j.line.saturating_sub(2) as usize,
                    near_us: u64::try_from(near.max(0)).unwrap_or(u64::MAX),
                }
            }
            None => Plan::First,
        }
    }
}

/// What the diagram needs of a trial, gathered as it streams by ([`Watch`]).
#[derive(Debug)]
pub struct DiagramSketch {
    start_us: u64,
    ids: Vec<u16>,
    plan: Plan,
    order: Order,
    /// Per machine, the rows kept, in log order, with their times.
    marks: Vec<Vec<Mark>>,
    /// The messages with an end in the kept span.
    arrows: Vec<Arrow>,
    /// Per machine, its latest row's clock and time.
    previous: Vec<u64>,
    last_us: Vec<Option<u64>>,
    /// Rows seen, and of them before the kept span.
    total: usize,
    below: usize,
    /// The jump, once its row went by.
    jump: Option<JumpAt>,
    /// Without a jump: the [`AUTO_EVENTS`] earliest times, the latest on top.
    earliest: BinaryHeap<u64>,
    /// How many rows are kept, and how many may be before those outside the span are dropped.
    kept: usize,
    prune_at: usize,
    /// The earliest and latest time seen.
    span: Option<(u64, u64)>,
    /// Whether a row lies in a given window.
    inside: bool,
}

impl DiagramSketch {
    /// Nothing seen yet of the trial `head` (whose rows need not be there), its window to come
    /// as `plan` says.
    pub fn new(head: &TrialInput, plan: Plan) -> DiagramSketch {
        let n = head.machines.len();
        let ids: Vec<u16> = head.machines.iter().map(|m| m.id).collect();
        DiagramSketch {
            start_us: head.start_us,
            order: Order::new(ids.clone()),
            ids,
            plan,
            marks: vec![Vec::new(); n],
            arrows: Vec::new(),
            previous: vec![0; n],
            last_us: vec![None; n],
            total: 0,
            below: 0,
            jump: None,
            earliest: BinaryHeap::with_capacity(AUTO_EVENTS + 1),
            kept: 0,
            prune_at: 4096,
            span: None,
            inside: false,
        }
    }

    /// The times kept: from `lo` to `hi`, microseconds since the UNIX epoch, both included.
    fn kept_span(&self) -> (u64, u64) {
        let reach = (AUTO_SECONDS * 1e6) as u64 + MARGIN_US;
        match self.plan {
            Plan::Given(_) => (0, u64::MAX),
            Plan::Jump { near_us, .. } => {
                (near_us.saturating_sub(reach), near_us.saturating_add(reach))
            }
            // The window ends by the AUTO_EVENTS-th time, and by AUTO_SECONDS after the first,
            // padded: both only come down as rows go by.
            Plan::First => {
                let Some((first, _)) = self.span else {
                    return (0, u64::MAX);
                };
                let mut end = first.saturating_add(reach);
                if self.earliest.len() >= AUTO_EVENTS
                    && let Some(&t) = self.earliest.peek()
                {
                    end = end.min(t.saturating_add(MARGIN_US));
                }
                (0, end)
            }
        }
    }

    /// Whether a row at `t_us` may lie in the window.
    fn keeps(&self, t_us: u64) -> bool {
        match self.plan {
            Plan::Given(w) => w.holds(since(self.start_us, t_us)),
            _ => {
                let (lo, hi) = self.kept_span();
                (lo..=hi).contains(&t_us)
            }
        }
    }

    /// Drops the rows and messages the span no longer holds (it shrinks without a jump).
    fn prune(&mut self) {
        let (lo, hi) = self.kept_span();
        let keeps = |t: u64| (lo..=hi).contains(&t);
        for m in &mut self.marks {
            m.retain(|r| keeps(r.time_us));
        }
        self.arrows.retain(|a| keeps(a.from.0) || keeps(a.to.0));
        self.kept = self.marks.iter().map(Vec::len).sum();
        self.prune_at = (2 * self.kept).max(4096);
    }

    /// Whether some row lies in `--window`, and the times of the first and last rows, seconds
    /// since the start ([`window_warning`](crate::report::sketch::window_warning)).
    pub fn seen_span(&self) -> (bool, Option<(f64, f64)>) {
        let s = |t| since(self.start_us, t);
        (self.inside, self.span.map(|(a, b)| (s(a), s(b))))
    }

    /// How many rows are kept.
    pub fn kept_rows(&self) -> usize {
        self.marks.iter().map(Vec::len).sum()
    }

    /// How many messages are in flight for the order of messages (at the end: those never
    /// received).
    pub fn in_flight(&self) -> usize {
        self.order.in_flight()
    }

    /// The window, why it was chosen, and what the diagram draws in it; `unreceived` gives the
    /// messages never received.
    pub fn finish(mut self, unreceived: &[Unreceived]) -> (Window, String, Scene) {
        let (window, why) = match self.plan {
            Plan::Given(w) => (w, "the window given by --window".to_owned()),
            _ => {
                self.prune();
                let mut times: Vec<u64> = self.marks.iter().flatten().map(|m| m.time_us).collect();
                times.sort_unstable();
                let times = Times {
                    total: self.total,
                    below: self.below,
                    kept: &times,
                };
                place(times, self.jump, self.start_us)
            }
        };
        let mut lost = Vec::new();
        for u in unreceived {
            let send = self.order.send_key(u.send.event);
            for &to in &u.receivers {
                lost.push(Lost {
                    send,
                    from: (u.send.time_us, u.send.event.machine),
                    to,
                });
            }
        }
        let mut scene = Scene {
            marks: self.marks,
            arrows: self.arrows,
            lost,
            last_us: self.last_us,
        };
        scene.sort();
        (window, why, scene)
    }
}

impl Watch for DiagramSketch {
    fn seen(&mut self, e: &Seen<'_>) {
        let (i, r) = (e.event.machine, e.record);
        let t = r.system_time_us;
        self.span = Some(self.span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
        if let Plan::Given(w) = self.plan {
            self.inside |= w.holds(since(self.start_us, t));
        }
        // A trial too large for vector clocks gets no diagram: only its span is needed.
        if e.vector.is_none() {
            return;
        }
        let (key, send_key) = self.order.seen(e);
        self.total += 1;
        let previous = self.previous.get(i).copied().unwrap_or(0);
        if let Plan::Jump { machine, index, .. } = self.plan
            && (machine, index) == (i, e.event.index)
        {
            self.jump = Some(JumpAt {
                time_us: t,
                machine: self.ids.get(i).copied().unwrap_or(0),
                from: previous,
                to: r.logical_clock,
            });
        }
        if let (Some(p), Some(l)) = (self.previous.get_mut(i), self.last_us.get_mut(i)) {
            *p = r.logical_clock;
            *l = Some(t);
        }
        if self.plan == Plan::First {
            if self.earliest.len() < AUTO_EVENTS {
                self.earliest.push(t);
            } else if self.earliest.peek().is_some_and(|&top| t < top) {
                self.earliest.pop();
                self.earliest.push(t);
            }
        }
        if self.keeps(t) {
            if let Some(m) = self.marks.get_mut(i) {
                m.push(Mark {
                    time_us: t,
                    kind: r.event,
                    clock: r.logical_clock,
                    jumped: r.logical_clock > previous.saturating_add(1),
                });
                self.kept += 1;
            }
        } else if t < self.kept_span().0 {
            self.below += 1;
        }
        if let (Some(s), Some(send)) = (e.send, send_key) {
            let colour = match s.kind {
                EventKind::Send => 1,
                EventKind::Broadcast => 2,
                _ => 0,
            };
            if colour > 0 && (self.keeps(s.time_us) || self.keeps(t)) {
                self.arrows.push(Arrow {
                    send,
                    receive: key,
                    from: (s.time_us, s.event.machine),
                    to: (t, i),
                    colour,
                });
            }
        }
        if self.kept > self.prune_at {
            self.prune();
        }
    }
}
