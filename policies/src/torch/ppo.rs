//! [`TorchPpo`]: the PPO loss of [`Ppo`](crate::Ppo) with tch autograd, and its Adam step.

use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use super::error::Context;
use super::{Error, nets};
use crate::ppo::Minibatch;
use crate::{ActionSpace, Actor, ActorCritic, LossStats, Mlp, PpoConfig};

/// Trainable tensors initialised from an [`ActorCritic`], with a PyTorch Adam optimiser
/// (β = (0.9, 0.999), `config.adam_eps`, `config.learning_rate`) over all of them.
///
/// The loss is [`Ppo`](crate::Ppo)'s, term for term: clipped surrogate on per-minibatch
/// normalised advantages (when configured), squared value error (clipped around the old value
/// with `clip_range_vf`), minus `ent_coef` × entropy. Gradients come back flat in the
/// `ActorCritic` parameter order (actor network, log-std, critic network), so they can be
/// compared with [`Minibatch::loss_and_grad`].
pub struct TorchPpo {
    // Owns the variables the optimiser updates; the tensors below share their storage.
    _vars: nn::VarStore,
    opt: nn::Optimizer,
    actor: Vec<(Tensor, Tensor)>,
    log_std: Option<Tensor>,
    critic: Vec<(Tensor, Tensor)>,
    actor_sizes: Vec<usize>,
    critic_sizes: Vec<usize>,
    space: ActionSpace,
    config: PpoConfig,
    device: Device,
    updates: u64,
}

impl std::fmt::Debug for TorchPpo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TorchPpo")
            .field("actor_sizes", &self.actor_sizes)
            .field("critic_sizes", &self.critic_sizes)
            .field("space", &self.space)
            .field("device", &self.device)
            .field("updates", &self.updates)
            .finish_non_exhaustive()
    }
}

impl TorchPpo {
    /// Copies `agent`'s actor, log-std and critic to `device` as trainable float32 variables.
    /// Errors if `config` is invalid.
    pub fn new(agent: &ActorCritic, config: PpoConfig, device: Device) -> Result<Self, Error> {
        config.validate()?;
        let vars = nn::VarStore::new(device);
        let root = vars.root();
        let copy = |prefix: &str, m: &Mlp| -> Result<Vec<(Tensor, Tensor)>, Error> {
            let layers = nets::layers(m, device).ctx("copying the weights")?;
            layers
                .iter()
                .enumerate()
                .map(|(l, (w, b))| {
                    Ok((
                        root.f_var_copy(&format!("{prefix}_w{l}"), w).ctx("creating a variable")?,
                        root.f_var_copy(&format!("{prefix}_b{l}"), b).ctx("creating a variable")?,
                    ))
                })
                .collect()
        };
        let actor = copy("actor", agent.actor.net())?;
        let critic = copy("critic", &agent.critic)?;
        let log_std = match &agent.actor {
            Actor::Gaussian(g) => {
                let t = Tensor::f_from_slice(g.log_std()).and_then(|t| t.f_to_device(device));
                Some(root.f_var_copy("log_std", &t.ctx("copying log_std")?).ctx("creating a variable")?)
            }
            Actor::Categorical(_) => None,
        };
        let adam =
            nn::Adam { beta1: 0.9, beta2: 0.999, wd: 0.0, eps: f64::from(config.adam_eps), amsgrad: false };
        let opt = adam.build(&vars, f64::from(config.learning_rate)).ctx("building Adam")?;
        Ok(Self {
            _vars: vars,
            opt,
            actor,
            log_std,
            critic,
            actor_sizes: agent.actor.net().sizes().to_vec(),
            critic_sizes: agent.critic.sizes().to_vec(),
            space: agent.actor.action_space(),
            config,
            device,
            updates: 0,
        })
    }

    /// The device the tensors live on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The configuration.
    pub fn config(&self) -> &PpoConfig {
        &self.config
    }

    /// Adam steps taken.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The loss on `batch` and its gradient (before clipping), flat in `ActorCritic` order.
    /// `LossStats::grad_norm` is the gradient's L2 norm. The parameters do not change.
    pub fn loss_and_grad(&mut self, batch: &Minibatch) -> Result<(LossStats, Vec<f32>), Error> {
        let mut stats = self.backward(batch)?;
        let grads = self.grads()?;
        stats.grad_norm = grads.iter().map(|&g| f64::from(g) * f64::from(g)).sum::<f64>().sqrt();
        Ok((stats, grads))
    }

