//! Latency models: how long a frame takes from its sender to a destination's queue (the
//! simulated network's `--latency`), and the extra latency of a `delay` fault on a link. Pure:
//! the draws take their generator as an argument. `config` re-exports them; a run's `run.yaml`
//! records the model it ran with.

use std::fmt;
use std::str::FromStr;

use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// How long a frame takes from its sender to a destination's queue.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "lowercase")]
pub enum Latency {
    /// Always the same delay (zero allowed).
    Fixed {
        /// The delay, nanoseconds.
        ns: u64,
    },
    /// Uniform between two delays, both included.
    Uniform {
        /// The shortest delay, nanoseconds.
        min_ns: u64,
        /// The longest delay, nanoseconds.
        max_ns: u64,
    },
    /// A fixed base plus exponentially distributed jitter.
    Exponential {
        /// The base delay, nanoseconds.
        base_ns: u64,
        /// The mean of the jitter added to it, nanoseconds.
        mean_ns: u64,
    },
}

impl Default for Latency {
    /// 100 microseconds, about a loopback hop through the router.
    fn default() -> Self {
        Latency::Fixed { ns: 100_000 }
    }
}

impl Latency {
    /// One latency drawn from the model, nanoseconds.
    pub fn draw(&self, rng: &mut Xoshiro256PlusPlus) -> u64 {
        match *self {
            Latency::Fixed { ns } => ns,
            Latency::Uniform { min_ns, max_ns } => rng.random_range(min_ns..=max_ns),
            Latency::Exponential { base_ns, mean_ns } => {
                // Inverse transform: -mean * ln(U), U uniform in (0, 1].
                let u: f64 = 1.0 - rng.random::<f64>();
                base_ns.saturating_add((-(mean_ns as f64) * u.ln()).round() as u64)
            }
        }
    }
}

/// Why a text is not a latency model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LatencyError {
    /// A delay that is not a number with an optional unit.
    #[error("{text:?} is not a duration such as 250us, 1.5ms or 0")]
    Duration {
        /// The delay as written.
        text: String,
    },
    /// A delay below 0 or from an hour on.
    #[error("{text:?}: a latency is between 0 and one hour")]
    OutOfRange {
        /// The delay as written.
        text: String,
    },
    /// Not one of the models' forms.
    #[error(
        "{text:?}: a latency model is fixed:DELAY, uniform:MIN:MAX or exp:BASE:MEAN \
         (e.g. fixed:100us, uniform:50us:2ms, exp:100us:1ms)"
    )]
    Model {
        /// The model as written.
        text: String,
    },
    /// A uniform model whose minimum is above its maximum.
    #[error("{text:?}: the minimum is above the maximum")]
    MinAboveMax {
        /// The model as written.
        text: String,
    },
}

/// Reads a duration such as `250us`, `1.5ms`, `0`, `2s` into nanoseconds.
fn parse_duration_ns(text: &str) -> Result<u64, LatencyError> {
    let text = text.trim();
    let (number, scale) = [("ns", 1.0), ("us", 1e3), ("ms", 1e6), ("s", 1e9)]
        .iter()
        .find_map(|&(unit, scale)| text.strip_suffix(unit).map(|n| (n, scale)))
        .unwrap_or((text, 1e9));
    let value: f64 = number.parse().map_err(|_| LatencyError::Duration {
        text: text.to_owned(),
    })?;
    if !(value >= 0.0 && value * scale < 3.6e12) {
        return Err(LatencyError::OutOfRange {
            text: text.to_owned(),
        });
    }
    Ok((value * scale).round() as u64)
}

impl FromStr for Latency {
    type Err = LatencyError;

    /// `fixed:DELAY`, `uniform:MIN:MAX` or `exp:BASE:MEAN`, e.g. `fixed:0`, `uniform:50us:2ms`,
    /// `exp:100us:1ms`. A bare delay means `fixed`.
    fn from_str(text: &str) -> Result<Latency, LatencyError> {
        let models = || LatencyError::Model {
            text: text.to_owned(),
        };
        let parts: Vec<&str> = text.split(':').collect();
        let latency = match parts.as_slice() {
            [delay] => Latency::Fixed {
                ns: parse_duration_ns(delay).map_err(|_| models())?,
            },
            ["fixed", delay] => Latency::Fixed {
                ns: parse_duration_ns(delay)?,
            },
            ["uniform", min, max] => Latency::Uniform {
                min_ns: parse_duration_ns(min)?,
                max_ns: parse_duration_ns(max)?,
            },
            ["exp", base, mean] => Latency::Exponential {
                base_ns: parse_duration_ns(base)?,
                mean_ns: parse_duration_ns(mean)?,
            },
            _ => return Err(models()),
        };
        if let Latency::Uniform { min_ns, max_ns } = latency {
            if min_ns > max_ns {
                return Err(LatencyError::MinAboveMax {
                    text: text.to_owned(),
                });
            }
        }
        Ok(latency)
    }
}

/// A duration in the largest unit that shows it exactly, as [`Latency::from_str`] reads it.
fn duration_text(ns: u64) -> String {
    match ns {
        0 => "0".into(),
        _ if ns % 1_000_000_000 == 0 => format!("{}s", ns / 1_000_000_000),
        _ if ns % 1_000_000 == 0 => format!("{}ms", ns / 1_000_000),
        _ if ns % 1_000 == 0 => format!("{}us", ns / 1_000),
        _ => format!("{ns}ns"),
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Latency::Fixed { ns } => write!(f, "fixed:{}", duration_text(ns)),
            Latency::Uniform { min_ns, max_ns } => {
                write!(
                    f,
                    "uniform:{}:{}",
                    duration_text(min_ns),
                    duration_text(max_ns)
                )
            }
            Latency::Exponential { base_ns, mean_ns } => {
                write!(
                    f,
                    "exp:{}:{}",
                    duration_text(base_ns),
                    duration_text(mean_ns)
                )
            }
        }
    }
}
