//! The command line: clap definitions and the overrides they make to the configuration.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod values;

use values::{
    action_range_arg, duration_arg, handshake_timeout_arg, machines_arg, per_process_arg, rate_arg,
    seed_arg, trials_arg,
};

mod spread;
mod study;
pub use spread::{JobsArgs, MergeArgs, ShardArg, ShardIndex};
pub use study::{ClassicArgs, ExperimentCommand, StudyArgs, SweepArgs, SweepParam, WeatherArgs};

/// clocklab: a scale model of an asynchronous distributed system for studying Lamport logical clocks.
///
/// N model machines tick at their own rates, exchange messages through one central router, and log
/// every event with its wall-clock time, logical clock and queue length.
#[derive(Debug, Parser)]
#[command(name = "clocklab", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole model: the router and N machines as processes, for a set time, then check the logs.
    Run(RunArgs),
    /// Start the router by hand; machines started with `client` register with it.
    Server(ServerArgs),
    /// Start one model machine by hand: `clocklab client 127.0.0.1 8001` names it 127.0.0.1:8001.
    Client(ClientArgs),
    /// Run the same model on virtual time: thousands of trials a second, byte-identical for a seed.
    Simulate(SimulateArgs),
    /// Whole studies on the simulator: the classic three scenarios, or a parameter sweep.
    #[command(subcommand)]
    Experiment(ExperimentCommand),
    /// Verify a run directory from its logs: clock rules, message matching and conservation, tick counts.
    Check(CheckArgs),
    /// Analyse runs: jumps, drift, queues and latency as tables, summary.json/.csv and report.html.
    Analyze(AnalyzeArgs),
    /// Compare two trials of the same seed event by event (a real run and its simulation, say).
    Diff(DiffArgs),
    /// Export a trial's events with their vector clocks: a log for ShiViz, or JSON Lines.
    Export(ExportArgs),
    /// Join the shards of a run (simulate or experiment with --shard I/N) into one directory.
    Merge(MergeArgs),
    /// Watch a trial live from its logs: per machine its clock, drift, queue, jumps and messages.
    Watch(WatchArgs),
}

/// Options every subcommand shares.
#[derive(Debug, Args)]
pub struct Common {
    /// The configuration file [default: config/config.yaml if it exists, else the built-in
    /// defaults, which are the same values].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// The model's options, shared by `run` and `simulate`; each overrides its value in the
/// configuration file.
#[derive(Debug, Args)]
pub struct ModelArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: Common,
    /// Seconds each trial runs.
    #[arg(long, value_name = "SECS", value_parser = duration_arg, allow_negative_numbers = true)]
    pub duration: Option<f64>,
    /// Number of machines.
    #[arg(long, value_name = "N", value_parser = machines_arg, allow_negative_numbers = true)]
    pub machines: Option<u16>,
    /// Tick rates per machine, ticks per second, e.g. `1,3,6` (fractions allowed).
    #[arg(long, value_name = "R1,R2,..", value_delimiter = ',', value_parser = rate_arg, allow_hyphen_values = true)]
    pub rates: Option<Vec<f64>>,
    /// Master seed; each trial's and machine's seed derives from it.
    #[arg(long, value_name = "S", value_parser = seed_arg, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// R: an idle tick draws 1..=R; values above N are internal events.
    #[arg(long, value_name = "R", value_parser = action_range_arg, allow_negative_numbers = true)]
    pub action_range: Option<u32>,
    /// Number of trials (written to trial-1 ... trial-K).
    #[arg(long, value_name = "K", value_parser = trials_arg, allow_negative_numbers = true)]
    pub trials: Option<u32>,
    /// Directory in which the run directory is created (default: the configured log_dir).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// A fault plan: a YAML list of faults, as `faults:` in the configuration holds, which it
    /// replaces (config/faults-example.yaml shows every kind).
    #[arg(long, value_name = "FILE")]
    pub faults: Option<PathBuf>,
}

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub model: ModelArgs,
    /// The port of the run's router [default: run.port in the configuration, 0: a free one].
    #[arg(long)]
    pub port: Option<u16>,
    /// Count incomplete trials (interrupted, or a process that did not stop in order) in the table
    /// across trials; by default they are left out, and counted apart.
    #[arg(long)]
    pub include_incomplete: bool,
    /// Machines per client process [default: 1 up to 64 machines, then at most 64 processes].
    #[arg(long, value_name = "K", value_parser = per_process_arg)]
    pub machines_per_process: Option<u16>,
    /// Show the live view (`clocklab watch`) while each trial runs [default: when standard
    /// output is a terminal].
    #[arg(long, conflicts_with = "no_live")]
    pub live: bool,
    /// Print plain progress lines instead of the live view, even on a terminal.
    #[arg(long)]
    pub no_live: bool,
}

