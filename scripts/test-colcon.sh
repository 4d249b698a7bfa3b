#!/usr/bin/env bash
# Builds launch/ as the ament_cmake package `sim2real` with colcon, as a ROS 2 workspace
# would, and checks the install tree: lib/sim2real/sim2real (a --features ros2 release build,
# whose `--help` runs), share/sim2real/launch/*.launch.{yaml,py} and
# share/sim2real/config/*.yaml. colcon, ament_cmake and ament_package come from PyPI into a
# venv beside the ROS one (${SIM2REAL_CACHE:-$HOME/.cache/sim2real}/colcon-jazzy); cmake from
# Debian. Everything is built under a temporary directory, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
./scripts/setup-ros.sh
# shellcheck source=scripts/ros-env.sh
source ./scripts/ros-env.sh

command -v cmake >/dev/null || {
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get install -y -q cmake >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q cmake >/dev/null; }
}

tools=${SIM2REAL_CACHE:-$HOME/.cache/sim2real}/colcon-jazzy
if [ ! -f "$tools/.sim2real-complete" ]; then
  rm -rf "$tools"
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check \
    colcon-core colcon-cmake colcon-ros colcon-package-selection colcon-output colcon-library-path \
    ros-jazzy-ament-cmake ros-jazzy-ament-package ros-jazzy-ament-cmake-include-directories
  touch "$tools/.sim2real-complete"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# ament_cmake's CMake files come from the tools venv; its python (with ament_package) first on PATH.
export CMAKE_PREFIX_PATH=$tools${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
export PATH=$tools/bin:$PATH
colcon --log-base "$work/log" build --base-paths "$root/launch" \
  --build-base "$work/build" --install-base "$work/install" --event-handlers console_direct+

install=$work/install/sim2real
for f in lib/sim2real/sim2real share/sim2real/launch/sil.launch.yaml share/sim2real/launch/warthog.launch.py \
  share/sim2real/config/safety_monitor.yaml share/sim2real/package.xml \
  share/ament_index/resource_index/packages/sim2real; do
  [ -e "$install/$f" ] || { echo "test-colcon: $f not installed" >&2; exit 1; }
done
"$install/lib/sim2real/sim2real" --help >/dev/null
echo "test-colcon: sim2real built and installed by colcon at $install"
