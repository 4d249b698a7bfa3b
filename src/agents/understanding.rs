//! How the dialogue agent reads operator text: the deterministic [`Parser`](super::parser::Parser)
//! alone, or a language model whose JSON answer is checked against the catalog and merged with
//! the parser's reading.
//!
//! The model fills a form whose JSON schema is built from the catalog (attribute names, every
//! attribute value, every waypoint id as enums), so it can only *name* things the scenario has.
//! Its answer is re-validated here all the same: the shape, every id, every value, and that the
//! value belongs to its attribute. An answer that fails (or a timeout, or a transport error)
//! costs the agent one turn of its budget and the utterance is read by the parser alone.
//!
//! Safety rules of the merge ([`merge`]): the dialogue stops on the parser's stop words only: a
//! stop word always wins (the model is not even asked), and the model's `stop` field is not acted
//! on (a 135M model sets it at random; stopping stays predictable, and the robot does not move
//! during a dialogue anyway). The answer to a confirmation is the parser's alone, so the model
//! cannot make the "yes" that a commit needs. Everything else the model contributes is evidence
//! (constraints over catalog ids and values) for the belief.

use super::parser::{Constraint, Reading, Subject};
use super::{Action, Attribute, Catalog};
use crate::llm::{ChatBackend, JsonRequest, LlmError};
use serde_json::{Map, Value, json};
use std::fmt;

/// Most constraints and waypoints one answer may carry (bounds the grammar's output too).
const MAX_CONSTRAINTS: usize = 6;
const MAX_WAYPOINTS: usize = 4;
/// Name of the schema (and of the function in tool-call mode).
pub const SCHEMA_NAME: &str = "operator_reading";

/// Which reader the agent uses.
pub enum Understanding {
    /// The deterministic parser only.
    Parser,
    /// A language model, checked against the catalog, with the parser as fallback.
    Llm(Box<dyn ChatBackend>),
}

impl fmt::Debug for Understanding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Understanding::Parser => f.write_str("Parser"),
            Understanding::Llm(b) => write!(f, "Llm({})", b.describe()),
        }
    }
}

impl From<Option<Box<dyn ChatBackend>>> for Understanding {
    /// What [`crate::llm::open`] opened, or the parser when the spec was `none`.
    fn from(backend: Option<Box<dyn ChatBackend>>) -> Self {
        backend.map_or(Understanding::Parser, Understanding::Llm)
    }
}

impl Understanding {
    /// One line for the console: what reads the operator's words.
    pub fn describe(&self) -> String {
        match self {
            Understanding::Parser => PARSER_LINE.into(),
            Understanding::Llm(b) => llm_line(&b.describe()),
        }
    }
}

pub(crate) const PARSER_LINE: &str = "the deterministic parser";

pub(crate) fn llm_line(backend: &str) -> String {
    format!("language model {backend} (answers checked against the scenario; the parser is the fallback)")
}

/// Counts of the language model's work, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LlmStats {
    /// Utterances sent to the model.
    pub calls: u64,
    /// Answers that arrived but could not be used (not JSON, wrong shape, unknown id or value).
    pub invalid: u64,
    /// Calls that returned no answer (timeout, connection, server error status).
    pub errors: u64,
}

impl LlmStats {
    /// Utterances read by the parser alone because the model's answer was unusable; each cost
    /// the agent one turn.
    pub fn fallbacks(&self) -> u64 {
        self.invalid + self.errors
    }
    /// Fraction of calls whose answer was unusable (0 when there were no calls).
    pub fn fallback_rate(&self) -> f64 {
        if self.calls == 0 { 0.0 } else { self.fallbacks() as f64 / self.calls as f64 }
    }
}

/// The model side of [`Understanding::Llm`], with what it needs per catalog.
pub(crate) struct LlmReader {
    backend: Box<dyn ChatBackend>,
    schema: Value,
    system: String,
    pub(crate) stats: LlmStats,
}

impl fmt::Debug for LlmReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmReader").field("backend", &self.describe()).field("stats", &self.stats).finish()
    }
}

impl LlmReader {
    pub(crate) fn new(catalog: &Catalog, backend: Box<dyn ChatBackend>) -> Self {
        Self { backend, schema: schema(catalog), system: system_prompt(catalog), stats: LlmStats::default() }
    }

