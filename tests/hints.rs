//! The hints clocklab prints run as printed: `simulate`'s `next: ...` line, pasted into a shell
//! in the same directory, succeeds whether clocklab is installed on PATH or not.

mod support;

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output};

use support::TestDir;

/// `program args...` in `cwd` with `PATH` set to `path`, its output shown.
fn run_in(cwd: &Path, path: &OsString, program: &str, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("PATH", path)
        .output()
        .unwrap();
    println!("$ {program} {}", args.join(" "));
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Simulates a short run in `cwd` under `path` and runs its `next:` hint through `sh -c` with
/// the same PATH; returns the hint.
fn simulate_then_run_the_hint(cwd: &Path, path: &OsString) -> String {
    let out = run_in(
        cwd,
        path,
        support::bin(),
        &["simulate", "--duration", "5", "--out", "runs"],
    );
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let hint = stdout
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("next: "))
        .unwrap_or_else(|| panic!("no next: line at the end of\n{stdout}"))
        .to_owned();
    let ran = run_in(cwd, path, "sh", &["-c", &hint]);
    assert!(ran.status.success(), "the hint {hint:?} failed");
    let said = String::from_utf8_lossy(&ran.stdout);
    assert!(said.contains("report.html"), "{said}");
    hint
}

#[test]
fn the_next_hint_runs_as_printed_with_clocklab_on_path_and_without() {
    let tmp = TestDir::new("hints");
    let system_path = std::env::var_os("PATH").unwrap_or_default();

    // Installed: a directory on PATH whose clocklab is this build (as `cargo install` makes one).
    let bin_dir = tmp.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::os::unix::fs::symlink(support::bin(), bin_dir.join("clocklab")).unwrap();
    let mut dirs = vec![bin_dir];
    dirs.extend(std::env::split_paths(&system_path));
    let installed = std::env::join_paths(dirs).unwrap();
    let cwd = tmp.join("installed");
    std::fs::create_dir_all(&cwd).unwrap();
    let hint = simulate_then_run_the_hint(&cwd, &installed);
    assert!(hint.starts_with("clocklab analyze runs/"), "{hint}");

    // Not installed: the path the executable was started as.
    let cwd = tmp.join("not-installed");
    std::fs::create_dir_all(&cwd).unwrap();
    let hint = simulate_then_run_the_hint(&cwd, &system_path);
    assert!(!hint.starts_with("clocklab "), "{hint}");
    assert!(hint.contains(" analyze runs/"), "{hint}");
}
