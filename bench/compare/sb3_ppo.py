#!/usr/bin/env python3
"""sim2real's Rust PPO against Stable-Baselines3 PPO on the same task, in one run.

The task is the yard's `gate_west_to_crossroads` subtask (around the container stacks) in the
low-fidelity simulator: `sim2real train` on the Rust side, the gymnasium port in warthog_env.py
(checked against the Rust by check_port.py) under SB3 PPO on the other. Both sides

* train with the same PPO settings (8 envs x 256 steps, minibatch 256, 10 epochs, lr 3e-4,
  gamma 0.99, lambda 0.95, clip 0.2, no entropy bonus, value coefficient 0.5, gradient norm 0.5,
  64-64 tanh actor and critic, log std 0, running observation normalisation clipped at 10, no
  reward normalisation) on 2 threads;
* stop every `--eval-every` environment steps (policy decisions) to run the deterministic
  policy on the same 100 held-out starts (the Rust's selection starts, printed by the
  `env_trace` example) and stop at the first evaluation with success >= `--target`;
* report wall-clock to the target (training alone, and with the evaluations), environment
  steps to the target, and training throughput (environment steps per second of training).

    python3 bench/compare/sb3_ppo.py --seeds 1          # after bench/compare/setup.sh

Writes bench/compare/results.json and bench/compare/results.md (the table).
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


sys.path.insert(0, str(HERE))
from bench_venv import ensure  # noqa: E402

ensure(["stable_baselines3", "torch", "gymnasium", "yaml"], "sb3_ppo")

import numpy as np  # noqa: E402
import stable_baselines3  # noqa: E402
import torch  # noqa: E402
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize  # noqa: E402

from warthog_env import SubtaskEnv, load_scenario  # noqa: E402

SCENARIO = ROOT / "scenarios" / "warthog_yard" / "scenario.yaml"
SUBTASK = "gate_west_to_crossroads"
EVAL_EPISODES = 100


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def build_rust():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "sim2real", "--example", "env_trace"],
                   cwd=ROOT, check=True)


def eval_starts(seed: int) -> list:
    exe = target_dir() / "release" / "examples" / "env_trace"
    out = subprocess.run([str(exe), "starts", str(SCENARIO), SUBTASK, str(EVAL_EPISODES), str(seed)],
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


# ---------------------------------------------------------------- Rust side


def run_rust(seed: int, cap_steps: int, eval_every: int, target: float, threads: int) -> dict:
    checkpoints = -(-cap_steps // eval_every)
    cmd = [str(target_dir() / "release" / "sim2real"), "train", str(SCENARIO), "--subtask", SUBTASK,
           "--steps", str(cap_steps), "--seed", str(seed), "--checkpoints", str(checkpoints),
           "--target-success", str(target), "--eval-episodes", str(EVAL_EPISODES),
           "--out", tempfile.mkdtemp(prefix=f"sb3-compare-rust-seed{seed}-")]
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    process_s = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of the whole process (start-up, final evaluation and plot included): a measure
    # that other load on the machine disturbs less than wall-clock.
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = p.stdout
    m = re.search(r"target success \S+ (reached|not reached): (\d+) steps, ([\d.]+) s wall-clock "
                  r"\(([\d.]+) s training, ([\d.]+) s checkpoint evaluations\)", text)
    if not m:
        raise RuntimeError(f"no target line in sim2real output:\n{text}\n{p.stderr[-2000:]}")
    curve = [(int(a), float(b)) for a, b in
             re.findall(r"(\d+) steps: deterministic success ([\d.]+) on", p.stderr)]
    steps, total_s, train_s, eval_s = int(m[2]), float(m[3]), float(m[4]), float(m[5])
    return {"tool": "sim2real (Rust)", "reached": m[1] == "reached", "steps": steps,
            "wall_s": total_s, "train_s": train_s, "eval_s": eval_s,
            "steps_per_s": steps / train_s if train_s > 0 else None,
            "process_s": process_s, "cpu_s": cpu_s, "checkpoints": curve}


# ---------------------------------------------------------------- SB3 side


def evaluate(model, venv: VecNormalize, envs: list, starts: list) -> float:
    """Deterministic policy on each start, all episodes stepped together (one batched forward)."""
    obs = [env.reset_to(tuple(s), 0) for env, s in zip(envs, starts)]
    active = list(range(len(envs)))
    successes = 0
    while active:
        batch = venv.normalize_obs(np.stack([obs[i] for i in active]))
        actions, _ = model.predict(batch, deterministic=True)
        still = []
        for i, a in zip(active, actions):
            o, _, term, trunc, info = envs[i].step(a)
            obs[i] = o
            if term or trunc:
                successes += bool(info["is_success"])
            else:
                still.append(i)
        active = still
    return successes / len(envs)


def run_sb3(seed: int, cap_steps: int, cap_s: float, eval_every: int, target: float, threads: int,
            vec: str, starts: list) -> dict:
    torch.set_num_threads(threads)
    sc = load_scenario(str(SCENARIO))

    def make(i):
        def thunk():
            e = SubtaskEnv(str(SCENARIO), SUBTASK, scenario=sc)
            e.reset(seed=seed * 1000 + i)
            return e
        return thunk

    cls = DummyVecEnv if vec == "dummy" else SubprocVecEnv
    venv = VecNormalize(cls([make(i) for i in range(8)]), norm_obs=True, norm_reward=False, clip_obs=10.0,
                        gamma=0.99)
    model = PPO("MlpPolicy", venv, n_steps=256, batch_size=256, n_epochs=10, learning_rate=3e-4, gamma=0.99,
                gae_lambda=0.95, clip_range=0.2, ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5,
                normalize_advantage=True, seed=seed, device="cpu", verbose=0)
    eval_envs = [SubtaskEnv(str(SCENARIO), SUBTASK, scenario=sc) for _ in starts]
    train_s = eval_s = cpu_s = 0.0
    curve = []
    reached = False
    t_start = time.perf_counter()
    while model.num_timesteps < cap_steps and time.perf_counter() - t_start < cap_s:
        t0, c0 = time.perf_counter(), time.process_time()
        model.learn(total_timesteps=eval_every, reset_num_timesteps=False, progress_bar=False)
        t1 = time.perf_counter()
        cpu_s += time.process_time() - c0
        rate = evaluate(model, venv, eval_envs, starts)
        t2 = time.perf_counter()
        train_s += t1 - t0
        eval_s += t2 - t1
        curve.append((int(model.num_timesteps), rate))
        print(f"  sb3 seed {seed}: {model.num_timesteps} steps, {train_s:.1f} s training, "
              f"deterministic success {rate:.3f}", flush=True)
        if rate >= target:
            reached = True
            break
    wall_s = time.perf_counter() - t_start
    venv.close()
    steps = int(model.num_timesteps)
    return {"tool": f"Stable-Baselines3 {stable_baselines3.__version__} PPO (torch {torch.__version__})",
            "reached": reached, "steps": steps, "wall_s": wall_s, "train_s": train_s, "eval_s": eval_s,
            "steps_per_s": steps / train_s if train_s > 0 else None, "cpu_s": cpu_s,
            "checkpoints": curve, "vec_env": vec}


# ---------------------------------------------------------------- report


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "sb3": stable_baselines3.__version__,
            "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")}


def fmt_row(r: dict, target: float) -> str:
    to = "" if r["reached"] else "not reached (cap) "
    return (f"| {r['tool']} | {r['seed']} | {to}{r['steps']:,} | {r['train_s']:.1f} | {r['wall_s']:.1f} | "
            f"{r['steps_per_s']:,.0f} | {r['cpu_s']:.1f} | {r['load_1min'][0]:.1f} / {r['load_1min'][1]:.1f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--eval-every", type=int, default=20480, help="environment steps between evaluations")
    ap.add_argument("--cap-steps", type=int, default=2_000_000)
    ap.add_argument("--cap-s", type=float, default=1800.0, help="SB3 wall-clock cap per seed (s)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vec-env", choices=["dummy", "subproc"], default="dummy")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    args = ap.parse_args()

    build_rust()
    rows = []
    for seed in args.seeds:
        starts = eval_starts(seed)
        print(f"seed {seed}: Rust ...", flush=True)
        load0 = os.getloadavg()[0]
        r = run_rust(seed, args.cap_steps, args.eval_every, args.target, args.threads)
        r["seed"] = seed
        # Other work on the machine slows torch's thread pool badly: record the load around each side.
        r["load_1min"] = [load0, os.getloadavg()[0]]
        rows.append(r)
        print(f"  rust: {'reached' if r['reached'] else 'NOT reached'} at {r['steps']} steps, "
              f"{r['train_s']:.1f} s training ({r['wall_s']:.1f} s with evaluations), "
              f"{r['steps_per_s']:.0f} steps/s", flush=True)
        print(f"seed {seed}: SB3 ...", flush=True)
        load0 = os.getloadavg()[0]
        s = run_sb3(seed, args.cap_steps, args.cap_s, args.eval_every, args.target, args.threads, args.vec_env,
                    starts)
        s["seed"] = seed
        s["load_1min"] = [load0, os.getloadavg()[0]]
        rows.append(s)
        # Rust again, right after: the machine's load drifts, and SB3 runs far longer than the Rust.
        load0 = os.getloadavg()[0]
        r2 = run_rust(seed, args.cap_steps, args.eval_every, args.target, args.threads)
        r2.update(seed=seed, tool="sim2real (Rust), rerun after SB3", load_1min=[load0, os.getloadavg()[0]])
        rows.append(r2)
        print(f"  rust again: {r2['steps']} steps, {r2['train_s']:.1f} s training, "
              f"{r2['steps_per_s']:.0f} steps/s", flush=True)

    lines = [
        f"Target: deterministic success >= {args.target} on the same {EVAL_EPISODES} held-out starts, "
        f"evaluated every {args.eval_every:,} environment steps (cap {args.cap_steps:,} steps"
        f", SB3 also {args.cap_s:.0f} s per seed).",
        "",
        "| tool | seed | env steps to target | training s to target | wall-clock s to target (with evaluations) "
        "| env steps/s (training) | CPU s | load before / after |",
        "|---|---|---|---|---|---|---|---|",
        *(fmt_row(r, args.target) for r in rows),
        "",
    ]
    for seed in args.seeds:
        r = next(x for x in rows if x["seed"] == seed and x["tool"] == "sim2real (Rust)")
        s = next(x for x in rows if x["seed"] == seed and not x["tool"].startswith("sim2real"))
        speed = s["train_s"] / r["train_s"]
        wall = s["wall_s"] / r["wall_s"]
        thr = r["steps_per_s"] / s["steps_per_s"]
        qual = "" if (r["reached"] and s["reached"]) else " (lower bound: SB3 did not reach the target)" \
            if r["reached"] else " (Rust did not reach the target)"
        lines.append(f"Seed {seed}: Rust is {speed:.1f}x faster to the target in training time, {wall:.1f}x in "
                     f"wall-clock with evaluations{qual}; {thr:.1f}x the training throughput.")
    m = machine()
    lines += ["", f"Machine: {m['cpu']}, {m['cores']} cores, {m['date_utc']} UTC; Python {m['python']}, "
                  f"torch {m['torch']} (CPU), SB3 {m['sb3']}; both sides on {args.threads} thread(s)."]
    table = "\n".join(lines)
    print("\n" + table)
    result = {"machine": m, "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
              "rows": rows}
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(args.out)
    md = args.out.with_suffix(".md")
    md.write_text("# sim2real vs Stable-Baselines3 PPO (generated by sb3_ppo.py)\n\n" + table + "\n")
    print(f"\nwrote {args.out} and {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
