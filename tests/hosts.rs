//! A run across hosts: the router in one Linux network namespace and the machines in two others,
//! each joined to the router's by a veth pair, so every frame crosses a real (virtual) link and
//! the router sees its machines at other addresses. Making namespaces needs root, so the test is
//! ignored by `cargo test` and run by `.ci/run` (`cargo test --test hosts -- --ignored`), where it
//! fails, saying why, if the machine does not allow it.

mod support;

use nix::sys::signal::Signal;
use support::{Proc, SOON, TestDir, ip};

/// Three namespaces: `router`, and `a` and `b` for the machines, linked to the router's by
/// 10.231.1.0/24 and 10.231.2.0/24. Deleted on drop (which deletes their links too).
struct Hosts {
    router: String,
    a: String,
    b: String,
}

impl Hosts {
    fn make() -> Result<Hosts, String> {
        let tag = std::process::id();
        let hosts = Hosts {
            router: format!("clocklab-{tag}-r"),
            a: format!("clocklab-{tag}-a"),
            b: format!("clocklab-{tag}-b"),
        };
        // Created one at a time, so that drop deletes whichever exist.
        for ns in [&hosts.router, &hosts.a, &hosts.b] {
            ip(&["netns", "add", ns])?;
        }
        for (ns, side, net) in [(&hosts.a, "a", 1), (&hosts.b, "b", 2)] {
            let (here, there) = (format!("cl{tag}r{side}"), format!("cl{tag}{side}r"));
            ip(&[
                "link",
                "add",
                &here,
                "netns",
                &hosts.router,
                "type",
                "veth",
                "peer",
                "name",
                &there,
                "netns",
                ns,
            ])?;
            let router_ip = format!("10.231.{net}.1/24");
            let machine_ip = format!("10.231.{net}.2/24");
            ip(&["-n", &hosts.router, "addr", "add", &router_ip, "dev", &here])?;
            ip(&["-n", ns, "addr", "add", &machine_ip, "dev", &there])?;
            ip(&["-n", &hosts.router, "link", "set", &here, "up"])?;
            ip(&["-n", ns, "link", "set", &there, "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        ip(&["-n", &hosts.router, "link", "set", "lo", "up"])?;
        Ok(hosts)
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for ns in [&self.router, &self.a, &self.b] {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

#[test]
#[ignore = "needs root (network namespaces): .ci/run runs it with \
            `cargo test --test hosts -- --ignored`"]
fn a_run_across_three_network_namespaces_passes_check() {
    let hosts = Hosts::make()
        .unwrap_or_else(|why| panic!("cannot make network namespaces (root is needed): {why}"));
    let test = TestDir::new("hosts");
    let config = test.config(3, "");
    let run_dir = test.join("run");
    let config_arg = config.to_str().unwrap();
    let run_arg = run_dir.to_str().unwrap();
    // 0.0.0.0: the router answers on both of its links.
    let mut router = Proc::start_in_netns(
        "router",
        &hosts.router,
        [
            "server",
            "--config",
            config_arg,
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--run-dir",
            run_arg,
        ],
    );
    let port = router.listening_addr().port();
    let machine = |ns: &str, net: u8, port_of_name: &str| {
        let router_addr = format!("10.231.{net}.1:{port}");
        Proc::start_in_netns(
            &format!("machine 10.231.{net}.2:{port_of_name}"),
            ns,
            [
                "client",
                &format!("10.231.{net}.2"),
                port_of_name,
                "--router",
                &router_addr,
                "--config",
                config_arg,
                "--log-dir",
                run_arg,
                "--rate",
                "20",
            ],
        )
    };
    let mut machines = [
        machine(&hosts.a, 1, "8001"),
        machine(&hosts.a, 1, "8002"),
        machine(&hosts.b, 2, "8001"),
    ];
    // The router sees its machines from the other hosts' addresses.
    let joined = router.wait_for_line("3 of 3 joined", SOON);
    assert!(joined.contains("from 10.231."), "{joined}");
    for id in 1..=3 {
        let log = clocklab::rundir::log::log_path(&run_dir, id);
        support::wait_for_rows(&log, 40, SOON);
    }
    router.signal(Signal::SIGINT);
    assert_eq!(router.wait_code(SOON), 0);
    for m in &mut machines {
        assert_eq!(m.wait_code(SOON), 0, "{}", m.role);
    }
    let (code, report) = support::run_to_end("check", ["check", run_arg], SOON);
    assert_eq!(code, 0, "{report}");
    let router_stats: clocklab::rundir::records::RouterStats =
        support::read_yaml(&run_dir.join("router.yaml"));
    let mut peers: Vec<String> = router_stats
        .connections
        .iter()
        .map(|c| c.peer.rsplit_once(':').unwrap().0.to_string())
        .collect();
    peers.sort();
    assert_eq!(peers, ["10.231.1.2", "10.231.1.2", "10.231.2.2"]);
}
