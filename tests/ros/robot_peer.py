#!/usr/bin/env python3
"""Plays the robot for the ROS tests: subscribes <ns>/cmd_vel (Twist, or TwistStamped with
--stamped), integrates unicycle kinematics, and publishes <ns>/platform/odom/filtered and an
empty-world <ns>/sensors/lidar2d_0/scan (8 rays over the full circle, all at range_max 20 m)
at --rate-hz. With --odom-stop-at T it stops publishing odometry T seconds after start (to
test the watchdog). Runs until --duration-s or SIGTERM/SIGINT, then prints a JSON report,
including the latency from publishing odometry to receiving the first cmd_vel after it
(counted while the robot is commanded to move: that command is the one the odometry caused).
"""

import argparse
import math
import signal
import time

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.signals import SignalHandlerOptions
from nav_msgs.msg import Odometry
from sensor_msgs.msg import LaserScan

import peer_common as pc


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ns", default="w200_0000")
    ap.add_argument("--stamped", action="store_true", help="cmd_vel is TwistStamped")
    ap.add_argument("--rate-hz", type=float, default=50.0)
    ap.add_argument("--duration-s", type=float, default=float("inf"))
    ap.add_argument("--odom-stop-at", type=float, default=None, help="stop odometry after this many s")
    ap.add_argument("--cmd-timeout-s", type=float, default=0.25, help="command timeout of the controller")
    args = ap.parse_args()

    stop = {"now": False}
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.update(now=True))

    # Our own SIGTERM/SIGINT handlers end the loop and print the report; rclpy's would raise.
    rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
    node = rclpy.create_node("robot_peer", namespace="/" + args.ns.strip("/"))
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    state = {"x": 0.0, "y": 0.0, "yaw": 0.0, "v": 0.0, "w": 0.0, "cmd_t": -1.0}
    stats = {"commands": 0, "odom_sent": 0, "scans_sent": 0, "max_speed_mps": 0.0}
    pending = {"odom_t": None}
    odom_stop = {"at": None, "zero_after_s": None, "moved_after_zero": 0}
    latencies = []

    def on_cmd(msg):
        t = pc.twist_of(msg)
        now = time.monotonic()
        if pending["odom_t"] is not None and (t.linear.x != 0.0 or t.angular.z != 0.0):
            latencies.append(now - pending["odom_t"])
        pending["odom_t"] = None
        if odom_stop["at"] is not None and odom_stop["zero_after_s"] is None and t.linear.x == 0.0 \
                and t.angular.z == 0.0:
            odom_stop["zero_after_s"] = now - odom_stop["at"]
        elif odom_stop["zero_after_s"] is not None and (t.linear.x != 0.0 or t.angular.z != 0.0):
            odom_stop["moved_after_zero"] += 1
        state["v"], state["w"], state["cmd_t"] = t.linear.x, t.angular.z, now
        stats["commands"] += 1
        stats["max_speed_mps"] = max(stats["max_speed_mps"], abs(t.linear.x))

    node.create_subscription(pc.twist_type(args.stamped), pc.CMD_VEL, on_cmd, pc.RELIABLE)
    odom_pub = node.create_publisher(Odometry, pc.ODOM, pc.RELIABLE)
    scan_pub = node.create_publisher(LaserScan, pc.SCAN, pc.SENSOR_DATA)
    dt = 1.0 / args.rate_hz
    t0 = time.monotonic()
    odom_stopped_at = None

    def step():
        now = time.monotonic()
        # Like the Warthog's controller: a stale command means stop.
        v, w = (state["v"], state["w"]) if now - state["cmd_t"] <= args.cmd_timeout_s else (0.0, 0.0)
        state["x"] += v * math.cos(state["yaw"]) * dt
        state["y"] += v * math.sin(state["yaw"]) * dt
        state["yaw"] = math.atan2(math.sin(state["yaw"] + w * dt), math.cos(state["yaw"] + w * dt))
        stamp = node.get_clock().now().to_msg()
        nonlocal odom_stopped_at
        if args.odom_stop_at is None or now - t0 < args.odom_stop_at:
            o = Odometry()
            o.header.stamp, o.header.frame_id, o.child_frame_id = stamp, "odom", "base_link"
            o.pose.pose.position.x, o.pose.pose.position.y = state["x"], state["y"]
            qx, qy, qz, qw = pc.yaw_quaternion(state["yaw"])
            o.pose.pose.orientation.x, o.pose.pose.orientation.y = qx, qy
            o.pose.pose.orientation.z, o.pose.pose.orientation.w = qz, qw
            o.twist.twist.linear.x, o.twist.twist.angular.z = v, w
            odom_pub.publish(o)
            pending["odom_t"] = time.monotonic()
            stats["odom_sent"] += 1
        elif odom_stopped_at is None:
            odom_stopped_at = now - t0
            odom_stop["at"] = now
        s = LaserScan()
        s.header.stamp, s.header.frame_id = stamp, "lidar2d_0_laser"
        s.angle_min, s.angle_increment = 0.0, 2.0 * math.pi / 8
        s.angle_max = s.angle_min + 7 * s.angle_increment
        s.range_min, s.range_max = 0.0, 20.0
        s.ranges = [20.0] * 8
        scan_pub.publish(s)
        stats["scans_sent"] += 1

    node.create_timer(dt, step)
    while not stop["now"] and time.monotonic() - t0 < args.duration_s:
        executor.spin_once(timeout_sec=0.01)
    ms = [1e3 * x for x in latencies]
    stats["latency_ms"] = {"n": len(ms), "p50": pc.percentile(ms, 50), "p99": pc.percentile(ms, 99)}
    pc.report({**stats, "x_m": state["x"], "y_m": state["y"], "yaw_rad": state["yaw"],
               "odom_stopped_at_s": odom_stopped_at, "zero_after_odom_stop_s": odom_stop["zero_after_s"],
               "nonzero_after_odom_stop": odom_stop["moved_after_zero"], "elapsed_s": time.monotonic() - t0})
    node.destroy_node()
    rclpy.try_shutdown()


if __name__ == "__main__":
    main()
