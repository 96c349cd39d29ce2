//! The options that spread a command's trials: over this host's cores (`--jobs`) and over hosts
//! (`--shard`).

use std::path::PathBuf;
use std::str::FromStr;

use clap::Args;

use crate::rundir::shard::MAX_SHARDS;

/// `--jobs`, for the commands that run independent trials.
#[derive(Debug, Default, Args)]
pub struct JobsArgs {
    /// Trials to run at once, each on a thread of its own [default: every core]; --jobs 1 runs
    /// them one after another. The files written are the same whatever N.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub jobs: Option<u32>,
}

/// `--shard I/N`: which shard of a run split into N this process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardArg {
    /// Which shard.
    pub index: ShardIndex,
    /// Into how many shards the run is split.
    pub count: u32,
}

/// The I of `--shard I/N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardIndex {
    /// Given on the command line, from 1.
    Given(u32),
    /// `auto`: from the cluster's array index (`SLURM_ARRAY_TASK_ID`, `JOB_COMPLETION_INDEX`).
    Auto,
}

impl FromStr for ShardArg {
    type Err = String;

    fn from_str(text: &str) -> Result<ShardArg, String> {
        let allowed = format!(
            "expected I/N: shard I (from 1) of N (from 1 to {MAX_SHARDS}), or auto/N to read I \
             from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX"
        );
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?}: {allowed}"))?;
        let count: u32 = n
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=MAX_SHARDS).contains(n))
            .ok_or_else(|| format!("{text:?}: N is {n:?}; {allowed}"))?;
        let index = match i.trim() {
            "auto" => ShardIndex::Auto,
            i => ShardIndex::Given(
                i.parse()
                    .ok()
                    .filter(|i| (1..=count).contains(i))
                    .ok_or_else(|| {
                        format!("{text:?}: I is {i:?}, not one of 1 to {count}; {allowed}")
                    })?,
            ),
        };
        Ok(ShardArg { index, count })
    }
}

/// Options of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' directories (written with --shard I/N), all of one run, every shard once.
    #[arg(required = true, value_name = "SHARD_DIR")]
    pub dirs: Vec<PathBuf>,
    /// The run directory to make of them (must not exist yet).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_is_i_of_n_or_auto_of_n() {
        let parse = |t: &str| t.parse::<ShardArg>();
        assert_eq!(
            parse("2/4"),
            Ok(ShardArg {
                index: ShardIndex::Given(2),
                count: 4
            })
        );
        assert_eq!(parse("auto/8").map(|s| s.index), Ok(ShardIndex::Auto));
        for bad in ["0/4", "5/4", "1/0", "4", "a/4", "1/x"] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("expected I/N"), "{bad}: {e}");
        }
    }
}
