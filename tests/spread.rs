//! Trials spread over cores and hosts: `--jobs N` writes the same files whatever N, shards run as
//! separate processes and joined by `clocklab merge` equal the unsharded run, `merge` refuses
//! shards that do not make one run, and the Slurm array script in `deploy/` runs as written
//! (tasks started by hand, without `sbatch`).
//!
//! Wall times: a simulated run records none (its times are virtual, from `--epoch`), so every
//! file is compared byte for byte; [`WALL_TIME_FILES`] is where a file that did would be named.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use support::{TestDir, bin, files_under, only_dir, succeeds_in};

/// Files left out of the byte-for-byte comparisons because they record a wall time: none.
const WALL_TIME_FILES: [&str; 0] = [];

fn clocklab_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .current_dir(dir)
        .args(args)
        .output()
        .expect("start clocklab")
}

/// Asserts that the trees under `a` and `b` hold the same files with the same bytes.
fn same_tree(a: &Path, b: &Path) {
    same_tree_but(a, b, &[]);
}

/// [`same_tree`], the files `naming_dirs` apart (their bytes name the directories analysed).
fn same_tree_but(a: &Path, b: &Path, naming_dirs: &[&str]) {
    let mut files_a = files_under(a);
    let mut files_b = files_under(b);
    files_a.sort();
    files_b.sort();
    assert_eq!(
        files_a,
        files_b,
        "{} and {} hold different files",
        a.display(),
        b.display()
    );
    assert!(!files_a.is_empty(), "{} is empty", a.display());
    for file in files_a
        .iter()
        .filter(|f| !WALL_TIME_FILES.iter().any(|w| f.ends_with(w)))
        .filter(|f| !naming_dirs.iter().any(|w| f.ends_with(w)))
    {
        let (x, y) = (std::fs::read(a.join(file)), std::fs::read(b.join(file)));
        assert!(
            x.as_ref().ok() == y.as_ref().ok(),
            "{} differs between {} and {}",
            file.display(),
            a.display(),
            b.display()
        );
    }
}

fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

const SIMULATE: &str = "simulate --trials 7 --duration 30 --seed 11 --out out";
const CLASSIC: &str = "experiment classic --trials 2 --duration 10 --seed 3 --out out";
const SWEEP: &str =
    "experiment sweep --param slow-rate --values 1,2,4 --trials 3 --duration 20 --seed 5 --out out";

