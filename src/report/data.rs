//! The analysis's data for loading in one line: `summary-wide.csv` (one row per run, trial and
//! machine, one column per figure), `summary-trials.csv` (one row per run and trial, one column
//! per trial figure) and `events.csv` (`analyze --events`: every log row of every trial, the run
//! and the trial in front, its time since the trial's start beside it). docs/ANALYSIS.md
//! describes them.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::export::since;
use super::summary::csv_number;
use crate::analysis::{
    Figure, MachineFigure, MachineFigures, RunAnalysis, RunInput, TrialFigure, TrialFigures,
    TrialInput,
};
use crate::core::event::Record;

/// The wide summary's file name.
pub const WIDE_FILE: &str = "summary-wide.csv";
/// The trials' summary's file name.
pub const TRIALS_FILE: &str = "summary-trials.csv";
/// The events file's name.
pub const EVENTS_FILE: &str = "events.csv";
/// The wide summary's columns before the figures ([`MachineFigures`], in order): the names of
/// [`WideKeys`]' fields.
pub const WIDE_KEYS: [&str; 4] = ["run", "trial", "machine", "trial_complete"];

/// The columns of a `summary-wide.csv` row before its figures.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct WideKeys<'a> {
    /// The run's label.
    pub run: &'a str,
    /// The trial's number.
    pub trial: u32,
    /// The machine's id.
    pub machine: u16,
    /// 1 when the trial is complete, else 0.
    pub trial_complete: u8,
}

/// The header of `summary-wide.csv`: [`WIDE_KEYS`], then every [`MachineFigure`]'s name.
pub fn wide_header() -> impl Iterator<Item = &'static str> {
    WIDE_KEYS
        .into_iter()
        .chain(MachineFigure::ALL.iter().map(|f| f.name()))
}

/// `summary-wide.csv`: a header, then one row per run, trial and machine: the run's label, the
/// trial's number, the machine's id, whether the trial is complete (1 or 0), and the machine's
/// figures, one column each (empty where undefined).
pub fn summary_wide_csv(runs: &[RunAnalysis]) -> String {
    // The header is written even without a row; each row is its keys and its figures, the
    // columns serde names (a test checks that they are the header's).
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let _ = w.write_record(wide_header());
    for r in runs {
        for t in &r.trials {
            for m in &t.machines {
                let keys = WideKeys {
                    run: &r.label,
                    trial: t.trial,
                    machine: m.id,
                    trial_complete: u8::from(t.complete()),
                };
                let figures = m.figures();
                let _ = w.serialize((
                    keys,
                    MachineFigures::from_fn(|k| csv_number(*figures.get(k))),
                ));
            }
        }
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// The columns of a `summary-trials.csv` row before its figures: the names of [`TrialKeys`]'
/// fields.
pub const TRIAL_KEYS: [&str; 2] = ["run", "trial"];

/// The columns of a `summary-trials.csv` row before its figures.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct TrialKeys<'a> {
    /// The run's label.
    pub run: &'a str,
    /// The trial's number.
    pub trial: u32,
}

/// The header of `summary-trials.csv`: [`TRIAL_KEYS`], then every [`TrialFigure`]'s name.
pub fn trials_header() -> impl Iterator<Item = &'static str> {
    TRIAL_KEYS
        .into_iter()
        .chain(TrialFigure::ALL.iter().map(|f| f.name()))
}

