//! Tips and the bounded, versioned tip store.
//!
//! A [`Tip`] is a machine-readable [`Rule`] plus a short text for people (at most
//! [`MAX_WORDS`] words). The [`TipStore`] holds at most `capacity` tips under a version number
//! and keeps the previous versions (up to [`HISTORY`]) for [`TipStore::rollback`]. An update
//! ([`TipStore::propose`]) is checked against the deployment ([`TipCheck`]): unknown subtasks,
//! subtasks no certified route uses, too many tips, duplicate rules and over-long texts are
//! refused, and the store keeps its previous version. [`TipStore::save`] writes atomically, so
//! a refused or interrupted update never changes the file on disk.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::TipsError;
use super::features::Feature;
use crate::bundle::Deployment;

/// Longest tip text, in words.
pub const MAX_WORDS: usize = 25;
/// Longest tip text, in characters.
pub const MAX_CHARS: usize = 200;
/// Previous versions kept for rollback.
pub const HISTORY: usize = 16;

/// What a rule is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Scope {
    /// One subtask, by id.
    Subtask(String),
    /// Every subtask whose path has the feature (in the world at hand).
    Feature(Feature),
}

/// What a rule asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Prefer certified routes without it (a penalty; never a route the certificate lacks).
    Avoid,
    /// Ask for the subtask to be retrained (a request to the operator; changes no route).
    Retrain,
}

/// The machine-readable part of a tip.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// What it asks for.
    pub action: Action,
    /// What it is about.
    pub scope: Scope,
    /// Only under this condition tag (`rain`, ...); none: always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

impl Rule {
    /// Whether the rule holds under `conditions`.
    pub fn applies(&self, conditions: &[String]) -> bool {
        self.condition.as_ref().is_none_or(|c| conditions.contains(c))
    }
}

/// The evidence behind a tip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Support {
    /// Subtask attempts counted.
    pub attempts: u64,
    /// Of which failed.
    pub failures: u64,
}

/// A rule and its words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tip {
    /// The rule.
    pub rule: Rule,
    /// For people (at most [`MAX_WORDS`] words).
    pub text: String,
    /// The evidence.
    pub support: Support,
    /// The variants the evidence came from.
    #[serde(default)]
    pub variants: Vec<String>,
}

/// What an update is checked against: the scenario's subtasks and those certified routes use.
#[derive(Debug, Clone, PartialEq)]
pub struct TipCheck {
    subtasks: BTreeSet<String>,
    certified: BTreeSet<String>,
}

impl TipCheck {
    /// From a deployment: its scenario's subtasks and the subtasks on its certified routes.
    pub fn new(deployment: &Deployment) -> TipCheck {
        let scenario = deployment.bundle().scenario();
        let subtasks = scenario.subtasks().iter().map(|s| s.id().to_string()).collect();
        let mut certified = BTreeSet::new();
        for goal in scenario.goals() {
            for r in deployment.routes(goal.as_str()).unwrap_or(&[]) {
                certified.extend(r.subtasks.iter().map(|&a| scenario.subtasks()[a].id().to_string()));
            }
        }
        TipCheck { subtasks, certified }
    }

