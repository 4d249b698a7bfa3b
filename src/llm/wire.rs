//! The OpenAI-compatible Chat Completions wire format: request bodies in the dialects the servers
//! accept, and tolerant reading of their answers (research notes §3.1–3.3).

use super::{JsonRequest, extract_json};
use serde_json::{Value, json};

/// How the answer is forced into the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Structured {
    /// `response_format` with the schema (OpenAI `json_schema`; llama.cpp's
    /// `json_object` + `schema` when a server refuses the first).
    #[default]
    ResponseFormat,
    /// One function whose parameters are the schema, forced with `tool_choice`; the answer is
    /// the call's `arguments` (a JSON string from OpenAI-style servers, an object from Ollama).
    ToolCall,
}

/// The `response_format` shape a server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}` (OpenAI, vLLM,
    /// Ollama ≥ 0.5, llama-server).
    JsonSchema,
    /// `{"type": "json_object", "schema": {...}}` (llama.cpp servers; llama-cpp-python refuses
    /// the OpenAI form with HTTP 500 "Input should be 'text' or 'json_object'").
    JsonObjectSchema,
}

/// The body of `POST {base}/chat/completions`.
pub(crate) fn request_body(
    req: &JsonRequest,
    model: &str,
    structured: Structured,
    dialect: Dialect,
) -> Value {
    let mut body = json!({
        "model": model,
        "messages": [
            {"role": "system", "content": req.system},
            {"role": "user", "content": req.user},
        ],
        "temperature": 0.0,
        "seed": req.seed,
        "max_tokens": req.max_tokens,
        "stream": false,
    });
    match structured {
        Structured::ResponseFormat => {
            body["response_format"] = match dialect {
                Dialect::JsonSchema => json!({
                    "type": "json_schema",
                    "json_schema": {"name": req.schema_name, "schema": req.schema, "strict": true},
                }),
                Dialect::JsonObjectSchema => json!({"type": "json_object", "schema": req.schema}),
            };
        }
        Structured::ToolCall => {
            body["tools"] = json!([{
                "type": "function",
                "function": {
                    "name": req.schema_name,
                    "description": "Report the answer as the function's arguments.",
                    "parameters": req.schema,
                },
            }]);
            body["tool_choice"] = json!({"type": "function", "function": {"name": req.schema_name}});
        }
    }
    body
}

/// Whether an error answer is the server refusing the `response_format` shape (so the other
/// dialect is worth a try).
pub(crate) fn refuses_response_format(status: u16, body: &str) -> bool {
    (400..600).contains(&status) && {
        let b = body.to_ascii_lowercase();
        b.contains("response_format") || b.contains("json_schema") || b.contains("json_object")
    }
}

/// The JSON answer inside a Chat Completions response: the forced tool call's arguments (string
/// or object, `id` optional) or else the message content (plain or fenced JSON).
pub(crate) fn answer(body: &Value, function: &str) -> Result<Value, String> {
    let choice = body
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .ok_or("no choices[0] in the response")?;
    let message = choice.get("message").ok_or("no choices[0].message")?;
    let truncated = choice.get("finish_reason").and_then(Value::as_str) == Some("length");
    let note = if truncated { " (finish_reason \"length\": the token budget ran out)" } else { "" };
    if let Some(calls) = message.get("tool_calls").and_then(Value::as_array)
        && !calls.is_empty()
    {
        let call = calls
            .iter()
            .find(|c| c.pointer("/function/name").and_then(Value::as_str) == Some(function))
            .or_else(|| calls.first())
            .ok_or("empty tool_calls")?;
        return match call.pointer("/function/arguments") {
            Some(Value::String(s)) => extract_json(s).map_err(|e| format!("tool call arguments: {e}{note}")),
            Some(v @ Value::Object(_)) => Ok(v.clone()),
            Some(other) => {
                Err(format!("tool call arguments are neither a JSON string nor an object: {other}"))
            }
            None => Err("tool call without function.arguments".into()),
        };
    }
    match message.get("content") {
        Some(Value::String(s)) => extract_json(s).map_err(|e| format!("message content: {e}{note}")),
        _ => Err(format!("choices[0].message has neither content nor tool_calls{note}")),
    }
}

