//! `clocklab export`: one trial's events with their reconstructed vector clocks, as a log ShiViz
//! reads or as JSON Lines, on stdout or into a file.

use std::io::Write as _;
use std::process::ExitCode;

use crate::analysis::causality::{MAX_ENTRIES, reconstruct};
use crate::analysis::hlc::timestamps;
use crate::analysis::load::trial_from_files;
use crate::cli::args::{ExportArgs, ExportFormat};
use crate::report::export::{SHIVIZ_REGEX, jsonl, shiviz};
use crate::rundir::dirs::trial_dirs;
use crate::rundir::load::{LogFile, load_trial_files};

/// `clocklab export RUN_DIR [--trial K] [--shiviz | --format shiviz|jsonl] [--out FILE]`.
pub fn command(args: &ExportArgs) -> Result<ExitCode, String> {
    let dirs = trial_dirs(&args.run_dir)?;
    let k = args.trial.unwrap_or(1);
    let Some(dir) = usize::try_from(k)
        .ok()
        .and_then(|k| k.checked_sub(1))
        .and_then(|i| dirs.get(i))
    else {
        return Err(format!(
            "--trial {k}: {} has {} trial(s); give a number from 1 to {}",
            args.run_dir.display(),
            dirs.len(),
            dirs.len()
        ));
    };
    let files = load_trial_files(dir);
    // A log cut in its last row is what a crash while writing leaves, and its whole rows are
    // sound (a machine logs a send before it sends); a log cut although its machine wrote its
    // summary after it was damaged after the run, and its receives would be exported wrongly.
    let mut cuts = Vec::new();
    for m in &files.machines {
        if let Some(damaged) = m.log_cut_after_summary() {
            return Err(damaged.to_string());
        }
        if let LogFile::Cut { cut, .. } = &m.log {
            cuts.push(cut.to_string());
        }
    }
    let (trial, _) = trial_from_files(files, k)?;
    for cut in cuts {
        eprintln!("note: {cut}: the rows before the cut are exported");
    }
    let causality = reconstruct(&trial).ok_or_else(|| {
        format!(
            "{}: too many events times machines to reconstruct vector clocks (more than \
             {MAX_ENTRIES})",
            dir.display()
        )
    })?;
    let format = if args.shiviz {
        ExportFormat::Shiviz
    } else {
        args.format
    };
    let text = match format {
        ExportFormat::Shiviz => shiviz(&trial, &causality),
        ExportFormat::Jsonl => jsonl(&trial, &causality, &timestamps(&trial, &causality)),
    }
    .map_err(|e| format!("{}: cannot render the events as JSON: {e}", dir.display()))?;
    let unmatched = causality.unmatched + causality.contradictions;
    if unmatched > 0 {
        eprintln!(
            "note: {unmatched} receive(s) whose send is in no log (or contradicts the logs) are \
             exported as local events"
        );
    }
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text)
                .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
            eprintln!(
                "wrote {} events of {} to {}",
                causality.order.len(),
                dir.display(),
                path.display()
            );
            if format == ExportFormat::Shiviz {
                eprintln!("ShiViz log parsing regular expression: {SHIVIZ_REGEX}");
            }
        }
        None => match std::io::stdout().lock().write_all(text.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                return Err(format!("cannot write to stdout: {e}"));
            }
            _ => {}
        },
    }
    Ok(ExitCode::SUCCESS)
}
