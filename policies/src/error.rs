//! Errors of the policies crate.

use std::path::PathBuf;

/// Why a network, a training run or a policy file could not be built, saved or loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A network or configuration has an unusable shape or value.
    #[error("{field} = {value} is invalid: {allowed}")]
    Config {
        /// Which field (e.g. `PpoConfig.batch_size`).
        field: &'static str,
        /// The bad value, printed.
        value: String,
        /// What is allowed, in words.
        allowed: &'static str,
    },
    /// An environment disagrees with the policy about dimensions.
    #[error("{what}: expected {expected}, got {actual}")]
    DimensionMismatch {
        /// What was compared (e.g. "observation dimension").
        what: &'static str,
        /// What the policy expects.
        expected: usize,
        /// What the environment provides.
        actual: usize,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The weights file is not a readable safetensors file (truncated, corrupted).
    #[error("{}: not a valid safetensors file: {reason}", file.display())]
    Corrupt {
        /// The file.
        file: PathBuf,
        /// What the parser or the checksum said.
        reason: String,
    },
    /// The contract YAML does not parse or is inconsistent.
    #[error("{}: {field}: {reason}", file.display())]
    Contract {
        /// The contract file.
        file: PathBuf,
        /// The field path (e.g. `action.dim`), or `-` when the YAML itself does not parse.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A tensor the contract requires is absent.
    #[error("{}: tensor `{tensor}` is missing", file.display())]
    MissingTensor {
        /// The weights file.
        file: PathBuf,
        /// The tensor name.
        tensor: String,
    },
    /// A tensor's shape disagrees with the contract.
    #[error("{}: tensor `{tensor}` has shape {actual:?}, the contract expects {expected:?}", file.display())]
    TensorShape {
        /// The weights file.
        file: PathBuf,
        /// The tensor name.
        tensor: String,
        /// The shape the contract implies.
        expected: Vec<usize>,
        /// The shape in the file.
        actual: Vec<usize>,
    },
    /// A tensor has the wrong element type.
    #[error("{}: tensor `{tensor}` has dtype {actual}, expected {expected}", file.display())]
    TensorDtype {
        /// The weights file.
        file: PathBuf,
        /// The tensor name.
        tensor: String,
        /// The expected dtype.
        expected: &'static str,
        /// The dtype in the file.
        actual: String,
    },
    /// A tensor holds NaN or infinite values.
    #[error("{}: tensor `{tensor}` has a non-finite value at index {index}", file.display())]
    NonFinite {
        /// The weights file.
        file: PathBuf,
        /// The tensor name.
        tensor: String,
        /// Flat index of the first bad value.
        index: usize,
    },
    /// Training produced a non-finite loss or gradient (diverged).
    #[error("training diverged at update {update}: {what} is not finite")]
    Diverged {
        /// Gradient update index since construction.
        update: u64,
        /// Which quantity.
        what: &'static str,
    },
    /// Building the rayon thread pool failed.
    #[error("thread pool: {0}")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
}
