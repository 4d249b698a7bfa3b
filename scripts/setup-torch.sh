#!/usr/bin/env bash
# Assembles the minimal CPU libtorch 2.13.0 that tch 0.26 links against, from three PyPI wheels
# (no Python install, ~490 MB instead of the 4.7 GB CUDA venv). Idempotent: a no-op when the
# install is already there. The install lives outside the clone so clean CI clones reuse it:
#   ${SIM2REAL_CACHE:-$HOME/.cache/sim2real}/libtorch-2.13.0
# It is assembled in a temporary directory and renamed into place at the end, so an interrupted
# run never leaves a half install. Then `source scripts/torch-env.sh` before building.
set -euo pipefail

TORCH_VERSION=2.13.0
# libtorch_cpu.so has NEEDED entries for these two even on a CPU-only machine.
CUDART_VERSION=13.0.96
CUPTI_VERSION=13.0.85

cache=${SIM2REAL_CACHE:-$HOME/.cache/sim2real}
dest=$cache/libtorch-$TORCH_VERSION
marker=$dest/.sim2real-complete

if [ -f "$marker" ]; then
  echo "setup-torch: libtorch $TORCH_VERSION already at $dest"
  exit 0
fi

for tool in unzip python3; do
  command -v "$tool" >/dev/null || { echo "setup-torch: '$tool' not found" >&2; exit 1; }
done
python3 -m pip --version >/dev/null 2>&1 || { echo "setup-torch: python3 has no pip" >&2; exit 1; }

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.libtorch-$TORCH_VERSION.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "setup-torch: downloading wheels (~540 MB) into $tmp"
python3 -m pip download --quiet --no-deps --dest "$tmp/wheels" \
  "torch==$TORCH_VERSION" \
  "nvidia-cuda-runtime==$CUDART_VERSION" \
  "nvidia-cuda-cupti==$CUPTI_VERSION"

root=$tmp/libtorch
mkdir -p "$root/lib"
(
  cd "$root"
  unzip -q "$tmp"/wheels/torch-"$TORCH_VERSION"-*.whl \
    'torch/lib/libtorch_cpu.so' 'torch/lib/libc10.so' 'torch/lib/libgomp.so.1' \
    'torch/lib/libtorch.so' 'torch/include/*'
  mv torch/lib/* lib/
  mv torch/include .
  rm -rf torch
)
unzip -q -j "$tmp"/wheels/nvidia_cuda_runtime-*.whl '*libcudart.so.13*' -d "$root/lib"
unzip -q -j "$tmp"/wheels/nvidia_cuda_cupti-*.whl '*libcupti.so.13*' -d "$root/lib"
rm -rf "$tmp/wheels"

for lib in libtorch_cpu.so libc10.so libtorch.so libgomp.so.1 libcudart.so.13 libcupti.so.13; do
  [ -e "$root/lib/$lib" ] || { echo "setup-torch: $lib missing from the wheels" >&2; exit 1; }
done
echo "$TORCH_VERSION" >"$root/.sim2real-complete"

# A concurrent run may have finished first; keep its install.
if mv -T "$root" "$dest" 2>/dev/null; then
  echo "setup-torch: installed libtorch $TORCH_VERSION at $dest ($(du -sh "$dest" | cut -f1))"
elif [ -f "$marker" ]; then
  echo "setup-torch: libtorch $TORCH_VERSION already at $dest"
else
  echo "setup-torch: could not move the install to $dest (a stale directory is in the way?)" >&2
  exit 1
fi
