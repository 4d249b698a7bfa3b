//! Language agents; today the deterministic core of the goal-directed dialogue agent.
//!
//! Data flow: a [`Catalog`] is built once from a [`Scenario`] (every
//! waypoint with its four [`Attribute`]s and aliases, plus the *targets*: the waypoints a goal may
//! be). The [`parser::Parser`] turns operator text into a [`parser::Reading`] (stop, yes/no,
//! attribute constraints, waypoint mentions, words it did not understand). The
//! [`dialogue::DialogueAgent`] keeps a Bayesian belief over the targets, updates it from each
//! reading and replies with one [`Action`]: a question, a confirmation request, a commit to a
//! waypoint, or stop. With an [`Understanding::Llm`] a language model reads each utterance too,
//! through a JSON schema built from the catalog; its answer is re-validated and merged with the
//! parser's reading ([`understanding`]), and an unusable answer costs a turn. The
//! [`waypoint_game::WaypointGame`] is an LMRL-Gym-shaped text environment
//! (Guess-the-Waypoint) with a simulated, noisy operator; [`baselines`] holds the random-question
//! baseline and the exact optimal questioner; [`learned`] trains a small PPO move policy inside
//! the same protocol; [`episodes`] runs episodes and computes the LMRL-Gym normalised score.
//!
//! [`tips`] is the introspective-tips planner: it learns short tips from mission outcomes that
//! reorder the certified routes the mission executive may drive.
//!
//! Safety by construction: an [`Action`] can only name a waypoint through a [`WaypointId`] cloned
//! from the catalog (ids cannot be built from text outside the scenario module), and it has no
//! variant for speeds, limits or anything else: whatever the operator types, the agent's output is
//! a question, a waypoint id or stop.

mod action;
pub mod baselines;
pub mod dialogue;
pub mod episodes;
mod error;
pub mod learned;
pub mod parser;
pub mod tips;
pub mod understanding;
pub mod waypoint_game;

pub use action::Action;
pub use error::AgentError;
pub use understanding::{LlmStats, Understanding};

use crate::scenario::{Scenario, WaypointId};
use std::fmt;

/// A property of a waypoint the agent can ask about. The order of [`Attribute::ALL`] is the
/// fixed tie-break order of question selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Attribute {
    /// Site zone ("east").
    Zone,
    /// What it is ("shed").
    Kind,
    /// Colour ("green").
    Colour,
    /// Nearby landmark ("pond").
    Landmark,
}

impl Attribute {
    /// Every attribute, in tie-break order.
    pub const ALL: [Attribute; 4] =
        [Attribute::Zone, Attribute::Kind, Attribute::Colour, Attribute::Landmark];

    /// Name as written in questions and in the scenario file.
    pub fn name(self) -> &'static str {
        match self {
            Attribute::Zone => "zone",
            Attribute::Kind => "kind",
            Attribute::Colour => "colour",
            Attribute::Landmark => "landmark",
        }
    }

    /// Index into per-waypoint attribute arrays.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The attribute with this name (`color` accepted too).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "zone" => Some(Attribute::Zone),
            "kind" => Some(Attribute::Kind),
            "colour" | "color" => Some(Attribute::Colour),
            "landmark" => Some(Attribute::Landmark),
            _ => None,
        }
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which waypoints the hidden goal (and so the agent's belief) ranges over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Targets {
    /// The scenario's HLM goals (default): only goals have certified routes, so only they can be
    /// a mission goal, and the scenario makes the confusable waypoints (two sheds, two docks)
    /// goals on purpose (DESIGN §9).
    #[default]
    Goals,
    /// Every named waypoint: a harder game, for evaluation only.
    All,
}

/// One waypoint as the agents see it.
#[derive(Debug, Clone)]
pub struct Entry {
    id: WaypointId,
    /// Normalised attribute values, indexed by [`Attribute::index`].
    attrs: [String; 4],
    aliases: Vec<String>,
}

impl Entry {
    /// Id.
    pub fn id(&self) -> &WaypointId {
        &self.id
    }
    /// Normalised value of an attribute (lower case, single spaces; may be empty).
    pub fn attr(&self, a: Attribute) -> &str {
        &self.attrs[a.index()]
    }
    /// Normalised aliases.
    pub fn aliases(&self) -> &[String] {
        &self.aliases
    }
}

/// The waypoints of a scenario and the targets of the dialogue, with attribute values normalised
/// the way the parser normalises text.
#[derive(Debug, Clone)]
pub struct Catalog {
    entries: Vec<Entry>,
    targets: Vec<usize>,
}

impl Catalog {
    /// Builds the catalog; fails if the target set is empty.
    pub fn new(scenario: &Scenario, set: Targets) -> Result<Self, AgentError> {
        let entries: Vec<Entry> = scenario
            .waypoints()
            .iter()
            .map(|w| Entry {
                id: w.id().clone(),
                attrs: [w.zone(), w.kind(), w.colour(), w.landmark()].map(parser::normalise),
                aliases: w.aliases().iter().map(|a| parser::normalise(a)).collect(),
            })
            .collect();
        let targets: Vec<usize> = match set {
            Targets::All => (0..entries.len()).collect(),
            Targets::Goals => entries
                .iter()
                .enumerate()
                .filter(|(_, e)| scenario.goals().contains(&e.id))
                .map(|(i, _)| i)
                .collect(),
        };
        if targets.is_empty() {
            return Err(AgentError::NoTargets { targets: format!("{set:?}") });
        }
        Ok(Self { entries, targets })
    }

    /// Keeps only the targets `keep` accepts (e.g. the goals a deployment has certified
    /// routes to); fails if none is left.
    pub fn retain_targets(&mut self, keep: impl Fn(&WaypointId) -> bool) -> Result<(), AgentError> {
        let entries = &self.entries;
        self.targets.retain(|&i| keep(&entries[i].id));
        if self.targets.is_empty() {
            return Err(AgentError::NoTargets { targets: "certified goals".into() });
        }
        Ok(())
    }

    /// Every waypoint of the scenario.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
    /// Indices (into [`Catalog::entries`]) of the waypoints the goal may be.
    pub fn targets(&self) -> &[usize] {
        &self.targets
    }
    /// The entry of a waypoint id.
    pub fn find(&self, id: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.id.as_str() == id)
    }
    /// Distinct non-empty values of an attribute over the targets, sorted (the answer space of a
    /// which-question).
    pub fn target_values(&self, a: Attribute) -> Vec<&str> {
        let mut v: Vec<&str> =
            self.targets.iter().map(|&i| self.entries[i].attr(a)).filter(|s| !s.is_empty()).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
    /// Distinct non-empty values of an attribute over all waypoints, sorted.
    pub fn all_values(&self, a: Attribute) -> Vec<&str> {
        let mut v: Vec<&str> = self.entries.iter().map(|e| e.attr(a)).filter(|s| !s.is_empty()).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use crate::scenario::Scenario;
    use std::path::Path;

    /// The shipped yard scenario.
    pub fn yard() -> Scenario {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/warthog_yard/scenario.yaml");
        Scenario::load(&path).expect("the yard scenario loads")
    }
}
