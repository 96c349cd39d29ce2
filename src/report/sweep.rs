//! The sweep of `clocklab experiment sweep` rendered: its table on the terminal ([`console_head`],
//! [`console_row`]), `sweep.csv` ([`sweep_csv`], one serde row per swept value),
//! `sweep-trials.csv` ([`sweep_trials_csv`], one row per simulated trial), its two plots
//! ([`sweep_plots`]) and `sweep.html`, one self-contained page (inline CSS and SVG, no script,
//! nothing fetched) with the table and the plots.

use std::fmt::Write as _;

use serde::{Serialize, Serializer};

use super::Plot;
use super::html::{STYLE, figure};
use super::plots::{Measured, PlotError, Predicted, sweep_error_plot};
use super::table::escape;
use crate::analysis::queueing::stability_boundary;
use crate::analysis::sweep::{MeanStd, SweepModel, SweepRow, SweepTrial, Swept};

/// The sweep report's file name.
pub const SWEEP_REPORT: &str = "sweep.html";
/// The sweep's CSV file name.
pub const SWEEP_CSV: &str = "sweep.csv";
/// The file of the sweep's trials, one row each.
pub const SWEEP_TRIALS_CSV: &str = "sweep-trials.csv";
/// The sweep's plots' file names.
pub const SWEEP_PLOTS: [&str; 2] = ["sweep-queue.svg", "sweep-clocks.svg"];

/// A number with three decimals.
fn three<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{v:.3}"))
}

/// A number with four decimals.
fn four<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{v:.4}"))
}

/// A number as Rust writes it: the shortest text that reads back to it (`3`, `0.5`).
fn shortest<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// One row of `sweep.csv`: serde names the columns.
#[derive(Clone, Copy, Debug, Serialize)]
struct CsvRow {
    param: &'static str,
    #[serde(serialize_with = "shortest")]
    value: f64,
    trials: u32,
    #[serde(serialize_with = "shortest")]
    slow_rate: f64,
    #[serde(serialize_with = "shortest")]
    peer_rate: f64,
    action_range: u32,
    #[serde(serialize_with = "four")]
    predicted_arrivals_per_s: f64,
    #[serde(serialize_with = "three")]
    slow_final_queue_mean: f64,
    #[serde(serialize_with = "three")]
    slow_final_queue_std: f64,
    #[serde(serialize_with = "three")]
    queue_peak_mean: f64,
    #[serde(serialize_with = "three")]
    queue_peak_std: f64,
    #[serde(serialize_with = "three")]
    final_drift_mean: f64,
    #[serde(serialize_with = "three")]
    final_drift_std: f64,
    #[serde(serialize_with = "three")]
    max_jump_mean: f64,
    #[serde(serialize_with = "three")]
    max_jump_std: f64,
}

