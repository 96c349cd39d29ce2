//! Tables of figures, rendered as aligned text for the terminal (at most 100 columns) and as HTML
//! for the report: the same columns, the same numbers, formatted the same way.

use std::fmt::Write as _;

use crate::analysis::stats::Summary;
use crate::analysis::{Figure, MachineFigure as M, TrialFigure as T};

/// How a column shows its numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fmt {
    /// A whole number; a fraction (a mean across trials) with one decimal.
    Int,
    /// Fixed decimals.
    Dec(usize),
    /// A share from 0 to 1, as a percentage with one decimal.
    Pct,
}

/// One column: its group heading, its own heading, the figure it shows (a [`M`] or a [`T`]) and
/// how.
#[derive(Clone, Copy, Debug)]
pub struct Column<K> {
    /// The heading over a run of columns ("" for none).
    pub group: &'static str,
    /// The column's heading.
    pub head: &'static str,
    /// The figure (see docs/ANALYSIS.md).
    pub figure: K,
    /// How the value is written.
    pub fmt: Fmt,
    /// Characters, the separating space included.
    pub width: usize,
}

const fn col<K>(
    group: &'static str,
    head: &'static str,
    figure: K,
    fmt: Fmt,
    width: usize,
) -> Column<K> {
    Column {
        group,
        head,
        figure,
        fmt,
        width,
    }
}

/// Per machine: rate, events, clock and jumps.
pub const CLOCK_COLUMNS: [Column<M>; 15] = [
    col("ticks/s", "set", M::Rate, Fmt::Dec(1), 6),
    col("ticks/s", "real", M::TickRate, Fmt::Dec(2), 7),
    col("events", "count", M::Events, Fmt::Int, 7),
    col("events", "recv%", M::ReceiveShare, Fmt::Pct, 6),
    col("events", "send%", M::SendShare, Fmt::Pct, 6),
    col("events", "bcst%", M::BroadcastShare, Fmt::Pct, 6),
    col("events", "intl%", M::InternalShare, Fmt::Pct, 6),
    col("clock", "final", M::FinalClock, Fmt::Int, 8),
    col("clock", "per s", M::ClockPerS, Fmt::Dec(2), 7),
    col("jump (clock units)", "max", M::JumpMax, Fmt::Int, 6),
    col("jump (clock units)", "mean", M::JumpMean, Fmt::Dec(2), 6),
    col("jump (clock units)", "p50", M::JumpP50, Fmt::Int, 5),
    col("jump (clock units)", "p95", M::JumpP95, Fmt::Int, 5),
    col("jump (clock units)", "p99", M::JumpP99, Fmt::Int, 5),
    col("", "miss", M::UnmatchedReceives, Fmt::Int, 5),
];

/// Per machine: queue, drift and latency.
pub const QUEUE_COLUMNS: [Column<M>; 15] = [
    col("queue", "peak", M::QueuePeak, Fmt::Int, 6),
    col(
        "queue after tick (msgs)",
        "max",
        M::QueueAfterTickMax,
        Fmt::Int,
        6,
    ),
    col(
        "queue after tick (msgs)",
        "mean",
        M::QueueAfterTickMean,
        Fmt::Dec(2),
        7,
    ),
    col(
        "queue after tick (msgs)",
        "final",
        M::QueueAfterTickFinal,
        Fmt::Int,
        6,
    ),
    col(
        "queue after tick (msgs)",
        "growth/min",
        M::QueueAfterTickGrowthPerMin,
        Fmt::Dec(2),
        11,
    ),
    col("drift (clk)", "max", M::DriftMax, Fmt::Int, 6),
    col("drift (clk)", "mean", M::DriftMean, Fmt::Dec(1), 6),
    col("drift (clk)", "final", M::DriftFinal, Fmt::Int, 6),
    col("latency (ms)", "p50", M::LatencyMsP50, Fmt::Dec(1), 7),
    col("latency (ms)", "p95", M::LatencyMsP95, Fmt::Dec(1), 7),
    col("latency (ms)", "max", M::LatencyMsMax, Fmt::Dec(1), 7),
    col("wait (ticks)", "p50", M::WaitTicksP50, Fmt::Int, 5),
    col("wait (ticks)", "p95", M::WaitTicksP95, Fmt::Int, 5),
    col("wait (ticks)", "max", M::WaitTicksMax, Fmt::Int, 5),
    col("", "ok", M::Complete, Fmt::Int, 3),
];

/// Per machine: when its ticks really ran (from its summary) and the receives that timing made.
pub const TIMING_COLUMNS: [Column<M>; 7] = [
    col(
        "tick lateness (µs)",
        "p50",
        M::TickLatenessP50Us,
        Fmt::Dec(1),
        8,
    ),
    col(
        "tick lateness (µs)",
        "p99",
        M::TickLatenessP99Us,
        Fmt::Dec(1),
        8,
    ),
    col(
        "tick lateness (µs)",
        "max",
        M::TickLatenessMaxUs,
        Fmt::Dec(1),
        9,
    ),
    col("ticks", "late>1 period", M::TicksLate, Fmt::Int, 14),
    col(
        "hop latency (µs)",
        "p50",
        M::HopLatencyP50Us,
        Fmt::Dec(1),
        8,
    ),
    col(
        "hop latency (µs)",
        "p99",
        M::HopLatencyP99Us,
        Fmt::Dec(1),
        9,
    ),
    col(
        "receives",
        "same instant",
        M::SameInstantReceives,
        Fmt::Int,
        13,
    ),
];

