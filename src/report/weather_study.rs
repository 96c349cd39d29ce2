//! The weather experiment rendered: its table on the terminal ([`console_table`]), `scenarios.csv`
//! ([`scenarios_csv`], one serde row per scenario), one plot per figure with every scenario's
//! trials side by side ([`scenario_plots`]) and `scenarios.html`, one self-contained page (inline
//! CSS and SVG, no script, nothing fetched) with the table and the plots.

use std::fmt::Write as _;

use serde::{Serialize, Serializer};

use super::Plot;
use super::html::{STYLE, figure};
use super::plots::{PlotError, distribution_plot};
use super::table::escape;
use crate::analysis::weather_study::{Over, WeatherFigures, WeatherRow};

/// The weather experiment's page.
pub const SCENARIOS_REPORT: &str = "scenarios.html";
/// The weather experiment's CSV file.
pub const SCENARIOS_CSV: &str = "scenarios.csv";

/// The figures of the table and the plots: column stem, heading, plot file and unit.
const FIGURES: [(&str, &str, &str, &str); 6] = [
    ("max_jump", "max jump", "scenarios-jump.svg", "clock units"),
    (
        "queue_peak",
        "queue peak",
        "scenarios-queue.svg",
        "messages",
    ),
    (
        "concurrent_share",
        "concurrency share",
        "scenarios-concurrency.svg",
        "share of pairs of events",
    ),
    (
        "hlc_drift_max_ms",
        "HLC drift (ms)",
        "scenarios-hlc.svg",
        "milliseconds",
    ),
    ("held", "held frames", "scenarios-held.svg", "frames"),
    (
        "dropped",
        "dropped frames",
        "scenarios-dropped.svg",
        "frames",
    ),
];

/// The page's own style: a `mean ± sd` cell on one line, the words of `what` wrapped.
const NOWRAP: &str =
    "td, th.key { white-space: nowrap; }\ntd.what { white-space: normal; text-align: left; }\n";

/// Each figure of [`FIGURES`] in a row, in order.
fn cells(r: &WeatherRow) -> [Option<Over>; 6] {
    [
        r.max_jump,
        r.queue_peak,
        r.concurrent_share,
        r.hlc_drift_max_ms,
        r.held,
        r.dropped,
    ]
}

/// Each figure of [`FIGURES`] of one trial, in order.
fn values(t: &WeatherFigures) -> [Option<f64>; 6] {
    [
        t.max_jump,
        t.queue_peak,
        t.concurrent_share,
        t.hlc_drift_max_ms,
        t.held,
        t.dropped,
    ]
}

/// Decimals for a figure: four for the share, one otherwise.
fn decimals(stem: &str) -> usize {
    if stem == "concurrent_share" { 4 } else { 1 }
}

/// `mean ± sd` with `d` decimals, `-` when no trial defines it.
fn pm(o: Option<Over>, d: usize) -> String {
    o.map_or_else(
        || "-".to_owned(),
        |o| format!("{:.d$} ± {:.d$}", o.value.mean, o.value.std),
    )
}

/// A number with four decimals, empty when undefined.
fn four<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(&format_args!("{v:.4}")),
        None => s.serialize_str(""),
    }
}

/// One row of `scenarios.csv`: serde names the columns.
#[derive(Debug, Serialize)]
struct CsvRow<'a> {
    scenario: &'a str,
    trials: usize,
    #[serde(serialize_with = "four")]
    max_jump_mean: Option<f64>,
    #[serde(serialize_with = "four")]
    max_jump_std: Option<f64>,
    #[serde(serialize_with = "four")]
    queue_peak_mean: Option<f64>,
    #[serde(serialize_with = "four")]
    queue_peak_std: Option<f64>,
    #[serde(serialize_with = "four")]
    concurrent_share_mean: Option<f64>,
    #[serde(serialize_with = "four")]
    concurrent_share_std: Option<f64>,
    #[serde(serialize_with = "four")]
    hlc_drift_max_ms_mean: Option<f64>,
    #[serde(serialize_with = "four")]
    hlc_drift_max_ms_std: Option<f64>,
    #[serde(serialize_with = "four")]
    hlc_counter_max_mean: Option<f64>,
    #[serde(serialize_with = "four")]
    hlc_counter_max_std: Option<f64>,
    #[serde(serialize_with = "four")]
    held_mean: Option<f64>,
    #[serde(serialize_with = "four")]
    held_std: Option<f64>,
    #[serde(serialize_with = "four")]
    dropped_mean: Option<f64>,
    #[serde(serialize_with = "four")]
    dropped_std: Option<f64>,
    what: &'a str,
}

