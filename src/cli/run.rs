//! `clocklab run`: starts the router and N machine clients as child processes of this executable,
//! lets them run for the set time, stops them in order, records the trial in `run.yaml` and checks
//! it. Repeats for every trial. The processes themselves are [`crate::net::process`]'s. A
//! `pause` fault stops a machine's process for its window (SIGSTOP at the common start plus
//! `from`, SIGCONT at the start plus `to`, [`PauseSignals`]); a paused machine is continued
//! before the trial is stopped, however it ends.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use crate::check;
use crate::cli::args::RunArgs;
use crate::cli::common::{
    Failure, LISTENING, STARTED, TrialOutcome, across_trials_table, configure, next_step,
    print_summary, secs, started_ns,
};
use crate::cli::watch::LiveView;
use crate::config::{Config, FaultPlan};
use crate::net::process::{PauseSignals, PauseStep, Proc, stop_flag, stop_in_order, wait_for_line};
use crate::net::wallclock::WallClock;
use crate::net::wallclock::fresh_seed;
use crate::rundir::plan::TrialPlan;
use crate::rundir::prepare_dir;
use crate::rundir::records::RunRecord;
use crate::rundir::{
    ROUTER_STATS_FILE, RUN_FILE, SpaceReserve, read_yaml, summary_file_name, write_yaml_atomically,
};

use crate::rundir::dirs::{create_run_dir, utc_stamp};

/// How long to wait for the router to listen, and for every machine to register.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);
/// Added to the stop grace when waiting for the processes to exit.
const EXIT_MARGIN: Duration = Duration::from_secs(2);

/// `clocklab run`.
pub fn command(args: RunArgs) -> Result<ExitCode, Failure> {
    let mut config = configure(&args.model)?;
    if let Some(port) = args.port {
        config.run.port = port;
    }
    let master = config.run.seed.unwrap_or_else(fresh_seed);
    let wall = WallClock::new();
    let run_id = format!("{}-seed-{master}", utc_stamp(wall.now_ns() / 1_000_000_000));
    let run_dir = create_run_dir(&config.run.log_dir, &run_id)?;
    let trials = config.run.trials;
    println!(
        "run {}: {} machines, {trials} trial(s) of {} s, seed {master}",
        run_dir.display(),
        config.machines.count,
        config.run.duration
    );
    let faults = config
        .fault_plan("the configuration")
        .map_err(|e| e.to_string())?;
    let stop = stop_flag()?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let mut all_passed = true;
    let mut outcomes = Vec::new();
    let live = args.live || (!args.no_live && std::io::stdout().is_terminal());
    for k in 1..=trials {
        let plan = TrialPlan::new(&config, &run_dir, master, k);
        prepare_dir(&plan.dir)?;
        let trial = Trial {
            plan,
            config: &config,
            config_path: args.model.common.config.as_deref(),
            faults_path: args.model.faults.as_deref(),
            faults: &faults,
            exe: &exe,
            stop: &stop,
            live,
        };
        let record = match trial.run() {
            Ok(record) => record,
            Err(e) if stop.load(Ordering::SeqCst) => {
                println!("interrupted: {e}");
                return Ok(ExitCode::from(130));
            }
            Err(e) if k == 1 && !started(&trial.plan.dir) => {
                // Nothing ran: a directory holding only run.yaml would mislead `check`.
                return Err(match std::fs::remove_dir_all(&run_dir) {
                    Ok(()) => format!(
                        "{e} (the run failed before it started; {} removed)",
                        run_dir.display()
                    ),
                    Err(rm) => format!(
                        "{e} (the run failed before it started; removing {} failed: {rm})",
                        run_dir.display()
                    ),
                });
            }
            Err(e) => return Err(format!("trial {k}: {e}")),
        };
        print_summary(&record);
        outcomes.push(TrialOutcome::of(&record));
        let report = check::check_trial(&trial.plan.dir);
        println!("{report}");
        all_passed &= report.passed();
        let problems = record.problems();
        if !record.interrupted && !problems.is_empty() {
            println!("  FAILED: the trial did not end in order:");
            for problem in &problems {
                println!("    {problem}");
            }
            all_passed = false;
        }
        if stop.load(Ordering::SeqCst) {
            println!("interrupted: stopped after trial {k}; every log is complete");
            break;
        }
    }
    print!(
        "{}",
        across_trials_table(&outcomes, args.include_incomplete)
    );
    println!("run directory: {}", run_dir.display());
    println!("{}", next_step(&run_dir));
    Ok(match (stop.load(Ordering::SeqCst), all_passed) {
        (true, _) => ExitCode::from(130),
        (false, true) => ExitCode::SUCCESS,
        (false, false) => ExitCode::FAILURE,
    })
}

