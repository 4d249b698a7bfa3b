#!/usr/bin/env bash
# Reply latency of the deterministic dialogue agent (target ≤ 50 ms per reply) and the
# Guess-the-Waypoint tables (with the PPO questioner; truthful and slipping confirmations), on
# the yard. The latency is wall clock around each `act` call of the
# greedy agent (parse the operator's words, update the belief, score every question), measured
# in the binary; the library never reads a clock.
#   ./bench/dialogue.sh            # release build; PROFILE=dev for the debug binary
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-release}
if [ "$profile" = release ]; then
  cargo build --release --quiet
  bin=${CARGO_TARGET_DIR:-target}/release/sim2real
else
  cargo build --quiet
  bin=${CARGO_TARGET_DIR:-target}/debug/sim2real
fi
yard=scenarios/warthog_yard/scenario.yaml
for targets in goals all; do
  for confirm in 0 0.1; do
    echo "## targets: $targets, confirmation noise $confirm ($profile build)"
    "$bin" eval-dialogue "$yard" --episodes 500 --noise 0.2 --confirm-noise "$confirm" --seed 0 \
      --targets "$targets" --ppo-steps 50000 --timing
    echo
  done
done
