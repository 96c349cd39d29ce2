//! A trial's events with their reconstructed clocks, for other tools: the log ShiViz reads
//! ([`shiviz`], parsed with [`SHIVIZ_REGEX`]) and one JSON object per line ([`jsonl`]). Pure: the
//! trial and its causality in, the text out; `cli::export` writes it. docs/ANALYSIS.md describes
//! both formats and how to open the first in ShiViz.
//!
//! Hosts are named `m<id>` (`m1`, `m2`, ...) in both formats: short, free of spaces, and the same
//! whatever the machines' names. Events come in an order consistent with happened-before (each
//! receive after its send), each machine's in log order.

use std::fmt::Write as _;

use serde::ser::{Error as _, SerializeMap};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::analysis::TrialInput;
use crate::analysis::causality::{Causality, EventRef};
use crate::analysis::hlc::Hlc;
use crate::core::event::{EventKind, Record};

/// The regular expression that parses [`shiviz`]'s output, to paste into ShiViz's "log parsing
/// regular expression" field: a line of description, then the host, a space and the vector clock.
/// ShiViz's own default, with the braces escaped so that other regex engines take it too.
pub const SHIVIZ_REGEX: &str = r"(?<event>.*)\n(?<host>\S*) (?<clock>\{.*\})";

/// A host's name in the exports: `m<id>`.
pub fn host(id: u16) -> String {
    format!("m{id}")
}

/// What an event was, in words: `send to m2 (seq 1)`, `receive from m1 (seq 1)`, ...
fn what(r: &Record) -> String {
    let seq = r.seq.map_or_else(String::new, |s| format!(" (seq {s})"));
    match (r.event, r.peer) {
        (EventKind::Receive, Some(p)) => format!("receive from {}{seq}", host(p)),
        (EventKind::Send, Some(p)) => format!("send to {}{seq}", host(p)),
        (EventKind::Broadcast, _) => format!("broadcast{seq}"),
        (kind, _) => kind.to_string(),
    }
}

/// Seconds from `start_us` to `t_us`, six decimals.
pub(super) fn since(start_us: u64, t_us: u64) -> String {
    let d = i128::from(t_us) - i128::from(start_us);
    let sign = if d < 0 { "-" } else { "" };
    let d = d.unsigned_abs();
    format!("{sign}{}.{:06}", d / 1_000_000, d % 1_000_000)
}

/// A vector clock as a JSON object, its entries in the trial's order of hosts (`m2` before
/// `m10`); with `zeros` false, the entries that are 0 are left out.
struct VectorClock<'a> {
    hosts: &'a [String],
    clock: &'a [u32],
    zeros: bool,
}

impl Serialize for VectorClock<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (host, v) in self.hosts.iter().zip(self.clock) {
            if self.zeros || *v > 0 {
                map.serialize_entry(host, v)?;
            }
        }
        map.end()
    }
}

/// Seconds from a trial's start to an event, as a JSON number with six decimals, exact (from whole
/// microseconds, never through a float).
struct Seconds {
    start_us: u64,
    t_us: u64,
}

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RawValue::from_string(since(self.start_us, self.t_us))
            .map_err(S::Error::custom)?
            .serialize(s)
    }
}

/// One line of [`jsonl`]: serde names the keys, in this order.
#[derive(Serialize)]
struct JsonEvent<'a> {
    host: &'a str,
    machine: u16,
    line: usize,
    event: &'static str,
    system_time_us: u64,
    time_s: Seconds,
    lamport: u64,
    queue_len: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    msg_clock: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u32>,
    vc: VectorClock<'a>,
    hlc: (u64, u32),
    /// The matched send's host and line.
    #[serde(skip_serializing_if = "Option::is_none")]
    send: Option<(&'a str, usize)>,
}

/// The trial's events as a ShiViz log: per event a line describing it (what happened, its Lamport
/// clock, its time since the trial's start and its log line) and a line with its host and vector
/// clock as JSON, entries that are 0 left out. Fails only if serde_json does.
pub fn shiviz(trial: &TrialInput, c: &Causality) -> Result<String, serde_json::Error> {
    let hosts: Vec<String> = trial.machines.iter().map(|m| host(m.id)).collect();
    let mut out = String::new();
    for &e in &c.order {
        let m = &trial.machines[e.machine];
        let r = &m.records[e.index];
        let _ = writeln!(
            out,
            "{} lamport={} t={}s line={}",
            what(r),
            r.logical_clock,
            since(trial.start_us, r.system_time_us),
            e.index + 2
        );
        let clock = VectorClock {
            hosts: &hosts,
            clock: c.vector(e),
            zeros: false,
        };
        let _ = writeln!(
            out,
            "{} {}",
            hosts[e.machine],
            serde_json::to_string(&clock)?
        );
    }
    Ok(out)
}

/// The trial's events as JSON Lines, one object per event in the order of [`shiviz`]: the
/// machine (`host`, `machine` id), the log `line`, the row's columns (`event`, `system_time_us`,
/// `time_s` since the trial's start, `lamport`, `queue_len`, and `peer`, `msg_clock`, `seq` when
/// the row has them), the vector clock `vc` with every host's entry, the hybrid clock `hlc` as
/// `[l, c]`, and for a receive matched with its send, `send` as `[host, line]`. Fails only if
/// serde_json does.
pub fn jsonl(
    trial: &TrialInput,
    c: &Causality,
    hlc: &[Vec<Hlc>],
) -> Result<String, serde_json::Error> {
    let hosts: Vec<String> = trial.machines.iter().map(|m| host(m.id)).collect();
    let mut out = Vec::new();
    for &e in &c.order {
        let m = &trial.machines[e.machine];
        let r = &m.records[e.index];
        let h = hlc[e.machine][e.index];
        let event = JsonEvent {
            host: &hosts[e.machine],
            machine: m.id,
            line: e.index + 2,
            event: r.event.as_str(),
            system_time_us: r.system_time_us,
            time_s: Seconds {
                start_us: trial.start_us,
                t_us: r.system_time_us,
            },
            lamport: r.logical_clock,
            queue_len: r.queue_len,
            peer: r.peer,
            msg_clock: r.msg_clock,
            seq: r.seq,
            vc: VectorClock {
                hosts: &hosts,
                clock: c.vector(e),
                zeros: true,
            },
            hlc: (h.l, h.c),
            send: c.send_of[e.machine][e.index]
                .map(|EventRef { machine, index }| (hosts[machine].as_str(), index + 2)),
        };
        serde_json::to_writer(&mut out, &event)?;
        out.push(b'\n');
    }
    // serde_json writes UTF-8.
    Ok(String::from_utf8_lossy(&out).into_owned())
}