/// Whether the trial in `dir` got as far as the common start (its `run.yaml` says when).
fn started(dir: &Path) -> bool {
    read_yaml::<RunRecord>(&dir.join(RUN_FILE))
        .ok()
        .flatten()
        .is_some_and(|r| r.start_time_ns.is_some())
}

struct Trial<'a> {
    plan: TrialPlan,
    config: &'a Config,
    /// The `--config` given to `run`, passed on to the children (who otherwise find the same
    /// default).
    config_path: Option<&'a Path>,
    /// The `--faults` given to `run`, passed on to the router (which otherwise reads the plan
    /// from the same configuration).
    faults_path: Option<&'a Path>,
    /// The fault plan in force (the configuration's, or `--faults`'s). The router applies its
    /// delays and partitions (it is given the trial's duration to check the windows against),
    /// the machines their clocks and `run` their pauses.
    faults: &'a FaultPlan,
    exe: &'a Path,
    stop: &'a AtomicBool,
    /// Whether to show the live view (`cli::watch`) while the trial runs.
    live: bool,
}

impl Trial<'_> {
    fn run(&self) -> Result<RunRecord, Failure> {
        let (plan, cfg) = (&self.plan, self.config);
        // Room for run.yaml, should the machines' logs fill the disk.
        let mut reserve = SpaceReserve::create(&plan.dir).map_err(|e| e.to_string())?;
        let mut procs = Vec::new();
        let (router, lines) = Proc::spawn_with_lines("router".into(), self.router_command())
            .map_err(|e| format!("cannot start the router: {e}"))?;
        procs.push(router);
        let result = self.drive(&mut procs, &lines);
        let stop_time_ns = WallClock::new().now_ns();
        // Whatever happened, stop in order and wait, so that no log is left half-written.
        stop_in_order(&mut procs, secs(cfg.run.stop_grace) + EXIT_MARGIN);
        // A file that is missing or unreadable is recorded as absent; `check` reports why.
        let mut record = RunRecord {
            start_time_ns: result.as_ref().ok().copied(),
            stop_time_ns,
            interrupted: self.stop.load(Ordering::SeqCst),
            router: read_yaml(&plan.dir.join(ROUTER_STATS_FILE)).ok().flatten(),
            processes: procs.iter().map(Proc::record).collect(),
            ..plan.record(cfg)
        };
        for m in &mut record.machines {
            m.summary = read_yaml(&plan.dir.join(summary_file_name(m.id)))
                .ok()
                .flatten();
        }
        let path = plan.dir.join(RUN_FILE);
        reserve.release();
        write_yaml_atomically(&path, &record)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        // The record is written whatever happened, so a failed trial still says what ran.
        result.map(|_| record)
    }

    /// This executable as a child of the trial: `subcommand` with its `positional` arguments,
    /// the `--config` given to `run`, the `flags` and their values, and `dir_flag` naming the
    /// trial's directory. The one place the children's command lines are made.
    fn child(
        &self,
        subcommand: &str,
        positional: &[&str],
        flags: &[(&str, String)],
        dir_flag: &str,
    ) -> Command {
        let mut cmd = Command::new(self.exe);
        cmd.arg(subcommand).args(positional);
        if let Some(path) = self.config_path {
            cmd.arg("--config").arg(path);
        }
        for (flag, value) in flags {
            cmd.args([flag, value.as_str()]);
        }
        cmd.arg(dir_flag).arg(&self.plan.dir);
        cmd
    }

    fn router_command(&self) -> Command {
        let cfg = self.config;
        let mut cmd = self.child(
            "server",
            &[],
            &[
                ("--host", cfg.router.host.clone()),
                ("--port", cfg.run.port.to_string()),
                ("--machines", cfg.machines.count.to_string()),
                ("--seed", self.plan.seed.to_string()),
                // The windows of the fault plan lie within this trial.
                ("--duration", cfg.run.duration.to_string()),
            ],
            "--run-dir",
        );
        if let Some(path) = self.faults_path {
            cmd.arg("--faults").arg(path);
        }
        cmd.args(["--stop-on-stdin-eof", "--recorded-by-run"]);
        cmd
    }

    /// Starts the machines and runs the trial. Returns the common start time.
    fn drive(&self, procs: &mut Vec<Proc>, lines: &Receiver<String>) -> Result<u64, Failure> {
        let plan = &self.plan;
        let addr = wait_for_line(lines, LISTENING, &mut procs[..], self.stop, STARTUP_TIMEOUT)?;
        for (i, name) in plan.names.iter().enumerate() {
            let (host, port) = name
                .rsplit_once(':')
                .filter(|(_, p)| p.parse::<u16>().is_ok())
                .ok_or_else(|| {
                    format!(
                        "machine name {name:?} is not ADDRESS:PORT, which `run` needs to start it"
                    )
                })?;
            // Ids go by sorted name, as the plan's names are sorted: machine i + 1's clock.
            let skew = self.faults.clock_skew(i as u16 + 1);
            let clock = [
                ("--clock-offset-ms", skew.offset_us as f64 / 1e3),
                ("--clock-drift-ppm", skew.drift_ppb as f64 / 1e3),
            ];
            let clock = clock
                .into_iter()
                .filter(|_| !skew.is_perfect())
                .map(|(flag, value)| (flag, value.to_string()));
            let mut cmd = self.child(
                "client",
                &[host, port],
                &[
                    ("--router", addr.clone()),
                    ("--seed", plan.seed.to_string()),
                    ("--rate", plan.rates[i].to_string()),
                    // The end of the trial, so that a machine stops at it exactly, not at the
                    // moment after it when the router's BYE goes out.
                    ("--duration", self.config.run.duration.to_string()),
                    (
                        "--action-range",
                        self.config.machines.action_range.to_string(),
                    ),
                    // `run` bounds the start itself; a machine waits for WELCOME as long.
                    (
                        "--handshake-timeout",
                        STARTUP_TIMEOUT
                            .as_secs_f64()
                            .max(self.config.machines.handshake_timeout)
                            .to_string(),
                    ),
                ],
                "--log-dir",
            );
            for (flag, value) in clock {
                cmd.args([flag, value.as_str()]);
            }
            let role = format!("machine {} ({name})", i + 1);
            let proc = Proc::spawn_quiet(role, cmd)
                .map_err(|e| format!("cannot start machine {name}: {e}"))?;
            procs.push(proc);
        }
        let said = wait_for_line(lines, STARTED, &mut procs[..], self.stop, STARTUP_TIMEOUT)?;
        let start = started_ns(&said).ok_or_else(|| {
            format!(
                "the router announced a start time without its nanoseconds: {STARTED}{said:?} \
                 (expected \"... (unix_ns N)\")"
            )
        })?;
        let duration = secs(self.config.run.duration);
        let wall = WallClock::new();
        let end_ns = start.saturating_add(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX));
        // Without a terminal to take over, the plain lines.
        let live = self
            .live
            .then(|| LiveView::for_trial(plan, start, self.config.run.duration));
        let live = live.flatten();
        let mut progress = Progress::new(plan.trial, plan.trials, duration, live);
        let mut pauses = PauseSignals::new(&self.faults.pauses(), start);
        loop {
            let now_ns = wall.now_ns();
            for step in pauses.send_due(now_ns, procs) {
                progress.note(&pause_note(step, start, now_ns));
            }
            let now = Instant::now();
            let left = wall.until(now, end_ns);
            if left.is_zero() || self.stop.load(Ordering::SeqCst) {
                break;
            }
            if procs[0].poll().is_some() {
                // The trial ran and its files say how it ended (the router stops once every
                // machine has departed; router.yaml says so, or its absence says the router
                // itself failed): `check` judges it like any other.
                progress.finish();
                eprintln!(
                    "trial {}/{}: the router stopped before the trial's end (see above); \
                     checking what ran",
                    plan.trial, plan.trials
                );
                return Ok(start);
            }
            let elapsed = duration.saturating_sub(left);
            progress.show(elapsed);
            // Short naps, so that Ctrl-C is answered at once whatever the progress display does,
            // and none past a pause's signal.
            let next_pause = pauses.next_at().map_or(left, |at| wall.until(now, at));
            progress.nap(
                left.min(next_pause).min(Duration::from_millis(100)),
                self.stop,
            );
        }
        progress.finish();
        Ok(start)
    }
}