/// Options of `simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub model: ModelArgs,
    /// Network latency: fixed:DELAY, uniform:MIN:MAX or exp:BASE:MEAN (e.g. fixed:0,
    /// uniform:50us:2ms, exp:100us:1ms).
    #[arg(long, value_name = "MODEL", default_value = "fixed:100us")]
    pub latency: crate::config::Latency,
    /// How late each simulated tick runs after its deadline, in the latency models' form
    /// (e.g. exp:50us:200us) [default: none, every tick at its deadline].
    #[arg(long, value_name = "MODEL")]
    pub tick_lateness: Option<crate::config::Latency>,
    /// Draw the hop latency and the ticks' lateness from the distributions a run recorded in
    /// its machines' summaries (all machines merged), in place of --latency and --tick-lateness.
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["latency", "tick_lateness"])]
    pub timing_from: Option<PathBuf>,
    /// Which trial of the --timing-from run to read [default: 1].
    #[arg(long, value_name = "K", requires = "timing_from", value_parser = clap::value_parser!(u32).range(1..))]
    pub trial: Option<u32>,
    /// Start of simulated time, seconds since the UNIX epoch, up to 10^10 (the year 2286)
    /// [default: 1767225600, 2026-01-01T00:00:00Z].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=10_000_000_000))]
    pub epoch: Option<u64>,
    /// Keep only the summaries and run.yaml, not the event logs (for sweeps).
    #[arg(long)]
    pub no_logs: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub jobs: JobsArgs,
    /// Run only shard I of N: trial k when (k - 1) mod N = I - 1; `clocklab merge` joins the
    /// shards. auto/N reads I from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<ShardArg>,
}

/// Options of `server`.
#[derive(Debug, Args)]
pub struct ServerArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: Common,
    /// Host name or address to bind, e.g. localhost (default from config: 127.0.0.1).
    #[arg(long)]
    pub host: Option<String>,
    /// Port to bind (default from config: 8000; 0 picks a free one).
    #[arg(long)]
    pub port: Option<u16>,
    /// Number of machines to wait for before starting.
    #[arg(long, value_name = "N", value_parser = machines_arg, allow_negative_numbers = true)]
    pub machines: Option<u16>,
    /// Directory for the router's statistics (router.yaml) [default: a new directory under
    /// run.log_dir named after the run's start time and seed, `logs/<start>-seed-<seed>`, the one
    /// every client also picks by default].
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
    /// The run's seed, sent to every machine in WELCOME (default: run.seed of the configuration,
    /// else a fresh one, printed and recorded in router.yaml).
    #[arg(long, value_name = "S", value_parser = seed_arg, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// A fault plan, as for `run`: a YAML list of faults that replaces the configuration's. The
    /// router applies its delays and partitions.
    #[arg(long, value_name = "FILE")]
    pub faults: Option<PathBuf>,
    /// The trial's length in seconds, which the fault plan's windows must lie within (default:
    /// run.duration of the configuration; `run` gives its own).
    #[arg(long, value_name = "SECS", value_parser = duration_arg, allow_negative_numbers = true)]
    pub duration: Option<f64>,
    /// Stop in order when standard input ends (used by `run`, whose router reads a pipe).
    #[arg(long, hide = true)]
    pub stop_on_stdin_eof: bool,
    /// Leave run.yaml to `run`, which records the trial itself (a run by hand gets its run.yaml
    /// from the router).
    #[arg(long, hide = true)]
    pub recorded_by_run: bool,
}

