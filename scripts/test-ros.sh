#!/usr/bin/env bash
# The ROS 2 tests over real DDS on loopback: installs ROS 2 Jazzy from PyPI once
# (scripts/setup-ros.sh), builds with `--features ros2`, checks the launch files against the
# binary, and runs the bridge's unit tests and the integration tests against rclpy peers
# (tests/ros/): the bridge, missions with an rclpy robot (Twist and TwistStamped; 360- and
# 1081-beam lidars, an 8-beam scan refused, a localisation pose over drifting odometry), the
# e-stop and odometry-loss stops, the launch file's nodes as separate processes, recordings read by
# the ROS 2 MCAP reader. In-process test nodes share ROS_DOMAIN_ID (57 unless one is set);
# the mission tests give each test's processes a domain of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-ros.sh
# shellcheck source=scripts/ros-env.sh
source ./scripts/ros-env.sh
export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-57}

cargo build --features ros2 --bins --example ros_echo
# The launch files against what the binary declares (node names, parameters).
"$SIM2REAL_ROS_PYTHON" tests/ros/check_launch.py --bin "${CARGO_TARGET_DIR:-target}/debug/sim2real"
cargo test --features ros2 --lib ros::
# The bridge (tests/ros_bridge.rs) spins its test nodes inside the test process: one test at a
# time, as a node process runs one spin loop (several r2r contexts spinning side by side in one
# process lost a few reliable messages under load). Whole missions (tests/ros_mission.rs) are
# separate processes, each in its own ROS_DOMAIN_ID, so they run in parallel.
cargo test --features ros2 --test main ros_bridge -- --nocapture --test-threads 1
cargo test --features ros2 --test main ros_mission -- --nocapture
cargo clippy --features ros2 --all-targets -- -D warnings
