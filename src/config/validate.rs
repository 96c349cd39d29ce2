//! The validation of a parsed configuration: every rule a value must keep, and the error that
//! names the field, the bad value and what is allowed.

use std::collections::HashMap;

use super::{
    Config, ConfigError, MAX_BUFFER_LIMIT, MAX_HOST_LEN, MAX_MACHINES, MAX_SECONDS, MAX_TRIALS,
    MAX_UNREGISTERED, MIN_OUTBOX_LIMIT, Rates,
};
use crate::core::machine::{MAX_RATE, RateError, check_rate};
use crate::core::wire::{MAX_NAME_LEN, MAX_PAYLOAD_LEN};

impl Config {
    /// Checks every value against what is allowed. `origin` is the file the values came from, or
    /// e.g. "command line" after the CLI applied overrides; the error names it.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let invalid = |field: &str, value: String, allowed: String| ConfigError::Invalid {
            origin: origin.to_owned(),
            field: field.to_owned(),
            value,
            allowed,
        };
        let check = |ok: bool, field: &str, value: String, allowed: &str| {
            if ok {
                Ok(())
            } else {
                Err(invalid(field, value, allowed.to_owned()))
            }
        };
        let seconds = |field: &str, value: f64, zero_ok: bool| {
            let (ok, allowed) = if zero_ok {
                (value >= 0.0, "a number of seconds, at least 0")
            } else {
                (value > 0.0, "a number of seconds, greater than 0")
            };
            check(
                ok && value <= MAX_SECONDS,
                field,
                fmt_num(value),
                &format!("{allowed} and at most {MAX_SECONDS} (7 days)"),
            )
        };

        let router = &self.router;
        check(
            !router.host.is_empty() && router.host.len() <= MAX_HOST_LEN,
            "router.host",
            fmt_str(&router.host),
            &format!("a host name or address of 1 to {MAX_HOST_LEN} bytes"),
        )?;
        check(
            router.max_payload <= MAX_PAYLOAD_LEN,
            "router.max_payload",
            router.max_payload.to_string(),
            &format!("a number of bytes from 0 to {MAX_PAYLOAD_LEN}"),
        )?;
        seconds("router.stall_timeout", router.stall_timeout, false)?;
        seconds("router.start_delay", router.start_delay, true)?;
        seconds("router.hello_timeout", router.hello_timeout, false)?;
        seconds("router.reader_timeout", router.reader_timeout, false)?;
        check(
            (1..=MAX_UNREGISTERED).contains(&router.max_unregistered),
            "router.max_unregistered",
            router.max_unregistered.to_string(),
            &format!("a number of connections from 1 to {MAX_UNREGISTERED}"),
        )?;
        check(
            (MIN_OUTBOX_LIMIT..=MAX_BUFFER_LIMIT).contains(&router.buffer_limit),
            "router.buffer_limit",
            router.buffer_limit.to_string(),
            &format!("a number of bytes from {MIN_OUTBOX_LIMIT} to {MAX_BUFFER_LIMIT}"),
        )?;
        check(
            (MIN_OUTBOX_LIMIT..=router.buffer_limit).contains(&router.outbox_limit),
            "router.outbox_limit",
            router.outbox_limit.to_string(),
            &format!(
                "a number of bytes from {MIN_OUTBOX_LIMIT} (room for the largest frame) to \
                 router.buffer_limit ({})",
                router.buffer_limit
            ),
        )?;

        let machines = &self.machines;
        let count = usize::from(machines.count);
        check(
            (2..=MAX_MACHINES).contains(&machines.count),
            "machines.count",
            machines.count.to_string(),
            &format!("the number of machines is from 2 to {MAX_MACHINES}"),
        )?;
        if let Some(names) = &machines.names {
            self.validate_names(names, origin)?;
        }
        match &machines.rates {
            Rates::Random => {}
            Rates::List(rates) => {
                check(
                    rates.len() == count,
                    "machines.rates",
                    match rates.len() {
                        1 => "a list of 1 rate".to_string(),
                        k => format!("a list of {k} rates"),
                    },
                    &format!(
                        "give exactly one rate per machine (machines.count is {count}), or `random`"
                    ),
                )?;
                for (i, &rate) in rates.iter().enumerate() {
                    check(
                        check_rate(rate).is_ok(),
                        &format!("machines.rates[{i}]"),
                        fmt_num(rate),
                        &RateError::rule(),
                    )?;
                }
            }
        }
        let range = machines.random_rates;
        check(
            range.min >= 1,
            "machines.random_rates.min",
            range.min.to_string(),
            "the slowest random rate is at least 1 tick per second",
        )?;
        check(
            // min is at least 1 here, so max >= min makes it positive too.
            range.max >= range.min && check_rate(f64::from(range.max)).is_ok(),
            "machines.random_rates.max",
            range.max.to_string(),
            &format!(
                "the fastest random rate is at least machines.random_rates.min ({}) and at most {MAX_RATE}",
                range.min
            ),
        )?;
        check(
            machines.action_range >= u32::from(machines.count),
            "machines.action_range",
            machines.action_range.to_string(),
            &format!("it must be at least machines.count ({count})"),
        )?;
        seconds(
            "machines.handshake_timeout",
            machines.handshake_timeout,
            false,
        )?;

        let run = &self.run;
        seconds("run.duration", run.duration, false)?;
        check(
            (1..=MAX_TRIALS).contains(&run.trials),
            "run.trials",
            run.trials.to_string(),
            &format!("the number of trials is from 1 to {MAX_TRIALS}"),
        )?;
        check(
            !run.log_dir.as_os_str().is_empty(),
            "run.log_dir",
            fmt_str(&run.log_dir.to_string_lossy()),
            "a directory path, not empty",
        )?;
        // Zero would leave no time for the machines' BYEs: the router would cut them off.
        seconds("run.stop_grace", run.stop_grace, false)?;
        self.fault_plan(origin).map(|_| ())
    }

    /// Checks an explicit names list: one per machine, each 1..=[`MAX_NAME_LEN`] bytes, distinct.
    fn validate_names(&self, names: &[String], origin: &str) -> Result<(), ConfigError> {
        let invalid = |field: String, value: String, allowed: String| ConfigError::Invalid {
            origin: origin.to_owned(),
            field,
            value,
            allowed,
        };
        let count = self.machines.count;
        if names.len() != usize::from(count) {
            return Err(invalid(
                "machines.names".to_owned(),
                format!("a list of {} names", names.len()),
                format!(
                    "give exactly one name per machine (machines.count is {count}), \
                     or leave it out to generate them"
                ),
            ));
        }
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            if name.is_empty() || name.len() > MAX_NAME_LEN {
                return Err(invalid(
                    format!("machines.names[{i}]"),
                    fmt_str(name),
                    format!("a name is 1 to {MAX_NAME_LEN} bytes long"),
                ));
            }
            if let Some(first) = seen.insert(name, i) {
                return Err(invalid(
                    format!("machines.names[{i}]"),
                    fmt_str(name),
                    format!("names must be distinct, and machines.names[{first}] is the same"),
                ));
            }
        }
        Ok(())
    }
}

/// A number as a student would write it; huge magnitudes in exponent form rather than 300 digits.
pub(super) fn fmt_num(value: f64) -> String {
    if value.is_finite() && value.abs() >= 1e15 {
        format!("{value:e}")
    } else {
        value.to_string()
    }
}

/// A string in quotes, cut short (with its length in bytes) when it is too long to read.
pub(super) fn fmt_str(text: &str) -> String {
    const SHOWN: usize = 40;
    if text.len() <= SHOWN {
        return format!("{text:?}");
    }
    let mut end = SHOWN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}... ({} bytes)", &text[..end], text.len())
}
