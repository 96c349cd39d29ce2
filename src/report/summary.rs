//! `summary.json`, `summary.csv` (every machine figure of every trial, one per row) and
//! `summary-stats.csv` (the machine figures across trials, per machine and rate, one statistic per
//! row): every figure under a stable name (docs/ANALYSIS.md lists them), rendered from the
//! analysis by pure functions. Every id column is a whole number in every row.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::analysis::stats::STATS;
use crate::analysis::{Figure, MachineAnalysis, RunAnalysis, TrialAnalysis};

/// The version of both files' layout; it changes when a name or a shape does.
pub const FORMAT: &str = "clocklab-analysis/3";
/// The file of the figures across trials.
pub const STATS_FILE: &str = "summary-stats.csv";

/// A set of figures as a JSON object: serde names each by its field (the object's keys are
/// sorted, as every object in the file).
fn figures_object(figures: &impl Serialize) -> Value {
    serde_json::to_value(figures).unwrap_or_default()
}

fn machine_json(m: &MachineAnalysis) -> Value {
    let histogram: Vec<[u64; 2]> = m.jump_histogram.iter().map(|(&s, &c)| [s, c]).collect();
    let largest: Vec<Value> = m
        .largest_jumps
        .iter()
        .map(|j| json!({"size": j.size, "time_s": j.time_s, "line": j.line}))
        .collect();
    json!({
        "id": m.id,
        "name": m.name,
        "complete": m.problems.is_empty(),
        "problems": m.problems,
        "figures": figures_object(&m.figures()),
        "jump_histogram": histogram,
        "largest_jumps": largest,
    })
}

fn trial_json(t: &TrialAnalysis) -> Value {
    let mut trial = json!({
        "trial": t.trial,
        "dir": t.dir,
        "seed": t.seed,
        "start_time_us": t.start_us,
        "complete": t.complete(),
        "problems": t.all_problems(),
        "figures": figures_object(&t.figures()),
        "machines": t.machines.iter().map(machine_json).collect::<Vec<_>>(),
    });
    // Only a trial with a fault plan has the key: fair weather writes what it always wrote.
    if let (Some(weather), Some(object)) = (super::weather::json(t), trial.as_object_mut()) {
        object.insert("weather".to_owned(), weather);
    }
    trial
}

/// `summary.json`: every run, trial and machine with all its figures, and the figures summarized
/// across each run's trials. Keys are sorted, so equal analyses give equal files.
pub fn summary_json(runs: &[RunAnalysis]) -> String {
    let runs: Vec<Value> = runs
        .iter()
        .map(|r| {
            let parameters: Map<String, Value> = r
                .parameters
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            let machines: Vec<Value> = r
                .machines
                .iter()
                .map(|g| {
                    json!({
                        "id": g.id,
                        "rate": g.rate,
                        "trials": g.trials,
                        "figures": figures_object(&g.figures),
                    })
                })
                .collect();
            json!({
                "dir": r.dir,
                "label": r.label,
                "scenario": r.scenario,
                "parameters": parameters,
                "trials": r.trials.iter().map(trial_json).collect::<Vec<_>>(),
                "across_trials": {
                    "trial": figures_object(&r.overall),
                    "rates_differ": r.rates_differ(),
                    "machines": machines,
                },
            })
        })
        .collect();
    let doc = json!({"format": FORMAT, "runs": runs});
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// The CSV's header: the names of [`LongRow`]'s fields.
pub const CSV_HEADER: [&str; 5] = ["run", "trial", "machine", "figure", "value"];

/// One row of `summary.csv`.
#[derive(Clone, Debug, Serialize)]
pub struct LongRow<'a> {
    /// The run's label.
    pub run: &'a str,
    /// The trial's number.
    pub trial: u32,
    /// The machine's id.
    pub machine: u16,
    /// The figure's name.
    pub figure: &'a str,
    /// Its value as [`csv_number`] writes it.
    pub value: String,
}

