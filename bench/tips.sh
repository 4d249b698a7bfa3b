#!/usr/bin/env bash
# Wall-clock of the tips planner's perturbation suite (`sim2real eval-tips`, default settings:
# 6 variants, 40 high-fidelity missions per cell, 21 cells plus expert demonstrations) on the
# baseline bundle, and the table it prints. The binary measures its own wall-clock; the library
# never reads a clock.
#   ./bench/tips.sh            # release build
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/sim2real
echo "## eval-tips ($(nproc) cores)"
"$bin" eval-tips scenarios/warthog_yard/baseline_bundle/scenario.yaml --seed 0
