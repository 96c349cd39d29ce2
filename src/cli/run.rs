//! `clocklab run`: starts the router and N machine clients as child processes of this executable,
//! lets them run for the set time, stops them in order, records the trial in `run.yaml` and checks
//! it. Repeats for every trial.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::check;
use crate::cli::args::RunArgs;
use crate::cli::common::{Failure, LISTENING, STARTED, configure, secs};
use crate::config::Config;
use crate::core::seed::{self, Stream};
use crate::net::router::RouterStats;
use crate::net::wallclock::WallClock;
use crate::net::wallclock::fresh_seed;
use crate::rundir::dirs::trial_dir_and_seed;
use crate::rundir::prepare_dir;
use crate::rundir::records::{MachineRecord, ProcessRecord, RunRecord};
use crate::rundir::{
    ROUTER_STATS_FILE, RUN_FILE, read_yaml, summary_file_name, write_yaml_atomically,
};

/// Where `experiment` finds them.
pub use crate::rundir::dirs::{create_run_dir, utc_stamp};

/// How long to wait for the router to listen, and for every machine to register.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);
/// Added to the stop grace when waiting for the processes to exit.
const EXIT_MARGIN: Duration = Duration::from_secs(2);

/// `clocklab run`.
pub fn command(args: RunArgs) -> Result<ExitCode, Failure> {
    let mut config = configure(&args.model)?;
    if let Some(port) = args.port {
        config.router.port = port;
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
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| format!("cannot handle signals: {e}"))?;
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let mut all_passed = true;
    for k in 1..=trials {
        let (dir, seed) = trial_dir_and_seed(&run_dir, master, k, trials);
        prepare_dir(&dir)?;
        let trial = Trial {
            index: k,
            count: trials,
            dir,
            seed,
            master,
            config: &config,
            config_path: args.model.common.config.as_deref(),
            exe: &exe,
            stop: &stop,
        };
        let record = match trial.run() {
            Ok(record) => record,
            Err(e) if stop.load(Ordering::SeqCst) => {
                println!("interrupted: {e}");
                return Ok(ExitCode::from(130));
            }
            Err(e) => return Err(format!("trial {k}: {e}")),
        };
        print_summary(&record);
        let report = check::check_trial(&trial.dir);
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
    println!("run directory: {}", run_dir.display());
    Ok(match (stop.load(Ordering::SeqCst), all_passed) {
        (true, _) => ExitCode::from(130),
        (false, true) => ExitCode::SUCCESS,
        (false, false) => ExitCode::FAILURE,
    })
}

struct Trial<'a> {
    index: u32,
    count: u32,
    dir: PathBuf,
    seed: u64,
    master: u64,
    config: &'a Config,
    /// The `--config` given to `run`, passed on to the children (who otherwise find the same
    /// default).
    config_path: Option<&'a Path>,
    exe: &'a Path,
    stop: &'a AtomicBool,
}

/// A child process and its role.
struct Proc {
    role: String,
    child: Child,
    status: Option<ExitStatus>,
    killed: bool,
}

