#!/bin/bash
# Submits a sharded mailflow study to Slurm: a job array of N shards and a merge job that
# runs when the whole array has succeeded (afterok). Prints the two job ids.
#
#   N=8 deploy/slurm/submit.sh SHARD_ROOT OUT run scenarios/hybrid-routing.toml --replications 40
#
# MAILFLOW (the binary, default `mailflow` on PATH) is passed to the jobs. SHARD_ROOT and OUT
# must be on a file system every node sees.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: [N=shards] deploy/slurm/submit.sh SHARD_ROOT OUT COMMAND [ARGS…]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$1
out=$2
shift 2
n=${N:-4}
MAILFLOW=${MAILFLOW:-mailflow}
export MAILFLOW
if ! command -v sbatch >/dev/null 2>&1; then
  echo "submit.sh: sbatch not found: run this on a Slurm submit host (or try deploy/slurm/local-cluster.sh)" >&2
  exit 2
fi
# The jobs run MAILFLOW on the compute nodes; checked here on the submit host, which usually
# shares their PATH or file system.
if ! command -v "$MAILFLOW" >/dev/null 2>&1; then
  echo "submit.sh: cannot find '$MAILFLOW': put mailflow on PATH (cargo install --path .) or set MAILFLOW=/path/to/mailflow on a file system every node sees" >&2
  exit 2
fi
array=$(sbatch --parsable --export=ALL --array=0-$((n - 1)) "$here/shard.sbatch" "$root" "$@")
array=${array%%;*}
merge=$(sbatch --parsable --export=ALL --dependency=afterok:"$array" "$here/merge.sbatch" "$root" "$out")
echo "array job $array ($n shards), merge job $merge"
