//! Configuration: the YAML file, its defaults and its validation.
//!
//! `config/config.yaml` holds every default, with a comment per knob; [`Config::default`] holds the
//! same values, and a test keeps the two equal. Loading is three steps, each with its own error:
//! read the file ([`ConfigError::Missing`], [`ConfigError::Read`]), parse it into typed structs
//! ([`ConfigError::Parse`]: YAML syntax, wrong types, unknown keys), then check every value
//! ([`ConfigError::Invalid`]). Every error names where the configuration came from (a file path, or
//! "command line" once the CLI has applied overrides), the field, the bad value and what is allowed.
//!
//! Every key is optional: a missing key, or a section left empty, takes its default.
//!
//! This file holds the types and loading; `validate` holds the rules every value is checked
//! against; `latency` the router's simulated latency.

use std::fmt;
use std::path::{Path, PathBuf};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::core::seed::{self, Stream};
use crate::core::wire::{MAX_NAME_LEN, MAX_PAYLOAD_LEN};

/// The most machines a run may have.
pub const MAX_MACHINES: u16 = 1000;
/// The most trials a run may have.
pub const MAX_TRIALS: u32 = 10_000;
/// The longest time any setting in seconds may hold (7 days). Every time setting stays below it,
/// so each converts to a `Duration` and adds to an `Instant` without overflow.
pub const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;
/// The first port of generated machine names: machine `i` (from 0) is named `{host}:{8001 + i}`.
pub const FIRST_NAME_PORT: u32 = 8001;
/// The longest router host, in bytes, so that a generated name `{host}:{port}` (port at most
/// 5 digits) fits in [`MAX_NAME_LEN`].
pub const MAX_HOST_LEN: usize = MAX_NAME_LEN - 6;

/// The whole configuration: one section per YAML top-level key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How the router listens and guards its connections.
    #[serde(deserialize_with = "null_is_default")]
    pub router: RouterConfig,
    /// How many model machines there are, their names and speeds.
    #[serde(deserialize_with = "null_is_default")]
    pub machines: MachinesConfig,
    /// How long a run lasts, how it is seeded and where it is logged.
    #[serde(deserialize_with = "null_is_default")]
    pub run: RunConfig,
    /// The fault plan, as written (`config::faults`): slow links, partitions, paused machines,
    /// skewed clocks. Empty: fair weather. [`Config::fault_plan`] gives it checked.
    #[serde(
        deserialize_with = "null_is_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub faults: Vec<FaultSpec>,
}

/// The `router` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouterConfig {
    /// The address the router binds and clients connect to (1..=[`MAX_HOST_LEN`] bytes).
    pub host: String,
    /// The router's TCP port; 0 lets the OS pick any free port.
    pub port: u16,
    /// The largest payload the router accepts, in bytes, at most [`MAX_PAYLOAD_LEN`].
    pub max_payload: u32,
    /// Seconds a connection may sit on a partial frame before it is closed (> 0).
    pub stall_timeout: f64,
    /// Seconds between the last HELLO and the common start time sent in WELCOME (>= 0).
    pub start_delay: f64,
    /// Seconds a new connection may take to say HELLO before it is refused (> 0).
    pub hello_timeout: f64,
    /// The most connections that have not said HELLO at one time (1..=[`MAX_UNREGISTERED`]).
    pub max_unregistered: u32,
    /// High water of one machine's outbox, in bytes waiting: the machines sending to it are not
    /// read until it is down to half ([`MIN_OUTBOX_LIMIT`]..=`buffer_limit`).
    pub outbox_limit: u64,
    /// The most memory, in bytes, the outboxes together keep alive before no machine is read
    /// (at least `outbox_limit`, at most [`MAX_BUFFER_LIMIT`]).
    pub buffer_limit: u64,
    /// Seconds a machine with frames waiting may take none of them before it is disconnected as
    /// not reading (> 0).
    pub reader_timeout: f64,
}

/// The least `router.outbox_limit`: room for the largest frame.
pub const MIN_OUTBOX_LIMIT: u64 = 64 * 1024;
/// The most `router.buffer_limit` (1 TiB).
pub const MAX_BUFFER_LIMIT: u64 = 1 << 40;
/// The most `router.max_unregistered`.
pub const MAX_UNREGISTERED: u32 = 100_000;

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            host: "127.0.0.1".to_owned(),
            port: 8000,
            max_payload: MAX_PAYLOAD_LEN,
            stall_timeout: 5.0,
            start_delay: 0.5,
            hello_timeout: 5.0,
            max_unregistered: 1024,
            outbox_limit: 1024 * 1024,
            buffer_limit: 64 * 1024 * 1024,
            reader_timeout: 10.0,
        }
    }
}

