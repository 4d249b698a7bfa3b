#!/usr/bin/env bash
# Submits a sharded verification campaign to Slurm: an array job of N shards
# (verify-array.sbatch) and a merge job (verify-merge.sbatch) that starts only when every shard
# succeeded (--dependency=afterok) and is cancelled if one failed (--kill-on-invalid-dep=yes).
#
#   deploy/slurm/submit.sh --bundle DIR --out DIR [--bin PATH] [--shards N] [--fidelity F]
#       [--trials N] [--seed N] [--confidence C] [--baseline] [--cpus-per-task N]
#       [--wait [--timeout S]] [-- EXTRA SBATCH OPTIONS (both jobs, e.g. --partition=P)]
#
# Each option may come from the environment instead: SIM2REAL_BIN, VERIFY_BUNDLE, VERIFY_OUT_DIR,
# VERIFY_SHARDS (default 4), VERIFY_FIDELITY (default all), VERIFY_TRIALS, VERIFY_SEED (0),
# VERIFY_CONFIDENCE, VERIFY_BASELINE (1 = on), VERIFY_CPUS_PER_TASK (1), VERIFY_WAIT_TIMEOUT_S.
# Paths must be the same on every node (a shared file system).
#
# Prints `array_job=ID` and `merge_job=ID` (also written to OUT_DIR/jobs.env). The certificate
# lands in OUT_DIR/certificate.yaml and verify-merge's exit code (0 passed, 3 not certified) in
# OUT_DIR/merge.exit. With --wait it polls `scontrol show job` (sacct where the cluster has
# accounting) until both jobs have ended and prints their states. Its exit code then follows
# `sim2real verify`: 0 when every array task and the merge job are COMPLETED and the campaign
# passed, 3 when they are COMPLETED but the evidence does not certify (merge.exit 3), 1 when a
# job did not complete (a failed shard, the merge cancelled or failed), 124 on --timeout.
# It does not use `sbatch --wait`: that exits 0 for a merge job cancelled by a failed dependency.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
die() { echo "submit.sh: $*" >&2; exit 2; }

bin=${SIM2REAL_BIN:-$(command -v sim2real || true)}
bundle=${VERIFY_BUNDLE:-}
out=${VERIFY_OUT_DIR:-}
shards=${VERIFY_SHARDS:-4}
fidelity=${VERIFY_FIDELITY:-all}
trials=${VERIFY_TRIALS:-}
seed=${VERIFY_SEED:-0}
confidence=${VERIFY_CONFIDENCE:-}
baseline=${VERIFY_BASELINE:-0}
cpus=${VERIFY_CPUS_PER_TASK:-1}
timeout_s=${VERIFY_WAIT_TIMEOUT_S:-0}
wait=0
extra=()
while (($#)); do
  case $1 in
    --bin) bin=${2:?}; shift 2 ;;
    --bundle) bundle=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --shards) shards=${2:?}; shift 2 ;;
    --fidelity) fidelity=${2:?}; shift 2 ;;
    --trials) trials=${2:?}; shift 2 ;;
    --seed) seed=${2:?}; shift 2 ;;
    --confidence) confidence=${2:?}; shift 2 ;;
    --baseline) baseline=1; shift ;;
    --cpus-per-task) cpus=${2:?}; shift 2 ;;
    --wait) wait=1; shift ;;
    --timeout) timeout_s=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    --) shift; extra=("$@"); break ;;
    *) echo "submit.sh: unknown argument $1" >&2; usage ;;
  esac
done

is_count() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
[ -n "$bin" ] || die "no sim2real binary: pass --bin PATH or set SIM2REAL_BIN"
[ -x "$bin" ] || die "--bin $bin: not an executable file"
[ -n "$bundle" ] || die "--bundle DIR is required"
[ -f "$bundle/scenario.yaml" ] || die "--bundle $bundle: no scenario.yaml there"
[ -n "$out" ] || die "--out DIR is required"
is_count "$shards" || die "--shards: need a positive integer, got '$shards'"
is_count "$cpus" || die "--cpus-per-task: need a positive integer, got '$cpus'"
[[ $timeout_s =~ ^[0-9]+$ ]] || die "--timeout: need seconds, got '$timeout_s'"
[ -z "$trials" ] || is_count "$trials" || die "--trials: need a positive integer, got '$trials'"
[[ $seed =~ ^[0-9]+$ ]] || die "--seed: need a non-negative integer, got '$seed'"
case $fidelity in low | high | all) ;; *) die "--fidelity: low, high or all, got '$fidelity'" ;; esac
command -v sbatch >/dev/null || die "sbatch not found: is this a Slurm submit host?"

