#!/usr/bin/env bash
# Creates the Python venv the SB3 comparison runs in (torch 2.13.0 from PyPI, which on Linux
# x86-64 is the CUDA build: about 4.7 GB; the benchmark uses it on the CPU only), with
# stable-baselines3, gymnasium, numpy and pyyaml:
#   ${SIM2REAL_CACHE:-$HOME/.cache/sim2real}/py-torch
# Idempotent: a no-op when a complete venv is there (marker file). An interrupted install leaves
# no marker and is redone from scratch next time. Not part of CI.
set -euo pipefail

TORCH_VERSION=2.13.0
cache=${SIM2REAL_CACHE:-$HOME/.cache/sim2real}
venv=$cache/py-torch
marker=$venv/.sim2real-complete

if [ -f "$marker" ]; then
  echo "setup: venv already at $venv ($(cat "$marker"))"
  exit 0
fi
command -v python3 >/dev/null || { echo "setup: python3 not found" >&2; exit 1; }
python3 -c 'import venv, ensurepip' 2>/dev/null || {
  echo "setup: python3 lacks venv/ensurepip (Debian: apt-get install python3-venv)" >&2
  exit 1
}

mkdir -p "$cache"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
echo "setup: installing torch==$TORCH_VERSION, stable-baselines3, gymnasium, pyyaml into $venv (several GB)"
"$venv/bin/python" -m pip install --quiet "torch==$TORCH_VERSION" stable-baselines3 gymnasium numpy pyyaml
"$venv/bin/python" - <<'EOF' >"$marker"
import gymnasium, stable_baselines3, torch, yaml
print(f"torch {torch.__version__}, stable-baselines3 {stable_baselines3.__version__}, gymnasium {gymnasium.__version__}")
EOF
echo "setup: done: $(cat "$marker")"
