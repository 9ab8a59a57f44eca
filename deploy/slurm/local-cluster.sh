#!/bin/bash
# A real Slurm run on one machine: installs Slurm and MUNGE from Debian's packages, starts a
# single-node cluster on this host (munged, slurmctld, slurmd; no accounting database), submits
# a sharded `run` and a sharded `sweep` (job arrays, each with a dependent merge job), waits,
# compares the merged CSVs byte for byte with single-process runs (cmp), and stops the daemons
# it started. Needs root (apt-get, daemons) and a built binary; run from the repository root:
#
#   cargo build --release && deploy/slurm/local-cluster.sh 2>&1 | tee results/scaleout/slurm-run.txt
#
# Environment: MAILFLOW (binary, default target/release/mailflow), N (shards, default 4),
# WORK (scratch directory, default a new temporary one). Not part of `cargo test`.
set -euo pipefail

repo=$(pwd)
MAILFLOW=$(realpath "${MAILFLOW:-target/release/mailflow}")
export MAILFLOW
N=${N:-4}
WORK=${WORK:-$(mktemp -d /tmp/mailflow-slurm.XXXXXX)}
here=$(cd "$(dirname "$0")" && pwd)
say() { printf '== %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "local-cluster.sh: run as root (it installs packages and starts daemons)" >&2; exit 2; }
[ -x "$MAILFLOW" ] || { echo "local-cluster.sh: no binary at $MAILFLOW; run cargo build --release" >&2; exit 2; }

say "installing Slurm and MUNGE from Debian packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
dpkg-query -W -f='${Package} ${Version}\n' slurm-wlm slurmctld slurmd slurm-client munge

host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
say "writing a single-node slurm.conf for $host ($cpus CPUs, $mem MB)"
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat >/etc/slurm/slurm.conf <<CONF
# Single-node cluster for mailflow's deploy/slurm/local-cluster.sh; no accounting database.
ClusterName=mailflow-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

say "starting munged, slurmctld, slurmd"
if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown munge:munge /etc/munge/munge.key /run/munge
chmod 400 /etc/munge/munge.key
stop() {
    say "stopping the daemons this script started"
    scontrol shutdown >/dev/null 2>&1 || true
    sleep 2
    for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
        if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            kill "$(cat "$pidfile")" || true
        fi
    done
}
trap stop EXIT
runuser -u munge -- /usr/sbin/munged
munge -n | unmunge | grep STATUS
slurmctld -c
slurmd -c
for _ in $(seq 30); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then break; fi
    sleep 1
done
sinfo

wait_job() {
    local id=$1
    while squeue -h -j "$id" 2>/dev/null | grep -q .; do sleep 1; done
    scontrol show job "$id" 2>/dev/null | grep -o 'JobState=[A-Z_]* Reason=[^ ]*' || true
}

compare() {
    local a=$1 b=$2
    shift 2
    local bad=0
    for f in "$@"; do
        if cmp "$a/$f" "$b/$f"; then
            echo "identical: $f"
        else
            echo "DIFFERENT: $f"
            bad=1
        fi
    done
    return $bad
}

cd "$WORK"
cp "$repo/scenarios/hybrid-routing.toml" "$repo/scenarios/tandem-mmc.toml" .
say "in a scratch directory (WORK): $N shards, $("$MAILFLOW" --version)"
scenario=hybrid-routing.toml
sweep_args=(sweep tandem-mmc.toml --set load.scale=0.5..1.25:0.25
    --set hops.s2.servers=2,3 --set run.duration_s=600 --replications 4)

say "single-process runs"
/usr/bin/time -f "single-process run: %e s wall" "$MAILFLOW" run "$scenario" --out single-run --quiet
/usr/bin/time -f "single-process sweep: %e s wall" "$MAILFLOW" "${sweep_args[@]}" --out single-sweep --quiet

say "submitting: run $scenario as a $N-task array + merge"
run_jobs=$(N=$N "$here/submit.sh" run-shards merged-run run "$scenario")
echo "$run_jobs"
say "submitting: sweep as a $N-task array + merge"
sweep_jobs=$(N=$N "$here/submit.sh" sweep-shards merged-sweep "${sweep_args[@]}")
echo "$sweep_jobs"
squeue
for jobs in "$run_jobs" "$sweep_jobs"; do
    array=$(echo "$jobs" | awk '{print $3}')
    merge=$(echo "$jobs" | awk '{print $NF}')
    say "waiting for array $array and merge $merge"
    wait_job "$array"
    wait_job "$merge"
done
say "job output"
for f in mailflow-*.out; do echo "--- $f"; cat "$f"; done
say "shards written"
for d in run-shards/* sweep-shards/*; do
    printf '%s: %s\n' "$d" "$(tr -d ' \n' <"$d/shard.json" | grep -o '"shard":"[^"]*","units":\[[^]]*\]')"
done

say "merged vs single-process (cmp)"
status=0
compare single-run merged-run summary.csv hops.csv accounting.csv costs.csv || status=1
if diff -r single-run/hgrm merged-run/hgrm >/dev/null; then
    echo "identical: hgrm/ ($(ls single-run/hgrm | wc -l) files)"
else
    echo "DIFFERENT: hgrm/"
    status=1
fi
compare single-sweep merged-sweep sweep.csv || status=1
if [ $status = 0 ]; then
    say "PASS: the merged Slurm results equal the single-process results byte for byte"
else
    say "FAIL: merged results differ"
fi
exit $status
