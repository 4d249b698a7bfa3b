#!/usr/bin/env python3
"""Plays a Clearpath Warthog W200 with a 2D lidar for the ROS tests.

Subscribes <ns>/cmd_vel (Twist, or TwistStamped with --stamped) and drives like the W200's
diff_4wd controller: the command is clamped to ±5 m/s and ±4 rad/s, then rate-limited
(linear 2.5 m/s² speeding up, 10 m/s² slowing down; angular 2 and 8 rad/s²; a reversal first
slows to zero); a command older than --cmd-timeout-s targets zero. The limited twist is
integrated as a unicycle and published as <ns>/platform/odom/filtered at --rate-hz, its twist
the actual (limited) velocity; --odom-drift-mps adds a drift along +x of the odometry frame.

The odometry frame's origin is --start-pose in the scenario frame (scenario pose = start ∘
odometry pose, as `sim2real mission --start-pose`). <ns>/sensors/lidar2d_0/scan is a LaserScan
(REP 117: +inf for no return within range_max, -inf closer than range_min, NaN for
--scan-nan-fraction of the beams) ray-cast from the lidar (--mount on base_link) against the
obstacles of --scenario taller than the lidar (0.6 m), at --scan-rate-hz (default --rate-hz:
1081 beams at 50 Hz take about a tenth of a core). With --pose-topic the true scenario-frame
pose is also published (frame "map") at --rate-hz, as a localisation source would, and keeps
going if odometry stops.

With --odom-stop-at T it stops publishing odometry T seconds after start (to test the
watchdog). Runs until --duration-s or SIGTERM/SIGINT, then prints a JSON report, including the
latency from publishing odometry to receiving the first cmd_vel after it (counted while the
robot is commanded to move: that command is the one the odometry caused).
"""

import argparse
import array
import math
import os
import random
import signal
import time

import rclpy
import yaml
from rclpy.executors import SingleThreadedExecutor
from rclpy.signals import SignalHandlerOptions
from geometry_msgs.msg import PoseWithCovarianceStamped
from nav_msgs.msg import Odometry
from sensor_msgs.msg import LaserScan

import peer_common as pc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIDAR_HEIGHT_M = 0.6
# W200 controller limits: speed, then (speeding up, slowing down) accelerations.
MAX_V, MAX_W = 5.0, 4.0
ACCEL_V, ACCEL_W = (2.5, 10.0), (2.0, 8.0)
# Localisation covariance (x, y, z, roll, pitch, yaw): a few cm, about a degree.
POSE_VARIANCE = (0.0025, 0.0025, 0.0025, 0.0003, 0.0003, 0.0003)


def parse_pose(text):
    x, y, yaw = (float(v) for v in text.split(","))
    return x, y, yaw


def compose(a, b):
    """Pose b (in a's frame) in a's parent frame."""
    c, s = math.cos(a[2]), math.sin(a[2])
    yaw = a[2] + b[2]
    return a[0] + c * b[0] - s * b[1], a[1] + s * b[0] + c * b[1], math.atan2(math.sin(yaw), math.cos(yaw))


def clamp(x, limit):
    return max(-limit, min(limit, x)) if math.isfinite(x) else 0.0


def ramp(cur, target, up, down, dt):
    """One step of the controller's rate limiter toward target."""
    if cur * target < 0.0:
        target = 0.0  # reversing: come to a stop first
    limit = (up if abs(target) > abs(cur) else down) * dt
    return cur + max(-limit, min(limit, target - cur))


def load_obstacles(path):
    """The obstacles the lidar sees: (cx, cy, bounding radius, None) for a disc, or
    (cx, cy, bounding radius, edges) for a convex polygon, edges as (ax, ay, bx - ax, by - ay)."""
    with open(path) as f:
        doc = yaml.safe_load(f)
    shapes = []
    for ob in (doc.get("world") or {}).get("obstacles") or []:
        if float(ob.get("height_m", 0.0)) <= LIDAR_HEIGHT_M:
            continue
        if "disc" in ob:
            (cx, cy), r = ob["disc"]["center"], ob["disc"]["radius_m"]
            shapes.append((float(cx), float(cy), float(r), None))
            continue
        if "box" in ob:
            b = ob["box"]
            (cx, cy), (hx, hy) = b["center"], b["half_extents_m"]
            yaw = math.radians(float(b.get("yaw_deg", 0.0)))
            c, s = math.cos(yaw), math.sin(yaw)
            pts = [(cx + c * px - s * py, cy + s * px + c * py)
                   for px, py in ((-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy))]
        else:
            pts = [(float(x), float(y)) for x, y in ob["polygon"]]
        cx, cy = sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)
        r = max(math.hypot(x - cx, y - cy) for x, y in pts)
        edges = [(ax, ay, bx - ax, by - ay) for (ax, ay), (bx, by) in zip(pts, pts[1:] + pts[:1])]
        shapes.append((cx, cy, r, edges))
    return shapes


