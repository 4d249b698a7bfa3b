//! The PPO loss on one minibatch and its gradient w.r.t. every parameter.
//!
//! loss = −mean(min(r·Â, clip(r, 1 ± ε)·Â)) + vf_coef · mean((R − V)²) − ent_coef · mean(H),
//! with r = exp(log π(a|s) − log π_old(a|s)) and Â the (per-minibatch normalised) advantage.

use super::PpoConfig;
use super::rollout::Segment;
use crate::{Actor, ActorCritic, CategoricalPolicy, GaussianPolicy};

/// Mean losses and diagnostics of a minibatch (or averaged over an update).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LossStats {
    /// Total loss that was minimised.
    pub loss: f64,
    /// Clipped-surrogate policy loss.
    pub policy_loss: f64,
    /// Value loss (before `vf_coef`).
    pub value_loss: f64,
    /// Mean policy entropy.
    pub entropy: f64,
    /// Approximate KL(old ‖ new), mean of (r − 1) − ln r.
    pub approx_kl: f64,
    /// Fraction of samples whose ratio was clipped.
    pub clip_fraction: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
}

/// Gradients, laid out like the parameters.
#[derive(Debug, Clone)]
pub(crate) struct Grads {
    pub(crate) actor: Vec<f32>,
    pub(crate) log_std: Vec<f32>,
    pub(crate) critic: Vec<f32>,
}

impl Grads {
    pub(crate) fn zeros(agent: &ActorCritic) -> Self {
        Self {
            actor: vec![0.0; agent.actor.net().params().len()],
            log_std: vec![0.0; agent.actor.log_std().len()],
            critic: vec![0.0; agent.critic.params().len()],
        }
    }

    pub(crate) fn clear(&mut self) {
        self.actor.fill(0.0);
        self.log_std.fill(0.0);
        self.critic.fill(0.0);
    }

    /// Adds `other` element-wise.
    pub(crate) fn add(&mut self, other: &Grads) {
        for (a, b) in [
            (&mut self.actor, &other.actor),
            (&mut self.log_std, &other.log_std),
            (&mut self.critic, &other.critic),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }

    pub(crate) fn all_finite(&self) -> bool {
        self.actor.iter().chain(&self.log_std).chain(&self.critic).all(|g| g.is_finite())
    }
}

/// Scratch buffers reused across minibatches.
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    actor_acts: Vec<f32>,
    critic_acts: Vec<f32>,
    dhead: Vec<f32>,
}

impl Workspace {
    pub(crate) fn new(agent: &ActorCritic) -> Self {
        Self {
            actor_acts: vec![0.0; agent.actor.net().acts_len()],
            critic_acts: vec![0.0; agent.critic.acts_len()],
            dhead: vec![0.0; agent.actor.net().output_dim()],
        }
    }
}

/// Writes the advantages of the samples `idx` (flat index `env · n_steps + t`) into `out`,
/// normalised over this minibatch when configured (unbiased std, as torch's `Tensor.std()`).
pub(crate) fn minibatch_advantages(cfg: &PpoConfig, segs: &[Segment], idx: &[usize], out: &mut Vec<f32>) {
    let n_steps = segs[0].len();
    let b = idx.len();
    out.clear();
    out.extend(idx.iter().map(|&i| segs[i / n_steps].advantages[i % n_steps]));
    if cfg.normalize_advantage && b > 1 {
        let mean = out.iter().map(|&a| f64::from(a)).sum::<f64>() / b as f64;
        let var = out.iter().map(|&a| (f64::from(a) - mean).powi(2)).sum::<f64>() / (b - 1) as f64;
        let std = var.sqrt();
        for a in out.iter_mut() {
            *a = ((f64::from(*a) - mean) / (std + 1e-8)) as f32;
        }
    }
}

/// The loss and gradient on a whole minibatch, on one thread (the reference the parallel
/// update must agree with; used by the gradient check).
#[cfg(test)]
pub(crate) fn loss_and_grad(
    agent: &ActorCritic,
    cfg: &PpoConfig,
    segs: &[Segment],
    idx: &[usize],
    grads: &mut Grads,
    ws: &mut Workspace,
) -> LossStats {
    let mut adv = Vec::new();
    minibatch_advantages(cfg, segs, idx, &mut adv);
    let sums = accumulate(agent, cfg, segs, idx, &adv, idx.len(), grads, ws);
    finish(sums, idx.len(), cfg)
}

/// Turns summed per-sample losses into means and the total loss.
pub(crate) fn finish(mut s: LossStats, b: usize, cfg: &PpoConfig) -> LossStats {
    let bf = b as f64;
    s.policy_loss /= bf;
    s.value_loss /= bf;
    s.entropy /= bf;
    s.approx_kl /= bf;
    s.clip_fraction /= bf;
    s.loss = s.policy_loss + f64::from(cfg.vf_coef) * s.value_loss - f64::from(cfg.ent_coef) * s.entropy;
    s
}