/// A number as the CSV writes it: Rust's shortest text that reads back to the same value; empty
/// when undefined.
pub fn csv_number(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// `summary.csv`: one row per machine figure of each trial, long format
/// `run,trial,machine,figure,value`, `trial` and `machine` whole numbers in every row. The trial
/// figures are in `summary-trials.csv`, the figures across trials in `summary-stats.csv`.
pub fn summary_csv(runs: &[RunAnalysis]) -> String {
    // The header is written even without a row; serde names each row's columns, the header's
    // (a test checks that they are).
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let _ = w.write_record(CSV_HEADER);
    for r in runs {
        for t in &r.trials {
            for m in &t.machines {
                let mut push = |figure: &str, value: Option<f64>| {
                    let _ = w.serialize(LongRow {
                        run: &r.label,
                        trial: t.trial,
                        machine: m.id,
                        figure,
                        value: csv_number(value),
                    });
                };
                for (figure, v) in m.figures().iter() {
                    push(figure.name(), *v);
                }
                for (size, count) in &m.jump_histogram {
                    push(&format!("jump_hist_{size}"), Some(*count as f64));
                }
                for (k, j) in m.largest_jumps.iter().enumerate() {
                    let rank = k + 1;
                    push(&format!("largest_jump_{rank}_size"), Some(j.size as f64));
                    push(&format!("largest_jump_{rank}_time_s"), Some(j.time_s));
                    push(&format!("largest_jump_{rank}_line"), Some(j.line as f64));
                }
            }
        }
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// The header of `summary-stats.csv`: the names of [`StatsRow`]'s fields.
pub const STATS_HEADER: [&str; 7] = [
    "run", "machine", "rate", "trials", "figure", "stat", "value",
];

/// One row of `summary-stats.csv`: one statistic of one figure of one machine across the trials
/// that ran it at one rate.
#[derive(Clone, Debug, Serialize)]
pub struct StatsRow<'a> {
    /// The run's label.
    pub run: &'a str,
    /// The machine's id.
    pub machine: u16,
    /// The configured rate of the trials it summarizes, as [`csv_number`] writes it (empty when
    /// they record none).
    pub rate: String,
    /// How many trials it summarizes.
    pub trials: usize,
    /// The figure's name.
    pub figure: &'a str,
    /// The statistic: `n` (the trials that define the figure), `mean`, `std`, `min` or `max`.
    pub stat: &'a str,
    /// Its value as [`csv_number`] writes it.
    pub value: String,
}

/// `summary-stats.csv`: the machine figures across the counted trials, per machine and
/// configured rate (a machine that ran at two rates has two groups, each with the number of its
/// trials), one statistic per row: `run,machine,rate,trials,figure,stat,value`.
pub fn summary_stats_csv(runs: &[RunAnalysis]) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let _ = w.write_record(STATS_HEADER);
    for r in runs {
        for g in &r.machines {
            for (stat, get) in STATS {
                for (figure, s) in g.figures.iter() {
                    let _ = w.serialize(StatsRow {
                        run: &r.label,
                        machine: g.id,
                        rate: csv_number(g.rate),
                        trials: g.trials.len(),
                        figure: figure.name(),
                        stat,
                        value: csv_number(s.as_ref().and_then(get)),
                    });
                }
            }
        }
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_long_header_is_what_serde_names_a_row() {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(LongRow {
            run: "r",
            trial: 1,
            machine: 2,
            figure: "events",
            value: csv_number(Some(3.0)),
        })
        .unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(text, format!("{}\nr,1,2,events,3\n", CSV_HEADER.join(",")));
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(StatsRow {
            run: "r",
            machine: 2,
            rate: csv_number(Some(0.5)),
            trials: 4,
            figure: "events",
            stat: "mean",
            value: csv_number(Some(3.5)),
        })
        .unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(
            text,
            format!("{}\nr,2,0.5,4,events,mean,3.5\n", STATS_HEADER.join(","))
        );
    }
}
