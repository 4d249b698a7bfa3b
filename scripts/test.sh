#!/usr/bin/env bash
# The test command of the README: format, lints, every test, and the ROS type-check.
# Prints the time of each stage.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

stage() {
  local name=$1; shift
  local t0=$SECONDS
  echo "=== $name"
  "$@"
  echo "=== $name: $((SECONDS - t0)) s"
}

stage "cargo fmt --check" cargo fmt --all --check
stage "clippy" cargo clippy --workspace --all-targets -- -D warnings
stage "tests" cargo test --workspace
stage "ros2-doc-only check" cargo check --features ros2-doc-only