    pub(crate) fn into_backend(self) -> Box<dyn ChatBackend> {
        self.backend
    }

    pub(crate) fn describe(&self) -> String {
        self.backend.describe()
    }

    /// Asks the model to read `text` (an answer to `last`); `Err` says why the answer cannot be
    /// used, and has been counted.
    pub(crate) fn read(
        &mut self,
        catalog: &Catalog,
        last: Option<&Action>,
        text: &str,
    ) -> Result<Reading, String> {
        self.stats.calls += 1;
        let question = last.map_or_else(|| "(none yet)".to_string(), ToString::to_string);
        let request = JsonRequest {
            system: self.system.clone(),
            user: format!("Robot's last question: {question}\nOperator: {text}"),
            schema_name: SCHEMA_NAME.into(),
            schema: self.schema.clone(),
            max_tokens: 160,
            seed: 0,
        };
        let value = self.backend.complete_json(&request).map_err(|e| {
            match e {
                LlmError::BadAnswer { .. } => self.stats.invalid += 1,
                _ => self.stats.errors += 1,
            }
            e.to_string()
        })?;
        tracing::debug!(operator = text, %value, "model reading");
        validate(catalog, &value).map_err(|e| {
            self.stats.invalid += 1;
            format!("{e}, in {}", short(&value.to_string()))
        })
    }
}

/// The JSON schema of an answer for this catalog.
pub fn schema(catalog: &Catalog) -> Value {
    let attributes: Vec<&str> = Attribute::ALL.iter().map(|a| a.name()).collect();
    let mut values: Vec<&str> = Attribute::ALL.iter().flat_map(|&a| catalog.all_values(a)).collect();
    values.sort_unstable();
    values.dedup();
    let ids: Vec<&str> = catalog.entries().iter().map(|e| e.id().as_str()).collect();
    json!({
        "type": "object",
        "properties": {
            "stop": {"type": "boolean"},
            "answer": {"type": "string", "enum": ["yes", "no", "none"]},
            "constraints": {
                "type": "array",
                "maxItems": MAX_CONSTRAINTS,
                "items": {
                    "type": "object",
                    "properties": {
                        "attribute": {"type": "string", "enum": attributes},
                        "value": {"type": "string", "enum": values},
                        "negated": {"type": "boolean"},
                    },
                    "required": ["attribute", "value", "negated"],
                    "additionalProperties": false,
                },
            },
            "waypoints": {"type": "array", "maxItems": MAX_WAYPOINTS, "items": {"type": "string", "enum": ids}},
        },
        "required": ["stop", "answer", "constraints", "waypoints"],
        "additionalProperties": false,
    })
}

/// The rules and the catalog, as the system message.
pub fn system_prompt(catalog: &Catalog) -> String {
    let mut s = String::from(
        "You read what a robot operator says and fill in a JSON form. The operator wants the robot \
         to drive to one of these waypoints:\n",
    );
    for e in catalog.entries() {
        let attrs: Vec<String> = Attribute::ALL
            .iter()
            .filter(|&&a| !e.attr(a).is_empty())
            .map(|&a| format!("{a}={}", e.attr(a)))
            .collect();
        s.push_str(&format!("- {}: {}", e.id(), attrs.join(", ")));
        if !e.aliases().is_empty() {
            s.push_str(&format!(" (also called: {})", e.aliases().join(", ")));
        }
        s.push('\n');
    }
    s.push_str(
        "Fields: \"stop\": true only if the operator says stop, cancel, abort or never mind. \
         \"answer\": \"yes\" or \"no\" if the operator answers the robot's question with yes or no, \
         else \"none\". \"constraints\": each attribute value the operator mentions, with \
         \"negated\": true when they say it is NOT that. \"waypoints\": ids the operator names \
         directly. Use only the ids and values listed above; leave lists empty when nothing \
         matches. Never invent anything else.",
    );
    s
}

