//! The libtorch backend (feature `torch`, crate tch 0.26 on libtorch 2.13.0): TorchScript export
//! and deployment, and a PPO update with autograd that runs on any [`Device`].
//!
//! Main types and data flow:
//! - [`export`] writes an [`ActorCritic`](crate::ActorCritic)'s deterministic action function
//!   (observation normaliser → actor [`Mlp`](crate::Mlp) → head, as its [`Policy::act`](crate::Policy::act))
//!   to a TorchScript file, for C++/Python consumers or a GPU runtime.
//! - [`TorchScriptPolicy`] loads any TorchScript module mapping a float32 observation to an
//!   action (ours, or an SB3 actor traced in Python) and implements [`Policy`](crate::Policy), so
//!   verification and the runtime deploy it like a native policy.
//! - [`TorchPpo`] holds tensors initialised from an `ActorCritic`, computes the same PPO loss as
//!   [`Ppo`](crate::Ppo) on a [`Minibatch`] with autograd, and takes gradient-clipped Adam steps;
//!   its weights go back into an `ActorCritic` with [`TorchPpo::write_to`].
//!
//! Nothing here picks a device: every constructor takes a [`Device`] (tests use the CPU, one
//! thread). Building needs libtorch: `scripts/setup-torch.sh`, then `source scripts/torch-env.sh`.

mod error;
mod export;
mod nets;
mod ppo;
mod script;

pub use error::Error;
pub use export::export;
pub use ppo::TorchPpo;
pub use script::TorchScriptPolicy;
pub use tch::Device;

pub use crate::ppo::Minibatch;
