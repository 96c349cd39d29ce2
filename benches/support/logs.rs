//! What the `logs` benchmarks share (`core`'s criterion group and `logs_paired`): issue 23's
//! trial, the ways of logging it, and the writer the logs used before 2026-12-06 as the baseline.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clocklab::config::Latency;
use clocklab::core::event::{HEADER, Record, append_record};
use clocklab::rundir::log::{LogBlocks, log_path, write_whole_log};
use clocklab::sim::{self, DEFAULT_EPOCH_NS, SimOptions};

/// One trial of issue 23's run: 3 machines at 50, 100 and 200 ticks/s for 600 s, seed 1 (about
/// 210,000 rows and 9.4 MB of logs).
pub fn issue_trial() -> SimOptions {
    sim_trial(vec![50.0, 100.0, 200.0], 600, 1)
}

/// A fair-weather trial of one machine per rate in `rates`, `secs` seconds long, with `seed`, at
/// the defaults of everything else.
pub fn sim_trial(rates: Vec<f64>, secs: u64, seed: u64) -> SimOptions {
    SimOptions {
        names: (1..=rates.len())
            .map(|i| format!("127.0.0.1:{}", 8000 + i))
            .collect(),
        rates,
        action_range: 10,
        receive_rule: Default::default(),
        missed_ticks: Default::default(),
        duration_ns: secs * 1_000_000_000,
        seed,
        epoch_ns: DEFAULT_EPOCH_NS,
        latency: Latency::default(),
        tick_lateness: None,
        measured: None,
        faults: Default::default(),
    }
}

/// The baseline of the `logs` group: a row as the logs were formatted before 2026-12-06, one
/// `write!` per field (the oracle of `core::event`'s tests is the same function).
pub fn format_macro(rec: &Record, out: &mut String) {
    let _ = write!(
        out,
        "{},{},{}.{:06},{},{},",
        rec.machine,
        rec.event,
        rec.system_time_us / 1_000_000,
        rec.system_time_us % 1_000_000,
        rec.logical_clock,
        rec.queue_len,
    );
    if let Some(peer) = rec.peer {
        let _ = write!(out, "{peer}");
    }
    out.push(',');
    if let Some(clock) = rec.msg_clock {
        let _ = write!(out, "{clock}");
    }
    out.push(',');
    if let Some(seq) = rec.seq {
        let _ = write!(out, "{seq}");
    }
    out.push('\n');
}

/// A fresh empty directory for one trial's logs, removed when dropped (outside the timing).
pub struct LogDir(pub PathBuf);

impl LogDir {
    pub fn new(n: &mut u64) -> LogDir {
        *n += 1;
        let dir =
            std::env::temp_dir().join(format!("clocklab-bench-logs-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the bench's log directory");
        LogDir(dir)
    }
}

impl Drop for LogDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Simulates `opts` with its logs written into `dir` as `simulate` writes them (`LogBlocks`).
pub fn simulate_writing_logs(opts: &SimOptions, dir: &Path) -> u64 {
    let mut logs = LogBlocks::create(dir, opts.rates.len() as u16).unwrap();
    let outcome = sim::simulate(opts, |r| logs.append(r)).unwrap();
    logs.finish().unwrap();
    outcome.events
}

/// Simulates `opts` with its rows formatted into one buffer per machine, kept in memory.
pub fn simulate_formatting_logs(opts: &SimOptions) -> Vec<Vec<u8>> {
    let mut texts = vec![Vec::new(); opts.rates.len()];
    sim::simulate(opts, |r| {
        append_record(r, &mut texts[usize::from(r.machine) - 1])
    })
    .unwrap();
    texts
}

/// Simulates `opts` with its logs as `simulate` made them before 2026-12-06: the rows formatted
/// with [`format_macro`] into one `String` per machine, each written with one `write_all` at the
/// end; without `dir`, kept in memory.
pub fn simulate_with_macro_logs(opts: &SimOptions, dir: Option<&Path>) -> Vec<String> {
    let mut texts = vec![format!("{HEADER}\n"); opts.rates.len()];
    sim::simulate(opts, |r| {
        format_macro(r, &mut texts[usize::from(r.machine) - 1])
    })
    .unwrap();
    if let Some(dir) = dir {
        for (i, text) in texts.iter().enumerate() {
            write_whole_log(&log_path(dir, i as u16 + 1), text).unwrap();
        }
    }
    texts
}