    /// One update on `batch`: gradient, global-norm clipping to `max_grad_norm` (PyTorch's
    /// `clip_grad_norm_`), Adam step. A non-finite loss or gradient is an error and leaves the
    /// parameters unchanged. Returns the losses and the norm before clipping.
    pub fn step(&mut self, batch: &Minibatch) -> Result<LossStats, Error> {
        let mut stats = self.backward(batch)?;
        self.updates += 1;
        if !stats.loss.is_finite() {
            return Err(Error::Diverged { update: self.updates, what: "loss" });
        }
        let mut grads = Vec::new();
        for t in self.params() {
            let g = t.f_grad().ctx("reading a gradient")?;
            if g.defined() {
                grads.push(g);
            }
        }
        let sq = grads
            .iter()
            .map(|g| g.f_to_kind(Kind::Double).and_then(|g| g.f_square()).and_then(|g| g.f_sum(None::<Kind>)))
            .collect::<Result<Vec<_>, _>>()
            .ctx("gradient norm")?;
        let norm = Tensor::f_stack(&sq, 0)
            .and_then(|s| s.f_sum(None::<Kind>))
            .and_then(|s| s.f_double_value(&[]))
            .ctx("gradient norm")?
            .sqrt();
        if !norm.is_finite() {
            return Err(Error::Diverged { update: self.updates, what: "gradient" });
        }
        stats.grad_norm = norm;
        // f32 arithmetic as torch and the Rust clip_grad_norm do it.
        let coef = self.config.max_grad_norm / (norm as f32 + 1e-6);
        if coef < 1.0 {
            for mut g in grads {
                let _scaled = g.f_mul_scalar_(f64::from(coef)).ctx("clipping the gradient")?;
            }
        }
        self.opt.step();
        Ok(stats)
    }

    /// All parameters, flat in `ActorCritic` order, on the host.
    pub fn params_flat(&self) -> Result<Vec<f32>, Error> {
        let mut out = Vec::new();
        for t in self.params() {
            out.extend(nets::to_vec(t).ctx("reading the parameters")?);
        }
        Ok(out)
    }

    /// Writes the trained parameters into `agent` (whose networks must have the same shapes,
    /// e.g. the agent this was built from). The normaliser is left as it is.
    pub fn write_to(&self, agent: &mut ActorCritic) -> Result<(), Error> {
        let checks = [
            ("actor layer sizes", &self.actor_sizes, agent.actor.net().sizes()),
            ("critic layer sizes", &self.critic_sizes, agent.critic.sizes()),
        ];
        for (what, ours, theirs) in checks {
            if ours.as_slice() != theirs {
                return Err(crate::Error::Config {
                    field: what,
                    value: format!("{theirs:?}"),
                    allowed: "the layer sizes of the agent the TorchPpo was built from",
                }
                .into());
            }
        }
        if agent.actor.action_space() != self.space {
            return Err(crate::Error::Config {
                field: "action space",
                value: format!("{:?}", agent.actor.action_space()),
                allowed: "the action space of the agent the TorchPpo was built from",
            }
            .into());
        }
        let flat = self.params_flat()?;
        let (actor, log_std) = agent.actor.params_mut();
        let (a, rest) = flat.split_at(actor.len());
        let (l, c) = rest.split_at(log_std.len());
        actor.copy_from_slice(a);
        log_std.copy_from_slice(l);
        agent.critic.params_mut().copy_from_slice(c);
        Ok(())
    }

    /// Parameters in `ActorCritic` order: per actor layer weight then bias, log-std, per
    /// critic layer weight then bias (each weight `[out, in]` row-major, as `Mlp` stores it).
    fn params(&self) -> impl Iterator<Item = &Tensor> {
        fn pair((w, b): &(Tensor, Tensor)) -> [&Tensor; 2] {
            [w, b]
        }
        self.actor.iter().flat_map(pair).chain(&self.log_std).chain(self.critic.iter().flat_map(pair))
    }

    fn grads(&self) -> Result<Vec<f32>, Error> {
        let mut out = Vec::new();
        for t in self.params() {
            let g = t.f_grad().ctx("reading a gradient")?;
            if g.defined() {
                out.extend(nets::to_vec(&g).ctx("reading a gradient")?);
            } else {
                out.extend(std::iter::repeat_n(0.0, t.numel()));
            }
        }
        Ok(out)
    }

    /// Zeroes the gradients, computes the loss on `batch` and backpropagates it.
    fn backward(&mut self, batch: &Minibatch) -> Result<LossStats, Error> {
        let obs_dim = self.actor_sizes[0];
        batch.check(obs_dim, self.space)?;
        self.opt.zero_grad();
        let (loss, stats) = self.loss(batch).ctx("computing the PPO loss")?;
        loss.f_backward().ctx("backpropagating the PPO loss")?;
        Ok(stats)
    }

