//! [`ActorCritic`]: observation normaliser + actor head + critic, the object PPO trains and a
//! policy file stores.

use crate::{Action, ActionSpace, Actor, Error, Mlp, Policy, RunningNorm, derive_seed};

/// Observations longer than this are normalised into a heap buffer when acting (rare; the
/// Warthog observation has 17 values).
const STACK_OBS: usize = 1024;

/// Actor and critic (separate networks, as SB3's default `MlpPolicy`) behind an optional
/// observation normaliser.
#[derive(Debug, Clone, PartialEq)]
pub struct ActorCritic {
    pub(crate) norm: Option<RunningNorm>,
    pub(crate) actor: Actor,
    pub(crate) critic: Mlp,
}

impl ActorCritic {
    /// Fresh networks: actor `obs → hidden → head` (output gain 0.01), critic
    /// `obs → critic_hidden → 1` (gain 1). Actor weights from `derive_seed(seed, 0)`, critic from
    /// `derive_seed(seed, 1)`.
    pub fn new(
        obs_dim: usize,
        space: ActionSpace,
        actor_hidden: &[usize],
        critic_hidden: &[usize],
        normalize_obs: bool,
        log_std_init: f32,
        seed: u64,
    ) -> Result<Self, Error> {
        if space.n() == 0 || space.n() > crate::mlp::MAX_HIDDEN {
            return Err(Error::Config {
                field: "action space size",
                value: space.n().to_string(),
                allowed: "1 ..= 512",
            });
        }
        let actor = Actor::new(obs_dim, actor_hidden, space, log_std_init, derive_seed(seed, 0))?;
        let mut sizes = vec![obs_dim];
        sizes.extend_from_slice(critic_hidden);
        sizes.push(1);
        let critic = Mlp::new(&sizes, 1.0, derive_seed(seed, 1))?;
        Ok(Self { norm: normalize_obs.then(|| RunningNorm::new(obs_dim)), actor, critic })
    }

    /// Assembles trained parts; errors if their input sizes differ.
    pub fn from_parts(norm: Option<RunningNorm>, actor: Actor, critic: Mlp) -> Result<Self, Error> {
        let obs_dim = actor.net().input_dim();
        for (what, actual) in [
            ("critic input", critic.input_dim()),
            ("normaliser dimension", norm.as_ref().map_or(obs_dim, RunningNorm::dim)),
        ] {
            if actual != obs_dim {
                return Err(Error::DimensionMismatch { what, expected: obs_dim, actual });
            }
        }
        if critic.output_dim() != 1 {
            return Err(Error::DimensionMismatch {
                what: "critic output",
                expected: 1,
                actual: critic.output_dim(),
            });
        }
        Ok(Self { norm, actor, critic })
    }

    /// The observation normaliser, if enabled.
    pub fn norm(&self) -> Option<&RunningNorm> {
        self.norm.as_ref()
    }

    /// The actor.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The critic (value network).
    pub fn critic(&self) -> &Mlp {
        &self.critic
    }

    /// Writes the normalised observation (a copy when normalisation is off).
    pub fn normalize_obs(&self, obs: &[f32], out: &mut [f32]) {
        match &self.norm {
            Some(n) => n.normalize(obs, out),
            None => out.copy_from_slice(obs),
        }
    }

    /// Value estimate of an already normalised observation.
    pub fn value(&self, obs_norm: &[f32]) -> f32 {
        let mut v = [0.0];
        self.critic.forward(obs_norm, &mut v);
        v[0]
    }

    /// Total number of trainable parameters (actor, log-std, critic).
    pub fn n_params(&self) -> usize {
        self.actor.net().params().len() + self.actor.log_std().len() + self.critic.params().len()
    }
}

impl Policy for ActorCritic {
    fn obs_dim(&self) -> usize {
        self.actor.net().input_dim()
    }

    fn action_space(&self) -> ActionSpace {
        self.actor.action_space()
    }

    fn act<'o>(&self, obs: &[f32], out: &'o mut [f32]) -> Action<'o> {
        let n = obs.len();
        if n <= STACK_OBS {
            let mut buf = [0.0f32; STACK_OBS];
            self.normalize_obs(obs, &mut buf[..n]);
            self.actor.deterministic(&buf[..n], out)
        } else {
            let mut buf = vec![0.0f32; n];
            self.normalize_obs(obs, &mut buf);
            self.actor.deterministic(&buf, out)
        }
    }
}
