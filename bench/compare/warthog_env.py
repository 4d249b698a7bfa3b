"""A gymnasium port of `sim2real`'s low-fidelity subtask environment, for the SB3 comparison.

It ports, number for number, what `sim2real train` trains on:

* `sim/src/low_fidelity.rs` and `sim/src/robot.rs`: planar skid-steer kinematics (command clamp,
  first-order lag through `RobotParams::follow` / `rate_limit`: acceleration limits while |v|
  grows, deceleration limits while it shrinks, brake to zero then accelerate on a sign change;
  exact arc of the step's mean twist), collision and geofence checks with the same culling
  lists, the analytic simulated lidar scan (`beams_per_ray` beams per sector), and the
  (optional) per-beam sensor noise;
* `sim/src/scan.rs`: the one definition of a range ray: `count` sectors tiling `fov` centred
  ahead (ray 0 at the right-hand edge), each ray the nearest beam within its sector
  (`RayConfig::ranges_from_scan`, `sector_of`), capped at `max_range_m`;
* `sim/src/geometry.rs`: ray casts (disc, slab test for boxes, Cyrus-Beck for polygons), the
  footprint's separating-axis tests, the crossing-number geofence and `footprint_inside`;
* `verification/src/region/`: entry and exit sets (shapes, heading arc, speed interval),
  membership and uniform sampling by rejection in the bounding box;
* `src/training/subtask_env.rs`, `src/control/observation.rs`: start sampling, observation
  layout, reward (0.1 per metre of progress, -0.001 per control step, clearance cost from the
  nearest ray, +-10 terminal), termination codes, a 10 Hz policy holding each command for 5
  control steps, and the action contract (`ActionScale::command` in `src/scenario/`: each axis
  clamped to [-1, 1] and scaled, reverse speed capped at `reverse_mps`; NaN -> 0).

Everything the Rust reads from the scenario file (robot overrides, action scale with its reverse
cap, world, rays, low-fidelity noise, subtask regions and horizon) is read here from the same
YAML. The Rust defaults it does not read (Warthog footprint, sensor height, ...) are copied
below.

What is not bit-identical: the random draws (Rust uses ChaCha8; here numpy's PCG64), so the
same seed gives another, identically distributed start; and `math.hypot`, which may differ
from libm's by an ulp. `check_port.py` compares the two on fixed starts and actions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import yaml

try:  # gymnasium is needed for training, not for check_port.py
    import gymnasium as gym
    from gymnasium import spaces

    _EnvBase = gym.Env
except ImportError:  # pragma: no cover
    gym = None
    spaces = None
    _EnvBase = object

PI = math.pi
TAU = 2.0 * math.pi

# src/training/subtask_env.rs
DEFAULT_POLICY_HZ = 10.0
FAILURE_TIMEOUT = 1
FAILURE_COLLISION = 2
FAILURE_GEOFENCE = 3
FAILURE_TIP_OVER = 4
PROGRESS_REWARD_PER_M = 0.1
STEP_COST = 0.001
SUCCESS_BONUS = 10.0
FAILURE_PENALTY = 10.0
REVERSE_COST_PER_M = 0.2
CLEARANCE_M = 2.0
CLEARANCE_COST = 0.01
BASE_OBS = 6

# sim/src/low_fidelity.rs
GRAVITY_MPS2 = 9.81
RAY_CULL_MARGIN_M = 2.0
NEAR_MARGIN_M = 1.0
SERIES_MAX_RAD = 0.1

# verification/src/region/mod.rs
MAX_SAMPLE_TRIES = 10_000


def wrap_angle(a: float) -> float:
    """Wrap to (-pi, pi], as `sim::wrap_angle`."""
    r = (a + PI) % TAU - PI
    return r + TAU if r <= -PI else r


def half_turn(phi: float) -> tuple[float, float]:
    """Sine and cosine of a half step's turn; by series when small (as the Rust)."""
    if abs(phi) < SERIES_MAX_RAD:
        p2 = phi * phi
        sinc = 1.0 - p2 / 6.0 * (1.0 - p2 / 20.0 * (1.0 - p2 / 42.0 * (1.0 - p2 / 72.0)))
        cos = 1.0 - p2 / 2.0 * (1.0 - p2 / 12.0 * (1.0 - p2 / 30.0 * (1.0 - p2 / 56.0 * (1.0 - p2 / 90.0))))
        return phi * sinc, cos
    return math.sin(phi), math.cos(phi)


# ---------------------------------------------------------------- robot and scenario


@dataclass
class Robot:
    """`sim::RobotParams` (Warthog defaults) with the scenario's overrides."""

    length_m: float = 1.52
    width_m: float = 1.38
    max_speed_mps: float = 5.0
    max_yaw_rate_rps: float = 4.0
    # Clearpath's W200 `diff_4wd` controller limits (sim/src/robot.rs).
    max_accel_mps2: float = 2.5
    max_decel_mps2: float = 10.0
    max_yaw_accel_rps2: float = 2.0
    max_yaw_decel_rps2: float = 8.0
    motor_lag_s: float = 0.15
    control_hz: float = 50.0
    lidar_height_m: float = 0.6
    mass_kg: float = 260.0
    motor_force_max_n: float = 1000.0


