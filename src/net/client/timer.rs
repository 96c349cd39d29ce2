//! The tick deadline as a `timerfd` (Linux): CLOCK_MONOTONIC, armed at an absolute expiry,
//! registered with the client's `Poll` beside its socket. `poll`'s own timeout is whole
//! milliseconds (mio rounds it up), so a tick waited for that way runs 0.5-1 ms late; the timer
//! wakes the loop within microseconds of the deadline.
//!
//! Deadlines are wall-clock nanoseconds ([`WallClock`]); the timer runs on the monotonic clock.
//! The two are tied once, at creation, by reading the monotonic clock just after the instant the
//! wall clock is read at, so the timer never fires before the wall clock reaches the deadline
//! (it can only be late, by the nanoseconds between the two reads).
//!
//! Waking from a sleep costs an idle virtual CPU 100-200 µs (a plain `sleep` overshoots as much),
//! so the timer fires a little before the deadline, [`SPIN_LEAD`] or a tenth of the tick period if
//! that is less, and the loop then polls its sockets without sleeping until the deadline: frames
//! arriving meanwhile are still read, and stamped, as they come. That spends at most a tenth of
//! the machine's time, 0.02% of it at 1 tick/s and 2% at 100.

use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};

use super::{ClientError, io_err};
use crate::net::wallclock::WallClock;

/// How long before a tick's deadline the loop stops sleeping, at most.
pub(super) const SPIN_LEAD: Duration = Duration::from_micros(200);

/// The client's tick timer.
pub(super) struct TickTimer {
    fd: TimerFd,
    /// The wall-clock time the timer is armed for, if any.
    armed: Option<u64>,
    /// The last two tick deadlines planned for, oldest first: their gap is the tick period.
    deadlines: [Option<u64>; 2],
    /// A wall-clock time and the monotonic time (since boot) read just after it.
    anchor_ns: u64,
    anchor_mono: Duration,
}

fn os_err(what: &str) -> impl FnOnce(nix::Error) -> ClientError {
    let f = io_err(what.to_string());
    move |e| f(std::io::Error::from(e))
}

impl TickTimer {
    /// A disarmed timer, registered with `registry` under `token`.
    pub(super) fn register(
        clock: &WallClock,
        registry: &Registry,
        token: Token,
    ) -> Result<TickTimer, ClientError> {
        let fd = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .map_err(os_err("timerfd"))?;
        let anchor_ns = clock.ns_at(Instant::now());
        let mono = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
            .map_err(os_err("the monotonic clock"))?;
        let raw = fd.as_fd().as_raw_fd();
        registry
            .register(&mut SourceFd(&raw), token, Interest::READABLE)
            .map_err(io_err("poll"))?;
        Ok(TickTimer {
            fd,
            armed: None,
            deadlines: [None; 2],
            anchor_ns,
            anchor_mono: Duration::from(mono),
        })
    }

    /// Plans the wait for the tick due at `deadline_ns` (none: disarmed), the time being `now_ns`.
    /// Returns whether the loop should poll without sleeping, the deadline being this close;
    /// otherwise the timer is armed to fire a lead before it (see the module's comment).
    pub(super) fn plan(
        &mut self,
        deadline_ns: Option<u64>,
        now_ns: u64,
    ) -> Result<bool, ClientError> {
        if deadline_ns != self.deadlines[1] {
            self.deadlines = [self.deadlines[1], deadline_ns];
        }
        let Some(deadline) = deadline_ns else {
            self.arm(None)?;
            return Ok(false);
        };
        let lead = match self.deadlines[0] {
            // The first deadline: the period is not known yet, so no lead.
            Some(previous) if previous < deadline => {
                let lead = u64::try_from(SPIN_LEAD.as_nanos()).unwrap_or(u64::MAX);
                lead.min((deadline - previous) / 10)
            }
            _ => 0,
        };
        let wake = deadline.saturating_sub(lead);
        if now_ns >= wake && lead > 0 {
            // Close enough (or due already): no sleep until the tick has been taken.
            self.arm(None)?;
            return Ok(true);
        }
        self.arm(Some(wake))?;
        Ok(false)
    }

    /// Arms the timer to fire at the wall-clock time `deadline_ns`, or disarms it (`None`);
    /// nothing to do when it is already armed so. A deadline in the past fires at once.
    fn arm(&mut self, deadline_ns: Option<u64>) -> Result<(), ClientError> {
        if self.armed == deadline_ns {
            return Ok(());
        }
        match deadline_ns {
            None => self.fd.unset().map_err(os_err("timerfd"))?,
            Some(ns) => {
                let mono = if ns >= self.anchor_ns {
                    self.anchor_mono
                        .saturating_add(Duration::from_nanos(ns - self.anchor_ns))
                } else {
                    self.anchor_mono
                        .saturating_sub(Duration::from_nanos(self.anchor_ns - ns))
                };
                // An expiry of zero would disarm the timer: the past is at least 1 ns.
                let mono = mono.max(Duration::from_nanos(1));
                self.fd
                    .set(
                        Expiration::OneShot(TimeSpec::from_duration(mono)),
                        TimerSetTimeFlags::TFD_TIMER_ABSTIME,
                    )
                    .map_err(os_err("timerfd"))?;
            }
        }
        self.armed = deadline_ns;
        Ok(())
    }

    /// Takes the timer out of `registry` (before it is dropped).
    pub(super) fn deregister(&self, registry: &Registry) {
        let raw = self.fd.as_fd().as_raw_fd();
        let _ = registry.deregister(&mut SourceFd(&raw));
    }

    /// The timer has fired: reads its count (so it is no longer readable) and forgets the
    /// deadline, so that the next [`TickTimer::arm`] arms it again even for the same deadline.
    pub(super) fn fired(&mut self) {
        // Nothing to read (EAGAIN) is fine: the readiness may be stale.
        let _ = self.fd.wait();
        self.armed = None;
    }
}