/// Per trial: the headline trial figures (the others are in the summaries).
pub const TRIAL_COLUMNS: [Column<T>; 11] = [
    col("", "events", T::Events, Fmt::Int, 7),
    col("clock", "max", T::FinalClockMax, Fmt::Int, 8),
    col("jump", "max", T::JumpMax, Fmt::Int, 6),
    col("queue (msgs)", "peak", T::QueuePeak, Fmt::Int, 6),
    col(
        "queue (msgs)",
        "tick max",
        T::QueueAfterTickMax,
        Fmt::Int,
        9,
    ),
    col(
        "queue (msgs)",
        "growth/min",
        T::QueueAfterTickGrowthMaxPerMin,
        Fmt::Dec(2),
        11,
    ),
    col("drift (clk)", "max", T::DriftMax, Fmt::Int, 6),
    col("drift (clk)", "mean", T::DriftMean, Fmt::Dec(1), 7),
    col("latency (ms)", "p95", T::LatencyMsP95, Fmt::Dec(1), 7),
    col("latency (ms)", "max", T::LatencyMsMax, Fmt::Dec(1), 7),
    col("wait", "p95", T::WaitTicksP95, Fmt::Int, 5),
];

/// A value as the column shows it; `-` when undefined.
pub fn format_value(value: Option<f64>, fmt: Fmt) -> String {
    let Some(v) = value else {
        return "-".to_owned();
    };
    match fmt {
        Fmt::Int if v.fract() == 0.0 => format!("{v:.0}"),
        Fmt::Int => format!("{v:.1}"),
        Fmt::Dec(d) => format!("{v:.d$}"),
        Fmt::Pct => format!("{:.1}", v * 100.0),
    }
}

/// A mean across trials with its standard deviation: `12.5 ±0.71`.
pub fn format_summary(s: Option<Summary>, fmt: Fmt) -> String {
    match s {
        None => "-".to_owned(),
        Some(s) => match s.std {
            Some(std) => {
                let std_fmt = if fmt == Fmt::Int { Fmt::Dec(1) } else { fmt };
                format!(
                    "{} ±{}",
                    format_value(Some(s.mean), fmt),
                    format_value(Some(std), std_fmt)
                )
            }
            None => format_value(Some(s.mean), fmt),
        },
    }
}

/// A table: a key column, then `columns` (of figures `K`), then an optional free-text column.
#[derive(Clone, Debug)]
pub struct Grid<K: 'static> {
    /// The key column's heading.
    pub key: &'static str,
    /// The key column's width.
    pub key_width: usize,
    /// The numeric columns.
    pub columns: &'static [Column<K>],
    /// The free-text column's heading; empty for none.
    pub note: &'static str,
    /// Each row: its key, one value per column, and its note.
    pub rows: Vec<(String, Vec<Option<f64>>, String)>,
}

/// The values of `columns`' figures in `figures`.
pub fn pick<K: Figure>(figures: &K::Set<Option<f64>>, columns: &[Column<K>]) -> Vec<Option<f64>> {
    columns.iter().map(|c| *c.figure.of(figures)).collect()
}

/// The same, from figures summarized across trials, taking `stat` of each (mean, std, min, max).
pub fn pick_summary<K: Figure>(
    figures: &K::Set<Option<Summary>>,
    columns: &[Column<K>],
    stat: fn(&Summary) -> Option<f64>,
) -> Vec<Option<f64>> {
    columns
        .iter()
        .map(|c| c.figure.of(figures).as_ref().and_then(stat))
        .collect()
}

/// Writes `text` right-aligned in `width` (with at least one space before it).
fn cell(out: &mut String, text: &str, width: usize) {
    let _ = write!(out, "{text:>width$}", width = width.max(text.len() + 1));
}

