//! The records a run writes, each defined once: `summary-<id>.yaml` ([`ClientSummary`], written by
//! a machine as it ends), `router.yaml` ([`RouterStats`]) and `run.yaml` ([`RunRecord`], one per
//! trial). docs/LOGS.md describes them; the writers in `net`, `sim` and `cli` and the readers in
//! `check` and `analysis` all use these types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::RUN_FILE;
use crate::config::{Config, ConfigError};
use crate::core::event::EventKind;
use crate::core::fault::ClockSkew;
use crate::core::histogram::Histogram;
use crate::core::machine::{Machine, MissedTicks, ReceiveRule};
use crate::core::switchboard::{KindCount, PairCount};

mod router;

/// A message still in the queue when the machine stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unprocessed {
    /// The sender.
    pub source: u16,
    /// The sender's seq.
    pub seq: u32,
    /// The message's clock.
    pub clock: u64,
}

/// What a client writes as `summary-<id>.yaml` when it ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientSummary {
    /// The machine's id.
    pub id: u16,
    /// The machine's name.
    pub name: String,
    /// How many machines took part.
    pub machines: u16,
    /// Ticks per second.
    pub rate: f64,
    /// R, the action range.
    pub action_range: u32,
    /// The run's seed.
    pub run_seed: u64,
    /// The machine's own seed (derived from the run's seed and the id).
    pub seed: u64,
    /// The common start time, nanoseconds since the UNIX epoch.
    pub start_time_ns: u64,
    /// When the machine stopped ticking, nanoseconds since the UNIX epoch.
    pub stop_time_ns: u64,
    /// Ticks taken.
    pub ticks: u64,
    /// Events by kind.
    pub events: BTreeMap<String, u64>,
    /// Data frames sent (the last seq).
    pub frames_sent: u32,
    /// The clock at the end.
    pub final_clock: u64,
    /// The queue's peak: the longest it was, counted right after each message arrived
    /// ([`crate::core::machine::Stats::queue_peak`]). Summaries written before the rename call it
    /// `max_queue`, which still reads.
    #[serde(alias = "max_queue")]
    pub queue_peak: u32,
    /// The largest clock rise at one event.
    pub max_jump: u64,
    /// Frames the machine refused (not addressed to it).
    pub refused: u64,
    /// Messages still queued at the end, oldest first.
    pub unprocessed: Vec<Unprocessed>,
    /// How the client ended.
    pub ended: String,
    /// Whether it ended in order (the router said BYE, or the machine left with BYE).
    pub orderly: bool,
    /// Why the machine could not write its event log, when it could not (a full disk, say). It
    /// then stopped ticking and left with BYE; its log holds the whole rows written before, and
    /// the figures above also count the events the log lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_error: Option<String>,

    // When the ticks really ran (docs/LOGS.md, "Tick timing"). Absent in summaries written
    // before these fields existed, which read as no lateness and nothing skipped.
    /// What the machine did with missed deadlines: `catch_up` or `skip`.
    #[serde(default)]
    pub missed_ticks: MissedTicks,
    /// Which message a tick took: `by_deadline` or `as_run`. Summaries written before the rule
    /// existed read as `as_run`, the rule they ran with.
    #[serde(default = "rule_before_receive_rule")]
    pub receive_rule: ReceiveRule,
    /// How late the ticks ran after their deadlines, in microseconds.
    #[serde(default)]
    pub tick_lateness_us: TickLateness,
    /// Ticks that ran more than one period (1/rate) after their deadline.
    #[serde(default)]
    pub ticks_late_over_one_period: u64,
    /// Deadlines dropped under `missed_ticks: skip`: `ticks + ticks_skipped` is the number of
    /// deadlines of the schedule up to `stop_time_ns`.
    #[serde(default)]
    pub ticks_skipped: u64,
    /// How long the data messages took from their send to this machine's queue (docs/LOGS.md,
    /// "Hop latency"). Absent in older summaries, which read as no messages.
    #[serde(default)]
    pub hop_latency_us: HopLatency,
    /// The whole distribution of the hop latencies, nanoseconds (what `simulate --timing-from`
    /// draws from); absent in summaries written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop_latency_ns: Option<Histogram>,
    /// The whole distribution of the ticks' lateness, nanoseconds; absent as above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tick_lateness_ns: Option<Histogram>,
}

