//! The causality section of a trial in `report.html`: concurrent pairs, false orderings and the
//! longest causal chain from the reconstructed vector clocks, and each machine's hybrid logical
//! clock beside its Lamport drift. Pure: a trial's figures in, HTML out.

use std::fmt::Write as _;

use super::table::escape;
use crate::analysis::TrialAnalysis;

/// A count with its share in percent: `17 (73.9%)`, or the count alone without a share.
fn with_share(count: u64, share: Option<f64>) -> String {
    match share {
        Some(s) => format!("{count} ({:.1}%)", s * 100.0),
        None => count.to_string(),
    }
}

/// The section's HTML; empty when the trial was too large to reconstruct.
pub fn trial_html(t: &TrialAnalysis) -> String {
    let Some(c) = &t.causality else {
        return String::new();
    };
    let f = &c.figures;
    let mut out = String::from(
        "<table class=\"params\">\n<thead><tr><th colspan=\"2\">causality, from vector clocks \
         reconstructed from the logs (docs/ANALYSIS.md)</th></tr></thead>\n<tbody>\n",
    );
    let rows = [
        (
            "events, pairs of events",
            format!("{}, {}", f.events, f.pairs),
        ),
        (
            "concurrent pairs (share of all pairs)",
            with_share(f.concurrent_pairs, f.concurrent_share),
        ),
        (
            "false orderings: concurrent pairs the Lamport clocks order (share of concurrent)",
            with_share(f.false_orderings, f.false_ordering_share),
        ),
        ("longest causal chain (events)", f.longest_chain.to_string()),
        (
            "receives taken as local events (send in no log)",
            f.unmatched_receives.to_string(),
        ),
    ];
    for (name, value) in rows {
        let _ = writeln!(
            out,
            "<tr><th class=\"key\">{}</th><td>{}</td></tr>",
            escape(name),
            escape(&value)
        );
    }
    out.push_str(
        "</tbody></table>\n<table>\n<thead><tr><th rowspan=\"2\">machine</th>\
         <th colspan=\"3\">hybrid logical clock: l minus real time</th>\
         <th colspan=\"2\">Lamport clock: drift</th></tr>\n<tr><th>max (ms)</th>\
         <th>final (ms)</th><th>largest counter c</th><th>max (clk)</th><th>final (clk)</th></tr>\
         </thead>\n<tbody>\n",
    );
    for (h, m) in c.hlc.iter().zip(&t.machines) {
        let lamport = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
        let _ = writeln!(
            out,
            "<tr><th class=\"key\">{}</th><td>{:.3}</td><td>{:.3}</td><td>{}</td><td>{}</td>\
             <td>{}</td></tr>",
            h.id,
            h.drift_max_us as f64 / 1e3,
            h.drift_final_us as f64 / 1e3,
            h.counter_max,
            lamport(m.drift.map(|d| d.max)),
            lamport(m.drift.map(|d| d.last)),
        );
    }
    out.push_str("</tbody></table>\n");
    out
}
