//! The live view: `watch` on a finished trial draws the final state with `analyze`'s figures
//! (rendered through ratatui's `TestBackend`, one frame into a buffer), and on logs without a
//! record a running trial; under a pseudo-terminal (`script` from util-linux, which every Debian
//! has), `run --live` stops in order on SIGINT and on a typed Ctrl-C, and `watch` follows a run in
//! progress, each leaving the alternate screen and every log intact.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use clocklab::analysis::analyze_run;
use clocklab::analysis::load::load_run;
use clocklab::check::check_trial;
use clocklab::cli::watch::Watcher;
use clocklab::rundir::log::{log_path, read_log};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use support::{
    Proc, SOON, TestDir, only_dir, run_dir_under, succeeds_in, wait_for_rows, wait_until,
};

/// The text of every line of the frame `watcher` shows at `now_ns`, drawn `width` by `height`.
fn draw(watcher: &Watcher, now_ns: u64, width: u16, height: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    let frame = watcher.frame(now_ns, "q: leave");
    terminal
        .draw(|f| f.render_widget(&frame, f.area()))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect())
        .collect()
}

#[test]
fn watch_on_a_finished_simulation_draws_the_figures_of_analyze() {
    let tmp = TestDir::new("watch-final");
    succeeds_in(
        &tmp.path,
        &[
            "simulate",
            "--seed",
            "7",
            "--duration",
            "20",
            "--rates",
            "1,3,6",
            "--out",
            "out",
        ],
    );
    let dir = only_dir(&tmp.join("out"));
    let mut watcher = Watcher::new(&dir, "watch".into(), None, None, &[]);
    watcher.poll();
    assert!(watcher.finished(), "run.yaml says the trial is over");
    let lines = draw(&watcher, 0, 100, 30);
    let text = lines.join("\n");
    println!("{text}");
    assert!(lines[1].contains("finished  20.0 s of 20.0 s"), "{text}");

    let run = analyze_run(&load_run(&dir).expect("load the simulation"));
    let trial = &run.trials[0];
    let leader = trial.machines.iter().map(|m| m.final_clock).max().unwrap();
    assert_eq!(trial.machines.len(), 3);
    for m in &trial.machines {
        let row: Vec<&str> = lines
            .iter()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|w| w.len() == 12 && w[0] == m.id.to_string())
            .unwrap_or_else(|| panic!("machine {}'s row in\n{text}", m.id))
            .clone();
        let queue = m.queue.expect("queue figures");
        let jump = &m.largest_jumps[0];
        let expected = [
            m.id.to_string(),
            format!("{}", m.rate.unwrap()),
            m.events.to_string(),
            m.final_clock.to_string(),
            (m.final_clock as i64 - leader as i64).to_string(),
            queue.last.to_string(),
            queue.max.to_string(),
            jump.size.to_string(),
            format!("{:.2}", jump.time_s),
            m.by_kind[1].to_string(),
            m.by_kind[2].to_string(),
            m.by_kind[0].to_string(),
        ];
        assert_eq!(row, expected, "machine {} in\n{text}", m.id);
        assert_eq!(jump.size as f64, m.jumps.unwrap().max);
    }
    for heading in [
        "clock",
        "drift",
        "q max",
        "sends",
        "broadcasts",
        "receives",
        "m1",
        "m3",
    ] {
        assert!(text.contains(heading), "{heading} in\n{text}");
    }
}

/// The processes under `pid`, itself first, with their command lines.
fn descendants(pid: u32) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let cmdline = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
        found.push((p, String::from_utf8_lossy(&cmdline).replace('\0', " ")));
        let children = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children"));
        todo.extend(
            children
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok()),
        );
    }
    found
}

/// How the test stops `run --live`.
enum Stop {
    /// SIGINT to the `run` process, as `kill -INT` sends it.
    Signal,
    /// Ctrl-C typed at the terminal: in raw mode a key, which the view answers.
    Key,
}

/// `run --live` under a pseudo-terminal (`script` from util-linux), stopped mid-trial by `stop`:
/// it exits with 130 after leaving the alternate screen, and `check` passes on what it wrote.
fn run_live_and_stop(name: &str, stop: Stop) {
    let tmp = TestDir::new(name);
    let config = tmp.config(3, "");
    let out = tmp.join("out");
    // A terminal of 100 by 30, so that every frame is drawn in full.
    let line = format!(
        "stty cols 100 rows 30; exec {} run --live --config {} --out {} --port 0 --seed 5 --rates 20,30,40 --duration 30",
        support::bin(),
        config.display(),
        out.display()
    );
    let mut cmd = Command::new("script");
    // Standard input stays open (script ends the session at its end) for the typed key.
    cmd.args(["-qfec", &line, "/dev/null"])
        .stdin(Stdio::piped());
    let mut script = Proc::spawn_with_stdin("run --live under script", cmd);
    let dir = run_dir_under(&out);
    for id in 1..=3 {
        wait_for_rows(&log_path(&dir, id), 3, SOON);
    }
    let run = wait_until("`run --live` under script", SOON, || {
        let script_pid = script.pid().as_raw() as u32;
        descendants(script_pid)
            .into_iter()
            .find(|(_, cmd)| cmd.starts_with(&format!("{} run --live ", support::bin())))
    });
    match stop {
        Stop::Signal => kill(Pid::from_raw(run.0 as i32), Signal::SIGINT).expect("send SIGINT"),
        Stop::Key => {
            let stdin = script.stdin().expect("script's standard input");
            stdin.write_all(b"\x03").expect("type Ctrl-C");
            stdin.flush().expect("type Ctrl-C");
        }
    }
    let code = script.wait_code(Duration::from_secs(10));
    let printed = script.output();
    assert_eq!(code, 130, "{printed}");
    assert!(
        printed.contains("\x1b[?1049h"),
        "entered the alternate screen: {printed}"
    );
    assert!(
        printed.contains("machine rate   ticks") && printed.contains("stop the run in order"),
        "drew the view: {printed}"
    );
    let left = printed
        .rfind("\x1b[?1049l")
        .expect("left the alternate screen");
    let summary = printed
        .find("interrupted: stopped after trial 1")
        .expect("the end");
    assert!(
        left < summary,
        "the summary follows on the normal screen: {printed}"
    );
    let report = check_trial(&dir);
    assert!(report.passed(), "{report}");
    assert!(dir.join("run.yaml").exists());
}

