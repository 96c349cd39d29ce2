//! A shard of a run: which of the run's trials it holds, and `shard.yaml`, the record that lets
//! `clocklab merge` join shards into the run they split.
//!
//! The split: a run's trials are numbered 1..=T in the order the unsharded run takes them (a
//! sweep value by value, the classic experiment scenario by scenario), and trial j goes to shard
//! ((j - 1) mod N) + 1, so the shards take turns and each gets a like share of every value and
//! scenario. All N shards together hold every trial once.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{FileError, read_yaml, write_yaml_atomically};

/// The record of a shard, in its directory.
pub const SHARD_FILE: &str = "shard.yaml";

/// The most shards a run may be split into.
pub const MAX_SHARDS: u32 = 100_000;

/// Shard `index` of `count` (both from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which shard, from 1.
    pub index: u32,
    /// How many shards the run is split into.
    pub count: u32,
}

impl Shard {
    /// The whole run: shard 1 of 1.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Whether trial `j` (from 1) is this shard's.
    pub fn takes(self, j: u32) -> bool {
        (j - 1) % self.count + 1 == self.index
    }

    /// This shard's trials among `1..=trials`, in order.
    pub fn trials(self, trials: u32) -> Vec<u32> {
        (1..=trials).filter(|&j| self.takes(j)).collect()
    }

    /// Whether this is a part of a run rather than the whole.
    pub fn is_part(self) -> bool {
        self.count > 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `shard.yaml`: what a shard is part of and which trials it ran. Two shards belong to one run
/// when their `command`, `count`, `trials` and `run` are equal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// The clocklab version that wrote it.
    pub clocklab_version: String,
    /// The command that ran: `simulate`, `experiment classic` or `experiment sweep`.
    pub command: String,
    /// Which shard this is, and of how many.
    pub shard: Shard,
    /// How many trials the whole run has.
    pub trials: u32,
    /// The trials this shard ran, in order.
    pub ran: Vec<u32>,
    /// Everything that makes the run what it is (the master seed, the configuration, the
    /// command's parameters): equal in every shard of one run.
    pub run: serde_yaml::Value,
    /// What the command keeps of each trial when it writes no trial directories (a sweep's
    /// figures per trial); null otherwise.
    #[serde(default)]
    pub results: serde_yaml::Value,
}

impl ShardRecord {
    /// Writes the record into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), FileError> {
        let path = dir.join(SHARD_FILE);
        write_yaml_atomically(&path, self).map_err(|e| FileError {
            path,
            problem: format!("cannot write: {e}"),
        })
    }

    /// Reads the record of the shard in `dir`, `None` when it has none.
    pub fn read(dir: &Path) -> Result<Option<ShardRecord>, FileError> {
        read_yaml(&dir.join(SHARD_FILE))
    }
}

/// The fields in which two values differ, as dotted paths (`config.run.duration`), each with
/// both values in YAML's flow form, at most `limit` of them.
pub fn differences(a: &serde_yaml::Value, b: &serde_yaml::Value, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    walk(a, b, &mut String::new(), &mut out, limit);
    out
}

fn walk(
    a: &serde_yaml::Value,
    b: &serde_yaml::Value,
    path: &mut String,
    out: &mut Vec<String>,
    limit: usize,
) {
    use serde_yaml::Value::Mapping;
    if out.len() >= limit || a == b {
        return;
    }
    if let (Mapping(x), Mapping(y)) = (a, b) {
        let mut keys: Vec<&serde_yaml::Value> = x.keys().collect();
        keys.extend(y.keys().filter(|k| !x.contains_key(*k)));
        for key in keys {
            let null = serde_yaml::Value::Null;
            let name = serde_yaml::to_string(key).unwrap_or_default();
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(name.trim());
            walk(
                x.get(key).unwrap_or(&null),
                y.get(key).unwrap_or(&null),
                path,
                out,
                limit,
            );
            path.truncate(len);
        }
        return;
    }
    let show = |v: &serde_yaml::Value| {
        let text = serde_yaml::to_string(v).unwrap_or_default();
        let text = text.trim().replace('\n', " ");
        if text.chars().count() > 60 {
            format!("{}...", text.chars().take(57).collect::<String>())
        } else {
            text
        }
    };
    out.push(format!("{path}: {} against {}", show(a), show(b)));
}

/// The shard directories given to merge, each with its record.
pub fn read_shards(dirs: &[PathBuf]) -> Result<Vec<(PathBuf, ShardRecord)>, String> {
    let mut shards = Vec::with_capacity(dirs.len());
    for dir in dirs {
        match ShardRecord::read(dir) {
            Ok(Some(record)) => shards.push((dir.clone(), record)),
            Ok(None) if !dir.is_dir() => {
                return Err(format!("{}: no such directory", dir.display()));
            }
            Ok(None) => {
                return Err(format!(
                    "{} is not a shard: it has no {SHARD_FILE} (a shard is what simulate, \
                     experiment classic or experiment sweep write with --shard I/N)",
                    dir.display()
                ));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(shards)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shards_take_turns_and_together_hold_every_trial_once() {
        let parts: Vec<Vec<u32>> = (1..=4)
            .map(|i| Shard { index: i, count: 4 }.trials(10))
            .collect();
        assert_eq!(parts[0], [1, 5, 9]);
        assert_eq!(parts[1], [2, 6, 10]);
        assert_eq!(parts[3], [4, 8]);
        let mut all: Vec<u32> = parts.concat();
        all.sort_unstable();
        assert_eq!(all, (1..=10).collect::<Vec<_>>());
        assert_eq!(Shard::WHOLE.trials(3), [1, 2, 3]);
    }

    #[test]
    fn differences_name_the_field_and_both_values() {
        let a: serde_yaml::Value =
            serde_yaml::from_str("seed: 1\nconfig: {run: {duration: 5, trials: 2}}").unwrap();
        let b: serde_yaml::Value =
            serde_yaml::from_str("seed: 2\nconfig: {run: {duration: 6, trials: 2}}").unwrap();
        assert_eq!(
            differences(&a, &b, 10),
            ["seed: 1 against 2", "config.run.duration: 5 against 6"]
        );
        assert_eq!(differences(&a, &b, 1).len(), 1);
        assert!(differences(&a, &a, 10).is_empty());
    }
}
