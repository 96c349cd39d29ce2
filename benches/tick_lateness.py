#!/usr/bin/env python3
"""Tick lateness of real machines, measured end to end (docs/BENCHMARKS.md, "Tick lateness").

For each rate it runs `clocklab run` (a router and three client processes over loopback, all at
that rate) and compares every logged row's wall time with the deadline of the tick that made it:

    lateness = system_time of the k-th row - (start + k-th deadline)

`--schedule new` is the schedule of issue 11 (the k-th tick, k = 1, 2, ..., at start + k/r);
`--schedule old` the one before it (k = 0, 1, ..., at start + k/r), for measuring a build from
before the change with the same method. Rows are stamped with the microsecond the tick ran, so
the figures are in whole microseconds.

    python3 benches/tick_lateness.py --bin target/release/clocklab --schedule new
"""

import argparse
import csv
import glob
import os
import subprocess
import sys
import tempfile

import yaml  # noqa: F401  (only to fail early when PyYAML is missing; see read_start)


def offset_ns(rate, k):
    """The core's rule (src/core/machine/schedule.rs): round(k * 1e9 / rate), half up."""
    if rate == int(rate) and rate >= 1:
        r = int(rate)
        return (k * 1_000_000_000 + r // 2) // r
    return int(round(k * 1e9 / rate))


def read_start(summary_path):
    with open(summary_path) as f:
        return yaml.safe_load(f)["start_time_ns"]


def percentile(sorted_values, p):
    """Nearest rank."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def measure(binary, rate, duration, schedule, seed):
    for _attempt in range(3):
        out = tempfile.mkdtemp(prefix=f"lateness-{int(rate)}-")
        cmd = [binary, "run", "--rates", f"{rate},{rate},{rate}", "--duration", str(duration),
               "--seed", str(seed), "--out", out]
        done = subprocess.run(cmd, capture_output=True, text=True)
        dirs = [d for d in glob.glob(os.path.join(out, "*")) if os.path.isdir(d)]
        if dirs:
            break
        print(f"rate {rate}: the run failed, again: {done.stderr.strip()[-300:]}", file=sys.stderr)
    else:
        raise SystemExit(f"rate {rate}: three runs failed")
    (run_dir,) = dirs
    late_us = []
    over_period = 0
    for log in sorted(glob.glob(os.path.join(run_dir, "machine-*.csv"))):
        machine = os.path.basename(log)[len("machine-"):-len(".csv")]
        start = read_start(os.path.join(run_dir, f"summary-{machine}.yaml"))
        with open(log) as f:
            for i, row in enumerate(csv.DictReader(f)):
                k = i + 1 if schedule == "new" else i
                due_us = (start + offset_ns(rate, k)) / 1000
                secs, micros = row["system_time"].split(".")
                ran_us = int(secs) * 1_000_000 + int(micros)
                late = ran_us - due_us
                late_us.append(late)
                if late * 1000 > 1e9 / rate:
                    over_period += 1
    late_us.sort()
    return {
        "rate": rate,
        "ticks": len(late_us),
        "p50": percentile(late_us, 50),
        "p99": percentile(late_us, 99),
        "max": late_us[-1] if late_us else float("nan"),
        "over_period": over_period,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default="target/release/clocklab")
    parser.add_argument("--schedule", choices=["old", "new"], default="new")
    parser.add_argument("--rates", default="1,10,100,1000,5000")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print("| ticks/s | ticks | p50 (µs) | p99 (µs) | max (µs) | late by more than a period |")
    print("|---|---|---|---|---|---|")
    for rate in (float(r) for r in args.rates.split(",")):
        # Enough ticks for a p99 at the slow rates, a few seconds at the fast ones.
        duration = 40 if rate < 10 else (10 if rate < 1000 else 5)
        m = measure(args.bin, rate, duration, args.schedule, args.seed)
        print(f"| {m['rate']:g} | {m['ticks']} | {m['p50']:.0f} | {m['p99']:.0f} | "
              f"{m['max']:.0f} | {m['over_period']} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
