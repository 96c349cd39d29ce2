//! The fault plan: `faults:` in the configuration, or a file given to `--faults` (a YAML list of
//! the same entries, which replaces the configuration's). Each entry is one fault:
//!
//! ```yaml
//! - {kind: delay, link: "1->3", from: 0, to: 30, latency: "fixed:50ms"}
//! - {kind: partition, groups: [[1, 2], [3]], from: 10, to: 20, mode: hold}
//! - {kind: pause, machine: 2, from: 5, to: 8}
//! - {kind: clock, machine: 2, offset_ms: 250, drift_ppm: 100}
//! ```
//!
//! Reading is two steps, as for the frame format: serde reads each entry as written
//! ([`FaultSpec`], every field optional, an unknown key refused), which the configuration keeps and
//! `run.yaml` records as it was given; then [`FaultSpec::typed`] checks it against the run (its
//! machines, its trial's length) into a [`Fault`] built of `core::fault`'s pieces, with an error
//! that names the field (`faults[2].machine`) and what is allowed (each kind's rules are in
//! `entry`). [`check_plan`] adds the rules between entries (overlapping partitions or pauses of
//! one machine, two clocks for one machine).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::validate::{fmt_num, fmt_str};
use super::{ConfigError, Latency};
use crate::core::fault::{ClockSkew, Link, PartitionMode, Window};
use crate::core::switchboard::{Delay, Partition, Plan};

/// The largest clock offset either way, milliseconds (one day).
pub const MAX_OFFSET_MS: f64 = 86_400_000.0;
/// The largest clock drift either way, parts per million (10%).
pub const MAX_DRIFT_PPM: f64 = (ClockSkew::MAX_DRIFT_PPB / 1000) as f64;

/// One fault as written: its `kind` and whichever fields it gave. [`FaultSpec::typed`] checks it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// `delay`, `partition`, `pause` or `clock`.
    pub kind: String,
    /// delay: the link, `A->B` with `*` for any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// delay: the extra latency, in `--latency`'s models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<String>,
    /// partition: two or more groups of machine ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Vec<i64>>>,
    /// partition: `hold` (the default) or `drop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// pause and clock: the machine's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<i64>,
    /// delay, partition and pause: the window's start, seconds of the trial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<f64>,
    /// delay, partition and pause: the window's end (excluded), seconds of the trial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<f64>,
    /// clock: how far ahead the clock is, milliseconds (negative: behind); 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_ms: Option<f64>,
    /// clock: how much faster it runs, parts per million (negative: slower); 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_ppm: Option<f64>,
}

/// One fault, checked.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Extra latency on the frames of a link.
    Delay {
        /// The frames it acts on.
        link: Link,
        /// When.
        window: Window,
        /// The extra latency.
        latency: Latency,
    },
    /// Frames between groups are held or dropped.
    Partition {
        /// The groups, machine ids; a machine in no group reaches every machine.
        groups: Vec<Vec<u16>>,
        /// When.
        window: Window,
        /// Held or dropped.
        mode: PartitionMode,
    },
    /// A machine stops: no ticks and no reads.
    Pause {
        /// The machine's id.
        machine: u16,
        /// When.
        window: Window,
    },
    /// A machine's physical clock is off, for the whole trial.
    Clock {
        /// The machine's id.
        machine: u16,
        /// How it is off.
        skew: ClockSkew,
    },
}

impl Fault {
    /// The kind, as a plan writes it.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Delay { .. } => "delay",
            Fault::Partition { .. } => "partition",
            Fault::Pause { .. } => "pause",
            Fault::Clock { .. } => "clock",
        }
    }
}

/// A whole plan, checked, in the order written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultPlan {
    /// The faults.
    pub faults: Vec<Fault>,
}

