#!/usr/bin/env bash
# Runs the sharded campaign of deploy/k8s/verify-job.yaml on the cluster kubectl points at, in
# order: storage (PVC + loader pod) → copy the bundle in → shards (Indexed Job) → Complete? →
# merge Job → copy the certificate out.
#
#   deploy/k8s/run.sh --bundle DIR --out FILE [--namespace NS] [--file MANIFEST] [--timeout S]
#
# Exit code as `sim2real verify`: 0 passed, 3 not certified (the merge pod exited 3), 1 a Job
# failed or timed out, 2 bad arguments. Both Jobs are deleted before they are applied again
# (a Job's pod template cannot be changed in place); the PVC and the loader pod stay for the
# next run (delete them with `kubectl delete -f MANIFEST -l sim2real.io/stage=storage`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

manifest=$here/verify-job.yaml
bundle=""
out=""
ns=()
timeout_s=3600
while (($#)); do
  case $1 in
    --bundle) bundle=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --namespace | -n) ns=(--namespace "${2:?}"); shift 2 ;;
    --file) manifest=${2:?}; shift 2 ;;
    --timeout) timeout_s=${2:?}; shift 2 ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
[ -f "$bundle/scenario.yaml" ] || { echo "run.sh: --bundle DIR with a scenario.yaml is required" >&2; exit 2; }
[ -n "$out" ] || { echo "run.sh: --out FILE is required" >&2; exit 2; }
k() { kubectl "${ns[@]}" "$@"; }
loader=pod/sim2real-campaign-loader

# Waits until the Job has condition Complete or Failed and prints which.
wait_job() {
  local job=$1 start=$SECONDS conds
  while :; do
    conds=$(k get "job/$job" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}')
    case " $conds " in
      *" Complete "*) echo Complete; return 0 ;;
      *" Failed "*) echo Failed; return 0 ;;
    esac
    if ((SECONDS - start >= timeout_s)); then echo Timeout; return 0; fi
    sleep 5
  done
}

echo "== storage"
k apply -f "$manifest" -l sim2real.io/stage=storage
k wait --for=condition=Ready "$loader" --timeout=300s
k delete job sim2real-verify sim2real-verify-merge --ignore-not-found --wait=true
# A fresh campaign folder: earlier shards or certificates must not pass for this run's.
k exec sim2real-campaign-loader -- rm -rf /campaign/bundle /campaign/shards /campaign/result
k exec sim2real-campaign-loader -- mkdir -p /campaign/bundle /campaign/shards /campaign/result
k cp "$bundle/." sim2real-campaign-loader:/campaign/bundle

echo "== shards"
k apply -f "$manifest" -l sim2real.io/stage=shards
state=$(wait_job sim2real-verify)
echo "shards job: $state"
if [ "$state" != Complete ]; then
  k logs -l sim2real.io/stage=shards --tail=20 --prefix || true
  exit 1
fi

echo "== merge"
k apply -f "$manifest" -l sim2real.io/stage=merge
state=$(wait_job sim2real-verify-merge)
k logs job/sim2real-verify-merge --tail=40 || true
# Exit codes of the merge pods (a retried pod leaves one each); 3 ends the Job at once.
codes=$(k get pods -l job-name=sim2real-verify-merge \
  -o jsonpath='{range .items[*]}{.status.containerStatuses[?(@.name=="merge")].state.terminated.exitCode}{" "}{end}')
code=$(tr ' ' '\n' <<<"$codes" | sed '/^$/d' | tail -n 1)
if grep -qw 3 <<<"$codes"; then code=3; fi
echo "merge job: $state (exit ${code:-?})"
if [ "$state" = Complete ] || { [ "$state" = Failed ] && [ "$code" = 3 ]; }; then
  k cp sim2real-campaign-loader:/campaign/result/certificate.yaml "$out"
  echo "certificate: $out"
  [ "$state" = Complete ] && exit 0
  echo "NOT CERTIFIED (verify-merge exit 3)"
  exit 3
fi
exit 1
