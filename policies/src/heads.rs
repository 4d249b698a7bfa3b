//! Action distributions on top of an actor [`Mlp`]: diagonal Gaussian with a state-independent
//! log-std (continuous actions) and categorical over logits (discrete actions), with the
//! log-probabilities, entropies and gradients PPO needs.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::{Action, ActionSpace, Error, Mlp};

/// ½·ln(2π), the per-dimension constant of the Gaussian log-density.
const HALF_LN_2PI: f32 = 0.918_938_5;

/// Diagonal Gaussian policy: mean = MLP(obs), std = exp(log_std) independent of the state.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianPolicy {
    mean: Mlp,
    log_std: Vec<f32>,
}

impl GaussianPolicy {
    /// Mean network `obs_dim → hidden… → action_dim` (output gain 0.01), log-std `log_std_init`.
    pub fn new(
        obs_dim: usize,
        hidden: &[usize],
        action_dim: usize,
        log_std_init: f32,
        seed: u64,
    ) -> Result<Self, Error> {
        let sizes = layer_sizes(obs_dim, hidden, action_dim);
        Ok(Self { mean: Mlp::new(&sizes, 0.01, seed)?, log_std: vec![log_std_init; action_dim] })
    }

    /// From a trained mean network and log-std; errors if their dimensions differ.
    pub fn from_parts(mean: Mlp, log_std: Vec<f32>) -> Result<Self, Error> {
        if mean.output_dim() != log_std.len() {
            return Err(Error::DimensionMismatch {
                what: "log_std length",
                expected: mean.output_dim(),
                actual: log_std.len(),
            });
        }
        Ok(Self { mean, log_std })
    }

    /// The mean network.
    pub fn mean_net(&self) -> &Mlp {
        &self.mean
    }

    /// Log standard deviation per action dimension.
    pub fn log_std(&self) -> &[f32] {
        &self.log_std
    }

    /// Log-density of `action` under N(mean, exp(log_std)²).
    pub fn log_prob(mean: &[f32], log_std: &[f32], action: &[f32]) -> f32 {
        let mut lp = 0.0;
        for ((&m, &ls), &a) in mean.iter().zip(log_std).zip(action) {
            let z = (a - m) * (-ls).exp();
            lp += -0.5 * z * z - ls - HALF_LN_2PI;
        }
        lp
    }

    /// Adds `scale · ∂log_prob/∂mean` into `dmean` and `scale · ∂log_prob/∂log_std` into
    /// `dlog_std`: (a − μ)/σ² and ((a − μ)/σ)² − 1.
    pub fn log_prob_grad(
        mean: &[f32],
        log_std: &[f32],
        action: &[f32],
        scale: f32,
        dmean: &mut [f32],
        dlog_std: &mut [f32],
    ) {
        for i in 0..mean.len() {
            let inv_std = (-log_std[i]).exp();
            let z = (action[i] - mean[i]) * inv_std;
            dmean[i] += scale * z * inv_std;
            dlog_std[i] += scale * (z * z - 1.0);
        }
    }

    /// Entropy Σ(½ + ½ln 2π + log σ); its gradient w.r.t. each log σ is 1.
    pub fn entropy(log_std: &[f32]) -> f32 {
        log_std.iter().map(|ls| 0.5 + HALF_LN_2PI + ls).sum()
    }
}

/// Categorical policy: logits = MLP(obs).
#[derive(Debug, Clone, PartialEq)]
pub struct CategoricalPolicy {
    logits: Mlp,
}

impl CategoricalPolicy {
    /// Logit network `obs_dim → hidden… → n_actions` (output gain 0.01); at most
    /// [`MAX_HIDDEN`](crate::mlp::MAX_HIDDEN) actions (acting keeps the logits on the stack).
    pub fn new(obs_dim: usize, hidden: &[usize], n_actions: usize, seed: u64) -> Result<Self, Error> {
        let sizes = layer_sizes(obs_dim, hidden, n_actions);
        Self::from_net(Mlp::new(&sizes, 0.01, seed)?)
    }

