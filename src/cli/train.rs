//! `sim2real train`: PPO on one subtask in the low-fidelity simulator; writes the policy pair,
//! a learning curve, and prints a deterministic evaluation from fresh entry states.

use super::progress::Progress;
use super::{Code, Failure, FidelityArg};
use policies::PolicyFile;
use sim2real::bundle::BundleWriter;
use sim2real::plot::learning_curve::learning_curve_png;
use sim2real::training::Learner;
use sim2real::training::subtask_env::{self, DEFAULT_POLICY_HZ, SubtaskEnv};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file.
    scenario: PathBuf,
    /// Id of the subtask to train.
    #[arg(long)]
    subtask: String,
    /// Environment steps (policy decisions) to train for, rounded up to whole rollouts
    /// (default: the subtask's training budget).
    #[arg(long)]
    steps: Option<u64>,
    /// Seed of the networks, the rollouts and the evaluation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Simulator to train in.
    #[arg(long, value_enum, default_value = "low")]
    fidelity: FidelityArg,
    /// Policy decision rate (Hz); must divide the control rate.
    #[arg(long, default_value_t = DEFAULT_POLICY_HZ)]
    policy_hz: f64,
    /// Episodes of the final deterministic evaluation.
    #[arg(long, default_value_t = 100)]
    eval_episodes: u64,
    /// Deterministic checkpoint evaluations spread over the run (each on 100 held-out starts).
    #[arg(long, default_value_t = DEFAULT_CHECKPOINTS)]
    checkpoints: u64,
    /// Stop at the first checkpoint whose deterministic success reaches this fraction (0, 1],
    /// save that checkpoint, and report the steps and seconds it took (for benchmarks).
    #[arg(long)]
    target_success: Option<f64>,
    /// Output directory: policies/<id>.{safetensors,contract.yaml} and learning_curve_<id>.png.
    #[arg(long)]
    out: PathBuf,
}

/// Environments used for evaluations (results do not depend on it).
const EVAL_ENVS: usize = 8;
/// Deterministic evaluations during training (checkpoints to choose from), unless
/// `--checkpoints` says otherwise.
const DEFAULT_CHECKPOINTS: u64 = 10;
/// Episodes of each checkpoint's evaluation.
const SELECTION_EPISODES: u64 = 100;

