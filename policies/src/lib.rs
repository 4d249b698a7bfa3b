//! Policies and their training (PPO), vectorised rollouts and policy files.
//!
//! Main types and data flow:
//! - [`Env`] (reset/step into caller-owned buffers, [`Action`], [`Step`]) is what training runs
//!   on; [`VecEnv`] holds several, with per-environment seed streams ([`derive_seed`]).
//! - [`Mlp`] (tanh hidden layers, hand-written backprop) under a head: [`GaussianPolicy`]
//!   (continuous) or [`CategoricalPolicy`] (discrete), wrapped as an [`Actor`]; with a critic
//!   [`Mlp`] and an optional [`RunningNorm`] it forms an [`ActorCritic`].
//! - [`Ppo`] ([`PpoConfig`], defaults = the paper's SB3 settings) collects rollouts from a
//!   [`VecEnv`] in parallel, computes GAE and takes [`Adam`] steps with global gradient
//!   clipping; `learn` reports [`Progress`] to a callback.
//! - [`PolicyFile`] saves an [`ActorCritic`] as safetensors weights plus a YAML [`Contract`]
//!   (observation layout, normalisation, action scale, control rate) and loads it back,
//!   checking every tensor.
//! - [`Policy`] is the deterministic act-on-observation interface that verification and the
//!   runtime use, for learned and hand-written controllers alike.
//!
//! - [`toy`] holds two tiny environments that tests and benchmarks train on.
//! - `torch` (feature `torch`, libtorch via tch): exports an [`ActorCritic`] to TorchScript,
//!   deploys any TorchScript actor as a [`Policy`], and runs the PPO update with autograd on
//!   any device.
//!
//! Everything is deterministic for a seed, whatever the rayon thread count.

#![warn(missing_docs)]

mod adam;
mod agent;
mod env;
mod error;
mod heads;
pub mod mlp;
mod norm;
mod policy_file;
mod ppo;
mod seed;
#[cfg(feature = "torch")]
pub mod torch;
pub mod toy;
mod vec_env;

pub use adam::{Adam, clip_grad_norm};
pub use agent::ActorCritic;
pub use env::{Action, ActionSpace, Done, Env, Outcome, Policy, Step};
pub use error::Error;
pub use heads::{Actor, CategoricalPolicy, GaussianPolicy};
pub use mlp::Mlp;
pub use norm::{NORM_CLIP, NORM_EPSILON, RunningNorm};
pub use policy_file::{
    ActionContract, CONTRACT_FORMAT, Contract, NetworkShape, NormStats, ObsField, PolicyFile, PolicyMeta,
    RangeContract,
};
pub use ppo::{Control, LossStats, Ppo, PpoConfig, Progress};
pub use seed::derive_seed;
pub use vec_env::{EpisodeStat, VecEnv};
