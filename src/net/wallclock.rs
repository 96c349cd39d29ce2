//! The drivers' clock: wall-clock nanoseconds since the UNIX epoch that never run backwards.
//!
//! The OS wall clock is read once, at creation; after that time advances with the monotonic clock.
//! Logs then show wall-clock times, and deadlines derived from them are immune to clock steps.
//! Only drivers (router, client, run) use this; the sans-IO core is handed times as arguments.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A monotonic clock that reads as wall-clock nanoseconds since the UNIX epoch.
#[derive(Clone, Copy, Debug)]
pub struct WallClock {
    base: Instant,
    base_ns: u64,
}

impl WallClock {
    /// Reads the OS wall clock now and anchors the monotonic clock to it.
    pub fn new() -> WallClock {
        let base = Instant::now();
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        WallClock {
            base,
            base_ns: u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX),
        }
    }

    /// Nanoseconds since the UNIX epoch, now.
    pub fn now_ns(&self) -> u64 {
        self.ns_at(Instant::now())
    }

    /// The wall-clock nanoseconds that `instant` stands for.
    pub fn ns_at(&self, instant: Instant) -> u64 {
        let elapsed = instant.saturating_duration_since(self.base).as_nanos();
        self.base_ns
            .saturating_add(u64::try_from(elapsed).unwrap_or(u64::MAX))
    }

    /// How long from `now` until the wall-clock time `ns` (zero if it has passed).
    pub fn until(&self, now: Instant, ns: u64) -> Duration {
        Duration::from_nanos(ns.saturating_sub(self.ns_at(now)))
    }
}

impl Default for WallClock {
    fn default() -> Self {
        WallClock::new()
    }
}

/// A fresh random seed from the operating system.
pub fn fresh_seed() -> u64 {
    use rand::TryRng;
    rand::rngs::SysRng.try_next_u64().unwrap_or_else(|_| {
        // No OS randomness: fall back on the time, which is still different every run.
        WallClock::new().now_ns()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_forward_from_its_anchor() {
        let clock = WallClock::new();
        let t0 = clock.base;
        assert_eq!(clock.ns_at(t0), clock.base_ns);
        assert_eq!(
            clock.ns_at(t0 + Duration::from_millis(1500)),
            clock.base_ns + 1_500_000_000
        );
        // An instant before the anchor reads as the anchor: time never runs backwards.
        assert_eq!(clock.until(t0, clock.base_ns + 7), Duration::from_nanos(7));
        assert_eq!(
            clock.until(t0 + Duration::from_secs(1), clock.base_ns),
            Duration::ZERO
        );
    }
}
