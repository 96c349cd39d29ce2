//! The soak test, run by hand: `cargo test --release --test soak -- --ignored --nocapture`.
//! 32 machines at 200 ticks/s each for 10 minutes (`CLOCKLAB_SOAK_SECS` sets another length)
//! through one router, whose resident memory is sampled every 5 s. It passes when the trial passes
//! `check`, no frame was undeliverable, and the router's memory stays flat: the largest sample of
//! the last quarter is within 25% (plus 2 MiB) of the largest of the first quarter after warm-up.
//! It prints the samples and the counts, for the notes.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use clocklab::rundir::records::RouterStats;
use support::{Proc, TestDir};

/// The pid of the router `run` started for the run under `out`, found by its command line.
fn router_pid(out: &Path) -> Option<u32> {
    let out = out.to_str()?;
    std::fs::read_dir("/proc").ok()?.find_map(|e| {
        let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        let is_router = args.iter().any(|a| *a == b"server")
            && args
                .iter()
                .any(|a| std::str::from_utf8(a).is_ok_and(|a| a.starts_with(out)));
        is_router.then_some(pid)
    })
}

/// The resident set of process `pid`, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
#[ignore = "a 10-minute soak: run it by hand"]
fn thirty_two_machines_at_200_ticks_per_second_keep_the_router_flat_and_lose_nothing() {
    let secs: u64 = std::env::var("CLOCKLAB_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let test = TestDir::new("soak");
    let config = test.config(3, "");
    let out = test.join("out");
    let rates = vec!["200"; 32].join(",");
    let mut run = Proc::start(
        "run",
        [
            "run",
            "--config",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--machines",
            "32",
            "--action-range",
            "40",
            "--rates",
            &rates,
            "--duration",
            &secs.to_string(),
            "--seed",
            "32",
        ],
    );
    let pid = support::wait_until("the router to start", support::SOON, || router_pid(&out));
    let began = Instant::now();
    let mut samples = Vec::new();
    while let Some(kib) = rss_kib(pid) {
        samples.push((began.elapsed().as_secs(), kib));
        std::thread::sleep(Duration::from_secs(5));
    }
    let code = run.wait_code(Duration::from_secs(secs + 120));
    let dir = support::run_dir_under(&out);
    let stats: RouterStats = support::read_yaml(&dir.join("router.yaml"));
    let frames: u64 = stats.frames.values().map(|c| c.frames).sum();
    let delivered: u64 = stats.pairs.iter().map(|p| p.delivered).sum();
    let undeliverable: u64 = stats.pairs.iter().map(|p| p.undeliverable).sum();
    println!(
        "soak: {secs} s, {frames} frames in, {delivered} delivered, {undeliverable} undeliverable"
    );
    println!("soak: router RSS samples (s, KiB): {samples:?}");
    assert_eq!(code, 0, "the trial did not pass check");
    assert_eq!(undeliverable, 0);
    // Warm-up: the first 10% of the samples; then the first and last quarters of the rest.
    let steady = &samples[samples.len() / 10..];
    let quarter = (steady.len() / 4).max(1);
    let first = steady[..quarter].iter().map(|s| s.1).max().unwrap();
    let last = steady[steady.len() - quarter..]
        .iter()
        .map(|s| s.1)
        .max()
        .unwrap();
    println!("soak: largest RSS, first quarter {first} KiB, last quarter {last} KiB");
    assert!(
        last <= first + first / 4 + 2048,
        "the router's memory grew: {first} KiB early, {last} KiB late"
    );
}
