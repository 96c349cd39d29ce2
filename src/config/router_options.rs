//! The router's options from the configuration: the one conversion from the `router` section
//! (with `machines.count` and `run.stop_grace`) to the switchboard's [`Options`].

use std::time::Duration;

use super::Config;
use crate::core::switchboard::Options;

impl Config {
    /// The router's options: its `router` section, `machines.count` and `run.stop_grace`, with
    /// the run's `seed` (the caller's choice: given, configured or fresh). Expects a validated
    /// configuration; a time that is not a number of seconds from 0 up counts as 0, and a limit
    /// too large for this machine as the largest it has.
    pub fn router_options(&self, seed: u64) -> Options {
        let r = &self.router;
        let size = |bytes: u64| usize::try_from(bytes).unwrap_or(usize::MAX);
        Options {
            machines: self.machines.count,
            seed,
            max_payload: r.max_payload,
            stall_timeout_ns: nanos(r.stall_timeout),
            start_delay_ns: nanos(r.start_delay),
            stop_grace_ns: nanos(self.run.stop_grace),
            hello_timeout_ns: nanos(r.hello_timeout),
            max_unregistered: size(r.max_unregistered.into()),
            outbox_limit: size(r.outbox_limit),
            buffer_limit: size(r.buffer_limit),
            reader_timeout_ns: nanos(r.reader_timeout),
        }
    }
}

/// `secs` seconds in nanoseconds (0 for a negative or not-a-number value, the most a `u64` holds
/// past it).
fn nanos(secs: f64) -> u64 {
    Duration::try_from_secs_f64(secs).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_configuration_gives_the_default_options() {
        let opts = Config::default().router_options(7);
        assert_eq!(
            opts,
            Options {
                seed: 7,
                ..Options::default()
            }
        );
    }

    #[test]
    fn every_field_comes_from_its_own_setting() {
        let mut config = Config::default();
        config.set_machine_count(5);
        config.run.stop_grace = 1.5;
        let r = &mut config.router;
        r.max_payload = 1000;
        r.stall_timeout = 0.25;
        r.start_delay = 0.0;
        r.hello_timeout = 2.0;
        r.max_unregistered = 9;
        r.outbox_limit = 70_000;
        r.buffer_limit = 140_000;
        r.reader_timeout = 3.5;
        let want = Options {
            machines: 5,
            seed: 11,
            max_payload: 1000,
            stall_timeout_ns: 250_000_000,
            start_delay_ns: 0,
            stop_grace_ns: 1_500_000_000,
            hello_timeout_ns: 2_000_000_000,
            max_unregistered: 9,
            outbox_limit: 70_000,
            buffer_limit: 140_000,
            reader_timeout_ns: 3_500_000_000,
        };
        assert_eq!(config.router_options(11), want);
    }

    #[test]
    fn seconds_that_are_no_duration_are_zero_and_huge_ones_saturate() {
        assert_eq!(nanos(-1.0), 0);
        assert_eq!(nanos(f64::NAN), 0);
        assert_eq!(nanos(1e12), u64::MAX);
        assert_eq!(nanos(0.5), 500_000_000);
    }
}
