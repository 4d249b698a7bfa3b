//! Training: [`subtask_env::SubtaskEnv`] turns a scenario subtask into a `policies::Env`; the
//! one PPO [`Learner`] trains any such environment and keeps its best checkpoint; [`icrl`]
//! decides which subtask to train next; [`labyrinth`] reproduces the ICAPS gridworld.

mod error;
pub mod icrl;
pub mod labyrinth;
pub mod learner;
pub mod subtask_env;

pub use error::TrainingError;
pub use learner::{Checkpoint, CurvePoint, Learner};
