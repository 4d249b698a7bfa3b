"""What the rclpy peers share: topic names, QoS (DESIGN §6 and §9) and small helpers.

Topics are relative to the robot namespace; the peers create their node in that namespace,
so the relative names resolve as the Rust nodes' do.
"""

import json
import math
import sys
import time

from rclpy.qos import (DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy,
                       qos_profile_sensor_data)

CMD_VEL = "cmd_vel"
ODOM = "platform/odom/filtered"
SCAN = "sensors/lidar2d_0/scan"
ESTOP = "platform/emergency_stop"
IMU = "sensors/imu_0/data"
GOAL = "sim2real/mission/goal"
SAY = "sim2real/operator/say"
REPLY = "sim2real/operator/reply"

# cmd_vel: reliable, volatile, depth 10. Odometry and IMU: reliable.
RELIABLE = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10,
                      reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)
# Scan and e-stop: the sensor-data profile (best effort), as Clearpath publishes the e-stop.
SENSOR_DATA = qos_profile_sensor_data


def twist_type(stamped):
    from geometry_msgs.msg import Twist, TwistStamped
    return TwistStamped if stamped else Twist


def twist_of(msg):
    """The Twist inside a Twist or TwistStamped."""
    return msg.twist if hasattr(msg, "twist") else msg


def yaw_quaternion(yaw):
    return (0.0, 0.0, math.sin(yaw / 2.0), math.cos(yaw / 2.0))


def percentile(values, q):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q / 100.0 * len(s)) - 1))]


def wait_until(node, executor, condition, timeout_s):
    """Spins until condition() holds; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        executor.spin_once(timeout_sec=0.01)
    return condition()


def report(data):
    print(json.dumps(data), flush=True)


def log(*args):
    print(*args, file=sys.stderr, flush=True)
