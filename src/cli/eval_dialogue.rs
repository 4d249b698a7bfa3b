//! `sim2real eval-dialogue`: the Guess-the-Waypoint evaluation (random, greedy, optimal agents at
//! noise 0 and at `--noise`) as a Markdown table; deterministic for a seed. `--llm SPEC` adds a
//! `greedy+llm` row per noise level (`--llm-episodes`, default 100: DESIGN §9). `--timing` adds
//! the greedy agent's reply latency, and the `greedy+llm` agent's with `--llm` (wall clock,
//! measured here in the binary, never in the library).

use super::{Code, Failure};
use anyhow::anyhow;
use clap::ValueEnum;
use sim2real::agents::dialogue::{DialogueAgent, DialogueConfig};
use sim2real::agents::episodes::episode_seed;
use sim2real::agents::waypoint_game::{GameConfig, WaypointGame};
use sim2real::agents::{Catalog, Targets, Understanding};
use sim2real::eval::dialogue::{self as eval, EvalConfig};
use sim2real::llm::{self, LlmSpec};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TargetsArg {
    /// The scenario's HLM goals (what a mission can drive to).
    Goals,
    /// Every named waypoint.
    All,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file.
    scenario: PathBuf,
    /// Episodes per agent and noise level.
    #[arg(long, default_value_t = 500)]
    episodes: u64,
    /// Probability in [0, 0.5] that the simulated operator answers an attribute question wrongly.
    #[arg(long, default_value_t = 0.1)]
    noise: f64,
    /// Probability in [0, 0.5] that the operator answers a confirmation wrongly (both blocks).
    #[arg(long, default_value_t = 0.0)]
    confirm_noise: f64,
    /// Seed of the episodes and of the random baseline.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Which waypoints the hidden goal ranges over.
    #[arg(long, value_enum, default_value = "goals")]
    targets: TargetsArg,
    /// Agent turns per episode (2..=50).
    #[arg(long, default_value_t = 10)]
    turn_limit: u32,
    /// Penalty for committing to the wrong waypoint (reward −P).
    #[arg(long, default_value_t = 10.0)]
    wrong_commit_penalty: f64,
    /// Language model for a `greedy+llm` row: `none`, `http://HOST:PORT/v1[?model=NAME]`
    /// (OpenAI-compatible server) or `local:PATH.gguf` (feature `llm-local`).
    #[arg(long, default_value = "none")]
    llm: String,
    /// Episodes of the `greedy+llm` rows (≥ 1).
    #[arg(long, default_value_t = 100)]
    llm_episodes: u64,
    /// Also train the PPO move policy for this many steps per noise level and add a `ppo` row.
    #[arg(long)]
    ppo_steps: Option<u64>,
    /// Also measure the greedy agent's reply latency (p50, p99, max).
    #[arg(long)]
    timing: bool,
}

