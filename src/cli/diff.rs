//! `clocklab diff A B`: two trials of the same seed compared event by event (a real run and its
//! simulation, or two simulations with different timing models). With a fault plan on either
//! side it also compares their weather (`analysis::diff::weather`). Exit status as diff(1): 0 when
//! every machine's events are identical (and, with a plan, the plans are the same and every
//! weather figure agrees), 1 when they differ, 2 when a trial cannot be read.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::analysis::diff::weather::{self, Compared, SideFigures};
use crate::analysis::diff::{MachineDiff, SendInstants, describe, diff_machine, send_instants};
use crate::cli::args::DiffArgs;
use crate::cli::common::Failure;
use crate::config::faults::FaultSpec;
use crate::core::event::Record;
use crate::core::machine::MissedTicks;
use crate::rundir::dirs::trial_dirs;
use crate::rundir::load::{LogFile, TrialFiles, load_trial_files};

/// `clocklab diff`.
pub fn command(args: &DiffArgs) -> Result<ExitCode, Failure> {
    let trial = args.trial.unwrap_or(1);
    let loaded = load_side(&args.a, trial).and_then(|a| Ok((a, load_side(&args.b, trial)?)));
    let ((dir_a, a), (dir_b, b)) = match loaded {
        Ok(sides) => sides,
        Err(e) => {
            eprintln!("clocklab: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    println!("diff A {} and B {}", dir_a.display(), dir_b.display());
    for (side, notes) in [("A", &a.notes), ("B", &b.notes)] {
        for note in notes {
            println!("  note: {side}: {note}");
        }
    }
    // With other seeds the machines draw other actions: a divergence says nothing of timing.
    let seeds_differ = matches!((a.seed, b.seed), (Some(x), Some(y)) if x != y);
    if a.seed != b.seed {
        println!(
            "  the seeds differ (A {}, B {}): the draws differ from the first event",
            seed_text(a.seed),
            seed_text(b.seed)
        );
    }
    // When each message was sent (B's where A cannot tell): twins send at the same deadlines.
    let mut sent: SendInstants = send_instants(&b.rows, &b.rates);
    sent.extend(send_instants(&a.rows, &a.rates));
    let mut differing = 0;
    // The first divergence in time, by A's clock: the likely root of the others.
    let mut first: Option<(u64, u16)> = None;
    let machines = a.rows.len().max(b.rows.len());
    for id in 1..=machines {
        let (ra, rb) = (side_rows(&a, id), side_rows(&b, id));
        match diff_machine(ra, rb, &sent) {
            MachineDiff::Identical { events } => {
                println!("  machine {id}: identical ({events} events)");
            }
            MachineDiff::Diverged(d) => {
                differing += 1;
                println!("  machine {id}: first divergence at event {}", d.index + 1);
                println!("    A: {}", describe(d.a.as_ref(), d.index));
                println!("    B: {}", describe(d.b.as_ref(), d.index));
                if seeds_differ {
                    println!(
                        "    likely cause: the seeds differ (A {}, B {}), so the machines drew \
                         other actions; compare trials of one seed to see timing at work",
                        seed_text(a.seed),
                        seed_text(b.seed)
                    );
                } else {
                    println!("    likely cause: {}", d.cause);
                }
                // Each side's time since its own start (a simulation has an epoch of its own).
                let since = match (d.a, d.b) {
                    (Some(r), _) => r.system_time_us.saturating_sub(a.start_us),
                    (None, Some(r)) => r.system_time_us.saturating_sub(b.start_us),
                    (None, None) => continue,
                };
                if first.is_none_or(|(t0, _)| since < t0) {
                    first = Some((since, id as u16));
                }
            }
        }
    }
    // Bad weather: the figures docs/SIMULATION.md says a twin must agree on.
    let weather_differs = (!a.plan.is_empty() || !b.plan.is_empty()) && !print_weather(&a, &b);
    if differing == 0 {
        println!("identical: every machine's events (kind, peer, clock) are the same");
        return Ok(if weather_differs {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    if let Some((since, id)) = first {
        println!(
            "{differing} of {machines} machines differ; the first divergence in time is machine \
             {id}'s, {:.3} s into the trial: look there first",
            since as f64 / 1e6
        );
    }
    Ok(ExitCode::from(1))
}

/// One side: its trial's machine logs by id, its seed and its start.
struct Side {
    rows: Vec<Vec<Record>>,
    seed: Option<u64>,
    start_us: u64,
    /// Each machine's rate, by id from 1, when its rows are its tick numbers (it skipped no
    /// deadline); `None` when that cannot be told.
    rates: Vec<Option<f64>>,
    /// What the comparison makes do with: a log cut off by a crash, compared up to its cut.
    notes: Vec<String>,
    /// The fault plan as `run.yaml` recorded it (empty without one, or without `run.yaml`).
    plan: Vec<FaultSpec>,
    /// The figures a twin in bad weather must agree on.
    figures: SideFigures,
}

/// Prints the fault plans and, when they are the same, the weather figures of both sides side
/// by side (docs/SIMULATION.md, "Twins in bad weather"), marking each that differs beyond what
/// is allowed. Whether everything agrees.
fn print_weather(a: &Side, b: &Side) -> bool {
    if a.plan != b.plan {
        println!(
            "  the fault plans differ (A: {}; B: {}): the trials had other weather, so their \
             ticks, books and hop latencies are not compared",
            plan_text(&a.plan),
            plan_text(&b.plan)
        );
        return false;
    }
    println!(
        "  fault plan: the same on both sides ({})",
        plan_text(&a.plan)
    );
    println!(
        "  weather, A | B (docs/SIMULATION.md, \"Twins in bad weather\", says what must agree):"
    );
    let compared = weather::compare(&a.figures, &b.figures);
    let beyond = compared.iter().filter(|c| c.beyond()).count();
    for c in &compared {
        println!("    {}", compared_text(c));
    }
    if a.figures.pairs.is_none() || b.figures.pairs.is_none() {
        println!("    (no router.yaml on one side: the router's books are not compared)");
    }
    if beyond == 0 {
        println!("  the weather figures agree within what docs/SIMULATION.md allows");
    } else {
        println!(
            "  {beyond} weather figure(s) differ beyond what docs/SIMULATION.md allows (marked)"
        );
    }
    beyond == 0
}

/// A plan in one line: `delay 1->2 [0, 4), partition [[1, 2], [3]] hold [1, 2), ...`.
fn plan_text(plan: &[FaultSpec]) -> String {
    if plan.is_empty() {
        return "none".into();
    }
    let window = |f: &FaultSpec| match (f.from, f.to) {
        (Some(from), Some(to)) => format!(" [{from} s, {to} s)"),
        _ => String::new(),
    };
    let texts: Vec<String> = plan
        .iter()
        .map(|f| {
            let what = match f.kind.as_str() {
                "delay" => format!(
                    " {} {}",
                    f.link.as_deref().unwrap_or("?"),
                    f.latency.as_deref().unwrap_or("?")
                ),
                "partition" => format!(
                    " {:?} {}",
                    f.groups.clone().unwrap_or_default(),
                    f.mode.as_deref().unwrap_or("hold")
                ),
                "pause" => format!(" machine {}", f.machine.unwrap_or(0)),
                "clock" => format!(
                    " machine {} {:+} ms {:+} ppm",
                    f.machine.unwrap_or(0),
                    f.offset_ms.unwrap_or(0.0),
                    f.drift_ppm.unwrap_or(0.0)
                ),
                _ => String::new(),
            };
            format!("{}{what}{}", f.kind, window(f))
        })
        .collect();
    texts.join(", ")
}

/// One compared figure as a line, marked when it differs beyond what is allowed.
fn compared_text(c: &Compared) -> String {
    let opt = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
    let hop = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1}"));
    match c {
        Compared::Machine {
            id,
            ticks,
            hop_p50_us,
            ticks_beyond,
            hop_beyond,
        } => {
            let mut line = format!(
                "machine {id}: ticks {} | {}, hop p50 {} | {} µs",
                opt(ticks.0),
                opt(ticks.1),
                hop(hop_p50_us.0),
                hop(hop_p50_us.1)
            );
            if *ticks_beyond {
                line.push_str("  <- ticks must be equal");
            }
            if *hop_beyond {
                line.push_str("  <- hop p50s must be within 10% + 1 ms");
            }
            line
        }
        Compared::Pair {
            source,
            dest,
            books: (x, y),
            tolerance,
            beyond,
        } => {
            let mut line = format!(
                "pair {source}->{dest}: delivered {} | {}, held {} | {}, released {} | {}, \
                 dropped {} | {}",
                x.delivered,
                y.delivered,
                x.held,
                y.held,
                x.released,
                y.released,
                x.dropped,
                y.dropped
            );
            if *beyond {
                line.push_str(&format!("  <- books may differ by {tolerance} at most"));
            }
            line
        }
    }
}

fn seed_text(seed: Option<u64>) -> String {
    seed.map_or("unknown".into(), |s| s.to_string())
}

fn side_rows(side: &Side, id: usize) -> &[Record] {
    side.rows.get(id - 1).map_or(&[], Vec::as_slice)
}

/// The trial `trial` of the run (or trial directory) `dir`.
fn load_side(dir: &Path, trial: u32) -> Result<(PathBuf, Side), String> {
    let dirs = trial_dirs(dir)?;
    let trial_dir = dirs
        .get(trial as usize - 1)
        .ok_or_else(|| {
            let has = match dirs.len() {
                1 => "1 trial".to_string(),
                n => format!("{n} trials"),
            };
            format!(
                "{} has {has}, not {trial}: --trial is from 1 to {}",
                dir.display(),
                dirs.len()
            )
        })?
        .clone();
    let files = load_trial_files(&trial_dir);
    // A record that is there must read: a broken one is no trial to compare (a missing one is:
    // a run whose `run` did not finish has no run.yaml, a router that did not stop in order no
    // router.yaml).
    if let Some(e) = files.broken_record() {
        return Err(e.to_string());
    }
    if !files.logs_written() {
        return Err(format!(
            "{}: simulated with --no-logs, so there are no events to compare",
            trial_dir.display()
        ));
    }
    let (mut rows, mut notes) = (Vec::new(), Vec::new());
    for m in &files.machines {
        if let Some(damaged) = m.log_cut_after_summary() {
            return Err(damaged.to_string());
        }
        let got = match &m.log {
            LogFile::Whole(rows) => rows.clone(),
            LogFile::Cut {
                cut,
                before: Ok(rows),
            } => {
                notes.push(format!("{cut}: its rows before the cut are compared"));
                rows.clone()
            }
            LogFile::Cut { before: Err(e), .. } | LogFile::Missing(e) | LogFile::Bad(e) => {
                return Err(e.to_string());
            }
        };
        let slot = usize::from(m.id) - 1;
        rows.resize(rows.len().max(slot + 1), Vec::new());
        rows[slot] = got;
    }
    let record = files.run_record();
    let router = files.router.as_ref().ok().and_then(Option::as_ref);
    let seed = record.map(|r| r.seed).or_else(|| router.map(|r| r.seed));
    let start_us = record
        .and_then(|r| r.start_time_ns)
        .or_else(|| router.and_then(|r| r.start_time_ns))
        .map_or(0, |ns| ns / 1_000);
    let plan = record.map(|r| r.config.faults.clone()).unwrap_or_default();
    let figures = figures(&files, &rows, &plan, start_us);
    let rates = (1..=rows.len() as u16)
        .map(|id| tick_rate(&files, id))
        .collect();
    Ok((
        trial_dir,
        Side {
            rows,
            seed,
            start_us,
            rates,
            notes,
            plan,
            figures,
        },
    ))
}

/// Machine `id`'s rate when its k-th row is its k-th tick: from its summary, which says whether
/// it skipped deadlines, or else from `run.yaml` when its machines catch missed ticks up.
fn tick_rate(files: &TrialFiles, id: u16) -> Option<f64> {
    let summary = files
        .machine(id)
        .and_then(|m| m.summary.as_ref().ok().and_then(Option::as_ref));
    match summary {
        Some(s) => (s.ticks_skipped == 0).then_some(s.rate),
        None => files
            .run_record()
            .filter(|r| r.config.machines.missed_ticks == MissedTicks::CatchUp)
            .and_then(|r| r.machines.iter().find(|m| m.id == id))
            .map(|m| m.rate),
    }
}

/// The figures of a trial with the fault plan `plan` that its twin must agree on: each
/// machine's ticks and hop p50 (its summary), the router's books, and the frames each pair sent
/// (all and just before an edge of a `delay` or `partition` window, or the trial's end).
fn figures(
    files: &TrialFiles,
    rows: &[Vec<Record>],
    plan: &[FaultSpec],
    start_us: u64,
) -> SideFigures {
    let record = files.run_record();
    let summaries: Vec<_> = (1..=rows.len() as u16)
        .map(|id| {
            files
                .machine(id)
                .and_then(|m| m.summary.as_ref().ok().and_then(Option::as_ref))
        })
        .collect();
    let mut edges_us: Vec<u64> = plan
        .iter()
        .filter(|f| f.kind == "delay" || f.kind == "partition")
        .flat_map(|f| [f.from, f.to])
        .flatten()
        .map(|s| (s * 1e6) as u64)
        .collect();
    if let Some(r) = record {
        edges_us.push((r.duration * 1e6) as u64);
    }
    // A clock fault skews the stamps: the edges are on real time.
    let skews = record
        .and_then(|r| r.clock_skews().ok())
        .unwrap_or_default();
    let real_us = |id: u16, stamp: u64| {
        let real = skews
            .get(usize::from(id) - 1)
            .map_or(stamp, |s| s.real_us(start_us, stamp));
        real.saturating_sub(start_us)
    };
    let (sent, near_edge) = weather::sends(rows, &edges_us, real_us);
    SideFigures {
        ticks: summaries.iter().map(|s| s.map(|s| s.ticks)).collect(),
        hop_p50_us: summaries
            .iter()
            .map(|s| s.filter(|s| s.hop_latency_us.count > 0))
            .map(|s| s.map(|s| s.hop_latency_us.p50))
            .collect(),
        pairs: files
            .router
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .map(|r| r.pairs.clone()),
        sent,
        near_edge,
    }
}
