use std::path::{Path, PathBuf};

use super::*;
use crate::config::Config;

/// The issue's plan, exactly as written there.
const EXAMPLE: &str = r#"
- {kind: delay, link: "1->3", from: 0, to: 30, latency: "fixed:50ms"}
- {kind: partition, groups: [[1, 2], [3]], from: 10, to: 20, mode: hold}
- {kind: pause, machine: 2, from: 5, to: 8}
- {kind: clock, machine: 2, offset_ms: 250, drift_ppm: 100}
"#;

fn example_plan() -> FaultPlan {
    FaultPlan {
        faults: vec![
            Fault::Delay {
                link: Link {
                    from: Some(1),
                    to: Some(3),
                },
                window: Window::from_secs(0.0, 30.0),
                latency: Latency::Fixed { ns: 50_000_000 },
            },
            Fault::Partition {
                groups: vec![vec![1, 2], vec![3]],
                window: Window::from_secs(10.0, 20.0),
                mode: PartitionMode::Hold,
            },
            Fault::Pause {
                machine: 2,
                window: Window::from_secs(5.0, 8.0),
            },
            Fault::Clock {
                machine: 2,
                skew: ClockSkew {
                    offset_us: 250_000,
                    drift_ppb: 100_000,
                },
            },
        ],
    }
}

/// `faults:` holding `entries` (YAML list items), in a configuration of 3 machines and 30 s.
fn config_with(entries: &str) -> Result<Config, ConfigError> {
    let yaml = format!("run: {{duration: 30}}\nfaults:\n{entries}");
    Config::from_yaml(&yaml, "c.yaml")
}

/// The message of the one fault `entry` in a 3-machine, 30-second configuration.
fn error(entry: &str) -> String {
    config_with(&format!("- {entry}\n"))
        .unwrap_err()
        .to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("clocklab-faults-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_issues_plan_reads_under_faults_in_the_configuration() {
    let config = config_with(EXAMPLE).unwrap();
    assert_eq!(config.faults.len(), 4);
    assert_eq!(config.fault_plan("c.yaml").unwrap(), example_plan());
    // Recorded as written: it reads back from run.yaml's copy unchanged.
    let written = serde_yaml::to_string(&config).unwrap();
    assert_eq!(Config::from_yaml(&written, "run.yaml").unwrap(), config);
}

#[test]
fn the_issues_plan_reads_as_a_file_and_the_example_file_is_valid() {
    let dir = scratch("file");
    let path = dir.join("plan.yaml");
    std::fs::write(&path, EXAMPLE).unwrap();
    let specs = load_fault_file(&path).unwrap();
    let origin = path.display().to_string();
    assert_eq!(
        check_plan(&specs, &origin, 3, 30.0).unwrap(),
        example_plan()
    );
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/faults-example.yaml");
    let specs = load_fault_file(&committed).unwrap();
    assert_eq!(
        check_plan(&specs, "example", 3, 30.0).unwrap(),
        example_plan()
    );
    // An empty file is an empty plan.
    std::fs::write(&path, "# nothing\n").unwrap();
    assert_eq!(load_fault_file(&path).unwrap(), Vec::new());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_or_unreadable_file_or_unknown_key_is_named() {
    let dir = scratch("missing");
    let path = dir.join("nowhere.yaml");
    let e = load_fault_file(&path).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}: cannot read the fault plan: ", path.display())),
        "{e}"
    );
    std::fs::write(&path, "- {kind: clock, machine: 2, ofset_ms: 5}\n").unwrap();
    let e = load_fault_file(&path).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{}: faults[0]: unknown field `ofset_ms`, expected one of",
            path.display()
        )),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_plan_decides_each_machines_clock() {
    let plan = example_plan();
    assert_eq!(plan.clock_skew(1), ClockSkew::default());
    assert_eq!(plan.clock_skew(2).offset_us, 250_000);
    assert_eq!(
        plan.clock_skews(3),
        vec![
            ClockSkew::default(),
            plan.clock_skew(2),
            ClockSkew::default()
        ]
    );
    assert_eq!(plan.pauses(), [(2, Window::from_secs(5.0, 8.0))]);
    // The router's rules: the delay and the partition, as written.
    let weather = plan.weather();
    assert_eq!(weather.delays.len(), 1);
    assert_eq!(weather.delays[0].link.to_string(), "1->3");
    assert_eq!(weather.delays[0].latency, Latency::Fixed { ns: 50_000_000 });
    assert_eq!(weather.delays[0].window, Window::from_secs(0.0, 30.0));
    assert_eq!(weather.partitions.len(), 1);
    assert_eq!(weather.partitions[0].groups, [vec![1, 2], vec![3]]);
    assert_eq!(weather.partitions[0].window, Window::from_secs(10.0, 20.0));
    assert_eq!(weather.partitions[0].mode, PartitionMode::Hold);
    // Offset and drift default to 0; the mode to hold.
    let c = config_with("- {kind: clock, machine: 1}\n- {kind: partition, groups: [[1], [2, 3]], from: 0, to: 30}\n").unwrap();
    let plan = c.fault_plan("c.yaml").unwrap();
    assert_eq!(plan.clock_skew(1), ClockSkew::default());
    assert!(matches!(
        plan.faults[1],
        Fault::Partition {
            mode: PartitionMode::Hold,
            ..
        }
    ));
}

