//! The networked model started by hand, as the README describes: `clocklab server` and one
//! `clocklab client` per machine, stopped with SIGTERM to the server; and a machine killed mid-run.

mod support;

use std::path::Path;

use clocklab::check::check_trial;
use clocklab::rundir::log::{log_path, read_log};
use clocklab::rundir::records::ClientSummary;
use clocklab::rundir::records::RouterStats;
use nix::sys::signal::Signal;
use support::{Proc, SOON, TestDir, peek_rows, read_yaml, start_client, start_server, wait_until};

const SEED: u64 = 42;

/// Waits until every log in `dir` of machines `1..=n` has at least `rows` rows.
fn wait_for_all_rows(dir: &Path, ids: &[u16], rows: usize) {
    for &id in ids {
        support::wait_for_rows(&log_path(dir, id), rows, SOON);
    }
}

#[test]
fn server_and_clients_by_hand_pass_check_after_sigterm() {
    let tmp = TestDir::new("by-hand");
    let config = tmp.config(3, "");
    let dir = tmp.join("run");
    let (mut server, addr) = start_server(&config, 3, &dir);
    let rates = [40.0, 60.0, 90.0];
    let mut clients: Vec<Proc> = (0..3)
        .map(|i| start_client(&config, 8001 + i as u16, addr, rates[i], SEED, &dir))
        .collect();
    server.wait_for_line(clocklab::cli::common::STARTED, SOON);
    wait_for_all_rows(&dir, &[1, 2, 3], 10);

    server.signal(Signal::SIGTERM);
    assert_eq!(
        server.wait_code(SOON),
        0,
        "the router exits 0 after SIGTERM"
    );
    for client in &mut clients {
        assert_eq!(client.wait_code(SOON), 0, "{} stops in order", client.role);
    }
    let out = server.output();
    assert!(
        out.contains("router stopping: BYE sent to every machine"),
        "{out}"
    );
    assert!(out.contains("router stopped (SIGTERM)"), "{out}");

    let stats: RouterStats = read_yaml(&dir.join("router.yaml"));
    assert_eq!(stats.stopped_by, "SIGTERM");
    assert_eq!(
        stats.names,
        ["127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"]
    );
    assert_eq!(stats.connections.len(), 3);
    for c in &stats.connections {
        assert_eq!(c.reason, "orderly stop", "{c:?}");
    }
    assert!(
        stats.pairs.iter().all(|p| p.undeliverable == 0),
        "{:?}",
        stats.pairs
    );
    for id in 1..=3u16 {
        let s: ClientSummary = read_yaml(&dir.join(format!("summary-{id}.yaml")));
        assert!(s.orderly, "machine {id}: {}", s.ended);
        assert_eq!(s.ended, "the router said BYE");
        assert_eq!(s.rate, rates[usize::from(id) - 1]);
        assert_eq!(s.run_seed, SEED);
    }

    let report = check_trial(&dir);
    assert!(report.passed(), "{report}");
    assert!(report.notes.is_empty(), "{report}");
    let (code, out) = support::run_to_end("check", ["check".as_ref(), dir.as_os_str()], SOON);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("all 1 checked trial(s) passed"), "{out}");
}

