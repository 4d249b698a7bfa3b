//! Language-model backends that answer with JSON constrained by a JSON schema.
//!
//! Data flow: the `--llm` text is parsed into an [`LlmSpec`]; [`open`] turns it into a
//! [`ChatBackend`]: [`HttpBackend`] for an OpenAI-compatible server (llama.cpp `llama-server`,
//! llama-cpp-python, Ollama, vLLM) or [`LocalBackend`] for a GGUF file run in process by llama.cpp
//! (feature `llm-local`; without it, opening one fails with [`LlmError::NotBuilt`]). A caller
//! builds a [`JsonRequest`] (system and user text, a JSON schema, a token budget) and gets back a
//! [`serde_json::Value`] that the backend *tried* to make match the schema: servers and grammars
//! differ, so every caller re-validates the value against its own domain (the dialogue agent
//! checks ids and values against its catalog).
//!
//! Every backend decodes greedily (temperature 0) with a fixed seed, so a backend that is itself
//! deterministic (llama.cpp on one thread) gives the same answer to the same request.
//! HTTP and JSON wire types live only in this module (DESIGN §2).

mod error;
mod http;
#[cfg_attr(not(feature = "llm-local"), path = "local_disabled.rs")]
mod local;
mod wire;

pub use error::LlmError;
pub use http::{HttpBackend, HttpConfig, Structured};
pub use local::{LocalBackend, LocalConfig};

use serde_json::Value;
use std::path::PathBuf;

/// Which language model `--llm` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LlmSpec {
    /// No model: the deterministic parser only.
    None,
    /// An OpenAI-compatible server, e.g. `http://127.0.0.1:8080/v1`; `?model=NAME` picks the
    /// model (otherwise the first one the server lists).
    Http {
        /// Base URL without a trailing slash, up to and including `/v1`.
        base_url: String,
        /// Model name sent with each request.
        model: Option<String>,
    },
    /// A GGUF file run in process (feature `llm-local`).
    Local {
        /// The model file.
        path: PathBuf,
    },
}

impl LlmSpec {
    /// Parses `none`, `http://host:port/v1[?model=NAME]` or `local:PATH.gguf`.
    pub fn parse(text: &str) -> Result<Self, LlmError> {
        let bad = |reason: &str| LlmError::BadSpec { spec: text.to_string(), reason: reason.to_string() };
        let t = text.trim();
        if t == "none" {
            return Ok(LlmSpec::None);
        }
        if t.starts_with("https://") {
            return Err(bad(
                "https is not supported (no TLS stack is linked); use an http:// URL on loopback or a \
                 trusted network, e.g. through an SSH tunnel",
            ));
        }
        if let Some(rest) = t.strip_prefix("http://") {
            let (location, query) = match rest.split_once('?') {
                Some((l, q)) => (l, Some(q)),
                None => (rest, None),
            };
            let host = location.split('/').next().unwrap_or_default();
            if host.is_empty() || host.starts_with(':') {
                return Err(bad("no host: expected http://HOST:PORT/v1"));
            }
            if let Some((_, port)) = host.rsplit_once(':')
                && !host.ends_with(']')
                && port.parse::<u16>().is_err()
            {
                return Err(bad("the port is not a number in 1..=65535"));
            }
            let model = match query {
                None => None,
                Some(q) => match q.strip_prefix("model=") {
                    Some(m) if !m.is_empty() && !m.contains('&') => Some(m.to_string()),
                    _ => return Err(bad("the only query accepted is ?model=NAME")),
                },
            };
            let base_url = format!("http://{}", location.trim_end_matches('/'));
            return Ok(LlmSpec::Http { base_url, model });
        }
        if let Some(path) = t.strip_prefix("local:") {
            if path.is_empty() {
                return Err(bad("no model file: expected local:PATH.gguf"));
            }
            if !path.to_ascii_lowercase().ends_with(".gguf") {
                return Err(bad("the model file must be a .gguf file"));
            }
            return Ok(LlmSpec::Local { path: PathBuf::from(path) });
        }
        Err(bad("expected `none`, `http://HOST:PORT/v1` (OpenAI-compatible server) or `local:PATH.gguf`"))
    }
}

/// One request for a JSON answer.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonRequest {
    /// The system message: rules and context.
    pub system: String,
    /// The user message: what to answer.
    pub user: String,
    /// Name of the schema (`a-z`, `A-Z`, `0-9`, `_`, `-`; at most 64 characters), also the
    /// function name in tool-call mode.
    pub schema_name: String,
    /// The JSON schema the answer must follow. Keep to what every backend turns into a grammar:
    /// objects with fixed `properties` and `required`, string `enum`s, booleans, arrays with
    /// `items` and `maxItems`.
    pub schema: Value,
    /// Most tokens the answer may take.
    pub max_tokens: u32,
    /// Sampling seed sent to the backend (decoding is greedy, so it only matters to backends
    /// that sample anyway).
    pub seed: u64,
}

