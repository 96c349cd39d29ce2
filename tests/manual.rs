//! A run by hand as a person makes it: what the router and the machines print without `RUST_LOG`,
//! the README's commands run twice in a row in one directory, and a client pointed at something
//! that is not a clocklab router.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clocklab::core::event::EventKind;
use clocklab::rundir::log::{log_path, read_log};
use nix::sys::signal::Signal;
use support::manual::readme_manual_commands;
use support::{Proc, SOON, TestDir};

/// A bound for a whole run by hand to start and stop (a failure guard, not a wait).
const RUN: Duration = Duration::from_secs(30);

/// `clocklab client 127.0.0.1 8001 --router ADDR EXTRA...` in `cwd`, run to its end.
fn client_against(cwd: &Path, addr: &str, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["client", "127.0.0.1", "8001", "--router", addr];
    args.extend_from_slice(extra);
    let mut client = Proc::start_plain("client", cwd, args);
    let code = client.wait_code(RUN);
    (code, client.output())
}

#[test]
fn a_client_against_a_silent_listener_gives_up_naming_the_address() {
    let tmp = TestDir::new("manual-silent");
    // Bound and listening, so the connection is made, but it never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (code, out) = client_against(&tmp.path, &addr, &["--handshake-timeout", "0.5"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "gave up on {addr}: no WELCOME within the handshake timeout of 0.5 s"
        )),
        "{out}"
    );
    assert!(out.contains("--handshake-timeout"), "{out}");
    assert!(
        !tmp.join("logs").exists(),
        "a client that was never welcomed made a directory"
    );
    drop(listener);
}

/// A fake HTTP server on 127.0.0.1 port 0 that reads the client's HELLO (a 32-byte header and
/// the 14-byte name), answers `answer`, and then either shuts its side (`close`) or keeps the
/// connection open without a word more, until the client goes. Returns its address.
fn fake_http_server(answer: &'static [u8], close: bool) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(RUN)).unwrap();
        let mut hello = [0u8; 46];
        stream.read_exact(&mut hello).unwrap();
        stream.write_all(answer).unwrap();
        if close {
            stream.shutdown(Shutdown::Write).unwrap();
        }
        // Read to the client's end, so closing leaves nothing unread (no reset).
        let _ = stream.read_to_end(&mut Vec::new());
    });
    (addr, server)
}

#[test]
fn a_client_against_an_http_server_is_told_at_once_it_is_no_clocklab_router() {
    let tmp = TestDir::new("manual-http");
    // A whole answer and the end of the stream; a status line shorter than a frame header on a
    // connection kept open (so neither the end nor a whole header ends the client).
    for (answer, close, shown) in [
        (
            &b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"[..],
            true,
            "\"HTTP/1.1 400 Bad Request\"",
        ),
        (&b"HTTP/1.1 400\r\n"[..], false, "\"HTTP/1.1 400\""),
    ] {
        let (addr, server) = fake_http_server(answer, close);
        // A handshake timeout of 300 s: the client ends within RUN (30 s) only if the answer,
        // not the timeout, ends it.
        let (code, out) = client_against(&tmp.path, &addr, &["--handshake-timeout", "300"]);
        server.join().unwrap();
        assert_ne!(code, 0, "{out}");
        assert!(
            out.contains(&format!(
                "{addr} is not a clocklab router: it sent bytes that are not a clocklab frame: \
                 {shown} (bad magic 0x48 0x54"
            )),
            "{out}"
        );
        assert!(!out.contains("handshake timeout"), "{out}");
    }
}

#[test]
fn a_client_against_a_closed_port_says_it_cannot_reach_the_router() {
    let tmp = TestDir::new("manual-refused");
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let (code, out) = client_against(&tmp.path, &addr, &["--handshake-timeout", "0.3"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!("cannot reach the router at {addr}")),
        "{out}"
    );
}

#[test]
fn a_machine_that_gives_up_leaves_the_router_and_can_join_again() {
    let tmp = TestDir::new("manual-again");
    let mut router = Proc::start_plain("router", &tmp.path, ["server", "--port", "0"]);
    let addr = router.listening_addr().to_string();
    let (code, out) = client_against(&tmp.path, &addr, &["--handshake-timeout", "0.3"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains(&format!("gave up on {addr}")), "{out}");
    router.wait_for_line("1 of 3 joined: 127.0.0.1:8001 from 127.0.0.1:", SOON);
    router.wait_for_line("127.0.0.1:8001 (from 127.0.0.1:", SOON);
    router.wait_for_line("left before the start; 0 of 3 joined", SOON);
    // The name is free again.
    let mut again = Proc::start_plain(
        "client again",
        &tmp.path,
        ["client", "127.0.0.1", "8001", "--router", &addr],
    );
    router.wait_for_nth_line("1 of 3 joined: 127.0.0.1:8001 from 127.0.0.1:", 2, SOON);
    again.wait_for_line("waiting for the other machines", SOON);
    router.signal(Signal::SIGINT);
    assert_eq!(router.wait_code(RUN), 0, "{}", router.output());
    let code = again.wait_code(RUN);
    let out = again.output();
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("the router stopped before the model started"),
        "{out}"
    );
}

#[test]
fn a_handshake_timeout_that_is_not_more_than_zero_is_refused_naming_the_option() {
    let tmp = TestDir::new("manual-bad-timeout");
    for bad in ["0", "-1", "soon"] {
        let (code, out) = client_against(&tmp.path, "127.0.0.1:1", &["--handshake-timeout", bad]);
        assert_eq!(code, 2, "{out}");
        assert!(out.contains("--handshake-timeout"), "{out}");
        assert!(
            out.contains("a handshake timeout is a number of seconds, more than 0"),
            "{out}"
        );
    }
}

