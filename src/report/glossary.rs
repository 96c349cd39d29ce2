//! The glossary of `report.html`: every heading of its tables, and every unit abbreviated in one,
//! with its definition taken from docs/ANALYSIS.md. One table, [`GLOSSARY`], gives both the
//! tooltip of a heading (`<abbr title>`) and its entry in the glossary at the end of the page,
//! which lists the entries the page uses. Pure: a page in, the same page annotated out.

use std::fmt::Write as _;

use super::table::escape;

/// Each term as a table heading writes it (before any unit in parentheses), and what it means.
pub const GLOSSARY: &[(&str, &str)] = &[
    ("machine", "the machine's id: its log is machine-<id>.csv"),
    ("id", "the machine's id: its log is machine-<id>.csv"),
    ("trial", "the trial's number within its run"),
    (
        "status",
        "complete, or INCOMPLETE and why: what a crash leaves behind (a log cut off while writing, no summary, router.yaml or run.yaml, or one saying the trial did not end in order)",
    ),
    (
        "ok",
        "machine_complete: 1 when the machine has no problem (a log cut off while writing, no summary, or a summary saying it did not end in order), else 0",
    ),
    ("ticks/s", "ticks per second"),
    (
        "set",
        "the configured tick rate (run.yaml, else the machine's summary)",
    ),
    (
        "real",
        "the measured tick rate: (n - 1) / (t(r_n) - t(r_1)) over the machine's n rows",
    ),
    (
        "events",
        "the number of rows of the log: one per event (of all machines, for a trial)",
    ),
    ("count", "the number of rows of the log: one per event"),
    (
        "recv%",
        "the share of rows that are receive events, in percent",
    ),
    (
        "send%",
        "the share of rows that are send events (to one other machine), in percent",
    ),
    (
        "bcst%",
        "the share of rows that are broadcast events (a send to every other machine), in percent",
    ),
    (
        "intl%",
        "the share of rows that are internal events, in percent",
    ),
    ("clock", "the logical (Lamport) clock"),
    (
        "final",
        "the value at the last row (for drift: at the last sampling instant)",
    ),
    (
        "per s",
        "clock units per second: (clock(r_n) - clock(r_1)) / (t(r_n) - t(r_1))",
    ),
    (
        "jump",
        "the jump of row i is clock(r_i) - clock(r_{i-1}), the clock before the first row taken as 0: an internal event or a send is a jump of 1; a receive of a message stamped ahead of the clock jumps further",
    ),
    ("max", "the largest value"),
    ("mean", "the arithmetic mean"),
    (
        "p50",
        "the 50th percentile (median), nearest-rank: the value at rank ceil(p/100 * n) of the n values sorted ascending",
    ),
    (
        "p95",
        "the 95th percentile, nearest-rank: the value at rank ceil(p/100 * n) of the n values sorted ascending",
    ),
    (
        "p99",
        "the 99th percentile, nearest-rank: the value at rank ceil(p/100 * n) of the n values sorted ascending",
    ),
    (
        "miss",
        "unmatched receives: receives whose send is in no log of the trial",
    ),
    (
        "queue",
        "the machine's queue of messages that arrived and wait for a tick to take them",
    ),
    (
        "peak",
        "queue peak: the longest the queue was right after a message arrived, from the machine's summary",
    ),
    (
        "queue after tick",
        "the queue after each tick, once the tick took its message, as logged (queue_len)",
    ),
    (
        "tick max",
        "the largest queue after a tick (queue_len) of any machine",
    ),
    (
        "growth/min",
        "queue growth: the slope of the least-squares line through (t, queue_len) of every row, times 60: messages per minute",
    ),
    (
        "drift",
        "how far a machine's clock is behind the largest clock, compared every 100 ms of system time while every machine is running: max, mean and final over those instants; for a trial, the largest clock minus the smallest",
    ),
    (
        "Lamport clock: drift",
        "the drift of the Lamport clock beside the hybrid clock's: how far the machine's Lamport clock is behind the largest, compared every 100 ms of system time; max and final over those instants",
    ),
    (
        "latency",
        "the receive's system time minus its send's: time in the network plus time in the receiver's queue",
    ),
    (
        "wait",
        "queue waiting: the receiver's own ticks strictly after the send and before the receive",
    ),
    (
        "tick lateness",
        "how long after their deadlines the machine's ticks ran, from its summary; 0 in a simulation",
    ),
    ("ticks", "the machine's ticks, from its summary"),
    (
        "late>1 period",
        "ticks that ran more than one period (1/rate) after their deadline, from the summary",
    ),
    (
        "hop latency",
        "how long the machine's messages took from their send to its queue, from its summary",
    ),
    ("receives", "receive events"),
    (
        "same instant",
        "same-instant receives: receives of a message sent at the receiving tick's own deadline or a later one, possible only when that tick ran late",
    ),
    (
        "largest counter c",
        "the largest counter c of the machine's hybrid logical clock: how many events shared one l",
    ),
    ("phase", "before, during or after a fault window"),
    (
        "seconds",
        "the phase's span, seconds since the trial's start",
    ),
    ("largest jump", "the largest jump of the phase's rows"),
    (
        "jumps over 5",
        "rows whose jump is larger than 5 clock units: receives that moved a clock far",
    ),
    (
        "largest queue after a tick",
        "the largest queue_len of the phase's rows",
    ),
    (
        "concurrent pairs",
        "of the pairs of distinct events both in the phase, the share of which neither happened before the other",
    ),
    (
        "HLC drift max",
        "the largest drift of the hybrid logical clocks (l minus real time) of the phase's events",
    ),
    (
        "HLC counter max",
        "the largest counter c of the hybrid logical clocks of the phase's events",
    ),
    (
        "clk",
        "clock units: the logical clock counts events; a difference of clocks is in clock units",
    ),
    (
        "clock units",
        "the logical clock counts events; a difference of clocks is in clock units (clk)",
    ),
    ("msgs", "messages"),
    ("ms", "milliseconds"),
    ("µs", "microseconds"),
];