impl JsonRequest {
    /// Checks the fields that every backend relies on.
    pub fn validate(&self) -> Result<(), LlmError> {
        let name_ok = !self.schema_name.is_empty()
            && self.schema_name.len() <= 64
            && self.schema_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !name_ok {
            return Err(LlmError::BadRequest {
                field: "schema_name",
                reason: format!("{:?}: 1 to 64 of a-z A-Z 0-9 _ -", self.schema_name),
            });
        }
        if !self.schema.is_object() {
            return Err(LlmError::BadRequest { field: "schema", reason: "must be a JSON object".into() });
        }
        if self.max_tokens == 0 {
            return Err(LlmError::BadRequest { field: "max_tokens", reason: "0 is outside ≥ 1".into() });
        }
        Ok(())
    }
}

/// A language model that answers a [`JsonRequest`] with JSON (the role every LLM user in the
/// stack talks to: the dialogue agent's understanding, the tips planner).
pub trait ChatBackend: Send {
    /// Asks for one JSON answer. The value is whatever the model produced once parsed as JSON;
    /// the caller validates it against its own domain.
    fn complete_json(&mut self, request: &JsonRequest) -> Result<Value, LlmError>;
    /// What is answering, for logs and the console ("SmolLM2-135M-Instruct.Q4_1.gguf in
    /// process", "http://127.0.0.1:8080/v1").
    fn describe(&self) -> String;
}

/// Opens the backend a spec names; `None` for [`LlmSpec::None`].
pub fn open(spec: &LlmSpec) -> Result<Option<Box<dyn ChatBackend>>, LlmError> {
    match spec {
        LlmSpec::None => Ok(None),
        LlmSpec::Http { base_url, model } => {
            let config = HttpConfig { model: model.clone(), ..HttpConfig::default() };
            Ok(Some(Box::new(HttpBackend::new(base_url, config)?)))
        }
        LlmSpec::Local { path } => Ok(Some(Box::new(LocalBackend::load(path, LocalConfig::default())?))),
    }
}

/// Reads a JSON value out of model text: plain JSON, JSON inside a ```` ```json ```` fence, or
/// the outermost `{...}` of a text with words around it.
pub fn extract_json(text: &str) -> Result<Value, String> {
    let t = text.trim();
    if let Ok(v) = serde_json::from_str(t) {
        return Ok(v);
    }
    if let Some(start) = t.find("```") {
        let after = &t[start + 3..];
        // The info string ("json") runs to the end of the fence's first line.
        let body = after.split_once('\n').map_or(after, |(_, b)| b);
        let body = body.split("```").next().unwrap_or(body);
        if let Ok(v) = serde_json::from_str(body.trim()) {
            return Ok(v);
        }
    }
    if let (Some(a), Some(b)) = (t.find('{'), t.rfind('}'))
        && a < b
        && let Ok(v) = serde_json::from_str(&t[a..=b])
    {
        return Ok(v);
    }
    Err("no JSON value in the text".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_or_say_what_is_accepted() {
        assert_eq!(LlmSpec::parse("none").unwrap(), LlmSpec::None);
        assert_eq!(
            LlmSpec::parse("http://127.0.0.1:8080/v1/").unwrap(),
            LlmSpec::Http { base_url: "http://127.0.0.1:8080/v1".into(), model: None }
        );
        assert_eq!(
            LlmSpec::parse("http://gpu-box:11434/v1?model=qwen2.5:0.5b").unwrap(),
            LlmSpec::Http { base_url: "http://gpu-box:11434/v1".into(), model: Some("qwen2.5:0.5b".into()) }
        );
        assert_eq!(
            LlmSpec::parse("local:/models/m.gguf").unwrap(),
            LlmSpec::Local { path: PathBuf::from("/models/m.gguf") }
        );
        for (bad, says) in [
            ("gpt-4", "expected `none`"),
            ("https://api.example.com/v1", "https is not supported"),
            ("http://:8080/v1", "no host"),
            ("http://localhost:80x/v1", "port"),
            ("http://localhost:8080/v1?temperature=1", "?model=NAME"),
            ("local:", "no model file"),
            ("local:/models/m.bin", ".gguf"),
        ] {
            let e = LlmSpec::parse(bad).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn json_is_found_in_fences_and_prose() {
        let want = serde_json::json!({"stop": false});
        assert_eq!(extract_json(r#" {"stop": false} "#).unwrap(), want);
        assert_eq!(extract_json("```json\n{\"stop\": false}\n```").unwrap(), want);
        assert_eq!(extract_json("```\n{\"stop\": false}\n```\n").unwrap(), want);
        assert_eq!(extract_json("Sure! Here it is: {\"stop\": false} Hope that helps.").unwrap(), want);
        assert!(extract_json("I cannot do that.").is_err());
        assert!(extract_json("{\"stop\": fals").is_err());
    }

    #[test]
    fn requests_are_checked_before_sending() {
        let ok = JsonRequest {
            system: "s".into(),
            user: "u".into(),
            schema_name: "operator_reading".into(),
            schema: serde_json::json!({"type": "object"}),
            max_tokens: 10,
            seed: 0,
        };
        assert!(ok.validate().is_ok());
        let bad_name = JsonRequest { schema_name: "has space".into(), ..ok.clone() };
        assert!(bad_name.validate().unwrap_err().to_string().contains("schema_name"));
        let bad_schema = JsonRequest { schema: serde_json::json!([1]), ..ok.clone() };
        assert!(bad_schema.validate().unwrap_err().to_string().contains("schema"));
        let no_tokens = JsonRequest { max_tokens: 0, ..ok };
        assert!(no_tokens.validate().unwrap_err().to_string().contains("max_tokens"));
    }
}
