#!/usr/bin/env bash
# Tests deploy/ (DESIGN §2): a sharded verification campaign on a real one-node Slurm cluster
# must produce a certificate byte-identical to one unsharded `sim2real verify` run, a failed
# shard must fail the campaign, and the Kubernetes manifests must be valid and consistent.
#
#   scripts/test-deploy.sh            (as root: it installs and starts Slurm)
#
# SIM2REAL_BIN=PATH uses that binary instead of building one. Two campaigns run, each sharded
# and unsharded: 401 trials per subtask (the yard's baseline passes in low fidelity: exit 0;
# uneven shards of 134, 134, 133) and 40 (too few to certify θ: exit 3). The Slurm cluster (scripts/slurm-cluster.sh) is stopped at the
# end if this script started it; one that was already running is left running. Prints the
# time of each stage.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() {
  local name=$1; shift
  local t0=$SECONDS
  echo "=== deploy: $name"
  "$@"
  echo "=== deploy: $name: $((SECONDS - t0)) s"
}
fail() { echo "test-deploy: FAIL: $*" >&2; exit 1; }

shards=3
work=$(mktemp -d "${TMPDIR:-/tmp}/sim2real-deploy.XXXXXX")
cluster_was_running=0
if ./scripts/slurm-cluster.sh status >/dev/null 2>&1; then cluster_was_running=1; fi

cleanup() {
  local rc=$?
  if ((cluster_was_running == 0)); then ./scripts/slurm-cluster.sh stop || true; fi
  if ((rc == 0)); then rm -rf "$work"; else echo "test-deploy: kept $work for inspection" >&2; fi
  exit "$rc"
}
trap cleanup EXIT

