#!/usr/bin/env bash
# Remeasures the timing figures that README.md and docs/*.md quote, with this machine and this build,
# and prints them in the docs' words, each with the file and section that quotes it.
#
#   cargo build --release && scripts/measure-docs.sh            # 3 rounds, real trials of 60 s
#   RUNS=5 scripts/measure-docs.sh                               # more rounds
#   QUICK=1 scripts/measure-docs.sh                              # 1 round, real trials of 10 s (a smoke test)
#   BENCH=1 scripts/measure-docs.sh                              # also `cargo bench --bench core -- sim`
#
# Environment: CLOCKLAB (the binary, default target/release/clocklab), RUNS (rounds, default 3),
# DURATION (seconds of each real trial of seed 144, default 60), KEEP (keep the scratch directory).
# Needs bash, python3 (standard library only) and a Linux /proc. Everything it writes goes to a
# scratch directory under ${TMPDIR:-/tmp}, removed at the end unless KEEP is set.
#
# Real runs depend on the machine and its load: the script prints the load average before and
# after, and gives every figure as the median and the range over the rounds.
set -Eeuo pipefail

cd "$(dirname "$0")/.."
BIN=${CLOCKLAB:-target/release/clocklab}
RUNS=${RUNS:-3}
DURATION=${DURATION:-60}
if [[ -n ${QUICK:-} ]]; then
    RUNS=1
    DURATION=10
fi
for n in "$RUNS" "$DURATION"; do
    if ! [[ $n =~ ^[1-9][0-9]*$ ]]; then
        echo "measure-docs: RUNS and DURATION are whole numbers from 1, not '$n'" >&2
        exit 2
    fi
done
if [[ ! -x $BIN ]]; then
    echo "measure-docs: no binary at $BIN; build it with 'cargo build --release' or set CLOCKLAB" >&2
    exit 2
fi
BIN=$(realpath "$BIN")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/measure-docs.XXXXXX")
trap 'echo "measure-docs: failed: $BASH_COMMAND (run with KEEP=1 to keep its files)" >&2' ERR
if [[ -z ${KEEP:-} ]]; then
    trap 'rm -rf "$WORK"' EXIT
else
    echo "measure-docs: keeping $WORK" >&2
fi

# One value of a summary or run record: `yget FILE BLOCK KEY` reads `BLOCK:` then `  KEY: value`.
yget() {
    awk -v block="$2:" -v key="$3:" '
        $0 ~ "^ *" block "$" { inside = 1; next }
        inside && $1 == key { print $2; exit }
        inside && $0 !~ /^ / { inside = 0 }' "$1"
}

# Median and range of numbers on standard input, one a line: "median (min-max)", or the one value.
stats() {
    python3 -c '
import statistics, sys
xs = [float(x) for x in sys.stdin.read().split()]
if not xs:
    print("-"); sys.exit()
fmt = lambda x: ("%.0f" if abs(x) >= 100 else "%.3g") % x
lo, hi, med = min(xs), max(xs), statistics.median(xs)
print(fmt(med) if lo == hi else "%s (%s-%s, %d values)" % (fmt(med), fmt(lo), fmt(hi), len(xs)))'
}

# A trial figure of an analysis: `tfig ANALYSIS_DIR FIGURE` from its summary.json.
tfig() {
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1] + "/summary.json"))
for t in d["runs"][0]["trials"]:
    v = t["figures"].get(sys.argv[2])
    print("-" if v is None else "%g" % v)' "$1" "$2"
}