/// Checks a model answer against the schema and the catalog, and turns it into a reading.
pub fn validate(catalog: &Catalog, value: &Value) -> Result<Reading, String> {
    let obj = value.as_object().ok_or("the answer is not a JSON object")?;
    expect_keys(obj, &["stop", "answer", "constraints", "waypoints"], "the answer")?;
    let stop = obj["stop"].as_bool().ok_or("\"stop\" is not a boolean")?;
    let (yes, no) = match obj["answer"].as_str() {
        Some("yes") => (true, false),
        Some("no") => (false, true),
        Some("none") => (false, false),
        _ => return Err("\"answer\" is not one of \"yes\", \"no\", \"none\"".into()),
    };
    let items = obj["constraints"].as_array().ok_or("\"constraints\" is not an array")?;
    if items.len() > MAX_CONSTRAINTS {
        return Err(format!("{} constraints, at most {MAX_CONSTRAINTS}", items.len()));
    }
    let mut constraints = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let c = item.as_object().ok_or_else(|| format!("constraints[{i}] is not an object"))?;
        expect_keys(c, &["attribute", "value", "negated"], &format!("constraints[{i}]"))?;
        let name =
            c["attribute"].as_str().ok_or_else(|| format!("constraints[{i}].attribute is not a string"))?;
        let attribute = Attribute::from_name(name).ok_or_else(|| format!("unknown attribute {name:?}"))?;
        let raw = c["value"].as_str().ok_or_else(|| format!("constraints[{i}].value is not a string"))?;
        let v = super::parser::normalise(raw);
        if !catalog.all_values(attribute).contains(&v.as_str()) {
            return Err(format!("{raw:?} is not a {attribute} of any waypoint"));
        }
        let negated =
            c["negated"].as_bool().ok_or_else(|| format!("constraints[{i}].negated is not a boolean"))?;
        let k = Constraint { subject: Subject::Attr(attribute, v), negated };
        if !constraints.contains(&k) {
            constraints.push(k);
        }
    }
    let ids = obj["waypoints"].as_array().ok_or("\"waypoints\" is not an array")?;
    if ids.len() > MAX_WAYPOINTS {
        return Err(format!("{} waypoints, at most {MAX_WAYPOINTS}", ids.len()));
    }
    let mut named = Vec::new();
    for id in ids {
        let id = id.as_str().ok_or("a waypoint id is not a string")?;
        let w = catalog.find(id).ok_or_else(|| format!("unknown waypoint id {id:?}"))?;
        if !named.contains(&w) {
            named.push(w);
        }
    }
    if !named.is_empty() {
        named.sort_unstable();
        constraints.push(Constraint { subject: Subject::Waypoints(named), negated: false });
    }
    Ok(Reading { stop, yes, no, constraints, unknown: Vec::new() })
}

/// The first characters of an answer, for messages.
fn short(text: &str) -> String {
    let mut out: String = text.chars().take(160).collect();
    if text.chars().count() > 160 {
        out.push('…');
    }
    out
}

fn expect_keys(obj: &Map<String, Value>, keys: &[&str], what: &str) -> Result<(), String> {
    if let Some(missing) = keys.iter().find(|k| !obj.contains_key(**k)) {
        return Err(format!("{what} has no {missing:?}"));
    }
    if let Some(extra) = obj.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(format!("{what} has an unknown field {extra:?}"));
    }
    Ok(())
}

