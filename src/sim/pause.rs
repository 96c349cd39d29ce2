//! The `pause` faults on virtual time: when a machine is stopped, and when it wakes.
//!
//! A paused machine neither ticks nor reads during its window `[from, to)`. The scheduler asks
//! [`Pauses::resume_at`] at two points: where a tick of the machine comes due (a tick due inside
//! the window runs at its end, and the machine then follows `machines.missed_ticks`), and where
//! a message is handed to it (a message that reaches it inside the window is handed in at its
//! end, stamped with that time, as a stopped process reads, and stamps, what reached its socket
//! only when it wakes). So a caught-up tick takes, under `by_deadline`, only what had arrived by
//! its own deadline, as a real stopped machine does.

use crate::config::FaultPlan;
use crate::core::fault::Window;

/// Each machine's pause windows, in absolute nanoseconds of virtual time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pauses {
    /// By machine index (id - 1): the windows `[from, to)`, absolute.
    windows: Vec<Vec<(u64, u64)>>,
}

impl Pauses {
    /// The pauses of `plan` for `machines` machines, in a trial that starts at `start_ns`.
    pub fn new(plan: &FaultPlan, machines: u16, start_ns: u64) -> Pauses {
        let mut windows = vec![Vec::new(); usize::from(machines)];
        for (id, Window { from_ns, to_ns }) in plan.pauses() {
            if let Some(list) = windows.get_mut(usize::from(id).wrapping_sub(1)) {
                list.push((
                    start_ns.saturating_add(from_ns),
                    start_ns.saturating_add(to_ns),
                ));
            }
        }
        Pauses { windows }
    }

    /// If the machine of index `index` (id - 1) is paused at `time_ns`, when it wakes: the end
    /// of the window that holds `time_ns`. `None`: it is awake.
    pub fn resume_at(&self, index: u16, time_ns: u64) -> Option<u64> {
        self.windows
            .get(usize::from(index))?
            .iter()
            .find(|(from, to)| (*from..*to).contains(&time_ns))
            .map(|&(_, to)| to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Fault;

    #[test]
    fn a_machine_is_paused_from_the_start_of_its_window_to_just_before_its_end() {
        let plan = FaultPlan {
            faults: vec![
                Fault::Pause {
                    machine: 2,
                    window: Window::from_secs(1.0, 4.0),
                },
                Fault::Pause {
                    machine: 2,
                    window: Window::from_secs(5.0, 6.0),
                },
            ],
        };
        let start = 1_000;
        let pauses = Pauses::new(&plan, 3, start);
        let s = |secs: u64| start + secs * 1_000_000_000;
        assert_eq!(pauses.resume_at(1, s(1) - 1), None);
        assert_eq!(pauses.resume_at(1, s(1)), Some(s(4)));
        assert_eq!(pauses.resume_at(1, s(4) - 1), Some(s(4)));
        assert_eq!(pauses.resume_at(1, s(4)), None);
        assert_eq!(pauses.resume_at(1, s(5)), Some(s(6)));
        // The others, and a machine the trial does not have, are never paused.
        assert_eq!(pauses.resume_at(0, s(2)), None);
        assert_eq!(pauses.resume_at(2, s(2)), None);
        assert_eq!(pauses.resume_at(7, s(2)), None);
    }
}