def rust_round(x: float) -> float:
    """`f64::round`: half-way cases away from zero (Python's `round` rounds them to even)."""
    r = math.floor(abs(x))
    if abs(x) - r >= 0.5:
        r += 1.0
    return math.copysign(r, x)


def signum(x: float) -> float:
    """`f64::signum`: 1.0 for +0.0 and -1.0 for -0.0 (NaN is not passed here)."""
    return math.copysign(1.0, x)


def rate_limit(frm: float, to: float, accel: float, decel: float, dt: float) -> float:
    """`sim::rate_limit`: one control period of the velocity controller's rate limiter."""
    if not (math.isfinite(to) and math.isfinite(frm)):
        return frm
    if frm == 0.0 or signum(frm) == signum(to):
        step = accel * dt if abs(to) >= abs(frm) else decel * dt
        return frm + min(max(to - frm, -step), step)
    # Opposite signs: brake to zero first.
    brake_s = abs(frm) / decel
    if brake_s >= dt:
        return frm - signum(frm) * decel * dt
    return signum(to) * min(abs(to), accel * (dt - brake_s))


# sim/src/scan.rs
UNCOVERED = -2.0
NO_RETURN = -1.0
EDGE_RAD = 1e-9


@dataclass
class Rays:
    """`sim::RayConfig`: `count` sectors tiling `fov_rad` centred ahead (defaults: the Rust's)."""

    count: int = 9
    fov_rad: float = math.radians(270.0)
    max_range_m: float = 20.0
    beams_per_ray: int = 6

    def sector_rad(self) -> float:
        return self.fov_rad / self.count

    def angle_rad(self, i: int) -> float:
        """Body-frame angle of ray i's centre (counter-clockwise from forward)."""
        return -0.5 * self.fov_rad + (i + 0.5) * self.sector_rad()

    def simulated_scan(self) -> tuple[float, float, int]:
        """`RayConfig::simulated_scan`: (angle_min, angle_increment, beams)."""
        n = self.count * self.beams_per_ray
        step = self.fov_rad / n
        return -0.5 * self.fov_rad + 0.5 * step, step, n

    def sector_of(self, angle_rad: float):
        """`RayConfig::sector_of`: the sector a body-frame direction falls into, or None."""
        rel = (angle_rad + 0.5 * self.fov_rad) % TAU  # rem_euclid for a positive divisor
        if rel > TAU - EDGE_RAD:
            rel = 0.0
        if rel > self.fov_rad + EDGE_RAD:
            return None
        q = rel / self.sector_rad()
        qr = rust_round(q)
        k = qr if abs(q - qr) < 1e-7 else math.floor(q)
        return min(int(k), self.count - 1)

    def ranges_from_scan(self, angle_min: float, inc: float, range_min: float, range_max: float,
                         ranges: list[float], out: list[float]) -> None:
        """`RayConfig::ranges_from_scan` for a lidar at the robot's centre, heading forward (the
        simulators' `LidarMount::default()`; the offset-mount branch is not ported). Raises where
        the Rust returns a `ScanError` (the Rust simulator only debug-asserts; its scan always
        covers every sector with readings in range)."""
        out[:] = [UNCOVERED] * self.count
        clear_m = min(range_max, self.max_range_m)
        for j, r in enumerate(ranges):
            beam = angle_min + j * inc + 0.0  # + mount.yaw_rad
            if r == math.inf:
                reading = clear_m
            elif r == -math.inf:
                reading = range_min
            elif range_min <= r <= range_max:
                reading = r
            else:
                reading = None
            i = self.sector_of(wrap_angle(beam))
            if i is None:
                continue
            if reading is not None:
                d = min(reading, self.max_range_m)
                out[i] = d if out[i] < 0.0 else min(out[i], d)
            elif out[i] == UNCOVERED:
                out[i] = NO_RETURN
        for i, v in enumerate(out):
            if v == UNCOVERED:
                raise ValueError(f"no beam of the {len(ranges)}-beam scan covers ray {i}'s sector")
            if v == NO_RETURN:
                raise ValueError(f"every beam in ray {i}'s sector is NaN or outside [range_min, range_max]")


@dataclass
class Noise:
    odom_position_m: float = 0.0
    odom_yaw_rad: float = 0.0
    odom_speed_mps: float = 0.0
    gyro_rps: float = 0.0
    accel_mps2: float = 0.0
    range_m: float = 0.0


def signed_area(v: list[tuple[float, float]]) -> float:
    n = len(v)
    if n < 3:
        return 0.0
    return 0.5 * sum(v[i][0] * v[(i + 1) % n][1] - v[i][1] * v[(i + 1) % n][0] for i in range(n))