impl Proc {
    fn poll(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    fn record(&self) -> ProcessRecord {
        let (exit, code) = match self.status {
            Some(s) if self.killed => (format!("killed after the grace period ({s})"), s.code()),
            Some(s) => (s.to_string(), s.code()),
            None => ("still running when the record was written".into(), None),
        };
        ProcessRecord {
            role: self.role.clone(),
            pid: self.child.id(),
            exit,
            code,
        }
    }
}

impl Trial<'_> {
    fn run(&self) -> Result<RunRecord, Failure> {
        let cfg = self.config;
        let mut names = cfg.machine_names();
        // Ids go by sorted name; rates and seeds are by id.
        names.sort();
        let rates = cfg.machine_rates(self.seed);
        let mut procs = Vec::new();
        let (router, lines) = self.spawn_router()?;
        procs.push(router);
        let result = self.drive(&mut procs, &lines, &names, &rates);
        let stop_time_ns = WallClock::new().now_ns();
        // Whatever happened, stop in order and wait, so that no log is left half-written.
        self.stop_all(&mut procs);
        // A file that is missing or unreadable is recorded as absent; `check` reports why.
        let router_stats = read_yaml::<RouterStats>(&self.dir.join(ROUTER_STATS_FILE))
            .ok()
            .flatten();
        let machines = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let id = i as u16 + 1;
                MachineRecord {
                    id,
                    name: name.clone(),
                    rate: rates[i],
                    seed: seed::derive(self.seed, Stream::Machine(id)),
                    summary: read_yaml(&self.dir.join(summary_file_name(id)))
                        .ok()
                        .flatten(),
                }
            })
            .collect();
        let record = RunRecord {
            clocklab_version: env!("CARGO_PKG_VERSION").into(),
            simulated: false,
            logs: true,
            latency: None,
            trial: self.index,
            trials: self.count,
            master_seed: self.master,
            seed: self.seed,
            config: cfg.clone(),
            duration: cfg.run.duration,
            start_time_ns: result.as_ref().ok().copied(),
            stop_time_ns,
            interrupted: self.stop.load(Ordering::SeqCst),
            machines,
            router: router_stats,
            processes: procs.iter().map(Proc::record).collect(),
        };
        let path = self.dir.join(RUN_FILE);
        write_yaml_atomically(&path, &record)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        // The record is written whatever happened, so a failed trial still says what ran.
        result.map(|_| record)
    }

    fn spawn_router(&self) -> Result<(Proc, Receiver<String>), Failure> {
        let cfg = self.config;
        let mut child = Command::new(self.exe)
            .arg("server")
            .args(
                self.config_path
                    .map(|p| [OsStr::new("--config"), p.as_os_str()])
                    .into_iter()
                    .flatten(),
            )
            .args(["--host", &cfg.router.host])
            .args(["--port", &cfg.router.port.to_string()])
            .args(["--machines", &cfg.machines.count.to_string()])
            .args(["--seed", &self.seed.to_string()])
            .arg("--run-dir")
            .arg(&self.dir)
            .arg("--stop-on-stdin-eof")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start the router: {e}"))?;
        let stdout = child.stdout.take().ok_or("the router has no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                log::debug!("router: {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let proc = Proc {
            role: "router".into(),
            child,
            status: None,
            killed: false,
        };
        Ok((proc, rx))
    }

    /// Starts the machines and runs the trial. Returns the common start time.
    fn drive(
        &self,
        procs: &mut Vec<Proc>,
        lines: &Receiver<String>,
        names: &[String],
        rates: &[f64],
    ) -> Result<u64, Failure> {
        let addr = wait_for_line(lines, LISTENING, &mut procs[..], self.stop)?;
        for (i, name) in names.iter().enumerate() {
            let (host, port) = name
                .rsplit_once(':')
                .filter(|(_, p)| p.parse::<u16>().is_ok())
                .ok_or_else(|| {
                    format!(
                        "machine name {name:?} is not ADDRESS:PORT, which `run` needs to start it"
                    )
                })?;
            let child = Command::new(self.exe)
                .arg("client")
                .arg(host)
                .arg(port)
                .args(
                    self.config_path
                        .map(|p| [OsStr::new("--config"), p.as_os_str()])
                        .into_iter()
                        .flatten(),
                )
                .args(["--router", &addr])
                .args(["--seed", &self.seed.to_string()])
                .args(["--rate", &rates[i].to_string()])
                .args([
                    "--action-range",
                    &self.config.machines.action_range.to_string(),
                ])
                .arg("--log-dir")
                .arg(&self.dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .process_group(0)
                .spawn()
                .map_err(|e| format!("cannot start machine {name}: {e}"))?;
            procs.push(Proc {
                role: format!("machine {} ({name})", i + 1),
                child,
                status: None,
                killed: false,
            });
        }
        let start: u64 = wait_for_line(lines, STARTED, &mut procs[..], self.stop)?
            .parse()
            .map_err(|_| "the router announced a start time that is not a number".to_string())?;
        let duration = secs(self.config.run.duration);
        let wall = WallClock::new();
        let end_ns = start.saturating_add(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX));
        let mut progress = Progress::new(self.index, self.count, duration);
        loop {
            let now = Instant::now();
            let left = wall.until(now, end_ns);
            if left.is_zero() || self.stop.load(Ordering::SeqCst) {
                break;
            }
            if procs[0].poll().is_some() {
                progress.finish();
                return Err("the router exited during the trial (see its message above)".into());
            }
            let elapsed = duration.saturating_sub(left);
            progress.show(elapsed);
            // Short naps, so that Ctrl-C is answered at once whatever the progress display does.
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
        progress.finish();
        Ok(start)
    }

    /// SIGTERM to the router (it says BYE to every machine), then waits for every process,
    /// killing those that outlast the grace period.
    fn stop_all(&self, procs: &mut [Proc]) {
        if let Some(router) = procs.first_mut() {
            if router.poll().is_none() {
                // The pid came from a child we spawned and have not reaped, so it is ours.
                let _ = kill(Pid::from_raw(router.child.id() as i32), Signal::SIGTERM);
            }
        }
        let deadline = Instant::now() + secs(self.config.run.stop_grace) + EXIT_MARGIN;
        while Instant::now() < deadline && procs.iter_mut().any(|p| p.poll().is_none()) {
            std::thread::sleep(Duration::from_millis(20));
        }
        for p in procs.iter_mut().filter(|p| p.status.is_none()) {
            eprintln!(
                "{} did not exit within the grace period: killing it",
                p.role
            );
            let _ = p.child.kill();
            p.killed = true;
            p.status = p.child.wait().ok();
        }
    }
}

/// Waits for the router's line starting with `prefix` and returns the rest of it.
fn wait_for_line(
    lines: &Receiver<String>,
    prefix: &str,
    procs: &mut [Proc],
    stop: &AtomicBool,
) -> Result<String, Failure> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        match lines.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => {
                if let Some(rest) = line.strip_prefix(prefix) {
                    return Ok(rest.trim().to_string());
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(
                    "the router exited before the model started (see its message above)".into(),
                );
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        for p in procs.iter_mut() {
            if let Some(status) = p.poll() {
                return Err(format!(
                    "{} exited before the model started ({status}; see its message above)",
                    p.role
                ));
            }
        }
        if stop.load(Ordering::SeqCst) {
            return Err("interrupted before the model started".into());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the model did not start within {} s (waiting for the router to say {:?})",
                STARTUP_TIMEOUT.as_secs(),
                prefix.trim()
            ));
        }
    }
}