pub fn run(args: Args) -> Result<Code, Failure> {
    if args.episodes == 0 {
        return Err(Failure::invalid(anyhow!("--episodes: 0 is outside ≥ 1")));
    }
    if args.llm_episodes == 0 {
        return Err(Failure::invalid(anyhow!("--llm-episodes: 0 is outside ≥ 1")));
    }
    let spec = LlmSpec::parse(&args.llm).map_err(Failure::invalid)?;
    let scenario = super::load(&args.scenario)?;
    let targets = match args.targets {
        TargetsArg::Goals => Targets::Goals,
        TargetsArg::All => Targets::All,
    };
    let game = GameConfig {
        noise: args.noise,
        confirm_noise: args.confirm_noise,
        turn_limit: args.turn_limit,
        wrong_commit_penalty: args.wrong_commit_penalty,
    };
    // The library names the field; on the command line it is a flag.
    game.validate().map_err(|e| Failure::invalid(anyhow!("--{}", e.to_string().replace('_', "-"))))?;
    let cfg = EvalConfig {
        episodes: args.episodes,
        noise: args.noise,
        seed: args.seed,
        targets,
        game,
        ppo_steps: args.ppo_steps,
    };
    let backend = llm::open(&spec).map_err(Failure::invalid)?;
    let llm_line = backend.as_ref().map(|b| b.describe());
    let (rows, backend) = match backend {
        None => (eval::evaluate(&scenario, &cfg).map_err(|e| Failure::invalid(anyhow!(e)))?, None),
        Some(b) => {
            let (rows, b) = eval::evaluate_with_llm(&scenario, &cfg, b, args.llm_episodes)
                .map_err(|e| Failure::invalid(anyhow!(e)))?;
            (rows, Some(b))
        }
    };
    if let Some(line) = &llm_line {
        println!("greedy+llm reads with {line}; {} episodes per greedy+llm row", args.llm_episodes);
    }
    println!(
        "Guess-the-Waypoint on {} ({} targets: {:?}), {} episodes per row, seed {}, turn limit {}, \
         wrong-commit penalty {}, confirmation noise {}\n",
        scenario.name(),
        Catalog::new(&scenario, targets).map(|c| c.targets().len()).unwrap_or(0),
        targets,
        args.episodes,
        args.seed,
        args.turn_limit,
        args.wrong_commit_penalty,
        args.confirm_noise
    );
    print!("{}", eval::markdown(&rows));
    if args.timing {
        let catalog = Catalog::new(&scenario, targets).map_err(|e| Failure::invalid(anyhow!(e)))?;
        let mut game = WaypointGame::new(catalog.clone(), game).map_err(|e| Failure::invalid(anyhow!(e)))?;
        let agent_cfg = DialogueConfig {
            answer_noise: eval::assumed_noise(args.noise),
            confirm_noise: eval::assumed_confirm_noise(args.confirm_noise),
            turn_limit: args.turn_limit,
            ..DialogueConfig::default()
        };
        let mut agent =
            DialogueAgent::new(catalog.clone(), agent_cfg).map_err(|e| Failure::invalid(anyhow!(e)))?;
        let samples_us = reply_latencies_us(&mut agent, &mut game, args.episodes, args.seed);
        print_latency("greedy", &samples_us, args.noise, "µs", 1.0);
        if let Some(b) = backend {
            let mut agent = DialogueAgent::with_understanding(catalog, agent_cfg, Understanding::Llm(b))
                .map_err(|e| Failure::invalid(anyhow!(e)))?;
            let samples_us = reply_latencies_us(&mut agent, &mut game, args.llm_episodes, args.seed);
            print_latency("greedy+llm", &samples_us, args.noise, "ms", 1e-3);
        }
    }
    Ok(Code::Success)
}

/// Wall-clock time of each `act` call over `episodes` episodes, microseconds.
fn reply_latencies_us(
    agent: &mut DialogueAgent,
    game: &mut WaypointGame,
    episodes: u64,
    seed: u64,
) -> Vec<f64> {
    let mut samples_us: Vec<f64> = Vec::new();
    for i in 0..episodes {
        let mut history = game.reset(episode_seed(seed, i));
        agent.reset();
        loop {
            let t0 = Instant::now();
            let action = agent.act(&history);
            samples_us.push(t0.elapsed().as_secs_f64() * 1e6);
            let step = game.step(&action.to_string());
            history = step.history;
            if step.done {
                break;
            }
        }
    }
    samples_us.sort_by(f64::total_cmp);
    samples_us
}

fn print_latency(agent: &str, sorted_us: &[f64], noise: f64, unit: &str, scale: f64) {
    if sorted_us.is_empty() {
        return;
    }
    let q = |f: f64| scale * sorted_us[((sorted_us.len() - 1) as f64 * f).round() as usize];
    println!(
        "\n{agent} reply latency over {} replies (noise {noise}): p50 {:.1} {unit}, p99 {:.1} {unit}, max {:.1} {unit}",
        sorted_us.len(),
        q(0.5),
        q(0.99),
        q(1.0)
    );
}
