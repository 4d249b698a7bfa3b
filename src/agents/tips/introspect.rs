//! Deterministic statistical introspection: mission records → tips.
//!
//! Subtask tips (own experience, with expert demonstrations as extra evidence): per condition
//! tag and subtask, the failures over attempts with a one-sided Wilson bound. "Avoid X (under
//! C)" when X's failure rate is above, with confidence, both [`IntrospectConfig::clear_failure`]
//! or the failure bound of a certified alternative route that avoids X, whichever is lower, so
//! evidence that an alternative works (an expert's successful missions) lets the planner decide
//! after fewer failures. "Retrain X" when X keeps failing.
//!
//! Merged tips (across variants): per condition tag and [`Feature`], the attempts on subtasks
//! with the feature against those without it, pooled over every variant; "under C avoid
//! subtasks whose path has F" when the first fail clearly more. They name no subtask, so they
//! apply zero-shot to variants where other subtasks have the feature.

use std::collections::{BTreeMap, BTreeSet};

use verification::{Sides, wilson};

use super::features::{Feature, Features};
use super::record::{MissionRecord, Source};
use super::store::{Action, Rule, Scope, Support, Tip};
use crate::runtime::Deployment;

/// Thresholds of the introspection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntrospectConfig {
    /// Confidence of the one-sided Wilson bounds.
    pub confidence: f64,
    /// A failure rate above this (with confidence) is "clearly failing" even without evidence
    /// about the alternative.
    pub clear_failure: f64,
    /// A feature must make subtasks fail at least this often (with confidence) to become a tip.
    pub feature_failure: f64,
    /// A retrain request needs at least this many failures, and a failure rate above 1/2 with
    /// confidence.
    pub retrain_failures: u64,
    /// Most tips per store version.
    pub capacity: usize,
}

impl Default for IntrospectConfig {
    fn default() -> Self {
        IntrospectConfig {
            confidence: 0.95,
            clear_failure: 0.3,
            feature_failure: 0.3,
            retrain_failures: 3,
            capacity: 8,
        }
    }
}

fn lower(s: Support, confidence: f64) -> f64 {
    wilson(s.failures, s.attempts, confidence, Sides::Lower).map_or(0.0, |i| i.lower)
}

fn upper(s: Support, confidence: f64) -> f64 {
    wilson(s.failures, s.attempts, confidence, Sides::Upper).map_or(1.0, |i| i.upper)
}

fn add(s: &mut Support, success: bool) {
    s.attempts += 1;
    s.failures += u64::from(!success);
}

/// The condition keys a record counts under: each of its tags, or none.
fn keys(r: &MissionRecord) -> Vec<Option<String>> {
    if r.conditions.is_empty() { vec![None] } else { r.conditions.iter().cloned().map(Some).collect() }
}

/// Records that count as evidence: every own mission, expert missions only when successful.
fn evidence(records: &[MissionRecord]) -> impl Iterator<Item = &MissionRecord> {
    records.iter().filter(|r| r.source == Source::Own || r.success)
}

fn prefix(condition: &Option<String>, verb: &str) -> String {
    match condition {
        Some(c) => format!("Under {}, {verb}", c.replace('_', " ")),
        None => {
            let mut v = verb.to_string();
            if let Some(first) = v.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            v
        }
    }
}

type Key = (Option<String>, String);

