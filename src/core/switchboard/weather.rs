//! The weather: a fault plan's `delay` and `partition` rules, applied to each data frame as it is
//! routed, time as an argument. Windows are `[from, to)` of the trial, counted from the common
//! start time announced in WELCOME; before it, no rule holds.
//!
//! A frame a rule acts on is **held** (a copy of its bytes, so that it pins no read buffer) in the
//! queue of its ordered pair until its release time, or **dropped** (a partition in `drop` mode).
//! A `delay` holds it for a draw of its latency model (from the run's [`Stream::Weather`]); a
//! partition in `hold` mode holds it until the window ends, as TCP would after a healed link.
//! Both at once add up: the delay counts from the window's end. A frame of a pair whose queue is
//! not empty is held behind it, whatever the rules say, and a release time is never before the
//! one ahead of it: the frames of one sender to one receiver keep their order.
//!
//! At its release time (see [`Switchboard::poll_timeout`]) a held frame goes to its receiver's
//! outbox like any frame, or is booked undeliverable if the receiver has departed. Held frames
//! count against their receiver's outbox high water and against the buffer limit (through the
//! memory door), so a partition stops a fast sender as a slow reader would.

use std::collections::VecDeque;

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

use crate::core::fault::{Link, PartitionMode, Window};
use crate::core::latency::Latency;
use crate::core::seed::{self, Stream};

use super::Switchboard;

/// Extra latency on the frames of a link during a window.
#[derive(Clone, Debug, PartialEq)]
pub struct Delay {
    /// The frames it acts on.
    pub link: Link,
    /// When, from the trial's start.
    pub window: Window,
    /// The extra latency.
    pub latency: Latency,
}

/// Groups of machines that do not reach each other during a window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// The groups, machine ids; a machine in no group reaches every machine.
    pub groups: Vec<Vec<u16>>,
    /// When, from the trial's start.
    pub window: Window,
    /// Whether the frames between groups are held or dropped.
    pub mode: PartitionMode,
}

impl Partition {
    /// Whether a frame from `source` to `dest` crosses it (both in groups, not the same one).
    pub fn separates(&self, source: u16, dest: u16) -> bool {
        let group = |id: u16| self.groups.iter().position(|g| g.contains(&id));
        matches!((group(source), group(dest)), (Some(a), Some(b)) if a != b)
    }
}

/// The rules of a fault plan that the switchboard applies: delays and partitions. Empty: fair
/// weather, and routing takes no other branch than the one that sees it is empty.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// The `delay` faults.
    pub delays: Vec<Delay>,
    /// The `partition` faults.
    pub partitions: Vec<Partition>,
}

impl Plan {
    /// Whether it has no rule.
    pub fn is_empty(&self) -> bool {
        self.delays.is_empty() && self.partitions.is_empty()
    }
}

/// What the weather does with one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Queued as usual.
    Pass,
    /// Held until this time (nanoseconds since the UNIX epoch).
    Hold(u64),
    /// Dropped by a partition in `drop` mode.
    Drop,
}

/// A frame held for later.
#[derive(Debug)]
pub(super) struct Held {
    /// When it goes to its receiver.
    pub(super) release_ns: u64,
    /// Its bytes, a copy.
    pub(super) frame: Bytes,
}

/// The plan in force and the frames it holds.
#[derive(Debug)]
pub(super) struct Weather {
    plan: Plan,
    rng: Xoshiro256PlusPlus,
    machines: usize,
    /// Held frames of `(source, dest)` at `(source - 1) * machines + dest - 1`, in send order.
    queues: Vec<VecDeque<Held>>,
    /// The pairs whose queue is not empty, in no particular order.
    busy: Vec<usize>,
    /// Bytes held for each receiver, by id - 1.
    held_for: Vec<usize>,
    /// Bytes held in all.
    held: usize,
}