/// Adds the gradient of the minibatch loss (minibatch size `b`) restricted to the samples
/// `idx`, whose normalised advantages are `adv`, into `grads`; returns the per-sample loss
/// terms summed (not averaged; see [`finish`]). The sum runs in `idx` order, so the result is
/// deterministic.
#[allow(clippy::too_many_arguments)] // one call site each; a struct would only rename them
pub(crate) fn accumulate(
    agent: &ActorCritic,
    cfg: &PpoConfig,
    segs: &[Segment],
    idx: &[usize],
    adv: &[f32],
    b: usize,
    grads: &mut Grads,
    ws: &mut Workspace,
) -> LossStats {
    let n_steps = segs[0].len();
    let inv_b = 1.0 / b as f32;
    let eps = cfg.clip_range;
    let mut s = LossStats::default();
    let actor_net = agent.actor.net();
    for (k, &i) in idx.iter().enumerate() {
        let seg = &segs[i / n_steps];
        let t = i % n_steps;
        let obs = seg.obs_at(t);
        let adv = adv[k];

        actor_net.forward_train(obs, &mut ws.actor_acts);
        let head = actor_net.output(&ws.actor_acts);
        let (lp, ent) = match &agent.actor {
            Actor::Gaussian(g) => (
                GaussianPolicy::log_prob(head, g.log_std(), seg.action_at(t)),
                GaussianPolicy::entropy(g.log_std()),
            ),
            Actor::Categorical(_) => (
                CategoricalPolicy::log_prob(head, seg.discrete[t] as usize),
                CategoricalPolicy::entropy(head),
            ),
        };
        let log_ratio = lp - seg.logp[t];
        let ratio = log_ratio.exp();
        let s1 = ratio * adv;
        let s2 = ratio.clamp(1.0 - eps, 1.0 + eps) * adv;
        s.policy_loss -= f64::from(s1.min(s2));
        s.entropy += f64::from(ent);
        s.approx_kl += f64::from((ratio - 1.0) - log_ratio);
        if (ratio - 1.0).abs() > eps {
            s.clip_fraction += 1.0;
        }
        // The min picks the unclipped term (gradient r·Â·∇log π) unless the clipped one is
        // strictly smaller, which happens only outside [1−ε, 1+ε] where clip() is constant.
        let dlp = if s1 <= s2 { -adv * ratio * inv_b } else { 0.0 };
        let dent = -cfg.ent_coef * inv_b;
        ws.dhead.fill(0.0);
        match &agent.actor {
            Actor::Gaussian(g) => {
                GaussianPolicy::log_prob_grad(
                    head,
                    g.log_std(),
                    seg.action_at(t),
                    dlp,
                    &mut ws.dhead,
                    &mut grads.log_std,
                );
                // ∂H/∂log σ_j = 1.
                for gl in &mut grads.log_std {
                    *gl += dent;
                }
            }
            Actor::Categorical(_) => {
                CategoricalPolicy::grad(head, seg.discrete[t] as usize, dlp, dent, &mut ws.dhead);
            }
        }
        actor_net.backward(obs, &ws.actor_acts, &ws.dhead, &mut grads.actor);

        agent.critic.forward_train(obs, &mut ws.critic_acts);
        let v = agent.critic.output(&ws.critic_acts)[0];
        let ret = seg.returns[t];
        let (v_pred, dv_dv) = match cfg.clip_range_vf {
            None => (v, 1.0),
            Some(c) => {
                let old = seg.values[t];
                let d = v - old;
                (old + d.clamp(-c, c), if d.abs() <= c { 1.0 } else { 0.0 })
            }
        };
        let err = v_pred - ret;
        s.value_loss += f64::from(err * err);
        let dv = cfg.vf_coef * 2.0 * err * inv_b * dv_dv;
        agent.critic.backward(obs, &ws.critic_acts, &[dv], &mut grads.critic);
    }
    s
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::{ActionSpace, Done, RunningNorm};

    /// A minibatch of 8 samples with random observations, actions, advantages and returns, and
    /// old log-probs placed so every ratio is at least 0.05 away from the clip kinks (finite
    /// differences across a kink would be meaningless).
    fn batch(agent: &ActorCritic, seed: u64) -> Segment {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = 8;
        let d = agent.actor.net().input_dim();
        let space = agent.actor.action_space();
        let mut s = Segment::new(n, d, space);
        for x in &mut s.obs {
            *x = rng.random_range(-2.0..2.0);
        }
        let mut head = vec![0.0; agent.actor.net().output_dim()];
        // Log-ratios chosen both inside (−0.1, 0.1) and outside (±0.4) the clip range.
        let offsets = [0.05, -0.4, 0.4, -0.08, 0.0, 0.3, -0.3, 0.1];
        for (t, offset) in offsets.iter().enumerate() {
            agent.actor.net().forward(s.obs_at(t), &mut head);
            let lp = match &agent.actor {
                Actor::Gaussian(g) => {
                    for a in &mut s.actions[t * s.act_dim..(t + 1) * s.act_dim] {
                        *a = rng.random_range(-1.5..1.5);
                    }
                    GaussianPolicy::log_prob(&head, g.log_std(), s.action_at(t))
                }
                Actor::Categorical(_) => {
                    s.discrete[t] = rng.random_range(0..space.n() as u32);
                    CategoricalPolicy::log_prob(&head, s.discrete[t] as usize)
                }
            };
            s.logp[t] = lp - offset;
            s.advantages[t] = rng.random_range(-2.0..2.0);
            s.returns[t] = rng.random_range(-1.0..1.0);
            s.values[t] = agent.value(s.obs_at(t)) + rng.random_range(-0.3..0.3);
            s.dones[t] = Done::NotDone;
        }
        s
    }

    /// Central differences of the f32 loss (accumulated in f64) against the analytic gradient,
    /// for every parameter. Step 3e-3 balances f32 rounding (~1e-7 relative in each forward pass,
    /// amplified by 1/2h) against truncation (h² · f'''). Tolerance:
    /// |numeric − analytic| ≤ 2e-3 + 2e-2 · |analytic|.
    fn check(space: ActionSpace, cfg: &PpoConfig) {
        let mut agent = ActorCritic::new(3, space, &[6, 5], &[5, 4], false, -0.3, 11).unwrap();
        // Larger output weights than the 0.01 init, so the policy is not near-uniform and every
        // path carries gradient.
        for p in agent.actor.net_mut().params_mut() {
            *p *= 1.5;
        }
        let seg = batch(&agent, 5);
        let segs = [seg];
        let idx: Vec<usize> = (0..8).collect();
        let mut ws = Workspace::new(&agent);
        let mut g = Grads::zeros(&agent);
        loss_and_grad(&agent, cfg, &segs, &idx, &mut g, &mut ws);
        let h = 3e-3f32;
        let mut checked = 0;
        let mut nonzero = 0;
        let loss_at = |a: &ActorCritic, ws: &mut Workspace| {
            let mut scratch = Grads::zeros(a);
            loss_and_grad(a, cfg, &segs, &idx, &mut scratch, ws).loss
        };
        for group in 0..3 {
            let len = [g.actor.len(), g.log_std.len(), g.critic.len()][group];
            for i in 0..len {
                let mut plus = agent.clone();
                let mut minus = agent.clone();
                *param_mut(&mut plus, group, i) += h;
                *param_mut(&mut minus, group, i) -= h;
                let num = (loss_at(&plus, &mut ws) - loss_at(&minus, &mut ws)) / (2.0 * f64::from(h));
                let ana = f64::from([&g.actor, &g.log_std, &g.critic][group][i]);
                assert!(
                    (num - ana).abs() <= 2e-3 + 2e-2 * ana.abs(),
                    "{space:?} group {group} param {i}: numeric {num} analytic {ana}"
                );
                checked += 1;
                if ana.abs() > 1e-3 {
                    nonzero += 1;
                }
            }
        }
        assert_eq!(checked, agent.n_params());
        // Most parameters must carry a real gradient, or the check proves little.
        assert!(nonzero * 2 > checked, "{nonzero} of {checked} gradients non-negligible");
    }

    fn param_mut(a: &mut ActorCritic, group: usize, i: usize) -> &mut f32 {
        match group {
            0 => &mut a.actor.net_mut().params_mut()[i],
            1 => &mut a.actor.log_std_mut()[i],
            _ => &mut a.critic.params_mut()[i],
        }
    }

    #[test]
    fn gradient_check_gaussian() {
        let cfg = PpoConfig { ent_coef: 0.01, ..PpoConfig::default() };
        check(ActionSpace::Box(2), &cfg);
        let cfg = PpoConfig { ent_coef: 0.0, clip_range_vf: Some(0.2), ..PpoConfig::default() };
        check(ActionSpace::Box(2), &cfg);
    }

    #[test]
    fn gradient_check_categorical() {
        let cfg = PpoConfig { ent_coef: 0.05, ..PpoConfig::default() };
        check(ActionSpace::Discrete(3), &cfg);
    }

    #[test]
    fn fresh_normaliser_is_the_identity() {
        let a = ActorCritic::new(3, ActionSpace::Box(1), &[4], &[4], true, 0.0, 1).unwrap();
        assert_eq!(a.norm(), Some(&RunningNorm::new(3)));
    }
}
