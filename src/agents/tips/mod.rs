//! The introspective-tips planner (after Chen et al. 2023, "Introspective Tips"): short,
//! reusable tips learned from past missions steer the choice among *certified* routes.
//!
//! Data flow: mission reports (`missions.jsonl`, [`read_missions`], or reports in memory) become
//! [`MissionRecord`]s — the robot's own missions and expert demonstrations (recorded successful
//! missions). [`TipsPlanner`] introspects them deterministically ([`introspect`]): per subtask and
//! condition tag for its own experience, per path [`Feature`] pooled across scenario variants for
//! merged tips that transfer to unseen variants. A [`TipRewriter`] may then reword the texts (the
//! LLM hook; the default keeps the deterministic words), and the set becomes a new version of the
//! bounded, versioned [`TipStore`] — or is refused, keeping the previous version, when it fails
//! [`TipCheck`]. [`TipsPlanner::preference`] turns the current tips into a
//! [`RoutePreference`] for the mission executive, which only reorders certified routes: a tip
//! can never put the robot on a route the certificate lacks, and retrain requests are reported,
//! not acted on.

mod features;
pub mod introspect;
mod record;
mod rewrite;
mod store;

pub use features::{CLEARANCE_M, Feature, Features, LOW_FRICTION, STEEP_GRADE};
pub use introspect::IntrospectConfig;
pub use record::{Attempt, MissionRecord, Source, read_missions};
pub use rewrite::LlmRewriter;
pub use store::{
    Action, HISTORY, MAX_CHARS, MAX_WORDS, Rule, Scope, Support, Tip, TipCheck, TipStore, Version,
};

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::bundle::Deployment;
use crate::bundle::deployment::{PreferenceError, RoutePreference};
use crate::scenario::Scenario;