/// `sweep.csv`: a header, then per swept value the parameter, the value, the number of trials,
/// the setting, the predicted arrivals and each figure's mean and deviation over the trials.
pub fn sweep_csv(model: &SweepModel, trials: u32, rows: &[SweepRow]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        let _ = w.serialize(CsvRow {
            param: model.swept.name(),
            value: r.value,
            trials,
            slow_rate: r.slow_rate,
            peer_rate: model.peer_rate,
            action_range: r.action_range,
            predicted_arrivals_per_s: r.arrivals,
            slow_final_queue_mean: r.slow_final_queue.mean,
            slow_final_queue_std: r.slow_final_queue.std,
            queue_peak_mean: r.queue_peak.mean,
            queue_peak_std: r.queue_peak.std,
            final_drift_mean: r.final_drift.mean,
            final_drift_std: r.final_drift.std,
            max_jump_mean: r.max_jump.mean,
            max_jump_std: r.max_jump.std,
        });
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// One row of `sweep-trials.csv`: serde names the columns; the figures are those whose mean and
/// deviation `sweep.csv` gives (`queue_peak` there as `queue_peak_mean` and `queue_peak_std`).
#[derive(Clone, Copy, Debug, Serialize)]
struct TrialCsvRow {
    param: &'static str,
    #[serde(serialize_with = "shortest")]
    value: f64,
    trial: u32,
    seed: u64,
    #[serde(serialize_with = "shortest")]
    slow_rate: f64,
    #[serde(serialize_with = "shortest")]
    peer_rate: f64,
    action_range: u32,
    #[serde(serialize_with = "shortest")]
    slow_final_queue: f64,
    #[serde(serialize_with = "shortest")]
    queue_peak: f64,
    #[serde(serialize_with = "shortest")]
    final_drift: f64,
    #[serde(serialize_with = "shortest")]
    max_jump: f64,
}

/// `sweep-trials.csv`: a header, then one row per simulated trial, in value and trial order: the
/// parameter, the value, the trial's number and seed, the setting, and its figures (whole
/// numbers), whose means and deviations per value are `sweep.csv`'s.
pub fn sweep_trials_csv(model: &SweepModel, trials: &[SweepTrial]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for t in trials {
        let (slow_rate, action_range) = model.setting(t.value);
        let _ = w.serialize(TrialCsvRow {
            param: model.swept.name(),
            value: t.value,
            trial: t.trial,
            seed: t.seed,
            slow_rate,
            peer_rate: model.peer_rate,
            action_range,
            slow_final_queue: t.figures.first_final_queue,
            queue_peak: t.figures.queue_peak,
            final_drift: t.figures.final_drift,
            max_jump: t.figures.max_jump,
        });
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The terminal table's heading line.
pub fn console_head(swept: Swept) -> String {
    format!(
        "  {:>8} {:>10} {:>12} {:>17} {:>17} {:>17} {:>17}",
        swept.name(),
        match swept {
            Swept::SlowRate | Swept::PartitionS | Swept::DelayMs => "R",
            Swept::ActionRange => "slow rate",
        },
        "arrivals/s",
        "slow final queue",
        "queue peak",
        "final drift",
        "max jump"
    )
}

/// The terminal table's line for one swept value.
pub fn console_row(model: &SweepModel, r: &SweepRow) -> String {
    let (s, q, d, j) = (r.slow_final_queue, r.queue_peak, r.final_drift, r.max_jump);
    format!(
        "  {:>8} {:>10} {:>12.2} {:>8.1} ± {:<6.1} {:>8.1} ± {:<6.1} {:>8.1} ± {:<6.1} {:>8.1} ± {:.1}",
        r.value,
        model.other(r.value),
        r.arrivals,
        s.mean,
        s.std,
        q.mean,
        q.std,
        d.mean,
        d.std,
        j.mean,
        j.std
    )
}

/// What the swept parameter is, for the plots' axes.
fn x_desc(swept: Swept) -> &'static str {
    match swept {
        Swept::SlowRate => "machine 1's rate (ticks/s)",
        Swept::ActionRange => "action range R",
        Swept::PartitionS => "seconds machine 1 is cut off",
        Swept::DelayMs => "extra latency to machine 1 (ms)",
    }
}

/// The sweep's two plots ([`SWEEP_PLOTS`]): queues (measured, with error bars, and the
/// predicted growth as a continuous line with the boundary) and clocks.
pub fn sweep_plots(
    model: &SweepModel,
    trials: u32,
    rows: &[SweepRow],
) -> Result<Vec<Plot>, PlotError> {
    let measured = |name: &str, f: fn(&SweepRow) -> MeanStd| Measured {
        name: name.to_string(),
        points: rows
            .iter()
            .map(|r| (r.value, f(r).mean, f(r).std))
            .collect(),
    };
    let (lo, hi) = rows.iter().fold((f64::MAX, f64::MIN), |(lo, hi), r| {
        (lo.min(r.value), hi.max(r.value))
    });
    // A fine grid over the range (every whole value for the action range).
    let grid: Vec<f64> = match model.swept {
        Swept::ActionRange => (lo.round() as u32..=hi.round() as u32)
            .map(f64::from)
            .collect(),
        Swept::SlowRate | Swept::PartitionS | Swept::DelayMs => (0..=400)
            .map(|k| lo + (hi - lo) * f64::from(k) / 400.0)
            .collect(),
    };
    let predicted = Predicted {
        name: "predicted: (arrivals - rate) x duration".into(),
        curve: grid
            .iter()
            .map(|&x| (x, model.excess(x).max(0.0) * model.duration_s))
            .collect(),
        boundary: stability_boundary(lo, hi, |x| model.excess(x)),
    };
    let x_desc = x_desc(model.swept);
    let queue = sweep_error_plot(
        &format!("Queues against {x_desc} (mean ± sd of {trials} trials)"),
        x_desc,
        "messages",
        &[
            measured("machine 1's final queue", |r| r.slow_final_queue),
            measured("queue peak of any machine", |r| r.queue_peak),
        ],
        Some(&predicted),
    )?;
    let clocks = sweep_error_plot(
        &format!("Clocks against {x_desc} (mean ± sd of {trials} trials)"),
        x_desc,
        "clock units",
        &[
            measured("final drift (largest - smallest final clock)", |r| {
                r.final_drift
            }),
            measured("largest single jump", |r| r.max_jump),
        ],
        None,
    )?;
    let plot = |file: &str, title: &str, svg| Plot {
        file: file.into(),
        title: title.into(),
        svg,
    };
    Ok(vec![
        plot(SWEEP_PLOTS[0], "Queues against the swept value", queue),
        plot(SWEEP_PLOTS[1], "Clocks against the swept value", clocks),
    ])
}

/// The sweep's table for its report: one row per value, means ± deviations.
pub fn sweep_table(swept: Swept, rows: &[SweepRow]) -> SweepTable {
    let pm = |m: MeanStd| format!("{:.1} ± {:.1}", m.mean, m.std);
    SweepTable {
        headers: [
            swept.name(),
            "predicted arrivals/s",
            "predicted final queue",
            "machine 1's final queue",
            "queue peak",
            "final drift",
            "largest jump",
        ]
        .map(String::from)
        .to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.value.to_string(),
                    format!("{:.2}", r.arrivals),
                    format!("{:.1}", r.growth),
                    pm(r.slow_final_queue),
                    pm(r.queue_peak),
                    pm(r.final_drift),
                    pm(r.max_jump),
                ]
            })
            .collect(),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_csv_names_its_columns_and_writes_fixed_decimals() {
        let model = SweepModel {
            swept: Swept::SlowRate,
            machines: 3,
            peer_rate: 6.0,
            slow_rate: 1.0,
            action_range: 10,
            duration_s: 60.0,
        };
        let ms = |mean, std| MeanStd { mean, std };
        let row = SweepRow {
            value: 0.5,
            slow_rate: 0.5,
            action_range: 10,
            arrivals: 2.0,
            growth: 90.0,
            slow_final_queue: ms(96.0, 6.3771),
            queue_peak: ms(96.75, 6.1847),
            final_drift: ms(280.0, 10.2306),
            max_jump: ms(8.75, 2.6299),
        };
        let whole = SweepRow {
            value: 3.0,
            slow_rate: 3.0,
            ..row
        };
        assert_eq!(
            sweep_csv(&model, 4, &[row, whole]),
            "param,value,trials,slow_rate,peer_rate,action_range,predicted_arrivals_per_s,\
             slow_final_queue_mean,slow_final_queue_std,queue_peak_mean,queue_peak_std,\
             final_drift_mean,final_drift_std,max_jump_mean,max_jump_std\n\
             slow_rate,0.5,4,0.5,6,10,2.0000,96.000,6.377,96.750,6.185,280.000,10.231,8.750,2.630\n\
             slow_rate,3,4,3,6,10,2.0000,96.000,6.377,96.750,6.185,280.000,10.231,8.750,2.630\n"
        );
        let head = console_head(Swept::ActionRange);
        assert!(head.contains("action_range  slow rate"), "{head}");
    }
}