#[test]
fn a_killed_client_leaves_the_others_running_and_check_passes() {
    let tmp = TestDir::new("killed-client");
    let config = tmp.config(3, "");
    let dir = tmp.join("run");
    let (mut server, addr) = start_server(&config, 3, &dir);
    let rates = [80.0, 80.0, 80.0];
    let mut clients: Vec<Proc> = (0..3)
        .map(|i| start_client(&config, 8001 + i as u16, addr, rates[i], SEED, &dir))
        .collect();
    server.wait_for_line(clocklab::cli::common::STARTED, SOON);
    wait_for_all_rows(&dir, &[1, 2, 3], 5);

    // Names sort as ports do, so the second client is machine 2.
    const KILLED: u16 = 2;
    let mut victim = clients.remove(1);
    victim.signal(Signal::SIGKILL);
    victim.wait_exit(SOON);
    server.wait_for_line("machine 2 departed", SOON);
    let rows_killed =
        read_log(&log_path(&dir, KILLED)).expect("the killed machine's log reads back");

    // Every row logged from here on is sent after the router closed machine 2's connection.
    let seen: Vec<usize> = [1, 3]
        .iter()
        .map(|&id| peek_rows(&log_path(&dir, id)).len())
        .collect();
    let (survivor, line) = wait_until(
        "a survivor to address machine 2 after the kill",
        SOON,
        || {
            [1u16, 3].iter().zip(&seen).find_map(|(&id, &from)| {
                let rows = peek_rows(&log_path(&dir, id));
                rows.iter()
                    .enumerate()
                    .skip(from)
                    .find(|(_, r)| {
                        (r[1] == "send" && r[5] == KILLED.to_string()) || r[1] == "broadcast"
                    })
                    .map(|(i, _)| (id, i + 2))
            })
        },
    );
    println!("[test] machine {survivor} addressed machine 2 at line {line} of its log");
    let killed_rows_now = peek_rows(&log_path(&dir, KILLED)).len();
    assert_eq!(
        killed_rows_now,
        rows_killed.len(),
        "a killed machine's log does not grow"
    );

    server.signal(Signal::SIGTERM);
    assert_eq!(server.wait_code(SOON), 0);
    for client in &mut clients {
        assert_eq!(client.wait_code(SOON), 0, "{} stops in order", client.role);
    }

    let stats: RouterStats = read_yaml(&dir.join("router.yaml"));
    let undeliverable: u64 = stats
        .pairs
        .iter()
        .filter(|p| p.dest == KILLED)
        .map(|p| p.undeliverable)
        .sum();
    assert!(
        undeliverable >= 1,
        "frames into machine 2 after its death: {:?}",
        stats.pairs
    );
    assert!(
        stats
            .pairs
            .iter()
            .filter(|p| p.dest != KILLED)
            .all(|p| p.undeliverable == 0),
        "{:?}",
        stats.pairs
    );
    let departed: Vec<_> = stats
        .connections
        .iter()
        .filter(|c| c.id == Some(KILLED))
        .collect();
    assert_eq!(departed.len(), 1, "{:?}", stats.connections);
    assert_eq!(departed[0].name.as_deref(), Some("127.0.0.1:8002"));
    assert_ne!(departed[0].reason, "orderly stop");
    assert!(
        departed[0].reason.contains("closed the connection")
            || departed[0].reason.contains("read failed"),
        "{:?}",
        departed[0]
    );
    assert!(
        !dir.join("summary-2.yaml").exists(),
        "a killed machine writes no summary"
    );

    let report = check_trial(&dir);
    assert!(report.passed(), "{report}");
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("machine 2 has no summary-2.yaml")),
        "{report}"
    );
    let (code, out) = support::run_to_end("check", ["check".as_ref(), dir.as_os_str()], SOON);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_client_woken_late_takes_its_due_ticks_before_it_leaves() {
    let tmp = TestDir::new("woken-late");
    let config = tmp.config(2, "");
    let dir = tmp.join("run");
    let (mut server, addr) = start_server(&config, 2, &dir);
    let mut clients = [
        start_client(&config, 8001, addr, 80.0, SEED, &dir),
        start_client(&config, 8002, addr, 80.0, SEED, &dir),
    ];
    server.wait_for_line(clocklab::cli::common::STARTED, SOON);
    wait_for_all_rows(&dir, &[1, 2], 5);

    // The router's BYE reaches machine 2 while it is frozen; it then stays frozen long enough to
    // owe many ticks (any pause over a few tick periods shows the point) before it wakes.
    clients[1].signal(Signal::SIGSTOP);
    server.signal(Signal::SIGTERM);
    server.wait_for_line("router stopping", SOON);
    std::thread::sleep(std::time::Duration::from_millis(300));
    clients[1].signal(Signal::SIGCONT);
    assert_eq!(server.wait_code(SOON), 0);
    for client in &mut clients {
        assert_eq!(client.wait_code(SOON), 0, "{} stops in order", client.role);
    }

    let s: ClientSummary = read_yaml(&dir.join("summary-2.yaml"));
    let due = ((s.stop_time_ns - s.start_time_ns) as f64 * s.rate / 1e9).floor() as u64 + 1;
    assert!(
        s.ticks <= due && s.ticks + clocklab::check::TICK_TOLERANCE >= due,
        "machine 2 took {} ticks, {due} were due by its stop time",
        s.ticks
    );
    let report = check_trial(&dir);
    assert!(report.passed(), "{report}");
}

#[test]
fn clients_without_a_seed_take_the_router_s_so_one_number_replays_a_manual_run() {
    const RUN_SEED: u64 = 4242;
    let tmp = TestDir::new("router-seed");
    let config = tmp.config(3, "");
    let dir = tmp.join("manual");
    let mut server = Proc::start(
        "router",
        [
            "server".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
            "--port".as_ref(),
            "0".as_ref(),
            "--seed".as_ref(),
            RUN_SEED.to_string().as_ref(),
            "--run-dir".as_ref(),
            dir.as_os_str(),
        ],
    );
    let addr = server.listening_addr().to_string();
    let mut clients: Vec<Proc> = (8001..=8003u16)
        .map(|port| {
            let port = port.to_string();
            Proc::start(
                &format!("client {port}"),
                [
                    "client".as_ref(),
                    "127.0.0.1".as_ref(),
                    port.as_ref(),
                    "--config".as_ref(),
                    config.as_os_str(),
                    "--router".as_ref(),
                    addr.as_ref(),
                    "--log-dir".as_ref(),
                    dir.as_os_str(),
                ],
            )
        })
        .collect();
    server.wait_for_line(clocklab::cli::common::STARTED, SOON);
    wait_for_all_rows(&dir, &[1, 2, 3], 1);
    server.signal(Signal::SIGTERM);
    assert_eq!(server.wait_code(SOON), 0);
    for client in &mut clients {
        assert_eq!(client.wait_code(SOON), 0, "{}", client.role);
    }
    let stats: RouterStats = read_yaml(&dir.join("router.yaml"));
    assert_eq!(stats.seed, RUN_SEED);
    // The configuration's random rates and each machine's seed, all from the router's seed.
    let rates = clocklab::config::Config::load(&config)
        .expect("the test configuration")
        .machine_rates(RUN_SEED);
    for id in 1..=3u16 {
        let s: ClientSummary = read_yaml(&dir.join(format!("summary-{id}.yaml")));
        assert_eq!(s.run_seed, RUN_SEED);
        assert_eq!(
            s.seed,
            clocklab::core::seed::derive_seed(RUN_SEED, u64::from(id))
        );
        assert_eq!(s.rate, rates[usize::from(id) - 1]);
    }
}
