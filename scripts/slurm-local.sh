#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, slurmctld and slurmd on localhost, for the cluster
# tests (Tests/ClusterTests) and for trying `driftbox cluster slurm` by hand. Idempotent: when
# the node is up and idle already it does nothing. Needs root: it installs Debian's slurm-wlm
# and munge when they are missing, writes /etc/slurm/slurm.conf and starts munged, slurmctld
# and slurmd in the background (no systemd needed). No accounting, no cgroups.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "slurm-local.sh: run it as root (it installs packages, writes /etc/slurm and starts daemons)" >&2
    exit 1
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

node=$(hostname -s)
state() { sinfo -h -n "$node" -o %T 2>/dev/null | head -n 1 || true; }
case "$(state)" in
    idle|mixed|allocated|completing) echo "slurm-local.sh: node $node is up ($(state))"; exit 0 ;;
esac

# munge: a key (the package usually makes one), its folders, the daemon as the munge user.
mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
if [ ! -s /etc/munge/munge.key ]; then mungekey --create --keyfile=/etc/munge/munge.key; fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 0700 /etc/munge && chmod 0600 /etc/munge/munge.key && chmod 0755 /run/munge
if ! munge -n >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 1 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
fi
munge -n | unmunge >/dev/null

# slurm.conf: this machine's CPUs and memory as the one node of one partition.
cpus=$(nproc)
memory=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024 - 512 ))
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf.new <<CONF
# Written by driftbox's scripts/slurm-local.sh: a one-node cluster on localhost.
ClusterName=driftbox
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobRequeue=1
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
mv /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf

if ! scontrol ping 2>/dev/null | grep -q "is UP"; then
    slurmctld
    for _ in $(seq 1 100); do scontrol ping 2>/dev/null | grep -q "is UP" && break; sleep 0.1; done
fi
if [ ! -e /run/slurmd.pid ] || ! kill -0 "$(cat /run/slurmd.pid)" 2>/dev/null; then
    slurmd
fi

# Wait (at most 60 s) for the node to come up idle; a node left down or drained is resumed.
for _ in $(seq 1 120); do
    case "$(state)" in
        idle|mixed|allocated) echo "slurm-local.sh: node $node is up ($(state)), $cpus CPU(s)"; exit 0 ;;
        down*|drain*|fail*) scontrol update NodeName="$node" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
done
echo "slurm-local.sh: node $node did not come up (state: $(state)); see /var/log/slurm/slurmctld.log and /var/log/slurm/slurmd.log" >&2
exit 1