/// The definition of `term`, if the glossary has it.
pub fn define(term: &str) -> Option<&'static str> {
    GLOSSARY.iter().find(|(t, _)| *t == term).map(|(_, d)| *d)
}

/// `text` with the HTML escapes of [`escape`] undone.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// An `<abbr>` for `term` (unescaped) with its definition, or the term escaped alone.
fn abbr(term: &str, used: &mut Vec<&'static str>) -> String {
    match GLOSSARY.iter().find(|(t, _)| *t == term) {
        Some(&(t, d)) => {
            if !used.contains(&t) {
                used.push(t);
            }
            format!("<abbr title=\"{}\">{}</abbr>", escape(d), escape(t))
        }
        None => escape(term),
    }
}

/// A heading's text with its term, and its unit in parentheses, wrapped in `<abbr>`.
fn heading(text: &str, used: &mut Vec<&'static str>) -> String {
    let raw = unescape(text);
    if let Some((term, unit)) = raw
        .strip_suffix(')')
        .and_then(|r| r.rsplit_once(" ("))
        .filter(|(term, _)| define(term).is_some())
    {
        return format!("{} ({})", abbr(term, used), abbr(unit, used));
    }
    if define(&raw).is_some() {
        abbr(&raw, used)
    } else {
        text.to_owned()
    }
}

/// `page` with every heading of its tables' `<thead>` that the glossary defines given a tooltip,
/// and the glossary of those terms before `</body>`.
pub fn annotate(page: &str) -> String {
    let mut used = Vec::new();
    let mut out = String::with_capacity(page.len() + 8192);
    let mut rest = page;
    while let Some(start) = rest.find("<thead>") {
        let end = rest[start..]
            .find("</thead>")
            .map_or(rest.len(), |e| start + e);
        out.push_str(&rest[..start]);
        let mut head = &rest[start..end];
        // Each cell: "<th" attributes ">" text "</th>"; cells holding markup stay as they are.
        while let Some(open) = [head.find("<th>"), head.find("<th ")]
            .into_iter()
            .flatten()
            .min()
        {
            let Some(gt) = head[open..].find('>').map(|g| open + g + 1) else {
                break;
            };
            let Some(close) = head[gt..].find("</th>").map(|c| gt + c) else {
                break;
            };
            out.push_str(&head[..gt]);
            let text = &head[gt..close];
            if text.contains('<') {
                out.push_str(text);
            } else {
                out.push_str(&heading(text, &mut used));
            }
            head = &head[close..];
        }
        out.push_str(head);
        rest = &rest[end..];
    }
    let body_end = rest.rfind("</body>").unwrap_or(rest.len());
    out.push_str(&rest[..body_end]);
    if !used.is_empty() {
        out.push_str(
            "<h2 id=\"glossary\">Glossary</h2>\n<p>The headings of the tables above, as \
             docs/ANALYSIS.md defines them; hover over a heading for the same text.</p>\n<dl>\n",
        );
        for &(term, def) in GLOSSARY.iter().filter(|(t, _)| used.contains(t)) {
            let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(term), escape(def));
        }
        out.push_str("</dl>\n");
    }
    out.push_str(&rest[body_end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_get_tooltips_and_the_glossary_lists_what_the_page_uses() {
        let page = "<body><table><thead><tr><th rowspan=\"2\">miss</th>\
                    <th>late&gt;1 period</th><th>drift (clk)</th><th>zzz</th></tr></thead>\
                    <tbody><tr><th>miss</th></tr></tbody></table></body>";
        let out = annotate(page);
        assert!(out.contains("<th rowspan=\"2\"><abbr title=\"unmatched receives: "));
        assert!(out.contains(">late&gt;1 period</abbr></th>"));
        assert!(out.contains(">drift</abbr> (<abbr title=\"clock units: "));
        assert!(out.contains("<th>zzz</th>"));
        // Outside a <thead>, nothing changes.
        assert!(out.contains("<tbody><tr><th>miss</th></tr></tbody>"));
        let glossary = &out[out.find("<h2 id=\"glossary\">").expect("a glossary")..];
        for term in ["miss", "late&gt;1 period", "drift", "clk"] {
            assert!(glossary.contains(&format!("<dt>{term}</dt>")), "{term}");
        }
        assert!(!glossary.contains("<dt>ok</dt>"));
        assert!(out.ends_with("</dl>\n</body>"));
    }

    #[test]
    fn every_term_is_listed_once() {
        for (i, (t, _)) in GLOSSARY.iter().enumerate() {
            assert!(!GLOSSARY[..i].iter().any(|(u, _)| u == t), "{t} twice");
        }
    }
}
