//! Many machines per client process (`--machines-per-process K`): each machine keeps its own
//! connection, log and summary, the router sees one connection per machine, a paused machine
//! keeps a process of its own; and a thousand machines in one real run (ignored by `cargo test`;
//! `.ci/run` runs it: `cargo test --test many -- --ignored`).

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use clocklab::check::check_trial;
use clocklab::rundir::SpaceReserve;
use clocklab::rundir::log::{log_path, read_log};
use clocklab::rundir::records::{ClientSummary, RouterStats, RunRecord};
use support::{Cmd, SOON, TestDir, read_yaml, run_dir_under};

/// Every machine from 1 to `n` has a log and a summary of its own, named as `run` names it,
/// whose tick count is its log's; the router closed `n` connections from `n` sockets.
fn assert_one_log_and_summary_each(dir: &Path, n: u16) {
    for id in 1..=n {
        let rows = read_log(&log_path(dir, id)).unwrap_or_else(|e| panic!("{e}"));
        assert!(rows.iter().all(|r| r.machine == id), "machine {id}'s log");
        let s: ClientSummary = read_yaml(&dir.join(format!("summary-{id}.yaml")));
        assert_eq!(s.id, id);
        assert_eq!(s.name, format!("127.0.0.1:{}", 8000 + id));
        assert_eq!(
            s.ticks,
            rows.len() as u64,
            "machine {id}: summary and log agree"
        );
        assert!(s.orderly, "machine {id}: {}", s.ended);
    }
    let router: RouterStats = read_yaml(&dir.join("router.yaml"));
    assert_eq!(router.names.len(), usize::from(n));
    let peers: BTreeSet<&str> = router.connections.iter().map(|c| c.peer.as_str()).collect();
    assert_eq!(
        (router.connections.len(), peers.len()),
        (usize::from(n), usize::from(n)),
        "one connection per machine: {:?}",
        router.connections
    );
}

#[test]
fn forty_machines_four_per_process_pass_check_with_a_log_each_and_the_paused_one_alone() {
    let tmp = TestDir::new("many-forty");
    let config = tmp.config(3, "");
    let plan = tmp.join("plan.yaml");
    std::fs::write(&plan, "- {kind: pause, machine: 5, from: 0.5, to: 1.0}\n").unwrap();
    let out = tmp.join("out");
    let (code, printed) = Cmd::new("run")
        .config(&config)
        .out(&out)
        .port(0)
        .seed(3)
        .duration("2")
        .faults(Some(&plan))
        .opt("--machines", "40")
        .opt("--action-range", "40")
        .opt("--machines-per-process", "4")
        .run_to_end("run", SOON + SOON);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("passed: every rule held"), "{printed}");
    assert!(
        printed.contains("fault plan: machine 5 paused at 0.5 s"),
        "{printed}"
    );
    let dir = run_dir_under(&out);
    let report = check_trial(&dir);
    assert!(report.passed(), "{report}");
    assert_one_log_and_summary_each(&dir, 40);

    let record: RunRecord = read_yaml(&dir.join("run.yaml"));
    let roles: Vec<&str> = record.processes.iter().map(|p| p.role.as_str()).collect();
    // Machines 1-4, then 5 alone (a pause stops a whole process), then fours from 6 on.
    assert_eq!(roles.len(), 1 + 2 + 9, "{roles:?}");
    assert_eq!(
        roles[..4],
        [
            "router",
            "machines 1-4 (127.0.0.1:8001 to 127.0.0.1:8004)",
            "machine 5 (127.0.0.1:8005)",
            "machines 6-9 (127.0.0.1:8006 to 127.0.0.1:8009)",
        ]
    );
    assert_eq!(
        roles[11],
        "machines 38-40 (127.0.0.1:8038 to 127.0.0.1:8040)"
    );
    assert!(
        record.processes.iter().all(|p| p.code == Some(0)),
        "{:?}",
        record.processes
    );
}

