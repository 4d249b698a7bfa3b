//! Proximal policy optimisation: [`Ppo`] collects rollouts from a [`VecEnv`] with its
//! [`ActorCritic`], computes GAE advantages and takes clipped-surrogate Adam steps.

mod config;
mod loss;
// The minibatch in plain arrays, public as `policies::torch::Minibatch`: only the tch backend
// (and its parity tests) needs it.
#[cfg(feature = "torch")]
mod minibatch;
mod rollout;

use std::collections::VecDeque;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

pub use config::PpoConfig;
pub use loss::LossStats;
use loss::{Grads, Workspace, accumulate, finish, minibatch_advantages};
#[cfg(feature = "torch")]
pub use minibatch::Minibatch;
use rollout::{Segment, collect, gae};

use crate::vec_env::EpisodeStat;
use crate::{ActionSpace, ActorCritic, Adam, Env, Error, Outcome, VecEnv, clip_grad_norm, derive_seed};

/// Episodes averaged for the progress figures (SB3 keeps the last 100 too).
const EPISODE_WINDOW: usize = 100;

/// Each minibatch's gradient is computed in this many fixed slices (in parallel), then summed
/// in slice order. The slicing depends on the minibatch only, never on the thread count, so the
/// summation order, and hence every weight bit, is the same on 1 thread or 16.
const GRAD_SLICES: usize = 4;

/// Buffers reused by every update.
#[derive(Debug)]
struct UpdateScratch {
    grads: Grads,
    adv: Vec<f32>,
    slices: Vec<(Grads, Workspace, LossStats)>,
}

impl UpdateScratch {
    fn new(agent: &ActorCritic) -> Self {
        Self {
            grads: Grads::zeros(agent),
            adv: Vec::new(),
            slices: (0..GRAD_SLICES)
                .map(|_| (Grads::zeros(agent), Workspace::new(agent), LossStats::default()))
                .collect(),
        }
    }
}

/// What a training callback sees after each rollout and update.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Environment steps taken by this trainer since it was created (all `learn` calls).
    pub steps_done: u64,
    /// `steps_done` at which the current `learn` call will stop.
    pub steps_target: u64,
    /// Rollouts completed by this trainer.
    pub iteration: u64,
    /// Episodes finished so far.
    pub episodes: u64,
    /// Mean undiscounted return of the last (up to) 100 episodes.
    pub mean_return: Option<f64>,
    /// Mean length of the last (up to) 100 episodes.
    pub mean_length: Option<f64>,
    /// Success rate among the last (up to) 100 episodes that reported success or failure.
    pub success_rate: Option<f64>,
    /// Losses averaged over the minibatches of the last update.
    pub losses: LossStats,
}

/// Whether training should go on after a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Keep training.
    Continue,
    /// Stop after this rollout (e.g. early stopping on an evaluation plateau).
    Stop,
}

/// A PPO trainer.
///
/// Seeds: the networks come from `derive_seed(seed, 0)` (see [`ActorCritic::new`]), the
/// minibatch shuffling from `ChaCha8Rng::seed_from_u64(derive_seed(seed, 2))`, and
/// [`Ppo::vec_env`] seeds its environments with `derive_seed(seed, 3)`. Rollouts run one rayon
/// task per environment, each writing its own segment; everything after (normaliser update,
/// GAE, minibatches) runs in environment order on one thread, so the weights after training
/// are bit-identical for a seed whatever the number of threads.
#[derive(Debug, Clone)]
pub struct Ppo {
    config: PpoConfig,
    agent: ActorCritic,
    adam: Adam,
    rng: ChaCha8Rng,
    seed: u64,
    steps_done: u64,
    iteration: u64,
    updates: u64,
    episodes: u64,
    window: VecDeque<EpisodeStat>,
}

impl Ppo {
    /// A trainer with fresh networks for `obs_dim` observations and `space` actions.
    pub fn new(config: PpoConfig, obs_dim: usize, space: ActionSpace, seed: u64) -> Result<Self, Error> {
        config.validate()?;
        let agent = ActorCritic::new(
            obs_dim,
            space,
            &config.actor_hidden,
            &config.critic_hidden,
            config.normalize_obs,
            config.log_std_init,
            derive_seed(seed, 0),
        )?;
        Self::from_agent(config, agent, seed, 0)
    }