    /// From a trained logit network; errors beyond [`MAX_HIDDEN`](crate::mlp::MAX_HIDDEN) actions.
    pub fn from_net(logits: Mlp) -> Result<Self, Error> {
        if logits.output_dim() > crate::mlp::MAX_HIDDEN {
            return Err(Error::Config {
                field: "CategoricalPolicy actions",
                value: logits.output_dim().to_string(),
                allowed: "at most 512",
            });
        }
        Ok(Self { logits })
    }

    /// The logit network.
    pub fn logits_net(&self) -> &Mlp {
        &self.logits
    }

    /// Writes log-softmax of `logits` into `out`.
    pub fn log_softmax(logits: &[f32], out: &mut [f32]) {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let lse = max + logits.iter().map(|z| (z - max).exp()).sum::<f32>().ln();
        for (o, z) in out.iter_mut().zip(logits) {
            *o = z - lse;
        }
    }

    /// Log-probability of action `a`.
    pub fn log_prob(logits: &[f32], a: usize) -> f32 {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let lse = max + logits.iter().map(|z| (z - max).exp()).sum::<f32>().ln();
        logits[a] - lse
    }

    /// Entropy −Σ p log p.
    pub fn entropy(logits: &[f32]) -> f32 {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let lse = max + logits.iter().map(|z| (z - max).exp()).sum::<f32>().ln();
        -logits.iter().map(|z| (z - lse).exp() * (z - lse)).sum::<f32>()
    }

    /// Adds `lp_scale · ∂log p(a)/∂z + ent_scale · ∂H/∂z` into `dlogits`:
    /// ∂log p(a)/∂z_i = [i = a] − p_i and ∂H/∂z_i = −p_i (log p_i + H).
    pub fn grad(logits: &[f32], a: usize, lp_scale: f32, ent_scale: f32, dlogits: &mut [f32]) {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let lse = max + logits.iter().map(|z| (z - max).exp()).sum::<f32>().ln();
        let h = Self::entropy(logits);
        for (i, (d, z)) in dlogits.iter_mut().zip(logits).enumerate() {
            let lp = z - lse;
            let p = lp.exp();
            let onehot = if i == a { 1.0 } else { 0.0 };
            *d += lp_scale * (onehot - p) + ent_scale * (-p * (lp + h));
        }
    }
}

/// The policy half of an actor-critic: one of the two heads.
#[derive(Debug, Clone, PartialEq)]
pub enum Actor {
    /// Continuous actions.
    Gaussian(GaussianPolicy),
    /// Discrete actions.
    Categorical(CategoricalPolicy),
}

impl Actor {
    /// A freshly initialised actor for `space`.
    pub fn new(
        obs_dim: usize,
        hidden: &[usize],
        space: ActionSpace,
        log_std_init: f32,
        seed: u64,
    ) -> Result<Self, Error> {
        Ok(match space {
            ActionSpace::Box(n) => {
                Self::Gaussian(GaussianPolicy::new(obs_dim, hidden, n, log_std_init, seed)?)
            }
            ActionSpace::Discrete(n) => Self::Categorical(CategoricalPolicy::new(obs_dim, hidden, n, seed)?),
        })
    }

    /// The network (mean or logits).
    pub fn net(&self) -> &Mlp {
        match self {
            Self::Gaussian(g) => &g.mean,
            Self::Categorical(c) => &c.logits,
        }
    }

    #[cfg(test)]
    pub(crate) fn net_mut(&mut self) -> &mut Mlp {
        match self {
            Self::Gaussian(g) => &mut g.mean,
            Self::Categorical(c) => &mut c.logits,
        }
    }

    /// Log-std parameters (empty for a categorical actor).
    pub fn log_std(&self) -> &[f32] {
        match self {
            Self::Gaussian(g) => &g.log_std,
            Self::Categorical(_) => &[],
        }
    }

