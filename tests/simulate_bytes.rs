//! The simulator's logs, byte for byte: every `machine-<id>.csv` of two runs, recorded (length
//! and FNV-1a 64 digest) from the `format!`-based writer that `core::event::RowText` replaced
//! (main at 0e817a7, 2026-12-06). A faster writer must write the very same bytes; if a change to
//! the model's draws is meant, `simulate.rs`'s golden streams say what else changes with them.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{Cmd, TestDir, only_dir};

/// FNV-1a, 64 bits: enough to tell two files apart, and short to write down.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Each trial's logs under `run`: (trial, machine, length, digest), in that order.
fn logs(run: &Path, trials: u32, machines: u16) -> Vec<(u32, u16, usize, u64)> {
    let mut out = Vec::new();
    for t in 1..=trials {
        for m in 1..=machines {
            let path: PathBuf = run.join(format!("trial-{t}/machine-{m}.csv"));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push((t, m, bytes.len(), fnv1a(&bytes)));
        }
    }
    out
}

#[test]
fn seed_2024_writes_the_recorded_logs() {
    let test = TestDir::new("simulate-bytes-2024");
    let simulate = Cmd::new("simulate")
        .seed(2024)
        .opt("--trials", "3")
        .duration("20")
        .opt("--latency", "exp:50us:3ms")
        .out(&test.path);
    let (code, output) = simulate.run_to_end("simulate", Duration::from_secs(120));
    assert_eq!(code, 0, "{output}");
    let want = [
        (1, 1, 4652, 0xc3a0_f995_e62c_8837),
        (1, 2, 3913, 0xa15f_057d_b21a_bbfa),
        (1, 3, 2410, 0x4d51_e1d4_bc5f_1b24),
        (2, 1, 2389, 0xdf83_eda7_1050_ce9b),
        (2, 2, 4605, 0x09da_6480_5b14_5a38),
        (2, 3, 1642, 0x281c_f1b5_c01e_31e7),
        (3, 1, 2453, 0x8f85_0f44_0b5a_8d1a),
        (3, 2, 3196, 0xf35b_109e_0591_a189),
        (3, 3, 4684, 0x570c_2ef7_e435_48b2),
    ];
    assert_eq!(logs(&only_dir(&test.path), 3, 3), want);
}

/// Fast machines and every kind of fault (a pause, a partition, a delay, a skewed clock), so the
/// logs hold every event kind, long queues and times that are not whole milliseconds.
#[test]
fn fast_machines_in_bad_weather_write_the_recorded_logs() {
    let test = TestDir::new("simulate-bytes-weather");
    let simulate = Cmd::new("simulate")
        .seed(1)
        .opt("--trials", "2")
        .duration("30")
        .rates("50,100,200")
        .opt("--faults", "config/faults-example.yaml")
        .out(&test.path);
    let (code, output) = simulate.run_to_end("simulate", Duration::from_secs(120));
    assert_eq!(code, 0, "{output}");
    let want = [
        (1, 1, 68207, 0xb602_2abf_cc3c_0b76),
        (1, 2, 128810, 0x8d91_8c98_9483_b289),
        (1, 3, 245312, 0xa9a9_4a7e_5cc1_2d89),
        (2, 1, 68012, 0x8869_b713_fe9b_1ffa),
        (2, 2, 128499, 0xe9c9_66a7_969e_50af),
        (2, 3, 245198, 0x5bd0_1a36_ae64_c41f),
    ];
    assert_eq!(logs(&only_dir(&test.path), 2, 3), want);
}