class Obstacle:
    """A prepared obstacle (`PreparedShape`): kind 'disc' | 'rect' | 'poly', plus its bounding circle."""

    def __init__(self, spec: dict):
        self.height_m = float(spec["height_m"])
        if "disc" in spec:
            d = spec["disc"]
            self.kind = "disc"
            self.cx, self.cy = float(d["center"][0]), float(d["center"][1])
            self.r = float(d["radius_m"])
            self.bcx, self.bcy, self.br = self.cx, self.cy, self.r
        elif "box" in spec:
            b = spec["box"]
            self.kind = "rect"
            self.cx, self.cy = float(b["center"][0]), float(b["center"][1])
            self.hx, self.hy = float(b["half_extents_m"][0]), float(b["half_extents_m"][1])
            yaw = math.radians(float(b.get("yaw_deg", 0.0)))
            self.ax, self.ay = math.cos(yaw), math.sin(yaw)
            self.bcx, self.bcy, self.br = self.cx, self.cy, math.hypot(self.hx, self.hy)
        else:
            v = [(float(p[0]), float(p[1])) for p in spec["polygon"]]
            if signed_area(v) < 0.0:
                v.reverse()
            self.kind = "poly"
            self.v = v
            xs, ys = [p[0] for p in v], [p[1] for p in v]
            self.bcx, self.bcy = (min(xs) + max(xs)) * 0.5, (min(ys) + max(ys)) * 0.5
            self.br = max(math.hypot(p[0] - self.bcx, p[1] - self.bcy) for p in v)

    # geometry.rs: disc_ray / Rect::ray / convex_polygon_ray
    def ray(self, ox: float, oy: float, dx: float, dy: float, max_m: float):
        if self.kind == "disc":
            mx, my = ox - self.cx, oy - self.cy
            c = mx * mx + my * my - self.r * self.r
            if c <= 0.0:
                return 0.0
            b = mx * dx + my * dy
            if b > 0.0:
                return None
            disc = b * b - c
            if disc < 0.0:
                return None
            t = -b - math.sqrt(disc)
            return max(t, 0.0) if t <= max_m else None
        if self.kind == "rect":
            ax, ay = self.ax, self.ay
            rx, ry = ox - self.cx, oy - self.cy
            lox, loy = ax * rx + ay * ry, ax * ry - ay * rx
            ldx, ldy = ax * dx + ay * dy, ax * dy - ay * dx
            t0, t1 = 0.0, max_m
            for ok, dk, hk in ((lox, ldx, self.hx), (loy, ldy, self.hy)):
                if dk == 0.0:
                    if abs(ok) > hk:
                        return None
                else:
                    inv = 1.0 / dk
                    a = (-hk - ok) * inv
                    b = (hk - ok) * inv
                    t0 = max(t0, min(a, b))
                    t1 = min(t1, max(a, b))
            return t0 if t0 <= t1 else None
        t0, t1 = 0.0, max_m
        v = self.v
        n = len(v)
        for i in range(n):
            a = v[i]
            b = v[i + 1 if i + 1 < n else 0]
            ex, ey = b[0] - a[0], b[1] - a[1]
            nx, ny = ey, -ex
            dist = nx * (ox - a[0]) + ny * (oy - a[1])
            rate = nx * dx + ny * dy
            if rate == 0.0:
                if dist > 0.0:
                    return None
            else:
                t = -dist / rate
                if rate < 0.0:
                    t0 = max(t0, t)
                else:
                    t1 = min(t1, t)
                if t0 > t1:
                    return None
        return t0

    # geometry.rs: Rect::overlaps_disc / overlaps_rect / overlaps_polygon, footprint as a Rect
    def overlaps(self, cx: float, cy: float, hx: float, hy: float, fx: float, fy: float) -> bool:
        """Whether the footprint (centre, axis (fx, fy), half extents) touches this obstacle."""
        px, py = -fy, fx  # axis.perp()
        if self.kind == "disc":
            rx, ry = self.cx - cx, self.cy - cy
            lx, ly = fx * rx + fy * ry, fx * ry - fy * rx
            qx = min(max(lx, -hx), hx)
            qy = min(max(ly, -hy), hy)
            ddx, ddy = lx - qx, ly - qy
            return ddx * ddx + ddy * ddy <= self.r * self.r
        if self.kind == "rect":
            dx, dy = self.cx - cx, self.cy - cy
            ox, oy = self.ax, self.ay
            opx, opy = -oy, ox
            for ux, uy in ((fx, fy), (px, py), (ox, oy), (opx, opy)):
                r1 = hx * abs(fx * ux + fy * uy) + hy * abs(px * ux + py * uy)
                r2 = self.hx * abs(ox * ux + oy * uy) + self.hy * abs(opx * ux + opy * uy)
                if abs(dx * ux + dy * uy) > r1 + r2:
                    return False
            return True
        v = self.v
        for ux, uy in ((fx, fy), (px, py)):
            c = cx * ux + cy * uy
            r = hx * abs(fx * ux + fy * uy) + hy * abs(px * ux + py * uy)
            lo, hi = math.inf, -math.inf
            for vx, vy in v:
                p = vx * ux + vy * uy
                lo = min(lo, p)
                hi = max(hi, p)
            if lo > c + r or hi < c - r:
                return False
        n = len(v)
        for i in range(n):
            a = v[i]
            b = v[i + 1 if i + 1 < n else 0]
            ex, ey = b[0] - a[0], b[1] - a[1]
            # Outward normal of a counter-clockwise edge: (b - a).perp() * -1.
            nx, ny = ey, -ex
            r = hx * abs(fx * nx + fy * ny) + hy * abs(px * nx + py * ny)
            if cx * nx + cy * ny - r > a[0] * nx + a[1] * ny:
                return False
        return True


