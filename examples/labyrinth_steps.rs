//! Measures how many PPO steps subtasks of the ICAPS labyrinth need to reach the loop's θ.
//!
//! ```text
//! cargo run --release --example labyrinth_steps -- [labyrinth.yaml] [subtasks] [max_steps] [eval_every] [seed] [raw]
//! ```
//!
//! For each subtask (default `c0,c4,c9`) it trains categorical PPO with `PpoConfig::default()`
//! (the paper's SB3 settings) from scratch, every `eval_every` steps (default 10 000) estimates
//! p̂ over K rollouts of horizon T_c (from the file: 300 and 100), and stops when p̂ ≥ θ or after
//! `max_steps` (default: the file's N_max). Prints one line per evaluation and a summary with
//! the training throughput (steps per second, training only). `raw` turns observation
//! normalisation off (the paper fed raw (x, y, dir) to SB3; normalisation is our default).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use policies::{Control, Ppo, PpoConfig};
use sim2real::training::labyrinth::{ACTION_SPACE, Labyrinth, OBS_DIM};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/labyrinth/labyrinth.yaml"),
        PathBuf::from,
    );
    let lab = Labyrinth::load(&path)?;
    let t = lab.training();
    let ids: Vec<String> =
        args.get(1).map_or("c0,c4,c9", String::as_str).split(',').map(String::from).collect();
    let max_steps: u64 = args.get(2).map_or(Ok(t.budget_steps), |s| s.parse()).context("max_steps")?;
    let every: u64 = args.get(3).map_or(Ok(10_000), |s| s.parse()).context("eval_every")?;
    let seed: u64 = args.get(4).map_or(Ok(0), |s| s.parse()).context("seed")?;
    let config = PpoConfig { normalize_obs: args.get(5).is_none_or(|a| a != "raw"), ..PpoConfig::default() };
    println!(
        "threads {} | theta {} K {} T_c {} | eval every {every} steps, at most {max_steps} | normalize_obs {}",
        rayon::current_num_threads(),
        t.theta,
        t.estimation_rollouts,
        t.subtask_horizon_steps,
        config.normalize_obs
    );
    for id in ids {
        let c = lab.subtask_index(&id).with_context(|| format!("no subtask {id}"))?;
        let mut ppo = Ppo::new(config.clone(), OBS_DIM, ACTION_SPACE, seed)?;
        let mut envs = ppo.vec_env(|_| lab.env(c).expect("index checked above"))?;
        let (mut train_s, mut eval_s) = (0.0, 0.0);
        let mut reached = None;
        let mut p_hat = 0.0;
        while ppo.steps_done() < max_steps {
            let clock = Instant::now();
            let progress = ppo.learn(&mut envs, every, |_| Control::Continue)?;
            train_s += clock.elapsed().as_secs_f64();
            let clock = Instant::now();
            let k = t.estimation_rollouts;
            let wins = lab.estimate(ppo.agent(), c, k, t.subtask_horizon_steps, seed ^ ppo.steps_done())?;
            eval_s += clock.elapsed().as_secs_f64();
            p_hat = wins as f64 / k as f64;
            println!(
                "{id} steps {:>7} p_hat {p_hat:.3} | training episodes: success {:.2}, length {:.0}",
                ppo.steps_done(),
                progress.success_rate.unwrap_or(f64::NAN),
                progress.mean_length.unwrap_or(f64::NAN)
            );
            if p_hat >= t.theta {
                reached = Some(ppo.steps_done());
                break;
            }
        }
        let steps = ppo.steps_done();
        println!(
            "SUMMARY {id}: reached theta at {} | final p_hat {p_hat:.3} after {steps} steps | train {train_s:.1} s \
             ({:.0} steps/s) | estimation {eval_s:.1} s",
            reached.map_or("never".to_string(), |s| s.to_string()),
            steps as f64 / train_s
        );
    }
    Ok(())
}
