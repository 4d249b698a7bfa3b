//! Errors of the agents module.

/// Why an agent, environment or evaluation could not be set up, or an agent utterance could not
/// be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// A numeric setting is outside its range (NaN is always outside).
    #[error("{field}: {value} is outside {allowed}")]
    OutOfRange {
        /// The setting, e.g. `noise`.
        field: &'static str,
        /// The allowed range, in words.
        allowed: &'static str,
        /// The bad value.
        value: f64,
    },
    /// The scenario has no waypoint the goal may be.
    #[error("targets: the scenario has no waypoints for target set {targets}")]
    NoTargets {
        /// The target set asked for.
        targets: String,
    },
    /// Exact search is exponential in the number of targets.
    #[error("targets: {count} targets, exact optimal search supports at most {max}")]
    TooManyTargets {
        /// Targets in the catalog.
        count: usize,
        /// The supported maximum.
        max: usize,
    },
    /// PPO training of the learned question policy failed.
    #[error("training the question policy: {source}")]
    Training {
        /// The trainer's error.
        #[from]
        source: crate::training::TrainingError,
    },
    /// An agent utterance does not follow the action grammar.
    #[error("action text {text:?}: {reason}")]
    BadAction {
        /// The text.
        text: String,
        /// What is wrong, naming the bad part.
        reason: String,
    },
}

/// Checks `lo <= value <= hi` so that NaN fails.
pub(crate) fn check_range(
    field: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    allowed: &'static str,
) -> Result<(), AgentError> {
    if value >= lo && value <= hi { Ok(()) } else { Err(AgentError::OutOfRange { field, allowed, value }) }
}