# Jobs may start in another working directory: pass absolute paths.
bin=$(realpath "$bin")
bundle=$(realpath "$bundle")
out=$(realpath -m "$out")
# The shards hash every bundle file; output written inside the bundle would change it under
# the other shards' feet.
case "$out/" in "$bundle"/*) die "--out $out is inside the bundle $bundle; put it elsewhere" ;; esac
# Slurm does not create log folders (a missing one fails the job with no log at all).
mkdir -p "$out/shards" "$out/logs"
# Results of an earlier campaign in this folder must not pass for this one's.
rm -f "$out"/shards/shard-*-of-*.yaml "$out/certificate.yaml" "$out/merge.exit" "$out/jobs.env"

export SIM2REAL_BIN=$bin VERIFY_BUNDLE=$bundle VERIFY_OUT_DIR=$out VERIFY_SHARDS=$shards \
  VERIFY_FIDELITY=$fidelity VERIFY_TRIALS=$trials VERIFY_SEED=$seed \
  VERIFY_CONFIDENCE=$confidence VERIFY_BASELINE=$baseline

# --parsable prints "ID" or "ID;CLUSTER".
array_job=$(sbatch --parsable --export=ALL --array="0-$((shards - 1))" --cpus-per-task="$cpus" \
  --output="$out/logs/verify-%A_%a.out" "${extra[@]}" "$here/verify-array.sbatch")
array_job=${array_job%%;*}
merge_job=$(sbatch --parsable --export=ALL --dependency="afterok:$array_job" --kill-on-invalid-dep=yes \
  --output="$out/logs/merge-%j.out" "${extra[@]}" "$here/verify-merge.sbatch")
merge_job=${merge_job%%;*}
printf 'array_job=%s\nmerge_job=%s\n' "$array_job" "$merge_job" | tee "$out/jobs.env"

((wait)) || exit 0

# States of a job (one line per array task). scontrol keeps finished jobs for MinJobAge
# seconds; sacct covers clusters with accounting after that.
states() {
  local s
  s=$(scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2) || true
  if [ -z "$s" ] && command -v sacct >/dev/null; then
    s=$(sacct -n -X -P -j "$1" -o State 2>/dev/null | awk '{print $1}') || true
  fi
  echo "$s"
}
ended() { # every state given is final (and there is at least one)
  [ -n "$1" ] || return 1
  local s
  for s in $1; do
    case $s in
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | PREEMPTED | BOOT_FAIL | DEADLINE) ;;
      *) return 1 ;;
    esac
  done
}
all_completed() { [ -n "$1" ] && ! grep -qv '^COMPLETED$' <<<"$(tr ' ' '\n' <<<"$1" | sed '/^$/d')"; }

start=$SECONDS
while :; do
  a=$(states "$array_job")
  m=$(states "$merge_job")
  if ended "$a" && ended "$m"; then break; fi
  if ((timeout_s > 0 && SECONDS - start >= timeout_s)); then
    echo "submit.sh: gave up after $timeout_s s; array: $(tr '\n' ' ' <<<"$a"), merge: $m" >&2
    exit 124
  fi
  sleep 1
done
# e.g. "array job 12: 3 COMPLETED" or "array job 12: 1 COMPLETED, 2 FAILED"
echo "array job $array_job: $(tr ' ' '\n' <<<"$a" | sed '/^$/d' | sort | uniq -c | awk '{print $1 " " $2}' | paste -sd, - | sed 's/,/, /g')"
echo "merge job $merge_job: $m$( [ -f "$out/merge.exit" ] && echo " (verify-merge exit $(cat "$out/merge.exit"))")"
if all_completed "$a" && all_completed "$m"; then
  code=$(cat "$out/merge.exit" 2>/dev/null || echo missing)
  echo "certificate: $out/certificate.yaml"
  case $code in
    0) exit 0 ;;
    3) echo "submit.sh: campaign ran; NOT CERTIFIED (verify-merge exit 3)"; exit 3 ;;
    *) echo "submit.sh: merge job COMPLETED but merge.exit is '$code'" >&2; exit 1 ;;
  esac
fi
echo "submit.sh: campaign failed; logs in $out/logs/" >&2
exit 1
