#!/usr/bin/env bash
# Messages per second on the tandem M/M/c model (scenarios/tandem-mmc.toml: 90/s through
# 4 × 30/s, 2 × 60/s, 8 × 15/s) for mailflow (library, full statistics), the bare event loop
# (benches/support/bare_loop.rs), SimPy 4 and Ciw 3 (pinned in requirements.txt), all on the
# same number of messages, and the ratios.
#
# The four run interleaved, round after round, so that they share the machine's load; the
# figures are medians over rounds, and each ratio is the median of the per-round ratios.
#
# Usage: benches/peers/run.sh [MESSAGES] [ROUNDS]     (defaults 50000 and 3)
# Environment: PEERS_VENV (default target/peers-venv), CARGO_TARGET_DIR.
# Not part of `cargo test`: it installs Python packages from PyPI and takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."

MESSAGES=${1:-50000}
ROUNDS=${2:-3}
TARGET=${CARGO_TARGET_DIR:-target}
VENV=${PEERS_VENV:-$TARGET/peers-venv}

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r benches/peers/requirements.txt
cargo build --quiet --release --example tandem_throughput
EXAMPLE=$TARGET/release/examples/tandem_throughput

lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
for round in $(seq 1 "$ROUNDS"); do
  # The Rust side is fast: 11 alternating runs each, their medians count as this round's.
  "$EXAMPLE" "$MESSAGES" 11 | grep '^impl=' | sed "s/^/round=$round /" | tee -a "$lines"
  "$VENV/bin/python" benches/peers/peers.py "$MESSAGES" 1 simpy | sed "s/^/round=$round /" | tee -a "$lines"
  "$VENV/bin/python" benches/peers/peers.py "$MESSAGES" 1 ciw | sed "s/^/round=$round /" | tee -a "$lines"
done

"$VENV/bin/python" - "$lines" <<'PY'
import collections, statistics, sys
rate = collections.defaultdict(dict)  # round -> impl -> msgs/s
for line in open(sys.argv[1]):
    kv = dict(f.split("=", 1) for f in line.split())
    rate[kv["round"]][kv["impl"]] = float(kv["msgs_per_s"])
impls = ["mailflow", "bare_loop", "simpy", "ciw"]
print()
for i in impls:
    print(f"{i:>10}: {statistics.median(r[i] for r in rate.values()):>12,.0f} messages/s (median)")
for a, b in [("mailflow", "bare_loop"), ("mailflow", "simpy"), ("mailflow", "ciw"),
             ("bare_loop", "simpy"), ("bare_loop", "ciw")]:
    ratio = statistics.median(r[a] / r[b] for r in rate.values())
    print(f"ratio {a}/{b}={ratio:.3f}")
PY