/// The `machines` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MachinesConfig {
    /// N, the number of model machines, 2..=[`MAX_MACHINES`].
    pub count: u16,
    /// One name per machine, in id order; `None` generates them (see [`Config::machine_names`]).
    pub names: Option<Vec<String>>,
    /// The tick rate of each machine.
    pub rates: Rates,
    /// The range `random` rates are drawn from.
    #[serde(deserialize_with = "null_is_default")]
    pub random_rates: RateRange,
    /// R: each idle tick draws a number from 1..=R; at least `count`.
    pub action_range: u32,
    /// Seconds a client waits, from its start, to reach the router and get WELCOME before it
    /// gives up (> 0).
    pub handshake_timeout: f64,
    /// What a machine does with tick deadlines that passed while it could not tick: `catch_up`
    /// (take them all, late) or `skip` (drop all but the last, and count them).
    pub missed_ticks: crate::core::machine::MissedTicks,
    /// Which message a tick takes: `by_deadline` (only one that arrived by the tick's deadline,
    /// however late the tick runs) or `as_run` (whatever arrived by the time it runs).
    pub receive_rule: crate::core::machine::ReceiveRule,
}

impl Default for MachinesConfig {
    fn default() -> Self {
        MachinesConfig {
            count: 3,
            names: None,
            rates: Rates::Random,
            random_rates: RateRange::default(),
            action_range: crate::core::machine::DEFAULT_ACTION_RANGE,
            handshake_timeout: 10.0,
            missed_ticks: crate::core::machine::MissedTicks::CatchUp,
            receive_rule: crate::core::machine::ReceiveRule::ByDeadline,
        }
    }
}

/// The inclusive range of integer tick rates that `rates: random` draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateRange {
    /// The slowest rate, at least 1 tick per second.
    pub min: u32,
    /// The fastest rate, at least `min` and at most [`MAX_RATE`](crate::core::machine::MAX_RATE).
    pub max: u32,
}

impl Default for RateRange {
    fn default() -> Self {
        RateRange { min: 1, max: 6 }
    }
}

/// The `run` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// Seconds per trial, > 0 and at most [`MAX_SECONDS`].
    pub duration: f64,
    /// How many trials, 1..=[`MAX_TRIALS`].
    pub trials: u32,
    /// The master seed; `None` asks for a fresh random one (which the run prints and records).
    pub seed: Option<u64>,
    /// The directory run directories are created in.
    pub log_dir: PathBuf,
    /// Seconds to wait for processes to exit at the end of a trial before killing them (>= 0).
    pub stop_grace: f64,
    /// The port of the router `run` starts; 0 lets the OS pick a free one (the router announces
    /// it and `run` passes it to the machines), so two runs never collide.
    pub port: u16,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            duration: 60.0,
            trials: 1,
            seed: None,
            log_dir: PathBuf::from("logs"),
            stop_grace: 5.0,
            port: 0,
        }
    }
}

/// How machines get their tick rates. In YAML: the string `random`, or a list of numbers.
#[derive(Clone, Debug, PartialEq)]
pub enum Rates {
    /// Each trial draws an integer rate per machine from `machines.random_rates`.
    Random,
    /// Ticks per second, one per machine in id order; fractions allowed.
    List(Vec<f64>),
}

/// What [`Rates`] accepts, for the "expected ..." part of parse errors.
const RATES_EXPECTED: &str =
    "`random` or a list of ticks per second, one per machine, e.g. [1, 3, 6]";

impl Serialize for Rates {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Rates::Random => serializer.serialize_str("random"),
            Rates::List(rates) => rates.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Rates {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RatesVisitor;

        impl<'de> Visitor<'de> for RatesVisitor {
            type Value = Rates;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(RATES_EXPECTED)
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Rates, E> {
                if text == "random" {
                    Ok(Rates::Random)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(text), &self))
                }
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Rates, A::Error> {
                let mut rates = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(rate) = seq.next_element::<f64>()? {
                    rates.push(rate);
                }
                Ok(Rates::List(rates))
            }
        }

        deserializer.deserialize_any(RatesVisitor)
    }
}