impl<K> Grid<K> {
    /// The table as aligned text, each line indented by `indent` spaces.
    pub fn text(&self, indent: usize) -> String {
        let pad = " ".repeat(indent);
        let mut groups = format!("{pad}{:w$}", "", w = self.key_width);
        let mut i = 0;
        while i < self.columns.len() {
            let g = self.columns[i].group;
            let mut span = 0;
            let mut j = i;
            while j < self.columns.len() && self.columns[j].group == g {
                span += self.columns[j].width;
                j += 1;
            }
            // The group's name starts one space into its first column and never spills over.
            let name: String = g.chars().take(span.saturating_sub(1)).collect();
            let _ = write!(groups, " {name:<w$}", w = span - 1);
            i = j;
        }
        let mut out = String::new();
        if self.columns.iter().any(|c| !c.group.is_empty()) {
            out.push_str(groups.trim_end());
            out.push('\n');
        }
        let mut head = format!("{pad}{:<w$}", self.key, w = self.key_width);
        for c in self.columns {
            cell(&mut head, c.head, c.width);
        }
        if !self.note.is_empty() {
            let _ = write!(head, "  {}", self.note);
        }
        out.push_str(&head);
        out.push('\n');
        for (key, values, note) in &self.rows {
            let mut line = format!("{pad}{key:<w$}", w = self.key_width);
            for (c, v) in self.columns.iter().zip(values) {
                cell(&mut line, &format_value(*v, c.fmt), c.width);
            }
            if !note.is_empty() {
                let _ = write!(line, "  {note}");
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// The table as an HTML `<table>`.
    pub fn html(&self) -> String {
        let mut out = String::from("<table>\n<thead><tr>");
        let has_groups = self.columns.iter().any(|c| !c.group.is_empty());
        let rowspan = if has_groups { " rowspan=\"2\"" } else { "" };
        let _ = write!(out, "<th{rowspan}>{}</th>", escape(self.key));
        if has_groups {
            let mut i = 0;
            while i < self.columns.len() {
                let g = self.columns[i].group;
                let span = self.columns[i..]
                    .iter()
                    .take_while(|c| c.group == g)
                    .count();
                if g.is_empty() {
                    for c in &self.columns[i..i + span] {
                        let _ = write!(out, "<th rowspan=\"2\">{}</th>", escape(c.head));
                    }
                } else {
                    let _ = write!(
                        out,
                        "<th colspan=\"{span}\" class=\"group\">{}</th>",
                        escape(g)
                    );
                }
                i += span;
            }
            if !self.note.is_empty() {
                let _ = write!(out, "<th rowspan=\"2\">{}</th>", escape(self.note));
            }
            out.push_str("</tr>\n<tr>");
            for c in self.columns.iter().filter(|c| !c.group.is_empty()) {
                let _ = write!(out, "<th>{}</th>", escape(c.head));
            }
        } else {
            for c in self.columns {
                let _ = write!(out, "<th>{}</th>", escape(c.head));
            }
            if !self.note.is_empty() {
                let _ = write!(out, "<th>{}</th>", escape(self.note));
            }
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for (k, (key, values, note)) in self.rows.iter().enumerate() {
            // Rows of statistics across trials come in fours from "<id> mean": rule them off.
            let class = if k > 0 && key.ends_with("mean") {
                " class=\"sep\""
            } else {
                ""
            };
            let _ = write!(out, "<tr{class}><th class=\"key\">{}</th>", escape(key));
            for (c, v) in self.columns.iter().zip(values) {
                let _ = write!(out, "<td>{}</td>", format_value(*v, c.fmt));
            }
            if !self.note.is_empty() {
                let class = if note == "complete" { "ok" } else { "bad" };
                let _ = write!(out, "<td class=\"{class}\">{}</td>", escape(note));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table>\n");
        out
    }
}

/// `text` with `&`, `<`, `>` and `"` escaped for HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_formatted_per_column() {
        assert_eq!(format_value(Some(3.0), Fmt::Int), "3");
        assert_eq!(format_value(Some(2.5), Fmt::Int), "2.5");
        assert_eq!(format_value(Some(0.4), Fmt::Pct), "40.0");
        assert_eq!(format_value(Some(1.234), Fmt::Dec(2)), "1.23");
        assert_eq!(format_value(None, Fmt::Dec(2)), "-");
        let s = Summary {
            n: 2,
            mean: 8.0,
            std: Some(2f64.sqrt()),
            min: 7.0,
            max: 9.0,
        };
        assert_eq!(format_summary(Some(s), Fmt::Int), "8 ±1.4");
        assert_eq!(
            format_summary(Some(Summary { std: None, ..s }), Fmt::Dec(1)),
            "8.0"
        );
    }

    #[test]
    fn text_table_aligns_groups_headings_and_values() {
        const COLS: [Column<M>; 3] = [
            col("g", "a", M::Rate, Fmt::Int, 5),
            col("g", "b", M::Events, Fmt::Dec(1), 6),
            col("", "c", M::Complete, Fmt::Int, 4),
        ];
        let grid = Grid {
            key: "id",
            key_width: 3,
            columns: &COLS,
            note: "status",
            rows: vec![
                (
                    "1".to_owned(),
                    vec![Some(12.0), Some(0.25), None],
                    "complete".to_owned(),
                ),
                (
                    "22".to_owned(),
                    vec![Some(3.0), None, Some(7.0)],
                    String::new(),
                ),
            ],
        };
        // Indent 1, key column 3, then columns of 5, 6 and 4; the group name starts one space
        // into its first column.
        let expected = [
            "     g",
            " id     a     b   c  status",
            " 1     12   0.2   -  complete",
            " 22     3     -   7",
            "",
        ]
        .join("\n");
        assert_eq!(grid.text(1), expected);
        let html = grid.html();
        assert!(html.contains("<th colspan=\"2\" class=\"group\">g</th><th rowspan=\"2\">c</th>"));
        assert!(html.contains("<tr><th class=\"key\">1</th><td>12</td><td>0.2</td><td>-</td><td class=\"ok\">complete</td></tr>"));
    }
}