impl FaultPlan {
    /// Machine `id`'s clock: the skew of its `clock` fault, or a perfect clock.
    pub fn clock_skew(&self, id: u16) -> ClockSkew {
        self.faults
            .iter()
            .find_map(|f| match f {
                Fault::Clock { machine, skew } if *machine == id => Some(*skew),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// Each machine's clock, by id from 1 to `machines` (index 0 is machine 1).
    pub fn clock_skews(&self, machines: u16) -> Vec<ClockSkew> {
        (1..=machines).map(|id| self.clock_skew(id)).collect()
    }

    /// The `delay` and `partition` faults, as the switchboard's rules (its `weather`): the router
    /// applies them to the frames it routes. Empty if the plan has none.
    pub fn weather(&self) -> Plan {
        let mut plan = Plan::default();
        for fault in &self.faults {
            match fault {
                Fault::Delay {
                    link,
                    window,
                    latency,
                } => plan.delays.push(Delay {
                    link: *link,
                    window: *window,
                    latency: *latency,
                }),
                Fault::Partition {
                    groups,
                    window,
                    mode,
                } => plan.partitions.push(Partition {
                    groups: groups.clone(),
                    window: *window,
                    mode: *mode,
                }),
                Fault::Pause { .. } | Fault::Clock { .. } => {}
            }
        }
        plan
    }

    /// Whether a partition in `drop` mode may drop frames.
    pub fn drops_frames(&self) -> bool {
        self.faults.iter().any(|f| {
            matches!(
                f,
                Fault::Partition {
                    mode: PartitionMode::Drop,
                    ..
                }
            )
        })
    }

    /// Every `pause`: the machine's id and its window, in the order written (two pauses of one
    /// machine never overlap: [`check_plan`] refuses them).
    pub fn pauses(&self) -> Vec<(u16, Window)> {
        self.faults
            .iter()
            .filter_map(|f| match f {
                Fault::Pause { machine, window } => Some((*machine, *window)),
                _ => None,
            })
            .collect()
    }
}

/// Which fields each kind takes, in the order its messages list them, and how many of them, from
/// the first, it needs.
const KINDS: [(&str, &[&str], usize); 4] = [
    ("delay", &["link", "from", "to", "latency"], 4),
    ("partition", &["groups", "from", "to", "mode"], 3),
    ("pause", &["machine", "from", "to"], 3),
    ("clock", &["machine", "offset_ms", "drift_ppm"], 1),
];

/// A field of fault `index` that is wrong: the message [`ConfigError::Invalid`] gives.
fn invalid(origin: &str, index: usize, field: &str, value: String, allowed: String) -> ConfigError {
    ConfigError::Invalid {
        origin: origin.to_owned(),
        field: format!("faults[{index}].{field}"),
        value,
        allowed,
    }
}

/// `fields` as "a, b and c".
fn listed(fields: &[&str]) -> String {
    match fields.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

impl FaultSpec {
    /// The fields given, by name, with their value as written.
    fn given(&self) -> Vec<(&'static str, String)> {
        let num = |v: Option<f64>| v.map(fmt_num);
        let text = |v: &Option<String>| v.as_deref().map(fmt_str);
        [
            ("link", text(&self.link)),
            ("latency", text(&self.latency)),
            ("groups", self.groups.as_ref().map(|g| format!("{g:?}"))),
            ("mode", text(&self.mode)),
            ("machine", self.machine.map(|m| m.to_string())),
            ("from", num(self.from)),
            ("to", num(self.to)),
            ("offset_ms", num(self.offset_ms)),
            ("drift_ppm", num(self.drift_ppm)),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect()
    }

    /// This entry, number `index` of `origin`'s plan, checked for a run of `machines` machines
    /// and trials of `duration` seconds.
    pub fn typed(
        &self,
        origin: &str,
        index: usize,
        machines: u16,
        duration: f64,
    ) -> Result<Fault, ConfigError> {
        let Some(&(kind, fields, needed)) = KINDS.iter().find(|(k, ..)| *k == self.kind) else {
            let kinds: Vec<&str> = KINDS.iter().map(|(k, ..)| *k).collect();
            return Err(invalid(
                origin,
                index,
                "kind",
                fmt_str(&self.kind),
                format!("a fault is one of {}", listed(&kinds)),
            ));
        };
        let entry = entry::Entry {
            spec: self,
            origin,
            index,
            kind,
            needs: &fields[..needed],
            machines,
            duration,
        };
        for (field, value) in self.given() {
            if !fields.contains(&field) {
                let allowed = format!("a {kind} fault takes {}", listed(fields));
                return Err(entry.bad(field, value, allowed));
            }
        }
        match kind {
            "delay" => entry.delay(),
            "partition" => entry.partition(),
            "pause" => Ok(Fault::Pause {
                machine: entry.machine("machine", entry.given(self.machine, "machine")?)?,
                window: entry.window()?,
            }),
            _ => entry.clock(),
        }
    }
}

/// A clock `offset_ms` ahead (negative: behind) that runs `drift_ppm` fast (negative: slow), to
/// the microsecond and the thousandth of a ppm; or the one out of range (`offset_ms` or
/// `drift_ppm`) and what is allowed.
pub fn clock_skew(offset_ms: f64, drift_ppm: f64) -> Result<ClockSkew, (&'static str, String)> {
    if !(-MAX_OFFSET_MS..=MAX_OFFSET_MS).contains(&offset_ms) {
        return Err((
            "offset_ms",
            format!("milliseconds from -{MAX_OFFSET_MS} to {MAX_OFFSET_MS} (a day)"),
        ));
    }
    if !(-MAX_DRIFT_PPM..=MAX_DRIFT_PPM).contains(&drift_ppm) {
        return Err((
            "drift_ppm",
            format!("parts per million from -{MAX_DRIFT_PPM} to {MAX_DRIFT_PPM}"),
        ));
    }
    Ok(ClockSkew {
        offset_us: (offset_ms * 1e3).round() as i64,
        drift_ppb: (drift_ppm * 1e3).round() as i64,
    })
}

/// Every entry of `specs` checked, and the rules between them: a machine is in at most one
/// partition and one pause at a time, and has at most one clock.
pub fn check_plan(
    specs: &[FaultSpec],
    origin: &str,
    machines: u16,
    duration: f64,
) -> Result<FaultPlan, ConfigError> {
    let mut faults: Vec<Fault> = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        let fault = spec.typed(origin, index, machines, duration)?;
        for (earlier, other) in faults.iter().enumerate() {
            if let Some((id, what)) = clash(&fault, other) {
                return Err(invalid(
                    origin,
                    index,
                    if matches!(fault, Fault::Partition { .. }) {
                        "groups"
                    } else {
                        "machine"
                    },
                    id.to_string(),
                    format!("machine {id} is already in faults[{earlier}], {what}"),
                ));
            }
        }
        faults.push(fault);
    }
    Ok(FaultPlan { faults })
}

/// A machine that two faults may not share, and why: `(id, what the earlier one is)`.
fn clash(new: &Fault, old: &Fault) -> Option<(u16, &'static str)> {
    match (new, old) {
        (
            Fault::Partition {
                groups, window: w, ..
            },
            Fault::Partition {
                groups: old,
                window: v,
                ..
            },
        ) if w.overlaps(v) => groups
            .iter()
            .flatten()
            .find(|id| old.iter().flatten().any(|o| o == *id))
            .map(|&id| (id, "a partition whose window overlaps this one's")),
        (
            Fault::Pause { machine, window: w },
            Fault::Pause {
                machine: old,
                window: v,
            },
        ) if machine == old && w.overlaps(v) => {
            Some((*machine, "a pause whose window overlaps this one's"))
        }
        (Fault::Clock { machine, .. }, Fault::Clock { machine: old, .. }) if machine == old => {
            Some((*machine, "a clock fault (a machine has one clock)"))
        }
        _ => None,
    }
}

/// Reads a fault plan file (`--faults FILE`): a YAML list of faults, as `faults:` holds. An empty
/// file is an empty plan. It is checked against the run with [`check_plan`].
pub fn load_fault_file(path: &Path) -> Result<Vec<FaultSpec>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::FaultFile {
        path: path.to_owned(),
        source,
    })?;
    serde_yaml::from_str::<Option<Vec<FaultSpec>>>(&text)
        .map(Option::unwrap_or_default)
        .map_err(|e| {
            // serde_yaml names an entry of a top-level list `.[2]`: name it as `faults:` does.
            let message = e.to_string();
            ConfigError::Parse {
                origin: path.display().to_string(),
                message: match message.strip_prefix(".[") {
                    Some(rest) => format!("faults[{rest}"),
                    None => message,
                },
            }
        })
}

mod entry;
#[cfg(test)]
mod tests;