/// Reads a section that may be written but left empty (`router:` with every key commented out):
/// YAML gives null, which means "all defaults".
fn null_is_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Why a configuration could not be loaded or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file does not exist.
    #[error("{path}: the configuration file does not exist")]
    Missing {
        /// The path that was looked up.
        path: PathBuf,
    },
    /// The configuration file exists but could not be read.
    #[error("{path}: cannot read the file: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The text is not YAML, or does not fit the structure: a wrong type, an unknown key.
    #[error("{origin}: {message}")]
    Parse {
        /// Where the text came from.
        origin: String,
        /// serde_yaml's message, which names the field and the line and column.
        message: String,
    },
    /// A value has the right type but is outside what is allowed.
    #[error("{origin}: {field}: {value} is not allowed; {allowed}")]
    Invalid {
        /// Where the value came from: a file path, or "command line".
        origin: String,
        /// The field path, e.g. `machines.rates[1]`.
        field: String,
        /// The bad value as written.
        value: String,
        /// What is allowed instead.
        allowed: String,
    },
    /// A field is missing, or present where it has no meaning.
    #[error("{origin}: {field}: {problem}; {allowed}")]
    Field {
        /// Where the value came from.
        origin: String,
        /// The field path, e.g. `faults[0].latency`.
        field: String,
        /// What is wrong, e.g. "missing".
        problem: String,
        /// What is allowed.
        allowed: String,
    },
    /// A fault plan file (`--faults`) that cannot be read.
    #[error("{path}: cannot read the fault plan: {source}")]
    FaultFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl Config {
    /// Reads, parses and validates the configuration file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ConfigError::Missing {
                    path: path.to_owned(),
                }
            } else {
                ConfigError::Read {
                    path: path.to_owned(),
                    source,
                }
            }
        })?;
        Config::from_yaml(&text, &path.display().to_string())
    }

    /// Parses and validates YAML text; `origin` names where it came from in error messages.
    /// Text with no document at all (empty, or only comments) gives the defaults.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let parse_error = |e: serde_yaml::Error| ConfigError::Parse {
            origin: origin.to_owned(),
            message: e.to_string(),
        };
        // An empty document is YAML null, which a struct does not accept; read it as "no keys".
        let config = match serde_yaml::from_str::<Option<Config>>(text) {
            Ok(config) => config.unwrap_or_default(),
            Err(e) => return Err(parse_error(e)),
        };
        config.validate(origin)?;
        Ok(config)
    }

    /// Sets the number of machines to `n` (the command line's `--machines`): the names are then
    /// generated, and the action range rises to `n` if it was smaller, so that `--machines 64`
    /// works without `--action-range` (R = max(configured R, N); an explicit `--action-range`
    /// below N is still refused).
    pub fn set_machine_count(&mut self, n: u16) {
        if n != self.machines.count {
            self.machines.count = n;
            self.machines.names = None;
        }
        self.machines.action_range = self.machines.action_range.max(u32::from(n));
    }

    /// The name of each machine in id order: the `names` list, or `{host}:{8001 + i}` for
    /// machine `i` (from 0) when it is absent.
    pub fn machine_names(&self) -> Vec<String> {
        match &self.machines.names {
            Some(names) => names.clone(),
            None => (0..u32::from(self.machines.count))
                .map(|i| format!("{}:{}", self.router.host, FIRST_NAME_PORT + i))
                .collect(),
        }
    }

    /// The fault plan, checked against the machines and the trial's length; `origin` names
    /// where it came from in errors (a validated configuration's plan is always valid).
    pub fn fault_plan(&self, origin: &str) -> Result<FaultPlan, ConfigError> {
        faults::check_plan(&self.faults, origin, self.machines.count, self.run.duration)
    }

    /// The tick rate of each machine in id order for the trial with seed `trial_seed`: the
    /// `rates` list, or for `random` integers drawn uniformly from `random_rates.min..=max` with
    /// a Xoshiro256++ generator seeded by `seed::derive(trial_seed, Stream::Rates)`. The same seed always
    /// gives the same rates. Call it on a validated configuration (`min <= max`).
    pub fn machine_rates(&self, trial_seed: u64) -> Vec<f64> {
        match &self.machines.rates {
            Rates::List(rates) => rates.clone(),
            Rates::Random => {
                let RateRange { min, max } = self.machines.random_rates;
                let mut rng =
                    Xoshiro256PlusPlus::seed_from_u64(seed::derive(trial_seed, Stream::Rates));
                (0..self.machines.count)
                    .map(|_| f64::from(rng.random_range(min..=max.max(min))))
                    .collect()
            }
        }
    }
}

pub mod faults;
mod router_options;
mod validate;
/// The latency models live in `core` (a `delay` fault's latency is drawn by the switchboard).
pub use crate::core::latency::{Latency, LatencyError};
pub use faults::{Fault, FaultPlan, FaultSpec};

#[cfg(test)]
mod tests;