def on_segment(a, b, p) -> bool:
    return (
        (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) == 0.0
        and min(a[0], b[0]) <= p[0] <= max(a[0], b[0])
        and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])
    )


def segments_intersect(p1, p2, q1, q2) -> bool:
    def cr(u, v):
        return u[0] * v[1] - u[1] * v[0]

    qd = (q2[0] - q1[0], q2[1] - q1[1])
    pd = (p2[0] - p1[0], p2[1] - p1[1])
    d1 = cr(qd, (p1[0] - q1[0], p1[1] - q1[1]))
    d2 = cr(qd, (p2[0] - q1[0], p2[1] - q1[1]))
    d3 = cr(pd, (q1[0] - p1[0], q1[1] - p1[1]))
    d4 = cr(pd, (q2[0] - p1[0], q2[1] - p1[1]))
    if ((d1 > 0.0 and d2 < 0.0) or (d1 < 0.0 and d2 > 0.0)) and (
        (d3 > 0.0 and d4 < 0.0) or (d3 < 0.0 and d4 > 0.0)
    ):
        return True
    return (
        (d1 == 0.0 and on_segment(q1, q2, p1))
        or (d2 == 0.0 and on_segment(q1, q2, p2))
        or (d3 == 0.0 and on_segment(p1, p2, q1))
        or (d4 == 0.0 and on_segment(p1, p2, q2))
    )


def point_segment_distance(px, py, a, b) -> float:
    ex, ey = b[0] - a[0], b[1] - a[1]
    len_sq = ex * ex + ey * ey
    t = min(max(((px - a[0]) * ex + (py - a[1]) * ey) / len_sq, 0.0), 1.0) if len_sq > 0.0 else 0.0
    return math.hypot(px - (a[0] + ex * t), py - (a[1] + ey * t))


def polygon_contains(poly, px, py) -> bool:
    n = len(poly)
    if n < 3:
        return False
    inside = False
    for i in range(n):
        a = poly[i]
        b = poly[i + 1 if i + 1 < n else 0]
        if on_segment(a, b, (px, py)):
            return True
        if (a[1] > py) != (b[1] > py):
            x = a[0] + (py - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if px < x:
                inside = not inside
    return inside


def footprint_corners(cx, cy, fx, fy, hx, hy):
    ex, ey = fx * hx, fy * hx
    px, py = -fy * hy, fx * hy
    return [
        (cx - ex - px, cy - ey - py),
        (cx + ex - px, cy + ey - py),
        (cx + ex + px, cy + ey + py),
        (cx - ex + px, cy - ey + py),
    ]


def footprint_inside(poly, corners) -> bool:
    if not all(polygon_contains(poly, p[0], p[1]) for p in corners):
        return False
    n = len(poly)
    for i in range(4):
        p, q = corners[i], corners[(i + 1) % 4]
        for j in range(n):
            if segments_intersect(p, q, poly[j], poly[(j + 1) % n]):
                return False
    return True


# ---------------------------------------------------------------- regions


class Region:
    """An entry or exit set: an intersection of shapes, a heading arc and a speed interval."""

    def __init__(self, spec: dict, waypoints: dict):
        parts = spec["all_of"] if "all_of" in spec else [spec]
        self.shapes = []  # ('disc', cx, cy, r) or ('poly', ccw vertices)
        boxes = []
        for p in parts:
            if "at" in p:
                x, y = waypoints[p["at"]]
                self.shapes.append(("disc", float(x), float(y), float(p["radius_m"])))
            elif "disc" in p:
                d = p["disc"]
                self.shapes.append(("disc", float(d["center"][0]), float(d["center"][1]), float(d["radius_m"])))
            elif "box" in p:
                b = p["box"]
                cx, cy = float(b["center"][0]), float(b["center"][1])
                hx, hy = float(b["half_extents_m"][0]), float(b["half_extents_m"][1])
                yaw = math.radians(float(b.get("yaw_deg", 0.0)))
                s, c = math.sin(yaw), math.cos(yaw)
                corner = lambda u, v: (cx + c * u - s * v, cy + s * u + c * v)  # noqa: E731
                self.shapes.append(("poly", [corner(-hx, -hy), corner(hx, -hy), corner(hx, hy), corner(-hx, hy)]))
            else:
                v = [(float(q[0]), float(q[1])) for q in p["polygon"]]
                if signed_area(v) < 0.0:
                    v.reverse()
                self.shapes.append(("poly", v))
        for s in self.shapes:
            if s[0] == "disc":
                boxes.append((s[1] - s[3], s[2] - s[3], s[1] + s[3], s[2] + s[3]))
            else:
                xs, ys = [q[0] for q in s[1]], [q[1] for q in s[1]]
                boxes.append((min(xs), min(ys), max(xs), max(ys)))
        # Exact for one shape (all the yard's regions); for an `all_of` it is the intersection of
        # the parts' boxes, a superset of the Rust's exact box: sampling by rejection is still
        # uniform over the set, but the goal (the box's centre) may differ.
        self.bbox = (
            max(b[0] for b in boxes),
            max(b[1] for b in boxes),
            min(b[2] for b in boxes),
            min(b[3] for b in boxes),
        )
        self.heading = None  # (from_rad, width_rad)
        if spec.get("heading_deg") is not None:
            fr, to = (math.radians(float(a)) for a in spec["heading_deg"])
            span = to - fr
            width = TAU if span >= TAU else span % TAU
            self.heading = (wrap_angle(fr), width)
        self.speed = None
        if spec.get("speed_mps") is not None:
            self.speed = (float(spec["speed_mps"][0]), float(spec["speed_mps"][1]))

    def heading_mid_rad(self):
        if self.heading is None:
            return None
        return wrap_angle(self.heading[0] + 0.5 * self.heading[1])

    def contains_point(self, x: float, y: float) -> bool:
        for s in self.shapes:
            if s[0] == "disc":
                dx, dy = x - s[1], y - s[2]
                if not dx * dx + dy * dy <= s[3] * s[3]:
                    return False
            else:
                v = s[1]
                n = len(v)
                for i in range(n):
                    a, b = v[i], v[(i + 1) % n]
                    if not (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]) >= 0.0:
                        return False
        return True

    def contains(self, x: float, y: float, yaw: float, speed: float) -> bool:
        if not self.contains_point(x, y):
            return False
        if self.heading is not None:
            fr, width = self.heading
            if not (math.isfinite(yaw) and (width >= TAU or (yaw - fr) % TAU <= width)):
                return False
        if not math.isfinite(yaw):
            return False
        if self.speed is not None and not (self.speed[0] <= speed <= self.speed[1]):
            return False
        return math.isfinite(speed)

    def sample(self, rng: np.random.Generator):
        """Uniform draw, as `Region::sample` (another generator, the same distribution)."""
        xl, yl, xh, yh = self.bbox
        fr, width = self.heading if self.heading is not None else (-PI, TAU)
        for _ in range(MAX_SAMPLE_TRIES):
            x = rng.uniform(xl, xh)
            y = rng.uniform(yl, yh)
            yaw = wrap_angle(fr + rng.uniform(0.0, width))
            speed = rng.uniform(self.speed[0], self.speed[1]) if self.speed is not None else 0.0
            if self.contains(x, y, yaw, speed):
                return x, y, yaw, speed
        return None


