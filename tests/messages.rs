//! Messages that used to be silent or misleading (issue 21, item 6): each says what is wrong and
//! the command line or the path that is right.

mod support;

use support::{Proc, SOON, TestDir};

/// `clocklab ARGS` in `dir`, to its end: the exit code and the output.
fn clocklab_in(dir: &std::path::Path, role: &str, args: &[&str]) -> (i32, String) {
    let mut proc = Proc::start_plain(role, dir, args);
    let code = proc.wait_code(SOON * 6);
    (code, proc.output())
}

#[test]
fn rates_for_another_number_of_machines_suggest_the_number_that_fits() {
    let tmp = TestDir::new("messages-rates");
    let cases: [(&[&str], &str); 3] = [
        (
            &["--rates", "1,2"],
            "--rates lists 2 rates: add --machines 2, or list 3 rates",
        ),
        (
            &["--rates", "1,2", "--machines", "4"],
            "--rates lists 2 rates for 4 machines: list 4 rates",
        ),
        (
            &["--rates", "1"],
            "a list of 1 rate is not allowed; give exactly one rate per machine (machines.count \
             is 3), or `random`; --rates lists 1 rate for 3 machines: list 3 rates",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["simulate", "--duration", "1"];
        args.extend_from_slice(extra);
        let (code, out) = clocklab_in(&tmp.path, "simulate", &args);
        assert_ne!(code, 0, "{extra:?}: {out}");
        assert!(out.contains(expected), "{extra:?}: {out}");
    }
}

#[test]
fn check_on_an_experiment_names_the_run_directories_inside() {
    let tmp = TestDir::new("messages-experiment");
    let experiment = tmp.join("experiment");
    // A scenario of one trial (its router.yaml), one of two (trial-* directories), and a
    // directory that is no run (the analysis).
    for dir in ["baseline", "slow/trial-1", "slow/trial-2", "analysis"] {
        std::fs::create_dir_all(experiment.join(dir)).unwrap();
    }
    for trial in ["baseline", "slow/trial-1", "slow/trial-2"] {
        std::fs::write(experiment.join(trial).join("router.yaml"), "").unwrap();
    }
    let shown = experiment.display();
    let (code, out) = clocklab_in(&tmp.path, "check", &["check", &shown.to_string()]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "{shown} is not a run directory: it holds neither router.yaml, machine logs, nor \
             trial-* directories; it holds 2 run directories: {shown}/baseline, {shown}/slow; \
             give one of them"
        )),
        "{out}"
    );
    // An empty directory holds none to name.
    let (code, out) = clocklab_in(&tmp.path, "check", &["check", &format!("{shown}/analysis")]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("is not a run directory"), "{out}");
    assert!(!out.contains("give one of them"), "{out}");
}

#[test]
fn a_window_outside_the_trial_is_warned_of_naming_the_trial_span() {
    let tmp = TestDir::new("messages-window");
    let args = [
        "simulate",
        "--duration",
        "2",
        "--seed",
        "3",
        "--out",
        "runs",
    ];
    let (code, out) = clocklab_in(&tmp.path, "simulate", &args);
    assert_eq!(code, 0, "{out}");
    let run = std::fs::read_dir(tmp.join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let run = run.to_str().unwrap();
    let analyze = |window: &str| {
        let args = ["analyze", run, "--window", window, "--out", "analysis"];
        let (code, out) = clocklab_in(&tmp.path, "analyze", &args);
        assert_eq!(code, 0, "{out}");
        out
    };
    let out = analyze("100s..200s");
    let warning = out
        .lines()
        .find(|l| l.contains("clocklab: warning: "))
        .unwrap_or_else(|| panic!("no warning:\n{out}"));
    assert!(
        warning.contains(
            "--window 100s..200s holds no event, so its space-time diagram is empty: the trial's \
             events run from "
        ),
        "{warning}"
    );
    // The span ends within the trial's 2 s.
    let end: f64 = warning
        .rsplit_once(" s to ")
        .and_then(|(_, rest)| rest.split_once(" s;"))
        .and_then(|(end, _)| end.parse().ok())
        .unwrap_or_else(|| panic!("{warning}"));
    assert!((1.0..=2.0).contains(&end), "{warning}");
    // A window with events in it draws them, without a word.
    let out = analyze("0.5..1.5");
    assert!(!out.contains("warning"), "{out}");
}