/// Why the tips planner could not read, update or apply tips.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TipsError {
    /// A file could not be read or written.
    #[error("{}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A line of `missions.jsonl` is not a mission report.
    #[error("{}: line {line}: not a mission report: {message}", file.display())]
    MissionLine {
        /// The file.
        file: PathBuf,
        /// Line number, from 1.
        line: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// A tip store file is malformed or holds invalid tips.
    #[error("{}: tip store: {message}", file.display())]
    StoreFile {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An update holds more tips than the store's capacity.
    #[error("tip update refused: {count} tips, the store holds at most {capacity}")]
    TooManyTips {
        /// Tips proposed.
        count: usize,
        /// Capacity.
        capacity: usize,
    },
    /// A tip of an update is invalid.
    #[error("tip update refused: tip {index}: {reason}")]
    InvalidTip {
        /// Index in the update.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// Rollback of a store that has no earlier version.
    #[error("tip store: no earlier version to roll back to")]
    NoEarlierVersion,
    /// The rewriter broke its contract (an answer that is not a tip).
    #[error("tip rewriter: {message}")]
    Rewriter {
        /// What went wrong.
        message: String,
    },
    /// The rewriter's language model failed.
    #[error("tip rewriter: {0}")]
    Llm(#[from] crate::llm::LlmError),
    /// The tips do not fit the deployment's scenario.
    #[error(transparent)]
    Preference(#[from] PreferenceError),
}

/// Rewords tips (the LLM hook): it returns one new text per tip and cannot touch the rules; the
/// new texts are checked like any update (word limit), and a failure keeps the previous version.
pub trait TipRewriter: fmt::Debug + Send + Sync {
    /// New texts for `tips`, in order.
    fn rewrite(&self, tips: &[Tip]) -> Result<Vec<String>, TipsError>;
}

/// The deterministic default: keeps the introspection's own words.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainText;

impl TipRewriter for PlainText {
    fn rewrite(&self, tips: &[Tip]) -> Result<Vec<String>, TipsError> {
        Ok(tips.iter().map(|t| t.text.clone()).collect())
    }
}

/// The planner (module documentation).
#[derive(Debug)]
pub struct TipsPlanner {
    deployment: Arc<Deployment>,
    check: TipCheck,
    config: IntrospectConfig,
    worlds: BTreeMap<String, Features>,
    rewriter: Box<dyn TipRewriter>,
}

impl TipsPlanner {
    /// A planner for `deployment`'s certified routes, knowing the certified world's features.
    pub fn new(deployment: Arc<Deployment>, config: IntrospectConfig) -> TipsPlanner {
        let mut worlds = BTreeMap::new();
        worlds.insert(String::new(), Features::of(deployment.bundle().scenario()));
        let check = TipCheck::new(&deployment);
        TipsPlanner { deployment, check, config, worlds, rewriter: Box::new(PlainText) }
    }

    /// Uses `rewriter` for the tip texts.
    pub fn with_rewriter(mut self, rewriter: Box<dyn TipRewriter>) -> TipsPlanner {
        self.rewriter = rewriter;
        self
    }

    /// Learns a variant's world (an overlay of the certified scenario), so that merged tips can
    /// count its features and preferences can apply feature tips in it.
    pub fn add_variant(&mut self, name: &str, world: &Scenario) {
        self.worlds.insert(name.to_string(), Features::of(world));
    }

    /// The settings.
    pub fn config(&self) -> &IntrospectConfig {
        &self.config
    }

    /// What updates are checked against.
    pub fn check(&self) -> &TipCheck {
        &self.check
    }

    /// An empty store of this planner's capacity.
    pub fn empty_store(&self) -> TipStore {
        TipStore::new(self.config.capacity)
    }

    /// Subtask tips from `records` (own missions and expert demonstrations).
    pub fn own_tips(&self, records: &[MissionRecord]) -> Vec<Tip> {
        introspect::subtask_tips(&self.deployment, records, &self.config)
    }

    /// Feature tips merged across the variants of `records`.
    pub fn merged_tips(&self, records: &[MissionRecord]) -> Vec<Tip> {
        introspect::feature_tips(&self.worlds, records, &self.config)
    }

    /// Rewords `tips` with the rewriter and proposes them to `store`. Reworded tips that fail
    /// (a rewriter error, or texts the store refuses) fall back to the deterministic words; a set
    /// the store refuses either way keeps the store's version.
    pub fn update(&self, store: &mut TipStore, tips: Vec<Tip>) -> Result<u64, TipsError> {
        let reworded = self.rewriter.rewrite(&tips).and_then(|texts| {
            if texts.len() != tips.len() {
                let message = format!("returned {} texts for {} tips", texts.len(), tips.len());
                return Err(TipsError::Rewriter { message });
            }
            let mut out = tips.clone();
            for (t, text) in out.iter_mut().zip(texts) {
                t.text = text;
            }
            store.propose(out, &self.check)
        });
        match reworded {
            Ok(version) => Ok(version),
            Err(e) => {
                tracing::warn!("tip texts kept deterministic: {e}");
                store.propose(tips, &self.check)
            }
        }
    }

    /// The route preference of `tips` in a world: avoid tips that apply under `conditions` give
    /// a penalty of 1 to their subtask, or to every subtask with their feature in `variant`'s
    /// world (the certified world when `None` or unknown).
    pub fn preference(
        &self,
        tips: &[Tip],
        variant: Option<&str>,
        conditions: &[String],
    ) -> Result<RoutePreference, TipsError> {
        let scenario = self.deployment.bundle().scenario();
        let features = variant.and_then(|v| self.worlds.get(v)).unwrap_or(&self.worlds[""]);
        let mut penalties: Vec<(&str, f64)> = Vec::new();
        for tip in tips.iter().filter(|t| t.rule.action == Action::Avoid && t.rule.applies(conditions)) {
            match &tip.rule.scope {
                Scope::Subtask(id) => penalties.push((id.as_str(), 1.0)),
                Scope::Feature(f) => penalties.extend(
                    scenario
                        .subtasks()
                        .iter()
                        .map(|s| s.id().as_str())
                        .filter(|id| features.has(id, *f))
                        .map(|id| (id, 1.0)),
                ),
            }
        }
        Ok(RoutePreference::new(scenario, penalties)?)
    }
}