/// The hop latencies of the messages a machine received, in microseconds: from the send time a
/// frame carries to the receiver's clock when it read the frame off its socket (in simulation,
/// when the message joined the queue). Percentiles within 1.6%, `max` exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HopLatency {
    /// The median.
    pub p50: f64,
    /// The 99th percentile.
    pub p99: f64,
    /// The largest.
    pub max: f64,
    /// How many messages arrived.
    pub count: u64,
    /// Of those, how many arrived stamped before their send (the sender's clock ahead of the
    /// receiver's, on another host), each counted as 0.
    pub negative: u64,
}

/// Tenths of a microsecond from nanoseconds: finer is noise, and the file stays readable.
fn tenths_us(ns: u64) -> f64 {
    (ns as f64 / 100.0).round() / 10.0
}

impl HopLatency {
    /// The hop latencies of `machine`'s messages.
    fn of(machine: &Machine) -> HopLatency {
        let t = machine.timing();
        HopLatency {
            p50: tenths_us(t.hop_latency.percentile(50.0)),
            p99: tenths_us(t.hop_latency.percentile(99.0)),
            max: tenths_us(t.hop_latency.max()),
            count: t.hop_latency.count(),
            negative: t.negative_hops,
        }
    }
}

/// A lateness distribution in microseconds (to within 1.6%; `max` exact). Zero in a simulated
/// trial, where every tick runs at its deadline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TickLateness {
    /// The median.
    pub p50: f64,
    /// The 99th percentile.
    pub p99: f64,
    /// The largest.
    pub max: f64,
}

impl TickLateness {
    /// The distribution of `machine`'s ticks.
    fn of(machine: &Machine) -> TickLateness {
        let l = &machine.timing().lateness;
        TickLateness {
            p50: tenths_us(l.percentile(50.0)),
            p99: tenths_us(l.percentile(99.0)),
            max: tenths_us(l.max()),
        }
    }
}

/// The `ended` of a machine that stopped because the router said BYE, which the router does only
/// in an orderly stop.
pub const ENDED_BY_ROUTER_BYE: &str = "the router said BYE";

impl ClientSummary {
    /// The summary of `machine`, named `name`, of the run seeded `run_seed`, which stopped
    /// ticking at `stop_time_ns` after refusing `refused` frames, and ended as `ended` says.
    pub fn of(
        machine: &Machine,
        name: &str,
        run_seed: u64,
        stop_time_ns: u64,
        refused: u64,
        ended: &str,
        orderly: bool,
    ) -> ClientSummary {
        let cfg = machine.config();
        let stats = machine.stats();
        ClientSummary {
            id: cfg.id,
            name: name.to_string(),
            machines: cfg.machines,
            rate: cfg.rate,
            action_range: cfg.action_range,
            run_seed,
            seed: cfg.seed,
            start_time_ns: cfg.start_ns,
            stop_time_ns,
            ticks: stats.ticks,
            events: EventKind::ALL
                .iter()
                .map(|&k| (k.as_str().to_string(), stats.count(k)))
                .collect(),
            frames_sent: machine.frames_sent(),
            final_clock: machine.clock(),
            queue_peak: stats.queue_peak,
            max_jump: stats.max_jump,
            refused,
            unprocessed: machine
                .queued()
                .map(|m| Unprocessed {
                    source: m.source,
                    seq: m.seq,
                    clock: m.clock,
                })
                .collect(),
            ended: ended.to_string(),
            orderly,
            log_error: None,
            missed_ticks: machine.missed_ticks(),
            receive_rule: machine.receive_rule(),
            tick_lateness_us: TickLateness::of(machine),
            ticks_late_over_one_period: machine.timing().late_over_one_period,
            ticks_skipped: machine.timing().skipped,
            hop_latency_us: HopLatency::of(machine),
            hop_latency_ns: Some(machine.timing().hop_latency.clone()),
            tick_lateness_ns: Some(machine.timing().lateness.clone()),
        }
    }
}

