//! A blocking client for OpenAI-compatible Chat Completions servers (llama.cpp `llama-server`,
//! llama-cpp-python, Ollama's `/v1`, vLLM), over plain HTTP.
//!
//! Structured answers: `response_format` with the OpenAI `json_schema` shape first; when a server
//! refuses that shape (an error status whose body names the response format), the llama.cpp
//! shape `{"type": "json_object", "schema": ...}` is tried and kept for later calls. Or, with
//! [`Structured::ToolCall`], a forced call of one function whose parameters are the schema.
//! Connection failures and 5xx answers are retried a bounded number of times with doubling
//! backoff; 4xx answers and timeouts are not (a timeout already waited its full budget).

use super::error::excerpt;
pub use super::wire::Structured;
use super::wire::{self, Dialect};
use super::{ChatBackend, JsonRequest, LlmError};
use serde_json::Value;
use std::time::Duration;

/// Settings of the HTTP client.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// Model name sent with each request; `None`: the first model `GET {base}/models` lists
    /// (or `default` when the server has no such endpoint).
    pub model: Option<String>,
    /// How the answer is forced into the schema.
    pub structured: Structured,
    /// Seconds in (0, 600] to open a connection.
    pub connect_timeout_s: f64,
    /// Seconds in (0, 3600] for one whole exchange (request sent, answer read).
    pub timeout_s: f64,
    /// Extra attempts (0..=10) after a connection failure or a 5xx answer.
    pub retries: u32,
    /// Seconds in [0, 60] before the first retry; doubled before each further one.
    pub backoff_s: f64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            model: None,
            structured: Structured::ResponseFormat,
            connect_timeout_s: 2.0,
            timeout_s: 60.0,
            retries: 2,
            backoff_s: 0.25,
        }
    }
}

impl HttpConfig {
    fn validate(&self) -> Result<(), LlmError> {
        // Written so that NaN fails every check.
        let check = |field: &'static str, v: f64, ok: bool, allowed: &str| {
            if ok {
                Ok(())
            } else {
                Err(LlmError::BadRequest { field, reason: format!("{v} is outside {allowed}") })
            }
        };
        let (c, t, b) = (self.connect_timeout_s, self.timeout_s, self.backoff_s);
        check("connect_timeout_s", c, c > 0.0 && c <= 600.0, "(0, 600]")?;
        check("timeout_s", t, t > 0.0 && t <= 3600.0, "(0, 3600]")?;
        check("backoff_s", b, (0.0..=60.0).contains(&b), "[0, 60]")?;
        if self.retries > 10 {
            return Err(LlmError::BadRequest {
                field: "retries",
                reason: format!("{} is outside 0..=10", self.retries),
            });
        }
        Ok(())
    }
}

/// An OpenAI-compatible server at a base URL such as `http://127.0.0.1:8080/v1`.
#[derive(Debug)]
pub struct HttpBackend {
    base_url: String,
    config: HttpConfig,
    agent: ureq::Agent,
    dialect: Dialect,
    model: Option<String>,
}

/// What one exchange returned: a status and the body text.
struct Answer {
    status: u16,
    body: String,
}