build() {
  if [ -n "${SIM2REAL_BIN:-}" ]; then
    bin=$(realpath "$SIM2REAL_BIN")
  else
    cargo build --quiet --bin sim2real
    local target
    target=$(cargo metadata --no-deps --format-version 1 |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    bin=$target/debug/sim2real
  fi
  [ -x "$bin" ] || fail "no sim2real binary at $bin"
  echo "binary: $bin"
}

# One unsharded run: the reference the merged certificate must equal byte for byte. Sets
# whole_rc (0 passed, 3 not certified) and checks it is the one expected.
unsharded() {
  local trials=$1 expect=$2
  mkdir -p "$work/bundle"
  cp scenarios/warthog_yard/scenario.yaml "$work/bundle/"
  set +e
  "$bin" verify "$work/bundle" --fidelity low --baseline --trials "$trials" --seed 7 \
    --out "$work/whole-$trials.yaml" >"$work/whole-$trials.log" 2>&1
  whole_rc=$?
  set -e
  grep -v ' INFO ' "$work/whole-$trials.log" | tail -n 3
  [ "$whole_rc" = "$expect" ] || { cat "$work/whole-$trials.log"; fail "unsharded verify exited $whole_rc, expected $expect"; }
  [ -s "$work/whole-$trials.yaml" ] || fail "unsharded verify wrote no $work/whole-$trials.yaml"
}

slurm_campaign() {
  local trials=$1 rc=0 out=$work/campaign-$1 ids array_job merge_job
  ./deploy/slurm/submit.sh --wait --timeout 600 --bin "$bin" --bundle "$work/bundle" --out "$out" \
    --shards "$shards" --fidelity low --baseline --trials "$trials" --seed 7 || rc=$?
  # submit.sh's exit follows verify's: 0 or 3 means both jobs COMPLETED.
  [ "$rc" = "$whole_rc" ] || { tail -n 20 "$out"/logs/*; fail "submit.sh --wait exited $rc, unsharded verify $whole_rc"; }
  ids=$(cat "$out/jobs.env")
  array_job=$(sed -n 's/^array_job=//p' <<<"$ids")
  merge_job=$(sed -n 's/^merge_job=//p' <<<"$ids")
  # Independently of submit.sh: every array task and the merge job COMPLETED with exit 0:0.
  local tasks
  tasks=$(scontrol -o show job "$array_job" | grep -o 'JobState=[A-Z_]* .*ExitCode=[0-9:]*' |
    sed 's/JobState=\([A-Z_]*\) .*ExitCode=\([0-9:]*\)/\1 \2/')
  echo "array tasks: $(tr '\n' ';' <<<"$tasks")"
  [ "$(grep -c '^COMPLETED 0:0$' <<<"$tasks")" = "$shards" ] || fail "array job $array_job: not $shards COMPLETED tasks"
  scontrol -o show job "$merge_job" | grep -q 'JobState=COMPLETED .*ExitCode=0:0' ||
    fail "merge job $merge_job not COMPLETED: $(scontrol -o show job "$merge_job")"
  [ "$(cat "$out/merge.exit")" = "$whole_rc" ] ||
    fail "verify-merge exited $(cat "$out/merge.exit"), unsharded verify $whole_rc"
  local i
  for ((i = 0; i < shards; i++)); do
    [ -s "$out/shards/shard-$i-of-$shards.yaml" ] || fail "missing shard $i"
  done
  cmp "$work/whole-$trials.yaml" "$out/certificate.yaml" ||
    fail "merged certificate differs from the unsharded one (diff $work/whole-$trials.yaml $out/certificate.yaml)"
  echo "merged certificate of $shards shards == unsharded certificate (cmp), verdict exit $whole_rc"
}

# A shard that fails (here: a malformed scenario, exit 2) fails its task; the merge job is
# cancelled rather than left pending, and submit.sh --wait says so.
slurm_failure() {
  local rc=0 out=$work/broken-campaign
  mkdir -p "$work/broken"
  echo "name: [unclosed" >"$work/broken/scenario.yaml"
  ./deploy/slurm/submit.sh --wait --timeout 300 --bin "$bin" --bundle "$work/broken" --out "$out" \
    --shards 2 --fidelity low --baseline --trials 2 || rc=$?
  [ "$rc" = 1 ] || fail "submit.sh --wait on a broken bundle exited $rc, expected 1"
  local merge_job
  merge_job=$(sed -n 's/^merge_job=//p' "$out/jobs.env")
  scontrol -o show job "$merge_job" | grep -q 'JobState=CANCELLED' ||
    fail "merge job $merge_job after failed shards: $(scontrol -o show job "$merge_job")"
  [ ! -e "$out/certificate.yaml" ] || fail "a certificate was written from failed shards"
  echo "failed shards: submit.sh exit 1, merge job CANCELLED, no certificate"
}

# Kubernetes: no cluster here. The manifests are parsed and their shard wiring checked (python3
# + PyYAML), then validated strictly against the Kubernetes API schemas of 1.29 (oldest
# supported) and 1.37 with kubernetes-validate from PyPI (a cached venv outside the clone).
k8s_manifests() {
  python3 - deploy/k8s/verify-job.yaml <<'PY'
import re, sys, yaml

path = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
def fail(msg):
    sys.exit(f"{path}: {msg}")

stages = {d["metadata"]["name"]: d["metadata"].get("labels", {}).get("sim2real.io/stage") for d in docs}
if sorted(set(stages.values())) != ["merge", "shards", "storage"]:
    fail(f"every object needs label sim2real.io/stage in storage|shards|merge, got {stages}")
jobs = [d for d in docs if d["kind"] == "Job"]
indexed = [j for j in jobs if j["spec"].get("completionMode") == "Indexed"]
if len(indexed) != 1:
    fail(f"expected one Job with completionMode: Indexed, got {len(indexed)}")
shard_job = indexed[0]
merge_jobs = [j for j in jobs if j is not shard_job]
if len(merge_jobs) != 1:
    fail("expected one merge Job beside the Indexed Job")
merge_job = merge_jobs[0]
spec = shard_job["spec"]
n = spec["completions"]
if not isinstance(n, int) or n < 1:
    fail(f"completions must be a positive integer, got {n!r}")
if not 1 <= spec.get("parallelism", 1) <= n:
    fail(f"parallelism {spec.get('parallelism')} not in 1..{n}")

def container(job):
    pod = job["spec"]["template"]["spec"]
    if pod.get("restartPolicy") != "Never":
        fail(f"{job['metadata']['name']}: restartPolicy must be Never (podFailurePolicy needs it)")
    (c,) = pod["containers"]
    return pod, c

def option(argv, flag):
    if argv.count(flag) != 1:
        fail(f"{flag} must appear once in {argv}")
    return argv[argv.index(flag) + 1]

def location(pod, c, file):
    """(claim, path inside the volume) of a container path, through its volumeMounts."""
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]}
    best = None
    for m in c.get("volumeMounts", []):
        mp = m["mountPath"].rstrip("/")
        if file == mp or file.startswith(mp + "/"):
            if best is None or len(mp) > len(best[0]):
                best = (mp, m)
    if best is None:
        fail(f"{c['name']}: {file} is on no mounted volume")
    mp, m = best
    rest = file[len(mp):].lstrip("/")
    inner = "/".join(p for p in (m.get("subPath", ""), rest) if p)
    return claims[m["name"]], inner, m.get("readOnly", False)

pod, c = container(shard_job)
argv = c.get("command", []) + c.get("args", [])
if argv[:2] != ["sim2real", "verify"]:
    fail(f"the Indexed Job must run `sim2real verify`, runs {argv[:2]}")
if option(argv, "--shard") != f"$(JOB_COMPLETION_INDEX)/{n}":
    fail(f"--shard must be $(JOB_COMPLETION_INDEX)/{n} (completions {n}), got {option(argv, '--shard')}")
out = option(argv, "--out")
if "$(JOB_COMPLETION_INDEX)" not in out or f"-of-{n}." not in out:
    fail(f"--out must name the shard by $(JOB_COMPLETION_INDEX) and N={n}, got {out}")
env = {e["name"]: e for e in c.get("env", [])}
ref = env.get("JOB_COMPLETION_INDEX", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
if ref != "metadata.annotations['batch.kubernetes.io/job-completion-index']":
    fail("JOB_COMPLETION_INDEX must come from the job-completion-index annotation")
bundle = location(pod, c, argv[2])
shard_out = location(pod, c, out)
if not bundle[2]:
    fail("the bundle must be mounted read-only")
if shard_out[0] == bundle[0] and (shard_out[1] + "/").startswith(bundle[1] + "/"):
    fail("shards must not be written inside the bundle (they hash its files)")

mpod, mc = container(merge_job)
margv = mc.get("command", []) + mc.get("args", [])
if margv[:2] != ["sim2real", "verify-merge"]:
    fail(f"the merge Job must run `sim2real verify-merge`, runs {margv[:2]}")
outs = [i for i, a in enumerate(margv) if a == "--out"]
inputs = margv[2:outs[0]] if outs else fail("verify-merge needs --out")
want = [(shard_out[0], shard_out[1].replace("$(JOB_COMPLETION_INDEX)", str(k))) for k in range(n)]
got = [location(mpod, mc, f)[:2] for f in inputs]
if got != want:
    fail(f"the merge Job must read exactly the {n} shard files the Indexed Job writes: {got} != {want}")
if c["image"] != mc["image"]:
    fail("both Jobs must run the same image (verify-merge refuses shards of another tool version)")
print(f"{path}: Indexed Job completions={n} parallelism={spec.get('parallelism', 1)}, "
      f"--shard $(JOB_COMPLETION_INDEX)/{n}, merge reads the same {n} shard files")
PY
  local venv=${SIM2REAL_K8S_VALIDATE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/sim2real/kubernetes-validate-1.37.0}
  if [ ! -x "$venv/bin/kubernetes-validate" ]; then
    echo "installing kubernetes-validate 1.37.0 into $venv (once)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate==1.37.0
  fi
  local v
  for v in 1.29.0 1.37.0; do
    "$venv/bin/kubernetes-validate" --quiet --strict -k "$v" deploy/k8s/verify-job.yaml ||
      fail "deploy/k8s/verify-job.yaml does not validate against Kubernetes $v"
    echo "deploy/k8s/verify-job.yaml: valid (strict) for Kubernetes $v"
  done
  bash -n deploy/k8s/run.sh
}

stage "build sim2real" build
stage "start Slurm" ./scripts/slurm-cluster.sh start
# trials per subtask, expected exit code of verify
for run in 401:0 40:3; do
  t=${run%:*} code=${run#*:}
  stage "unsharded verify, $t trials per subtask (expect exit $code)" unsharded "$t" "$code"
  stage "Slurm array ($shards shards) + merge, $t trials, cmp with unsharded" slurm_campaign "$t"
done
stage "Slurm failed shard cancels the merge" slurm_failure
stage "Kubernetes manifests" k8s_manifests
echo "test-deploy: all checks passed (work dir $work)"
