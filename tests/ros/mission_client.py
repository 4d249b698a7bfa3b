#!/usr/bin/env python3
"""An operator's client for the ROS tests: waits until the mission executive subscribes to
<ns>/sim2real/mission/goal, sends {"goal": GOAL}, and follows <ns>/sim2real/mission/status
until the mission ends. Prints a JSON report (every status) and exits 0 only when the goal
was reached.

With --say TEXT it speaks to the dialogue agent instead (<ns>/sim2real/operator/say, plain
text) and answers each question of <ns>/sim2real/operator/reply with the next --answer.
"""

import argparse
import json
import sys
import time

import rclpy
from rclpy.executors import SingleThreadedExecutor
from std_msgs.msg import String

import peer_common as pc

FINAL = {"succeeded", "failed", "e_stopped", "cancelled", "rejected"}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ns", default="w200_0000")
    ap.add_argument("--goal", help="send this goal directly")
    ap.add_argument("--say", help="first words to the dialogue agent")
    ap.add_argument("--answer", action="append", default=[], help="answers to its questions, in order")
    ap.add_argument("--timeout-s", type=float, default=120.0)
    ap.add_argument("--settle-s", type=float, default=3.0, help="wait this long before speaking")
    args = ap.parse_args()
    if (args.goal is None) == (args.say is None):
        ap.error("give exactly one of --goal and --say")

    rclpy.init()
    node = rclpy.create_node("mission_client", namespace="/" + args.ns.strip("/"))
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    statuses = []
    node.create_subscription(String, "sim2real/mission/status", lambda m: statuses.append(json.loads(m.data)),
                             pc.RELIABLE)
    goal_pub = node.create_publisher(String, pc.GOAL, pc.RELIABLE)
    say_pub = node.create_publisher(String, pc.SAY, pc.RELIABLE)
    replies, answers = [], list(args.answer)

    def on_reply(m):
        replies.append(m.data)
        if m.data.endswith("?") or m.data.endswith("Please confirm."):
            if answers:
                say_pub.publish(String(data=answers.pop(0)))
    node.create_subscription(String, pc.REPLY, on_reply, pc.RELIABLE)
    t0 = time.monotonic()
    if args.goal:
        def ready():
            return goal_pub.get_subscription_count() > 0
    else:
        # The agent must hear us and we must hear its replies before the first words.
        def ready():
            return say_pub.get_subscription_count() > 0 and node.count_publishers(pc.REPLY) > 0
    matched = pc.wait_until(node, executor, ready, args.timeout_s)
    if matched and args.say:
        # The nodes are up, but seven processes need a moment to discover one another; an
        # operator does not speak in the robot's first second either.
        pc.wait_until(node, executor, lambda: False, args.settle_s)
        # Discovery is not symmetric: the agent may not know our publisher yet (or we its reply
        # publisher). Say it again until it answers; later answers only follow its questions.
        while not replies and time.monotonic() - t0 < args.timeout_s:
            say_pub.publish(String(data=args.say))
            pc.wait_until(node, executor, lambda: bool(replies), 1.0)
        pc.wait_until(node, executor, lambda: any(s["phase"] in FINAL for s in statuses),
                      args.timeout_s - (time.monotonic() - t0))
    elif matched:
        # The executive accepts a goal once it has odometry; resend until it answers.
        def answered():
            return any(s.get("goal") == args.goal for s in statuses)
        while not answered() and time.monotonic() - t0 < args.timeout_s:
            goal_pub.publish(String(data=json.dumps({"goal": args.goal})))
            pc.wait_until(node, executor, answered, 1.0)
        pc.wait_until(node, executor, lambda: any(s["phase"] in FINAL for s in statuses),
                      args.timeout_s - (time.monotonic() - t0))
    final = next((s for s in statuses if s["phase"] in FINAL), None)
    pc.report({"matched": matched, "statuses": statuses, "replies": replies, "phase": final and final["phase"],
               "elapsed_s": time.monotonic() - t0})
    node.destroy_node()
    rclpy.try_shutdown()
    return 0 if final and final["phase"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