    /// The PPO loss tensor and its terms.
    fn loss(&self, batch: &Minibatch) -> Result<(Tensor, LossStats), tch::TchError> {
        let cfg = &self.config;
        let dev = self.device;
        let b = batch.len();
        let vec = |v: &[f32]| Tensor::f_from_slice(v).and_then(|t| t.f_to_device(dev));
        let obs = nets::matrix(&batch.obs, b, self.actor_sizes[0], dev)?;
        let head = nets::forward(&self.actor, &obs)?;
        let (log_prob, entropy) = match (&self.log_std, self.space) {
            (Some(log_std), ActionSpace::Box(n)) => {
                let actions = nets::matrix(&batch.actions, b, n, dev)?;
                let z = actions.f_sub(&head)?.f_mul(&log_std.f_neg()?.f_exp()?)?;
                let per_dim = z.f_square()?.f_mul_scalar(-0.5)?.f_sub(log_std)?.f_add_scalar(-HALF)?;
                let lp = per_dim.f_sum_dim_intlist(1, false, None::<Kind>)?;
                let ent = log_std.f_add_scalar(0.5 + HALF)?.f_sum(None::<Kind>)?;
                (lp, ent)
            }
            _ => {
                let idx: Vec<i64> = batch.discrete.iter().map(|&a| i64::from(a)).collect();
                let idx = Tensor::f_from_slice(&idx)?.f_reshape([b as i64, 1])?.f_to_device(dev)?;
                let logp = head.f_log_softmax(1, None::<Kind>)?;
                let lp = logp.f_gather(1, &idx, false)?.f_squeeze_dim(1)?;
                let ent = logp.f_exp()?.f_mul(&logp)?.f_sum_dim_intlist(1, false, None::<Kind>)?.f_neg()?;
                (lp, ent.f_mean(None::<Kind>)?)
            }
        };
        let mut adv = vec(&batch.advantages)?;
        if cfg.normalize_advantage && b > 1 {
            // In f64 with the unbiased std, as the Rust update (and SB3's `Tensor.std()`).
            let a = adv.f_to_kind(Kind::Double)?;
            let std = a.f_std(true)?;
            adv =
                a.f_sub(&a.f_mean(None::<Kind>)?)?.f_div(&std.f_add_scalar(1e-8)?)?.f_to_kind(Kind::Float)?;
        }
        let log_ratio = log_prob.f_sub(&vec(&batch.old_log_probs)?)?;
        let ratio = log_ratio.f_exp()?;
        let eps = f64::from(cfg.clip_range);
        let s1 = ratio.f_mul(&adv)?;
        let s2 = ratio.f_clamp(1.0 - eps, 1.0 + eps)?.f_mul(&adv)?;
        let policy_loss = s1.f_minimum(&s2)?.f_mean(None::<Kind>)?.f_neg()?;

        let values = nets::forward(&self.critic, &obs)?.f_reshape([b as i64])?;
        let v_pred = match cfg.clip_range_vf {
            None => values,
            Some(c) => {
                let old = vec(&batch.old_values)?;
                let c = f64::from(c);
                old.f_add(&values.f_sub(&old)?.f_clamp(-c, c)?)?
            }
        };
        let value_loss = v_pred.f_sub(&vec(&batch.returns)?)?.f_square()?.f_mean(None::<Kind>)?;
        let loss = policy_loss
            .f_add(&value_loss.f_mul_scalar(f64::from(cfg.vf_coef))?)?
            .f_sub(&entropy.f_mul_scalar(f64::from(cfg.ent_coef))?)?;

        let _no_grad = tch::no_grad_guard();
        let approx_kl = ratio.f_sub_scalar(1.0)?.f_sub(&log_ratio)?.f_mean(None::<Kind>)?;
        let clipped =
            ratio.f_sub_scalar(1.0)?.f_abs()?.f_gt(eps)?.f_to_kind(Kind::Float)?.f_mean(None::<Kind>)?;
        let scalar = |t: &Tensor| t.f_double_value(&[]);
        let stats = LossStats {
            loss: scalar(&loss)?,
            policy_loss: scalar(&policy_loss)?,
            value_loss: scalar(&value_loss)?,
            entropy: scalar(&entropy)?,
            approx_kl: scalar(&approx_kl)?,
            clip_fraction: scalar(&clipped)?,
            grad_norm: 0.0,
        };
        Ok((loss, stats))
    }
}

const HALF: f64 = nets::HALF_LN_2PI;
