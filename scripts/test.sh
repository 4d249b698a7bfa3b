#!/usr/bin/env bash
# The test command of the README: format, lints, every test (the layering check of DESIGN §2
# among them), the ROS type-check, the docs, the ROS 2 tests over real DDS, the colcon build of
# the launch package, the libtorch tests, the LLM tests with SmolLM2, a sharded campaign on
# Slurm, and the main job, which must reproduce the committed bundle. Prints the time of each
# stage.
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
# Docs that cannot rot silently: a broken intra-doc link or a malformed doc comment fails.
stage "cargo doc" env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

# ROS 2 Jazzy from PyPI wheels (installed once into a cache outside the clone), r2r built for
# real, and the nodes tested over DDS on loopback against rclpy peers.
stage "ros2 tests over DDS" ./scripts/test-ros.sh
stage "colcon build of launch/" ./scripts/test-colcon.sh

# The libtorch backend (feature `torch`): setup-torch.sh assembles libtorch 2.13.0 once into a
# cache outside the clone and is a no-op afterwards. A subshell keeps its environment local.
torch_tests() (
  ./scripts/setup-torch.sh
  # shellcheck source=scripts/torch-env.sh
  source ./scripts/torch-env.sh
  export OMP_NUM_THREADS=1
  cargo test -p sim2real-policies --features torch
  cargo clippy -p sim2real-policies --features torch --all-targets -- -D warnings
)
stage "torch tests" torch_tests

# The LLM paths with a real model: setup-llm.sh fetches SmolLM2-135M-Instruct (GGUF from PyPI)
# and builds the llama-cpp-python server once into a cache outside the clone; the HTTP client is
# tested against that server, the in-process backend with --features llm-local.
stage "LLM tests (SmolLM2, llama-cpp-python server)" ./scripts/test-llm.sh

# deploy/: a sharded verify campaign on a real one-node Slurm (installed and started by the
# script) must merge into the certificate of one unsharded run; Kubernetes manifests checked.
stage "sharded campaign on Slurm" ./scripts/test-deploy.sh

# The main job as CI runs it: the pipeline on the yard from scratch must end certified (exit 0)
# and reproduce the committed bundle byte for byte (same seed, same bundle), whose seal it must
# pass.
main_job() (
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  cargo build --release --quiet
  bin=${CARGO_TARGET_DIR:-target}/release/sim2real
  "$bin" pipeline scenarios/warthog_yard/scenario.yaml --out "$out/yard"
  diff -r "$out/yard" scenarios/warthog_yard/bundle
  "$bin" verify "$out/yard" --fidelity high --check > /dev/null
)
stage "main job: the pipeline on the yard reproduces the committed bundle" main_job