/// The per-machine table printed after each trial.
pub fn print_summary(record: &RunRecord) {
    println!(
        "trial {}/{} (seed {}):",
        record.trial, record.trials, record.seed
    );
    println!(
        "  {:>7} {:<18} {:>6} {:>7} {:>6} {:>8} {:>11} {:>8} {:>9}",
        "machine",
        "name",
        "rate",
        "events",
        "sends",
        "receives",
        "final clock",
        "max jump",
        "max queue"
    );
    for m in &record.machines {
        match &m.summary {
            Some(s) => {
                let count = |k: &str| s.events.get(k).copied().unwrap_or(0);
                println!(
                    "  {:>7} {:<18} {:>6} {:>7} {:>6} {:>8} {:>11} {:>8} {:>9}",
                    m.id,
                    m.name,
                    m.rate,
                    s.ticks,
                    count("send") + count("broadcast"),
                    count("receive"),
                    s.final_clock,
                    s.max_jump,
                    s.max_queue
                );
            }
            None => println!(
                "  {:>7} {:<18} {:>6}  no summary: the machine did not stop in order",
                m.id, m.name, m.rate
            ),
        }
    }
}

/// Progress on stderr: a redrawn bar on a terminal, a line every ten seconds otherwise.
struct Progress {
    trial: u32,
    trials: u32,
    total: Duration,
    terminal: bool,
    last_line: Option<Instant>,
}

impl Progress {
    fn new(trial: u32, trials: u32, total: Duration) -> Progress {
        let progress = Progress {
            trial,
            trials,
            total,
            terminal: std::io::stderr().is_terminal(),
            last_line: None,
        };
        if !progress.terminal {
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
        if self.terminal {
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

    fn finish(&mut self) {
        if self.terminal {
            eprintln!("\r\x1b[2Ktrial {}/{}: stopping", self.trial, self.trials);
        } else {
            eprintln!("trial {}/{}: stopping", self.trial, self.trials);
        }
    }
}
