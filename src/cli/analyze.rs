//! `clocklab analyze`: analyses runs a trial at a time, prints the tables and writes
//! `report.html`, `summary.json`, `summary.csv`, `summary-wide.csv`, `summary-trials.csv`,
//! `summary-stats.csv`, `events.csv` (with `--events`), `weather.csv` (when a trial has a fault
//! plan with a window) and one `.svg` per plot.
//!
//! Each trial's figures come from one pass over its logs (`analysis::stream`), which holds what
//! its machines and the messages in flight need, never its rows; a plotted trial is read a second
//! time to be drawn, and with `--events` each trial's logs are read once more to copy their rows
//! (docs/ANALYSIS.md, "Memory and time"). `--jobs` trials are analysed at once, on a local pool;
//! their results are put together in trial order, so the output is the same whatever the number
//! of jobs.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rayon::prelude::*;

use crate::analysis::load::{
    LoadError, analyze_trial_dir, load_trial_head, run_head, suffix_labels,
};
use crate::analysis::stream::analyze_rows;
use crate::analysis::{RunAnalysis, TrialAnalysis, summarize_run};
use crate::cli::args::AnalyzeArgs;
use crate::report::data::{
    EVENTS_FILE, EVENTS_HEADER, EventRows, TRIALS_FILE, WIDE_FILE, summary_trials_csv,
    summary_wide_csv,
};
use crate::report::sketch::Sketch;
use crate::report::summary::STATS_FILE;
use crate::report::{
    CSV_FILE, JSON_FILE, PLOTTED_TRIALS, REPORT_FILE, RunPlots, TrialPlots, across_plots,
    comparison_plots, html, run_prefix, summary, text, unique, weather,
};
use crate::rundir::dirs::trial_dirs;
use crate::rundir::records::RunRecord;

/// Prints `text` on stdout; a reader that went away (`| head`) is not an error.
fn say(text: &str) -> Result<(), String> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write to stdout: {e}"))
        }
        _ => Ok(()),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> Result<(), String> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

/// The output directory: `--out`, else `DIR/analysis` for one run and `./analysis` for several.
pub fn out_dir(args: &AnalyzeArgs) -> PathBuf {
    match (&args.out, &args.dirs[..]) {
        (Some(out), _) => out.clone(),
        (None, [one]) => one.join("analysis"),
        (None, _) => PathBuf::from("analysis"),
    }
}

/// `events.csv` as it is written, a trial at a time.
struct Events {
    path: PathBuf,
    writer: std::io::BufWriter<std::fs::File>,
}

impl Events {
    fn create(out: &Path) -> Result<Events, String> {
        let path = out.join(EVENTS_FILE);
        let file = std::fs::File::create(&path)
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        let mut events = Events {
            path,
            writer: std::io::BufWriter::with_capacity(1 << 20, file),
        };
        let header = format!("{EVENTS_HEADER}\n");
        events.put(|w| w.write_all(header.as_bytes()))?;
        Ok(events)
    }

    fn put(
        &mut self,
        what: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
    ) -> Result<(), String> {
        what(&mut self.writer).map_err(|e| format!("{}: cannot write: {e}", self.path.display()))
    }
}

/// What analysing one trial leaves once its rows are gone.
struct TrialDone {
    analysis: TrialAnalysis,
    /// Its plots, for a plotted trial.
    plots: Option<TrialPlots>,
    /// Its `run.yaml`, which names the run.
    record: Option<RunRecord>,
    /// Why its space-time diagram is empty, for the user.
    warning: Option<String>,
}

/// How to analyse each trial of one run.
struct Plan<'a> {
    args: &'a AnalyzeArgs,
    /// The run's number, from 1.
    run: usize,
    /// Its files' prefix ([`run_prefix`]).
    prefix: String,
}

impl Plan<'_> {
    /// Analyses the `k`-th trial (from 0) in `path` in one pass over its logs, and draws it if it
    /// is a plotted one.
    fn trial(&self, k: usize, path: &Path) -> Result<TrialDone, String> {
        let number = k as u32 + 1;
        let (analysis, trial, record) = analyze_trial_dir(path, number)?;
        let (mut plots, mut warning) = (None, None);
        if k < PLOTTED_TRIALS {
            // Drawn from a second pass: the diagram's window is around the largest jump, which
            // only the end of the first one knows.
            let mut again = load_trial_head(path, number)?;
            let mut sketch = Sketch::new(trial, &analysis, self.args.window);
            let logs = again.logs.iter_mut().collect();
            let events = analysis.machines.iter().map(|m| m.events).sum();
            let streamed = analyze_rows(&again.trial, logs, Some(events), &mut sketch)
                .map_err(LoadError::from)?;
            let (drawn, why_empty) = sketch.finish(&streamed.unreceived, self.run, &self.prefix)?;
            plots = Some(drawn);
            warning = why_empty;
        }
        Ok(TrialDone {
            analysis,
            plots,
            record,
            warning,
        })
    }
}

