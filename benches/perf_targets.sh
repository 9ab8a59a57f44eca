#!/usr/bin/env bash
# The four performance targets of results/performance.md ("Targets"), measured in one go:
#   1. `mailflow run` on the tandem model bounded at 1e6 messages (whole process, full
#      statistics, every output file) against the lean hand-written loop
#      (examples/lean_loop.rs): callgrind instruction counts (load-independent) and the ratio
#      of wall-time medians over ROUNDS alternated runs;
#   2. the hybrid comparison (scenarios/hybrid-routing.toml) on 2 threads vs 1 (RUNS
#      alternated pairs, medians);
#   3. peak RSS (GNU time) of the tandem at 1e6, 1e7 and 1e8 messages (BIG=0 skips 1e8) and of
#      the hybrid run;
#   4. the README's capacity quick start and the 88-point grid sweep: wall time and events/s.
# Usage: bash benches/perf_targets.sh [1|2|3|4 …]   (all by default; 4 takes the longest)
# Both binaries are built with the `perf` profile (fat LTO, one codegen unit, panic = abort).
# Needs valgrind and GNU time (`apt-get install valgrind time`). Runs under `nice`.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=${CARGO_TARGET_DIR:-target}
ROUNDS=${ROUNDS:-7}
RUNS=${RUNS:-9}
BIG=${BIG:-1}
WHICH=${*:-1 2 3 4}
cargo build --quiet --profile perf --bin mailflow --example lean_loop
MAILFLOW=$TARGET/perf/mailflow
LEAN=$TARGET/perf/examples/lean_loop
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $(rustc --version)"

# The tandem file with its [run] table replaced by a message bound.
tandem() {
  python3 - "$1" > "$work/tandem-$1.toml" <<'PY'
import re, sys
text = open("scenarios/tandem-mmc.toml").read()
print(re.sub(r"\[run\][^\[]*", f"[run]\nmessages = {sys.argv[1]}\nseed = 1\n\n", text, count=1))
PY
  echo "$work/tandem-$1.toml"
}

# `nice` goes outside valgrind: under it, the exec'd program would run uninstrumented.
irefs() { nice valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
  grep 'refs:' | awk '{gsub(",", "", $NF); print $NF}'; }

for t in $WHICH; do case $t in
1)
  for n in 200000 1000000; do
    f=$(tandem $n)
    m=$(irefs "$MAILFLOW" run "$f" --threads 1 --quiet --out "$work/cg-$n")
    l=$(irefs "$LEAN" $n)
    python3 - "$n" "$m" "$l" <<'PY'
import sys
n, m, l = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print(f"target 1, callgrind, {n} messages: mailflow {m}, lean loop {l} instructions, ratio {m / l:.3f}")
print(f"| 1. instructions, tandem {n} messages, mailflow ÷ lean loop (whole process, `perf` "
      f"profile) | ≤ 1.2 | {m / 1e6:.1f} M ÷ {l / 1e6:.1f} M = **{m / l:.3f}** | "
      f"{'yes' if m / l <= 1.2 else 'no'} | `valgrind --tool=callgrind mailflow run "
      f"tandem-{n}.toml --threads 1 --quiet --out DIR` vs `valgrind --tool=callgrind "
      f"lean_loop {n}` (`perf_targets.sh 1`) |")
PY
  done
  f=$(tandem 1000000)
  python3 - "$MAILFLOW" "$LEAN" "$f" "$ROUNDS" "$work" <<'PY'
import statistics, subprocess, sys, time
mf, lean, scn, rounds, work = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def once(cmd):
    s = time.perf_counter(); subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - s
a = [mf, "run", scn, "--threads", "1", "--quiet", "--out", f"{work}/wall"]
b = [lean, "1000000"]
once(a); once(b)
ta, tb = [], []
for i in range(rounds):
    for c in ((a, b) if i % 2 == 0 else (b, a)):
        (ta if c is a else tb).append(once(c))
m = statistics.median
import os
load = os.getloadavg()[0]
r = m(tb) / m(ta)
print(f"target 1, wall, 1e6 messages: mailflow median {m(ta):.3f} s, lean loop {m(tb):.3f} s, "
      f"speed ratio (lean / mailflow) {r:.3f} ({rounds} alternated runs, load {load:.1f})")
print(f"| 1. speed, tandem 1e6 messages, lean loop time ÷ mailflow time (medians of {rounds} "
      f"alternated runs, whole process) | ≥ 1.0 | **{r:.3f}** ({m(ta):.3f} s vs {m(tb):.3f} s, "
      f"load {load:.1f}) | {'yes' if r >= 1.0 else 'no'} | `bash benches/perf_targets.sh 1` |")
PY
  ;;
2)
  python3 - "$MAILFLOW" "$RUNS" "$work" <<'PY'
import os, statistics, subprocess, sys, time
exe, runs, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def once(t):
    s = time.perf_counter()
    subprocess.run([exe, "run", "scenarios/hybrid-routing.toml", "--quiet", "--threads", str(t),
                    "--out", f"{work}/t{t}"], check=True)
    return time.perf_counter() - s
once(2)
wall = {1: [], 2: []}
for i in range(runs):
    for t in ((1, 2) if i % 2 == 0 else (2, 1)):
        wall[t].append(once(t))
m = statistics.median
print(f"target 2, hybrid: 1 thread {m(wall[1]):.2f} s, 2 threads {m(wall[2]):.2f} s, "
      f"speedup (median of pair ratios) {m(a / b for a, b in zip(wall[1], wall[2])):.2f} "
      f"({runs} alternated pairs, load {os.getloadavg()[0]:.1f})")
PY
  ;;
3)
  sizes="1000000 10000000"
  [ "$BIG" = 1 ] && sizes="$sizes 100000000"
  for n in $sizes; do
    f=$(tandem $n)
    /usr/bin/time -v nice "$MAILFLOW" run "$f" --threads 1 --quiet --out "$work/rss-$n" 2> "$work/time.txt"
    echo "target 3, peak RSS, tandem $n messages: $(grep 'Maximum resident' "$work/time.txt" | awk '{print $NF}') KiB"
  done
  /usr/bin/time -v nice "$MAILFLOW" run scenarios/hybrid-routing.toml --quiet --out "$work/rss-h" 2> "$work/time.txt"
  echo "target 3, peak RSS, hybrid-routing.toml: $(grep 'Maximum resident' "$work/time.txt" | awk '{print $NF}') KiB"
  ;;
4)
  s=$(date +%s.%N)
  nice "$MAILFLOW" capacity scenarios/hybrid-routing.toml \
    --slo "inbound_to_onprem.p99<=5s" --slo "outbound_from_cloud.p99<=5s" \
    --out "$work/cap" | tail -1
  echo "target 4, capacity quick start: $(python3 -c "import time; print(f'{time.time() - $s:.1f}')") s wall (whole process)"
  s=$(date +%s.%N)
  nice "$MAILFLOW" sweep scenarios/hybrid-routing.toml \
    --set hops.hub2007.servers=1..8 --set load.scale=0.5..3:0.25 \
    --slo "inbound_to_onprem.p99<=5s" --out "$work/sweep" | tail -1
  echo "target 4, 88-point sweep: $(python3 -c "import time; print(f'{time.time() - $s:.1f}')") s wall (whole process)"
  for d in cap sweep; do
    python3 -c "import json; m = json.load(open('$work/$d/manifest.json')); print('target 4, $d manifest:', {k: m[k] for k in m if k in ('events', 'wall_time_s', 'events_per_s', 'threads')})"
  done
  ;;
esac; done