/// What `run` says when it has stopped or continued a machine: which, when the plan asked, and
/// when the signal went (`sent_ns`), in seconds of the trial.
fn pause_note(step: PauseStep, start_ns: u64, sent_ns: u64) -> String {
    let secs = |ns: u64| ns.saturating_sub(start_ns) as f64 / 1e9;
    let (what, signal) = if step.stop {
        ("paused", "SIGSTOP")
    } else {
        ("continued", "SIGCONT")
    };
    // The plan's time as written (1.5, 2.0025), the signal's to a tenth of a millisecond.
    format!(
        "fault plan: machine {} {what} at {} s ({signal} sent at {:.4} s)",
        step.machine,
        secs(step.at_ns),
        secs(sent_ns)
    )
}

/// Progress on stderr: a redrawn bar on a terminal, a line every ten seconds otherwise; or the
/// live view, which takes the whole terminal.
struct Progress {
    trial: u32,
    trials: u32,
    total: Duration,
    terminal: bool,
    last_line: Option<Instant>,
    live: Option<LiveView>,
}

impl Progress {
    fn new(trial: u32, trials: u32, total: Duration, live: Option<LiveView>) -> Progress {
        let progress = Progress {
            trial,
            trials,
            total,
            terminal: std::io::stderr().is_terminal(),
            last_line: None,
            live,
        };
        if !progress.terminal && progress.live.is_none() {
            eprintln!(
                "trial {trial}/{trials}: running for {:.1} s",
                total.as_secs_f64()
            );
        }
        progress
    }

