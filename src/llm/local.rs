//! A GGUF model run in process by llama.cpp (crate `llama-cpp-2`, feature `llm-local`).
//!
//! The request's JSON schema becomes a GBNF grammar (llama.cpp's own converter), and a grammar
//! sampler followed by greedy choice decodes the answer, so the text always parses as JSON of the
//! schema's shape (unless the token budget runs out first). The prompt follows the model's chat
//! template (ChatML when the file has none). The model is loaded once and runs on one thread,
//! which makes answers deterministic; the keys and values of the system prompt are computed once
//! and kept in the context (callers send the same long system prompt with every short question).
//! llama.cpp's own log goes to `tracing` only when debug logging is on (`RUST_LOG=debug`).

use super::error::excerpt;
use super::{ChatBackend, JsonRequest, LlmError, extract_json};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use serde_json::Value;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Settings of the in-process model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalConfig {
    /// Context length in tokens (prompt + answer), 256..=32768.
    pub n_ctx: u32,
    /// CPU threads for llama.cpp, 1..=64. One thread is the deterministic default.
    pub threads: u32,
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self { n_ctx: 2048, threads: 1 }
    }
}

/// llama.cpp's backend may be initialised once per process; every model shares it.
fn backend() -> Result<&'static LlamaBackend, String> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            // llama.cpp reports every load at INFO (a hundred lines); forward its log only when
            // debug logging is on, so the console stays readable.
            let verbose = tracing::enabled!(tracing::Level::DEBUG);
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default().with_logs_enabled(verbose));
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A GGUF chat model loaded in process.
pub struct LocalBackend {
    path: PathBuf,
    model: &'static LlamaModel,
    /// One context, reused: it keeps the system prompt's keys and values between requests.
    ctx: LlamaContext<'static>,
    config: LocalConfig,
    /// Grammars by schema text: the conversion runs once per schema.
    grammars: HashMap<String, String>,
    /// The system prompt whose tokens fill the start of the cache, and how many there are.
    cached: Option<(String, usize)>,
    /// The file's template is ChatML (`<|im_start|>`), so the system part can be tokenised and
    /// cached on its own.
    chatml: bool,
}

impl std::fmt::Debug for LocalBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBackend").field("path", &self.path).field("config", &self.config).finish()
    }
}

