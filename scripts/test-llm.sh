#!/usr/bin/env bash
# The LLM tests against a real model (DESIGN §9): sets up SmolLM2-135M-Instruct and the
# llama-cpp-python server once (scripts/setup-llm.sh), starts the server on a free loopback port
# serving the GGUF (stopped on exit), and runs the tests that need them, which are #[ignore]d
# in a plain `cargo test`: the HTTP client against the server, the in-process llama.cpp backend
# (feature llm-local) and the dialogue agent reading with SmolLM2. They read SIM2REAL_LLM_URL and
# SIM2REAL_GGUF and fail when either is missing. One test thread: the model runs on one core.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-llm.sh

cache=${SIM2REAL_CACHE:-$HOME/.cache/sim2real}
venv=${SIM2REAL_LLM_VENV:-$cache/llm-server-venv}
export SIM2REAL_GGUF=${SIM2REAL_MODELS:-$cache/models}/SmolLM2-135M-Instruct.Q4_1.gguf

stage() {
  local name=$1; shift
  local t0=$SECONDS
  echo "--- $name"
  "$@"
  echo "--- $name: $((SECONDS - t0)) s"
}

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
"$venv/bin/python" -m llama_cpp.server --model "$SIM2REAL_GGUF" --host 127.0.0.1 --port "$port" \
  --n_threads 1 --chat_format chatml > "$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT
export SIM2REAL_LLM_URL=http://127.0.0.1:$port/v1
wait_for_server() {
  for _ in $(seq 1 120); do
    if python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
      "$SIM2REAL_LLM_URL/models" 2>/dev/null; then
      echo "llama-cpp-python server up at $SIM2REAL_LLM_URL (pid $server)"
      return 0
    fi
    kill -0 "$server" 2>/dev/null || { echo "the server exited:" >&2; cat "$log" >&2; return 1; }
    sleep 0.5
  done
  echo "the server did not answer within 60 s:" >&2
  cat "$log" >&2
  return 1
}
stage "start the server" wait_for_server

stage "build with llm-local" cargo build --features llm-local --tests --bins
stage "llm unit tests" cargo test --features llm-local --lib -- llm:: agents::understanding
stage "llm tests with SmolLM2 (server and in process)" \
  cargo test --features llm-local --test main llm:: -- --include-ignored --test-threads 1 --nocapture
stage "clippy --features llm-local" cargo clippy --features llm-local --all-targets -- -D warnings