    /// Network parameters and log-std, both mutable (for the optimiser).
    pub(crate) fn params_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        match self {
            Self::Gaussian(g) => (g.mean.params_mut(), &mut g.log_std),
            Self::Categorical(c) => (c.logits.params_mut(), &mut []),
        }
    }

    #[cfg(test)]
    pub(crate) fn log_std_mut(&mut self) -> &mut [f32] {
        match self {
            Self::Gaussian(g) => &mut g.log_std,
            Self::Categorical(_) => &mut [],
        }
    }

    /// The action space.
    pub fn action_space(&self) -> ActionSpace {
        match self {
            Self::Gaussian(g) => ActionSpace::Box(g.log_std.len()),
            Self::Categorical(c) => ActionSpace::Discrete(c.logits.output_dim()),
        }
    }

    /// Deterministic action from a (normalised) observation: the mean clipped to [-1, 1], or the
    /// most likely action (lowest index on ties).
    pub fn deterministic<'o>(&self, obs: &[f32], out: &'o mut [f32]) -> Action<'o> {
        match self {
            Self::Gaussian(g) => {
                let n = g.log_std.len();
                g.mean.forward(obs, &mut out[..n]);
                for v in &mut out[..n] {
                    *v = v.clamp(-1.0, 1.0);
                }
                Action::Continuous(&out[..n])
            }
            Self::Categorical(c) => {
                let mut logits = [0.0f32; crate::mlp::MAX_HIDDEN];
                // n ≤ MAX_HIDDEN is checked when the policy is built.
                let n = c.logits.output_dim();
                c.logits.forward(obs, &mut logits[..n]);
                Action::Discrete(argmax(&logits[..n]))
            }
        }
    }

    /// Samples an action for training from the network output `head` (means or logits).
    /// Continuous: writes the unclipped sample into `raw` (its log-prob is what PPO uses) and
    /// returns the log-prob; the environment gets it clipped to [-1, 1], as SB3 does.
    /// Discrete: returns (log-prob, index), `raw` untouched.
    pub(crate) fn sample<R: Rng>(&self, head: &[f32], rng: &mut R, raw: &mut [f32]) -> (f32, usize) {
        match self {
            Self::Gaussian(g) => {
                for ((r, &m), &ls) in raw.iter_mut().zip(head).zip(&g.log_std) {
                    let eps: f32 = StandardNormal.sample(rng);
                    *r = m + ls.exp() * eps;
                }
                (GaussianPolicy::log_prob(head, &g.log_std, raw), 0)
            }
            Self::Categorical(_) => {
                let max = head.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let total: f32 = head.iter().map(|z| (z - max).exp()).sum();
                let u: f32 = rng.random::<f32>() * total;
                let mut acc = 0.0;
                let mut pick = head.len() - 1;
                for (i, z) in head.iter().enumerate() {
                    acc += (z - max).exp();
                    if u < acc {
                        pick = i;
                        break;
                    }
                }
                (CategoricalPolicy::log_prob(head, pick), pick)
            }
        }
    }
}

/// Index of the largest value, lowest index on ties.
pub(crate) fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

fn layer_sizes(input: usize, hidden: &[usize], output: usize) -> Vec<usize> {
    let mut s = Vec::with_capacity(hidden.len() + 2);
    s.push(input);
    s.extend_from_slice(hidden);
    s.push(output);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_log_prob_matches_the_density() {
        // N(0.5, 2²) at 1.5: ln(1/(2√(2π))) − (0.5)²/2.
        let lp = GaussianPolicy::log_prob(&[0.5], &[2f32.ln()], &[1.5]);
        let want = -(2.0f32 * (2.0 * std::f32::consts::PI).sqrt()).ln() - 0.125;
        assert!((lp - want).abs() < 1e-6);
        assert!((GaussianPolicy::entropy(&[0.0, 0.0]) - 2.837_877).abs() < 1e-5);
    }

    #[test]
    fn categorical_probabilities_sum_to_one_and_entropy_is_max_when_uniform() {
        let logits = [0.3, -1.0, 2.0];
        let s: f32 = (0..3).map(|a| CategoricalPolicy::log_prob(&logits, a).exp()).sum();
        assert!((s - 1.0).abs() < 1e-6);
        assert!((CategoricalPolicy::entropy(&[1.0; 4]) - 4f32.ln()).abs() < 1e-6);
        assert!(CategoricalPolicy::entropy(&logits) < 3f32.ln());
    }
}