    /// Continues training `agent` (e.g. loaded from a policy file) with fresh optimiser state;
    /// `steps_done` is the training it already had.
    pub fn from_agent(
        config: PpoConfig,
        agent: ActorCritic,
        seed: u64,
        steps_done: u64,
    ) -> Result<Self, Error> {
        config.validate()?;
        let adam = Adam::new(agent.n_params(), config.learning_rate, config.adam_eps);
        Ok(Self {
            config,
            agent,
            adam,
            rng: ChaCha8Rng::seed_from_u64(derive_seed(seed, 2)),
            seed,
            steps_done,
            iteration: 0,
            updates: 0,
            episodes: 0,
            window: VecDeque::with_capacity(EPISODE_WINDOW),
        })
    }

    /// `config.n_envs` environments from `factory(i)`, seeded with `derive_seed(seed, 3)`.
    pub fn vec_env<E: Env>(&self, factory: impl FnMut(usize) -> E) -> Result<VecEnv<E>, Error> {
        VecEnv::new(self.config.n_envs, derive_seed(self.seed, 3), factory)
    }

    /// The networks being trained.
    pub fn agent(&self) -> &ActorCritic {
        &self.agent
    }

    /// The configuration.
    pub fn config(&self) -> &PpoConfig {
        &self.config
    }

    /// The trainer's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Environment steps trained so far.
    pub fn steps_done(&self) -> u64 {
        self.steps_done
    }

    /// Trains for at least `total_steps` environment steps (rounded up to whole rollouts of
    /// `n_envs × n_steps`, as SB3 does), calling `callback` after every rollout's update.
    /// Returns the last progress report.
    ///
    /// Errors if `envs` does not match the configuration or the networks, or if a loss or
    /// gradient becomes non-finite (the weights are then left as they were before that step).
    pub fn learn<E: Env + Send>(
        &mut self,
        envs: &mut VecEnv<E>,
        total_steps: u64,
        mut callback: impl FnMut(&Progress) -> Control,
    ) -> Result<Progress, Error> {
        let obs_dim = self.agent.actor.net().input_dim();
        let space = self.agent.actor.action_space();
        let checks = [
            ("number of environments", self.config.n_envs, envs.len()),
            ("observation dimension", obs_dim, envs.obs_dim()),
            ("action space size", space.n(), envs.action_space().n()),
        ];
        for (what, expected, actual) in checks {
            if expected != actual {
                return Err(Error::DimensionMismatch { what, expected, actual });
            }
        }
        if std::mem::discriminant(&space) != std::mem::discriminant(&envs.action_space()) {
            return Err(Error::Config {
                field: "action space kind",
                value: format!("{:?}", envs.action_space()),
                allowed: "the kind (Box or Discrete) the policy was built for",
            });
        }
        let target = self.steps_done + total_steps;
        let mut segs: Vec<Segment> =
            (0..envs.len()).map(|_| Segment::new(self.config.n_steps, obs_dim, space)).collect();
        let mut scratch = UpdateScratch::new(&self.agent);
        let mut progress = self.progress(target, LossStats::default());
        while self.steps_done < target {
            let agent = &self.agent;
            envs.envs
                .par_iter_mut()
                .zip(envs.slots.par_iter_mut())
                .zip(segs.par_iter_mut())
                .for_each(|((env, slot), seg)| collect(env, slot, seg, agent));
            for seg in &mut segs {
                gae(seg, self.config.gamma, self.config.gae_lambda);
                for ep in seg.episodes.drain(..) {
                    if self.window.len() == EPISODE_WINDOW {
                        self.window.pop_front();
                    }
                    self.window.push_back(ep);
                    self.episodes += 1;
                }
            }
            let losses = self.update(&segs, &mut scratch)?;
            // The normaliser moves only between rollouts: the update above must see the same
            // normalised observations that produced the stored log-probs.
            if let Some(norm) = &mut self.agent.norm {
                for seg in &segs {
                    norm.update(&seg.raw_obs);
                }
            }
            self.steps_done += self.config.rollout_len() as u64;
            self.iteration += 1;
            progress = self.progress(target, losses);
            if callback(&progress) == Control::Stop {
                break;
            }
        }
        Ok(progress)
    }

