#!/usr/bin/env bash
# Installs a real ROS 2 Jazzy core (rcl, rclpy, Fast DDS, std/geometry/nav/sensor msgs) from PyPI
# wheels into a venv outside the clone, plus what r2r needs to build against it
# (../shared/research/ros2_from_pypi.md):
#   ${SIM2REAL_ROS_VENV:-${SIM2REAL_CACHE:-$HOME/.cache/sim2real}/ros-jazzy}
# Idempotent: a no-op when the venv is complete (marker file). The venv is built in a temporary
# directory and renamed into place at the end, so an interrupted run never leaves a half venv.
# The venv is relocatable enough for that: the wheels' bootstrapper (.pth) finds its libraries
# from sys.prefix, and the only baked-in paths (script shebangs, activate, pyvenv.cfg) are
# rewritten before the rename. Then `source scripts/ros-env.sh` before building with
# `--features ros2` or running the rclpy peers in tests/ros/.
set -euo pipefail

venv=${SIM2REAL_ROS_VENV:-${SIM2REAL_CACHE:-$HOME/.cache/sim2real}/ros-jazzy}
marker=$venv/.sim2real-complete
# What the marker records; change it with the package list, so older venvs get rebuilt.
version="jazzy packages-2"

# bindgen (r2r) needs libclang; patchelf fixes the wheels' librcl (gotcha 2 below).
missing=()
dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
command -v clang >/dev/null || missing+=(clang)
command -v patchelf >/dev/null || missing+=(patchelf)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-ros: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

if [ -f "$marker" ] && [ "$(cat "$marker")" = "$version" ]; then
  echo "setup-ros: ROS 2 Jazzy venv already at $venv"
  exit 0
fi

command -v python3 >/dev/null || { echo "setup-ros: 'python3' not found" >&2; exit 1; }
python3 -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 14)))' ||
  { echo "setup-ros: the ROS wheels need CPython 3.10 to 3.14" >&2; exit 1; }

parent=$(dirname "$venv")
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.$(basename "$venv").tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "setup-ros: installing ROS 2 Jazzy wheels (~60 MB) into $tmp"
python3 -m venv "$tmp"
"$tmp/bin/python" -m pip install --quiet --disable-pip-version-check \
  ros-jazzy-rclpy ros-jazzy-std-msgs ros-jazzy-geometry-msgs ros-jazzy-nav-msgs \
  ros-jazzy-sensor-msgs ros-jazzy-diagnostic-msgs ros-jazzy-rmw-fastrtps-cpp \
  mcap mcap-ros2-support pyyaml

# Gotcha 1: the single-RMW wheels have no librmw_implementation.so, which r2r links.
ln -sf librmw_fastrtps_cpp.so "$tmp/lib/librmw_implementation.so"
# Gotcha 2: librcl* list Python extension modules as NEEDED; a non-Python binary then dies
# with "undefined symbol: PyExc_RuntimeError". rclpy works the same without those entries.
(
  cd "$tmp/lib"
  for lib in librcl.so librcl_action.so librcl_lifecycle.so; do
    [ -e "$lib" ] || continue
    for needed in $(readelf -d "$lib" | grep -o 'lib[a-z_]*__rosidl_generator_py\.so' | sort -u); do
      patchelf --remove-needed "$needed" "$lib"
    done
  done
)

# Point the baked-in paths (shebangs, activate scripts, pyvenv.cfg) at the final location.
grep -rlIF "$tmp" "$tmp/bin" "$tmp/pyvenv.cfg" | while read -r f; do
  sed -i "s|$tmp|$venv|g" "$f"
done

# Check the install before sealing it: rclpy imports, r2r's link target exists.
"$tmp/bin/python" -c 'import rclpy, std_msgs.msg, geometry_msgs.msg, nav_msgs.msg, sensor_msgs.msg, diagnostic_msgs.msg, mcap_ros2.reader, yaml' ||
  { echo "setup-ros: the installed venv does not import rclpy and the messages" >&2; exit 1; }
[ -e "$tmp/lib/librmw_fastrtps_cpp.so" ] || { echo "setup-ros: librmw_fastrtps_cpp.so missing" >&2; exit 1; }
echo "$version" >"$tmp/.sim2real-complete"

# A concurrent run may have finished first; keep its venv. A stale incomplete one is replaced.
if [ -d "$venv" ] && ! { [ -f "$marker" ] && [ "$(cat "$marker")" = "$version" ]; }; then
  echo "setup-ros: removing the incomplete or outdated venv at $venv"
  rm -rf "$venv"
fi
if mv -T "$tmp" "$venv" 2>/dev/null; then
  echo "setup-ros: installed ROS 2 Jazzy at $venv ($(du -sh "$venv" | cut -f1))"
elif [ "$(cat "$marker" 2>/dev/null)" = "$version" ]; then
  echo "setup-ros: ROS 2 Jazzy venv already at $venv"
else
  echo "setup-ros: could not move the venv to $venv" >&2
  exit 1
fi