class Lidar:
    """Beam j at angle a0 + j * inc in the lidar frame (inc > 0; reversal is the caller's)."""

    def __init__(self, shapes, rays, fov_deg, range_min, range_max, nan_fraction):
        self.shapes, self.n, self.rmin, self.rmax = shapes, rays, range_min, range_max
        if fov_deg >= 360.0:  # full circle: the last beam stops one increment short of the first
            self.a0, self.inc = -math.pi, 2.0 * math.pi / rays
        else:
            self.a0, self.inc = -math.radians(fov_deg) / 2.0, math.radians(fov_deg) / (rays - 1)
        self.nan = set(random.Random(0).sample(range(rays), round(nan_fraction * rays)))

    def beams(self, lo, width):
        """Beam indices whose angle relative to beam 0 lies in [lo, lo + width], lo in [0, 2π)."""
        for base in (lo, lo - 2.0 * math.pi):
            j0 = max(0, math.ceil((base - 1e-9) / self.inc))
            j1 = min(self.n - 1, math.floor((base + width + 1e-9) / self.inc))
            yield from range(j0, j1 + 1)

    def scan(self, ox, oy, oyaw):
        t = [math.inf] * self.n
        start = oyaw + self.a0
        for cx, cy, r, edges in self.shapes:
            dx, dy = cx - ox, cy - oy
            d = math.hypot(dx, dy)
            if d - r > self.rmax:
                continue
            # Only the beams within the obstacle's angular extent are cast against it.
            if edges is None:
                if d <= r:
                    lo, width = 0.0, 2.0 * math.pi
                else:
                    half = math.asin(r / d)
                    lo, width = math.atan2(dy, dx) - half, 2.0 * half
            else:
                crosses = [ex * (oy - ay) - ey * (ox - ax) for ax, ay, ex, ey in edges]
                if all(c >= 0 for c in crosses) or all(c <= 0 for c in crosses):  # inside
                    lo, width = 0.0, 2.0 * math.pi
                else:
                    ca = math.atan2(dy, dx)
                    rel = [math.remainder(math.atan2(ay - oy, ax - ox) - ca, 2.0 * math.pi)
                           for ax, ay, _, _ in edges]
                    lo, width = ca + min(rel), max(rel) - min(rel)
            for j in self.beams((lo - start) % (2.0 * math.pi), width):
                a = start + j * self.inc
                ux, uy = math.cos(a), math.sin(a)
                if edges is None:  # ray/disc: the nearer root ahead of the origin
                    b = dx * ux + dy * uy
                    disc = b * b - (d * d - r * r)
                    if disc < 0.0:
                        continue
                    s = math.sqrt(disc)
                    hit = b - s if b - s >= 0.0 else b + s
                    if 0.0 <= hit < t[j]:
                        t[j] = hit
                    continue
                for ax, ay, ex, ey in edges:  # ray/segment: o + t u = a + k e, k in [0, 1]
                    den = ux * ey - uy * ex
                    if den == 0.0:
                        continue
                    wx, wy = ax - ox, ay - oy
                    hit, k = (wx * ey - wy * ex) / den, (wx * uy - wy * ux) / den
                    if 0.0 <= k <= 1.0 and 0.0 <= hit < t[j]:
                        t[j] = hit
        return [math.nan if j in self.nan else -math.inf if x < self.rmin else x if x <= self.rmax
                else math.inf for j, x in enumerate(t)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ns", default="w200_0000")
    ap.add_argument("--stamped", action="store_true", help="cmd_vel is TwistStamped")
    ap.add_argument("--rate-hz", type=float, default=50.0, help="odometry, pose and controller rate")
    ap.add_argument("--duration-s", type=float, default=float("inf"))
    ap.add_argument("--odom-stop-at", type=float, default=None, help="stop odometry after this many s")
    ap.add_argument("--cmd-timeout-s", type=float, default=0.25, help="command timeout of the controller")
    ap.add_argument("--scenario", default=os.path.join(ROOT, "scenarios/warthog_yard/scenario.yaml"))
    ap.add_argument("--start-pose", type=parse_pose, default=(0.0, 0.0, 0.0),
                    help="x,y,yaw (m, rad): the odometry origin in the scenario frame (negative: --start-pose=-1,2,0)")
    ap.add_argument("--mount", type=parse_pose, default=(0.0, 0.0, 0.0), help="x,y,yaw: lidar pose in base_link")
    ap.add_argument("--scan-rate-hz", type=float, default=None, help="default: --rate-hz")
    ap.add_argument("--scan-rays", type=int, default=360)
    ap.add_argument("--scan-fov-deg", type=float, default=360.0)
    ap.add_argument("--scan-reversed", action="store_true", help="beams in decreasing angle order")
    ap.add_argument("--scan-range-min", type=float, default=0.1)
    ap.add_argument("--scan-range-max", type=float, default=30.0)
    ap.add_argument("--scan-nan-fraction", type=float, default=0.0, help="fraction of beams that read NaN")
    ap.add_argument("--pose-topic", default=None, help="also publish the true scenario-frame pose here")
    ap.add_argument("--pose-type", choices=("odometry", "pose_with_covariance"), default="pose_with_covariance")
    ap.add_argument("--odom-drift-mps", type=float, default=0.0, help="odometry drifts this fast along +x")
    args = ap.parse_args()
    if args.scan_rays < (1 if args.scan_fov_deg >= 360.0 else 2):
        ap.error("--scan-rays: too few beams for the field of view")
    scan_rate = args.scan_rate_hz or args.rate_hz

    stop = {"now": False}
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.update(now=True))

    lidar = Lidar(load_obstacles(args.scenario), args.scan_rays, args.scan_fov_deg, args.scan_range_min,
                  args.scan_range_max, args.scan_nan_fraction)
    # Our own SIGTERM/SIGINT handlers end the loop and print the report; rclpy's would raise.
    rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
    node = rclpy.create_node("robot_peer", namespace="/" + args.ns.strip("/"))
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    # cmd_v, cmd_w: the last command; v, w: the controller's (limited) output.
    state = {"x": 0.0, "y": 0.0, "yaw": 0.0, "v": 0.0, "w": 0.0, "cmd_v": 0.0, "cmd_w": 0.0, "cmd_t": -1.0}
    stats = {"commands": 0, "odom_sent": 0, "scans_sent": 0, "max_speed_mps": 0.0, "scan_rays": args.scan_rays,
             "forward_distance_m": 0.0, "reverse_distance_m": 0.0, "min_scan_range_m": None}
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
        state["cmd_v"], state["cmd_w"], state["cmd_t"] = t.linear.x, t.angular.z, now
        stats["commands"] += 1
        stats["max_speed_mps"] = max(stats["max_speed_mps"], abs(t.linear.x))

    node.create_subscription(pc.twist_type(args.stamped), pc.CMD_VEL, on_cmd, pc.RELIABLE)
    odom_pub = node.create_publisher(Odometry, pc.ODOM, pc.RELIABLE)
    scan_pub = node.create_publisher(LaserScan, pc.SCAN, pc.SENSOR_DATA)
    pose_type = Odometry if args.pose_type == "odometry" else PoseWithCovarianceStamped
    pose_pub = node.create_publisher(pose_type, args.pose_topic, pc.RELIABLE) if args.pose_topic else None
    dt = 1.0 / args.rate_hz
    t0 = time.monotonic()
    odom_stopped_at = None

    def fill_pose(p, x, y, yaw):
        p.position.x, p.position.y = x, y
        p.orientation.x, p.orientation.y, p.orientation.z, p.orientation.w = pc.yaw_quaternion(yaw)

    def scenario_pose():
        return compose(args.start_pose, (state["x"], state["y"], state["yaw"]))

    def step():
        now = time.monotonic()
        # Like the Warthog's controller: a stale command means stop (rate-limited as well).
        if now - state["cmd_t"] <= args.cmd_timeout_s:
            target_v, target_w = clamp(state["cmd_v"], MAX_V), clamp(state["cmd_w"], MAX_W)
        else:
            target_v, target_w = 0.0, 0.0
        v = state["v"] = ramp(state["v"], target_v, *ACCEL_V, dt)
        w = state["w"] = ramp(state["w"], target_w, *ACCEL_W, dt)
        stats["forward_distance_m" if v > 0 else "reverse_distance_m"] += abs(v) * dt
        state["x"] += v * math.cos(state["yaw"]) * dt
        state["y"] += v * math.sin(state["yaw"]) * dt
        state["yaw"] = math.atan2(math.sin(state["yaw"] + w * dt), math.cos(state["yaw"] + w * dt))
        stamp = node.get_clock().now().to_msg()
        nonlocal odom_stopped_at
        if args.odom_stop_at is None or now - t0 < args.odom_stop_at:
            o = Odometry()
            o.header.stamp, o.header.frame_id, o.child_frame_id = stamp, "odom", "base_link"
            fill_pose(o.pose.pose, state["x"] + args.odom_drift_mps * (now - t0), state["y"], state["yaw"])
            o.twist.twist.linear.x, o.twist.twist.angular.z = v, w
            odom_pub.publish(o)
            pending["odom_t"] = time.monotonic()
            stats["odom_sent"] += 1
        elif odom_stopped_at is None:
            odom_stopped_at = now - t0
            odom_stop["at"] = now
        if pose_pub is not None:
            p = pose_type()
            p.header.stamp, p.header.frame_id = stamp, "map"
            fill_pose(p.pose.pose, *scenario_pose())
            p.pose.covariance = [POSE_VARIANCE[i // 6] if i % 7 == 0 else 0.0 for i in range(36)]
            if pose_type is Odometry:
                p.child_frame_id = "base_link"
                p.twist.twist.linear.x, p.twist.twist.angular.z = v, w
            pose_pub.publish(p)

    def publish_scan():
        ranges = lidar.scan(*compose(scenario_pose(), args.mount))
        s = LaserScan()
        s.header.stamp, s.header.frame_id = node.get_clock().now().to_msg(), "lidar2d_0_laser"
        s.angle_min, s.angle_increment = lidar.a0, lidar.inc
        if args.scan_reversed:
            s.angle_min, s.angle_increment = lidar.a0 + (lidar.n - 1) * lidar.inc, -lidar.inc
            ranges.reverse()
        s.angle_max = s.angle_min + (lidar.n - 1) * s.angle_increment
        s.time_increment, s.scan_time = 0.0, 1.0 / scan_rate
        s.range_min, s.range_max = args.scan_range_min, args.scan_range_max
        s.ranges = array.array("f", ranges)
        scan_pub.publish(s)
        stats["scans_sent"] += 1
        finite = [r for r in ranges if math.isfinite(r)]
        if finite and (stats["min_scan_range_m"] is None or min(finite) < stats["min_scan_range_m"]):
            stats["min_scan_range_m"] = min(finite)

    node.create_timer(dt, step)
    node.create_timer(1.0 / scan_rate, publish_scan)
    while not stop["now"] and time.monotonic() - t0 < args.duration_s:
        executor.spin_once(timeout_sec=0.01)
    ms = [1e3 * x for x in latencies]
    stats["latency_ms"] = {"n": len(ms), "p50": pc.percentile(ms, 50), "p99": pc.percentile(ms, 99)}
    sx, sy, syaw = scenario_pose()
    pc.report({**stats, "x_m": state["x"], "y_m": state["y"], "yaw_rad": state["yaw"],
               "scenario_x_m": sx, "scenario_y_m": sy, "scenario_yaw_rad": syaw,
               "odom_stopped_at_s": odom_stopped_at, "zero_after_odom_stop_s": odom_stop["zero_after_s"],
               "nonzero_after_odom_stop": odom_stop["moved_after_zero"], "elapsed_s": time.monotonic() - t0})
    node.destroy_node()
    rclpy.try_shutdown()


if __name__ == "__main__":
    main()
