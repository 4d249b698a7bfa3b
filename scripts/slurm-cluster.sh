#!/usr/bin/env bash
# A real one-node Slurm cluster on this machine, for testing deploy/slurm/ (DESIGN §2;
# ../shared/research/slurm.md has the facts behind each step).
#
#   scripts/slurm-cluster.sh start    install the Debian packages if absent, write slurm.conf,
#                                     start munged, slurmctld and slurmd, wait until the node is idle
#   scripts/slurm-cluster.sh stop     stop the three daemons by the pids in their pid files
#   scripts/slurm-cluster.sh status   exit 0 when all three run and the node is idle, 1 otherwise
#
# All three are idempotent. Needs root (packages, /etc/slurm, /run); no systemd is assumed.
# Daemons are only ever signalled by the pid in their own pid file, after checking that the pid
# still belongs to that daemon: never by process name.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
# Marks the slurm.conf this script wrote; any other one belongs to someone else and is left alone.
MARK="# written by sim2real scripts/slurm-cluster.sh"
MUNGE_PID=/run/munge/munged.pid
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
PACKAGES=(slurmctld slurmd slurm-client munge)
HOST=$(hostname -s)

log() { echo "slurm-cluster: $*"; }
die() { echo "slurm-cluster: $*" >&2; exit 1; }

# The pid in a pid file if that process is alive, is not a zombie (stopped daemons linger as
# zombies for a few seconds here and `kill -0` counts them as alive) and is the named daemon
# (a stale file may name a recycled pid). Prints nothing and fails otherwise.
running_pid() {
  local file=$1 name=$2 pid stat comm
  # The file can vanish between any two looks (a stopping daemon removes it).
  pid=$({ tr -dc '0-9' <"$file"; } 2>/dev/null) || return 1
  [ -n "$pid" ] || return 1
  stat=$(ps -o stat= -p "$pid" 2>/dev/null | tr -d ' ') || return 1
  [ -n "$stat" ] && [[ $stat != Z* ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [ "$comm" = "$name" ] || return 1
  echo "$pid"
}

install_packages() {
  local need=() pkg
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
  done
  ((${#need[@]})) || return 0
  log "installing ${need[*]}"
  apt-get update -qq
  # The postinst scripts create the munge and slurm users and the munge key; their attempt to
  # start the services fails harmlessly without systemd.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

write_conf() {
  local node tmp
  if [ -e "$CONF" ] && ! grep -qxF "$MARK" "$CONF"; then
    die "$CONF exists and was not written by this script; refusing to replace it"
  fi
  # First line of `slurmd -C`: this machine's NodeName, CPUs, sockets, cores, memory.
  node=$(slurmd -C | head -n 1)
  [[ $node == NodeName=* ]] || die "unexpected \`slurmd -C\` output: $node"
  mkdir -p /etc/slurm
  tmp=$(mktemp /etc/slurm/.slurm.conf.XXXXXX)
  cat >"$tmp" <<EOF
$MARK
ClusterName=local
SlurmctldHost=$HOST
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# No cgroups here: track processes through /proc, no task containment.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Schedule every second rather than the default minute-scale passes: tests wait on it.
SchedulerParameters=sched_interval=1
# A failed shard cancels the dependent merge job instead of leaving it pending forever.
DependencyParameters=kill_invalid_depend
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
# No slurmdbd: no sacct. Finished jobs stay in \`scontrol show job\` for MinJobAge seconds and
# every job lands in the jobcomp file.
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
DefMemPerCPU=1000
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
$node State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
  chmod 644 "$tmp"
  if cmp -s "$tmp" "$CONF"; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$CONF"
    log "wrote $CONF"
  fi
}

start_munge() {
  if running_pid "$MUNGE_PID" munged >/dev/null; then return 0; fi
  rm -f "$MUNGE_PID"
  mkdir -p /run/munge
  chown munge:munge /run/munge
  chmod 755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
  su -s /bin/sh munge -c /usr/sbin/munged
  local i
  for ((i = 0; i < 50; i++)); do
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "munged did not answer (munge -n | unmunge)"
}

# Starts a Slurm daemon unless its pid file names a live one: a second instance would fail with
# "Address already in use" and overwrite the pid file with its own dead pid.
start_daemon() {
  local name=$1 pidfile=$2 i
  if running_pid "$pidfile" "$name" >/dev/null; then return 0; fi
  rm -f "$pidfile"
  "/usr/sbin/$name"
  for ((i = 0; i < 100; i++)); do
    if running_pid "$pidfile" "$name" >/dev/null; then return 0; fi
    sleep 0.1
  done
  die "$name did not start; see /var/log/slurm/$name.log"
}

node_state() { sinfo -h -n "$HOST" -o %T 2>/dev/null | head -n 1; }

wait_idle() {
  local i state=""
  for ((i = 0; i < 300; i++)); do
    state=$(node_state) || true
    case $state in
      idle | mixed | allocated) return 0 ;;
      # After an unclean stop the node can come back down or drained; it is ours, resume it.
      down* | drain*) scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.1
  done
  die "node $HOST not idle after 30 s (state: ${state:-none}); see /var/log/slurm/"
}

start() {
  [ "$(id -u)" -eq 0 ] || die "start needs root (packages, /etc/slurm, /run)"
  install_packages
  install -d -o slurm -g slurm /var/spool/slurmctld /var/log/slurm
  install -d -o root -g root /var/spool/slurmd
  if ! running_pid "$CTLD_PID" slurmctld >/dev/null; then
    write_conf
  fi
  start_munge
  start_daemon slurmctld "$CTLD_PID"
  start_daemon slurmd "$SLURMD_PID"
  wait_idle
  log "node $HOST $(node_state) (munged $(running_pid "$MUNGE_PID" munged), slurmctld $(running_pid "$CTLD_PID" slurmctld), slurmd $(running_pid "$SLURMD_PID" slurmd))"
}

# TERM, wait up to 10 s (a zombie counts as gone), then KILL; remove the pid file either way
# (slurmctld runs as user slurm and cannot remove its own file in /run).
stop_daemon() {
  local name=$1 pidfile=$2 pid i
  if pid=$(running_pid "$pidfile" "$name"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      running_pid "$pidfile" "$name" >/dev/null || break
      sleep 0.1
    done
    if running_pid "$pidfile" "$name" >/dev/null; then
      log "$name ($pid) ignored TERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        running_pid "$pidfile" "$name" >/dev/null || break
        sleep 0.1
      done
    fi
    log "stopped $name ($pid)"
  fi
  rm -f "$pidfile"
}

stop() {
  [ "$(id -u)" -eq 0 ] || die "stop needs root"
  stop_daemon slurmd "$SLURMD_PID"
  stop_daemon slurmctld "$CTLD_PID"
  stop_daemon munged "$MUNGE_PID"
}

status() {
  local ok=0 pid name file
  for pair in "munged:$MUNGE_PID" "slurmctld:$CTLD_PID" "slurmd:$SLURMD_PID"; do
    name=${pair%%:*}
    file=${pair#*:}
    if pid=$(running_pid "$file" "$name"); then
      echo "$name: running (pid $pid)"
    else
      echo "$name: stopped"
      ok=1
    fi
  done
  if ((ok == 0)); then
    local state
    state=$(node_state) || true
    echo "node $HOST: ${state:-unknown}"
    [ "$state" = idle ] || [ "$state" = mixed ] || [ "$state" = allocated ] || ok=1
  fi
  return $ok
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
