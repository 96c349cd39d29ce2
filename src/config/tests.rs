use super::*;
use crate::core::seed::derive_seed;

/// The error message `yaml` gets, with origin `t.yaml`.
fn error(yaml: &str) -> String {
    match Config::from_yaml(yaml, "t.yaml") {
        Ok(config) => panic!("accepted {yaml:?} as {config:?}"),
        Err(e) => e.to_string(),
    }
}

/// The configuration `yaml` parses to, panicking with the error message if it is rejected.
fn parse(yaml: &str) -> Config {
    Config::from_yaml(yaml, "t.yaml").unwrap_or_else(|e| panic!("rejected {yaml:?}: {e}"))
}

fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/config.yaml")
}

#[test]
fn committed_file_equals_default() {
    let loaded = Config::load(&committed_path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded, Config::default());
}

#[test]
fn default_has_the_documented_values() {
    let d = Config::default();
    assert_eq!(d.router.host, "127.0.0.1");
    assert_eq!(d.router.port, 8000);
    assert_eq!(d.router.max_payload, 65_536);
    assert_eq!(d.router.stall_timeout, 5.0);
    assert_eq!(d.router.start_delay, 0.5);
    assert_eq!(d.machines.count, 3);
    assert_eq!(d.machines.names, None);
    assert_eq!(d.machines.rates, Rates::Random);
    assert_eq!(d.machines.random_rates, RateRange { min: 1, max: 6 });
    assert_eq!(d.machines.action_range, 10);
    assert_eq!(d.machines.handshake_timeout, 10.0);
    assert_eq!(d.run.duration, 60.0);
    assert_eq!(d.run.trials, 1);
    assert_eq!(d.run.seed, None);
    assert_eq!(d.run.log_dir, PathBuf::from("logs"));
    assert_eq!(d.run.stop_grace, 5.0);
    assert!(d.validate("default").is_ok());
}

#[test]
fn no_document_and_empty_sections_give_defaults() {
    for yaml in [
        "",
        "# nothing but a comment\n",
        "router:\nmachines:\nrun:\n",
    ] {
        assert_eq!(parse(yaml), Config::default(), "{yaml:?}");
    }
    assert_eq!(parse("machines:\n  random_rates:\n"), Config::default());
}

#[test]
fn partial_file_fills_the_rest_with_defaults() {
    let config = parse("machines: {count: 5}\n");
    let mut expected = Config::default();
    expected.machines.count = 5;
    assert_eq!(config, expected);
    assert_eq!(
        config.machine_names(),
        [
            "127.0.0.1:8001",
            "127.0.0.1:8002",
            "127.0.0.1:8003",
            "127.0.0.1:8004",
            "127.0.0.1:8005"
        ]
    );
}

#[test]
fn names_generated_from_host_or_given() {
    let config = parse("router: {host: lab.example}\nmachines: {count: 2}\n");
    assert_eq!(
        config.machine_names(),
        ["lab.example:8001", "lab.example:8002"]
    );
    let config = parse("machines: {count: 2, names: [alice, bob]}\n");
    assert_eq!(config.machine_names(), ["alice", "bob"]);
}

#[test]
fn serialized_config_reads_back_equal() {
    let text = serde_yaml::to_string(&Config::default()).unwrap();
    assert!(text.contains("\n  rates: random\n"), "{text}");
    assert_eq!(parse(&text), Config::default());

    let mut config = Config::default();
    config.machines.names = Some(vec!["a".into(), "b".into(), "c".into()]);
    config.machines.rates = Rates::List(vec![1.0, 2.5, 6.0]);
    config.run.seed = Some(u64::MAX);
    let text = serde_yaml::to_string(&config).unwrap();
    assert_eq!(parse(&text), config);
}

#[test]
fn fractional_rate_list_is_accepted_and_used_as_is() {
    let config = parse("machines:\n  rates: [1, 2.5, 6]\n");
    assert_eq!(config.machines.rates, Rates::List(vec![1.0, 2.5, 6.0]));
    assert_eq!(config.machine_rates(0), [1.0, 2.5, 6.0]);
    assert_eq!(config.machine_rates(99), [1.0, 2.5, 6.0]);
    assert_eq!(
        parse("machines:\n  rates: [0.001, 100000, 3]\n").machine_rates(1),
        [0.001, 100_000.0, 3.0]
    );
}

