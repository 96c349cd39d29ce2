//! The command line's failures say what went wrong, to what; and each subcommand's help names its
//! options.

mod support;

use std::ffi::OsStr;
use std::net::TcpListener;

use support::{Cmd, SOON, TestDir, run_to_end};

#[test]
fn a_port_in_use_is_refused_with_cannot_listen() {
    let tmp = TestDir::new("port-in-use");
    let config = tmp.config(3, "");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = taken.local_addr().expect("its address").port().to_string();
    let (code, out) = run_to_end(
        "server",
        [
            OsStr::new("server"),
            OsStr::new("--config"),
            config.as_os_str(),
            OsStr::new("--port"),
            OsStr::new(&port),
            OsStr::new("--run-dir"),
            tmp.join("run").as_os_str(),
        ],
        SOON,
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{out}"
    );

    // `run` passes the router's failure on and fails too.
    let (code, out) = Cmd::new("run")
        .config(&config)
        .opt("--port", &port)
        .out(&tmp.join("out"))
        .duration("1")
        .run_to_end("run", SOON);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{out}"
    );
    drop(taken);
}

#[test]
fn a_missing_config_file_is_named() {
    let tmp = TestDir::new("missing-config");
    let missing = tmp.join("no-such-config.yaml");
    for sub in ["server", "run"] {
        let (code, out) = run_to_end(
            sub,
            [OsStr::new(sub), "--config".as_ref(), missing.as_os_str()],
            SOON,
        );
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains(&format!(
                "{}: the configuration file does not exist",
                missing.display()
            )),
            "{sub}: {out}"
        );
    }
    let (code, out) = run_to_end(
        "client",
        [
            OsStr::new("client"),
            "127.0.0.1".as_ref(),
            "8001".as_ref(),
            "--config".as_ref(),
            missing.as_os_str(),
        ],
        SOON,
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&missing.display().to_string()),
        "client: {out}"
    );
}

#[test]
fn an_unknown_config_key_is_named() {
    let tmp = TestDir::new("unknown-key");
    let path = tmp.join("typo.yaml");
    std::fs::write(&path, "router:\n  port: 0\n  stall_timeuot: 0.5\n").expect("write the config");
    let (code, out) = run_to_end(
        "server",
        [OsStr::new("server"), "--config".as_ref(), path.as_os_str()],
        SOON,
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("unknown field `stall_timeuot`"), "{out}");
    assert!(out.contains(&path.display().to_string()), "{out}");
}

#[test]
fn a_log_dir_under_a_regular_file_is_a_clear_error() {
    let tmp = TestDir::new("bad-log-dir");
    let config = tmp.config(3, "");
    let file = tmp.join("a-file");
    std::fs::write(&file, "not a directory").expect("write a file");
    let under = file.join("logs");
    let expected = format!("cannot create the directory {}", under.display());
    let runs = [
        vec![
            OsStr::new("run"),
            "--out".as_ref(),
            under.as_os_str(),
            "--port".as_ref(),
            "0".as_ref(),
        ],
        vec![
            OsStr::new("server"),
            "--run-dir".as_ref(),
            under.as_os_str(),
            "--port".as_ref(),
            "0".as_ref(),
        ],
        vec![
            OsStr::new("client"),
            "127.0.0.1".as_ref(),
            "8001".as_ref(),
            "--log-dir".as_ref(),
            under.as_os_str(),
            "--router".as_ref(),
            "127.0.0.1:9".as_ref(),
            "--seed".as_ref(),
            "1".as_ref(),
        ],
    ];
    for mut args in runs {
        let sub = args[0].to_string_lossy().into_owned();
        args.extend([OsStr::new("--config"), config.as_os_str()]);
        let (code, out) = run_to_end(&sub, args, SOON);
        assert_eq!(code, 1, "{sub}: {out}");
        assert!(out.contains(&expected), "{sub}: {out}");
        assert!(out.contains("Not a directory"), "{sub}: {out}");
    }
}