/// `summary-trials.csv`: a header, then one row per run and trial: the run's label, the trial's
/// number and the trial's figures, one column each (empty where undefined).
pub fn summary_trials_csv(runs: &[RunAnalysis]) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let _ = w.write_record(trials_header());
    for r in runs {
        for t in &r.trials {
            let keys = TrialKeys {
                run: &r.label,
                trial: t.trial,
            };
            let figures = t.figures();
            let _ = w.serialize((keys, TrialFigures::from_fn(|k| csv_number(*figures.get(k)))));
        }
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// The header of `events.csv`: `run`, `trial`, then the log's own columns (`machine` first), its
/// `system_time` named with its unit and followed by `time_s`, seconds since the trial's start.
pub const EVENTS_HEADER: &str = "run,trial,machine,event,system_time_s,time_s,logical_clock,\
                                 queue_len,peer,msg_clock,seq";

/// One row of `events.csv` after its run and trial, with its trailing `\n`: the log's columns as
/// the log writes them, `time_s` after `system_time_s`.
fn event_row(r: &Record, start_us: u64, out: &mut String) {
    // Writing into a String cannot fail.
    let _ = write!(
        out,
        "{},{},{}.{:06},{},{},{},",
        r.machine,
        r.event,
        r.system_time_us / 1_000_000,
        r.system_time_us % 1_000_000,
        since(start_us, r.system_time_us),
        r.logical_clock,
        r.queue_len,
    );
    let cell = |v: Option<String>| v.unwrap_or_default();
    let _ = writeln!(
        out,
        "{},{},{}",
        cell(r.peer.map(|v| v.to_string())),
        cell(r.msg_clock.map(|v| v.to_string())),
        cell(r.seq.map(|v| v.to_string())),
    );
}

/// Writes `events.csv` to `out`: [`EVENTS_HEADER`], then every row of every machine's log of
/// every trial of `runs` (the rows the analysis read, in run, trial, machine and file order), with
/// the run's label and the trial's number in front and its seconds since the trial's start
/// (`time_s`, from the trial's start time as the analysis takes it, docs/ANALYSIS.md) after its
/// `system_time_s`. Returns how many rows it wrote.
pub fn write_events_csv(runs: &[RunInput], out: &mut impl Write) -> io::Result<u64> {
    writeln!(out, "{EVENTS_HEADER}")?;
    let mut rows = 0;
    for r in runs {
        for t in &r.trials {
            rows += write_trial_events(&r.label, t, out)?;
        }
    }
    Ok(rows)
}

/// Writes the rows of `events.csv` (no header) of trial `t` of the run labelled `label`, as
/// [`write_events_csv`] does for each trial: a caller that takes a trial at a time writes
/// [`EVENTS_HEADER`] and then each trial's rows in order. Returns how many rows it wrote.
pub fn write_trial_events(label: &str, t: &TrialInput, out: &mut impl Write) -> io::Result<u64> {
    let mut rows = EventRows::new(label, t.trial, t.start_us);
    for m in &t.machines {
        for record in &m.records {
            rows.write(record, out)?;
        }
    }
    Ok(rows.written)
}

/// The rows of `events.csv` of one trial, written a log row at a time (for rows streamed from the
/// logs rather than held: every machine's in turn, as [`write_trial_events`] takes them).
pub struct EventRows {
    /// The row's start: the run's label as a CSV field, and the trial.
    lead: String,
    start_us: u64,
    line: String,
    /// How many rows were written.
    pub written: u64,
}

impl EventRows {
    /// The rows of trial `trial` (started at `start_us`) of the run labelled `label`.
    pub fn new(label: &str, trial: u32, start_us: u64) -> EventRows {
        EventRows {
            lead: format!("{},{trial},", csv_field(label)),
            start_us,
            line: String::new(),
            written: 0,
        }
    }

    /// Writes the row of log row `record`.
    pub fn write(&mut self, record: &Record, out: &mut impl Write) -> io::Result<()> {
        self.line.clear();
        self.line.push_str(&self.lead);
        event_row(record, self.start_us, &mut self.line);
        out.write_all(self.line.as_bytes())?;
        self.written += 1;
        Ok(())
    }
}

/// `text` as one CSV field (RFC 4180): as it is, or in double quotes with its quotes doubled when
/// it holds a comma, a quote or a line break.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{MachineInput, TrialInput, analyze_run};
    use crate::core::event::{EventKind, Record};

    fn run(label: &str) -> RunInput {
        let row = |machine, k: u64| Record {
            machine,
            event: EventKind::Internal,
            system_time_us: 1_000_000 * k,
            logical_clock: k,
            queue_len: 0,
            peer: None,
            msg_clock: None,
            seq: None,
        };
        let machine = |id, rows: u64| MachineInput {
            id,
            records: (1..=rows).map(|k| row(id, k)).collect(),
            queue_peak: Some(u32::from(id)),
            ..MachineInput::default()
        };
        // Machine 2's first row takes machine 1's message 7, stamped 3.
        let receiver = |id, rows: u64| {
            let mut m = machine(id, rows);
            m.records[0] = Record {
                event: EventKind::Receive,
                peer: Some(1),
                msg_clock: Some(3),
                seq: Some(7),
                ..m.records[0]
            };
            m
        };
        RunInput {
            label: label.to_owned(),
            trials: vec![
                TrialInput {
                    trial: 1,
                    start_us: 500_000,
                    machines: vec![machine(1, 2), receiver(2, 3)],
                    ..TrialInput::default()
                },
                TrialInput {
                    trial: 2,
                    start_us: 1_500_000,
                    machines: vec![machine(1, 1), machine(2, 0)],
                    problems: vec!["no router.yaml".to_owned()],
                    ..TrialInput::default()
                },
            ],
            ..RunInput::default()
        }
    }

    #[test]
    fn events_csv_has_every_row_with_its_run_and_trial_and_quotes_the_label() {
        let mut out = Vec::new();
        let rows = write_events_csv(&[run("a,\"b\"")], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(rows, 6);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7);
        assert_eq!(
            lines[0],
            "run,trial,machine,event,system_time_s,time_s,logical_clock,queue_len,peer,msg_clock,seq"
        );
        // Trial 1 starts at 0.5 s, trial 2 at 1.5 s: a row before the start is negative.
        assert_eq!(
            lines[1],
            "\"a,\"\"b\"\"\",1,1,internal,1.000000,0.500000,1,0,,,"
        );
        assert_eq!(
            lines[3],
            "\"a,\"\"b\"\"\",1,2,receive,1.000000,0.500000,1,0,1,3,7"
        );
        assert_eq!(
            lines[6],
            "\"a,\"\"b\"\"\",2,1,internal,1.000000,-0.500000,1,0,,,"
        );
        // The csv crate reads it back: the label whole, eleven fields a row.
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for record in reader.records() {
            let record = record.unwrap();
            assert_eq!((record.len(), &record[0]), (11, "a,\"b\""));
        }
    }

    #[test]
    fn summary_wide_has_a_row_per_trial_and_machine_and_a_column_per_figure() {
        let analysis = analyze_run(&run("r"));
        let text = summary_wide_csv(&[analysis]);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().unwrap().clone();
        assert_eq!(header.len(), WIDE_KEYS.len() + MachineFigure::ALL.len());
        assert_eq!(&header[4], "rate");
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 4);
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        let keys: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| (&r[1], &r[2], &r[column("trial_complete")]))
            .collect();
        assert_eq!(
            keys,
            [
                ("1", "1", "1"),
                ("1", "2", "1"),
                ("2", "1", "0"),
                ("2", "2", "0")
            ]
        );
        assert_eq!(&rows[1][column("events")], "3");
        assert_eq!(&rows[1][column("queue_peak")], "2");
        // Undefined figures are empty: machine 2 of trial 2 has no rows.
        assert_eq!(&rows[3][column("queue_after_tick_max")], "");
    }

    #[test]
    fn the_wide_header_is_what_serde_names_a_row() {
        let keys = WideKeys {
            run: "r",
            trial: 1,
            machine: 2,
            trial_complete: 1,
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize((keys, MachineFigures::from_fn(|_| String::new())))
            .unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let header = wide_header().collect::<Vec<_>>().join(",");
        assert_eq!(text.lines().next(), Some(header.as_str()));
    }
}
