#!/usr/bin/env bash
# Every figure of results/performance.md, measured in one go and printed as a Markdown table:
#   1. mailflow vs the bare loop on the tandem model at 1e6 messages (same process, alternated);
#   2. mailflow and the bare loop vs SimPy 4 and Ciw 3 (benches/peers/run.sh);
#   3. thread scaling: the four-variant hybrid comparison on 1 vs 2 threads (RUNS pairs of
#      runs, alternated; the median of the per-pair wall-time ratios);
#   4. peak RSS of `mailflow run` on the tandem model bounded at 1e6 and 1e7 messages
#      (/usr/bin/time -v).
# Usage: benches/peers/report.sh [--write]    (about 10 minutes on 2 cores)
#   --write  also replaces the figures between the report.sh markers of results/performance.md
# Environment: PEER_MESSAGES (50000), PEER_ROUNDS (3), RUNS (7), CARGO_TARGET_DIR.
# Needs python3 (with venv) and GNU time (`apt-get install time`).
set -euo pipefail
cd "$(dirname "$0")/../.."

TARGET=${CARGO_TARGET_DIR:-target}
PEER_MESSAGES=${PEER_MESSAGES:-50000}
PEER_ROUNDS=${PEER_ROUNDS:-3}
RUNS=${RUNS:-7}
WRITE=${1:-}
if [ ! -x /usr/bin/time ]; then
  echo "GNU time is required for peak RSS: apt-get install time" >&2
  exit 1
fi

cargo build --quiet --release --bin mailflow --example tandem_throughput
MAILFLOW=$TARGET/release/mailflow
EXAMPLE=$TARGET/release/examples/tandem_throughput
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Reads `key=value` fields: field FILE IMPL KEY
field() { grep "^impl=$2 " "$1" | tr ' ' '\n' | grep "^$3=" | cut -d= -f2; }

echo "== 1. tandem, 1e6 messages: mailflow vs bare loop" >&2
"$EXAMPLE" 1000000 7 | tee "$work/bare.txt" >&2
lib_rate=$(field "$work/bare.txt" mailflow msgs_per_s)
bare_rate=$(field "$work/bare.txt" bare_loop msgs_per_s)
bare_ratio=$(grep '^ratio' "$work/bare.txt" | cut -d= -f2)

echo "== 2. peers, $PEER_MESSAGES messages × $PEER_ROUNDS rounds" >&2
bash benches/peers/run.sh "$PEER_MESSAGES" "$PEER_ROUNDS" | tee "$work/peers.txt" >&2
peer() { grep "^ratio $1=" "$work/peers.txt" | cut -d= -f2; }
rate() { grep "^ *$1:" "$work/peers.txt" | awk '{print $2}'; }

echo "== 3. thread scaling, hybrid-routing.toml" >&2
# 1 and 2 threads alternate (order swapped every pair, so a drifting load biases neither);
# the speedup is the median of the per-pair ratios.
read -r t1 t2 speedup u1 u2 < <(python3 - "$MAILFLOW" "$RUNS" "$work" <<'PY'
import os, statistics, subprocess, sys, time
exe, runs, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def once(t):
    c0 = os.times()
    s = time.perf_counter()
    subprocess.run([exe, "run", "scenarios/hybrid-routing.toml", "--quiet", "--threads", str(t),
                    "--out", f"{work}/t{t}"], check=True)
    c1 = os.times()
    return time.perf_counter() - s, c1.children_user - c0.children_user
once(2)  # warm-up: page cache, CPU frequency
wall = {1: [], 2: []}
user = {1: [], 2: []}
for i in range(runs):
    for t in ((1, 2) if i % 2 == 0 else (2, 1)):
        w, u = once(t)
        wall[t].append(w)
        user[t].append(u)
    print(f"pair {i + 1}: 1 thread {wall[1][-1]:.2f} s, 2 threads {wall[2][-1]:.2f} s", file=sys.stderr)
ratio = statistics.median(a / b for a, b in zip(wall[1], wall[2]))
m = statistics.median
print(f"{m(wall[1]):.2f} {m(wall[2]):.2f} {ratio:.2f} {m(user[1]):.2f} {m(user[2]):.2f}")
PY
)
how="$RUNS alternated pairs, medians; user CPU $u1 s vs $u2 s"