pub fn run(args: Args) -> Result<Code, Failure> {
    let scenario = super::load(&args.scenario)?;
    let index = scenario.subtask_index(&args.subtask).ok_or_else(|| {
        let ids: Vec<&str> = scenario.subtasks().iter().map(|s| s.id().as_str()).collect();
        Failure::invalid(anyhow::anyhow!(
            "{}: --subtask: no subtask `{}` (subtasks: {})",
            args.scenario.display(),
            args.subtask,
            ids.join(", ")
        ))
    })?;
    let fidelity: sim::Fidelity = args.fidelity.into();
    let make = || SubtaskEnv::new(&scenario, index, fidelity, args.policy_hz);
    let probe = make().map_err(|e| Failure::invalid(anyhow::anyhow!("--policy-hz / scenario: {e}")))?;
    let id = probe.subtask_id().to_string();
    let steps = args.steps.unwrap_or_else(|| scenario.subtasks()[index].budget_steps());
    if steps == 0 {
        return Err(Failure::invalid(anyhow::anyhow!("--steps: must be at least 1")));
    }
    if args.checkpoints == 0 {
        return Err(Failure::invalid(anyhow::anyhow!("--checkpoints: must be at least 1, got 0")));
    }
    if let Some(p) = args.target_success
        && !(p > 0.0 && p <= 1.0)
    {
        return Err(Failure::invalid(anyhow::anyhow!("--target-success: must be in (0, 1], got {p}")));
    }

    let mut learner =
        Learner::new(subtask_env::ppo_config(), args.seed, || Ok(make()?)).map_err(Failure::runtime)?;
    tracing::info!(
        "training `{id}` in {} fidelity: {steps} steps, seed {}, policy {} Hz (command held {} control steps)",
        fidelity.name(),
        args.seed,
        probe.policy_hz(),
        probe.hold_steps()
    );

    // Checkpoint selection (training::learner): training stops `--checkpoints` times to
    // evaluate the deterministic policy on held-out starts, and the best checkpoint is what
    // gets saved. The final evaluation below uses other starts, so the selection does not bias
    // it.
    let mut eval_envs =
        (0..EVAL_ENVS).map(|_| make()).collect::<Result<Vec<_>, _>>().map_err(Failure::runtime)?;
    let select_seed = policies::derive_seed(args.seed, u64::MAX - 1);
    let rollout = learner.rollout_steps();
    let chunk = steps.div_ceil(args.checkpoints).div_ceil(rollout) * rollout;
    let mut checks: Vec<(u64, f64)> = Vec::new();
    let mut last = None;
    let progress = Progress::new(steps, "steps");
    // Wall-clock spent in checkpoint evaluations, so the report can give training time alone.
    let mut eval_s = 0.0;
    let mut reached: Option<(u64, f64, f64)> = None;
    let started = Instant::now();
    while learner.steps_done() < steps {
        let todo = chunk.min(steps - learner.steps_done());
        let p = learner
            .train(todo, |p| {
                let msg =
                    format!("return {} success {}", fmt_opt(p.mean_return, 2), fmt_opt(p.success_rate, 3));
                progress.update(p.steps_done, &msg);
            })
            .map_err(|e| Failure::runtime(anyhow::Error::new(e).context(format!("training `{id}`"))))?;
        let eval_started = Instant::now();
        let rate = subtask_env::evaluate(learner.agent(), &mut eval_envs, SELECTION_EPISODES, select_seed)
            .success_rate();
        eval_s += eval_started.elapsed().as_secs_f64();
        progress.note(&format!(
            "{} steps: deterministic success {rate:.3} on {SELECTION_EPISODES} held-out starts",
            p.steps_done
        ));
        checks.push((p.steps_done, rate));
        last = Some(p);
        if args.target_success.is_some_and(|target| rate >= target) {
            // The first checkpoint at the target is the one kept, whatever came before it.
            learner.keep(rate);
            let total_s = started.elapsed().as_secs_f64();
            reached = Some((learner.steps_done(), total_s, total_s - eval_s));
            break;
        }
        learner.offer(rate);
    }
    progress.finish();
    let (Some(last), Some(best)) = (last, learner.best()) else {
        return Err(Failure::runtime(anyhow::anyhow!("training `{id}` took no steps")));
    };
    let elapsed_s = started.elapsed().as_secs_f64();
    println!(
        "trained `{id}`: {} steps in {elapsed_s:.1} s ({:.0} steps/s); last 100 training episodes: return {}, success {}",
        last.steps_done,
        last.steps_done as f64 / elapsed_s.max(1e-9),
        fmt_opt(last.mean_return, 2),
        fmt_opt(last.success_rate, 3)
    );
    println!(
        "kept the checkpoint at {} steps (deterministic success {:.3} on {SELECTION_EPISODES} held-out starts)",
        best.steps, best.score
    );
    if let Some(target) = args.target_success {
        // One line a benchmark script can parse: steps and seconds to the target (seconds with
        // and without the checkpoint evaluations).
        match reached {
            Some((at_steps, total_s, train_s)) => println!(
                "target success {target:.3} reached: {at_steps} steps, {total_s:.3} s wall-clock \
                 ({train_s:.3} s training, {:.3} s checkpoint evaluations)",
                total_s - train_s
            ),
            None => println!(
                "target success {target:.3} not reached: {} steps, {elapsed_s:.3} s wall-clock \
                 ({:.3} s training, {eval_s:.3} s checkpoint evaluations); best {:.3}",
                last.steps_done,
                elapsed_s - eval_s,
                best.score
            ),
        }
    }

    let writer = BundleWriter::create(&args.out).map_err(Failure::runtime)?;
    let file = PolicyFile::new(&best.agent, probe.policy_meta(), best.steps, args.seed, true)
        .map_err(Failure::runtime)?;
    let (wpath, cpath) = writer.policy(&id, &file).map_err(Failure::runtime)?;
    let png = args.out.join(format!("learning_curve_{id}.png"));
    learning_curve_png(&png, &id, learner.curve(), &checks, SELECTION_EPISODES).map_err(Failure::runtime)?;
    println!("wrote {}, {} and {}", wpath.display(), cpath.display(), png.display());

    // Evaluate what is on disk, exactly as verification and the robot will load it.
    let saved = PolicyFile::load(wpath.parent().unwrap_or(&args.out), &id).map_err(Failure::runtime)?;
    let eval_seed = policies::derive_seed(args.seed, u64::MAX);
    let eval = subtask_env::evaluate(&saved, &mut eval_envs, args.eval_episodes, eval_seed);
    println!(
        "evaluation ({} fidelity, deterministic policy, {} fresh entry states): {eval}",
        fidelity.name(),
        args.eval_episodes
    );
    Ok(Code::Success)
}

fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.digits$}"))
}
