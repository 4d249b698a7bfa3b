#!/usr/bin/env python3
"""Measures odometry-publish → cmd_vel-receive latency through a node under test that echoes
odometry into commands (the sequence number rides in pose.position.x and must come back in
twist.linear.x). Waits until both topics are matched before counting, publishes --count
odometry messages on <ns>/platform/odom/filtered at --rate-hz, then reports as JSON: sent,
received, p50/p99/max latency (ms). With --bad-json it first sends malformed JSON on
<ns>/sim2real/mission/goal (the node must log and drop it, not crash).
"""

import argparse
import time

import rclpy
from rclpy.executors import SingleThreadedExecutor
from nav_msgs.msg import Odometry
from std_msgs.msg import String

import peer_common as pc


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ns", default="w200_0000")
    ap.add_argument("--stamped", action="store_true", help="cmd_vel is TwistStamped")
    ap.add_argument("--rate-hz", type=float, default=50.0)
    ap.add_argument("--count", type=int, default=250)
    ap.add_argument("--match-timeout-s", type=float, default=30.0)
    ap.add_argument("--bad-json", action="store_true")
    args = ap.parse_args()

    rclpy.init()
    node = rclpy.create_node("latency_probe", namespace="/" + args.ns.strip("/"))
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    sent, latency_ms = {}, {}
    stamped_ok = {"n": 0}

    replies = {"n": 0}

    def on_cmd(msg):
        now = time.monotonic()
        replies["n"] += 1
        seq = int(round(pc.twist_of(msg).linear.x))
        # Only replies to counted odometry count (late warm-up replies do not).
        if seq in sent and seq not in latency_ms:
            latency_ms[seq] = (now - sent[seq]) * 1e3
            if args.stamped and (msg.header.stamp.sec != 0 or msg.header.stamp.nanosec != 0):
                stamped_ok["n"] += 1

    sub = node.create_subscription(pc.twist_type(args.stamped), pc.CMD_VEL, on_cmd, pc.RELIABLE)
    pub = node.create_publisher(Odometry, pc.ODOM, pc.RELIABLE)
    goal_pub = node.create_publisher(String, pc.GOAL, pc.RELIABLE)
    t0 = time.monotonic()
    matched = pc.wait_until(node, executor, lambda: pub.get_subscription_count() > 0
                            and sub.get_publisher_count() > 0
                            and (not args.bad_json or goal_pub.get_subscription_count() > 0),
                            args.match_timeout_s)
    match_s = time.monotonic() - t0
    if not matched:
        pc.report({"matched": False, "match_s": match_s})
        return 1
    # Both directions are discovered on our side, but discovery is not symmetric: the other side
    # may not have matched yet. Warm up with uncounted odometry (x = 0) until a reply comes back.
    def warm_up():
        o = Odometry()
        o.header.stamp = node.get_clock().now().to_msg()
        o.pose.pose.orientation.w = 1.0
        pub.publish(o)
        return pc.wait_until(node, executor, lambda: replies["n"] > 0, 0.02)
    deadline = time.monotonic() + args.match_timeout_s
    while not warm_up() and time.monotonic() < deadline:
        pass
    if args.bad_json:
        goal_pub.publish(String(data="{this is not json"))
        goal_pub.publish(String(data='{"goal": 3}'))
    period = 1.0 / args.rate_hz
    next_t = time.monotonic()
    for seq in range(1, args.count + 1):
        while time.monotonic() < next_t:
            executor.spin_once(timeout_sec=max(0.0, next_t - time.monotonic()))
        o = Odometry()
        o.header.stamp = node.get_clock().now().to_msg()
        o.header.frame_id, o.child_frame_id = "odom", "base_link"
        o.pose.pose.position.x = float(seq)
        o.pose.pose.orientation.w = 1.0
        sent[seq] = time.monotonic()
        pub.publish(o)
        next_t += period
    pc.wait_until(node, executor, lambda: len(latency_ms) >= len(sent), 1.0)
    lat = list(latency_ms.values())
    pc.report({"matched": True, "match_s": round(match_s, 3), "sent": len(sent),
               "received": len(latency_ms), "p50_ms": pc.percentile(lat, 50),
               "p99_ms": pc.percentile(lat, 99), "max_ms": max(lat) if lat else None,
               "stamped_commands": stamped_ok["n"]})
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
