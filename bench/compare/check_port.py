#!/usr/bin/env python3
"""Checks that warthog_env.py is a faithful port of the Rust low-fidelity SubtaskEnv.

Runs the Rust example `env_trace` and the Python port from the same start states with the same
action sequences (the low-fidelity section of the yard has no noise, so both are deterministic)
and asserts that every observation and reward agrees to 1e-4 and that the episodes end at the
same decision with the same outcome. The cases cover a collision, a geofence breach, a success
and a long wandering run of several hundred decisions; together they exercise the acceleration
and deceleration limits, braking through zero into the opposite direction, the reverse cap and
all nine 30-degree sectors of the yard's 270-degree lidar.

    python3 bench/compare/check_port.py        # re-runs itself in the benchmark venv if needed
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


sys.path.insert(0, str(HERE))
from bench_venv import ensure  # noqa: E402

ensure(["numpy", "yaml"], "check_port")

import numpy as np  # noqa: E402

from warthog_env import SubtaskEnv, load_scenario  # noqa: E402

SCENARIO = ROOT / "scenarios" / "warthog_yard" / "scenario.yaml"
SUBTASK = "gate_west_to_crossroads"
TOL = 1e-4


def rust_example() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--example", "env_trace"], cwd=ROOT, check=True
    )
    return target / "release" / "examples" / "env_trace"


def rust_trace(exe: Path, start, actions) -> list[dict]:
    text = "\n".join(f"{a[0]!r} {a[1]!r}" for a in actions) + "\n"
    out = subprocess.run(
        [str(exe), "trace", str(SCENARIO), SUBTASK, *(repr(float(v)) for v in start)],
        input=text, capture_output=True, text=True, check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def python_trace(env: SubtaskEnv, start, actions) -> list[dict]:
    obs = env.reset_to(start, 0)
    s = env.sim
    rows = [{"obs": obs, "reward": 0.0, "done": "not_done", "failure": 0, "success": False,
             "state": [s.x, s.y, s.yaw, s.speed]}]
    for a in actions:
        # Actions go through f32, as the Rust reads them.
        obs, r, term, trunc, info = env.step(np.asarray(a, dtype=np.float32))
        done = "terminated" if term else "truncated" if trunc else "not_done"
        rows.append({"obs": obs, "reward": r, "done": done, "failure": info["failure"],
                     "success": info["is_success"], "state": [s.x, s.y, s.yaw, s.speed]})
        if term or trunc:
            break
    return rows


def compare(name: str, rust: list[dict], py: list[dict]) -> tuple[str, int, float]:
    worst = 0.0
    for k, (r, p) in enumerate(zip(rust, py)):
        d_obs = max(abs(a - b) for a, b in zip(r["obs"], p["obs"]))
        d_rew = abs(r["reward"] - p["reward"])
        # Yaw is compared on the circle.
        d_state = max(abs(r["state"][i] - p["state"][i]) for i in (0, 1, 3))
        d_yaw = abs(math.remainder(r["state"][2] - p["state"][2], 2 * math.pi))
        worst = max(worst, d_obs, d_rew, d_state, d_yaw)
        assert len(r["obs"]) == len(p["obs"]), f"{name}: obs length {len(r['obs'])} vs {len(p['obs'])}"
        assert d_obs <= TOL, f"{name} step {k}: obs differ by {d_obs}\n rust {r['obs']}\n py   {list(p['obs'])}"
        assert d_rew <= TOL, f"{name} step {k}: reward {r['reward']} vs {p['reward']}"
        assert max(d_state, d_yaw) <= TOL, f"{name} step {k}: state {r['state']} vs {p['state']}"
        for key in ("done", "failure", "success"):
            assert r[key] == p[key], f"{name} step {k}: {key} {r[key]} vs {p[key]}"
    assert len(rust) == len(py), f"{name}: Rust ran {len(rust) - 1} decisions, Python {len(py) - 1}"
    last = rust[-1]
    outcome = "success" if last["success"] else {0: "running", 1: "timeout", 2: "collision",
                                                  3: "geofence"}.get(last["failure"], str(last["failure"]))
    return outcome, len(rust) - 1, worst


def main() -> int:
    exe = rust_example()
    sc = load_scenario(str(SCENARIO))
    env = SubtaskEnv(str(SCENARIO), SUBTASK, scenario=sc)
    rng = np.random.default_rng(12345)
    wander = [(float(np.float32(0.6 + 0.4 * math.sin(0.05 * k))), float(np.float32(0.9 * math.sin(0.013 * k * k % 7))))
              for k in range(800)]
    cases = [
        # Straight at the gatehouse (box at (30, 68)) from the west gate.
        ("collision", (22.0, 75.0, math.atan2(68.0 - 75.0, 30.0 - 22.0), 0.0), [(1.0, 0.0)] * 300, "collision"),
        # West out of the gate, past the flagpole, through the fence at x = 2.
        ("geofence", (22.0, 75.0, math.pi, 0.5), [(0.8, 0.0)] * 400, "geofence"),
        # Slowly into the crossroads exit set (r 2.5 m, speed at most 1.5 m/s) from 8 m west.
        ("success", (87.0, 74.0, 0.1, 0.0), [(0.4, -0.05)] * 300, "success"),
        # Spinning and creeping near the gate until the 4000-step horizon (800 decisions).
        ("timeout", (22.5, 75.5, 0.3, 0.0), [(0.02 * math.sin(0.1 * k), 1.0 if k % 200 < 100 else -0.7)
                                             for k in range(900)], "timeout"),
        ("wander", (21.0, 76.0, -0.4, 1.2), wander, None),
        ("random", (23.0, 74.0, 2.0, -0.3),
         [tuple(float(v) for v in rng.uniform(-1.0, 1.0, 2).astype(np.float32)) for _ in range(500)], None),
    ]
    failed = False
    for name, start, actions, want in cases:
        try:
            rust = rust_trace(exe, start, actions)
            py = python_trace(env, start, actions)
            outcome, n, worst = compare(name, rust, py)
            assert want is None or outcome == want, f"{name}: expected {want}, got {outcome}"
            print(f"ok   {name:9s} {n:4d} decisions, ends {outcome:9s} max |diff| {worst:.2e}")
        except AssertionError as e:
            failed = True
            print(f"FAIL {e}")
    print("port agrees with the Rust environment" if not failed else "port DISAGREES")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