echo "== 4. peak RSS, tandem bounded at 1e6 and 1e7 messages" >&2
rss() {
  local n=$1
  # The tandem file with its [run] table replaced by a message bound.
  python3 - "$n" > "$work/tandem-$n.toml" <<'PY'
import re, sys
text = open("scenarios/tandem-mmc.toml").read()
print(re.sub(r"\[run\][^\[]*", f"[run]\nmessages = {sys.argv[1]}\nseed = 1\n\n", text, count=1))
PY
  /usr/bin/time -v "$MAILFLOW" run "$work/tandem-$n.toml" --quiet --out "$work/rss-$n" \
    2> "$work/time-$n.txt"
  grep "Maximum resident set size" "$work/time-$n.txt" | awk '{print $NF}'
}
rss6=$(rss 1000000)
rss7=$(rss 10000000)
rss_diff=$(python3 -c "print(f'{100 * ($rss7 - $rss6) / $rss6:+.1f}')")

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
cat > "$work/table.md" <<MD

Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($cpu), $(rustc --version | cut -d' ' -f1-2),
load average before the run: $(cut -d' ' -f1-3 /proc/loadavg). Shared machine: every ratio
compares runs interleaved in the same script, and each figure is a median.

| figure | target | measured | command |
| --- | --- | --- | --- |
| mailflow / bare loop, tandem 1e6 messages, messages/s | ≥ 0.60 | **$bare_ratio** ($lib_rate vs $bare_rate msg/s, median of 7 alternated runs) | \`cargo run --release --example tandem_throughput -- 1000000 7\` |
| mailflow / SimPy 4.1.1, tandem, messages/s | ≥ 60 | **$(peer mailflow/simpy)** (SimPy $(rate simpy) msg/s) | \`benches/peers/run.sh $PEER_MESSAGES $PEER_ROUNDS\` |
| mailflow / Ciw 3.2.7, tandem, messages/s | far ahead | **$(peer mailflow/ciw)** (Ciw $(rate ciw) msg/s) | same |
| bare loop / SimPy, bare loop / Ciw (calibration) | about 100, 250 | $(peer bare_loop/simpy), $(peer bare_loop/ciw) | same |
| mailflow / bare loop at $PEER_MESSAGES messages | ≥ 0.60 | $(peer mailflow/bare_loop) | same |
| hybrid comparison, 1 thread ÷ 2 threads wall time | ≥ 1.8 | **$speedup** (median ${t1} s vs ${t2} s, $how) | \`mailflow run scenarios/hybrid-routing.toml --threads 1\` vs \`--threads 2\` |
| peak RSS, tandem 1e7 vs 1e6 messages | < 10% apart | **${rss_diff}%** (${rss6} KiB vs ${rss7} KiB) | \`/usr/bin/time -v mailflow run tandem-N.toml\` with \`[run] messages = N\` |
MD
cat "$work/table.md"
if [ "$WRITE" = "--write" ]; then
  # Splice the table between the markers; write a temporary file, then rename (atomic).
  python3 - results/performance.md "$work/table.md" <<'PY'
import os, sys
path, table = sys.argv[1], open(sys.argv[2]).read().strip("\n")
text = open(path).read()
begin, end = "<!-- report.sh:begin -->", "<!-- report.sh:end -->"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
tmp = path + ".tmp"
with open(tmp, "w") as f:
    f.write(head + begin + "\n" + table + "\n" + end + tail)
os.replace(tmp, path)
PY
  echo "updated results/performance.md" >&2
fi
