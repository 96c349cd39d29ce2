//! The rules for the command line's values (`--duration`, `--machines`, `--rate`, ...): each a
//! clap value parser whose error says what is allowed, the same rule the configuration applies.

use crate::config::{MAX_MACHINES, MAX_SECONDS, MAX_TRIALS};
use crate::core::machine::{RateError, check_rate};

/// `--duration`: seconds, more than 0 and at most [`MAX_SECONDS`] (7 days), as the configuration
/// allows.
pub(super) fn duration_arg(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= MAX_SECONDS => Ok(secs),
        _ => Err(format!(
            "a duration is a number of seconds, more than 0 and at most {MAX_SECONDS} (7 days)"
        )),
    }
}

/// `--handshake-timeout`: seconds, more than 0 and at most [`MAX_SECONDS`] (7 days), as the
/// configuration allows.
pub(super) fn handshake_timeout_arg(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= MAX_SECONDS => Ok(secs),
        _ => Err(format!(
            "a handshake timeout is a number of seconds, more than 0 and at most {MAX_SECONDS} (7 days)"
        )),
    }
}

/// `--machines`: 2 to [`MAX_MACHINES`].
pub(super) fn machines_arg(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(n) if (2..=MAX_MACHINES).contains(&n) => Ok(n),
        _ => Err(format!(
            "the number of machines is a whole number from 2 to {MAX_MACHINES}"
        )),
    }
}

/// `--machines-per-process`: 1 to [`MAX_MACHINES`].
pub(super) fn per_process_arg(text: &str) -> Result<u16, String> {
    let allowed = || format!("machines per process is a whole number from 1 to {MAX_MACHINES}");
    let n = text.parse::<u16>().map_err(|_| allowed())?;
    (1..=MAX_MACHINES)
        .contains(&n)
        .then_some(n)
        .ok_or_else(allowed)
}

/// `--rates` and `--rate`: the one rule of [`check_rate`].
pub(super) fn rate_arg(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .parse()
        .map_err(|_| format!("not a number; {}", RateError::rule()))?;
    check_rate(rate).map_err(|_| RateError::rule())?;
    Ok(rate)
}

/// `--seed`: any 64-bit unsigned whole number.
pub(super) fn seed_arg(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("a seed is a whole number from 0 to {}", u64::MAX))
}

/// `--action-range`: at least 1 (and at least N, which the configuration checks with N known).
pub(super) fn action_range_arg(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(r) if r >= 1 => Ok(r),
        _ => Err(format!(
            "the action range R is a whole number from 1 (at least N) to {}",
            u32::MAX
        )),
    }
}

/// `--trials`: 1 to [`MAX_TRIALS`].
pub(super) fn trials_arg(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(k) if (1..=MAX_TRIALS).contains(&k) => Ok(k),
        _ => Err(format!(
            "the number of trials is a whole number from 1 to {MAX_TRIALS}"
        )),
    }
}