/// One run by hand with the README's commands in `cwd`, the router on a free port; returns the
/// run directory the router printed, relative to `cwd`.
fn readme_run(cwd: &Path) -> PathBuf {
    let commands = readme_manual_commands();
    assert_eq!(commands.len(), 4, "{commands:?}");
    assert_eq!(commands[0][0], "server", "{commands:?}");
    let mut server_args = commands[0].clone();
    server_args.extend(["--port".into(), "0".into()]);
    let mut router = Proc::start_plain("router", cwd, &server_args);
    let addr = router.listening_addr().to_string();
    router.wait_for_line("waiting for 3 machines", SOON);

    let mut clients = Vec::new();
    for (i, command) in commands[1..].iter().enumerate() {
        assert_eq!(command[0], "client", "{command:?}");
        let name = format!("{}:{}", command[1], command[2]);
        let mut args = command.clone();
        args.extend(["--router".into(), addr.clone()]);
        let mut client = Proc::start_plain(&format!("client {name}"), cwd, &args);
        client.wait_for_line("waiting for the other machines", SOON);
        router.wait_for_line(
            &format!("{} of 3 joined: {name} from 127.0.0.1:", i + 1),
            SOON,
        );
        clients.push((name, client));
    }
    router.wait_for_line("all 3 joined; machines start at ", SOON);
    for (_, client) in &mut clients {
        client.wait_for_line("run started at ", SOON);
    }
    router.signal(Signal::SIGINT);
    for (name, client) in &mut clients {
        let code = client.wait_code(RUN);
        let out = client.output();
        assert_eq!(code, 0, "{name}: {out}");
    }
    assert_eq!(router.wait_code(RUN), 0, "{}", router.output());
    let out = router.output();
    let dir = out
        .lines()
        .find_map(|l| l.strip_prefix("check the run with: "))
        .and_then(|hint| hint.rsplit_once(" check "))
        .map(|(_, dir)| PathBuf::from(dir.trim()))
        .unwrap_or_else(|| panic!("the router did not say how to check the run:\n{out}"));

    // Machine 2 is 127.0.0.1:8002: ids go by sorted name.
    let (_, client) = &mut clients[1];
    let said = client.stdout_lines().join("\n");
    for needle in [
        "127.0.0.1:8002: connected to the router at ",
        "waiting for the other machines",
        "127.0.0.1:8002: machine 2 of 3, rate ",
        " ticks/s",
        "run started at ",
        "127.0.0.1:8002: machine 2 stopped (the router said BYE)",
        "queue peak ",
        &format!("log and summary in {}", dir.display()),
    ] {
        assert!(said.contains(needle), "no {needle:?} in:\n{said}");
    }
    assert!(
        out.contains(&format!("run directory {}", dir.display())),
        "{out}"
    );

    let mut check = Proc::start_plain("check", cwd, [PathBuf::from("check"), dir.clone()]);
    assert_eq!(check.wait_code(RUN), 0, "{}", check.output());
    // Each machine's line counts its log's rows by kind: `N sends, M broadcasts, ...`, a
    // broadcast apart from the sends (as `run`'s table counts them, tests/analyze.rs).
    for (i, (name, client)) in clients.iter().enumerate() {
        let log = read_log(&log_path(&cwd.join(&dir), i as u16 + 1)).expect("the log reads");
        let rows = |kind: EventKind| log.iter().filter(|r| r.event == kind).count();
        let counts = format!(
            "({} sends, {} broadcasts, {} receives, {} internal)",
            rows(EventKind::Send),
            rows(EventKind::Broadcast),
            rows(EventKind::Receive),
            rows(EventKind::Internal)
        );
        let said = client.stdout_lines().join("\n");
        assert!(said.contains(&counts), "{name}: no {counts:?} in:\n{said}");
    }
    dir
}

#[test]
fn the_readme_manual_commands_run_twice_in_a_row() {
    let tmp = TestDir::new("manual-readme");
    let first = readme_run(&tmp.path);
    let second = readme_run(&tmp.path);
    assert_ne!(first, second, "two runs shared a directory");
    for dir in [&first, &second] {
        assert!(dir.starts_with("logs"), "{}", dir.display());
        assert!(
            tmp.join(dir).join("router.yaml").exists(),
            "{}",
            dir.display()
        );
        assert!(
            tmp.join(dir).join("machine-3.csv").exists(),
            "{}",
            dir.display()
        );
    }
}

#[test]
fn a_run_by_hand_analyzes_complete_with_its_seed() {
    let tmp = TestDir::new("manual-analyze");
    let dir = readme_run(&tmp.path);
    // The router recorded the run (its seed is also in the directory's name).
    assert!(
        tmp.join(&dir).join("run.yaml").exists(),
        "{}",
        dir.display()
    );
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let seed = name
        .rsplit_once("-seed-")
        .map(|(_, s)| s.to_owned())
        .unwrap();
    let out_dir = tmp.join("analysis");
    let mut analyze = Proc::start_plain(
        "analyze",
        &tmp.path,
        [Path::new("analyze"), &dir, Path::new("--out"), &out_dir],
    );
    assert_eq!(analyze.wait_code(RUN), 0, "{}", analyze.output());
    let said = analyze.output();
    assert!(
        said.contains(&format!("trial 1: seed {seed}, ")),
        "no seed {seed} in:\n{said}"
    );
    for absent in [
        "INCOMPLETE",
        "no run.yaml",
        "seed unknown",
        "unknown (no run.yaml)",
    ] {
        assert!(!said.contains(absent), "{absent:?} in:\n{said}");
    }
    // Its parameters are known, as any run's: compared with another, its column is filled in.
    let summary = std::fs::read_to_string(out_dir.join("summary.json")).unwrap();
    assert!(summary.contains("\"master seed\""), "{summary}");
}
