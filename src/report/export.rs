//! A trial's events with their reconstructed clocks, for other tools: the log ShiViz reads
//! ([`shiviz`], parsed with [`SHIVIZ_REGEX`]) and one JSON object per line ([`jsonl`]). Pure: the
//! trial and its causality in, the text out; `cli::export` writes it. docs/ANALYSIS.md describes
//! both formats and how to open the first in ShiViz.
//!
//! Hosts are named `m<id>` (`m1`, `m2`, ...) in both formats: short, free of spaces, and the same
//! whatever the machines' names. Events come in an order consistent with happened-before (each
//! receive after its send), each machine's in log order.

use std::fmt::Write as _;

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
fn since(start_us: u64, t_us: u64) -> String {
    let d = i128::from(t_us) - i128::from(start_us);
    let sign = if d < 0 { "-" } else { "" };
    let d = d.unsigned_abs();
    format!("{sign}{}.{:06}", d / 1_000_000, d % 1_000_000)
}

/// The trial's events as a ShiViz log: per event a line describing it (what happened, its Lamport
/// clock, its time since the trial's start and its log line) and a line with its host and vector
/// clock as JSON, entries that are 0 left out.
pub fn shiviz(trial: &TrialInput, c: &Causality) -> String {
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
        let clock: Vec<String> = c
            .vector(e)
            .iter()
            .zip(&hosts)
            .filter(|(v, _)| **v > 0)
            .map(|(v, h)| format!("\"{h}\":{v}"))
            .collect();
        let _ = writeln!(out, "{} {{{}}}", hosts[e.machine], clock.join(","));
    }
    out
}

/// The trial's events as JSON Lines, one object per event in the order of [`shiviz`]: the
/// machine (`host`, `machine` id), the log `line`, the row's columns (`event`, `system_time_us`,
/// `time_s` since the trial's start, `lamport`, `queue_len`, and `peer`, `msg_clock`, `seq` when
/// the row has them), the vector clock `vc` with every host's entry, the hybrid clock `hlc` as
/// `[l, c]`, and for a receive matched with its send, `send` as `[host, line]`.
pub fn jsonl(trial: &TrialInput, c: &Causality, hlc: &[Vec<Hlc>]) -> String {
    let hosts: Vec<String> = trial.machines.iter().map(|m| host(m.id)).collect();
    let mut out = String::new();
    for &e in &c.order {
        let m = &trial.machines[e.machine];
        let r = &m.records[e.index];
        let _ = write!(
            out,
            "{{\"host\":\"{}\",\"machine\":{},\"line\":{},\"event\":\"{}\",\"system_time_us\":{},\
             \"time_s\":{},\"lamport\":{},\"queue_len\":{}",
            hosts[e.machine],
            m.id,
            e.index + 2,
            r.event,
            r.system_time_us,
            since(trial.start_us, r.system_time_us),
            r.logical_clock,
            r.queue_len
        );
        for (name, value) in [
            ("peer", r.peer.map(u64::from)),
            ("msg_clock", r.msg_clock),
            ("seq", r.seq.map(u64::from)),
        ] {
            if let Some(v) = value {
                let _ = write!(out, ",\"{name}\":{v}");
            }
        }
        let vc: Vec<String> = c
            .vector(e)
            .iter()
            .zip(&hosts)
            .map(|(v, h)| format!("\"{h}\":{v}"))
            .collect();
        let h = hlc[e.machine][e.index];
        let _ = write!(
            out,
            ",\"vc\":{{{}}},\"hlc\":[{},{}]",
            vc.join(","),
            h.l,
            h.c
        );
        if let Some(EventRef { machine, index }) = c.send_of[e.machine][e.index] {
            let _ = write!(out, ",\"send\":[\"{}\",{}]", hosts[machine], index + 2);
        }
        out.push_str("}\n");
    }
    out
}