#[test]
fn random_rates_are_deterministic_and_pinned() {
    let config = Config::default();
    assert_eq!(config.machine_rates(42), config.machine_rates(42));
    assert_eq!(config.machine_rates(42), PINNED_42);
    assert_eq!(config.machine_rates(7), PINNED_7);
    // The stream is the one documented: Xoshiro256++ seeded with stream 0 of the trial seed.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(derive_seed(42, 0));
    let direct: Vec<f64> = (0..3)
        .map(|_| f64::from(rng.random_range(1..=6u32)))
        .collect();
    assert_eq!(direct, PINNED_42);

    let mut wide = Config::default();
    wide.machines.count = 200;
    wide.machines.action_range = 200;
    let rates = wide.machine_rates(42);
    assert_eq!(rates.len(), 200);
    // The first draws are the same as with 3 machines: one stream, drawn in id order.
    assert_eq!(rates[..3], PINNED_42);
    for value in 1..=6 {
        assert!(rates.contains(&f64::from(value)), "{value} never drawn");
    }
    assert!(
        rates
            .iter()
            .all(|r| (1.0..=6.0).contains(r) && r.fract() == 0.0)
    );

    wide.machines.random_rates = RateRange { min: 4, max: 4 };
    assert!(wide.machine_rates(3).iter().all(|&r| r == 4.0));
}

/// The rates `random` gives 3 machines with seed 42 and the default range 1..=6.
const PINNED_42: [f64; 3] = [3.0, 3.0, 5.0];
/// The same with seed 7.
const PINNED_7: [f64; 3] = [3.0, 4.0, 1.0];

#[test]
fn rates_that_are_neither_random_nor_a_list_are_explained() {
    let expected = "`random` or a list of ticks per second, one per machine, e.g. [1, 3, 6]";
    assert_eq!(
        error("machines:\n  rates: fast\n"),
        format!(
            "t.yaml: machines.rates: invalid value: string \"fast\", expected {expected} \
             at line 2 column 10"
        )
    );
    assert_eq!(
        error("machines:\n  rates: 5\n"),
        format!(
            "t.yaml: machines.rates: invalid type: integer `5`, expected {expected} \
             at line 2 column 10"
        )
    );
    assert_eq!(
        error("machines:\n  rates: [1, fast, 3]\n"),
        "t.yaml: machines.rates[1]: invalid type: string \"fast\", expected f64 \
         at line 2 column 14"
    );
}

#[test]
fn unknown_keys_are_rejected_by_name() {
    assert_eq!(
        error("routr: {}\n"),
        "t.yaml: unknown field `routr`, expected one of `router`, `machines`, `run`, `faults`"
    );
    assert_eq!(
        error("router:\n  hots: x\n"),
        "t.yaml: router: unknown field `hots`, expected one of `host`, `port`, \
         `max_payload`, `stall_timeout`, `start_delay`, `hello_timeout`, `max_unregistered`, \
         `outbox_limit`, `buffer_limit`, `reader_timeout` at line 2 column 3"
    );
    assert_eq!(
        error("machines:\n  random_rates: {min: 1, mx: 3}\n"),
        "t.yaml: machines.random_rates: unknown field `mx`, expected `min` or `max` \
         at line 2 column 26"
    );
    assert_eq!(
        error("run:\n  seeds: 3\n"),
        "t.yaml: run: unknown field `seeds`, expected one of `duration`, `trials`, `seed`, \
         `log_dir`, `stop_grace`, `port` at line 2 column 3"
    );
}

#[test]
fn wrong_types_name_the_field_and_place() {
    assert_eq!(
        error("machines:\n  count: many\n"),
        "t.yaml: machines.count: invalid type: string \"many\", expected u16 at line 2 column 10"
    );
    assert_eq!(
        error("router:\n  port: 70000\n"),
        "t.yaml: router.port: invalid value: integer `70000`, expected u16 at line 2 column 9"
    );
    assert_eq!(
        error("run:\n  seed: -1\n"),
        "t.yaml: run.seed: invalid type: integer `-1`, expected u64 at line 2 column 9"
    );
    assert_eq!(
        error("run:\n  duration: \"60\"\n"),
        "t.yaml: run.duration: invalid type: string \"60\", expected f64 at line 2 column 13"
    );
    assert_eq!(
        error("- 1\n"),
        "t.yaml: invalid type: sequence, expected struct Config"
    );
}