impl HttpBackend {
    /// A client for `base_url` (no trailing slash). Nothing is sent until the first request.
    pub fn new(base_url: &str, config: HttpConfig) -> Result<Self, LlmError> {
        config.validate()?;
        if !base_url.starts_with("http://") {
            return Err(LlmError::BadSpec {
                spec: base_url.to_string(),
                reason: "expected an http:// base URL".into(),
            });
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs_f64(config.connect_timeout_s)))
            .timeout_per_call(Some(Duration::from_secs_f64(config.timeout_s)))
            .user_agent(concat!("sim2real/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let model = config.model.clone();
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            config,
            agent,
            dialect: Dialect::JsonSchema,
            model,
        })
    }

    /// Whether the server needed llama.cpp's `json_object` + `schema` shape (learned on the
    /// first refusal of the OpenAI shape).
    pub fn uses_llama_cpp_dialect(&self) -> bool {
        self.dialect == Dialect::JsonObjectSchema
    }

    /// One exchange with retries on connection failures and 5xx answers (except a refusal of
    /// the response format, which retrying cannot fix).
    fn exchange(&self, url: &str, body: Option<&Value>) -> Result<Answer, LlmError> {
        let attempts = self.config.retries + 1;
        let mut backoff = self.config.backoff_s;
        let mut last_connect_error = String::new();
        for attempt in 1..=attempts {
            let result = match body {
                Some(b) => {
                    self.agent.post(url).header("content-type", "application/json").send(b.to_string())
                }
                None => self.agent.get(url).call(),
            };
            let retry = match result {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let text = response.body_mut().read_to_string().map_err(|e| self.transport(url, e))?;
                    if status >= 500 && attempt < attempts && !wire::refuses_response_format(status, &text) {
                        tracing::debug!(url, status, attempt, "server error; retrying");
                        true
                    } else {
                        return Ok(Answer { status, body: text });
                    }
                }
                Err(e) => match self.transport(url, e) {
                    LlmError::Connect { reason, .. } => {
                        tracing::debug!(url, attempt, %reason, "connection failed");
                        last_connect_error = reason;
                        true
                    }
                    other => return Err(other),
                },
            };
            if retry && attempt < attempts {
                std::thread::sleep(Duration::from_secs_f64(backoff));
                backoff *= 2.0;
            }
        }
        Err(LlmError::Connect { url: url.to_string(), attempts, reason: last_connect_error })
    }

    fn transport(&self, url: &str, e: ureq::Error) -> LlmError {
        match e {
            ureq::Error::Timeout(phase) => {
                let timeout_s = if phase == ureq::Timeout::Connect {
                    self.config.connect_timeout_s
                } else {
                    self.config.timeout_s
                };
                LlmError::Timeout { url: url.to_string(), timeout_s, phase: phase.to_string() }
            }
            e @ (ureq::Error::Io(_) | ureq::Error::ConnectionFailed | ureq::Error::HostNotFound) => {
                LlmError::Connect { url: url.to_string(), attempts: 1, reason: e.to_string() }
            }
            other => LlmError::BadAnswer {
                source_name: url.to_string(),
                reason: other.to_string(),
                excerpt: String::new(),
            },
        }
    }

    /// The model name: configured, or the first one the server lists, or `default`.
    fn model(&mut self) -> Result<String, LlmError> {
        if let Some(m) = &self.model {
            return Ok(m.clone());
        }
        let url = format!("{}/models", self.base_url);
        let answer = self.exchange(&url, None)?;
        let listed = (answer.status == 200)
            .then(|| serde_json::from_str::<Value>(&answer.body).ok())
            .flatten()
            .and_then(|v| wire::first_model(&v));
        let model = listed.unwrap_or_else(|| "default".to_string());
        tracing::debug!(url, model, "model chosen");
        self.model = Some(model.clone());
        Ok(model)
    }
}

impl ChatBackend for HttpBackend {
    fn complete_json(&mut self, request: &JsonRequest) -> Result<Value, LlmError> {
        request.validate()?;
        let model = self.model()?;
        let url = format!("{}/chat/completions", self.base_url);
        let answer = loop {
            let body = wire::request_body(request, &model, self.config.structured, self.dialect);
            let answer = self.exchange(&url, Some(&body))?;
            if answer.status == 200 {
                break answer;
            }
            if self.config.structured == Structured::ResponseFormat
                && self.dialect == Dialect::JsonSchema
                && wire::refuses_response_format(answer.status, &answer.body)
            {
                tracing::info!(
                    url,
                    status = answer.status,
                    "server refuses response_format json_schema; using llama.cpp's json_object + schema"
                );
                self.dialect = Dialect::JsonObjectSchema;
                continue;
            }
            return Err(LlmError::Status { url, status: answer.status, body: excerpt(&answer.body, 300) });
        };
        let bad = |reason: String| LlmError::BadAnswer {
            source_name: url.clone(),
            reason,
            excerpt: excerpt(&answer.body, 200),
        };
        let body: Value = serde_json::from_str(&answer.body).map_err(|e| bad(format!("not JSON: {e}")))?;
        wire::answer(&body, &request.schema_name).map_err(bad)
    }

    fn describe(&self) -> String {
        match &self.model {
            Some(m) => format!("{} (model {m})", self.base_url),
            None => self.base_url.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_refused_by_name() {
        for (config, field) in [
            (HttpConfig { timeout_s: f64::NAN, ..HttpConfig::default() }, "timeout_s"),
            (HttpConfig { connect_timeout_s: 0.0, ..HttpConfig::default() }, "connect_timeout_s"),
            (HttpConfig { backoff_s: -1.0, ..HttpConfig::default() }, "backoff_s"),
            (HttpConfig { retries: 11, ..HttpConfig::default() }, "retries"),
        ] {
            let e = HttpBackend::new("http://127.0.0.1:1/v1", config).unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
        assert!(HttpBackend::new("ftp://x/v1", HttpConfig::default()).is_err());
    }
}
