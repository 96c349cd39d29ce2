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

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::core::machine::{MAX_RATE, RateError, check_rate};
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
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            host: "127.0.0.1".to_owned(),
            port: 8000,
            max_payload: MAX_PAYLOAD_LEN,
            stall_timeout: 5.0,
            start_delay: 0.5,
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
}

impl Default for MachinesConfig {
    fn default() -> Self {
        MachinesConfig {
            count: 3,
            names: None,
            rates: Rates::Random,
            random_rates: RateRange::default(),
            action_range: crate::core::machine::DEFAULT_ACTION_RANGE,
        }
    }
}

/// The inclusive range of integer tick rates that `rates: random` draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateRange {
    /// The slowest rate, at least 1 tick per second.
    pub min: u32,
    /// The fastest rate, at least `min` and at most [`MAX_RATE`].
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
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            duration: 60.0,
            trials: 1,
            seed: None,
            log_dir: PathBuf::from("logs"),
            stop_grace: 5.0,
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
#[derive(Debug)]
pub enum ConfigError {
    /// The configuration file does not exist.
    Missing {
        /// The path that was looked up.
        path: PathBuf,
    },
    /// The configuration file exists but could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The text is not YAML, or does not fit the structure: a wrong type, an unknown key.
    Parse {
        /// Where the text came from.
        origin: String,
        /// serde_yaml's message, which names the field and the line and column.
        message: String,
    },
    /// A value has the right type but is outside what is allowed.
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
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Missing { path } => write!(
                f,
                "{}: the configuration file does not exist",
                path.display()
            ),
            ConfigError::Read { path, source } => {
                write!(f, "{}: cannot read the file: {source}", path.display())
            }
            ConfigError::Parse { origin, message } => write!(f, "{origin}: {message}"),
            ConfigError::Invalid {
                origin,
                field,
                value,
                allowed,
            } => write!(f, "{origin}: {field}: {value} is not allowed; {allowed}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
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
                    format!("a list of {} rates", rates.len()),
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
        seconds("run.stop_grace", run.stop_grace, false)
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

/// A number as a student would write it; huge magnitudes in exponent form rather than 300 digits.
fn fmt_num(value: f64) -> String {
    if value.is_finite() && value.abs() >= 1e15 {
        format!("{value:e}")
    } else {
        value.to_string()
    }
}

/// A string in quotes, cut short (with its length in bytes) when it is too long to read.
fn fmt_str(text: &str) -> String {
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

mod latency;
pub use latency::Latency;

#[cfg(test)]
mod tests;