#[test]
fn each_subcommand_help_names_its_options() {
    let expected: [(&str, &[&str]); 6] = [
        (
            "run",
            &[
                "--config",
                "--duration",
                "--machines",
                "--rates",
                "--seed",
                "--action-range",
                "--trials",
                "--out",
                "--port",
                "--include-incomplete",
            ],
        ),
        (
            "server",
            &["--config", "--host", "--port", "--machines", "--run-dir"],
        ),
        (
            "client",
            &[
                "<ADDRESS>",
                "<PORT>",
                "--config",
                "--router",
                "--rate",
                "--seed",
                "--action-range",
                "--log-dir",
                "--handshake-timeout",
            ],
        ),
        ("check", &["<RUN_DIR>"]),
        (
            "analyze",
            &[
                "--out",
                "--label",
                "--include-incomplete",
                "--events",
                "--jobs",
            ],
        ),
        ("diff", &["<A>", "<B>", "--trial"]),
    ];
    for (sub, options) in expected {
        let (code, out) = run_to_end(sub, [sub, "--help"], SOON);
        assert_eq!(code, 0, "{out}");
        for option in options {
            assert!(
                out.contains(option),
                "`clocklab {sub} --help` lacks {option}:\n{out}"
            );
        }
        assert!(
            !out.contains("--stop-on-stdin-eof"),
            "an internal option shows:\n{out}"
        );
    }
}

#[test]
fn check_of_a_directory_without_a_run_fails_and_says_why() {
    let tmp = TestDir::new("check-empty");
    let (code, out) = run_to_end("check", [OsStr::new("check"), tmp.path.as_os_str()], SOON);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is not a run directory"), "{out}");
}

#[test]
fn check_and_analyze_refuse_an_empty_run_yaml_naming_it() {
    let tmp = TestDir::new("check-empty-run-yaml");
    let config = tmp.config(3, "");
    let out = tmp.join("sim");
    let (code, printed) = Cmd::new("simulate")
        .config(&config)
        .duration("5")
        .out(&out)
        .run_to_end("simulate", SOON);
    assert_eq!(code, 0, "{printed}");
    let dir = support::run_dir_under(&out);
    let run_yaml = dir.join("run.yaml");
    std::fs::write(&run_yaml, "").unwrap();
    let (code, printed) = run_to_end("check", [OsStr::new("check"), dir.as_os_str()], SOON);
    assert_eq!(code, 1, "{printed}");
    let want = format!(
        "VIOLATION {}: empty: not a file of its kind",
        run_yaml.display()
    );
    assert!(printed.contains(&want), "{want:?} not in\n{printed}");
    assert!(
        printed.contains("1 of 1 checked trial(s) failed"),
        "{printed}"
    );
    let (code, printed) = run_to_end(
        "analyze",
        [
            OsStr::new("analyze"),
            dir.as_os_str(),
            OsStr::new("--out"),
            tmp.join("analysis").as_os_str(),
        ],
        SOON,
    );
    assert_eq!(code, 1, "{printed}");
    let want = format!("{}: empty: not a file of its kind", run_yaml.display());
    assert!(printed.contains(&want), "{want:?} not in\n{printed}");
}

#[test]
fn more_than_ten_machines_need_no_action_range() {
    // The configuration says R = 10; `--machines N` raises R to N when it is smaller.
    let tmp = TestDir::new("cli-machines-11");
    let config = tmp.config(3, "");
    let (mut server, _) = support::start_server(&config, 11, &tmp.join("manual"));
    server.wait_for_line("waiting for 11 machines", SOON);
    server.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(server.wait_code(SOON), 0, "{}", server.output());

    let out = tmp.join("sim");
    let simulate = |extra: &[&str]| {
        Cmd::new("simulate")
            .config(&config)
            .opt("--machines", "64")
            .duration("1")
            .out(&out)
            .words(extra)
            .run_to_end("simulate", SOON)
    };
    let (code, printed) = simulate(&[]);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("check: every trial passed"), "{printed}");
    let dir = support::run_dir_under(&out);
    let record: clocklab::rundir::records::RunRecord = support::read_yaml(&dir.join("run.yaml"));
    assert_eq!(record.config.machines.action_range, 64);

    // An explicit action range below N is still refused, naming the field.
    let (code, printed) = simulate(&["--action-range", "20"]);
    assert_ne!(code, 0, "{printed}");
    assert!(printed.contains("machines.action_range"), "{printed}");
}

