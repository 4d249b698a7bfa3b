//! Errors of the training wing.

use super::labyrinth::LabyrinthError;
use super::subtask_env;

/// Why training or estimation stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainingError {
    /// A subtask environment could not be built.
    #[error(transparent)]
    Env(#[from] subtask_env::Error),
    /// PPO or a policy file failed.
    #[error(transparent)]
    Policies(#[from] policies::Error),
    /// A labyrinth subtask could not be built or rolled out.
    #[error(transparent)]
    Labyrinth(#[from] LabyrinthError),
    /// The high-level model could not be solved.
    #[error("high-level model: {0}")]
    Hlm(#[from] verification::Error),
    /// The high-level model could not be built.
    #[error("high-level model of {model}: {source}")]
    Model {
        /// Which model (a goal, or the labyrinth).
        model: String,
        /// The cause.
        source: verification::Error,
    },
    /// A subtask index past the end.
    #[error("no subtask {index}: there are {count}")]
    NoSubtask {
        /// The index asked for.
        index: usize,
        /// Number of subtasks.
        count: usize,
    },
}
