//! `clocklab watch RUN_DIR` and `run --live`: the live view. A [`Watcher`] follows one trial's
//! directory, tailing every `machine-<id>.csv` with a [`LogTail`] (a byte offset per file, only
//! whole new lines parsed) into an `analysis::live` model, and learns the trial's start, duration
//! and rates from its `run.yaml` once there is one (which also says the trial is over).
//! [`Screen`] owns the terminal: ratatui on crossterm, the alternate screen and raw mode, left
//! as they were on every path (a normal return, an error, Ctrl-C, a panic: ratatui's `init`
//! hooks the panic handler, and the screen's `Drop` restores the rest).
//!
//! `report::live` draws what the watcher sees; nothing here writes to the trial's directory.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::analysis::live::LiveTrial;
use crate::cli::args::WatchArgs;
use crate::cli::common::Failure;
use crate::net::process::stop_flag;
use crate::net::wallclock::WallClock;
use crate::report::live::{LiveFrame, Phase};
use crate::rundir::dirs::trial_dirs;
use crate::rundir::log::{LogTail, machine_of_file_name};
use crate::rundir::plan::TrialPlan;
use crate::rundir::records::RunRecord;
use crate::rundir::{DirError, RUN_FILE, read_yaml};

/// How often the view is redrawn (and the logs read): four times a second.
pub const REFRESH: Duration = Duration::from_millis(250);

/// One trial followed as its machines write it.
#[derive(Debug)]
pub struct Watcher {
    dir: PathBuf,
    title: String,
    tails: BTreeMap<u16, LogTail>,
    trial: LiveTrial,
    duration_s: Option<f64>,
    finished: bool,
    notes: Vec<String>,
}

impl Watcher {
    /// A watcher of the trial in `dir`, shown under `title`. `start_ns`, `duration_s` and
    /// `rates` are what the caller knows before the trial's record exists (`run` knows all
    /// three; `watch` learns them from `run.yaml`).
    pub fn new(
        dir: &Path,
        title: String,
        start_ns: Option<u64>,
        duration_s: Option<f64>,
        rates: &[f64],
    ) -> Watcher {
        let mut trial = LiveTrial::new(start_ns.map(|ns| ns / 1000));
        for (i, &rate) in rates.iter().enumerate() {
            trial.set_rate(i as u16 + 1, rate);
        }
        Watcher {
            dir: dir.to_path_buf(),
            title,
            tails: BTreeMap::new(),
            trial,
            duration_s,
            finished: false,
            notes: Vec::new(),
        }
    }

    /// The trial's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether any machine's log has appeared.
    pub fn has_logs(&self) -> bool {
        !self.tails.is_empty()
    }

    /// Whether the trial is over: its `run.yaml` is written.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// Adds a line to show below the plot.
    pub fn note(&mut self, line: String) {
        self.notes.push(line);
    }

    /// The lines noted so far.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Reads what the logs gained since the last call, and the trial's record once it appears.
    /// The record is read before the logs, so the rows read after it are the last.
    pub fn poll(&mut self) {
        if self.finished {
            return;
        }
        let record = self.dir.join(RUN_FILE);
        if record.exists() {
            match read_yaml::<RunRecord>(&record) {
                Ok(Some(r)) => self.take_record(&r),
                Ok(None) => {}
                Err(e) => {
                    self.finished = true;
                    self.notes.push(e.to_string());
                }
            }
        }
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.filter_map(Result::ok) {
                let name = entry.file_name();
                if let Some(id) = name.to_str().and_then(machine_of_file_name) {
                    self.tails
                        .entry(id)
                        .or_insert_with(|| LogTail::new(&entry.path()));
                }
            }
        }
        for tail in self.tails.values_mut() {
            match tail.poll_rows() {
                Ok(rows) => rows.iter().for_each(|r| self.trial.handle_record(r)),
                Err(e) => self.notes.push(e.to_string()),
            }
        }
    }

    fn take_record(&mut self, r: &RunRecord) {
        self.finished = true;
        self.duration_s = Some(r.duration);
        if let Some(ns) = r.start_time_ns {
            self.trial.set_start_us(ns / 1000);
        }
        for m in &r.machines {
            self.trial.set_rate(m.id, m.rate);
        }
    }

    /// The frame to draw at `now_ns` (the wall clock; a finished trial is shown as it ended).
    pub fn frame(&self, now_ns: u64, keys: &str) -> LiveFrame {
        let rows = self.trial.rows();
        let phase = match (self.finished, rows.is_empty()) {
            (true, _) => Phase::Finished,
            (false, true) => Phase::Waiting,
            (false, false) => Phase::Running,
        };
        let now_us = match phase {
            Phase::Finished => self.trial.latest_us(),
            _ => Some(now_ns / 1000),
        };
        let elapsed_s = self
            .trial
            .start_us()
            .zip(now_us)
            .map(|(start, now)| (i128::from(now) - i128::from(start)) as f64 / 1e6);
        LiveFrame {
            title: self.title.clone(),
            phase,
            elapsed_s,
            duration_s: self.duration_s,
            rows,
            series: self.trial.clock_series(),
            notes: self.notes.clone(),
            keys: keys.to_string(),
        }
    }
}

