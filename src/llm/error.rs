//! Errors of the LLM clients.

/// Why a language-model backend could not be opened or did not return a usable JSON answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LlmError {
    /// The `--llm` text is not a backend this build knows.
    #[error("--llm {spec:?}: {reason}")]
    BadSpec {
        /// The text given.
        spec: String,
        /// What is wrong with it, and what is accepted.
        reason: String,
    },
    /// `local:` backends need the `llm-local` cargo feature.
    #[error(
        "--llm local:{path}: this binary was built without the `llm-local` feature; run \
         scripts/setup-llm.sh, then build with `cargo build --release --features llm-local`"
    )]
    NotBuilt {
        /// The model path asked for.
        path: String,
    },
    /// A request is malformed before anything is sent (schema name, empty schema, ...).
    #[error("request {field}: {reason}")]
    BadRequest {
        /// The request field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// No connection could be made (refused, unreachable) after every retry.
    #[error("{url}: cannot connect after {attempts} attempt(s): {reason}")]
    Connect {
        /// The URL called.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last transport error.
        reason: String,
    },
    /// The server did not answer within the timeout.
    #[error("{url}: no answer within {timeout_s} s ({phase})")]
    Timeout {
        /// The URL called.
        url: String,
        /// The timeout that expired, seconds.
        timeout_s: f64,
        /// Which part of the exchange timed out.
        phase: String,
    },
    /// The server answered with an error status.
    #[error("{url}: HTTP {status}: {body}")]
    Status {
        /// The URL called.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// The answer arrived but is not what the protocol promises (not JSON, no choices, no
    /// content, arguments that are not an object, ...).
    #[error("{source_name}: bad answer: {reason} (answer starts {excerpt:?})")]
    BadAnswer {
        /// The URL or model file that answered.
        source_name: String,
        /// What is wrong.
        reason: String,
        /// The start of the offending text.
        excerpt: String,
    },
    /// The in-process model could not be loaded or run.
    #[error("{path}: {reason}")]
    Model {
        /// The model file.
        path: String,
        /// What failed.
        reason: String,
    },
}

/// The first `max` characters of a text, with `…` when cut (for error messages).
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}
