//! [`VecEnv`]: several environments stepped in parallel (rayon), each with its own seed stream.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::{ActionSpace, Env, Error, Outcome, derive_seed};

/// Per-environment state that survives between rollouts.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    /// Current observation (raw).
    pub(crate) obs: Vec<f32>,
    /// Seed of this environment's stream: `derive_seed(vec_seed, index)`.
    pub(crate) seed: u64,
    /// Episodes started so far.
    pub(crate) episodes: u64,
    /// Action-sampling generator, `ChaCha8Rng::seed_from_u64(derive_seed(seed, 0))`.
    pub(crate) rng: ChaCha8Rng,
    pub(crate) started: bool,
    pub(crate) ep_return: f64,
    pub(crate) ep_len: u64,
}

impl Slot {
    /// Starts the next episode: episode k of environment i is reset with
    /// `derive_seed(derive_seed(vec_seed, i), k + 1)`.
    pub(crate) fn reset<E: Env>(&mut self, env: &mut E) {
        let s = derive_seed(self.seed, self.episodes + 1);
        self.episodes += 1;
        env.reset(s, &mut self.obs);
        self.started = true;
        self.ep_return = 0.0;
        self.ep_len = 0;
    }
}

/// Statistics of one finished episode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpisodeStat {
    /// Undiscounted return.
    pub ret: f64,
    /// Steps taken.
    pub length: u64,
    /// What the environment reported on the last step.
    pub outcome: Outcome,
}

/// `n` environments of one type, with deterministic seeds.
///
/// Seeds: environment `i` owns the stream `s_i = derive_seed(seed, i)`; its `k`-th episode
/// (k = 0, 1, …) is reset with `derive_seed(s_i, k + 1)` and its actions are sampled from a
/// ChaCha8 generator seeded with `derive_seed(s_i, 0)`. Environments never share a generator,
/// so results do not depend on how rayon schedules them.
#[derive(Debug)]
pub struct VecEnv<E> {
    pub(crate) envs: Vec<E>,
    pub(crate) slots: Vec<Slot>,
    seed: u64,
}

impl<E: Env> VecEnv<E> {
    /// Builds `n` environments with `factory(i)`; errors if `n` is 0 or they disagree on
    /// observation size or action space.
    pub fn new(n: usize, seed: u64, mut factory: impl FnMut(usize) -> E) -> Result<Self, Error> {
        if n == 0 {
            return Err(Error::Config { field: "VecEnv n", value: "0".into(), allowed: "at least 1" });
        }
        let envs: Vec<E> = (0..n).map(&mut factory).collect();
        let (dim, space) = (envs[0].obs_dim(), envs[0].action_space());
        for e in &envs[1..] {
            if e.obs_dim() != dim {
                return Err(Error::DimensionMismatch {
                    what: "observation dimension of VecEnv members",
                    expected: dim,
                    actual: e.obs_dim(),
                });
            }
            if e.action_space() != space {
                return Err(Error::DimensionMismatch {
                    what: "action space size of VecEnv members",
                    expected: space.n(),
                    actual: e.action_space().n(),
                });
            }
        }
        let slots = (0..n as u64)
            .map(|i| {
                let s = derive_seed(seed, i);
                Slot {
                    obs: vec![0.0; dim],
                    seed: s,
                    episodes: 0,
                    rng: ChaCha8Rng::seed_from_u64(derive_seed(s, 0)),
                    started: false,
                    ep_return: 0.0,
                    ep_len: 0,
                }
            })
            .collect();
        Ok(Self { envs, slots, seed })
    }

    /// Number of environments.
    pub fn len(&self) -> usize {
        self.envs.len()
    }

    /// Always false: a `VecEnv` holds at least one environment.
    pub fn is_empty(&self) -> bool {
        self.envs.is_empty()
    }

    /// Observation size shared by all environments.
    pub fn obs_dim(&self) -> usize {
        self.envs[0].obs_dim()
    }

    /// Action space shared by all environments.
    pub fn action_space(&self) -> ActionSpace {
        self.envs[0].action_space()
    }

    /// The seed the streams derive from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The environments, in index order.
    pub fn envs(&self) -> &[E] {
        &self.envs
    }
}
