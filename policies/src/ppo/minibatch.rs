//! [`Minibatch`]: one PPO minibatch in plain arrays, so another backend (the tch update) can
//! train on exactly what [`Ppo`](super::Ppo) trains on, and be checked against it.

use super::loss::{Grads, Workspace, accumulate, finish, minibatch_advantages};
use super::rollout::Segment;
use super::{LossStats, PpoConfig};
use crate::{ActionSpace, ActorCritic, Error};

/// The samples of one PPO minibatch, row-major, `len()` rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Minibatch {
    /// Normalised observations (what the networks saw when acting), `len × obs_dim`.
    pub obs: Vec<f32>,
    /// Continuous actions as sampled (unclipped), `len × n`; empty for a discrete space.
    pub actions: Vec<f32>,
    /// Discrete action indices, `len`; empty for a continuous space.
    pub discrete: Vec<u32>,
    /// Log-probabilities of the actions under the policy that collected them.
    pub old_log_probs: Vec<f32>,
    /// GAE advantages, before the per-minibatch normalisation the config may ask for.
    pub advantages: Vec<f32>,
    /// Value targets (advantage + value).
    pub returns: Vec<f32>,
    /// Value estimates at collection time (for `clip_range_vf`).
    pub old_values: Vec<f32>,
}

impl Minibatch {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.old_log_probs.len()
    }

    /// True when it holds no sample.
    pub fn is_empty(&self) -> bool {
        self.old_log_probs.is_empty()
    }

    /// Errors unless every array has the length `obs_dim` and `space` imply, and it is not empty.
    pub fn check(&self, obs_dim: usize, space: ActionSpace) -> Result<(), Error> {
        let b = self.len();
        if b == 0 {
            return Err(Error::Config {
                field: "Minibatch",
                value: "0 samples".into(),
                allowed: "at least one sample",
            });
        }
        let (n_cont, n_disc) = match space {
            ActionSpace::Box(n) => (b * n, 0),
            ActionSpace::Discrete(_) => (0, b),
        };
        for (what, expected, actual) in [
            ("minibatch observations", b * obs_dim, self.obs.len()),
            ("minibatch continuous actions", n_cont, self.actions.len()),
            ("minibatch discrete actions", n_disc, self.discrete.len()),
            ("minibatch advantages", b, self.advantages.len()),
            ("minibatch returns", b, self.returns.len()),
            ("minibatch old values", b, self.old_values.len()),
        ] {
            if expected != actual {
                return Err(Error::DimensionMismatch { what, expected, actual });
            }
        }
        if let ActionSpace::Discrete(n) = space
            && let Some(&a) = self.discrete.iter().find(|&&a| a as usize >= n)
        {
            return Err(Error::Config {
                field: "Minibatch.discrete",
                value: a.to_string(),
                allowed: "action indices below the number of actions",
            });
        }
        Ok(())
    }

    /// The PPO loss of `agent` on this minibatch and its gradient, computed exactly as
    /// [`Ppo`](super::Ppo)'s update does (before gradient clipping), on one thread.
    ///
    /// The gradient is flat, in the parameter order of [`ActorCritic`]: actor network
    /// ([`Mlp::params`](crate::Mlp::params) layout), log-std, critic network.
    /// `LossStats::grad_norm` is its L2 norm.
    pub fn loss_and_grad(
        &self,
        agent: &ActorCritic,
        cfg: &PpoConfig,
    ) -> Result<(LossStats, Vec<f32>), Error> {
        let obs_dim = agent.actor.net().input_dim();
        let space = agent.actor.action_space();
        self.check(obs_dim, space)?;
        let b = self.len();
        let mut seg = Segment::new(b, obs_dim, space);
        seg.obs.copy_from_slice(&self.obs);
        seg.actions.copy_from_slice(&self.actions);
        if !self.discrete.is_empty() {
            seg.discrete.copy_from_slice(&self.discrete);
        }
        seg.logp.copy_from_slice(&self.old_log_probs);
        seg.advantages.copy_from_slice(&self.advantages);
        seg.returns.copy_from_slice(&self.returns);
        seg.values.copy_from_slice(&self.old_values);
        let segs = [seg];
        let idx: Vec<usize> = (0..b).collect();
        let mut adv = Vec::with_capacity(b);
        minibatch_advantages(cfg, &segs, &idx, &mut adv);
        let mut grads = Grads::zeros(agent);
        let mut ws = Workspace::new(agent);
        let sums = accumulate(agent, cfg, &segs, &idx, &adv, b, &mut grads, &mut ws);
        let mut stats = finish(sums, b, cfg);
        let mut flat = grads.actor;
        flat.extend_from_slice(&grads.log_std);
        flat.extend_from_slice(&grads.critic);
        stats.grad_norm = flat.iter().map(|&g| f64::from(g) * f64::from(g)).sum::<f64>().sqrt();
        Ok((stats, flat))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_inconsistent_lengths() {
        let agent = ActorCritic::new(3, ActionSpace::Box(2), &[4], &[4], false, 0.0, 1).unwrap();
        let mb = Minibatch {
            obs: vec![0.1; 6],
            actions: vec![0.0; 4],
            discrete: vec![],
            old_log_probs: vec![-1.0; 2],
            advantages: vec![1.0, -1.0],
            returns: vec![0.5; 2],
            old_values: vec![0.0; 2],
        };
        let (stats, g) = mb.loss_and_grad(&agent, &PpoConfig::default()).unwrap();
        assert_eq!(g.len(), agent.n_params());
        assert!(stats.loss.is_finite() && stats.grad_norm > 0.0);
        let short = Minibatch { returns: vec![0.5], ..mb.clone() };
        let e = short.loss_and_grad(&agent, &PpoConfig::default()).unwrap_err().to_string();
        assert!(e.contains("minibatch returns: expected 2, got 1"), "{e}");
        assert!(Minibatch::default().check(3, ActionSpace::Box(2)).is_err());
        let bad = Minibatch { actions: vec![], discrete: vec![0, 5], ..mb };
        assert!(bad.check(3, ActionSpace::Discrete(3)).is_err());
    }
}