@dataclass
class Scenario:
    robot: Robot
    action_scale: tuple[float, float, float]  # (linear_mps, angular_rps, reverse_mps)
    geofence: list
    obstacles: list
    rays: Rays
    noise: Noise
    subtasks: dict = field(default_factory=dict)


def load_scenario(path: str) -> Scenario:
    with open(path) as f:
        raw = yaml.safe_load(f)
    r = raw.get("robot") or {}
    robot = Robot()
    for key in ("mass_kg", "max_speed_mps", "max_yaw_rate_rps", "max_accel_mps2", "max_decel_mps2",
                "max_yaw_accel_rps2", "max_yaw_decel_rps2", "motor_force_max_n", "motor_lag_s", "control_hz"):
        if r.get(key) is not None:
            setattr(robot, key, float(r[key]))
    # `ActionScale` (src/scenario/): default 3 m/s, 1.5 rad/s, reverse capped at 0.5 m/s; the
    # reverse cap never exceeds the forward scale.
    scale = {"linear_mps": 3.0, "angular_rps": 1.5, "reverse_mps": 0.5}
    if r.get("action_scale"):
        a = r["action_scale"]
        scale["linear_mps"], scale["angular_rps"] = float(a["linear_mps"]), float(a["angular_rps"])
        if a.get("reverse_mps") is not None:
            scale["reverse_mps"] = float(a["reverse_mps"])
    scale["reverse_mps"] = min(scale["reverse_mps"], scale["linear_mps"])
    w = raw["world"]
    fence = [(float(p[0]), float(p[1])) for p in w["geofence"]]
    if signed_area(fence) < 0.0:
        fence.reverse()
    obstacles = [Obstacle(o) for o in w.get("obstacles", [])]
    fid = raw.get("fidelity") or {}
    rays = Rays()
    if fid.get("rays"):
        fr = fid["rays"]
        rays = Rays(int(fr["count"]), math.radians(float(fr["fov_deg"])), float(fr["max_range_m"]))
        if fr.get("beams_per_ray") is not None:
            rays.beams_per_ray = int(fr["beams_per_ray"])
    noise = Noise()
    low_noise = (fid.get("low") or {}).get("noise")
    if low_noise:
        noise = Noise(
            float(low_noise["odom_position_m"]), math.radians(float(low_noise["odom_yaw_deg"])),
            float(low_noise["odom_speed_mps"]), float(low_noise["gyro_rps"]),
            float(low_noise["accel_mps2"]), float(low_noise["range_m"]),
        )
    waypoints = {wp["id"]: wp["position"] for wp in raw["waypoints"]}
    sc = Scenario(robot, (scale["linear_mps"], scale["angular_rps"], scale["reverse_mps"]), fence, obstacles,
                  rays, noise)
    for st in raw["subtasks"]:
        sc.subtasks[st["id"]] = (Region(st["entry"], waypoints), Region(st["exit"], waypoints),
                                 int(st["horizon_steps"]))
    return sc


