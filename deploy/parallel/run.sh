#!/bin/bash
# One big host, no batch system: N shards as N single-threaded processes under GNU parallel,
# then the merge. The merged files are byte-identical to `mailflow run … --threads N`; worth it
# when shards should survive one another (a failed shard is rerun alone with parallel's
# --joblog and --resume-failed) or when the shard directories are wanted for later merges.
#
#   deploy/parallel/run.sh 8 shards merged run scenarios/hybrid-routing.toml --replications 40
set -euo pipefail
n=$1 root=$2 out=$3
shift 3
MAILFLOW=${MAILFLOW:-mailflow}
parallel --halt now,fail=1 --joblog "$root.joblog" -j "$n" \
    "$MAILFLOW" "$@" --quiet --threads 1 --shard {}/"$n" --out "$root"/{} ::: $(seq 0 $((n - 1)))
"$MAILFLOW" merge "$root"/*/ --out "$out"