    fn show(&mut self, elapsed: Duration) {
        let total = self.total.as_secs_f64();
        let done = elapsed.as_secs_f64().min(total);
        if let Some(live) = &mut self.live {
            live.show();
        } else if self.terminal {
            const WIDTH: usize = 30;
            let filled = ((done / total) * WIDTH as f64) as usize;
            eprint!(
                "\r\x1b[2Ktrial {}/{} [{}{}] {:>6.1} s / {:.1} s, {:.1} s left",
                self.trial,
                self.trials,
                "#".repeat(filled.min(WIDTH)),
                "-".repeat(WIDTH - filled.min(WIDTH)),
                done,
                total,
                total - done
            );
            let _ = std::io::stderr().flush();
        } else if self
            .last_line
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(10))
        {
            if self.last_line.is_some() {
                eprintln!(
                    "trial {}/{}: {done:.0} s of {total:.0} s",
                    self.trial, self.trials
                );
            }
            self.last_line = Some(Instant::now());
        }
    }

    /// Prints `line` on stdout, clearing the bar first on a terminal (the next `show` redraws
    /// it).
    fn note(&mut self, line: &str) {
        if let Some(live) = &mut self.live {
            return live.note(line);
        }
        if self.terminal {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
        println!("{line}");
    }

    /// Waits `timeout`; the live view meanwhile answers its keys (q or Ctrl-C set `stop`).
    fn nap(&mut self, timeout: Duration, stop: &AtomicBool) {
        match &mut self.live {
            Some(live) => live.nap(timeout, stop),
            None => std::thread::sleep(timeout),
        }
    }

    fn finish(&mut self) {
        if let Some(live) = self.live.take() {
            live.close();
        }
        if self.terminal {
            eprintln!("\r\x1b[2Ktrial {}/{}: stopping", self.trial, self.trials);
        } else {
            eprintln!("trial {}/{}: stopping", self.trial, self.trials);
        }
    }
}