#[test]
fn a_grouped_client_refuses_a_rate_list_of_another_length_and_ports_past_65535() {
    let tmp = TestDir::new("many-args");
    let config = tmp.config(3, "");
    let client = |port: &str, extra: &[&str]| {
        Cmd::new("client")
            .config(&config)
            .words(["127.0.0.1", port, "--machines-per-process", "3"])
            .words(extra)
            .run_to_end("client", SOON)
    };
    let (code, printed) = client("8001", &["--rate", "1,2"]);
    assert_ne!(code, 0);
    assert!(
        printed.contains(
            "--rate lists 2 rates for 3 machines; give one rate for all, or one for each \
             machine of --machines-per-process"
        ),
        "{printed}"
    );
    let (code, printed) = client("65534", &[]);
    assert_ne!(code, 0);
    assert!(
        printed.contains(
            "--machines-per-process 3 from port 65534: machine 3 would have port 65536, past \
             65535; start from a lower port"
        ),
        "{printed}"
    );
}

#[test]
#[ignore = "a 1,000-connection run: about 40 s in a debug build, 1,064 open files in the \
            router and 63 client processes; .ci/run runs it with --ignored"]
fn a_thousand_machines_at_1_tick_per_second_for_10_s_pass_check() {
    let tmp = TestDir::new("many-thousand");
    let config = tmp.config(3, "");
    let out = tmp.join("out");
    let rates = vec!["1"; 1000].join(",");
    let (code, printed) = Cmd::new("run")
        .config(&config)
        .out(&out)
        .port(0)
        .seed(1)
        .rates(&rates)
        .opt("--machines", "1000")
        .opt("--action-range", "1000")
        .duration("10")
        .run_to_end("run", Duration::from_secs(90));
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("passed: every rule held"), "{printed}");
    let dir = run_dir_under(&out);
    assert!(check_trial(&dir).passed());
    assert_one_log_and_summary_each(&dir, 1000);
    let record: RunRecord = read_yaml(&dir.join("run.yaml"));
    // The default above 64 machines: 16 a process, 63 client processes.
    assert_eq!(record.processes.len(), 1 + 63);
    for m in &record.machines {
        let s = m.summary.as_ref().expect("a summary");
        // 1 tick/s for 10 s: exactly 10 ticks each.
        assert_eq!(s.ticks, 10, "machine {}", m.id);
    }
}

#[test]
fn machines_of_one_process_each_keep_a_reserve_of_their_own() {
    let tmp = TestDir::new("many-reserve");
    let dir = tmp.join("trial");
    std::fs::create_dir_all(&dir).unwrap();
    let mut one = SpaceReserve::for_machine(&dir, 1).unwrap();
    let two = SpaceReserve::for_machine(&dir, 2).unwrap();
    let names = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    let pid = std::process::id();
    assert_eq!(
        names(),
        [
            format!(".clocklab-reserve-{pid}-1"),
            format!(".clocklab-reserve-{pid}-2")
        ]
    );
    assert!(names().iter().all(|n| SpaceReserve::is_reserve_file(n)));
    one.release();
    assert_eq!(names(), [format!(".clocklab-reserve-{pid}-2")]);
    drop(two);
    assert!(names().is_empty());
    for name in [
        ".clocklab-reserve-1-",
        ".clocklab-reserve--2",
        ".clocklab-reserve-1-2-3",
    ] {
        assert!(!SpaceReserve::is_reserve_file(name), "{name}");
    }
}

#[test]
fn a_hard_limit_on_open_files_below_what_the_machines_need_is_refused_saying_what_to_do() {
    let tmp = TestDir::new("many-nofile");
    let config = tmp.config(3, "");
    let out = tmp.join("out");
    let run_dir = tmp.join("router");
    // `ulimit -n` in sh sets the soft and the hard limit, for this shell and what it runs.
    let with_limit = |words: &str| {
        let script = format!("ulimit -n 200 && exec \"$0\" {words}");
        let done = std::process::Command::new("sh")
            .args(["-c", &script, support::bin()])
            .arg(&config)
            .arg(&out)
            .arg(&run_dir)
            .output()
            .expect("sh runs");
        let said = String::from_utf8_lossy(&done.stderr).into_owned();
        (done.status.code(), said)
    };
    let want = "300 machines need about 364 open files (a socket each in the router, which \
                inherits this process's limit), but the hard limit is 200 (`ulimit -Hn`)";
    let (code, said) = with_limit(
        "run --config \"$1\" --out \"$2\" --machines 300 --action-range 300 --duration 1 --port 0",
    );
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains(want), "{said}");
    assert!(!out.exists(), "nothing is made before the limit is checked");
    let (code, said) =
        with_limit("server --config \"$1\" --machines 300 --port 0 --run-dir \"$3\"");
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains(want), "{said}");
}
