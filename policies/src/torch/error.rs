//! Errors of the libtorch backend.

use std::path::PathBuf;

/// Why a TorchScript file could not be written, loaded or run, or a tch update failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read or written.
    #[error("{}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// libtorch could not load the file as a TorchScript module (truncated, not TorchScript).
    #[error("{}: not a loadable TorchScript module: {source}", file.display())]
    Load {
        /// The file.
        file: PathBuf,
        /// What libtorch said.
        source: tch::TchError,
    },
    /// The module's output does not hold one action.
    #[error(
        "{}: for an observation of shape [1, {obs_dim}] the module returns shape {actual:?}; \
         expected {expected} action values (shape [{expected}] or [1, {expected}])",
        file.display()
    )]
    OutputShape {
        /// The file.
        file: PathBuf,
        /// Observation length fed to it.
        obs_dim: usize,
        /// Number of action values (means or logits) expected.
        expected: usize,
        /// The shape it returned.
        actual: Vec<i64>,
    },
    /// The module returned NaN or an infinite value.
    #[error("{}: action output {index} is not finite ({value})", file.display())]
    NonFiniteOutput {
        /// The file.
        file: PathBuf,
        /// Index of the first bad value.
        index: usize,
        /// The value.
        value: f32,
    },
    /// Running or saving a module failed.
    #[error("{}: {what}: {source}", file.display())]
    Module {
        /// The file.
        file: PathBuf,
        /// What was being done (e.g. "forward pass").
        what: &'static str,
        /// What libtorch said.
        source: tch::TchError,
    },
    /// A tensor operation failed (device out of memory, unsupported device).
    #[error("libtorch: {what}: {source}")]
    Torch {
        /// What was being done.
        what: &'static str,
        /// What libtorch said.
        source: tch::TchError,
    },
    /// The update produced a non-finite loss or gradient; the weights were not changed.
    #[error("tch PPO update {update}: {what} is not finite")]
    Diverged {
        /// Update index since construction.
        update: u64,
        /// Which quantity.
        what: &'static str,
    },
    /// An error of the policies crate (shapes, configuration).
    #[error(transparent)]
    Policies(#[from] crate::Error),
}

/// Attaches what was being done to a tch error.
pub(crate) trait Context<T> {
    fn ctx(self, what: &'static str) -> Result<T, Error>;
}

impl<T> Context<T> for Result<T, tch::TchError> {
    fn ctx(self, what: &'static str) -> Result<T, Error> {
        self.map_err(|source| Error::Torch { what, source })
    }
}
