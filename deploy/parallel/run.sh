#!/bin/bash
# One big host, no batch system: N shards as N single-threaded processes under GNU parallel,
# then the merge. The merged files are byte-identical to `mailflow run … --threads N`; worth it
# when shards should survive one another (a failed shard is rerun alone with parallel's
# --joblog and --resume-failed) or when the shard directories are wanted for later merges.
#
#   deploy/parallel/run.sh 8 shards merged run scenarios/hybrid-routing.toml --replications 40
#   deploy/parallel/run.sh 2 cap-shards cap capacity S.toml --slo "inbound_to_onprem.p99<=5s"
#
# Needs mailflow on PATH (or MAILFLOW=/path/to/mailflow) and GNU parallel (Debian: parallel).
# Every argument after OUT reaches mailflow as one word, quotes and all (parallel -q), so
# `<=` in an SLO is not a shell redirection.
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: deploy/parallel/run.sh N SHARD_ROOT OUT COMMAND [ARGS…]   (e.g. 8 shards merged run S.toml)" >&2
  exit 2
fi
n=$1 root=$2 out=$3
shift 3
MAILFLOW=${MAILFLOW:-mailflow}
if ! command -v "$MAILFLOW" >/dev/null 2>&1; then
  echo "run.sh: cannot find '$MAILFLOW': put mailflow on PATH (cargo install --path .) or set MAILFLOW=/path/to/mailflow" >&2
  exit 2
fi
if ! parallel --version 2>/dev/null | grep -q "GNU parallel"; then
  echo "run.sh: needs GNU parallel (Debian/Ubuntu: apt-get install parallel; moreutils' parallel is another program)" >&2
  exit 2
fi
case $n in
  '' | *[!0-9]* | 0) echo "run.sh: N must be a whole number of shards, 1 or more (got '$n')" >&2; exit 2 ;;
esac
parallel -q --halt now,fail=1 --joblog "$root.joblog" -j "$n" \
    "$MAILFLOW" "$@" --quiet --threads 1 --shard {}/"$n" --out "$root"/{} ::: $(seq 0 $((n - 1)))
"$MAILFLOW" merge "$root"/*/ --out "$out"
