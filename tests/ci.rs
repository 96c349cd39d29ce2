//! CI's fuzz smoke step (`.ci/fuzz-smoke`, which `.ci/run` calls for each target) says plainly
//! what ran and that it passed, without libFuzzer's sanitizer warnings and progress lines, and
//! shows all of them when the run fails. A stand-in `cargo` on PATH plays `cargo fuzz run`,
//! printing what a real run without a sanitizer prints (measured with
//! `cargo fuzz run -s none frame_parser -- -max_total_time=5 -max_len=140000`).

mod support;

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output};

use support::TestDir;

/// The head and tail of a real `cargo fuzz run -s none` (the three warnings are libFuzzer
/// looking for a sanitizer's hooks and finding none).
const REAL_OUTPUT: &str = r#"    Finished `release` profile [optimized + debuginfo] target(s) in 3m 53s
WARNING: Failed to find function "__sanitizer_acquire_crash_state".
WARNING: Failed to find function "__sanitizer_print_stack_trace".
WARNING: Failed to find function "__sanitizer_set_death_callback".
INFO: Running with entropic power schedule (0xFF, 100).
#15	INITED cov: 117 ft: 158 corp: 13/479b exec/s: 0 rss: 50Mb
#17	NEW    cov: 117 ft: 161 corp: 14/510b lim: 52 exec/s: 0 rss: 50Mb L: 31/52 MS: 2 CopyPart-EraseBytes-
Done 1432668 runs in 6 second(s)"#;

/// A `cargo` that records its arguments in `args.txt`, prints [`REAL_OUTPUT`] (and, failing, a
/// crash report) and exits with `$STUB_EXIT`.
fn stand_in_cargo(dir: &Path) -> OsString {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        "#!/usr/bin/env bash\necho \"$@\" > '{}'\ncat <<'OUT'\n{REAL_OUTPUT}\nOUT\n\
         if [ \"$STUB_EXIT\" != 0 ]; then echo '==1== ERROR: libFuzzer: deadly signal' >&2; \
         echo 'artifact_prefix=fuzz/artifacts/frame_parser/; Test unit written to crash-1' >&2; fi\n\
         exit \"$STUB_EXIT\"\n",
        dir.join("args.txt").display()
    );
    let cargo = bin.join("cargo");
    std::fs::write(&cargo, script).unwrap();
    let status = Command::new("chmod")
        .arg("+x")
        .arg(&cargo)
        .status()
        .unwrap();
    assert!(status.success());
    let mut path = OsString::from(bin);
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    path
}

/// `.ci/fuzz-smoke frame_parser 30 65600` with the stand-in `cargo` exiting with `exit`.
fn smoke(dir: &TestDir, exit: i32) -> (Output, String, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/fuzz-smoke");
    let out = Command::new("bash")
        .arg(&script)
        .args(["frame_parser", "30", "65600"])
        .current_dir(&dir.path)
        .env("PATH", stand_in_cargo(&dir.path))
        .env("STUB_EXIT", exit.to_string())
        .env("FUZZ_SMOKE_LOGS", dir.join("logs"))
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    println!("stdout:\n{stdout}\nstderr:\n{stderr}");
    (out, stdout, stderr)
}

#[test]
fn a_passing_fuzz_run_is_one_line_that_says_what_ran_and_that_it_passed() {
    let dir = TestDir::new("ci-fuzz-pass");
    let (out, stdout, stderr) = smoke(&dir, 0);
    assert!(out.status.success());
    let args = std::fs::read_to_string(dir.join("args.txt")).unwrap();
    assert_eq!(
        args.trim(),
        "fuzz run -s none frame_parser -- -max_total_time=30 -max_len=65600"
    );
    let log = dir.join("logs/frame_parser.log");
    assert_eq!(
        stdout.trim(),
        format!(
            "fuzz: frame_parser passed: 1432668 inputs in 6 s, no crash, timeout or \
             out-of-memory (no sanitizer: -s none; the whole output is in {})",
            log.display()
        )
    );
    assert_eq!(stderr, "");
    // The warnings are kept, in the log.
    let kept = std::fs::read_to_string(&log).unwrap();
    assert!(kept.contains("__sanitizer_acquire_crash_state"), "{kept}");
}

#[test]
fn a_failing_fuzz_run_prints_its_whole_output_and_fails() {
    let dir = TestDir::new("ci-fuzz-fail");
    let (out, stdout, stderr) = smoke(&dir, 77);
    assert_eq!(out.status.code(), Some(77));
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with("fuzz: frame_parser FAILED (cargo fuzz exited with 77)"),
        "{stderr}"
    );
    for line in REAL_OUTPUT.lines().chain([
        "==1== ERROR: libFuzzer: deadly signal",
        "artifact_prefix=fuzz/artifacts/frame_parser/; Test unit written to crash-1",
    ]) {
        assert!(stderr.contains(line), "missing {line:?}");
    }
    assert!(
        stderr
            .trim_end()
            .ends_with("the failing input, if one was found, is in fuzz/artifacts/frame_parser/"),
        "{stderr}"
    );
}
