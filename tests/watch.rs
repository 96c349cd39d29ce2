//! The live view: `watch` on a finished trial draws the final state with `analyze`'s figures
//! (rendered through ratatui's `TestBackend`, one frame into a buffer), and `run --live` under a
//! pseudo-terminal stops in order on SIGINT, leaves the alternate screen and keeps every log
//! intact.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use clocklab::analysis::analyze_run;
use clocklab::analysis::load::load_run;
use clocklab::check::check_trial;
use clocklab::cli::watch::Watcher;
use clocklab::rundir::log::log_path;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use support::{
    Proc, SOON, TestDir, only_dir, run_dir_under, succeeds_in, wait_for_rows, wait_until,
};

/// The text of every line of a frame of `frame` drawn `width` by `height`.
fn draw(watcher: &Watcher, width: u16, height: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    let frame = watcher.frame(0, "q: leave");
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
    let lines = draw(&watcher, 100, 30);
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
        "clock", "drift", "q max", "sends", "bcasts", "recvs", "m1", "m3",
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
    let line = format!(
        "{} run --live --config {} --out {} --port 0 --seed 5 --rates 20,30,40 --duration 30",
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
