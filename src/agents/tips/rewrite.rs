//! Tip texts from a language model (`--llm`): the model words each rule as advice for people;
//! the rules themselves it cannot touch. Every answer is checked here (one text of 1 to
//! [`MAX_WORDS`] words) and again by the store; whatever fails, the planner keeps the
//! deterministic words. The model sees only the rule (not the evidence counts, which change
//! with every mission), one rule per request, and a rule worded once keeps its words: the model
//! is asked only when introspection finds a new rule, and the same rule gets the same words
//! whichever mission found it first.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use serde_json::json;

use super::{Action, MAX_CHARS, MAX_WORDS, Rule, Scope, Tip, TipRewriter, TipsError};
use crate::llm::{ChatBackend, JsonRequest};

const SYSTEM: &str = "You write short route-planning tips for a ground robot's operators. Turn the \
rule into one general sentence of advice: keep its meaning, add no places, speeds, limits or \
actions. Answer with JSON: {\"tip\": \"...\"}.";

/// Rewords tips with a chat backend.
pub struct LlmRewriter {
    state: Mutex<(Box<dyn ChatBackend>, BTreeMap<Rule, String>)>,
}

impl LlmRewriter {
    /// Rewords with `backend`.
    pub fn new(backend: Box<dyn ChatBackend>) -> LlmRewriter {
        LlmRewriter { state: Mutex::new((backend, BTreeMap::new())) }
    }
}

impl fmt::Debug for LlmRewriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmRewriter").finish_non_exhaustive()
    }
}

fn bad(message: impl Into<String>) -> TipsError {
    TipsError::Rewriter { message: message.into() }
}

/// The rule in plain words (what the model rewords).
fn rule_words(rule: &Rule) -> String {
    let what = match (&rule.action, &rule.scope) {
        (Action::Avoid, Scope::Subtask(id)) => format!("avoid the route segment `{id}`"),
        (Action::Retrain, Scope::Subtask(id)) => format!("retrain the route segment `{id}`"),
        (Action::Avoid, Scope::Feature(f)) => format!("avoid route segments whose path {}", f.words()),
        (Action::Retrain, Scope::Feature(f)) => format!("retrain route segments whose path {}", f.words()),
    };
    match &rule.condition {
        Some(c) => format!("Rule: under the condition `{c}`, {what}."),
        None => format!("Rule: {what}."),
    }
}

impl TipRewriter for LlmRewriter {
    fn rewrite(&self, tips: &[Tip]) -> Result<Vec<String>, TipsError> {
        let mut state = self.state.lock().map_err(|_| bad("a previous rewrite panicked"))?;
        let (backend, worded) = &mut *state;
        for t in tips {
            if worded.contains_key(&t.rule) {
                continue;
            }
            let request = JsonRequest {
                system: SYSTEM.into(),
                user: rule_words(&t.rule),
                schema_name: "tip".into(),
                schema: json!({"type": "object", "properties": {"tip": {"type": "string"}}, "required": ["tip"]}),
                max_tokens: 64,
                seed: 0,
            };
            let answer = backend.complete_json(&request)?;
            let text = answer["tip"]
                .as_str()
                .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
                .ok_or_else(|| bad(format!("no `tip` string in {answer}")))?;
            let words = text.split_whitespace().count();
            if words == 0 || words > MAX_WORDS || text.chars().count() > MAX_CHARS {
                return Err(bad(format!("`{text}` is not 1 to {MAX_WORDS} words")));
            }
            worded.insert(t.rule.clone(), text);
        }
        Ok(tips.iter().map(|t| worded[&t.rule].clone()).collect())
    }
}
