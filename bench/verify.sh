#!/usr/bin/env bash
# Verification campaign throughput and the sequential test's saving, on the yard scenario
# driven by the pure-pursuit baseline (a learned policy adds ~1.4 µs per decision, nothing
# next to the simulation). Release build, all cores. Prints a Markdown table.
#   ./bench/verify.sh            # writes nothing; paste the table into the README
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/sim2real
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/yard"
cp scenarios/warthog_yard/scenario.yaml "$work/yard/"

# One campaign; prints "trials seconds trials/min" from the tool's own summary line.
campaign() {
  "$bin" verify "$work/yard" --baseline "$@" 2>/dev/null |
    sed -n 's/^\([0-9]*\) trials in \([0-9.]*\) s (\([0-9]*\) trials\/min)$/\1 \2 \3/p'
}

echo "| campaign (yard, 13 subtasks, baseline, $(nproc) cores) | trials | wall-clock | rollouts/min |"
echo "|---|---|---|---|"
read -r n t r < <(campaign --fidelity low --trials 400)
echo "| low fidelity, 400 trials per subtask | $n | $t s | $r |"
read -r n t r < <(campaign --fidelity high --trials 20)
echo "| high fidelity, 20 trials per subtask | $n | $t s | $r |"
read -r n t r < <(campaign --fidelity low)
echo "| low fidelity, fixed N sized for certified θ (DESIGN §9) | $n | $t s | $r |"
read -r n2 t2 r2 < <(campaign --fidelity low --sequential)
echo "| low fidelity, sequential (same δ, stops once settled) | $n2 | $t2 s | $r2 |"
echo
echo "sequential test: $n2 of $n rollouts ($(( 100 - 100 * n2 / n )) % saved) at the same confidence"
