//! [`Learner`]: the one way the stack trains a policy. PPO over a vector of environments, the
//! training curve, and the best checkpoint so far.
//!
//! PPO's deterministic success swings after it first converges (0.77 at 1M steps, 0.996 at 2M
//! on the yard's obstacle subtask, same seed), so every caller trains in chunks, scores the
//! current policy deterministically on held-out starts, and [`Learner::offer`]s the score: the
//! best checkpoint (the later one on a tie) is what gets saved, planned with and shipped.

use policies::{ActorCritic, Control, Env, Ppo, PpoConfig, Progress, VecEnv};

use super::TrainingError;

/// A policy kept because of its score.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The score it was kept for (a deterministic success rate).
    pub score: f64,
    /// Training steps when it was kept.
    pub steps: u64,
    /// The policy.
    pub agent: ActorCritic,
}

/// One point of the training curve: steps, mean return and success rate of the last 100
/// training episodes (`None` before any episode ended).
pub type CurvePoint = (u64, Option<f64>, Option<f64>);

/// PPO, its environments, the training curve and the best checkpoint.
pub struct Learner<E: Env> {
    ppo: Ppo,
    envs: VecEnv<E>,
    best: Option<Checkpoint>,
    curve: Vec<CurvePoint>,
}

impl<E: Env> std::fmt::Debug for Learner<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learner")
            .field("steps", &self.ppo.steps_done())
            .field("best_score", &self.best.as_ref().map(|b| b.score))
            .finish_non_exhaustive()
    }
}

impl<E: Env + Send> Learner<E> {
    /// PPO with `config` seeded by `seed` over `config.n_envs` environments from `make` (plus
    /// one probe for the observation and action shapes).
    pub fn new(
        config: PpoConfig,
        seed: u64,
        mut make: impl FnMut() -> Result<E, TrainingError>,
    ) -> Result<Learner<E>, TrainingError> {
        let probe = make()?;
        let ppo = Ppo::new(config, probe.obs_dim(), probe.action_space(), seed)?;
        let mut pool = (0..ppo.config().n_envs).map(|_| make()).collect::<Result<Vec<_>, _>>()?;
        // Invariant: the pool holds exactly `n_envs` environments and `vec_env` asks for `n_envs`.
        let envs = ppo.vec_env(|_| pool.pop().expect("one prebuilt environment per slot"))?;
        Ok(Learner { ppo, envs, best: None, curve: Vec::new() })
    }

    /// Trains about `steps` more environment steps (whole rollouts), recording the curve;
    /// `on_progress` sees each rollout's progress. Returns the progress after the last one.
    pub fn train(
        &mut self,
        steps: u64,
        mut on_progress: impl FnMut(&Progress),
    ) -> Result<Progress, TrainingError> {
        let curve = &mut self.curve;
        let progress = self.ppo.learn(&mut self.envs, steps, |p| {
            curve.push((p.steps_done, p.mean_return, p.success_rate));
            on_progress(p);
            Control::Continue
        })?;
        Ok(progress)
    }

    /// Keeps the current policy when `score` is at least the best so far; returns whether it
    /// was kept.
    pub fn offer(&mut self, score: f64) -> bool {
        let keep = self.best.as_ref().is_none_or(|b| score >= b.score);
        if keep {
            self.keep(score);
        }
        keep
    }

    /// Keeps the current policy whatever came before (a target reached).
    pub fn keep(&mut self, score: f64) {
        self.best = Some(Checkpoint { score, steps: self.ppo.steps_done(), agent: self.ppo.agent().clone() });
    }
}

impl<E: Env> Learner<E> {
    /// The current policy.
    pub fn agent(&self) -> &ActorCritic {
        self.ppo.agent()
    }

    /// The best checkpoint so far.
    pub fn best(&self) -> Option<&Checkpoint> {
        self.best.as_ref()
    }

    /// The best checkpoint's policy, or the current one before any was kept.
    pub fn best_agent(&self) -> &ActorCritic {
        self.best.as_ref().map_or(self.ppo.agent(), |b| &b.agent)
    }

    /// Training steps taken.
    pub fn steps_done(&self) -> u64 {
        self.ppo.steps_done()
    }

    /// Environment steps of one PPO rollout (all environments).
    pub fn rollout_steps(&self) -> u64 {
        self.ppo.config().rollout_len() as u64
    }

    /// The training curve.
    pub fn curve(&self) -> &[CurvePoint] {
        &self.curve
    }
}
