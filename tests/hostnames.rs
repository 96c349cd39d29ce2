//! Host names where an address is asked for: `server --host localhost` binds, `client --router
//! localhost:PORT` finds it, and a name that does not resolve is refused, named. The run by hand
//! also checks that the router says when it started as people read a time.

mod support;

use std::time::Duration;

use nix::sys::signal::Signal;
use support::{Proc, SOON, TestDir, run_to_end};

/// A bound for a whole run by hand to start and stop (a failure guard, not a wait).
const RUN: Duration = Duration::from_secs(30);

#[test]
fn a_run_by_hand_with_localhost_for_the_router_host_and_address() {
    let tmp = TestDir::new("hostnames-localhost");
    let mut router = Proc::start_plain(
        "router",
        &tmp.path,
        [
            "server",
            "--host",
            "localhost",
            "--port",
            "0",
            "--machines",
            "2",
        ],
    );
    let addr = router.listening_addr();
    assert!(addr.ip().is_loopback(), "{addr}");
    let router_arg = format!("localhost:{}", addr.port());
    let mut clients: Vec<Proc> = ["8001", "8002"]
        .iter()
        .map(|port| {
            Proc::start_plain(
                &format!("client {port}"),
                &tmp.path,
                ["client", "127.0.0.1", port, "--router", &router_arg],
            )
        })
        .collect();
    let started = router.wait_for_line(clocklab::cli::common::STARTED, SOON);
    let rest = started
        .split_once(clocklab::cli::common::STARTED)
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    // `2026-12-05 23:25:01.234 UTC (unix_ns 1796512345678901234)`: a date, then the raw value.
    let (human, _) = rest
        .split_once(" UTC (unix_ns ")
        .unwrap_or_else(|| panic!("{started}"));
    let shape: String = human
        .chars()
        .map(|c| if c.is_ascii_digit() { 'd' } else { c })
        .collect();
    assert_eq!(shape, "dddd-dd-dd dd:dd:dd.ddd", "{started}");
    let ns = clocklab::cli::common::started_ns(rest).unwrap_or_else(|| panic!("{started}"));
    assert_eq!(
        clocklab::rundir::dirs::utc_human(ns),
        format!("{human} UTC")
    );
    router.wait_for_line("all 2 joined; machines start at ", SOON);
    for client in &mut clients {
        client.wait_for_line(&format!("connected to the router at {addr}"), SOON);
        client.wait_for_line("run started at ", SOON);
    }
    router.signal(Signal::SIGINT);
    for client in &mut clients {
        let code = client.wait_code(RUN);
        let out = client.output();
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("stopped (the router said BYE)"), "{out}");
    }
    assert_eq!(router.wait_code(RUN), 0, "{}", router.output());
}

#[test]
fn a_host_name_that_does_not_resolve_is_refused_naming_it() {
    let tmp = TestDir::new("hostnames-unknown");
    let name = "no-such-host.invalid";
    let router = format!("{name}:8000");
    let runs: [(&str, Vec<&str>); 2] = [
        ("server", vec!["server", "--host", name, "--port", "0"]),
        (
            "client",
            vec!["client", "127.0.0.1", "8001", "--router", &router],
        ),
    ];
    for (role, args) in runs {
        let mut proc = Proc::start_plain(role, &tmp.path, args);
        let code = proc.wait_code(SOON);
        let out = proc.output();
        assert_ne!(code, 0, "{role}: {out}");
        assert!(
            out.contains(&format!("the host \"{name}\" does not resolve")),
            "{role}: {out}"
        );
        assert!(
            out.contains("give an IP address or a name"),
            "{role}: {out}"
        );
    }
}

#[test]
fn a_router_option_without_a_port_is_refused_saying_what_is_allowed() {
    let (code, out) = run_to_end(
        "client",
        ["client", "127.0.0.1", "8001", "--router", "localhost"],
        SOON,
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("--router \"localhost\" is not HOST:PORT"),
        "{out}"
    );
    assert!(out.contains("e.g. localhost:8000"), "{out}");
}
