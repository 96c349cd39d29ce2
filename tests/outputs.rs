//! The files clocklab writes for other tools keep their bytes: `summary-wide.csv` and
//! `summary.csv` (`analyze`), the JSON Lines and ShiViz exports (`export`) and `sweep.csv`
//! (`experiment sweep`), each compared with the file the same command wrote before the figures
//! became typed and these files were rendered with serde (`tests/golden/`, written by the
//! previous build). Every input is simulated from a fixed seed, so the bytes are the same on
//! every machine.

mod support;

use std::path::Path;

use support::{TestDir, only_dir, succeeds_in};

fn golden(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compares line by line, so a failure names the first line that differs.
fn assert_same(what: &str, got: &str, want: &str) {
    for (k, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "{what}: line {} differs", k + 1);
    }
    assert_eq!(
        got.lines().count(),
        want.lines().count(),
        "{what}: line count"
    );
    assert_eq!(got, want, "{what}: bytes (line endings)");
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a utf-8 path")
}

#[test]
fn analyze_writes_the_summaries_byte_for_byte_as_before() {
    let dir = TestDir::new("outputs-analyze");
    let sims = dir.join("sim");
    // The golden files were written under the receive rule of their day, `as_run`: with tick
    // lateness, `by_deadline` (the default since) changes which tick takes a message, and this
    // test is about how the figures are written, not about the model.
    let config = dir.join("as-run.yaml");
    std::fs::write(&config, "machines:\n  receive_rule: as_run\n").expect("write as-run.yaml");
    succeeds_in(
        &dir.path,
        &[
            "simulate",
            "--config",
            path(&config),
            "--seed",
            "7",
            "--trials",
            "3",
            "--duration",
            "20",
            "--machines",
            "4",
            "--tick-lateness",
            "exp:50us:200us",
            "--out",
            path(&sims),
        ],
    );
    let out = dir.join("analysis");
    succeeds_in(
        &dir.path,
        &[
            "analyze",
            path(&only_dir(&sims)),
            "--label",
            "golden",
            "--out",
            path(&out),
        ],
    );
    let read = |name: &str| std::fs::read_to_string(out.join(name)).expect(name);
    assert_same(
        "summary-wide.csv",
        &read("summary-wide.csv"),
        &golden("analyze-seed-7.summary-wide.csv"),
    );
    // summary.csv's first 79 rows: every trial figure of trial 1, then machine 1's figures.
    let want = golden("analyze-seed-7.summary-head.csv");
    let summary = read("summary.csv");
    let head: String = summary
        .split_inclusive('\n')
        .take(want.lines().count())
        .collect();
    assert_same("summary.csv", &head, &want);
}

#[test]
fn export_writes_json_lines_and_shiviz_byte_for_byte_as_before() {
    let dir = TestDir::new("outputs-export");
    let sims = dir.join("sim");
    // Eleven machines: hosts m10 and m11 sort before m2 as text, but come after m9 in `vc`.
    succeeds_in(
        &dir.path,
        &[
            "simulate",
            "--seed",
            "11",
            "--trials",
            "1",
            "--duration",
            "2",
            "--machines",
            "11",
            "--rates",
            "1,2,3,4,5,6,1,2,3,4,5",
            "--out",
            path(&sims),
        ],
    );
    let run = only_dir(&sims);
    let jsonl = succeeds_in(&dir.path, &["export", path(&run), "--format", "jsonl"]);
    assert_same("jsonl", &jsonl, &golden("export-seed-11.jsonl"));
    let shiviz = succeeds_in(&dir.path, &["export", path(&run), "--shiviz"]);
    assert_same("shiviz", &shiviz, &golden("export-seed-11.shiviz"));
}

#[test]
fn a_sweep_writes_sweep_csv_byte_for_byte_as_before() {
    let dir = TestDir::new("outputs-sweep");
    for (param, values, trials, seed, file) in [
        (
            "slow-rate",
            "0.5,1.5,3",
            "4",
            "3",
            "sweep-slow-rate-seed-3.csv",
        ),
        (
            "action-range",
            "4,10,20",
            "3",
            "5",
            "sweep-action-range-seed-5.csv",
        ),
    ] {
        let out = dir.join(param);
        succeeds_in(
            &dir.path,
            &[
                "experiment",
                "sweep",
                "--param",
                param,
                "--values",
                values,
                "--trials",
                trials,
                "--seed",
                seed,
                "--out",
                path(&out),
            ],
        );
        let csv = std::fs::read_to_string(only_dir(&out).join("sweep.csv")).expect("sweep.csv");
        assert_same(file, &csv, &golden(file));
    }
}