/// Needs `script` (util-linux) for a pseudo-terminal.
#[test]
fn run_live_under_a_terminal_stops_in_order_on_sigint() {
    run_live_and_stop("watch-live-sigint", Stop::Signal);
}

/// Needs `script` (util-linux) for a pseudo-terminal.
#[test]
fn run_live_under_a_terminal_stops_in_order_on_a_typed_ctrl_c() {
    run_live_and_stop("watch-live-key", Stop::Key);
}

#[test]
fn watch_refuses_a_missing_directory_and_a_standard_output_that_is_no_terminal() {
    let tmp = TestDir::new("watch-refuses");
    let missing = tmp.join("nothing-here");
    let (code, printed) = support::run_to_end("watch", ["watch", missing.to_str().unwrap()], SOON);
    assert_eq!(code, 1, "{printed}");
    assert!(
        printed.contains("nothing-here is not a directory"),
        "{printed}"
    );
    let (code, printed) = support::run_to_end("watch", ["watch", tmp.path.to_str().unwrap()], SOON);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("standard output is not one"), "{printed}");
}

#[test]
fn watch_on_logs_without_a_record_shows_a_running_trial_with_measured_rates() {
    // Machines started by hand write their logs long before the router writes run.yaml.
    let tmp = TestDir::new("watch-by-hand");
    succeeds_in(
        &tmp.path,
        &[
            "simulate",
            "--seed",
            "3",
            "--duration",
            "10",
            "--rates",
            "2,4",
            "--machines",
            "2",
            "--out",
            "out",
        ],
    );
    let finished = only_dir(&tmp.join("out"));
    let dir = tmp.join("by-hand");
    std::fs::create_dir(&dir).unwrap();
    let mut watcher = Watcher::new(&dir, "by hand".into(), None, None, &[]);
    watcher.poll();
    assert!(draw(&watcher, 0, 100, 20)[1].contains("waiting for the first row"));
    for id in 1..=2 {
        std::fs::copy(log_path(&finished, id), log_path(&dir, id)).unwrap();
    }
    watcher.poll();
    assert!(!watcher.finished());
    // Now is machine 2's last row, at 10 s; without a record the start is the earliest row,
    // machine 2's first tick at 0.25 s.
    let last = read_log(&log_path(&dir, 2))
        .unwrap()
        .last()
        .unwrap()
        .system_time_us;
    let lines = draw(&watcher, last * 1000, 100, 20);
    assert!(
        lines[1].contains("running  9.8 s (no set duration)"),
        "{lines:?}"
    );
    let row = |id: &str| {
        lines
            .iter()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|w| w.len() == 12 && w[0] == id)
            .unwrap_or_else(|| panic!("machine {id} in {lines:?}"))
            .clone()
    };
    // 19 and 39 ticks after the first over 9.5 and 9.75 s: the configured rates exactly.
    assert_eq!(row("1")[1..3], ["~2.00", "20"]);
    assert_eq!(row("2")[1..3], ["~4.00", "40"]);
}

/// Whether process `pid` has a handler for SIGINT installed (`SigCgt` in its status).
fn catches_sigint(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (Signal::SIGINT as u32 - 1)) != 0)
}

/// Needs `script` (util-linux) for a pseudo-terminal.
#[test]
fn watch_follows_a_run_in_progress_and_leaves_the_terminal_as_it_was_on_sigint() {
    let tmp = TestDir::new("watch-running");
    let config = tmp.config(3, "");
    let out = tmp.join("out");
    let mut run = support::Cmd::new("run")
        .config(&config)
        .out(&out)
        .port(0)
        .seed(8)
        .rates("20,30,40")
        .duration("30")
        .words(["--no-live"])
        .start("run");
    let dir = run_dir_under(&out);
    for id in 1..=3 {
        wait_for_rows(&log_path(&dir, id), 3, SOON);
    }
    let line = format!(
        "stty cols 100 rows 30; exec {} watch {}",
        support::bin(),
        dir.display()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qfec", &line, "/dev/null"])
        .stdin(Stdio::piped());
    let mut script = Proc::spawn_with_stdin("watch under script", cmd);
    // Once its handler is in place, the view draws a frame before it looks at the flag.
    let watch = wait_until("`watch` to catch SIGINT", SOON, || {
        let script_pid = script.pid().as_raw() as u32;
        descendants(script_pid).into_iter().find(|(pid, cmd)| {
            cmd.starts_with(&format!("{} watch ", support::bin())) && catches_sigint(*pid)
        })
    });
    kill(Pid::from_raw(watch.0 as i32), Signal::SIGINT).expect("send SIGINT");
    let code = script.wait_code(Duration::from_secs(10));
    let printed = script.output();
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("running"), "{printed}");
    assert!(printed.contains("machine rate   ticks"), "{printed}");
    let entered = printed.find("\x1b[?1049h").expect("the alternate screen");
    assert!(printed[entered..].contains("\x1b[?1049l"), "{printed}");
    run.signal(Signal::SIGINT);
    assert_eq!(run.wait_code(Duration::from_secs(10)), 130);
    assert!(check_trial(&dir).passed(), "the run's logs are whole");
}
