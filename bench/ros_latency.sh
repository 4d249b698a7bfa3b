#!/usr/bin/env bash
# Odometry-in → cmd_vel-out latency of the r2r graph over DDS, measured from an rclpy peer:
# the peer plays the robot (tests/ros/robot_peer.py: 50 Hz odometry and scan, unicycle
# kinematics) and `sim2real mission --transport ros2 --robot external` drives it to dock_south
# with the committed yard bundle (policy_executor → safety_monitor: two DDS hops). The peer
# times each odometry message to the first moving cmd_vel after it. Then the in-process graph
# for comparison (cargo bench --bench runtime). Release builds; loopback only.
#   ./bench/ros_latency.sh            # Twist;   STAMPED=1 for TwistStamped
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-ros.sh
# shellcheck source=scripts/ros-env.sh
source ./scripts/ros-env.sh
export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-88}
cargo build --release --quiet --features ros2 --bin sim2real
bin=${CARGO_TARGET_DIR:-target}/release/sim2real
flag=()
[ -n "${STAMPED:-}" ] && flag=(--stamped)
report=$(mktemp)
trap 'rm -f "$report"' EXIT
"$SIM2REAL_ROS_PYTHON" tests/ros/robot_peer.py --ns bench "${flag[@]}" > "$report" &
peer=$!
"$bin" mission scenarios/warthog_yard/bundle --goal dock_south --transport ros2 --robot external \
  --start-pose 18.418,17.932,1.2557 --namespace bench "${flag[@]}" | tail -1
kill -TERM "$peer"
wait "$peer" || true
python3 - "$report" "${flag[*]:-Twist}" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])["latency_ms"]
print(f"r2r graph over DDS, odometry in -> cmd_vel out ({sys.argv[2]}), {r['n']} samples: "
      f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms")
PY
cargo bench --quiet --bench runtime 2>/dev/null | tail -1