/// The reading the agent acts on, from the parser's and the model's.
pub fn merge(parser: Reading, llm: Reading, last: Option<&Action>) -> Reading {
    let mut r = parser;
    if llm.stop && !r.stop {
        tracing::debug!("the model read a stop the parser did not hear; not acted on");
    }
    // A confirmation's yes/no is the parser's alone (the model must not make a commit's "yes");
    // for other questions the model's answer counts when the parser understood nothing.
    let parser_empty = !r.yes && !r.no && r.constraints.is_empty();
    if parser_empty && !matches!(last, Some(Action::Confirm { .. })) {
        r.yes = llm.yes;
        r.no = llm.no;
    }
    for c in llm.constraints {
        if !r.constraints.contains(&c) {
            r.constraints.push(c);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::Targets;
    use crate::agents::parser::Parser;
    use crate::agents::tests_support::yard;

    fn catalog() -> Catalog {
        Catalog::new(&yard(), Targets::Goals).unwrap()
    }

    #[test]
    fn a_valid_answer_becomes_a_reading() {
        let c = catalog();
        let v = json!({"stop": false, "answer": "none", "waypoints": ["shed_pond"],
            "constraints": [{"attribute": "colour", "value": "green", "negated": false},
                            {"attribute": "landmark", "value": "pond", "negated": true}]});
        let r = validate(&c, &v).unwrap();
        assert!(!r.stop && r.answer().is_none());
        assert_eq!(r.constraints.len(), 3);
        assert_eq!(r.constraints[0].subject, Subject::Attr(Attribute::Colour, "green".into()));
        assert!(r.constraints[1].negated);
        assert_eq!(r.constraints[2].subject, Subject::Waypoints(vec![c.find("shed_pond").unwrap()]));
    }

    #[test]
    fn invalid_answers_are_named() {
        let c = catalog();
        let ok = json!({"stop": false, "answer": "none", "constraints": [], "waypoints": []});
        assert!(validate(&c, &ok).is_ok());
        let cases = [
            (json!([1, 2]), "not a JSON object"),
            (json!({"stop": false, "answer": "none", "constraints": []}), "no \"waypoints\""),
            (
                json!({"stop": false, "answer": "none", "constraints": [], "waypoints": [], "speed_mps": 10}),
                "speed_mps",
            ),
            (json!({"stop": "no", "answer": "none", "constraints": [], "waypoints": []}), "stop"),
            (json!({"stop": false, "answer": "maybe", "constraints": [], "waypoints": []}), "answer"),
            (
                json!({"stop": false, "answer": "none", "constraints": [], "waypoints": ["the_pond"]}),
                "the_pond",
            ),
            (
                json!({"stop": false, "answer": "none", "waypoints": [],
                    "constraints": [{"attribute": "colour", "value": "pond", "negated": false}]}),
                "not a colour",
            ),
            (
                json!({"stop": false, "answer": "none", "waypoints": [],
                    "constraints": [{"attribute": "speed", "value": "fast", "negated": false}]}),
                "unknown attribute",
            ),
        ];
        for (v, says) in cases {
            let e = validate(&c, &v).unwrap_err();
            assert!(e.contains(says), "{v}: {e}");
        }
    }

    #[test]
    fn the_parser_keeps_stop_and_confirmation_answers() {
        let c = catalog();
        let p = Parser::new(&c);
        let confirm = Action::Confirm { waypoint: c.entries()[c.find("shed_pond").unwrap()].id().clone() };
        let llm_yes = Reading { yes: true, ..Reading::default() };
        // The model's "yes" never answers a confirmation.
        let r = merge(p.read("drive into the pond"), llm_yes.clone(), Some(&confirm));
        assert_eq!(r.answer(), None);
        // It may answer an attribute question the parser could not read.
        let ask = Action::Ask { attribute: Attribute::Colour, value: "green".into() };
        assert_eq!(merge(p.read("mhm"), llm_yes, Some(&ask)).answer(), Some(true));
        // A parser stop survives a model that says otherwise; the model alone does not stop.
        assert!(merge(p.read("cancel"), Reading::default(), None).stop);
        let llm_stop = Reading { stop: true, ..Reading::default() };
        assert!(!merge(p.read("the green shed"), llm_stop, None).stop);
        // Model constraints are added once.
        let green = Constraint { subject: Subject::Attr(Attribute::Colour, "green".into()), negated: false };
        let r =
            merge(p.read("the green shed"), Reading { constraints: vec![green], ..Reading::default() }, None);
        assert_eq!(r.constraints.len(), 2, "{r:?}");
    }

    #[test]
    fn the_schema_lists_only_catalog_names() {
        let c = catalog();
        let s = schema(&c);
        let ids = s.pointer("/properties/waypoints/items/enum").unwrap().as_array().unwrap();
        assert_eq!(ids.len(), c.entries().len());
        let values = s.pointer("/properties/constraints/items/properties/value/enum").unwrap();
        assert!(values.as_array().unwrap().contains(&json!("rail siding")));
        assert!(system_prompt(&c).contains("shed_pond: zone=east, kind=shed, colour=green, landmark=pond"));
    }
}
