//! `clocklab analyze`: loads runs, analyses them, prints the tables and writes `report.html`,
//! `summary.json`, `summary.csv`, `summary-wide.csv`, `summary-trials.csv`, `summary-stats.csv`,
//! `events.csv`, `weather.csv` (when a trial has a fault plan with a window) and one `.svg` per
//! plot.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::analysis::load::{load_run, suffix_labels};
use crate::analysis::{RunAnalysis, TrialInput, analyze_run_with};
use crate::cli::args::AnalyzeArgs;
use crate::report::data::{
    EVENTS_FILE, TRIALS_FILE, WIDE_FILE, summary_trials_csv, summary_wide_csv, write_events_csv,
};
use crate::report::spacetime::Window;
use crate::report::summary::STATS_FILE;
use crate::report::{
    CSV_FILE, JSON_FILE, REPORT_FILE, html, interactive, make_plots, spacetime, summary, text,
    unique_labels, weather,
};

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

/// `clocklab analyze DIR... [--out DIR]`.
pub fn command(args: &AnalyzeArgs) -> Result<ExitCode, String> {
    let mut inputs = args
        .dirs
        .iter()
        .map(|d| load_run(d))
        .collect::<Result<Vec<_>, _>>()?;
    let labels = match &args.label {
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
    for (input, label) in inputs.iter_mut().zip(labels) {
        input.label = label;
    }
    unique_labels(&mut inputs);
    let runs: Vec<RunAnalysis> = inputs
        .iter()
        .map(|r| analyze_run_with(r, args.include_incomplete))
        .collect();
    say(&text::text(&runs))?;
    let out = out_dir(args);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: cannot create: {e}", out.display()))?;
    let (mut run_plots, comparison) = make_plots(&inputs, &runs)?;
    // The trials that get a diagram: those plotted.
    for (input, plots) in inputs.iter().zip(&run_plots) {
        let plotted = plots
            .trials
            .iter()
            .filter_map(|p| input.trials.iter().find(|t| t.trial == p.trial));
        for trial in plotted {
            if let Some(warning) = args.window.and_then(|w| window_warning(trial, w)) {
                eprintln!("clocklab: warning: {}: {warning}", trial.dir);
            }
        }
    }
    spacetime::add_diagrams(&inputs, args.window, &mut run_plots);
    interactive::add_interactive(&inputs, args.window, &mut run_plots);
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
    let events = out.join(EVENTS_FILE);
    let failed = |e: std::io::Error| format!("{}: cannot write: {e}", events.display());
    let file = std::fs::File::create(&events).map_err(failed)?;
    let mut writer = std::io::BufWriter::new(file);
    write_events_csv(&inputs, &mut writer).map_err(failed)?;
    writer.flush().map_err(failed)?;
    write(
        &out,
        REPORT_FILE,
        &html::page(&runs, &run_plots, &comparison),
    )?;
    let also = if weather {
        format!(", {}", weather::WEATHER_FILE)
    } else {
        String::new()
    };
    say(&format!(
        "wrote {REPORT_FILE}, {JSON_FILE}, {CSV_FILE}, {WIDE_FILE}, {TRIALS_FILE}, {STATS_FILE}, \
         {EVENTS_FILE}{also} and {count} plots (.svg) to {}\n",
        out.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Why the space-time diagram of `trial` over `--window` would be empty: no event of the trial
/// lies in the window, with the span its events do cover. `None` when some event lies in it.
fn window_warning(trial: &TrialInput, window: Window) -> Option<String> {
    let since = |t_us: u64| (i128::from(t_us) - i128::from(trial.start_us)) as f64 / 1e6;
    let times = trial
        .machines
        .iter()
        .flat_map(|m| &m.records)
        .map(|r| since(r.system_time_us));
    let (mut first, mut last, mut inside) = (f64::INFINITY, f64::NEG_INFINITY, false);
    for t in times {
        first = first.min(t);
        last = last.max(t);
        inside |= (window.start_s..=window.end_s).contains(&t);
    }
    if inside {
        return None;
    }
    let span = if first.is_finite() {
        format!("the trial's events run from {first:.3} s to {last:.3} s")
    } else {
        "the trial has no events".to_owned()
    };
    Some(format!(
        "--window {}s..{}s holds no event, so its space-time diagram is empty: {span}; give a \
         window within them",
        window.start_s, window.end_s
    ))
}