/// A connection that ended, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedConnection {
    /// The peer's address.
    pub peer: String,
    /// The machine name it registered, if any.
    pub name: Option<String>,
    /// The machine id it was given, if any.
    pub id: Option<u16>,
    /// Why it ended.
    pub reason: String,
}

/// What the router did: written as `router.yaml` in the run directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterStats {
    /// The address the router listened on.
    pub listen: String,
    /// Machines expected.
    pub machines: u16,
    /// Machine names by id (index 0 is machine 1), once all registered.
    pub names: Vec<String>,
    /// The run's seed, as sent in every WELCOME.
    #[serde(default)]
    pub seed: u64,
    /// The common start time, nanoseconds since the UNIX epoch, once all registered.
    pub start_time_ns: Option<u64>,
    /// When the router stopped, nanoseconds since the UNIX epoch.
    pub stop_time_ns: u64,
    /// What stopped it.
    pub stopped_by: String,
    /// Frames and bytes received, by kind name.
    pub frames: BTreeMap<String, KindCount>,
    /// Deliveries for every ordered pair of machines that exchanged data.
    pub pairs: Vec<PairCount>,
    /// Every connection that ended, in the order it ended.
    pub connections: Vec<ClosedConnection>,
}

fn logs_written() -> bool {
    true
}

/// The receive rule of a summary written before `receive_rule` was recorded.
fn rule_before_receive_rule() -> ReceiveRule {
    ReceiveRule::AsRun
}

/// One machine of a trial, as `run.yaml` records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MachineRecord {
    /// Its id.
    pub id: u16,
    /// Its name.
    pub name: String,
    /// Ticks per second.
    pub rate: f64,
    /// Its own seed.
    pub seed: u64,
    /// What it reported at the end, if it stopped in order.
    pub summary: Option<ClientSummary>,
}

/// The run whose measured timing a simulation drew from (`simulate --timing-from`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimingSource {
    /// The trial directory whose summaries were read.
    pub dir: String,
    /// The summaries whose distributions were merged, by machine id.
    pub machines: Vec<u16>,
    /// The merged hop latencies: what the simulated network draws.
    pub hop_latency_us: Measured,
    /// The merged ticks' lateness: what the simulated ticks draw.
    pub tick_lateness_us: Measured,
}

/// A measured distribution in brief, microseconds (percentiles within 1.6%, `max` exact).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// How many values.
    pub count: u64,
    /// The median.
    pub p50: f64,
    /// The 99th percentile.
    pub p99: f64,
    /// The largest.
    pub max: f64,
}

impl Measured {
    /// The brief of `h`.
    pub fn of(h: &Histogram) -> Measured {
        Measured {
            count: h.count(),
            p50: tenths_us(h.percentile(50.0)),
            p99: tenths_us(h.percentile(99.0)),
            max: tenths_us(h.max()),
        }
    }
}

/// One process of a trial and how it ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRecord {
    /// `router` or `machine <id>`.
    pub role: String,
    /// Its process id.
    pub pid: u32,
    /// How it ended, in words.
    pub exit: String,
    /// Its exit code, if it exited.
    pub code: Option<i32>,
}

