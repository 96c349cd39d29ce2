//! The cost of the simulator's logs, measured in pairs: the five variants of `core`'s `logs`
//! group (simulate alone; with the rows formatted into memory; formatted and written as
//! `simulate` does; and the baseline, rows formatted with `write!` per field, in memory and
//! written at the end) run one after another, round after round, so that a busy machine's load
//! falls on all of them alike. Each round's time of a variant over that round's `simulate_only`
//! gives the cost of its logs; the report is the median and quartiles of those ratios, with the
//! fastest and median times.
//!
//! `cargo bench --bench logs_paired` runs 25 rounds (`-- --rounds N` for another number); `cargo
//! test --benches` runs one round as a smoke test. docs/BENCHMARKS.md has the numbers.

#[path = "support/logs.rs"]
mod logs;

use std::hint::black_box;
use std::time::Instant;

use clocklab::sim;
use logs::LogDir;

const VARIANTS: [&str; 5] = [
    "simulate_only",
    "simulate_format",
    "simulate_format_write",
    "baseline_format_macro",
    "baseline_format_macro_write",
];

/// The `q`-quantile of sorted `values`, by the nearest rank below.
fn quantile(values: &[f64], q: f64) -> f64 {
    values[((values.len() - 1) as f64 * q) as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds = match args.iter().position(|a| a == "--rounds") {
        Some(i) => args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .filter(|&n: &usize| n > 0)
            .expect("--rounds takes a whole number of rounds, at least 1"),
        None if args.iter().any(|a| a == "--bench") => 25,
        None => 1,
    };
    let opts = logs::issue_trial();
    let mut n = 0;
    let mut times = vec![Vec::with_capacity(rounds); VARIANTS.len()];
    for _ in 0..rounds {
        for (variant, times) in times.iter_mut().enumerate() {
            let dir = LogDir::new(&mut n);
            let start = Instant::now();
            match variant {
                0 => {
                    black_box(sim::simulate(&opts, |_| {}).unwrap().events);
                }
                1 => {
                    black_box(logs::simulate_formatting_logs(&opts));
                }
                2 => {
                    black_box(logs::simulate_writing_logs(&opts, &dir.0));
                }
                3 => {
                    black_box(logs::simulate_with_macro_logs(&opts, None));
                }
                _ => {
                    black_box(logs::simulate_with_macro_logs(&opts, Some(&dir.0)));
                }
            }
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    println!("logs_paired: {rounds} round(s) of one trial, 3 machines at 50-200 ticks/s for 600 s");
    for (variant, name) in VARIANTS.iter().enumerate() {
        let mut ratios: Vec<f64> = (0..rounds)
            .map(|r| times[variant][r] / times[0][r] - 1.0)
            .collect();
        ratios.sort_by(f64::total_cmp);
        let mut sorted = times[variant].clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "{name:28} fastest {:6.1} ms  median {:6.1} ms  logs cost {:+4.0}% of simulate_only \
             (quartiles {:+.0}% to {:+.0}%)",
            sorted[0],
            quantile(&sorted, 0.5),
            quantile(&ratios, 0.5) * 100.0,
            quantile(&ratios, 0.25) * 100.0,
            quantile(&ratios, 0.75) * 100.0,
        );
    }
}
