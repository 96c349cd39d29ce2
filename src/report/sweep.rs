//! `sweep.html`: the report of `clocklab experiment sweep`, one self-contained page (inline CSS
//! and SVG, no script, nothing fetched) with the sweep's table and its plots.

use std::fmt::Write as _;

use super::Plot;
use super::html::{STYLE, figure};
use super::table::escape;

/// The sweep report's file name.
pub const SWEEP_REPORT: &str = "sweep.html";

/// The sweep's table: a header row and one row of cells per swept value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepTable {
    /// The column headers.
    pub headers: Vec<String>,
    /// The cells, one row per value, as many as there are headers.
    pub rows: Vec<Vec<String>>,
}

/// The page: `title`, the `lead` line that says what was swept, the table and the plots.
pub fn sweep_html(title: &str, lead: &str, table: &SweepTable, plots: &[Plot]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n\
         <p class=\"lead\">{}</p>\n",
        escape(title),
        escape(title),
        escape(lead)
    );
    out.push_str(
        "<p>Each measured value is the mean over the trials at that value, with an error bar of \
         ±1 sample standard deviation. The black line is the model's prediction of machine 1's \
         final queue, (arrivals − rate) × duration, over the whole range; the dashed line marks \
         the predicted boundary, below which machine 1's queue grows without bound \
         (docs/ANALYSIS.md, \"Expected queue behaviour\").</p>\n<table>\n<thead><tr>",
    );
    for h in &table.headers {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    for plot in plots {
        figure(&mut out, plot);
    }
    out.push_str("</body>\n</html>\n");
    out
}