    /// Checks a whole tip set of at most `capacity` tips.
    pub fn check(&self, tips: &[Tip], capacity: usize) -> Result<(), TipsError> {
        let invalid = |index: usize, reason: String| Err(TipsError::InvalidTip { index, reason });
        if tips.len() > capacity {
            return Err(TipsError::TooManyTips { count: tips.len(), capacity });
        }
        let mut seen = BTreeSet::new();
        for (i, tip) in tips.iter().enumerate() {
            let words = tip.text.split_whitespace().count();
            if words == 0 || words > MAX_WORDS || tip.text.chars().count() > MAX_CHARS {
                return invalid(
                    i,
                    format!(
                        "text must have 1 to {MAX_WORDS} words and at most {MAX_CHARS} characters (got {words} words)"
                    ),
                );
            }
            if let Scope::Subtask(id) = &tip.rule.scope {
                if !self.subtasks.contains(id) {
                    return invalid(i, format!("subtask `{id}` is not in the scenario"));
                }
                if !self.certified.contains(id) {
                    return invalid(
                        i,
                        format!("subtask `{id}` is on no certified route: a tip cannot bring it into play"),
                    );
                }
            }
            if tip.rule.action == Action::Retrain && !matches!(tip.rule.scope, Scope::Subtask(_)) {
                return invalid(i, "a retrain request names one subtask".into());
            }
            if let Some(c) = &tip.rule.condition
                && (c.is_empty()
                    || !c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
            {
                return invalid(i, format!("condition `{c}` must be lower-case letters, digits and `_`"));
            }
            if tip.support.failures > tip.support.attempts {
                return invalid(i, "support: more failures than attempts".into());
            }
            if !seen.insert(&tip.rule) {
                return invalid(i, "the same rule twice".into());
            }
        }
        Ok(())
    }
}

/// One version of the tip set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Version {
    /// Version number (0: the empty store).
    pub version: u64,
    /// The tips.
    pub tips: Vec<Tip>,
}

/// The tip store (module documentation). As a JSON file: `{capacity, current, history}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TipStore {
    capacity: usize,
    current: Version,
    history: Vec<Version>,
}

impl TipStore {
    /// An empty store (version 0) for at most `capacity` tips.
    pub fn new(capacity: usize) -> TipStore {
        TipStore { capacity, current: Version { version: 0, tips: Vec::new() }, history: Vec::new() }
    }

    /// The current version number.
    pub fn version(&self) -> u64 {
        self.current.version
    }
    /// The current tips.
    pub fn tips(&self) -> &[Tip] {
        &self.current.tips
    }
    /// Most tips a version may hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    /// Earlier versions, oldest first.
    pub fn history(&self) -> &[Version] {
        &self.history
    }

    /// Replaces the tips with `tips` as a new version, if they pass `check`; otherwise refuses
    /// and keeps the current version. An identical set is no new version.
    pub fn propose(&mut self, tips: Vec<Tip>, check: &TipCheck) -> Result<u64, TipsError> {
        check.check(&tips, self.capacity)?;
        if tips == self.current.tips {
            return Ok(self.current.version);
        }
        let next = Version { version: self.current.version + 1, tips };
        self.history.push(std::mem::replace(&mut self.current, next));
        if self.history.len() > HISTORY {
            self.history.remove(0);
        }
        Ok(self.current.version)
    }

    /// Goes back to the previous version (its number too); refuses when there is none.
    pub fn rollback(&mut self) -> Result<u64, TipsError> {
        let previous = self.history.pop().ok_or(TipsError::NoEarlierVersion)?;
        self.current = previous;
        Ok(self.current.version)
    }

    /// Reads a store file and checks its current version against `check`.
    pub fn load(path: &Path, check: &TipCheck) -> Result<TipStore, TipsError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| TipsError::Io { file: path.into(), source })?;
        let store: TipStore = serde_json::from_str(&text)
            .map_err(|e| TipsError::StoreFile { file: path.into(), message: e.to_string() })?;
        check
            .check(&store.current.tips, store.capacity)
            .map_err(|e| TipsError::StoreFile { file: path.into(), message: e.to_string() })?;
        Ok(store)
    }

    /// Writes the store atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<(), TipsError> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| TipsError::StoreFile { file: path.into(), message: e.to_string() })?;
        crate::files::write_atomic(path, format!("{text}\n").as_bytes())
            .map_err(|source| TipsError::Io { file: path.into(), source })
    }

    /// Loads the store at `path` (a new one when the file does not exist), proposes `tips` and
    /// saves it. A refused update leaves the file as it was.
    pub fn update_file(
        path: &Path,
        capacity: usize,
        tips: Vec<Tip>,
        check: &TipCheck,
    ) -> Result<u64, TipsError> {
        let mut store = if path.exists() { TipStore::load(path, check)? } else { TipStore::new(capacity) };
        let version = store.propose(tips, check)?;
        store.save(path)?;
        Ok(version)
    }
}