#[test]
fn yaml_syntax_errors_carry_origin_and_place() {
    let message = error("router: {host: x\n");
    assert!(message.starts_with("t.yaml: "), "{message}");
    assert!(message.contains("line 2 column 1"), "{message}");
}

#[test]
fn every_rule_rejects_with_field_value_and_what_is_allowed() {
    let rate = "a rate is a positive number of ticks per second, at most 100000";
    let pos = "a number of seconds, greater than 0 and at most 604800 (7 days)";
    let nonneg = "a number of seconds, at least 0 and at most 604800 (7 days)";
    let long_host = "h".repeat(250);
    let cases: Vec<(String, String)> = vec![
        (
            "router: {host: ''}".into(),
            "router.host: \"\" is not allowed; a host name or address of 1 to 249 bytes".into(),
        ),
        (
            format!("router: {{host: {long_host}}}"),
            format!(
                "router.host: \"{}\"... (250 bytes) is not allowed; \
                 a host name or address of 1 to 249 bytes",
                "h".repeat(40)
            ),
        ),
        (
            "router: {max_payload: 65537}".into(),
            "router.max_payload: 65537 is not allowed; a number of bytes from 0 to 65536".into(),
        ),
        (
            "router: {stall_timeout: 0}".into(),
            format!("router.stall_timeout: 0 is not allowed; {pos}"),
        ),
        (
            "router: {stall_timeout: -1}".into(),
            format!("router.stall_timeout: -1 is not allowed; {pos}"),
        ),
        (
            "router: {stall_timeout: .nan}".into(),
            format!("router.stall_timeout: NaN is not allowed; {pos}"),
        ),
        (
            "router: {stall_timeout: .inf}".into(),
            format!("router.stall_timeout: inf is not allowed; {pos}"),
        ),
        (
            "machines: {handshake_timeout: 0}".into(),
            format!("machines.handshake_timeout: 0 is not allowed; {pos}"),
        ),
        (
            "machines: {handshake_timeout: -2}".into(),
            format!("machines.handshake_timeout: -2 is not allowed; {pos}"),
        ),
        (
            "router: {start_delay: -0.5}".into(),
            format!("router.start_delay: -0.5 is not allowed; {nonneg}"),
        ),
        (
            "router: {start_delay: 604801}".into(),
            format!("router.start_delay: 604801 is not allowed; {nonneg}"),
        ),
        (
            "machines: {count: 1}".into(),
            "machines.count: 1 is not allowed; the number of machines is from 2 to 1000".into(),
        ),
        (
            "machines: {count: 1001, action_range: 2000}".into(),
            "machines.count: 1001 is not allowed; the number of machines is from 2 to 1000".into(),
        ),
        (
            "machines: {names: [a, b]}".into(),
            "machines.names: a list of 2 names is not allowed; give exactly one name per machine \
             (machines.count is 3), or leave it out to generate them"
                .into(),
        ),
        (
            "machines: {names: [a, '', c]}".into(),
            "machines.names[1]: \"\" is not allowed; a name is 1 to 255 bytes long".into(),
        ),
        (
            format!("machines: {{names: [a, b, {}]}}", "é".repeat(128)),
            format!(
                "machines.names[2]: \"{}\"... (256 bytes) is not allowed; \
                 a name is 1 to 255 bytes long",
                "é".repeat(20)
            ),
        ),
        (
            "machines: {names: [a, b, a]}".into(),
            "machines.names[2]: \"a\" is not allowed; names must be distinct, \
             and machines.names[0] is the same"
                .into(),
        ),
        (
            "machines: {rates: [1, 2]}".into(),
            "machines.rates: a list of 2 rates is not allowed; give exactly one rate per machine \
             (machines.count is 3), or `random`"
                .into(),
        ),
        (
            "machines: {rates: [1, 0, 6]}".into(),
            format!("machines.rates[1]: 0 is not allowed; {rate}"),
        ),
        (
            "machines: {rates: [1, 2, -3]}".into(),
            format!("machines.rates[2]: -3 is not allowed; {rate}"),
        ),
        (
            "machines: {rates: [100000.5, 2, 3]}".into(),
            format!("machines.rates[0]: 100000.5 is not allowed; {rate}"),
        ),
        (
            "machines: {rates: [1, .inf, 3]}".into(),
            format!("machines.rates[1]: inf is not allowed; {rate}"),
        ),
        (
            "machines: {rates: [1e300, 2, 3]}".into(),
            format!("machines.rates[0]: 1e300 is not allowed; {rate}"),
        ),
        (
            "machines: {random_rates: {min: 0}}".into(),
            "machines.random_rates.min: 0 is not allowed; \
             the slowest random rate is at least 1 tick per second"
                .into(),
        ),
        (
            "machines: {random_rates: {min: 5, max: 4}}".into(),
            "machines.random_rates.max: 4 is not allowed; the fastest random rate is at least \
             machines.random_rates.min (5) and at most 100000"
                .into(),
        ),
        (
            "machines: {random_rates: {max: 100001}}".into(),
            "machines.random_rates.max: 100001 is not allowed; the fastest random rate is at \
             least machines.random_rates.min (1) and at most 100000"
                .into(),
        ),
        (
            "machines: {count: 11}".into(),
            "machines.action_range: 10 is not allowed; it must be at least machines.count (11)"
                .into(),
        ),
        (
            "run: {duration: 0}".into(),
            format!("run.duration: 0 is not allowed; {pos}"),
        ),
        (
            "run: {duration: 604800.5}".into(),
            format!("run.duration: 604800.5 is not allowed; {pos}"),
        ),
        (
            "run: {duration: .nan}".into(),
            format!("run.duration: NaN is not allowed; {pos}"),
        ),
        (
            "run: {trials: 0}".into(),
            "run.trials: 0 is not allowed; the number of trials is from 1 to 10000".into(),
        ),
        (
            "run: {trials: 10001}".into(),
            "run.trials: 10001 is not allowed; the number of trials is from 1 to 10000".into(),
        ),
        (
            "run: {log_dir: ''}".into(),
            "run.log_dir: \"\" is not allowed; a directory path, not empty".into(),
        ),
        (
            "run: {stop_grace: -1}".into(),
            format!("run.stop_grace: -1 is not allowed; {pos}"),
        ),
        (
            "run: {stop_grace: -.inf}".into(),
            format!("run.stop_grace: -inf is not allowed; {pos}"),
        ),
        (
            "run: {stop_grace: 0}".into(),
            format!("run.stop_grace: 0 is not allowed; {pos}"),
        ),
    ];
    for (yaml, expected) in cases {
        assert_eq!(error(&yaml), format!("t.yaml: {expected}"), "{yaml}");
    }
}

