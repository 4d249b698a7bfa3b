//! Prints what `SubtaskEnv` (low fidelity) does, as JSON lines, for checking the Python port in
//! `bench/compare/` against it (`bench/compare/check_port.py`).
//!
//! ```text
//! env_trace trace  <scenario.yaml> <subtask> <x_m> <y_m> <yaw_rad> <speed_mps> [sim_seed] < actions
//! env_trace starts <scenario.yaml> <subtask> <episodes> <train_seed>
//! ```
//!
//! `trace` starts the subtask at the given state (`SubtaskEnv::reset_to`) and applies the actions
//! read from stdin, one `forward yaw_rate` pair (in [-1, 1]) per line, until the episode ends or
//! the actions run out. Line 0 is the reset; each later line is one decision: the observation,
//! the reward, `done` (`not_done`, `terminated`, `truncated`), the failure code (0 when none)
//! and whether it succeeded, plus the ground-truth state `[x_m, y_m, yaw_rad, speed_mps]`.
//!
//! `starts` prints the start states of the held-out episodes on which `sim2real train --seed
//! <train_seed>` judges its checkpoints (episode i starts from `derive_seed(selection_seed, i)`),
//! so another tool can be evaluated on exactly the same starts.

use std::io::BufRead;
use std::path::Path;

use anyhow::{Context, bail};
use policies::{Action, Done, Env, Outcome};
use sim::{Fidelity, PlanarState};
use sim2real::scenario::Scenario;
use sim2real::training::subtask_env::{DEFAULT_POLICY_HZ, SubtaskEnv};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(mode) = args.first() else {
        bail!("usage: env_trace trace|starts <scenario.yaml> <subtask> ...")
    };
    if args.len() < 3 {
        bail!("usage: env_trace {mode} <scenario.yaml> <subtask> ...");
    }
    let scenario = Scenario::load(Path::new(&args[1])).with_context(|| format!("loading {}", args[1]))?;
    let index = scenario.subtask_index(&args[2]).with_context(|| format!("no subtask `{}`", args[2]))?;
    let mut env = SubtaskEnv::new(&scenario, index, Fidelity::Low, DEFAULT_POLICY_HZ)?;
    let num = |i: usize| -> anyhow::Result<f64> {
        let s = args.get(i).with_context(|| format!("argument {i} missing"))?;
        s.parse::<f64>().with_context(|| format!("argument {i}: `{s}` is not a number"))
    };
    match mode.as_str() {
        "trace" => {
            let start = PlanarState { x_m: num(3)?, y_m: num(4)?, yaw_rad: num(5)?, speed_mps: num(6)? };
            let sim_seed = match args.get(7) {
                Some(s) => s.parse::<u64>().with_context(|| format!("sim_seed `{s}`"))?,
                None => 0,
            };
            trace(&mut env, start, sim_seed)
        }
        "starts" => {
            let episodes = num(3)? as u64;
            let train_seed =
                args.get(4).context("train_seed missing")?.parse::<u64>().context("train_seed")?;
            // As `sim2real train` (src/cli/train.rs) derives its selection seed.
            let seed = policies::derive_seed(train_seed, u64::MAX - 1);
            let mut obs = vec![0.0f32; env.obs_dim()];
            for i in 0..episodes {
                env.reset(policies::derive_seed(seed, i), &mut obs);
                let s = env.simulator().state();
                println!("[{}, {}, {}, {}]", s.x_m, s.y_m, s.yaw_rad, s.speed_mps);
            }
            Ok(())
        }
        other => bail!("unknown mode `{other}` (trace or starts)"),
    }
}

fn trace(env: &mut SubtaskEnv, start: PlanarState, sim_seed: u64) -> anyhow::Result<()> {
    let mut obs = vec![0.0f32; env.obs_dim()];
    env.reset_to(start, sim_seed, &mut obs);
    line(0, &obs, 0.0, "not_done", 0, false, env.simulator().state());
    let stdin = std::io::stdin();
    for (k, text) in stdin.lock().lines().enumerate() {
        let text = text?;
        let a: Vec<f32> = text.split_whitespace().map(str::parse).collect::<Result<_, _>>()?;
        if a.is_empty() {
            continue;
        }
        let step = env.step(Action::Continuous(&a), &mut obs);
        let done = match step.done {
            Done::NotDone => "not_done",
            Done::Terminated => "terminated",
            Done::Truncated => "truncated",
        };
        let (failure, success) = match step.outcome {
            Outcome::Failure(code) => (code, false),
            Outcome::Success => (0, true),
            Outcome::Unknown => (0, false),
        };
        line(k + 1, &obs, step.reward, done, failure, success, env.simulator().state());
        if step.done.is_done() {
            break;
        }
    }
    Ok(())
}

fn line(step: usize, obs: &[f32], reward: f32, done: &str, failure: u32, success: bool, s: PlanarState) {
    let obs: Vec<String> = obs.iter().map(|o| f64::from(*o).to_string()).collect();
    println!(
        "{{\"step\": {step}, \"obs\": [{}], \"reward\": {}, \"done\": \"{done}\", \"failure\": {failure}, \
         \"success\": {success}, \"state\": [{}, {}, {}, {}]}}",
        obs.join(", "),
        f64::from(reward),
        s.x_m,
        s.y_m,
        s.yaw_rad,
        s.speed_mps
    );
}