impl Weather {
    /// The weather of `plan` among `machines` machines, its draws seeded from the run's `seed`.
    pub(super) fn new(plan: Plan, machines: u16, seed: u64) -> Weather {
        let n = usize::from(machines);
        Weather {
            plan,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed::derive(seed, Stream::Weather)),
            machines: n,
            queues: (0..n * n).map(|_| VecDeque::new()).collect(),
            busy: Vec::new(),
            held_for: vec![0; n],
            held: 0,
        }
    }

    /// Replaces the rules; the frames held stay held until their time.
    pub(super) fn set_plan(&mut self, plan: Plan) {
        self.plan = plan;
    }

    fn index(&self, source: u16, dest: u16) -> usize {
        (usize::from(source) - 1) * self.machines + usize::from(dest) - 1
    }

    /// Whether no rule could act on a frame from `source` to `dest` at `elapsed_ns` of the trial
    /// (`None`: before the start) and none of the pair's frames is held: the fast test, once per
    /// run of frames.
    pub(super) fn clear(&self, source: u16, dest: u16, elapsed_ns: Option<u64>) -> bool {
        if !self.queues[self.index(source, dest)].is_empty() {
            return false;
        }
        let Some(t) = elapsed_ns else {
            return true;
        };
        let delayed = self
            .plan
            .delays
            .iter()
            .any(|d| d.window.contains(t) && d.link.matches(source, dest));
        let parted = self
            .plan
            .partitions
            .iter()
            .any(|p| p.window.contains(t) && p.separates(source, dest));
        !(delayed || parted)
    }

    /// What happens to one frame from `source` to `dest` at `now_ns`, `elapsed_ns` into the
    /// trial (`None`: before the start), in a trial that started at `start_ns`.
    pub(super) fn verdict(
        &mut self,
        source: u16,
        dest: u16,
        now_ns: u64,
        start_ns: u64,
        elapsed_ns: Option<u64>,
    ) -> Verdict {
        let mut release = None;
        if let Some(t) = elapsed_ns {
            for p in &self.plan.partitions {
                if p.window.contains(t) && p.separates(source, dest) {
                    match p.mode {
                        PartitionMode::Drop => return Verdict::Drop,
                        PartitionMode::Hold => {
                            let end = start_ns.saturating_add(p.window.to_ns);
                            release = Some(release.unwrap_or(end).max(end));
                        }
                    }
                }
            }
            for d in &self.plan.delays {
                if d.window.contains(t) && d.link.matches(source, dest) {
                    let extra = d.latency.draw(&mut self.rng);
                    release = Some(release.unwrap_or(now_ns).saturating_add(extra));
                }
            }
        }
        let behind = self.queues[self.index(source, dest)].back();
        match (release, behind) {
            (None, None) => Verdict::Pass,
            (r, b) => {
                let after = b.map_or(now_ns, |h| h.release_ns);
                Verdict::Hold(r.unwrap_or(now_ns).max(after))
            }
        }
    }

    /// Holds `frame` from `source` for `dest` until `release_ns`.
    pub(super) fn hold(&mut self, source: u16, dest: u16, frame: Bytes, release_ns: u64) {
        let i = self.index(source, dest);
        if self.queues[i].is_empty() {
            self.busy.push(i);
        }
        self.held_for[usize::from(dest) - 1] += frame.len();
        self.held += frame.len();
        self.queues[i].push_back(Held { release_ns, frame });
    }

    /// The next frame due by `now_ns`, with its source and destination, taken out of its queue.
    pub(super) fn take_due(&mut self, now_ns: u64) -> Option<(u16, u16, Held)> {
        let (slot, &i) = self.busy.iter().enumerate().find(|&(_, &i)| {
            self.queues[i]
                .front()
                .is_some_and(|h| h.release_ns <= now_ns)
        })?;
        let held = self.queues[i].pop_front()?;
        if self.queues[i].is_empty() {
            self.busy.swap_remove(slot);
        }
        let n = self.machines;
        // Indices come from ids <= 65,534.
        let (source, dest) = ((i / n + 1) as u16, (i % n + 1) as u16);
        self.held_for[usize::from(dest) - 1] -= held.frame.len();
        self.held -= held.frame.len();
        Some((source, dest, held))
    }

    /// The earliest release time of a held frame.
    pub(super) fn next_release(&self) -> Option<u64> {
        self.busy
            .iter()
            .filter_map(|&i| self.queues[i].front().map(|h| h.release_ns))
            .min()
    }

    /// Bytes held for machine `dest`.
    pub(super) fn held_for(&self, dest: u16) -> usize {
        self.held_for
            .get(usize::from(dest).wrapping_sub(1))
            .copied()
            .unwrap_or(0)
    }

    /// Bytes held in all.
    pub(super) fn held(&self) -> usize {
        self.held
    }
}

impl Switchboard {
    /// Puts the `delay` and `partition` rules of a fault plan in force (see `weather`): from now
    /// on, each data frame routed is checked against them. An empty plan with none in force
    /// changes nothing (routing stays in fair weather); a plan given again replaces the rules,
    /// and the frames held stay held until their time.
    pub fn set_plan(&mut self, plan: Plan) {
        if self
            .conns
            .with_weather(|w| w.set_plan(plan.clone()))
            .is_none()
            && !plan.is_empty()
        {
            let weather = Weather::new(plan, self.opts.machines, self.opts.seed);
            self.conns.set_weather(weather);
        }
    }
}

#[cfg(test)]
mod tests;
