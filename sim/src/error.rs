//! Errors of the simulators.

/// Why a simulator could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is outside the range the simulator supports.
    #[error("{field} = {value} is out of range: {allowed}")]
    OutOfRange {
        /// Which parameter.
        field: &'static str,
        /// The bad value.
        value: f64,
        /// The allowed range, in words.
        allowed: &'static str,
    },
    /// A shape cannot be simulated.
    #[error("{what}: {reason}")]
    BadShape {
        /// Which shape (e.g. "obstacle 3").
        what: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}
