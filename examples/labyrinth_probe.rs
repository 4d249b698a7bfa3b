//! Trains one subtask of the ICAPS labyrinth exactly as the loop's learner for `seed` does
//! (`icrl::ppo_config`, PPO seeded `derive_seed(seed, c)`, chunks of N_train) and
//! prints, per chunk, p̂ (K rollouts of horizon T_c) and the learning dynamics: training success
//! and episode length over the last 100 episodes, entropy at the first and last update of the
//! chunk, value loss, KL and clip fraction; then the seconds spent training and estimating.
//! The diagnosis behind `icrl::ENT_COEF` was made with it.
//!
//! ```text
//! cargo run --release --example labyrinth_probe -- seed subtask [chunks]
//! ENT=0 cargo run --release --example labyrinth_probe -- 3 c3 10
//! ```
//!
//! Environment variables override fields of `ppo_config()`: `ENT` (ent_coef), `LR`
//! (learning_rate), `NSTEPS` (n_steps), `BATCH` (batch_size), `EPOCHS` (n_epochs), `NORMADV`
//! (normalize_advantage, 0 or 1). Unset or unparsable values keep the default.

use std::path::PathBuf;

use anyhow::Context;
use policies::{Control, Ppo, derive_seed};
use sim2real::training::labyrinth::icrl;
use sim2real::training::labyrinth::{ACTION_SPACE, Labyrinth, OBS_DIM};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seed: u64 = args.first().context("seed")?.parse()?;
    let id = args.get(1).context("subtask")?;
    let chunks: u64 = args.get(2).map_or(Ok(10), |s| s.parse())?;
    let lab = Labyrinth::load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/labyrinth/labyrinth.yaml"),
    )?;
    let t = lab.training();
    let c = lab.subtask_index(id).context("no such subtask")?;
    let base = icrl::ppo_config();
    let config = policies::PpoConfig {
        ent_coef: env_or("ENT", base.ent_coef),
        learning_rate: env_or("LR", base.learning_rate),
        n_steps: env_or("NSTEPS", base.n_steps),
        batch_size: env_or("BATCH", base.batch_size),
        n_epochs: env_or("EPOCHS", base.n_epochs),
        normalize_advantage: env_or("NORMADV", u8::from(base.normalize_advantage)) == 1,
        ..base
    };
    let mut ppo = Ppo::new(config, OBS_DIM, ACTION_SPACE, derive_seed(seed, c as u64))?;
    let mut env = Some(lab.env(c)?);
    let mut envs = ppo.vec_env(|_| env.take().expect("one env"))?;
    let clock = std::time::Instant::now();
    let (mut train_s, mut est_s) = (0.0, 0.0);
    for k in 0..chunks {
        let t0 = std::time::Instant::now();
        let mut ent = Vec::new();
        let p = ppo.learn(&mut envs, t.chunk_steps, |p| {
            ent.push(p.losses.entropy);
            Control::Continue
        })?;
        let t1 = std::time::Instant::now();
        train_s += (t1 - t0).as_secs_f64();
        let wins = lab.estimate(
            ppo.agent(),
            c,
            t.estimation_rollouts,
            t.subtask_horizon_steps,
            derive_seed(seed, 1000 + k),
        )?;
        est_s += t1.elapsed().as_secs_f64();
        let n = ent.len();
        println!(
            "{id} seed {seed} chunk {k:>2} steps {:>7} p_hat {:.3} | train succ {:.2} len {:>6.0} eps {:>5} | ent first {:.3} last {:.3} | vloss {:.5} kl {:.4} clip {:.3} | {:.1}s",
            p.steps_done,
            wins as f64 / t.estimation_rollouts as f64,
            p.success_rate.unwrap_or(f64::NAN),
            p.mean_length.unwrap_or(f64::NAN),
            p.episodes,
            ent[0],
            ent[n - 1],
            p.losses.value_loss,
            p.losses.approx_kl,
            p.losses.clip_fraction,
            clock.elapsed().as_secs_f64()
        );
    }
    println!("train {train_s:.2} s, estimate {est_s:.3} s");
    Ok(())
}