#[test]
fn boundary_values_are_accepted() {
    for yaml in [
        "router: {port: 0, max_payload: 0, start_delay: 0, stall_timeout: 604800}",
        "router: {port: 65535, max_payload: 65536, stall_timeout: 0.001}",
        "machines: {count: 2, action_range: 2}",
        "machines: {count: 1000, action_range: 1000}",
        "machines: {rates: [100000, 0.0001, 1]}",
        "machines: {random_rates: {min: 100000, max: 100000}}",
        "run: {duration: 604800, trials: 10000, seed: 18446744073709551615, stop_grace: 0.001}",
        "run: {duration: 0.001, trials: 1, seed: 0}",
    ] {
        parse(yaml);
    }
    let mut names = vec!["n".repeat(255)];
    names.push("b".into());
    let config = Config {
        machines: MachinesConfig {
            count: 2,
            names: Some(names),
            ..MachinesConfig::default()
        },
        ..Config::default()
    };
    assert!(config.validate("test").is_ok());
    let host = "h".repeat(MAX_HOST_LEN);
    let config = parse(&format!(
        "router: {{host: {host}}}\nmachines: {{count: 1000, action_range: 1000}}"
    ));
    assert!(
        config
            .machine_names()
            .iter()
            .all(|n| n.len() <= MAX_NAME_LEN)
    );
}

