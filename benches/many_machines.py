#!/usr/bin/env python3
"""Many machines in one real run (docs/BENCHMARKS.md, "Many machines").

For each N (and --machines-per-process K, default: run's own choice) it runs `clocklab run` with
N machines at 1 tick/s for 10 s over loopback, samples the router's and the clients' CPU time and
resident memory from /proc every 0.2 s, and computes every tick's lateness from the logs as
benches/tick_lateness.py does (the k-th row's system time minus start + k/r):

    python3 benches/many_machines.py --bin target/release/clocklab --machines 64,256,1000
    python3 benches/many_machines.py --machines 1000 --per-process 1,4,16,64

Linux only (/proc). Prints one Markdown row per run.
"""

import argparse
import csv
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

TICK = os.sysconf("SC_CLK_TCK")


def percentile(sorted_values, p):
    """Nearest rank."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def children_of(out):
    """{pid: role} of the processes whose command line names the directory `out`."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if not any(a.decode(errors="replace").startswith(out) for a in args):
            continue
        if b"server" in args:
            found[int(entry)] = "router"
        elif b"client" in args:
            found[int(entry)] = "client"
    return found


def sample(pid):
    """(CPU seconds, RSS KiB) of `pid`, or None once it has gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK, rss


def lateness(run_dir, rate):
    late_us = []
    for log in glob.glob(os.path.join(run_dir, "machine-*.csv")):
        machine = os.path.basename(log)[len("machine-"):-len(".csv")]
        with open(os.path.join(run_dir, f"summary-{machine}.yaml")) as f:
            start = next(int(l.split(":")[1]) for l in f if l.startswith("start_time_ns:"))
        with open(log) as f:
            for k, row in enumerate(csv.DictReader(f), start=1):
                secs, micros = row["system_time"].split(".")
                ran_us = int(secs) * 1_000_000 + int(micros)
                late_us.append(ran_us - (start + k * 1_000_000_000 // int(rate)) / 1000)
    late_us.sort()
    return late_us


def measure(binary, n, per_process, duration, seed):
    out = tempfile.mkdtemp(prefix=f"many-{n}-")
    cmd = [binary, "run", "--machines", str(n), "--action-range", str(n), "--rates",
           ",".join(["1"] * n), "--duration", str(duration), "--seed", str(seed), "--out", out]
    if per_process:
        cmd += ["--machines-per-process", str(per_process)]
    began = time.monotonic()
    # Into files, not pipes: run prints a line per machine, more than a pipe holds unread.
    stdout = tempfile.TemporaryFile(mode="w+")
    stderr = tempfile.TemporaryFile(mode="w+")
    run = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, text=True)
    procs, router, clients = {}, [], {}
    while run.poll() is None:
        procs.update(children_of(out))
        now = time.time()
        client_rss, client_cpu = 0, 0.0
        for pid, role in procs.items():
            s = sample(pid)
            if s is None:
                continue
            if role == "router":
                router.append((now, *s))
            else:
                clients[pid] = s
                client_cpu += s[0]
                client_rss += s[1]
        if client_rss:
            clients["rss_total"] = max(clients.get("rss_total", 0), client_rss)
        time.sleep(0.2)
    wall = time.monotonic() - began
    stdout.seek(0)
    stderr.seek(0)
    printed, errors = stdout.read(), stderr.read()
    dirs = [d for d in glob.glob(os.path.join(out, "*")) if os.path.isdir(d)]
    passed = "passed: every rule held" in printed
    late = lateness(dirs[0], 1) if dirs else []
    with open(os.path.join(dirs[0], "summary-1.yaml")) as f:
        start = next(int(l.split(":")[1]) for l in f if l.startswith("start_time_ns:")) / 1e9
    during = [s for s in router if start <= s[0] <= start + duration]
    cpu = (during[-1][1] - during[0][1]) / (during[-1][0] - during[0][0]) if len(during) > 1 else 0
    n_clients = sum(1 for r in procs.values() if r == "client")
    client_cpu = sum(v[0] for k, v in clients.items() if k != "rss_total")
    shutil.rmtree(out, ignore_errors=True)
    if not passed:
        print(errors[-2000:], printed[-2000:], file=sys.stderr)
    return {
        "n": n, "per": per_process or "default", "procs": n_clients, "passed": passed,
        "ticks": len(late), "p50": percentile(late, 50), "p99": percentile(late, 99),
        "max": late[-1] if late else float("nan"),
        "router_cpu": 100 * cpu, "router_rss": max((s[2] for s in router), default=0) / 1024,
        "client_rss": clients.get("rss_total", 0) / 1024, "client_cpu": client_cpu, "wall": wall,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default="target/release/clocklab")
    parser.add_argument("--machines", default="64,256,1000")
    parser.add_argument("--per-process", default="", help="K values; empty: run's default")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    pers = [int(k) for k in args.per_process.split(",") if k] or [None]
    print("| machines | per process | client processes | check | ticks | lateness p50 (µs) | "
          "p99 (µs) | max (µs) | router CPU | router RSS (MiB) | clients' RSS (MiB) | "
          "clients' CPU (s) | run's wall (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in (int(x) for x in args.machines.split(",")):
        for per in pers:
            m = measure(args.bin, n, per, args.duration, args.seed)
            print(f"| {m['n']} | {m['per']} | {m['procs']} | "
                  f"{'passed' if m['passed'] else 'FAILED'} | {m['ticks']} | {m['p50']:.0f} | "
                  f"{m['p99']:.0f} | {m['max']:.0f} | {m['router_cpu']:.1f}% | "
                  f"{m['router_rss']:.1f} | {m['client_rss']:.0f} | {m['client_cpu']:.2f} | "
                  f"{m['wall']:.1f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
