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
use crate::bundle::Deployment;

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

/// Attempts on subtasks with a feature, on those without it, and the variants whose featured
/// subtasks failed.
type FeatureStats = (Support, Support, BTreeSet<String>);

/// Subtask tips from own missions and expert demonstrations (module documentation).
pub fn subtask_tips(
    deployment: &Deployment,
    records: &[MissionRecord],
    config: &IntrospectConfig,
) -> Vec<Tip> {
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
    let support = |c: &Option<String>, id: &str| {
        stats.get(&(c.clone(), id.to_string())).map(|s| s.0).unwrap_or_default()
    };
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
                let ids: Vec<&str> =
                    route.subtasks.iter().map(|&a| scenario.subtasks()[a].id().as_str()).collect();
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
            let rule =
                Rule { action: Action::Avoid, scope: Scope::Subtask(id.clone()), condition: c.clone() };
            avoid.push((lo, Tip { rule, text, support: *s, variants: variants.clone() }));
        }
        if s.failures >= config.retrain_failures && lo > 0.5 {
            let text = format!(
                "{} `{id}`: it keeps failing ({} of {} attempts).",
                prefix(c, "retrain"),
                s.failures,
                s.attempts
            );
            let rule =
                Rule { action: Action::Retrain, scope: Scope::Subtask(id.clone()), condition: c.clone() };
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
    let mut stats: BTreeMap<(Option<String>, Feature), FeatureStats> = BTreeMap::new();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::tips::record::Attempt;
    use std::path::Path;

    fn deployment() -> Deployment {
        Deployment::open(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/warthog_yard/baseline_bundle"),
            false,
        )
        .expect("certified")
    }

    fn mission(route: &[&str], fails_at: Option<usize>, source: Source) -> MissionRecord {
        let n = fails_at.map_or(route.len(), |k| k + 1);
        MissionRecord {
            goal: "dock_east".into(),
            variant: Some("v".into()),
            conditions: vec!["rain".into()],
            success: fails_at.is_none(),
            attempts: route[..n]
                .iter()
                .enumerate()
                .map(|(i, s)| Attempt { subtask: s.to_string(), success: Some(i) != fails_at })
                .collect(),
            source,
        }
    }

    const A: [&str; 3] = ["depot_to_gate_west", "gate_west_to_crossroads", "crossroads_to_dock_east"];
    const B: [&str; 3] = ["depot_to_dock_south", "dock_south_to_crossroads", "crossroads_to_dock_east"];

    /// Failed missions on route A until a tip says to avoid its failing subtask.
    fn failures_needed(d: &Deployment, experts: usize) -> usize {
        let mut records: Vec<MissionRecord> =
            (0..experts).map(|_| mission(&B, None, Source::Expert)).collect();
        // An expert's failed mission is no demonstration: it must not count.
        records.push(mission(&A, Some(1), Source::Expert));
        for n in 0..20 {
            let tips = subtask_tips(d, &records, &IntrospectConfig::default());
            if tips.iter().any(|t| {
                t.rule.action == Action::Avoid
                    && t.rule.scope == Scope::Subtask("gate_west_to_crossroads".into())
            }) {
                return n;
            }
            records.push(mission(&A, Some(1), Source::Own));
        }
        panic!("no tip after 20 failures");
    }

    #[test]
    fn expert_demonstrations_need_fewer_failures_and_a_working_subtask_gets_no_tip() {
        let d = deployment();
        let own = failures_needed(&d, 0);
        let expert = failures_needed(&d, 8);
        assert_eq!((own, expert), (2, 1));
        // Rare failures never make a tip.
        let mut records: Vec<MissionRecord> = (0..30).map(|_| mission(&A, None, Source::Own)).collect();
        records.push(mission(&A, Some(1), Source::Own));
        assert!(subtask_tips(&d, &records, &IntrospectConfig::default()).is_empty());
    }

    #[test]
    fn a_subtask_that_keeps_failing_gets_a_retrain_request_under_its_condition() {
        let d = deployment();
        let records: Vec<MissionRecord> = (0..4).map(|_| mission(&A, Some(1), Source::Own)).collect();
        let tips = subtask_tips(&d, &records, &IntrospectConfig::default());
        let retrain: Vec<&Tip> = tips.iter().filter(|t| t.rule.action == Action::Retrain).collect();
        assert_eq!(retrain.len(), 1);
        assert_eq!(retrain[0].rule.scope, Scope::Subtask("gate_west_to_crossroads".into()));
        assert_eq!(retrain[0].rule.condition.as_deref(), Some("rain"));
        assert!(retrain[0].text.starts_with("Under rain, retrain"), "{}", retrain[0].text);
    }
}