/// Whether `key` asks to leave the view: q, Esc, or Ctrl-C (in raw mode a key, not a signal).
pub fn is_quit(key: &KeyEvent) -> bool {
    key.kind == KeyEventKind::Press
        && match key.code {
            KeyCode::Char('q') | KeyCode::Esc => true,
            KeyCode::Char('c') => key.modifiers.contains(KeyModifiers::CONTROL),
            _ => false,
        }
}

/// The terminal, in the alternate screen and raw mode while it lives; dropping it leaves the
/// screen as it was.
pub struct Screen {
    terminal: DefaultTerminal,
}

impl Screen {
    /// Takes over the terminal (and hooks the panic handler so that a panic restores it too).
    /// An error when there is no terminal to take; the screen is then restored at once.
    pub fn enter() -> io::Result<Screen> {
        match ratatui::try_init() {
            Ok(terminal) => Ok(Screen { terminal }),
            Err(e) => {
                ratatui::restore();
                Err(e)
            }
        }
    }

    /// Draws `frame`.
    pub fn draw(&mut self, frame: &LiveFrame) -> io::Result<()> {
        self.terminal
            .draw(|f| f.render_widget(frame, f.area()))
            .map(|_| ())
    }

    /// Waits up to `timeout` for a key; true when it asks to leave.
    pub fn wait_for_quit(&mut self, timeout: Duration) -> io::Result<bool> {
        if !event::poll(timeout)? {
            return Ok(false);
        }
        Ok(matches!(event::read()?, Event::Key(key) if is_quit(&key)))
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// The trial to watch in `run_dir`: `--trial K`, or the newest. A directory with no log yet is
/// watched as it is (machines started by hand write into it soon).
fn trial_dir(run_dir: &Path, trial: Option<u32>) -> Result<(PathBuf, String), Failure> {
    let dirs = match trial_dirs(run_dir) {
        Ok(dirs) => dirs,
        Err(DirError::NotARun { runs, .. }) if runs.is_empty() && trial.is_none() => {
            vec![run_dir.to_path_buf()]
        }
        Err(e) => return Err(e.into()),
    };
    let k = trial.unwrap_or(dirs.len() as u32);
    let dir = dirs.get(k as usize - 1).ok_or_else(|| {
        format!(
            "--trial {k}: {} has {} trial(s); give a number from 1 to {}",
            run_dir.display(),
            dirs.len(),
            dirs.len()
        )
    })?;
    let title = match dirs.len() {
        1 => format!("clocklab watch {}", dir.display()),
        n => format!("clocklab watch {}  trial {k} of {n}", run_dir.display()),
    };
    Ok((dir.clone(), title))
}

/// `clocklab watch RUN_DIR [--trial K]`.
pub fn command(args: &WatchArgs) -> Result<ExitCode, Failure> {
    if !args.run_dir.is_dir() {
        return Err(format!(
            "{} is not a directory: give a run directory written by run, simulate or a router \
             started by hand",
            args.run_dir.display()
        ));
    }
    if !io::stdout().is_terminal() {
        return Err(format!(
            "watch draws on a terminal, and standard output is not one: run it in a terminal \
             (for figures in files, `clocklab analyze {}`)",
            args.run_dir.display()
        ));
    }
    let stop = stop_flag()?;
    let (dir, title) = trial_dir(&args.run_dir, args.trial)?;
    let mut watcher = Watcher::new(&dir, title, None, None, &[]);
    let wall = WallClock::new();
    let mut screen = Screen::enter()
        .map_err(|e| format!("cannot take over the terminal for the live view: {e}"))?;
    let keys = "q, Esc or Ctrl-C: leave";
    loop {
        watcher.poll();
        if args.trial.is_none() && (watcher.finished() || !watcher.has_logs()) {
            // A run of several trials goes on with the next (and one just begun may have made
            // its first trial's directory since): follow it.
            let (next, title) = trial_dir(&args.run_dir, None)?;
            if next != watcher.dir() {
                watcher = Watcher::new(&next, title, None, None, &[]);
                continue;
            }
        }
        let frame = watcher.frame(wall.now_ns(), keys);
        screen
            .draw(&frame)
            .map_err(|e| format!("cannot draw on the terminal: {e}"))?;
        let quit = screen
            .wait_for_quit(REFRESH)
            .map_err(|e| format!("cannot read the keyboard: {e}"))?;
        if quit || stop.load(Ordering::SeqCst) {
            break;
        }
    }
    drop(screen);
    for note in watcher.notes() {
        eprintln!("{note}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The live view of `run --live`: a [`Watcher`] of the trial `run` is driving, on a [`Screen`].
pub struct LiveView {
    watcher: Watcher,
    screen: Screen,
    wall: WallClock,
}

impl LiveView {
    /// Shows the trial of `plan` that started at `start_ns` and runs `duration_s`; none when
    /// the terminal cannot be taken over (`run` then prints its plain lines).
    pub fn for_trial(plan: &TrialPlan, start_ns: u64, duration_s: f64) -> Option<LiveView> {
        let (dir, k, n) = (&plan.dir, plan.trial, plan.trials);
        let title = format!("clocklab run {}  trial {k}/{n}", dir.display());
        Some(LiveView {
            watcher: Watcher::new(dir, title, Some(start_ns), Some(duration_s), &plan.rates),
            screen: Screen::enter().ok()?,
            wall: WallClock::new(),
        })
    }

    /// Reads the logs and redraws.
    pub fn show(&mut self) {
        self.watcher.poll();
        let frame = self
            .watcher
            .frame(self.wall.now_ns(), "q or Ctrl-C: stop the run in order");
        // A frame that cannot be drawn is skipped: the run goes on.
        let _ = self.screen.draw(&frame);
    }

    /// Shows `line` below the plot (and prints it once the view is closed).
    pub fn note(&mut self, line: &str) {
        self.watcher.note(line.to_string());
    }

    /// Waits up to `timeout` for a key, setting `stop` when it asks to stop the run.
    pub fn nap(&mut self, timeout: Duration, stop: &AtomicBool) {
        if self.screen.wait_for_quit(timeout).unwrap_or(false) {
            stop.store(true, Ordering::SeqCst);
        }
    }

    /// Leaves the screen as it was, then prints the lines noted while the view was up.
    pub fn close(self) {
        let LiveView {
            watcher, screen, ..
        } = self;
        drop(screen);
        for note in watcher.notes() {
            println!("{note}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_esc_and_ctrl_c_leave_and_nothing_else_does() {
        let key = |code, modifiers| KeyEvent::new(code, modifiers);
        let none = KeyModifiers::NONE;
        assert!(is_quit(&key(KeyCode::Char('q'), none)));
        assert!(is_quit(&key(KeyCode::Esc, none)));
        assert!(is_quit(&key(KeyCode::Char('c'), KeyModifiers::CONTROL)));
        assert!(!is_quit(&key(KeyCode::Char('c'), none)));
        assert!(!is_quit(&key(KeyCode::Char('x'), none)));
        let mut release = key(KeyCode::Char('q'), none);
        release.kind = KeyEventKind::Release;
        assert!(!is_quit(&release));
    }

    #[test]
    fn the_newest_trial_unless_one_is_asked_for() {
        let dir =
            std::env::temp_dir().join(format!("clocklab-watch-trials-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for k in 1..=3 {
            std::fs::create_dir_all(dir.join(format!("trial-{k}"))).unwrap();
        }
        let (newest, title) = trial_dir(&dir, None).unwrap();
        assert_eq!(
            (newest, title.ends_with("trial 3 of 3")),
            (dir.join("trial-3"), true)
        );
        assert_eq!(trial_dir(&dir, Some(2)).unwrap().0, dir.join("trial-2"));
        let err = trial_dir(&dir, Some(4)).unwrap_err();
        assert!(
            err.contains("has 3 trial(s); give a number from 1 to 3"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