#[test]
fn overrides_are_validated_with_their_origin() {
    let mut config = Config::default();
    config.run.trials = 0;
    let e = config.validate("command line").unwrap_err();
    assert_eq!(
        e.to_string(),
        "command line: run.trials: 0 is not allowed; the number of trials is from 1 to 10000"
    );
    match e {
        ConfigError::Invalid {
            origin,
            field,
            value,
            ..
        } => {
            assert_eq!(
                (origin.as_str(), field.as_str(), value.as_str()),
                ("command line", "run.trials", "0")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_file_names_the_path() {
    let path = Path::new("/nonexistent/clocklab/config.yaml");
    let e = Config::load(path).unwrap_err();
    assert!(
        matches!(&e, ConfigError::Missing { path: p } if p == path),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "/nonexistent/clocklab/config.yaml: the configuration file does not exist"
    );
}

#[test]
fn unreadable_file_names_the_path_and_the_cause() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let e = Config::load(&dir).unwrap_err();
    assert!(
        matches!(&e, ConfigError::Read { path, .. } if *path == dir),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with(&format!("{}: cannot read the file: ", dir.display())),
        "{e}"
    );
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn errors_from_a_file_name_the_file() {
    let path = committed_path();
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("trials: 1\n", "trials: 0\n");
    let e = Config::from_yaml(&text, &path.display().to_string()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: run.trials: 0 is not allowed; the number of trials is from 1 to 10000",
            path.display()
        )
    );
}

#[test]
fn missed_ticks_is_catch_up_or_skip() {
    use crate::core::machine::MissedTicks;
    assert_eq!(
        Config::default().machines.missed_ticks,
        MissedTicks::CatchUp
    );
    let c = parse("machines:\n  missed_ticks: skip\n");
    assert_eq!(c.machines.missed_ticks, MissedTicks::Skip);
    let c = parse("machines:\n  missed_ticks: catch_up\n");
    assert_eq!(c.machines.missed_ticks, MissedTicks::CatchUp);
    // The error names the file, the field, the value and what is allowed.
    let e = error("machines:\n  missed_ticks: sometimes\n");
    for part in [
        "t.yaml",
        "machines.missed_ticks",
        "sometimes",
        "`catch_up`",
        "`skip`",
    ] {
        assert!(e.contains(part), "{part} is not in {e:?}");
    }
}

#[test]
fn receive_rule_is_by_deadline_or_as_run() {
    use crate::core::machine::ReceiveRule;
    assert_eq!(
        Config::default().machines.receive_rule,
        ReceiveRule::ByDeadline
    );
    let c = parse("machines:\n  receive_rule: as_run\n");
    assert_eq!(c.machines.receive_rule, ReceiveRule::AsRun);
    let c = parse("machines:\n  receive_rule: by_deadline\n");
    assert_eq!(c.machines.receive_rule, ReceiveRule::ByDeadline);
    // The error names the file, the field, the value and what is allowed.
    let e = error("machines:\n  receive_rule: latest\n");
    assert_eq!(
        e,
        "t.yaml: machines.receive_rule: unknown variant `latest`, expected `by_deadline` or \
         `as_run` at line 2 column 17"
    );
}

#[test]
fn the_router_limits_are_checked_against_each_other() {
    assert_eq!(
        error("router:\n  outbox_limit: 1000\n"),
        "t.yaml: router.outbox_limit: 1000 is not allowed; a number of bytes from 65536 (room \
         for the largest frame) to router.buffer_limit (67108864)"
    );
    assert_eq!(
        error("router:\n  buffer_limit: 65536\n"),
        "t.yaml: router.outbox_limit: 1048576 is not allowed; a number of bytes from 65536 (room \
         for the largest frame) to router.buffer_limit (65536)"
    );
    assert_eq!(
        error("router:\n  max_unregistered: 0\n"),
        "t.yaml: router.max_unregistered: 0 is not allowed; a number of connections from 1 to \
         100000"
    );
    assert_eq!(
        error("router:\n  hello_timeout: 0\n"),
        "t.yaml: router.hello_timeout: 0 is not allowed; a number of seconds, greater than 0 \
         and at most 604800 (7 days)"
    );
    assert_eq!(
        error("router:\n  reader_timeout: -1\n"),
        "t.yaml: router.reader_timeout: -1 is not allowed; a number of seconds, greater than 0 \
         and at most 604800 (7 days)"
    );
}