#[test]
fn out_of_range_numbers_get_the_real_rule_with_option_and_value() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["simulate", "--rates", "1,-2,3"],
            "invalid value '-2' for '--rates <R1,R2,..>': a rate is a positive number of ticks \
             per second, at most 100000",
        ),
        (
            &["run", "--duration", "-5"],
            "invalid value '-5' for '--duration <SECS>': a duration is a number of seconds, more \
             than 0 and at most 604800 (7 days)",
        ),
        (
            &["run", "--seed", "-1"],
            "invalid value '-1' for '--seed <S>': a seed is a whole number from 0 to \
             18446744073709551615",
        ),
        (
            &["run", "--machines", "100000"],
            "invalid value '100000' for '--machines <N>': the number of machines is a whole \
             number from 2 to 1000",
        ),
        (
            &["server", "--machines", "1"],
            "invalid value '1' for '--machines <N>': the number of machines is a whole number \
             from 2 to 1000",
        ),
        (
            &["simulate", "--trials", "0"],
            "invalid value '0' for '--trials <K>': the number of trials is a whole number from 1 \
             to 10000",
        ),
        (
            &["client", "127.0.0.1", "8001", "--rate", "-2"],
            "invalid value '-2' for '--rate <RATE>': a rate is a positive number of ticks per \
             second, at most 100000",
        ),
    ];
    for (args, expected) in cases {
        let (code, out) = run_to_end(args[0], args.iter().copied(), SOON);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(
            out.contains(expected),
            "{args:?}: expected {expected:?} in\n{out}"
        );
    }
}

#[test]
fn analyze_names_its_runs_by_label_or_by_the_ends_of_their_paths() {
    let tmp = TestDir::new("cli-labels");
    let config = tmp.config(3, "");
    let mut dirs = Vec::new();
    for (sub, seed) in [("a", 1), ("b", 2)] {
        let out = tmp.join(sub).join("run");
        let (code, printed) = Cmd::new("simulate")
            .config(&config)
            .duration("2")
            .seed(seed)
            .out(&out)
            .run_to_end("simulate", SOON);
        assert_eq!(code, 0, "{printed}");
        // The same directory name under a and b: only the end of the path tells them apart.
        let dir = support::run_dir_under(&out);
        let same_name = tmp.join(sub).join("same");
        std::fs::rename(&dir, &same_name).expect("rename the run directory");
        dirs.push(same_name);
    }
    let analyze = |extra: &[&str]| {
        let report = tmp.join("report");
        let mut args = vec![
            OsStr::new("analyze"),
            dirs[0].as_os_str(),
            dirs[1].as_os_str(),
        ];
        args.extend([OsStr::new("--out"), report.as_os_str()]);
        args.extend(extra.iter().map(OsStr::new));
        let (code, printed) = run_to_end("analyze", args, SOON);
        let csv = std::fs::read_to_string(report.join("summary.csv")).unwrap_or_default();
        (code, printed, csv)
    };
    let (code, printed, csv) = analyze(&[]);
    assert_eq!(code, 0, "{printed}");
    assert!(
        csv.contains("\na/same,") && csv.contains("\nb/same,"),
        "{csv}"
    );
    let (code, printed, csv) = analyze(&["--label", "baseline,slow"]);
    assert_eq!(code, 0, "{printed}");
    assert!(
        csv.contains("\nbaseline,") && csv.contains("\nslow,"),
        "{csv}"
    );
    let (code, printed, _) = analyze(&["--label", "one"]);
    assert_ne!(code, 0, "{printed}");
    assert!(
        printed.contains("--label: 1 labels for 2 runs; give one label per DIR, in order"),
        "{printed}"
    );
}