    fn progress(&self, target: u64, losses: LossStats) -> Progress {
        let n = self.window.len();
        let mean =
            |f: fn(&EpisodeStat) -> f64| (n > 0).then(|| self.window.iter().map(f).sum::<f64>() / n as f64);
        let judged: Vec<bool> = self
            .window
            .iter()
            .filter_map(|e| match e.outcome {
                Outcome::Unknown => None,
                Outcome::Success => Some(true),
                Outcome::Failure(_) => Some(false),
            })
            .collect();
        Progress {
            steps_done: self.steps_done,
            steps_target: target,
            iteration: self.iteration,
            episodes: self.episodes,
            mean_return: mean(|e| e.ret),
            mean_length: mean(|e| e.length as f64),
            success_rate: (!judged.is_empty())
                .then(|| judged.iter().filter(|&&s| s).count() as f64 / judged.len() as f64),
            losses,
        }
    }

    /// `n_epochs` passes of shuffled minibatches over the rollout.
    fn update(&mut self, segs: &[Segment], sc: &mut UpdateScratch) -> Result<LossStats, Error> {
        let n = self.config.rollout_len();
        let mut perm: Vec<usize> = (0..n).collect();
        let mut sum = LossStats::default();
        let mut batches = 0u32;
        for _ in 0..self.config.n_epochs {
            // Fisher-Yates with the trainer's own generator: the order depends only on the seed.
            for i in (1..n).rev() {
                let j = self.rng.random_range(0..=i);
                perm.swap(i, j);
            }
            for idx in perm.chunks(self.config.batch_size) {
                minibatch_advantages(&self.config, segs, idx, &mut sc.adv);
                let slice = idx.len().div_ceil(GRAD_SLICES);
                let (agent, cfg, b) = (&self.agent, &self.config, idx.len());
                idx.par_chunks(slice).zip(sc.adv.par_chunks(slice)).zip(sc.slices.par_iter_mut()).for_each(
                    |((ids, adv), (g, ws, stats))| {
                        g.clear();
                        *stats = accumulate(agent, cfg, segs, ids, adv, b, g, ws);
                    },
                );
                let grads = &mut sc.grads;
                grads.clear();
                let mut sums = LossStats::default();
                for (g, _, st) in sc.slices.iter().take(b.div_ceil(slice)) {
                    grads.add(g);
                    sums.policy_loss += st.policy_loss;
                    sums.value_loss += st.value_loss;
                    sums.entropy += st.entropy;
                    sums.approx_kl += st.approx_kl;
                    sums.clip_fraction += st.clip_fraction;
                }
                let mut s = finish(sums, b, cfg);
                self.updates += 1;
                if !s.loss.is_finite() {
                    return Err(Error::Diverged { update: self.updates, what: "loss" });
                }
                if !grads.all_finite() {
                    return Err(Error::Diverged { update: self.updates, what: "gradient" });
                }
                s.grad_norm = f64::from(clip_grad_norm(
                    &mut [&mut grads.actor, &mut grads.log_std, &mut grads.critic],
                    self.config.max_grad_norm,
                ));
                let (actor, log_std) = self.agent.actor.params_mut();
                self.adam.step(&mut [
                    (actor, &grads.actor),
                    (log_std, &grads.log_std),
                    (self.agent.critic.params_mut(), &grads.critic),
                ]);
                sum.loss += s.loss;
                sum.policy_loss += s.policy_loss;
                sum.value_loss += s.value_loss;
                sum.entropy += s.entropy;
                sum.approx_kl += s.approx_kl;
                sum.clip_fraction += s.clip_fraction;
                sum.grad_norm += s.grad_norm;
                batches += 1;
            }
        }
        let b = f64::from(batches.max(1));
        Ok(LossStats {
            loss: sum.loss / b,
            policy_loss: sum.policy_loss / b,
            value_loss: sum.value_loss / b,
            entropy: sum.entropy / b,
            approx_kl: sum.approx_kl / b,
            clip_fraction: sum.clip_fraction / b,
            grad_norm: sum.grad_norm / b,
        })
    }
}

#[cfg(test)]
mod tests;