impl LocalBackend {
    /// Loads the model file. The weights stay loaded for the rest of the process (the context
    /// that caches the system prompt borrows them for as long as it lives).
    pub fn load(path: &Path, config: LocalConfig) -> Result<Self, LlmError> {
        let err = |reason: String| LlmError::Model { path: path.display().to_string(), reason };
        if !(256..=32768).contains(&config.n_ctx) {
            return Err(err(format!("n_ctx {} is outside 256..=32768", config.n_ctx)));
        }
        if !(1..=64).contains(&config.threads) {
            return Err(err(format!("threads {} is outside 1..=64", config.threads)));
        }
        if !path.is_file() {
            return Err(err(
                "no such model file (scripts/setup-llm.sh puts SmolLM2-135M-Instruct.Q4_1.gguf in \
                 ~/.cache/sim2real/models)"
                    .into(),
            ));
        }
        let backend = backend().map_err(|e| err(format!("llama.cpp backend: {e}")))?;
        let model = LlamaModel::load_from_file(backend, path, &LlamaModelParams::default())
            .map_err(|e| err(format!("cannot load the model: {e}")))?;
        let model: &'static LlamaModel = Box::leak(Box::new(model));
        let threads = i32::try_from(config.threads).unwrap_or(1);
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(config.n_ctx))
            .with_n_batch(config.n_ctx)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        let ctx = model.new_context(backend, params).map_err(|e| err(format!("context: {e}")))?;
        let chatml = model
            .chat_template(None)
            .ok()
            .and_then(|t| t.to_string().ok())
            .is_none_or(|t| t.contains("<|im_start|>"));
        tracing::debug!(path = %path.display(), params = model.n_params(), chatml, "model loaded");
        Ok(Self {
            path: path.to_path_buf(),
            model,
            ctx,
            config,
            grammars: HashMap::new(),
            cached: None,
            chatml,
        })
    }

    fn err(&self, reason: String) -> LlmError {
        LlmError::Model { path: self.path.display().to_string(), reason }
    }

    /// The prompt as (system part, rest): ChatML split after the system message, so the first
    /// part tokenises the same whatever follows; other templates give the whole prompt as rest.
    fn prompt(&self, system: &str, user: &str) -> (String, String) {
        let rest = format!("<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n");
        if self.chatml {
            return (format!("<|im_start|>system\n{system}<|im_end|>\n"), rest);
        }
        let templated = (|| {
            let template = self.model.chat_template(None).ok()?;
            let messages = vec![
                LlamaChatMessage::new("system".into(), system.into()).ok()?,
                LlamaChatMessage::new("user".into(), user.into()).ok()?,
            ];
            self.model.apply_chat_template(&template, &messages, true).ok()
        })();
        (
            String::new(),
            templated.unwrap_or_else(|| format!("<|im_start|>system\n{system}<|im_end|>\n{rest}")),
        )
    }

    fn grammar(&mut self, schema: &Value) -> Result<String, LlmError> {
        let key = schema.to_string();
        if let Some(g) = self.grammars.get(&key) {
            return Ok(g.clone());
        }
        let g = llama_cpp_2::json_schema_to_grammar(&key)
            .map_err(|e| self.err(format!("the schema cannot be turned into a grammar: {e}")))?;
        // The converter lets whitespace between tokens include newlines and 20 indent characters;
        // a small model then pretty-prints itself out of its token budget. One space at most.
        let g: String = g
            .lines()
            .map(|l| if l.starts_with("space ::=") { "space ::= | \" \"" } else { l })
            .collect::<Vec<_>>()
            .join("\n");
        self.grammars.insert(key, g.clone());
        Ok(g)
    }

    /// Decodes `tokens` at positions from `start`, logits for the last one only.
    fn decode(&mut self, tokens: &[LlamaToken], start: usize) -> Result<(), LlmError> {
        let mut batch = LlamaBatch::new(tokens.len().max(1), 1);
        let last = tokens.len().saturating_sub(1);
        for (i, t) in tokens.iter().enumerate() {
            batch
                .add(*t, (start + i) as i32, &[0], i == last)
                .map_err(|e| self.err(format!("batch: {e}")))?;
        }
        self.ctx.decode(&mut batch).map_err(|e| self.err(format!("decoding: {e}")))
    }

    /// Greedy, grammar-constrained generation; the answer text. The system part's keys and
    /// values are computed once per system prompt (always as one batch from position 0, so
    /// every request sees the same cache whatever came before it).
    fn generate(
        &mut self,
        system_part: &str,
        rest: &str,
        grammar: &str,
        max_tokens: u32,
    ) -> Result<String, LlmError> {
        let vocab = self.model.vocab();
        let head = vocab.tokenize(system_part.as_bytes(), true, true);
        let tail = vocab.tokenize(rest.as_bytes(), head.is_empty(), true);
        let n_ctx = self.config.n_ctx as usize;
        if tail.is_empty() || head.len() + tail.len() + max_tokens as usize > n_ctx {
            return Err(self.err(format!(
                "prompt of {} tokens + {max_tokens} answer tokens does not fit the context of {n_ctx}",
                head.len() + tail.len()
            )));
        }
        let reuse = matches!(&self.cached, Some((s, n)) if s == system_part && *n == head.len());
        if reuse {
            self.ctx
                .clear_kv_cache_seq(Some(0), Some(head.len() as u32), None)
                .map_err(|e| self.err(format!("cache: {e}")))?;
        } else {
            self.ctx.clear_kv_cache();
            self.cached = None;
            if !head.is_empty() {
                self.decode(&head, 0)?;
                self.cached = Some((system_part.to_string(), head.len()));
            }
        }
        self.decode(&tail, head.len())?;
        let grammar_sampler = LlamaSampler::grammar(self.model, grammar, "root")
            .map_err(|e| self.err(format!("grammar sampler: {e}")))?;
        let mut sampler = LlamaSampler::chain_simple([grammar_sampler, LlamaSampler::greedy()]);
        let mut out: Vec<u8> = Vec::new();
        let start = head.len() + tail.len();
        for pos in start..start + max_tokens as usize {
            // `sample` also accepts the token into the grammar (accepting again would abort).
            let token = sampler.sample(&self.ctx, -1);
            if vocab.is_eog(token) {
                break;
            }
            out.extend(vocab.token_to_piece(token, false, None));
            self.decode(&[token], pos)?;
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

impl ChatBackend for LocalBackend {
    fn complete_json(&mut self, request: &JsonRequest) -> Result<Value, LlmError> {
        request.validate()?;
        let grammar = self.grammar(&request.schema)?;
        let (system_part, rest) = self.prompt(&request.system, &request.user);
        let text = self.generate(&system_part, &rest, &grammar, request.max_tokens)?;
        tracing::debug!(answer = %text, "local model answered");
        extract_json(&text).map_err(|reason| LlmError::BadAnswer {
            source_name: self.path.display().to_string(),
            reason,
            excerpt: excerpt(&text, 200),
        })
    }

    fn describe(&self) -> String {
        let name = self
            .path
            .file_name()
            .map_or_else(|| self.path.display().to_string(), |n| n.to_string_lossy().into_owned());
        format!("{name} in process (llama.cpp, {} thread(s))", self.config.threads)
    }
}
