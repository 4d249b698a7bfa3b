//! [`PpoConfig`]: PPO hyperparameters. Defaults are the SB3 settings of the original ICRL code.

use crate::Error;

/// PPO hyperparameters. `Default` reproduces the paper's SB3 settings (n_steps 512, batch 64,
/// 10 epochs, γ 0.99, λ 0.95, clip 0.2, lr 2.5e-4, no entropy bonus, vf_coef 0.5,
/// max_grad_norm 0.5, advantage normalisation, tanh 64-64 separate actor and critic, log-std
/// 0, Adam eps 1e-5, one environment). Observation normalisation is our addition (on by
/// default; the contract carries its statistics so the robot normalises identically).
#[derive(Debug, Clone, PartialEq)]
pub struct PpoConfig {
    /// Parallel environments; a rollout holds `n_envs × n_steps` transitions.
    pub n_envs: usize,
    /// Steps per environment per rollout.
    pub n_steps: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Passes over each rollout.
    pub n_epochs: usize,
    /// Discount factor.
    pub gamma: f32,
    /// GAE λ.
    pub gae_lambda: f32,
    /// Probability-ratio clip ε.
    pub clip_range: f32,
    /// Value clip (SB3's `clip_range_vf`); `None` = plain squared error.
    pub clip_range_vf: Option<f32>,
    /// Adam learning rate (constant).
    pub learning_rate: f32,
    /// Adam ε.
    pub adam_eps: f32,
    /// Entropy bonus coefficient.
    pub ent_coef: f32,
    /// Value-loss coefficient.
    pub vf_coef: f32,
    /// Global gradient-norm limit.
    pub max_grad_norm: f32,
    /// Normalise advantages per minibatch.
    pub normalize_advantage: bool,
    /// Normalise observations with running statistics.
    pub normalize_obs: bool,
    /// Hidden layer widths of the actor.
    pub actor_hidden: Vec<usize>,
    /// Hidden layer widths of the critic.
    pub critic_hidden: Vec<usize>,
    /// Initial log standard deviation (continuous actions).
    pub log_std_init: f32,
}

impl Default for PpoConfig {
    fn default() -> Self {
        Self {
            n_envs: 1,
            n_steps: 512,
            batch_size: 64,
            n_epochs: 10,
            gamma: 0.99,
            gae_lambda: 0.95,
            clip_range: 0.2,
            clip_range_vf: None,
            learning_rate: 2.5e-4,
            adam_eps: 1e-5,
            ent_coef: 0.0,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            normalize_advantage: true,
            normalize_obs: true,
            actor_hidden: vec![64, 64],
            critic_hidden: vec![64, 64],
            log_std_init: 0.0,
        }
    }
}

impl PpoConfig {
    /// Transitions per rollout (`n_envs × n_steps`).
    pub fn rollout_len(&self) -> usize {
        self.n_envs * self.n_steps
    }

    /// Checks every field; comparisons are written so that NaN fails.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |field, value: String, allowed| Err(Error::Config { field, value, allowed });
        for (field, v) in [
            ("PpoConfig.n_envs", self.n_envs),
            ("PpoConfig.n_steps", self.n_steps),
            ("PpoConfig.batch_size", self.batch_size),
            ("PpoConfig.n_epochs", self.n_epochs),
        ] {
            if v == 0 {
                return bad(field, v.to_string(), "at least 1");
            }
        }
        let unit = |v: f32| (0.0..=1.0).contains(&v);
        let pos = |v: f32| v > 0.0 && v.is_finite();
        let nonneg = |v: f32| v >= 0.0 && v.is_finite();
        let checks: [(&'static str, f32, bool, &'static str); 8] = [
            ("PpoConfig.gamma", self.gamma, unit(self.gamma), "0 ..= 1"),
            ("PpoConfig.gae_lambda", self.gae_lambda, unit(self.gae_lambda), "0 ..= 1"),
            ("PpoConfig.clip_range", self.clip_range, pos(self.clip_range), "> 0, finite"),
            ("PpoConfig.learning_rate", self.learning_rate, pos(self.learning_rate), "> 0, finite"),
            ("PpoConfig.adam_eps", self.adam_eps, pos(self.adam_eps), "> 0, finite"),
            ("PpoConfig.ent_coef", self.ent_coef, nonneg(self.ent_coef), ">= 0, finite"),
            ("PpoConfig.vf_coef", self.vf_coef, nonneg(self.vf_coef), ">= 0, finite"),
            ("PpoConfig.max_grad_norm", self.max_grad_norm, pos(self.max_grad_norm), "> 0, finite"),
        ];
        for (field, v, ok, allowed) in checks {
            if !ok {
                return bad(field, v.to_string(), allowed);
            }
        }
        if let Some(c) = self.clip_range_vf
            && !pos(c)
        {
            return bad("PpoConfig.clip_range_vf", c.to_string(), "> 0, finite");
        }
        if !self.log_std_init.is_finite() {
            return bad("PpoConfig.log_std_init", self.log_std_init.to_string(), "finite");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_sb3_settings_and_valid() {
        let c = PpoConfig::default();
        assert_eq!((c.n_steps, c.batch_size, c.n_epochs, c.n_envs), (512, 64, 10, 1));
        assert_eq!((c.gamma, c.gae_lambda, c.clip_range, c.learning_rate), (0.99, 0.95, 0.2, 2.5e-4));
        assert_eq!((c.ent_coef, c.vf_coef, c.max_grad_norm, c.adam_eps), (0.0, 0.5, 0.5, 1e-5));
        assert_eq!(c.actor_hidden, vec![64, 64]);
        c.validate().unwrap();
    }

    #[test]
    fn nan_and_zero_fail_naming_the_field() {
        let c = PpoConfig { gamma: f32::NAN, ..PpoConfig::default() };
        assert!(c.validate().unwrap_err().to_string().contains("PpoConfig.gamma"));
        let c = PpoConfig { batch_size: 0, ..PpoConfig::default() };
        assert!(c.validate().unwrap_err().to_string().contains("PpoConfig.batch_size"));
    }
}