/// The first model id of a `GET {base}/models` answer (`{"data": [{"id": ...}]}`).
pub(crate) fn first_model(body: &Value) -> Option<String> {
    body.get("data")?.as_array()?.first()?.get("id")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> JsonRequest {
        JsonRequest {
            system: "sys".into(),
            user: "go to the shed".into(),
            schema_name: "reading".into(),
            schema: json!({"type": "object", "properties": {"stop": {"type": "boolean"}}}),
            max_tokens: 64,
            seed: 7,
        }
    }

    #[test]
    fn both_response_format_dialects_and_the_forced_tool_call() {
        let b = request_body(&req(), "m", Structured::ResponseFormat, Dialect::JsonSchema);
        assert_eq!(b["response_format"]["type"], "json_schema");
        assert_eq!(b["response_format"]["json_schema"]["name"], "reading");
        assert_eq!(b["temperature"], 0.0);
        assert_eq!(b["seed"], 7);
        let b = request_body(&req(), "m", Structured::ResponseFormat, Dialect::JsonObjectSchema);
        assert_eq!(b["response_format"]["type"], "json_object");
        assert_eq!(b["response_format"]["schema"]["properties"]["stop"]["type"], "boolean");
        let b = request_body(&req(), "m", Structured::ToolCall, Dialect::JsonSchema);
        assert!(b.get("response_format").is_none());
        assert_eq!(b["tool_choice"]["function"]["name"], "reading");
        assert_eq!(b["tools"][0]["function"]["parameters"]["type"], "object");
    }

    // Recorded answer shapes of the servers we do not run in tests.
    #[test]
    fn ollama_tool_call_arguments_are_an_object_without_id() {
        let body = json!({"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "",
            "tool_calls": [{"type": "function", "function": {"name": "reading", "arguments": {"stop": true}}}]
        }}]});
        assert_eq!(answer(&body, "reading").unwrap(), json!({"stop": true}));
    }

    #[test]
    fn openai_tool_call_arguments_are_a_json_string() {
        let body = json!({"choices": [{"finish_reason": "tool_calls", "message": {"content": null,
            "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": "reading", "arguments": "{\"stop\": false}"}}]}}]});
        assert_eq!(answer(&body, "reading").unwrap(), json!({"stop": false}));
    }

    #[test]
    fn fenced_content_is_read_and_truncation_is_named() {
        let body = json!({"choices": [{"finish_reason": "stop",
            "message": {"content": "```json\n{\"stop\": false}\n```"}}]});
        assert_eq!(answer(&body, "reading").unwrap(), json!({"stop": false}));
        let cut = json!({"choices": [{"finish_reason": "length", "message": {"content": "{\"stop\": fa"}}]});
        let e = answer(&cut, "reading").unwrap_err();
        assert!(e.contains("length"), "{e}");
        assert!(answer(&json!({"error": "x"}), "reading").unwrap_err().contains("choices"));
        let neither = json!({"choices": [{"message": {"content": null}}]});
        assert!(answer(&neither, "reading").unwrap_err().contains("neither"));
    }

    #[test]
    fn refusals_of_the_response_format_are_recognised() {
        let llama_cpp_python = r#"{"error":{"message":"[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': "Input should be 'text' or 'json_object'"}]"}}"#;
        assert!(refuses_response_format(500, llama_cpp_python));
        assert!(!refuses_response_format(500, "out of memory"));
        assert!(!refuses_response_format(200, "response_format"));
        assert_eq!(first_model(&json!({"data": [{"id": "smollm2"}]})).as_deref(), Some("smollm2"));
    }
}