/// Everything needed to understand and replay one trial: written as `run.yaml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The clocklab version that wrote it.
    pub clocklab_version: String,
    /// Whether the trial ran on virtual time (the simulator) rather than as processes.
    pub simulated: bool,
    /// Whether the machines' event logs were written (`simulate --no-logs` writes none).
    #[serde(default = "logs_written")]
    pub logs: bool,
    /// The simulated network's latency model; absent for a run of real processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<crate::config::Latency>,
    /// The simulated ticks' lateness model (`simulate --tick-lateness`); absent when every
    /// simulated tick ran at its deadline, and for a run of real processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tick_lateness: Option<crate::config::Latency>,
    /// Where the simulated timing came from (`simulate --timing-from`), in place of `latency`
    /// and `tick_lateness`; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing_from: Option<TimingSource>,
    /// This trial's number, from 1.
    pub trial: u32,
    /// How many trials the run has.
    pub trials: u32,
    /// The run's master seed.
    pub master_seed: u64,
    /// This trial's seed: `clocklab run --seed <it> --trials 1` replays the trial.
    pub seed: u64,
    /// The configuration in force, overrides applied.
    pub config: Config,
    /// Seconds the trial was to run.
    pub duration: f64,
    /// The common start time, nanoseconds since the UNIX epoch.
    pub start_time_ns: Option<u64>,
    /// When the stop began, nanoseconds since the UNIX epoch.
    pub stop_time_ns: u64,
    /// Whether Ctrl-C (or SIGTERM) cut the trial short.
    pub interrupted: bool,
    /// The machines by id.
    pub machines: Vec<MachineRecord>,
    /// The router's statistics.
    pub router: Option<RouterStats>,
    /// Every process and how it ended.
    pub processes: Vec<ProcessRecord>,
}

impl RunRecord {
    /// Each machine's physical clock by id (index 0 is machine 1), from the fault plan recorded
    /// with the configuration: a `clock` fault's skew, else a perfect clock. The real time of a
    /// row machine `id` stamped `t` is `clock.real_us(start_time_ns / 1000, t)`
    /// (docs/LOGS.md, "Clock faults"). An error when the recorded plan does not check.
    pub fn clock_skews(&self) -> Result<Vec<ClockSkew>, ConfigError> {
        let plan = self.config.fault_plan(RUN_FILE)?;
        Ok(plan.clock_skews(self.config.machines.count))
    }

    /// What kept the trial from ending in order: a process that exited with an error or was
    /// killed, a machine without a summary or whose summary says it did not end in order.
    pub fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = self
            .processes
            .iter()
            .filter(|p| p.code != Some(0))
            .map(|p| format!("{} (pid {}): {}", p.role, p.pid, p.exit))
            .collect();
        for m in &self.machines {
            match &m.summary {
                None => problems.push(format!("machine {} ({}) wrote no summary", m.id, m.name)),
                Some(s) if !s.orderly => {
                    problems.push(format!("machine {} ({}): {}", m.id, m.name, s.ended));
                }
                Some(_) => {}
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = "id: 1\nname: 127.0.0.1:8001\nmachines: 3\nrate: 2.0\naction_range: 10\n\
        run_seed: 5\nseed: 6\nstart_time_ns: 0\nstop_time_ns: 1\nticks: 9\nevents: {}\n\
        frames_sent: 0\nfinal_clock: 9\nQUEUE: 30\nmax_jump: 1\nrefused: 0\nunprocessed: []\n\
        ended: BYE\norderly: true\n";

    #[test]
    fn a_summary_writes_queue_peak_and_still_reads_the_old_max_queue() {
        let old: ClientSummary =
            serde_yaml::from_str(&SUMMARY.replace("QUEUE", "max_queue")).unwrap();
        let new: ClientSummary =
            serde_yaml::from_str(&SUMMARY.replace("QUEUE", "queue_peak")).unwrap();
        assert_eq!((old.queue_peak, &old), (30, &new));
        let written = serde_yaml::to_string(&old).unwrap();
        assert!(written.contains("\nqueue_peak: 30\n"), "{written}");
        assert!(!written.contains("max_queue"), "{written}");
    }

    #[test]
    fn a_summary_records_its_receive_rule_and_an_older_one_reads_as_as_run() {
        let text = SUMMARY.replace("QUEUE", "queue_peak");
        let old: ClientSummary = serde_yaml::from_str(&text).unwrap();
        assert_eq!(old.receive_rule, ReceiveRule::AsRun);
        for rule in [ReceiveRule::ByDeadline, ReceiveRule::AsRun] {
            let written = serde_yaml::to_string(&ClientSummary {
                receive_rule: rule,
                ..old.clone()
            })
            .unwrap();
            let line = format!("\nreceive_rule: {}\n", rule.as_str());
            assert!(written.contains(&line), "{written}");
            let read: ClientSummary = serde_yaml::from_str(&written).unwrap();
            assert_eq!(read.receive_rule, rule);
        }
    }
}
