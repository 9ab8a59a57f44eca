#!/bin/bash
# Submits a sharded mailflow study to Slurm: a job array of N shards and a merge job that
# runs when the whole array has succeeded (afterok). Prints the two job ids.
#
#   N=8 deploy/slurm/submit.sh SHARD_ROOT OUT run scenarios/hybrid-routing.toml --replications 40
#
# MAILFLOW (the binary, default `mailflow` on PATH) is passed to the jobs. SHARD_ROOT and OUT
# must be on a file system every node sees.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$1
out=$2
shift 2
n=${N:-4}
array=$(sbatch --parsable --export=ALL --array=0-$((n - 1)) "$here/shard.sbatch" "$root" "$@")
array=${array%%;*}
merge=$(sbatch --parsable --export=ALL --dependency=afterok:"$array" "$here/merge.sbatch" "$root" "$out")
echo "array job $array ($n shards), merge job $merge"