/// `scenarios.csv`: a header, then per scenario its name, its trials, each figure's mean and
/// sample deviation over the trials (empty where no trial defines it) and what it does.
pub fn scenarios_csv(rows: &[WeatherRow]) -> String {
    let mean = |o: Option<Over>| o.map(|o| o.value.mean);
    let std = |o: Option<Over>| o.map(|o| o.value.std);
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        let _ = w.serialize(CsvRow {
            scenario: &r.name,
            trials: r.trials,
            max_jump_mean: mean(r.max_jump),
            max_jump_std: std(r.max_jump),
            queue_peak_mean: mean(r.queue_peak),
            queue_peak_std: std(r.queue_peak),
            concurrent_share_mean: mean(r.concurrent_share),
            concurrent_share_std: std(r.concurrent_share),
            hlc_drift_max_ms_mean: mean(r.hlc_drift_max_ms),
            hlc_drift_max_ms_std: std(r.hlc_drift_max_ms),
            hlc_counter_max_mean: mean(r.hlc_counter_max),
            hlc_counter_max_std: std(r.hlc_counter_max),
            held_mean: mean(r.held),
            held_std: std(r.held),
            dropped_mean: mean(r.dropped),
            dropped_std: std(r.dropped),
            what: &r.what,
        });
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The table as the terminal shows it: a heading, one line per scenario, the figures as
/// `mean ± sd`.
pub fn console_table(rows: &[WeatherRow]) -> String {
    let mut out = format!("  {:<15}", "scenario");
    for (_, head, ..) in FIGURES {
        let _ = write!(out, " {head:>19}");
    }
    out.push_str("   what\n");
    for r in rows {
        let _ = write!(out, "  {:<15}", r.name);
        for ((stem, ..), o) in FIGURES.iter().zip(cells(r)) {
            let _ = write!(out, " {:>19}", pm(o, decimals(stem)));
        }
        let _ = writeln!(out, "   {}", r.what);
    }
    out
}

/// One plot per figure: for each scenario, a box of its trials' values with every trial as a
/// dot. `scenarios` pairs each scenario's name with its trials' figures, in table order.
pub fn scenario_plots(
    trials: u32,
    scenarios: &[(String, Vec<WeatherFigures>)],
) -> Result<Vec<Plot>, PlotError> {
    let mut plots = Vec::new();
    for (k, (_, head, file, unit)) in FIGURES.iter().enumerate() {
        let groups: Vec<(String, Vec<f64>)> = scenarios
            .iter()
            .map(|(name, ts)| {
                (
                    name.clone(),
                    ts.iter().filter_map(|t| values(t)[k]).collect(),
                )
            })
            .collect();
        let title = format!("{head} per scenario ({trials} trials each)");
        let svg = distribution_plot(&title, "scenario", unit, &groups)?;
        plots.push(Plot {
            file: (*file).to_owned(),
            title,
            svg,
        });
    }
    Ok(plots)
}

/// The page: `title`, the `lead` line that says what ran, the table and the plots.
pub fn scenarios_html(title: &str, lead: &str, rows: &[WeatherRow], plots: &[Plot]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{}</title>\n<style>{STYLE}{NOWRAP}</style>\n</head>\n<body>\n<h1>{}</h1>\n\
         <p class=\"lead\">{}</p>\n",
        escape(title),
        escape(title),
        escape(lead)
    );
    out.push_str(
        "<p>Each cell is the mean over the scenario's trials ± their sample standard deviation; \
         every scenario sees the same trial seeds, so the differences are its fault's. Held \
         frames are those a delay or a partition in hold mode kept back; dropped, those a \
         partition in drop mode discarded (router.yaml). HLC drift is how far a hybrid clock \
         runs ahead of real time (docs/ANALYSIS.md). Each scenario's directory holds its \
         simulated runs, with the plan in run.yaml; analysis/ compares them with \
         <code>clocklab analyze</code>.</p>\n<table>\n<thead><tr><th>scenario</th>",
    );
    for (_, head, ..) in FIGURES {
        let _ = write!(out, "<th>{}</th>", escape(head));
    }
    out.push_str("<th>what</th></tr></thead>\n<tbody>\n");
    for r in rows {
        let _ = write!(out, "<tr><th class=\"key\">{}</th>", escape(&r.name));
        for ((stem, ..), o) in FIGURES.iter().zip(cells(r)) {
            let _ = write!(out, "<td>{}</td>", escape(&pm(o, decimals(stem))));
        }
        let _ = writeln!(out, "<td class=\"what\">{}</td></tr>", escape(&r.what));
    }
    out.push_str("</tbody></table>\n");
    for plot in plots {
        figure(&mut out, plot);
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::sweep::MeanStd;

    fn row(name: &str, jump: f64) -> WeatherRow {
        let over = |mean, std| {
            Some(Over {
                value: MeanStd { mean, std },
                trials: 2,
            })
        };
        WeatherRow {
            name: name.into(),
            what: "no fault, \"plain\"".into(),
            trials: 2,
            max_jump: over(jump, 1.41),
            queue_peak: over(3.5, 0.5),
            concurrent_share: over(0.61234, 0.01),
            hlc_drift_max_ms: over(0.1, 0.0),
            hlc_counter_max: over(2.0, 0.0),
            held: over(0.0, 0.0),
            dropped: None,
        }
    }

    #[test]
    fn the_csv_names_its_columns_and_leaves_an_undefined_figure_empty() {
        assert_eq!(
            scenarios_csv(&[row("baseline", 7.0)]),
            "scenario,trials,max_jump_mean,max_jump_std,queue_peak_mean,queue_peak_std,\
             concurrent_share_mean,concurrent_share_std,hlc_drift_max_ms_mean,\
             hlc_drift_max_ms_std,hlc_counter_max_mean,hlc_counter_max_std,held_mean,held_std,\
             dropped_mean,dropped_std,what\n\
             baseline,2,7.0000,1.4100,3.5000,0.5000,0.6123,0.0100,0.1000,0.0000,2.0000,0.0000,\
             0.0000,0.0000,,,\"no fault, \"\"plain\"\"\"\n"
        );
    }

    #[test]
    fn the_table_has_one_line_per_scenario_and_the_page_escapes_its_text() {
        let rows = [row("baseline", 7.0), row("pause", 12.0)];
        let table = console_table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].contains("max jump") && lines[0].contains("dropped frames"));
        assert!(lines[2].starts_with("  pause ") && lines[2].contains("12.0 ± 1.4"));
        assert!(lines[1].contains("0.6123 ± 0.0100"), "{table}");
        let page = scenarios_html("Weather <study>", "lead", &rows, &[]);
        assert!(page.contains("<h1>Weather &lt;study&gt;</h1>"));
        assert_eq!(page.matches("<tr><th class=\"key\">").count(), 2);
        assert!(page.contains("<td>-</td>") && page.contains("no fault, &quot;plain&quot;"));
    }
}
