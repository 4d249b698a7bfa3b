//! `tips_planner`: learns tips from the robot's missions and tells the executive.
//!
//! It follows the mission status and subtask events; when a mission ends it appends the outcome
//! to `missions.jsonl` (the fields [`read_missions`] reads), introspects every mission there
//! with the [`TipsPlanner`], and proposes the tips as a new version of the tip store (saved
//! atomically; a refused update keeps the previous version, file included). The current tips
//! go out on the latched [`Topic::Tips`]: the avoid penalties under the node's `conditions`
//! (which the executive applies among certified routes only) and the retrain requests.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::agents::tips::{
    Action, IntrospectConfig, LlmRewriter, Scope, Source, TipStore, TipsError, TipsPlanner, read_missions,
};
use crate::bundle::deployment::Deployment;
use crate::llm::LlmSpec;
use crate::msg::{Avoid, MissionPhase, MissionStatus, Msg, SubtaskEvent, TipsUpdate, Topic};
use crate::runtime::node::{Node, Outbox, ParamError, ParamSpec, ParamValue, Params};

/// Why the node could not start or learn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TipsNodeError {
    /// A parameter is missing or of the wrong type.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The `llm` parameter names no usable model.
    #[error(transparent)]
    Llm(#[from] crate::llm::LlmError),
    /// The tip store or `missions.jsonl` could not be read, updated or written.
    #[error(transparent)]
    Tips(#[from] TipsError),
    /// The mission line could not be encoded.
    #[error("encoding the mission line: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The node's parameters.
pub fn params() -> Vec<ParamSpec> {
    let mut p = super::policy_executor::params();
    p.retain(|s| matches!(s.name, "bundle" | "allow_unverified"));
    p.extend([
        ParamSpec {
            name: "store",
            default: ParamValue::String("tips.json".into()),
            doc: "tip store file (JSON; created when absent, replaced atomically)",
        },
        ParamSpec {
            name: "missions",
            default: ParamValue::String("missions.jsonl".into()),
            doc: "mission outcomes, one JSON line each (appended to, and learned from)",
        },
        ParamSpec {
            name: "conditions",
            default: ParamValue::String(String::new()),
            doc: "condition tags in force, comma-separated (e.g. `rain`): recorded with each mission, select the tips",
        },
        ParamSpec {
            name: "llm",
            default: ParamValue::String("none".into()),
            doc: "language model that words new tips (`none`: deterministic words; `http://HOST:PORT/v1`; `local:PATH.gguf`)",
        },
    ]);
    p
}

/// The fields of a mission outcome the planner reads.
#[derive(Serialize)]
struct MissionLine<'a> {
    goal: &'a str,
    phase: MissionPhase,
    detail: &'a str,
    statuses: &'a [MissionStatus],
    events: &'a [SubtaskEvent],
    sim_failure: Option<String>,
    conditions: &'a [String],
}

/// The tips planner node.
#[derive(Debug)]
pub struct TipsPlannerNode {
    deployment: Arc<Deployment>,
    planner: TipsPlanner,
    store: TipStore,
    store_path: PathBuf,
    missions_path: PathBuf,
    conditions: Vec<String>,
    /// The mission being followed: its statuses and events.
    statuses: Vec<MissionStatus>,
    events: Vec<SubtaskEvent>,
    /// The current tips still need publishing (at start).
    unpublished: bool,
}

impl TipsPlannerNode {
    /// From the node's parameters; an existing store file that does not load is an error
    /// naming it.
    pub fn from_params(deployment: Arc<Deployment>, p: &Params) -> Result<TipsPlannerNode, TipsNodeError> {
        let store_path = PathBuf::from(p.string("store")?);
        let missions_path = PathBuf::from(p.string("missions")?);
        let conditions = p
            .string("conditions")?
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        let mut planner = TipsPlanner::new(Arc::clone(&deployment), IntrospectConfig::default());
        let spec = LlmSpec::parse(p.string("llm")?)?;
        if let Some(backend) = crate::llm::open(&spec)? {
            planner = planner.with_rewriter(Box::new(LlmRewriter::new(backend)));
        }
        let store = if store_path.exists() {
            TipStore::load(&store_path, planner.check())?
        } else {
            planner.empty_store()
        };
        Ok(TipsPlannerNode {
            deployment,
            planner,
            store,
            store_path,
            missions_path,
            conditions,
            statuses: Vec::new(),
            events: Vec::new(),
            unpublished: true,
        })
    }

    /// Records the finished mission and learns from every mission on file.
    fn learn(&mut self, last: &MissionStatus) -> Result<u64, TipsNodeError> {
        let line = MissionLine {
            goal: last.goal.as_deref().unwrap_or_default(),
            phase: last.phase,
            detail: &last.detail,
            statuses: &self.statuses,
            events: &self.events,
            sim_failure: None,
            conditions: &self.conditions,
        };
        let text = serde_json::to_string(&line)?;
        crate::files::append_line(&self.missions_path, &text)
            .map_err(|source| TipsError::Io { file: self.missions_path.clone(), source })?;
        let records = read_missions(&self.missions_path, Source::Own)?;
        let version = self.planner.update(&mut self.store, self.planner.own_tips(&records))?;
        self.store.save(&self.store_path)?;
        Ok(version)
    }

    /// The current tips as the executive and people see them.
    fn update(&self) -> TipsUpdate {
        let tips = self.store.tips();
        let scenario = self.deployment.bundle().scenario();
        let avoid = match self.planner.preference(tips, None, &self.conditions) {
            Ok(p) => scenario
                .subtasks()
                .iter()
                .enumerate()
                .filter(|&(a, _)| p.penalty(a) > 0.0)
                .map(|(a, s)| Avoid { subtask: s.id().to_string(), penalty: p.penalty(a) })
                .collect(),
            Err(e) => {
                tracing::warn!("tips give no route preference: {e}");
                Vec::new()
            }
        };
        let retrain = tips
            .iter()
            .filter(|t| t.rule.action == Action::Retrain && t.rule.applies(&self.conditions))
            .filter_map(|t| match &t.rule.scope {
                Scope::Subtask(id) => Some(id.clone()),
                Scope::Feature(_) => None,
            })
            .collect();
        TipsUpdate {
            version: self.store.version(),
            tips: tips.iter().map(|t| t.text.clone()).collect(),
            avoid,
            retrain,
        }
    }
}

impl Node for TipsPlannerNode {
    fn name(&self) -> &'static str {
        "tips_planner"
    }
    fn subscriptions(&self) -> &'static [Topic] {
        &[Topic::MissionStatus, Topic::SubtaskEvent]
    }
    fn publications(&self) -> &'static [Topic] {
        &[Topic::Tips]
    }
    fn period_s(&self) -> Option<f64> {
        Some(1.0)
    }

    fn on_message(&mut self, _now_s: f64, msg: &Msg, out: &mut Outbox) {
        match msg {
            Msg::MissionStatus(s) => {
                if s.phase == MissionPhase::Running && self.statuses.is_empty() {
                    self.events.clear();
                }
                if s.phase == MissionPhase::Running || !self.statuses.is_empty() {
                    self.statuses.push(s.clone());
                }
                // Only missions that drove teach anything (a rejected goal never started).
                if s.phase.is_final() && !self.statuses.is_empty() {
                    match self.learn(s) {
                        Ok(version) => tracing::info!("tip store version {version}"),
                        Err(e) => tracing::warn!("tips not updated, previous version kept: {e}"),
                    }
                    self.statuses.clear();
                    out.push(Msg::Tips(self.update()));
                }
            }
            Msg::SubtaskEvent(e) if !self.statuses.is_empty() => self.events.push(e.clone()),
            _ => {}
        }
    }

    fn on_tick(&mut self, _now_s: f64, out: &mut Outbox) {
        if std::mem::take(&mut self.unpublished) {
            out.push(Msg::Tips(self.update()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{GoalRequest, Odom, SubtaskOutcome};
    use crate::runtime::registry;
    use sim::PlanarState;

    const BUNDLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/warthog_yard/baseline_bundle");
    const VIA_GATE: [&str; 3] = ["depot_to_gate_west", "gate_west_to_crossroads", "crossroads_to_dock_east"];

    fn node(name: &str, given: &[(&str, ParamValue)]) -> Box<dyn Node> {
        let mut all = vec![("bundle".to_string(), ParamValue::String(BUNDLE.into()))];
        all.extend(given.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let p = Params::new(
            registry::static_name(name).expect("known"),
            &registry::params(name).expect("params"),
            &all,
        )
        .expect("params");
        registry::build(name, &p).expect("node builds")
    }

    fn status(phase: MissionPhase, step: usize) -> Msg {
        Msg::MissionStatus(MissionStatus {
            stamp_s: 0.0,
            phase,
            goal: Some("dock_east".into()),
            route: VIA_GATE.map(String::from).to_vec(),
            step,
            lower_bound: Some(0.98),
            detail: format!("{phase:?}"),
            unverified: false,
        })
    }

    fn event(subtask: &str, outcome: SubtaskOutcome) -> Msg {
        let detail = String::new();
        Msg::SubtaskEvent(SubtaskEvent {
            subtask: subtask.into(),
            outcome,
            duration_s: 30.0,
            decisions: 300,
            detail,
        })
    }

    /// One mission to dock_east via the west gate that times out between the gate and the
    /// crossroads; returns what the planner published at its end.
    fn failed_mission(planner: &mut dyn Node) -> Vec<Msg> {
        let mut out = Outbox::new();
        for m in [
            status(MissionPhase::Running, 0),
            event(VIA_GATE[0], SubtaskOutcome::Success),
            status(MissionPhase::Running, 1),
            event(VIA_GATE[1], SubtaskOutcome::Timeout),
            status(MissionPhase::Failed, 1),
        ] {
            planner.on_message(0.0, &m, &mut out);
        }
        out.drain().collect()
    }

    #[test]
    fn failed_missions_become_tips_that_steer_the_executive_onto_the_other_certified_route() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, missions) = (dir.path().join("tips.json"), dir.path().join("missions.jsonl"));
        let path = |p: &std::path::Path| ParamValue::String(p.display().to_string());
        let mut planner = node("tips_planner", &[("store", path(&store)), ("missions", path(&missions))]);
        let mut out = Outbox::new();
        planner.on_tick(0.0, &mut out);
        let Some(Msg::Tips(first)) = out.drain().next() else { panic!("the current tips at start") };
        assert!(first.avoid.is_empty() && first.tips.is_empty(), "{first:?}");

        let mut tips = None;
        for _ in 0..6 {
            let published = failed_mission(&mut *planner);
            let [Msg::Tips(t)] = &published[..] else { panic!("one update per mission: {published:?}") };
            if !t.avoid.is_empty() {
                tips = Some(t.clone());
                break;
            }
        }
        let tips = tips.expect("a few failures teach a tip");
        assert_eq!(tips.avoid[0].subtask, VIA_GATE[1], "{tips:?}");
        assert!(std::fs::read_to_string(&store).expect("store saved").contains(VIA_GATE[1]));
        assert!(std::fs::read_to_string(&missions).expect("missions").lines().count() >= 2);

        // The executive, told the tips, drives dock_east through the south dock instead.
        assert_eq!(first_subtask_to_dock_east(tips).as_deref(), Some("depot_to_dock_south"));
    }

    /// An executive at the depot.
    fn executive() -> Box<dyn Node> {
        node("mission_executive", &[("start_pose", ParamValue::DoubleArray(vec![18.418, 17.932, 1.2557]))])
    }

    /// The first subtask an executive at the depot drives to dock_east after `tips`.
    fn first_subtask_to_dock_east(tips: TipsUpdate) -> Option<String> {
        let mut executive = executive();
        let mut out = Outbox::new();
        let odom = Odom { stamp_s: 0.0, state: PlanarState::default(), yaw_rate_rps: 0.0 };
        for m in [Msg::Tips(tips), Msg::Odom(odom), Msg::Goal(GoalRequest { goal: "dock_east".into() })] {
            executive.on_message(0.0, &m, &mut out);
        }
        out.drain().find_map(|m| match m {
            Msg::MissionStatus(s) if s.phase == MissionPhase::Running => s.route.into_iter().next(),
            _ => None,
        })
    }

    #[test]
    fn commands_missing_while_idle_do_not_fail_the_next_mission() {
        use crate::msg::{SafetyStatus, SafetyVerdict};
        let mut executive = executive();
        let mut out = Outbox::new();
        let stale = SafetyStatus { stamp_s: 0.0, verdict: SafetyVerdict::StaleCommand };
        let odom = Odom { stamp_s: 5.0, state: PlanarState::default(), yaw_rate_rps: 0.0 };
        executive.on_message(0.0, &Msg::SafetyStatus(stale), &mut out);
        executive.on_message(5.0, &Msg::Odom(odom), &mut out);
        executive.on_message(5.0, &Msg::Goal(GoalRequest { goal: "dock_east".into() }), &mut out);
        executive.on_tick(5.5, &mut out);
        let phases: Vec<MissionPhase> = out
            .drain()
            .filter_map(|m| match m {
                Msg::MissionStatus(s) => Some(s.phase),
                _ => None,
            })
            .collect();
        assert_eq!(phases.last(), Some(&MissionPhase::Running), "{phases:?}");
        // Still no commands a second into the mission: now it fails.
        executive.on_tick(6.1, &mut out);
        assert!(out.drain().any(|m| matches!(m, Msg::MissionStatus(s) if s.phase == MissionPhase::Failed)));
    }

    #[test]
    fn tips_naming_an_unknown_subtask_change_nothing() {
        let bogus = TipsUpdate {
            version: 9,
            tips: vec!["drive through the pond".into()],
            avoid: vec![Avoid { subtask: "pond_shortcut".into(), penalty: 1.0 }],
            retrain: Vec::new(),
        };
        assert_eq!(first_subtask_to_dock_east(bogus).as_deref(), Some("depot_to_gate_west"));
    }
}
