use super::*;
use crate::rundir::log::log_path;
use crate::rundir::plan::TrialPlan;
use crate::rundir::write_yaml_atomically;

#[test]
fn what_cannot_be_loaded_is_an_error_naming_its_directory_or_file() {
    let dir = std::env::temp_dir().join(format!("clocklab-loaderr-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let shown = dir.display();
    let message = |e: LoadError| (e.to_string(), e);

    let (text, e) = message(load_run(&dir).unwrap_err());
    assert!(
        matches!(e, LoadError::Dir(DirError::NotARun { .. })),
        "{e:?}"
    );
    assert!(text.starts_with(&format!("{shown} is not a run directory")));

    let router = RouterStats::default();
    write_yaml_atomically(&dir.join(ROUTER_STATS_FILE), &router).unwrap();
    let (text, e) = message(load_run(&dir).unwrap_err());
    assert!(matches!(e, LoadError::NoMachineLogs { .. }), "{e:?}");
    assert_eq!(
        text,
        format!("{shown}: holds no machine logs (machine-<id>.csv): not a trial of a run")
    );

    let router = RouterStats {
        machines: 2,
        ..router
    };
    write_yaml_atomically(&dir.join(ROUTER_STATS_FILE), &router).unwrap();
    let (text, e) = message(load_run(&dir).unwrap_err());
    assert!(matches!(e, LoadError::MissingLog { id: 1, .. }), "{e:?}");
    let log = log_path(&dir, 1);
    assert_eq!(
        text,
        format!(
            "{}: missing: the trial has machine 1 but not its log",
            log.display()
        )
    );

    std::fs::write(&log, "not,a,header\n").unwrap();
    let (_, e) = message(load_run(&dir).unwrap_err());
    assert!(
        matches!(e, LoadError::Log(LogError::Header { .. })),
        "{e:?}"
    );

    std::fs::write(dir.join(RUN_FILE), "a: [").unwrap();
    let (text, e) = message(load_run(&dir).unwrap_err());
    assert!(
        matches!(&e, LoadError::File(f) if f.path == dir.join(RUN_FILE)),
        "{e:?}"
    );
    assert!(text.starts_with(&format!("{shown}/run.yaml: not a valid file of its kind")));

    let config = Config::default();
    let record = RunRecord {
        logs: false,
        ..TrialPlan::new(&config, &dir, 1, 1).record(&config)
    };
    write_yaml_atomically(&dir.join(RUN_FILE), &record).unwrap();
    let (text, e) = message(load_run(&dir).unwrap_err());
    assert!(matches!(e, LoadError::NoLogsWritten { .. }), "{e:?}");
    assert_eq!(
        String::from(e),
        format!(
            "{shown}: simulated with --no-logs, so it has no event logs to analyze (its \
             machines' summaries are in summary-<id>.yaml); simulate it again without \
             --no-logs"
        )
    );
    assert_eq!(text, String::from(load_run(&dir).unwrap_err()));
    std::fs::remove_dir_all(&dir).unwrap();
}