# ---------------------------------------------------------------- the simulator


def _within(px, py, ax, ay, slack):
    if not slack > 0.0:
        return False
    dx, dy = px - ax, py - ay
    return dx * dx + dy * dy < slack * slack


class LowFidelity:
    """`sim::LowFidelity`: planar kinematics, flat firm ground, an analytic lidar scan reduced to
    the policy's rays."""

    RUNNING, COLLISION, GEOFENCE = 0, 1, 2

    def __init__(self, sc: Scenario):
        rb = sc.robot
        self.robot = rb
        self.fence = sc.geofence
        self.obstacles = sc.obstacles
        self.visible = [i for i, o in enumerate(self.obstacles) if o.height_m >= rb.lidar_height_m]
        self.rays = sc.rays
        self.noise = sc.noise
        self.dt = 1.0 / rb.control_hz
        self.lag_alpha = -math.expm1(-self.dt / rb.motor_lag_s) if rb.motor_lag_s > 0.0 else 1.0
        self.motor_mps2 = 2.0 * rb.motor_force_max_n / rb.mass_kg
        # The simulated scan's beams (`RayConfig::simulated_scan`), unit vectors in the body frame.
        self.scan_min, self.scan_inc, n_beams = sc.rays.simulated_scan()
        self.beam_body = [(math.cos(a), math.sin(a))
                          for a in (self.scan_min + j * self.scan_inc for j in range(n_beams))]
        self.scan = [sc.rays.max_range_m] * n_beams
        self.hl, self.hw = 0.5 * rb.length_m, 0.5 * rb.width_m
        self.fp_radius = math.hypot(self.hl, self.hw)
        self.ranges = [sc.rays.max_range_m] * sc.rays.count
        self.rng = np.random.default_rng(0)
        self.reset((0.0, 0.0, 0.0, 0.0), 0)

    def _invalidate(self):
        self.ray_anchor, self.ray_slack, self.ray_cand = (0.0, 0.0), -1.0, []
        self.near_anchor, self.near_slack, self.near = (0.0, 0.0), -1.0, []
        self.fence_anchor, self.fence_slack = (0.0, 0.0), -1.0

    def reset(self, start, seed: int):
        x, y, yaw, speed = start
        self.rng = np.random.default_rng(seed)
        self.x, self.y, self.yaw, self.speed = x, y, wrap_angle(yaw), speed
        self.hx, self.hy = math.cos(self.yaw), math.sin(self.yaw)
        self.yaw_rate = 0.0
        self.steps = 0
        self._invalidate()
        finite = all(math.isfinite(v) for v in start)
        self.status = self._check_status() if finite else self.GEOFENCE
        self.collided_with = None
        self._sense(0.0)

    def _noise(self, sigma):
        return sigma * self.rng.standard_normal() if sigma > 0.0 else 0.0

    def _check_status(self) -> int:
        cx, cy = self.x, self.y
        if not _within(cx, cy, self.near_anchor[0], self.near_anchor[1], self.near_slack):
            near = []
            slack = math.inf
            for i, o in enumerate(self.obstacles):
                gap = math.hypot(o.bcx - cx, o.bcy - cy) - o.br - self.fp_radius
                if gap <= NEAR_MARGIN_M:
                    near.append(i)
                else:
                    slack = min(slack, gap)
            self.near, self.near_anchor, self.near_slack = near, (cx, cy), slack
        fx, fy, hl, hw = self.hx, self.hy, self.hl, self.hw
        for i in self.near:
            if self.obstacles[i].overlaps(cx, cy, hl, hw, fx, fy):
                self.collided_with = i
                return self.COLLISION
        if _within(cx, cy, self.fence_anchor[0], self.fence_anchor[1], self.fence_slack):
            return self.RUNNING
        fence = self.fence
        if polygon_contains(fence, cx, cy):
            n = len(fence)
            bd = min(point_segment_distance(cx, cy, fence[i], fence[(i + 1) % n]) for i in range(n))
            clearance = bd - self.fp_radius
        else:
            clearance = -1.0
        if clearance > 0.0:
            self.fence_anchor, self.fence_slack = (cx, cy), clearance
            return self.RUNNING
        self.fence_slack = -1.0
        # Footprint corners from the yaw, as `Footprint::rect` does (Vec2::unit(yaw_rad)).
        ux, uy = math.cos(self.yaw), math.sin(self.yaw)
        corners = footprint_corners(cx, cy, ux, uy, hl, hw)
        return self.RUNNING if footprint_inside(fence, corners) else self.GEOFENCE

    def _sense(self, accel_x):
        ox, oy = self.x, self.y
        mx = self.rays.max_range_m
        if not _within(ox, oy, self.ray_anchor[0], self.ray_anchor[1], self.ray_slack):
            reach = mx + RAY_CULL_MARGIN_M
            cand = []
            for i in self.visible:
                o = self.obstacles[i]
                if math.hypot(o.bcx - ox, o.bcy - oy) - o.br <= reach:
                    cand.append((o.bcx, o.bcy, o.br, o))
            self.ray_cand, self.ray_anchor, self.ray_slack = cand, (ox, oy), RAY_CULL_MARGIN_M
        hx, hy = self.hx, self.hy
        scan = self.scan
        cand = self.ray_cand
        for k, (bx, by) in enumerate(self.beam_body):
            dx, dy = hx * bx - hy * by, hy * bx + hx * by
            best = mx
            for ccx, ccy, cr, o in cand:
                rx, ry = ccx - ox, ccy - oy
                along = rx * dx + ry * dy
                if along + cr < 0.0 or along - cr >= best:
                    continue
                across = rx * dy - ry * dx
                if across * across > cr * cr:
                    continue
                t = o.ray(ox, oy, dx, dy, best)
                if t is not None:
                    best = t
            scan[k] = best
        n = self.noise
        nz = self._noise
        self.odom = (
            self.x + nz(n.odom_position_m),
            self.y + nz(n.odom_position_m),
            wrap_angle(self.yaw + nz(n.odom_yaw_rad)) if n.odom_yaw_rad > 0.0 else self.yaw,
            self.speed + nz(n.odom_speed_mps),
        )
        w = self.yaw_rate
        gyro = (nz(n.gyro_rps), nz(n.gyro_rps), w + nz(n.gyro_rps))
        if n.accel_mps2 > 0.0:  # the accelerometer is not observed; only its draws matter
            for _ in range(3):
                nz(n.accel_mps2)
        self.odom_yaw_rate = gyro[2]
        if n.range_m > 0.0:
            # One draw per beam whether or not it hit.
            for k in range(len(scan)):
                e = nz(n.range_m)
                if scan[k] < mx:
                    scan[k] = min(max(scan[k] + e, 0.0), mx)
        # `reduce_scan`: the policy's rays from the scan (range_min 0, range_max = max range).
        self.rays.ranges_from_scan(self.scan_min, self.scan_inc, 0.0, mx, scan, self.ranges)

    def step(self, v_cmd: float, w_cmd: float) -> int:
        if self.status != self.RUNNING:
            return self.status
        rb = self.robot
        v_cmd = min(max(v_cmd, -rb.max_speed_mps), rb.max_speed_mps) if math.isfinite(v_cmd) else 0.0
        w_cmd = min(max(w_cmd, -rb.max_yaw_rate_rps), rb.max_yaw_rate_rps) if math.isfinite(w_cmd) else 0.0
        v0, w0 = self.speed, self.yaw_rate
        # `RobotParams::follow`: the lag's target, then the rate limiter.
        a, dt = self.lag_alpha, self.dt
        v1 = rate_limit(v0, v0 + a * (v_cmd - v0), rb.max_accel_mps2, rb.max_decel_mps2, dt)
        w1 = rate_limit(w0, w0 + a * (w_cmd - w0), rb.max_yaw_accel_rps2, rb.max_yaw_decel_rps2, dt)
        # What the motors can push the nominal mass through.
        v1 = rate_limit(v0, v1, self.motor_mps2, self.motor_mps2, dt)
        phi = 0.25 * (w0 + w1) * dt
        sin_phi, cos_phi = half_turn(phi)
        sinc = 1.0 if phi == 0.0 else sin_phi / phi
        chord = 0.5 * (v0 + v1) * dt * sinc
        hx, hy = self.hx, self.hy
        self.x += chord * (hx * cos_phi - hy * sin_phi)
        self.y += chord * (hy * cos_phi + hx * sin_phi)
        yaw = self.yaw + 2.0 * phi
        self.yaw = wrap_angle(yaw) if (yaw > PI or yaw <= -PI) else yaw
        self.speed = v1
        self.hx, self.hy = math.cos(self.yaw), math.sin(self.yaw)
        self.yaw_rate = w1
        self.steps += 1
        self.status = self._check_status()
        self._sense((v1 - v0) / dt)
        return self.status