# Seconds of wall time a command takes (its output discarded).
seconds() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$t0" "$t1"
}

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs ($cpu, $mem, Linux $(uname -r)),"
echo "  binary $BIN (commit $commit), $RUNS round(s), load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# --- Tick lateness and same-instant receives: seed 144, rates 1, 4, 4, receive_rule as_run -------
printf 'machines:\n  receive_rule: as_run\n' >"$WORK/as_run.yaml"
opts=(--seed 144 --rates 1,4,4)
: >"$WORK/p50" >"$WORK/p99" >"$WORK/same_as_run" >"$WORK/same_by_deadline"
# One real run of seed 144 under a receive rule: its machines' tick lateness, its same-instant receives.
real_run() {
    local rule=$1 out=$2 dir s
    shift 2
    "$BIN" run "$@" "${opts[@]}" --duration "$DURATION" --out "$out" >/dev/null 2>&1
    dir=$(echo "$out"/*)
    for s in "$dir"/summary-*.yaml; do
        yget "$s" tick_lateness_us p50 >>"$WORK/p50"
        yget "$s" tick_lateness_us p99 >>"$WORK/p99"
    done
    "$BIN" analyze "$dir" --out "$out-analysis" >/dev/null 2>&1
    tfig "$out-analysis" same_instant_receives >>"$WORK/same_$rule"
}
for round in $(seq "$RUNS"); do
    real_run as_run "$WORK/as-run-$round" --config "$WORK/as_run.yaml"
    real_run by_deadline "$WORK/by-deadline-$round"
done
same_sim() {
    local out=$1 dir
    shift
    "$BIN" simulate --config "$WORK/as_run.yaml" "${opts[@]}" --duration "$DURATION" "$@" \
        --out "$out" >/dev/null 2>&1
    dir=$(echo "$out"/*)
    "$BIN" analyze "$dir" --out "$out-analysis" >/dev/null 2>&1
    tfig "$out-analysis" same_instant_receives
}
punctual=$(same_sim "$WORK/sim-punctual")
late=$(same_sim "$WORK/sim-late" --tick-lateness exp:30us:150us)
echo "[docs/SIMULATION.md, \"Modelling the real system's timing\"; docs/LOGS.md, \"Tick timing\"]"
echo "  With seed 144, rates 1, 4, 4 and $DURATION s under receive_rule as_run, the punctual simulation"
echo "  has $punctual same-instant receives, --tick-lateness exp:30us:150us has $late, and a real run had"
echo "  $(stats <"$WORK/same_as_run") (per run; under by_deadline, the default: $(stats <"$WORK/same_by_deadline"))."
echo "  Tick lateness of those real runs, per machine: p50 $(stats <"$WORK/p50") µs, p99 $(stats <"$WORK/p99") µs."
echo

# --- Hop latency of a real run and its twin (tests/timing.rs's trial) ------------------------------
# A twin's run.yaml records the merged distribution of the run it was drawn from (`timing_from`),
# so the twin of the twin gives the twin's own merged p50 and p99, like for like with the real run's.
: >"$WORK/hop_p50" >"$WORK/hop_p99" >"$WORK/twin_p50" >"$WORK/twin_p99" >"$WORK/hops" >"$WORK/pairs"
twin_opts=(--rates 100,200,300 --action-range 3 --duration 2 --seed 21)
for round in $(seq "$RUNS"); do
    "$BIN" run "${twin_opts[@]}" --out "$WORK/hop-$round" >/dev/null 2>&1
    "$BIN" simulate "${twin_opts[@]}" --out "$WORK/twin-$round" \
        --timing-from "$(echo "$WORK/hop-$round"/*)" >/dev/null 2>&1
    "$BIN" simulate "${twin_opts[@]}" --out "$WORK/twin2-$round" \
        --timing-from "$(echo "$WORK/twin-$round"/*)" >/dev/null 2>&1
    real=$(echo "$WORK/twin-$round"/*/run.yaml)
    twin=$(echo "$WORK/twin2-$round"/*/run.yaml)
    yget "$real" hop_latency_us count >>"$WORK/hops"
    for q in p50 p99; do
        yget "$real" hop_latency_us $q >>"$WORK/hop_$q"
        yget "$twin" hop_latency_us $q >>"$WORK/twin_$q"
    done
    echo "p50 $(yget "$real" hop_latency_us p50) | $(yget "$twin" hop_latency_us p50)," \
        "p99 $(yget "$real" hop_latency_us p99) | $(yget "$twin" hop_latency_us p99)" >>"$WORK/pairs"
done
echo "[docs/SIMULATION.md, \"A real run's twin\"]"
echo "  A real run at rates 100, 200, 300 for 2 s with $(stats <"$WORK/hops") hops: hop latency"
echo "  p50 $(stats <"$WORK/hop_p50") µs and p99 $(stats <"$WORK/hop_p99") µs (all machines merged, per run);"
echo "  its simulated twins: p50 $(stats <"$WORK/twin_p50") µs, p99 $(stats <"$WORK/twin_p99") µs."
echo "  Run by run, real | twin, µs:"
sed 's/^/    /' "$WORK/pairs"
echo

# --- Wall time of simulations and experiments --------------------------------------------------
: >"$WORK/t_sim" >"$WORK/t_classic" >"$WORK/t_weather" >"$WORK/t_sweep"
for round in $(seq "$RUNS"); do
    seconds "$BIN" simulate --trials 100 --out "$WORK/speed-$round" >>"$WORK/t_sim"
    seconds "$BIN" experiment classic --trials 20 --seed 1 --out "$WORK/classic-$round" >>"$WORK/t_classic"
    seconds "$BIN" experiment weather --trials 20 --seed 1 --out "$WORK/weather-$round" >>"$WORK/t_weather"
    seconds "$BIN" experiment sweep --param slow-rate --values 0.5,1,1.5,2,2.5,3,4,5,6 --seed 1 \
        --out "$WORK/sweep-$round" >>"$WORK/t_sweep"
done
echo "[docs/SIMULATION.md, \"Speed\"]"
echo "  clocklab simulate --trials 100 at the defaults, files and checks included, takes $(stats <"$WORK/t_sim") s."
echo "[docs/SIMULATION.md, \"experiment classic\"]"
echo "  With seed 1, 20 trials of 60 s: $(stats <"$WORK/t_classic") s in all, the analysis and its plots included."
echo "[docs/SIMULATION.md, \"experiment weather\"]"
echo "  With seed 1, 20 trials of 60 s: $(stats <"$WORK/t_weather") s with the analysis."
echo "[docs/SIMULATION.md, \"Queue growth on a slow machine\"; docs/ANALYSIS.md, \"Expected queue behaviour\"]"
echo "  The sweep of 50 trials of 60 s at each of 9 rates took $(stats <"$WORK/t_sweep") s."

# --- The simulator's benchmark (criterion), on request: it builds the bench profile first ------
if [[ -n ${BENCH:-} ]]; then
    echo "[docs/SIMULATION.md, \"Speed\"] cargo bench --bench core -- sim, medians per round:"
    for round in $(seq "$RUNS"); do
        cargo bench --quiet --bench core -- sim --warm-up-time 1 --measurement-time 3 2>/dev/null |
            awk -v round="$round" '
                /^sim\// { name = $1; taken = 0 }
                /time:/ && name != "" && !taken { sub(/.*\[/, ""); print "  round " round ": " name " " $3 " " $4; taken = 1 }'
    done
fi
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