#[test]
fn an_unknown_kind_or_mode_is_refused_with_what_is_allowed() {
    assert_eq!(
        error("{kind: storm, machine: 2}"),
        "c.yaml: faults[0].kind: \"storm\" is not allowed; a fault is one of delay, partition, \
         pause and clock"
    );
    assert_eq!(
        error("{kind: partition, groups: [[1], [2]], from: 1, to: 2, mode: halt}"),
        "c.yaml: faults[0].mode: \"halt\" is not allowed; hold (the default: frames are released \
         in order when the window ends) or drop"
    );
}

#[test]
fn a_malformed_link_or_latency_is_refused() {
    let link = |l: &str| {
        format!(
            "c.yaml: faults[0].link: \"{l}\" is not allowed; a link is \"A->B\", A and B two \
             machine ids from 1 to 3 or * for any, e.g. \"1->3\" or \"*->2\""
        )
    };
    for bad in ["1-3", "1->4", "0->2", "2->2", "x->1"] {
        assert_eq!(
            error(&format!(
                "{{kind: delay, link: \"{bad}\", from: 0, to: 1, latency: 5ms}}"
            )),
            link(bad)
        );
    }
    assert_eq!(
        error("{kind: delay, link: \"*->1\", from: 0, to: 1, latency: slow}"),
        "c.yaml: faults[0].latency: \"slow\" is not allowed; \"slow\": a latency model is \
         fixed:DELAY, uniform:MIN:MAX or exp:BASE:MEAN (e.g. fixed:100us, uniform:50us:2ms, \
         exp:100us:1ms)"
    );
}

#[test]
fn a_machine_that_does_not_exist_is_refused() {
    assert_eq!(
        error("{kind: pause, machine: 4, from: 1, to: 2}"),
        "c.yaml: faults[0].machine: 4 is not allowed; a machine id from 1 to 3 (machines.count)"
    );
    assert_eq!(
        error("{kind: clock, machine: 0, offset_ms: 5}"),
        "c.yaml: faults[0].machine: 0 is not allowed; a machine id from 1 to 3 (machines.count)"
    );
    assert_eq!(
        error("{kind: partition, groups: [[1, 2], [-3]], from: 1, to: 2}"),
        "c.yaml: faults[0].groups[1][0]: -3 is not allowed; a machine id from 1 to 3 \
         (machines.count)"
    );
}

#[test]
fn a_window_outside_the_trial_or_empty_is_refused() {
    let pause = |from: &str, to: &str| {
        error(&format!(
            "{{kind: pause, machine: 1, from: {from}, to: {to}}}"
        ))
    };
    let starts = "a window starts in the trial: at least 0 and before run.duration (30)";
    assert_eq!(
        pause("-1", "2"),
        format!("c.yaml: faults[0].from: -1 is not allowed; {starts}")
    );
    assert_eq!(
        pause("30", "31"),
        format!("c.yaml: faults[0].from: 30 is not allowed; {starts}")
    );
    assert_eq!(
        pause("5", "5"),
        "c.yaml: faults[0].to: 5 is not allowed; a window ends after its start (5) and at most \
         at run.duration (30)"
    );
    assert_eq!(
        pause("5", "30.5"),
        "c.yaml: faults[0].to: 30.5 is not allowed; a window ends after its start (5) and at \
         most at run.duration (30)"
    );
    assert!(config_with("- {kind: pause, machine: 1, from: 0, to: 30}\n").is_ok());
}

