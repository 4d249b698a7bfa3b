#!/usr/bin/env bash
# The iterative compositional RL loop on the ICAPS labyrinth (research note §4): ten seeds in
# sequence with the paper's settings (θ 0.95, N_train 5e4, N_max 5e5, K 300, T_c 100, T_meta 200;
# our caps 3.2 M steps / 200 iterations; PPO as `labyrinth_icrl::ppo_config`: the paper's SB3
# settings, raw observations, entropy bonus 0.01). Release build. Prints a Markdown table and a
# summary and writes them, with the raw JSON lines, to bench/labyrinth-results.md.
#   ./bench/labyrinth.sh                 # seeds 0-9
#   SEEDS="0 1" ./bench/labyrinth.sh     # other seeds
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --example labyrinth_icrl
bin=${CARGO_TARGET_DIR:-target}/release/examples/labyrinth_icrl
seeds=${SEEDS:-0 1 2 3 4 5 6 7 8 9}
runs=$(mktemp)
trap 'rm -f "$runs"' EXIT
for seed in $seeds; do
  "$bin" "$seed" | tee -a "$runs" >&2
done
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
machine="$(nproc) cores${cpu:+ ($cpu)}, ${MACHINE_NOTE:-shared}"
python3 - "$runs" "$machine" <<'PY' | tee bench/labyrinth-results.md
import json, statistics, sys, datetime
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("# ICRL on the ICAPS labyrinth\n")
print(f"{datetime.date.today().isoformat()}, {sys.argv[2]}; `bench/labyrinth.sh` (release build,")
print("seeds in sequence). Settings: θ 0.95, N_train 5e4, N_max 5e5, K 300, T_c 100, T_meta 200; caps")
print("3.2 M steps / 200 iterations; PPO: the paper's SB3 settings, raw observations, entropy bonus 0.01")
print("(`labyrinth_icrl::ppo_config`). \"predicted\": HLM max reach with p̂ at the end; \"empirical\":")
print("success of the final route over 300 composite rollouts of horizon 200.\n")
print("| seed | ending | iterations | total steps | θ met within 1.6M? | predicted | empirical | emp ≥ pred? | wall-clock s | route |")
print("|---|---|---|---|---|---|---|---|---|---|")
met = ge = 0
for r in runs:
    ok = r["ending"] == "met" and r["total_steps"] <= 1_600_000
    good = r["empirical"] >= r["predicted"]
    met += ok
    ge += good
    print(f"| {r['seed']} | {r['ending']} | {r['iterations']} | {r['total_steps']:,} | {'yes' if ok else 'no'} | "
          f"{r['predicted']:.3f} | {r['empirical']:.3f} | {'yes' if good else 'no'} | {r['wall_clock_s']:.0f} | "
          f"{' '.join(r['route'])} |")
n = len(runs)
steps = statistics.median(r["total_steps"] for r in runs)
wall = statistics.median(r["wall_clock_s"] for r in runs)
print(f"\nθ met within 1.6M steps in {met}/{n} seeds; empirical ≥ predicted in {ge}/{n}; "
      f"median steps {steps:,.0f}; median wall-clock {wall:.0f} s\n")
print("Paper (research note §4, 10 runs): 9/10 within 1.6 M steps, emp ≥ pred in 9/10, median 1.375 M steps.\n")
print("Training order and steps per subtask, per seed:\n")
print("```")
for r in runs:
    print(json.dumps(r))
print("```")
PY
