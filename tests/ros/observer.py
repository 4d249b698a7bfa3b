#!/usr/bin/env python3
"""Watches <ns>/cmd_vel for the ROS tests. With --estop-at T it publishes e-stop true on
<ns>/platform/emergency_stop (std_msgs/Bool, best effort, as Clearpath does) T seconds after
the first command arrives, repeating at 10 Hz, and false from --release-at on. Reports as
JSON: commands seen, the delay from the e-stop to the first zero command, and whether every
command after that was zero (while stopped, and after release until --duration-s).
"""

import argparse
import signal
import time

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.signals import SignalHandlerOptions
from std_msgs.msg import Bool

import peer_common as pc


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ns", default="w200_0000")
    ap.add_argument("--stamped", action="store_true", help="cmd_vel is TwistStamped")
    ap.add_argument("--estop-at", type=float, default=None, help="s after the first command")
    ap.add_argument("--release-at", type=float, default=None, help="s after the first command")
    ap.add_argument("--duration-s", type=float, default=10.0, help="s after the first command")
    ap.add_argument("--wait-s", type=float, default=30.0, help="longest wait for the first command")
    args = ap.parse_args()

    stop = {"now": False}
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.update(now=True))

    # Our own SIGTERM/SIGINT handlers end the loop and print the report; rclpy's would raise.
    rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
    node = rclpy.create_node("observer", namespace="/" + args.ns.strip("/"))
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    r = {"commands": 0, "nonzero_commands": 0, "first_command_s": None, "estop_sent_s": None,
         "first_zero_after_estop_s": None, "stop_delay_s": None, "nonzero_while_stopped": 0,
         "nonzero_after_release": 0, "release_sent_s": None}
    t0 = time.monotonic()
    first = {"t": None}

    def on_cmd(msg):
        t = pc.twist_of(msg)
        now = time.monotonic()
        zero = t.linear.x == 0.0 and t.angular.z == 0.0
        r["commands"] += 1
        r["nonzero_commands"] += 0 if zero else 1
        if first["t"] is None:
            first["t"] = now
            r["first_command_s"] = now - t0
        if r["estop_sent_s"] is not None:
            since = now - t0
            if r["first_zero_after_estop_s"] is None:
                if zero:
                    r["first_zero_after_estop_s"] = since
                    r["stop_delay_s"] = since - r["estop_sent_s"]
            elif not zero:
                if r["release_sent_s"] is None:
                    r["nonzero_while_stopped"] += 1
                else:
                    r["nonzero_after_release"] += 1

    node.create_subscription(pc.twist_type(args.stamped), pc.CMD_VEL, on_cmd, pc.RELIABLE)
    estop_pub = node.create_publisher(Bool, pc.ESTOP, pc.SENSOR_DATA)

    def estop_timer():
        if first["t"] is None:
            return
        since_first = time.monotonic() - first["t"]
        if args.estop_at is None or since_first < args.estop_at:
            return
        released = args.release_at is not None and since_first >= args.release_at
        estop_pub.publish(Bool(data=not released))
        now = time.monotonic() - t0
        if r["estop_sent_s"] is None:
            r["estop_sent_s"] = now
        if released and r["release_sent_s"] is None:
            r["release_sent_s"] = now

    node.create_timer(0.1, estop_timer)
    while not stop["now"]:
        executor.spin_once(timeout_sec=0.01)
        now = time.monotonic()
        if first["t"] is None and now - t0 > args.wait_s:
            break
        if first["t"] is not None and now - first["t"] > args.duration_s:
            break
    r["estop_subscribers"] = estop_pub.get_subscription_count()
    r["stayed_zero"] = r["first_zero_after_estop_s"] is not None and r["nonzero_while_stopped"] == 0
    pc.report(r)
    node.destroy_node()
    rclpy.try_shutdown()


if __name__ == "__main__":
    main()