#[test]
fn overlapping_partitions_or_pauses_of_one_machine_are_refused() {
    let e = config_with(
        "- {kind: partition, groups: [[1, 2], [3]], from: 10, to: 20}\n\
         - {kind: partition, groups: [[1], [3]], from: 0, to: 5}\n\
         - {kind: partition, groups: [[2], [3]], from: 19.5, to: 25, mode: drop}\n",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "c.yaml: faults[2].groups: 2 is not allowed; machine 2 is already in faults[0], a \
         partition whose window overlaps this one's"
    );
    let e = config_with(
        "- {kind: pause, machine: 1, from: 1, to: 3}\n- {kind: pause, machine: 1, from: 2, to: 4}\n",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "c.yaml: faults[1].machine: 1 is not allowed; machine 1 is already in faults[0], a pause \
         whose window overlaps this one's"
    );
    let e = config_with("- {kind: clock, machine: 3}\n- {kind: clock, machine: 3, drift_ppm: 1}\n")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "c.yaml: faults[1].machine: 3 is not allowed; machine 3 is already in faults[0], a clock \
         fault (a machine has one clock)"
    );
    assert_eq!(
        error("{kind: partition, groups: [[1, 2], [2, 3]], from: 1, to: 2}"),
        "c.yaml: faults[0].groups[1][0]: 2 is not allowed; a machine is in one group only, and \
         groups[0] has it"
    );
    assert_eq!(
        error("{kind: partition, groups: [[1, 2, 3], []], from: 1, to: 2}"),
        "c.yaml: faults[0].groups: [[1, 2, 3], []] is not allowed; a partition has two or more \
         groups of machine ids, e.g. [[1, 2], [3]]"
    );
}

#[test]
fn a_missing_field_or_one_the_kind_does_not_take_is_named() {
    assert_eq!(
        error("{kind: delay, link: \"1->2\", from: 0, to: 1}"),
        "c.yaml: faults[0].latency: missing; a delay fault needs link, from, to and latency"
    );
    assert_eq!(
        error("{kind: partition, groups: [[1], [2]], from: 3}"),
        "c.yaml: faults[0].to: missing; a partition fault needs groups, from and to"
    );
    assert_eq!(
        error("{kind: clock, offset_ms: 3}"),
        "c.yaml: faults[0].machine: missing; a clock fault needs machine"
    );
    assert_eq!(
        error("{kind: clock, machine: 2, from: 0, to: 5}"),
        "c.yaml: faults[0].from: 0 is not allowed; a clock fault takes machine, offset_ms and \
         drift_ppm"
    );
    assert_eq!(
        error("{kind: pause, machine: 2, from: 0, to: 5, mode: drop}"),
        "c.yaml: faults[0].mode: \"drop\" is not allowed; a pause fault takes machine, from and to"
    );
}

#[test]
fn a_clock_beyond_a_day_or_ten_percent_is_refused() {
    assert_eq!(
        error("{kind: clock, machine: 1, offset_ms: -86400001}"),
        "c.yaml: faults[0].offset_ms: -86400001 is not allowed; milliseconds from -86400000 to \
         86400000 (a day)"
    );
    assert_eq!(
        error("{kind: clock, machine: 1, drift_ppm: .nan}"),
        "c.yaml: faults[0].drift_ppm: NaN is not allowed; parts per million from -100000 to 100000"
    );
    let c = config_with("- {kind: clock, machine: 1, offset_ms: -86400000, drift_ppm: -100000}\n");
    assert_eq!(
        c.unwrap().fault_plan("c").unwrap().clock_skew(1),
        ClockSkew {
            offset_us: -86_400_000_000,
            drift_ppb: -100_000_000
        }
    );
}
