//! The signals of a trial's `pause` faults: when `run` stops (SIGSTOP) and continues (SIGCONT)
//! which machine's process. The signals themselves go through [`Proc::pause`] and
//! [`Proc::resume`].

use std::collections::VecDeque;

use super::Proc;
use crate::core::fault::Window;

/// One signal of a pause: when, to which machine, and whether it stops or continues it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PauseStep {
    /// When, nanoseconds since the UNIX epoch.
    pub at_ns: u64,
    /// The machine's id; its process is the one [`PauseSignals::send_due`] is told of.
    pub machine: u16,
    /// SIGSTOP (`true`) or SIGCONT.
    pub stop: bool,
}

/// The signals of a trial's `pause` faults, in time order: SIGSTOP at `start + from`, SIGCONT at
/// `start + to`; at one instant a SIGCONT goes before a SIGSTOP (a window that ends where the
/// next begins).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PauseSignals {
    steps: VecDeque<PauseStep>,
}

impl PauseSignals {
    /// The signals of `pauses` (machine id and window) in a trial that starts at `start_ns`.
    pub fn new(pauses: &[(u16, Window)], start_ns: u64) -> PauseSignals {
        let mut steps: Vec<PauseStep> = pauses
            .iter()
            .flat_map(|&(machine, w)| {
                [(w.from_ns, true), (w.to_ns, false)].map(|(at, stop)| PauseStep {
                    at_ns: start_ns.saturating_add(at),
                    machine,
                    stop,
                })
            })
            .collect();
        steps.sort_by_key(|s| (s.at_ns, s.stop));
        PauseSignals {
            steps: steps.into(),
        }
    }

    /// When the next signal is due, if any is left.
    pub fn next_at(&self) -> Option<u64> {
        self.steps.front().map(|s| s.at_ns)
    }

    /// Sends every signal due at `now_ns` to the machines' processes among `procs` (machine
    /// `id`'s is `procs[process_of[id]]`; `run` gives a paused machine a process of its own, as
    /// a signal stops a whole process), and returns those it sent, in order. A machine that has
    /// exited gets none.
    pub fn send_due(
        &mut self,
        now_ns: u64,
        procs: &mut [Proc],
        process_of: &[usize],
    ) -> Vec<PauseStep> {
        let mut sent = Vec::new();
        while let Some(step) = self.steps.front().copied().filter(|s| s.at_ns <= now_ns) {
            self.steps.pop_front();
            let Some(p) = process_of
                .get(usize::from(step.machine))
                .and_then(|&k| procs.get_mut(k))
            else {
                continue;
            };
            if if step.stop { p.pause() } else { p.resume() } {
                sent.push(step);
            }
        }
        sent
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::net::process::stop_in_order;

    const S: u64 = 1_000_000_000;

    /// `sh -c SCRIPT` as a child of the test.
    fn sh(role: &str, script: &str) -> Proc {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        Proc::spawn_quiet(role.into(), cmd).expect("start sh")
    }

    /// The process's state letter in /proc (`T` stopped, `S` sleeping, ...).
    fn state(p: &Proc) -> char {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", p.child.id())).unwrap();
        // After the command's name in parentheses: " T ...".
        stat[stat.rfind(')').unwrap() + 2..].chars().next().unwrap()
    }

    /// Waits (up to 10 s) until `p` is in `want` (a signal is delivered asynchronously).
    fn wait_state(p: &Proc, want: char) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while state(p) != want {
            assert!(Instant::now() < deadline, "still {} not {want}", state(p));
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn the_signals_of_a_plan_come_in_time_order_continue_before_stop() {
        let pauses = [
            (2, Window::from_secs(5.0, 8.0)),
            (1, Window::from_secs(1.0, 5.0)),
            (2, Window::from_secs(8.0, 9.0)),
        ];
        let signals = PauseSignals::new(&pauses, 100);
        let step = |at: u64, machine: u16, stop: bool| PauseStep {
            at_ns: 100 + at * S,
            machine,
            stop,
        };
        assert_eq!(
            Vec::from(signals.steps.clone()),
            [
                step(1, 1, true),
                step(5, 1, false),
                step(5, 2, true),
                step(8, 2, false),
                step(8, 2, true),
                step(9, 2, false),
            ]
        );
        assert_eq!(signals.next_at(), Some(100 + S));
        assert_eq!(PauseSignals::new(&[], 100).next_at(), None);
    }

    #[test]
    fn a_machine_is_stopped_and_continued_when_its_signals_fall_due() {
        let mut procs = vec![sh("router", "sleep 30"), sh("machine 1", "sleep 30")];
        let mut signals = PauseSignals::new(&[(1, Window::from_secs(1.0, 2.0))], 0);
        assert_eq!(signals.send_due(S - 1, &mut procs, &[0, 1]), []);
        let stop = signals.send_due(S, &mut procs, &[0, 1]);
        assert_eq!(stop.len(), 1);
        assert!(stop[0].stop && procs[1].is_paused() && !procs[0].is_paused());
        wait_state(&procs[1], 'T');
        assert_eq!(signals.next_at(), Some(2 * S));
        let go = signals.send_due(5 * S, &mut procs, &[0, 1]);
        assert_eq!(
            (go.len(), go[0].stop, procs[1].is_paused()),
            (1, false, false)
        );
        wait_state(&procs[1], 'S');
        assert_eq!(signals.next_at(), None);
        for p in &mut procs {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }

    #[test]
    fn a_paused_machine_is_continued_before_the_stop_so_it_exits_by_itself() {
        // The "machine" finishes 0.3 s after its start, once it runs: paused, it could not, and
        // would be killed after the grace; continued first, it exits with its own status.
        let mut procs = vec![
            sh("router", "sleep 0.1"),
            sh("machine 1", "sleep 0.3; exit 3"),
        ];
        assert!(procs[1].pause());
        wait_state(&procs[1], 'T');
        stop_in_order(&mut procs, Duration::from_secs(10));
        let record = procs[1].record();
        assert_eq!(record.code, Some(3), "{record:?}");
        assert!(!record.exit.contains("killed"), "{record:?}");
        assert!(!procs[1].is_paused());
        // Neither signal goes to a process that has exited.
        assert!(!procs[1].pause() && !procs[1].resume());
    }
}
