//! Stand-in for the in-process backend in builds without the `llm-local` feature: same
//! signatures, and opening a model says how to build with it.

use super::{ChatBackend, JsonRequest, LlmError};
use serde_json::Value;
use std::path::Path;

/// Settings of the in-process model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalConfig {
    /// Context length in tokens (prompt + answer), 256..=32768.
    pub n_ctx: u32,
    /// CPU threads for llama.cpp, 1..=64.
    pub threads: u32,
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self { n_ctx: 2048, threads: 1 }
    }
}

/// A GGUF chat model loaded in process; this build cannot load one.
#[derive(Debug)]
pub struct LocalBackend {
    _never: std::convert::Infallible,
}

impl LocalBackend {
    /// Always fails with [`LlmError::NotBuilt`].
    pub fn load(path: &Path, _config: LocalConfig) -> Result<Self, LlmError> {
        Err(LlmError::NotBuilt { path: path.display().to_string() })
    }
}

impl ChatBackend for LocalBackend {
    fn complete_json(&mut self, _request: &JsonRequest) -> Result<Value, LlmError> {
        match self._never {}
    }
    fn describe(&self) -> String {
        match self._never {}
    }
}