/// Options of `client`.
#[derive(Debug, Args)]
pub struct ClientArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: Common,
    /// The machine's address, the first half of its name (e.g. 127.0.0.1).
    pub address: String,
    /// The machine's port, the second half of its name (e.g. 8001).
    pub port: u16,
    /// The router's host name or address and port, e.g. localhost:8000 (default from config:
    /// 127.0.0.1:8000).
    #[arg(long, value_name = "HOST:PORT")]
    pub router: Option<String>,
    /// Ticks per second (default: from config, by the id the router assigns); with
    /// --machines-per-process K, one rate for all or K rates, one per machine (R1,R2,..).
    #[arg(long, value_name = "RATE", value_delimiter = ',', value_parser = rate_arg, allow_negative_numbers = true)]
    pub rate: Option<Vec<f64>>,
    /// Run K machines here, ADDRESS:PORT to ADDRESS:PORT+K-1, each its own connection [default: 1].
    #[arg(long, value_name = "K", value_parser = per_process_arg)]
    pub machines_per_process: Option<u16>,
    /// The run's seed; the machine's own seed derives from it and its id.
    #[arg(long, value_name = "S", value_parser = seed_arg, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// R: an idle tick draws 1..=R (default from config).
    #[arg(long, value_name = "R", value_parser = action_range_arg, allow_negative_numbers = true)]
    pub action_range: Option<u32>,
    /// Directory for the machine's log and summary [default: the run's directory under
    /// run.log_dir, `logs/<start>-seed-<seed>`, named from WELCOME as the router names it].
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
    /// Seconds the trial runs from the common start WELCOME announces: the machine takes exactly
    /// the ticks due by then, none after, and waits for the router's BYE (`run` gives it)
    /// [default: it ticks until the router's BYE].
    #[arg(long, value_name = "SECS", value_parser = duration_arg, allow_negative_numbers = true)]
    pub duration: Option<f64>,
    /// A bad physical clock: milliseconds it is ahead at the start (negative: behind); the
    /// machine stamps its log rows and frames with it, as a `clock` fault does [default: 0].
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    pub clock_offset_ms: Option<f64>,
    /// A bad physical clock: parts per million it runs fast (negative: slow) from the start
    /// [default: 0].
    #[arg(long, value_name = "PPM", allow_negative_numbers = true)]
    pub clock_drift_ppm: Option<f64>,
    /// Seconds to reach the router and be welcomed before giving up [default:
    /// machines.handshake_timeout, 10]; the router welcomes every machine once all have joined.
    #[arg(long, value_name = "SECS", value_parser = handshake_timeout_arg, allow_negative_numbers = true)]
    pub handshake_timeout: Option<f64>,
}

/// Options of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A run directory (or a multi-trial run directory) written by `run`.
    pub run_dir: PathBuf,
}

/// `clocklab diff A B`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Side A: a run directory or a trial directory.
    pub a: PathBuf,
    /// Side B: a run directory or a trial directory.
    pub b: PathBuf,
    /// Which trial of each run to compare [default: 1].
    #[arg(long, value_name = "K", value_parser = trials_arg)]
    pub trial: Option<u32>,
}

/// Options of `analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Run directories (or multi-trial run directories) written by `run`; several are compared
    /// side by side.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where the outputs go (default: DIR/analysis for one DIR, ./analysis for several):
    /// report.html, summary.json; summary.csv (a row per trial, machine and figure),
    /// summary-wide.csv (a row per trial and machine), summary-trials.csv (a row per trial),
    /// summary-stats.csv (per machine and rate, each figure's n, mean, std, min and max across
    /// trials); events.csv with --events; weather.csv (for a run with a fault plan); the plots.
    /// docs/ANALYSIS.md describes them.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// A name for each DIR, in order, e.g. `baseline,slow` [default: the shortest end of each
    /// path that tells the runs apart].
    #[arg(long, value_name = "L1,L2,..", value_delimiter = ',')]
    pub label: Option<Vec<String>>,
    /// Count incomplete trials (interrupted, or a machine or the router that did not stop in
    /// order) in the figures across trials; by default they are left out, and counted apart.
    #[arg(long)]
    pub include_incomplete: bool,
    /// The space-time diagrams' window, seconds since each trial's start, e.g. `10s..15s`
    /// [default: the 60 events around the trial's largest clock jump, at most 5 s].
    #[arg(long, value_name = "START..END", value_parser = crate::report::spacetime::parse_window)]
    pub window: Option<crate::report::spacetime::Window>,
    /// Also write events.csv: every log row of every trial, with its run, trial and time since
    /// the trial's start (as large as the logs themselves, so off by default: the logs already
    /// hold every row).
    #[arg(long)]
    pub events: bool,
    /// `--jobs`: trials analysed at once (each job holds one trial's rows).
    #[command(flatten)]
    pub jobs: JobsArgs,
}

/// The formats of `export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Two lines per event, a description and `host {vector clock}`, for ShiViz.
    Shiviz,
    /// One JSON object per event and line, with its vector and hybrid clocks.
    Jsonl,
}

/// Options of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A run directory (or a multi-trial run directory) written by `run` or `simulate`.
    pub run_dir: PathBuf,
    /// Which trial of a multi-trial run, from 1 [default: 1].
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
    pub trial: Option<u32>,
    /// The output format.
    #[arg(long, value_enum, default_value = "shiviz")]
    pub format: ExportFormat,
    /// Short for `--format shiviz`.
    #[arg(long, conflicts_with = "format")]
    pub shiviz: bool,
    /// The file to write [default: standard output].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Options of `watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// A run directory written by `run`, `simulate` or a router started by hand, or one being
    /// written.
    pub run_dir: PathBuf,
    /// Which trial of a multi-trial run, from 1 [default: the newest, then each next one].
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
    pub trial: Option<u32>,
}