#[test]
fn one_job_and_four_write_the_same_simulation_and_sweep() {
    for command in [SIMULATE, SWEEP] {
        let (one, four) = (TestDir::new("jobs-1"), TestDir::new("jobs-4"));
        let out1 = succeeds_in(&one.path, &[words(command), vec!["--jobs", "1"]].concat());
        let out4 = succeeds_in(&four.path, &[words(command), vec!["--jobs", "4"]].concat());
        same_tree(&only_dir(&one.join("out")), &only_dir(&four.join("out")));
        // The tables printed are the same too, but for the run directory's name and the time.
        let tables = |out: &str| -> Vec<String> {
            out.lines()
                .filter(|l| l.starts_with("  ") && !l.contains(" s;") && !l.contains("in "))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(tables(&out1), tables(&out4), "{command}");
    }
}

/// Runs `command --shard I/4` for I = 1..=4 as four processes at once in `dir`, and merges them
/// into `dir/merged`.
fn four_shards_merged(dir: &Path, command: &str) -> PathBuf {
    // All four started before any is waited for.
    let children: Vec<_> = (1..=4)
        .map(|i| {
            Command::new(bin())
                .current_dir(dir)
                .args(words(command))
                .args(["--shard", &format!("{i}/4"), "--jobs", "1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start a shard")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("a shard's output");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut shards: Vec<PathBuf> = std::fs::read_dir(dir.join("out"))
        .expect("the shards' directory")
        .map(|e| e.expect("an entry").path())
        .collect();
    shards.sort();
    assert_eq!(shards.len(), 4, "{shards:?}");
    let mut args = vec!["merge".to_owned()];
    args.extend(shards.iter().map(|p| p.display().to_string()));
    args.extend(["--out".into(), "merged".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    succeeds_in(dir, &args);
    dir.join("merged")
}

#[test]
fn four_shards_merged_equal_the_unsharded_run() {
    for command in [SIMULATE, SWEEP] {
        let (whole, parts) = (TestDir::new("unsharded"), TestDir::new("shards"));
        succeeds_in(&whole.path, &words(command));
        let merged = four_shards_merged(&parts.path, command);
        same_tree(&only_dir(&whole.join("out")), &merged);
    }
    // The classic experiment's merge makes its table and analysis again: the same files, but
    // for the two of the analysis that name the directories analysed (the run's path).
    let (whole, parts) = (TestDir::new("classic"), TestDir::new("classic-shards"));
    succeeds_in(&whole.path, &words(CLASSIC));
    let merged = four_shards_merged(&parts.path, CLASSIC);
    let naming_dirs = ["analysis/report.html", "analysis/summary.json"];
    same_tree_but(&only_dir(&whole.join("out")), &merged, &naming_dirs);
    // The merged run is a run like any other.
    let parts = TestDir::new("shards-checked");
    let merged = four_shards_merged(&parts.path, SIMULATE);
    let checked = succeeds_in(&parts.path, &["check", merged.to_str().expect("utf-8")]);
    assert!(
        checked.contains("all 7 checked trial(s) passed"),
        "{checked}"
    );
}

fn shard(dir: &Path, seed: &str, shard: &str) -> PathBuf {
    let out = dir.join(format!("seed-{seed}"));
    let args = [
        "simulate",
        "--trials",
        "4",
        "--duration",
        "10",
        "--seed",
        seed,
        "--shard",
        shard,
        "--out",
    ];
    let mut args: Vec<&str> = args.to_vec();
    args.push(out.to_str().expect("utf-8"));
    succeeds_in(dir, &args);
    std::fs::read_dir(&out)
        .expect("the shard's parent")
        .map(|e| e.expect("an entry").path())
        .find(|p| {
            p.to_string_lossy()
                .contains(&format!("shard-{}", shard.replace('/', "-of-")))
        })
        .expect("the shard's directory")
}

/// `merge` with `dirs`: fails, and its error names what it must; nothing is made at `--out`.
fn refused(dir: &Path, dirs: &[&Path], needles: &[&str]) {
    let mut args = vec!["merge".to_owned()];
    args.extend(dirs.iter().map(|p| p.display().to_string()));
    args.extend(["--out".into(), "merged".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = clocklab_in(dir, &args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "merge {dirs:?} succeeded");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
    assert!(
        !dir.join("merged").exists(),
        "merge left {}",
        dir.join("merged").display()
    );
}

#[test]
fn merge_refuses_shards_that_do_not_make_one_run() {
    let t = TestDir::new("refused");
    let a1 = shard(&t.path, "1", "1/2");
    let a2 = shard(&t.path, "1", "2/2");
    let b2 = shard(&t.path, "2", "2/2");
    let (a1s, b2s) = (a1.display().to_string(), b2.display().to_string());
    // Different seeds: both directories and the field named, with both values.
    refused(
        &t.path,
        &[&a1, &b2],
        &[
            &a1s,
            &b2s,
            "shards of different runs",
            "master_seed: 1 against 2",
        ],
    );
    // A shard given twice.
    refused(
        &t.path,
        &[&a1, &a1],
        &["are both shard 1/2", "give each shard once"],
    );
    // A shard missing: its trials named.
    refused(
        &t.path,
        &[&a1],
        &["trials 2, 4 of 4 are missing", "shards 2/2 not given"],
    );
    // A directory that is no shard.
    let whole = t.join("whole");
    succeeds_in(
        &t.path,
        &[
            "simulate",
            "--trials",
            "2",
            "--duration",
            "5",
            "--out",
            "whole",
        ],
    );
    let run = only_dir(&whole);
    refused(&t.path, &[&a1, &run], &["is not a shard", "shard.yaml"]);
    // A shard without the run's seed would draw one of its own: refused before it starts.
    let out = clocklab_in(
        &t.path,
        &["simulate", "--shard", "1/2", "--out", "unseeded"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("give the run's seed"),
        "{err}"
    );
    assert!(!t.join("unseeded").exists());
    // And the good pair merges.
    succeeds_in(
        &t.path,
        &["merge", &a1s, &a2.display().to_string(), "--out", "merged"],
    );
    assert!(t.join("merged/trial-4/run.yaml").exists());
}

#[test]
fn the_slurm_array_script_runs_as_written_with_the_task_ids_set_by_hand() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = repo.join("deploy/slurm/simulate-array.sh");
    let merge = repo.join("deploy/slurm/merge.sh");
    let t = TestDir::new("slurm");
    let run_task = |task: u32| {
        let out = Command::new("bash")
            .arg(&script)
            .args(["--rates", "1,2,3"])
            .current_dir(&t.path)
            .env("CLOCKLAB", bin())
            .env("TRIALS", "6")
            .env("DURATION", "20")
            .env("SLURM_ARRAY_JOB_ID", "77")
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_ARRAY_TASK_MIN", "1")
            .env("SLURM_ARRAY_TASK_COUNT", "3")
            .env("SLURM_CPUS_PER_TASK", "2")
            .output()
            .expect("start bash");
        assert!(
            out.status.success(),
            "task {task}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for task in 1..=3 {
        run_task(task);
    }
    let out = Command::new("bash")
        .arg(&merge)
        .arg("77")
        .current_dir(&t.path)
        .env("CLOCKLAB", bin())
        .output()
        .expect("start bash");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "merge.sh: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("merge: 3 shards of simulate (6 trials)"),
        "{text}"
    );
    // The same run, unsharded, with the same --out as the script's.
    let whole = TestDir::new("slurm-whole");
    let args = "simulate --trials 6 --duration 20 --seed 1 --rates 1,2,3 --out shards/77";
    succeeds_in(&whole.path, &words(args));
    same_tree(&only_dir(&whole.join("shards/77")), &t.join("runs/77"));
}

/// The pod's command of a Job in a manifest of `deploy/kubernetes`, and its `completions`.
fn job_command(file: &str, job: &str) -> (Vec<String>, Option<u64>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/kubernetes")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("the manifest");
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let doc: serde_yaml::Value = serde::Deserialize::deserialize(doc).expect("YAML");
        if doc["kind"] == "Job" && doc["metadata"]["name"] == job {
            let spec = &doc["spec"];
            let command = spec["template"]["spec"]["containers"][0]["command"]
                .as_sequence()
                .expect("a command")
                .iter()
                .map(|w| w.as_str().expect("a word").to_owned())
                .collect();
            return (command, spec["completions"].as_u64());
        }
    }
    panic!("no Job {job} in {}", path.display());
}

#[test]
fn the_kubernetes_indexed_job_runs_as_written_with_the_completion_index_set_by_hand() {
    let (command, completions) = job_command("simulate-indexed-job.yaml", "clocklab-shards");
    let completions = completions.expect("an Indexed Job has completions");
    assert_eq!(command[0], "clocklab");
    assert!(
        command.contains(&format!("--shard=auto/{completions}")),
        "completions {completions} and --shard auto/N must agree: {command:?}"
    );
    let t = TestDir::new("k8s");
    let results = t.join("results");
    // The pod's own command, with a shorter run and the volume mounted where the test is.
    let pod = |word: &String| -> String {
        match word.as_str() {
            w if w.starts_with("--trials=") => "--trials=6".into(),
            w if w.starts_with("--duration=") => "--duration=20".into(),
            w => w.replace("/results", results.to_str().expect("utf-8")),
        }
    };
    for index in 0..completions {
        let out = Command::new(bin())
            .args(command[1..].iter().map(pod))
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env_remove("SLURM_ARRAY_TASK_ID")
            .output()
            .expect("start clocklab");
        assert!(
            out.status.success(),
            "index {index}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (merge, _) = job_command("merge-job.yaml", "clocklab-merge");
    assert_eq!(&merge[..2], ["sh", "-c"]);
    let script = pod(&merge[2]).replace("clocklab ", &format!("{} ", bin()));
    let out = Command::new("sh")
        .args(["-c", &script])
        .output()
        .expect("start sh");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script}: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!(
            "merge: {completions} shards of simulate (6 trials)"
        )),
        "{text}"
    );
    assert!(text.contains("all 6 checked trial(s) passed"), "{text}");
}
