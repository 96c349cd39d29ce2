//! The options of `clocklab experiment`: what every experiment shares, and each one's own.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{Common, JobsArgs, ShardArg, action_range_arg, duration_arg, machines_arg, seed_arg};

/// The experiments.
#[derive(Debug, Subcommand)]
pub enum ExperimentCommand {
    /// Baseline, smaller rate variation and fewer internal events, many trials each, side by side.
    Classic(ClassicArgs),
    /// One parameter over a list of values, many seeds each: queue peak, drift and jumps against it.
    Sweep(SweepArgs),
    /// Fair weather, a slow link, a partition (held, then dropped), a pause and a skewed clock on
    /// the slowest machine, many trials each, side by side.
    Weather(WeatherArgs),
}

/// Options every experiment shares.
#[derive(Debug, Args)]
pub struct StudyArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: Common,
    /// Seconds each trial runs (default from config).
    #[arg(long, value_name = "SECS", value_parser = duration_arg, allow_negative_numbers = true)]
    pub duration: Option<f64>,
    /// Master seed; every scenario or value uses the same trial seeds.
    #[arg(long, value_name = "S", value_parser = seed_arg, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Directory in which the experiment's directory is created (default: the configured log_dir).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Network latency model, as for `simulate`.
    #[arg(long, value_name = "MODEL", default_value = "fixed:100us")]
    pub latency: crate::config::Latency,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub jobs: JobsArgs,
}

/// Options of `experiment classic`.
#[derive(Debug, Args)]
pub struct ClassicArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub study: StudyArgs,
    /// Trials per scenario.
    #[arg(long, value_name = "K", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub trials: u32,
    /// Run only shard I of N of the trials, numbered scenario by scenario (see simulate --shard).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<ShardArg>,
}

/// Options of `experiment weather`.
#[derive(Debug, Args)]
pub struct WeatherArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub study: StudyArgs,
    /// Trials per scenario.
    #[arg(long, value_name = "K", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub trials: u32,
}

/// What a sweep varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SweepParam {
    /// The rate of machine 1 (the slow one), its peers at --peer-rate.
    SlowRate,
    /// R, the action range, with machine 1 at --slow-rate and its peers at --peer-rate.
    ActionRange,
    /// Seconds machine 1 (at --slow-rate) is cut off from its peers, from a third of the trial
    /// on, its frames held until then (0: no partition).
    #[value(name = "partition_s", alias = "partition-s")]
    PartitionS,
    /// Milliseconds of fixed extra latency on every frame to machine 1 (at --slow-rate), the
    /// whole trial (0: no delay).
    #[value(name = "delay_ms", alias = "delay-ms")]
    DelayMs,
}

/// Options of `experiment sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub study: StudyArgs,
    /// The parameter to vary.
    #[arg(long, value_enum)]
    pub param: SweepParam,
    /// Its values, e.g. `0.5,1,1.5,2,3,4,6`.
    #[arg(long, value_name = "V1,V2,..", value_delimiter = ',', required = true)]
    pub values: Vec<f64>,
    /// The rate of every machine but machine 1, ticks per second.
    #[arg(long, value_name = "RATE", default_value_t = 6.0)]
    pub peer_rate: f64,
    /// Machine 1's rate when sweeping the action range.
    #[arg(long, value_name = "RATE", default_value_t = 1.0)]
    pub slow_rate: f64,
    /// R when sweeping the slow rate (default from config).
    #[arg(long, value_name = "R", value_parser = action_range_arg, allow_negative_numbers = true)]
    pub action_range: Option<u32>,
    /// Number of machines (default from config).
    #[arg(long, value_name = "N", value_parser = machines_arg, allow_negative_numbers = true)]
    pub machines: Option<u16>,
    /// Trials (seeds) per value.
    #[arg(long, value_name = "K", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub trials: u32,
    /// Run only shard I of N of the trials, numbered value by value (see simulate --shard).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<ShardArg>,
}