/// Subtask tips from own missions and expert demonstrations (module documentation).
pub fn subtask_tips(deployment: &Deployment, records: &[MissionRecord], config: &IntrospectConfig) -> Vec<Tip> {
    let scenario = deployment.bundle().scenario();
    let mut stats: BTreeMap<Key, (Support, BTreeSet<String>)> = BTreeMap::new();
    let mut goals: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
    for r in evidence(records) {
        for c in keys(r) {
            for a in &r.attempts {
                let key = (c.clone(), a.subtask.clone());
                let entry = stats.entry(key.clone()).or_default();
                add(&mut entry.0, a.success);
                entry.1.extend(r.variant.clone());
                goals.entry(key).or_default().insert(r.goal.clone());
            }
        }
    }
    let support = |c: &Option<String>, id: &str| stats.get(&(c.clone(), id.to_string())).map(|s| s.0).unwrap_or_default();
    let mut avoid = Vec::new();
    let mut retrain = Vec::new();
    for ((c, id), (s, variants)) in &stats {
        if s.failures == 0 {
            continue;
        }
        let lo = lower(*s, config.confidence);
        // The best certified alternative that avoids this subtask, judged by its worst subtask.
        let mut best_alt: Option<f64> = None;
        for goal in &goals[&(c.clone(), id.clone())] {
            for route in deployment.routes(goal).unwrap_or(&[]) {
                let ids: Vec<&str> = route.subtasks.iter().map(|&a| scenario.subtasks()[a].id().as_str()).collect();
                if ids.contains(&id.as_str()) {
                    continue;
                }
                let worst = ids.iter().map(|t| upper(support(c, t), config.confidence)).fold(0.0, f64::max);
                best_alt = Some(best_alt.map_or(worst, |b: f64| b.min(worst)));
            }
        }
        let variants: Vec<String> = variants.iter().cloned().collect();
        if let Some(alt) = best_alt
            && lo > config.clear_failure.min(alt)
        {
            let text = format!(
                "{} `{id}`: it failed {} of {} attempts; drive a certified route without it.",
                prefix(c, "avoid"),
                s.failures,
                s.attempts
            );
            let rule = Rule { action: Action::Avoid, scope: Scope::Subtask(id.clone()), condition: c.clone() };
            avoid.push((lo, Tip { rule, text, support: *s, variants: variants.clone() }));
        }
        if s.failures >= config.retrain_failures && lo > 0.5 {
            let text = format!(
                "{} `{id}`: it keeps failing ({} of {} attempts).",
                prefix(c, "retrain"),
                s.failures,
                s.attempts
            );
            let rule = Rule { action: Action::Retrain, scope: Scope::Subtask(id.clone()), condition: c.clone() };
            retrain.push((lo, Tip { rule, text, support: *s, variants }));
        }
    }
    rank(avoid, retrain, config.capacity)
}

/// Avoid tips first, each kind strongest first (ties by rule), at most `capacity`.
fn rank(mut avoid: Vec<(f64, Tip)>, mut retrain: Vec<(f64, Tip)>, capacity: usize) -> Vec<Tip> {
    let order = |a: &(f64, Tip), b: &(f64, Tip)| {
        b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.1.rule.cmp(&b.1.rule))
    };
    avoid.sort_by(order);
    retrain.sort_by(order);
    avoid.into_iter().chain(retrain).map(|(_, t)| t).take(capacity).collect()
}

/// Merged feature tips over the variants in `records` (module documentation). `worlds` gives
/// each variant's features (by variant name; the key `""` the certified world's); records of
/// variants it lacks are skipped.
pub fn feature_tips(
    worlds: &BTreeMap<String, Features>,
    records: &[MissionRecord],
    config: &IntrospectConfig,
) -> Vec<Tip> {
    // (condition, feature) → (with, without, variants with a failing featured subtask)
    let mut stats: BTreeMap<(Option<String>, Feature), (Support, Support, BTreeSet<String>)> = BTreeMap::new();
    for r in evidence(records) {
        let name = r.variant.clone().unwrap_or_default();
        let Some(features) = worlds.get(&name) else { continue };
        for c in keys(r) {
            for f in Feature::ALL {
                let entry = stats.entry((c.clone(), f)).or_default();
                for a in &r.attempts {
                    if features.has(&a.subtask, f) {
                        add(&mut entry.0, a.success);
                        if !a.success {
                            entry.2.insert(name.clone());
                        }
                    } else {
                        add(&mut entry.1, a.success);
                    }
                }
            }
        }
    }
    let mut avoid = Vec::new();
    for ((c, f), (with, without, variants)) in stats {
        if with.failures == 0 {
            continue;
        }
        let lo = lower(with, config.confidence);
        if lo > config.feature_failure.max(upper(without, config.confidence)) {
            let text = format!(
                "{} subtasks whose path {}: {} of {} such attempts failed.",
                prefix(&c, "avoid"),
                f.words(),
                with.failures,
                with.attempts
            );
            let rule = Rule { action: Action::Avoid, scope: Scope::Feature(f), condition: c };
            avoid.push((lo, Tip { rule, text, support: with, variants: variants.into_iter().collect() }));
        }
    }
    rank(avoid, Vec::new(), config.capacity)
}