# ---------------------------------------------------------------- the environment


class SubtaskEnv(_EnvBase):
    """`sim2real::subtask_env::SubtaskEnv` in low fidelity, as a gymnasium environment.

    Observation (float32): goal distance, sin and cos of the goal bearing, heading error, speed,
    yaw rate, then each ray's range (the nearest return in its sector, ray 0 at the right-hand
    edge of the field of view) divided by the maximum range. Action: [-1, 1]^2 (forward, yaw
    rate), scaled by the scenario's action scale, reverse speed capped at its `reverse_mps`, and
    held for control_hz / policy_hz steps.
    `info` carries `failure` (0 while running or on success, else the Rust failure code) and
    `is_success`.
    """

    metadata = {"render_modes": []}

    def __init__(self, scenario_path: str, subtask: str, policy_hz: float = DEFAULT_POLICY_HZ,
                 scenario: Scenario | None = None):
        sc = scenario if scenario is not None else load_scenario(scenario_path)
        self.entry, self.exit, self.horizon = sc.subtasks[subtask]
        self.sim = LowFidelity(sc)
        ratio = sc.robot.control_hz / policy_hz
        k = round(ratio)
        if not (policy_hz > 0 and k >= 1 and abs(ratio - k) < 1e-6):
            raise ValueError(f"policy rate {policy_hz} Hz must divide the control rate {sc.robot.control_hz} Hz")
        self.hold = int(k)
        xl, yl, xh, yh = self.exit.bbox
        self.goal = (0.5 * (xl + xh), 0.5 * (yl + yh))
        self.exit_heading = self.exit.heading_mid_rad()
        self.scale = sc.action_scale
        self.n_rays = sc.rays.count
        self.max_range = sc.rays.max_range_m
        self.obs_dim = BASE_OBS + self.n_rays
        self.np_rng = np.random.default_rng()
        if spaces is not None:
            self.observation_space = spaces.Box(-np.inf, np.inf, (self.obs_dim,), np.float32)
            self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.steps = 0
        self.dist = 0.0
        self.done = False

    def _true_distance(self) -> float:
        return math.hypot(self.goal[0] - self.sim.x, self.goal[1] - self.sim.y)

    def _observe(self) -> np.ndarray:
        s = self.sim
        x, y, yaw, speed = s.odom
        dx, dy = self.goal[0] - x, self.goal[1] - y
        bearing = wrap_angle(math.atan2(dy, dx) - yaw)
        he = wrap_angle(self.exit_heading - yaw) if self.exit_heading is not None else 0.0
        base = [math.hypot(dx, dy), math.sin(bearing), math.cos(bearing), he, speed, s.odom_yaw_rate]
        base = [v if math.isfinite(v) else 0.0 for v in base]
        mr = self.max_range
        rays = [min(max(r / mr, 0.0), 1.0) for r in s.ranges]
        return np.array(base + [r if math.isfinite(r) else 1.0 for r in rays], dtype=np.float32)

    def reset_to(self, start, sim_seed: int = 0) -> np.ndarray:
        """Start at `start` = (x, y, yaw, speed), as `SubtaskEnv::reset_to`."""
        self.sim.reset(start, sim_seed)
        self.steps = 0
        self.done = False
        self.dist = self._true_distance()
        return self._observe()

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self.np_rng = np.random.default_rng(seed)
        start = self.entry.sample(self.np_rng)
        if start is None:
            xl, yl, xh, yh = self.entry.bbox
            start = (0.5 * (xl + xh), 0.5 * (yl + yh), 0.0, 0.0)
        sim_seed = int(self.np_rng.integers(0, 2**63))
        return self.reset_to(start, sim_seed), {}

    def command_for(self, action) -> tuple[float, float]:
        """`SubtaskEnv::command_for` (NaN -> 0) then `ActionScale::command`."""
        def a(i):
            x = float(action[i]) if i < len(action) else 0.0
            return 0.0 if math.isnan(x) else min(max(x, -1.0), 1.0)

        linear_mps, angular_rps, reverse_mps = self.scale
        linear = a(0) * linear_mps
        return (-reverse_mps if linear < -reverse_mps else linear), a(1) * angular_rps

    def step(self, action):
        """Returns (obs, reward, terminated, truncated, info)."""
        v_cmd, w_cmd = self.command_for(action)
        if self.done:
            return self._observe(), 0.0, True, False, {"failure": 0, "is_success": False}
        reward = 0.0
        terminated = truncated = False
        failure = 0
        success = False
        sim = self.sim
        for _ in range(self.hold):
            status = sim.step(v_cmd, w_cmd)
            self.steps += 1
            reward -= STEP_COST + REVERSE_COST_PER_M * max(-sim.speed, 0.0) / sim.robot.control_hz
            nearest = min(sim.ranges)
            if nearest < CLEARANCE_M:
                reward -= CLEARANCE_COST * (1.0 - nearest / CLEARANCE_M)
            if status != LowFidelity.RUNNING:
                reward -= FAILURE_PENALTY
                terminated = True
                failure = FAILURE_COLLISION if status == LowFidelity.COLLISION else FAILURE_GEOFENCE
                break
            if self.exit.contains(sim.x, sim.y, sim.yaw, sim.speed):
                reward += SUCCESS_BONUS
                terminated = True
                success = True
                break
            if self.steps >= self.horizon:
                truncated = True
                failure = FAILURE_TIMEOUT
                break
        d = self._true_distance()
        reward += PROGRESS_REWARD_PER_M * (self.dist - d)
        self.dist = d
        self.done = terminated or truncated
        # The Rust returns the reward as f32.
        reward = float(np.float32(reward))
        return self._observe(), reward, terminated, truncated, {"failure": failure, "is_success": success}