/// Writes the rows of the `k`-th trial (from 0) in `path` to `events`, reading its logs again,
/// each machine's in turn.
fn write_events(events: &mut Events, label: &str, k: usize, path: &Path) -> Result<(), String> {
    let mut head = load_trial_head(path, k as u32 + 1)?;
    let t = &head.trial;
    let mut rows = EventRows::new(label, t.trial, t.start_us);
    for log in &mut head.logs {
        for record in log {
            let record = record.map_err(LoadError::from)?;
            events.put(|w| rows.write(&record, w))?;
        }
    }
    Ok(())
}

/// Analyses the run in `dir` (the `i`-th, from 0, of `runs`) a trial at a time, `jobs` trials at
/// once on `pool`; then, when given `events`, writes each trial's rows to it in trial order.
fn analyze_dir(
    args: &AnalyzeArgs,
    (i, runs): (usize, usize),
    label: String,
    pool: &rayon::ThreadPool,
    events: Option<&mut Events>,
) -> Result<(RunAnalysis, RunPlots), String> {
    let dir = &args.dirs[i];
    let paths = trial_dirs(dir)?;
    let plan = Plan {
        args,
        run: i + 1,
        prefix: run_prefix(i, runs),
    };
    let results: Vec<Result<TrialDone, String>> = pool.install(|| {
        paths
            .par_iter()
            .enumerate()
            .map(|(k, path)| plan.trial(k, path))
            .collect()
    });
    let done = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    if let Some(events) = events {
        for (k, path) in paths.iter().enumerate() {
            write_events(events, &label, k, path)?;
        }
    }
    let mut head = run_head(dir, done.iter().find_map(|t| t.record.as_ref()), done.len());
    head.label = label;
    let mut plots = RunPlots::default();
    let mut trials = Vec::with_capacity(done.len());
    for t in done {
        if let Some(warning) = &t.warning {
            eprintln!("clocklab: warning: {}: {warning}", t.analysis.dir);
        }
        plots.trials.extend(t.plots);
        trials.push(t.analysis);
    }
    let run = summarize_run(head, trials, args.include_incomplete);
    plots.across = across_plots(&run, &plan.prefix)?;
    Ok((run, plots))
}

/// `clocklab analyze DIR... [--out DIR]`.
pub fn command(args: &AnalyzeArgs) -> Result<ExitCode, String> {
    let mut labels = match &args.label {
        None => suffix_labels(&args.dirs),
        Some(labels) if labels.len() == args.dirs.len() => labels.clone(),
        Some(labels) => {
            return Err(format!(
                "--label: {} labels for {} runs; give one label per DIR, in order",
                labels.len(),
                args.dirs.len()
            ));
        }
    };
    unique(&mut labels);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(crate::cli::trials::jobs(&args.jobs))
        .build()
        .map_err(|e| {
            format!(
                "--jobs {}: cannot start its threads: {e}",
                crate::cli::trials::jobs(&args.jobs)
            )
        })?;
    let out = out_dir(args);
    let create = || {
        std::fs::create_dir_all(&out).map_err(|e| format!("{}: cannot create: {e}", out.display()))
    };
    let mut events = match args.events {
        true => {
            create()?;
            Some(Events::create(&out)?)
        }
        false => None,
    };
    let (mut runs, mut run_plots) = (Vec::new(), Vec::new());
    for (i, label) in labels.into_iter().enumerate() {
        let (run, plots) = analyze_dir(args, (i, args.dirs.len()), label, &pool, events.as_mut())?;
        runs.push(run);
        run_plots.push(plots);
    }
    if let Some(events) = &mut events {
        events.put(|w| w.flush())?;
    }
    say(&text::text(&runs))?;
    create()?;
    let comparison = comparison_plots(&runs)?;
    let mut count = 0;
    for plot in run_plots.iter().flat_map(|r| r.all()).chain(&comparison) {
        write(&out, &plot.file, &plot.svg)?;
        count += 1;
    }
    write(&out, JSON_FILE, &summary::summary_json(&runs))?;
    write(&out, CSV_FILE, &summary::summary_csv(&runs))?;
    write(&out, WIDE_FILE, &summary_wide_csv(&runs))?;
    write(&out, TRIALS_FILE, &summary_trials_csv(&runs))?;
    write(&out, STATS_FILE, &summary::summary_stats_csv(&runs))?;
    let weather = weather::any(&runs);
    if weather {
        write(&out, weather::WEATHER_FILE, &weather::weather_csv(&runs))?;
    }
    write(
        &out,
        REPORT_FILE,
        &html::page(&runs, &run_plots, &comparison),
    )?;
    let mut also = String::new();
    if args.events {
        also.push_str(&format!(", {EVENTS_FILE}"));
    }
    if weather {
        also.push_str(&format!(", {}", weather::WEATHER_FILE));
    }
    say(&format!(
        "wrote {REPORT_FILE}, {JSON_FILE}, {CSV_FILE}, {WIDE_FILE}, {TRIALS_FILE}, {STATS_FILE}\
         {also} and {count} plots (.svg) to {}\n",
        out.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}
