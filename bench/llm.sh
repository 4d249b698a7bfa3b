#!/usr/bin/env bash
# The dialogue agent reading with SmolLM2-135M-Instruct (Q4_1), in process (llama.cpp, one
# thread) and through the llama-cpp-python server on loopback: the Guess-the-Waypoint table with
# the greedy+llm rows (100 episodes each, DESIGN §9) and the reply latency of the greedy+llm
# agent (p50, p99, max over every reply of 100 episodes; wall clock around each `act`, which
# includes one model call per operator utterance). Release build with --features llm-local;
# scripts/setup-llm.sh fetches the model and builds the server venv once.
#   ./bench/llm.sh                 # both backends
#   BACKENDS=local ./bench/llm.sh  # only in process (or BACKENDS=http)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-llm.sh > /dev/null
cache=${SIM2REAL_CACHE:-$HOME/.cache/sim2real}
venv=${SIM2REAL_LLM_VENV:-$cache/llm-server-venv}
gguf=${SIM2REAL_MODELS:-$cache/models}/SmolLM2-135M-Instruct.Q4_1.gguf
backends=${BACKENDS:-local http}
episodes=${EPISODES:-100}

t0=$SECONDS
cargo build --release --features llm-local --quiet
echo "release build with llm-local: $((SECONDS - t0)) s (incremental)"
bin=${CARGO_TARGET_DIR:-target}/release/sim2real
yard=scenarios/warthog_yard/scenario.yaml

for backend in $backends; do
  case $backend in
    local) spec=local:$gguf ;;
    http)
      port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      "$venv/bin/python" -m llama_cpp.server --model "$gguf" --host 127.0.0.1 --port "$port" \
        --n_threads 1 --chat_format chatml > /dev/null 2>&1 &
      server=$!
      trap 'kill "$server" 2>/dev/null || true' EXIT
      spec=http://127.0.0.1:$port/v1
      for _ in $(seq 1 120); do
        python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
          "$spec/models" 2>/dev/null && break
        sleep 0.5
      done
      ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  echo "## greedy+llm with $spec"
  t0=$SECONDS
  "$bin" eval-dialogue "$yard" --episodes 500 --noise 0.1 --seed 0 --llm "$spec" \
    --llm-episodes "$episodes" --timing
  echo "($((SECONDS - t0)) s)"
  echo
  if [ "$backend" = http ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    trap - EXIT
  fi
done
