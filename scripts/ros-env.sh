# Source this (`source scripts/ros-env.sh`) before building with `--features ros2`, running the
# binaries or tests built so, and running the rclpy peers in tests/ros/. It points r2r at the
# ROS 2 Jazzy venv that scripts/setup-ros.sh installs (../shared/research/ros2_from_pypi.md).
_sim2real_ros=${SIM2REAL_ROS_VENV:-${SIM2REAL_CACHE:-$HOME/.cache/sim2real}/ros-jazzy}
if [ ! -f "$_sim2real_ros/.sim2real-complete" ]; then
  echo "ros-env: no ROS 2 venv at $_sim2real_ros; run scripts/setup-ros.sh first" >&2
fi
# The venv is the ament prefix: r2r scans its ament index and include/, and links from lib/.
export AMENT_PREFIX_PATH=$_sim2real_ros
export ROS_DISTRO=jazzy
# Only the message packages the bridge uses get bindings (bindgen is the slow part of r2r).
export IDL_PACKAGE_FILTER="std_msgs;geometry_msgs;nav_msgs;sensor_msgs;diagnostic_msgs;builtin_interfaces;rcl_interfaces;action_msgs;unique_identifier_msgs;lifecycle_msgs"
# The wheels' RPATHs point outside the venv once installed, so the loader needs lib/ and every
# vendored ros_*.libs, both while r2r's build script runs and at run time.
_sim2real_ld=$_sim2real_ros/lib
for _sim2real_dir in "$_sim2real_ros"/lib/python3.*/site-packages/ros_*.libs; do
  [ -d "$_sim2real_dir" ] && _sim2real_ld=$_sim2real_ld:$_sim2real_dir
done
export LD_LIBRARY_PATH=$_sim2real_ld${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# Keep DDS discovery on loopback (Fast DDS multicasts on every interface otherwise).
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
# The wheels are built for Fast DDS only; any other RMW makes rcl_init fail.
unset RMW_IMPLEMENTATION
export SIM2REAL_ROS_PYTHON=$_sim2real_ros/bin/python
unset _sim2real_ros _sim2real_ld _sim2real_dir
