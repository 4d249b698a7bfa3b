//! `mission_executive`: goal → certified route → one subtask after another.
//!
//! A goal (the `goal` parameter or [`Topic::Goal`]; one that comes before any odometry waits for
//! it, since where the robot is decides the route) is accepted only
//! when the deployment has certified routes to it and the robot is in the first subtask's
//! entry set of one of them; the best such route is driven. After a subtask fails the robot is
//! stopped, and the mission continues only on the remainder of another certified route that
//! avoids the failed subtask and whose next subtask's entry set the robot is actually in
//! (DESIGN §9; a remainder's bound is at least its route's). The safety monitor's verdicts end
//! a mission: an e-stop or the geofence at once, a non-finite command at once, a watchdog stop
//! (stale odometry or command) once it has lasted `safety_hold_s`.
//!
//! A [`RoutePreference`] (what the tips planner learned) may reorder the certified routes: among
//! the remainders the robot can start, the one with the smallest penalty is driven, ties going to
//! the certified order. It can only choose among certified routes, never add one; with every
//! route penalised alike the best certified one is still driven. It comes from the
//! `sim2real/tips` topic (the `tips_planner` node) or from `sim2real mission --tips`.
//!
//! Every change is published as a [`MissionStatus`] whose `detail` says what happened.

use std::collections::BTreeSet;
use std::sync::Arc;

use sim::PlanarState;

use super::safety::DIAGNOSTIC_PERIOD_S;
use crate::bundle::deployment::{DeployError, Deployment, Route, RoutePreference};
use crate::control::route::region_state;
use crate::msg::{
    ActiveSubtask, Diagnostic, DiagnosticLevel, MissionPhase, MissionStatus, Msg, PoseSource, SafetyVerdict,
    StartPose, SubtaskEvent, SubtaskOutcome, Topic, json_name,
};
use crate::runtime::node::{Node, Outbox, ParamError, ParamSpec, ParamValue, Params};

/// Settings of the executive.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutiveConfig {
    /// Scenario pose where odometry started.
    pub start: StartPose,
    /// Where the pose comes from (odometry and `start`, or a localisation topic).
    pub pose: PoseSource,
    /// Goal to drive to once odometry arrives (none: wait for one on the goal topic).
    pub goal: Option<String>,
    /// How long a watchdog stop may last before the mission fails (s).
    pub safety_hold_s: f64,
}

/// The node's parameters.
pub fn params() -> Vec<ParamSpec> {
    let mut p = super::policy_executor::params();
    p.retain(|s| !matches!(s.name, "scan_timeout_s" | "lidar_mount"));
    p.push(ParamSpec {
        name: "goal",
        default: ParamValue::String(String::new()),
        doc: "goal waypoint to drive to once odometry arrives (empty: wait for sim2real/mission/goal)",
    });
    p.push(ParamSpec {
        name: "safety_hold_s",
        default: ParamValue::Double(1.0),
        doc: "a watchdog stop lasting this long ends the mission (s)",
    });
    p
}

impl ExecutiveConfig {
    /// From the node's parameters.
    pub fn from_params(p: &Params) -> Result<ExecutiveConfig, ParamError> {
        let goal = p.string("goal")?;
        Ok(ExecutiveConfig {
            start: StartPose::from_array(p.doubles::<3>("start_pose")?),
            pose: super::policy_executor::pose_source(p)?,
            goal: (!goal.is_empty()).then(|| goal.to_string()),
            safety_hold_s: p.double("safety_hold_s", 0.0..=60.0)?,
        })
    }
}

#[derive(Debug)]
struct Mission {
    goal: String,
    route: Vec<usize>,
    step: usize,
    lower_bound: Option<f64>,
    failed: BTreeSet<usize>,
}

/// The mission executive node.
#[derive(Debug)]
pub struct MissionExecutive {
    deployment: Arc<Deployment>,
    config: ExecutiveConfig,
    state: Option<PlanarState>,
    /// Odometry's forward speed (the pose's speed when a localisation topic gives the pose).
    speed_mps: f64,
    mission: Option<Mission>,
    pending_goal: Option<String>,
    /// The safety verdict and since when it holds.
    safety: (SafetyVerdict, f64),
    /// The last status published (for diagnostics).
    last: Option<(MissionPhase, String)>,
    next_diagnostic_s: f64,
    preference: RoutePreference,
}

impl MissionExecutive {
    /// An idle executive for `deployment`.
    pub fn new(deployment: Arc<Deployment>, config: ExecutiveConfig) -> MissionExecutive {
        let pending_goal = config.goal.clone();
        MissionExecutive {
            deployment,
            config,
            state: None,
            speed_mps: 0.0,
            mission: None,
            pending_goal,
            safety: (SafetyVerdict::Passing, 0.0),
            last: None,
            next_diagnostic_s: 0.0,
            preference: RoutePreference::default(),
        }
    }

    /// The same executive choosing among certified routes by `preference` (tips).
    pub fn with_preference(mut self, preference: RoutePreference) -> MissionExecutive {
        self.preference = preference;
        self
    }

    fn id(&self, a: usize) -> String {
        self.deployment.bundle().scenario().subtasks()[a].id().to_string()
    }

    fn status(
        &mut self,
        now_s: f64,
        phase: MissionPhase,
        goal: Option<&str>,
        detail: String,
        out: &mut Outbox,
    ) {
        self.last = Some((phase, detail.clone()));
        let (route, step, lower_bound) = match &self.mission {
            Some(m) => (m.route.iter().map(|&a| self.id(a)).collect(), m.step, m.lower_bound),
            None => (Vec::new(), 0, None),
        };
        out.push(Msg::MissionStatus(MissionStatus {
            stamp_s: now_s,
            phase,
            goal: goal.map(str::to_string),
            route,
            step,
            lower_bound,
            detail,
            unverified: self.deployment.unverified(),
        }));
    }

    /// Ends the running mission: stop the executor, publish the final status.
    fn finish(&mut self, now_s: f64, phase: MissionPhase, detail: String, out: &mut Outbox) {
        if let Some(m) = &self.mission {
            let goal = m.goal.clone();
            out.push(Msg::ActiveSubtask(ActiveSubtask { subtask: None }));
            self.status(now_s, phase, Some(&goal), detail, out);
            self.mission = None;
        }
    }

    /// The best route remainder the robot can start from where it is, avoiding `failed`.
    fn plan(&self, goal: &str, failed: &BTreeSet<usize>) -> Result<Option<Route>, DeployError> {
        let routes = self.deployment.routes(goal)?;
        let Some(state) = self.state else { return Ok(None) };
        let subtasks = self.deployment.bundle().scenario().subtasks();
        let here = region_state(&state);
        // Routes come best first; `min_by` keeps the first of equal penalties, so without a
        // preference the first remainder found (the best one) is driven.
        Ok(routes
            .iter()
            .filter_map(|r| {
                let from = r.subtasks.iter().position(|&a| subtasks[a].entry().contains(&here))?;
                let rest = &r.subtasks[from..];
                (!rest.iter().any(|a| failed.contains(a)))
                    .then(|| Route { subtasks: rest.to_vec(), lower_bound: r.lower_bound })
            })
            .min_by(|a, b| {
                let (pa, pb) =
                    (self.preference.route_penalty(&a.subtasks), self.preference.route_penalty(&b.subtasks));
                pa.partial_cmp(&pb).unwrap_or(std::cmp::Ordering::Equal)
            }))
    }

    fn start(&mut self, now_s: f64, goal: String, out: &mut Outbox) {
        self.finish(now_s, MissionPhase::Cancelled, format!("replaced by a new goal `{goal}`"), out);
        match self.plan(&goal, &BTreeSet::new()) {
            Err(e) => self.status(now_s, MissionPhase::Rejected, Some(&goal), e.to_string(), out),
            Ok(None) => {
                let at = self
                    .state
                    .map_or("no odometry yet".into(), |s| format!("at ({:.1}, {:.1})", s.x_m, s.y_m));
                let detail =
                    format!("the robot is in the entry set of no certified route to `{goal}` ({at})");
                self.status(now_s, MissionPhase::Rejected, Some(&goal), detail, out);
            }
            Ok(Some(Route { subtasks: route, lower_bound })) => {
                // An idle robot gets no commands: a watchdog verdict already in force counts
                // from the start of the mission, not from boot.
                self.safety.1 = now_s;
                let first = self.id(route[0]);
                self.mission = Some(Mission {
                    goal: goal.clone(),
                    route,
                    step: 0,
                    lower_bound,
                    failed: BTreeSet::new(),
                });
                out.push(Msg::ActiveSubtask(ActiveSubtask { subtask: Some(first.clone()) }));
                let detail = format!("driving to `{goal}`, starting with `{first}`");
                self.status(now_s, MissionPhase::Running, Some(&goal), detail, out);
            }
        }
    }

    fn on_event(&mut self, now_s: f64, ev: &SubtaskEvent, out: &mut Outbox) {
        let Some(m) = self.mission.as_mut() else { return };
        let current = m.route[m.step];
        if self.deployment.bundle().scenario().subtasks()[current].id().as_str() != ev.subtask {
            return;
        }
        if ev.outcome == SubtaskOutcome::Success {
            m.step += 1;
            let goal = m.goal.clone();
            if m.step == m.route.len() {
                let detail = format!("reached `{goal}`");
                return self.finish(now_s, MissionPhase::Succeeded, detail, out);
            }
            let next = m.route[m.step];
            let next = self.id(next);
            out.push(Msg::ActiveSubtask(ActiveSubtask { subtask: Some(next.clone()) }));
            let detail = format!("`{}` done in {:.1} s, now `{next}`", ev.subtask, ev.duration_s);
            return self.status(now_s, MissionPhase::Running, Some(&goal), detail, out);
        }
        m.failed.insert(current);
        let (goal, failed) = (m.goal.clone(), m.failed.clone());
        let what = format!("subtask `{}` failed ({:?}: {})", ev.subtask, ev.outcome, ev.detail);
        match self.plan(&goal, &failed) {
            Ok(Some(Route { subtasks: route, lower_bound })) => {
                // An idle robot gets no commands: a watchdog verdict already in force counts
                // from the start of the mission, not from boot.
                self.safety.1 = now_s;
                let first = self.id(route[0]);
                self.mission = Some(Mission { goal: goal.clone(), route, step: 0, lower_bound, failed });
                out.push(Msg::ActiveSubtask(ActiveSubtask { subtask: Some(first.clone()) }));
                let detail = format!("{what}; replanned onto a certified route from `{first}`");
                self.status(now_s, MissionPhase::Running, Some(&goal), detail, out);
            }
            _ => {
                let detail = format!("{what}; stopped: no certified route continues from here");
                self.finish(now_s, MissionPhase::Failed, detail, out);
            }
        }
    }

    fn on_safety(&mut self, now_s: f64, verdict: SafetyVerdict, out: &mut Outbox) {
        let detail = match verdict {
            SafetyVerdict::EStop => {
                let detail = "emergency stop: stopped and latched; release and re-arm, then send a new goal";
                return self.finish(now_s, MissionPhase::EStopped, detail.into(), out);
            }
            SafetyVerdict::Geofence => "safety monitor: the robot reached the geofence".to_string(),
            SafetyVerdict::NonFiniteCommand => {
                "safety monitor: the policy emitted a non-finite command".to_string()
            }
            SafetyVerdict::StaleOdometry | SafetyVerdict::StaleCommand | SafetyVerdict::StaleScan
                if now_s - self.safety.1 >= self.config.safety_hold_s =>
            {
                let what = match verdict {
                    SafetyVerdict::StaleOdometry => "odometry",
                    SafetyVerdict::StaleScan => "scan",
                    _ => "commands",
                };
                format!("safety monitor: no fresh {what} for {:.2} s", now_s - self.safety.1)
            }
            _ => return,
        };
        self.finish(now_s, MissionPhase::Failed, detail, out);
    }
}

impl MissionExecutive {
    /// Where the robot is (scenario frame); a goal waiting for a pose starts now.
    fn on_pose(&mut self, now_s: f64, state: PlanarState, out: &mut Outbox) {
        self.state = Some(state);
        if let Some(goal) = self.pending_goal.take() {
            self.start(now_s, goal, out);
        }
    }
}

impl Node for MissionExecutive {
    fn name(&self) -> &'static str {
        "mission_executive"
    }

    fn subscriptions(&self) -> &'static [Topic] {
        if self.config.pose.is_localisation() {
            &[
                Topic::Odom,
                Topic::Pose,
                Topic::Goal,
                Topic::Cancel,
                Topic::SubtaskEvent,
                Topic::SafetyStatus,
                Topic::Tips,
            ]
        } else {
            &[Topic::Odom, Topic::Goal, Topic::Cancel, Topic::SubtaskEvent, Topic::SafetyStatus, Topic::Tips]
        }
    }

    fn publications(&self) -> &'static [Topic] {
        &[Topic::ActiveSubtask, Topic::MissionStatus, Topic::Diagnostics]
    }

    fn period_s(&self) -> Option<f64> {
        Some(0.1)
    }

    fn on_message(&mut self, now_s: f64, msg: &Msg, out: &mut Outbox) {
        match msg {
            Msg::Odom(o) if !self.config.pose.is_localisation() => {
                self.on_pose(now_s, self.config.start.to_scenario(&o.state), out)
            }
            Msg::Odom(o) => self.speed_mps = o.state.speed_mps,
            Msg::Pose(p) if self.config.pose.is_localisation() => {
                let state =
                    PlanarState { x_m: p.x_m, y_m: p.y_m, yaw_rad: p.yaw_rad, speed_mps: self.speed_mps };
                self.on_pose(now_s, state, out)
            }
            Msg::Goal(g) if self.state.is_none() => {
                self.pending_goal = Some(g.goal.clone());
                let detail = "waiting for odometry to plan from".to_string();
                self.status(now_s, MissionPhase::Idle, Some(&g.goal), detail, out);
            }
            Msg::Goal(g) => self.start(now_s, g.goal.clone(), out),
            Msg::Cancel => {
                self.finish(now_s, MissionPhase::Cancelled, "cancelled by the operator".into(), out)
            }
            Msg::SubtaskEvent(ev) => self.on_event(now_s, ev, out),
            Msg::Tips(t) => {
                let penalties = t.avoid.iter().map(|a| (a.subtask.as_str(), a.penalty));
                match RoutePreference::new(self.deployment.bundle().scenario(), penalties) {
                    Ok(p) => self.preference = p,
                    // Tips from another bundle: keep choosing as before.
                    Err(e) => tracing::warn!("tips version {} ignored: {e}", t.version),
                }
            }
            Msg::SafetyStatus(s) => {
                if s.verdict != self.safety.0 {
                    self.safety = (s.verdict, now_s);
                }
                if self.mission.is_some() {
                    self.on_safety(now_s, s.verdict, out);
                }
            }
            _ => {}
        }
    }

    fn on_tick(&mut self, now_s: f64, out: &mut Outbox) {
        if self.mission.is_some() {
            self.on_safety(now_s, self.safety.0, out);
        }
        if now_s >= self.next_diagnostic_s {
            self.next_diagnostic_s = now_s + DIAGNOSTIC_PERIOD_S;
            let (phase, detail) =
                self.last.clone().unwrap_or((MissionPhase::Idle, "waiting for a goal".into()));
            let level = match phase {
                MissionPhase::Failed | MissionPhase::EStopped | MissionPhase::Rejected => {
                    DiagnosticLevel::Error
                }
                _ => DiagnosticLevel::Ok,
            };
            let mut values = vec![("phase".to_string(), json_name(&phase))];
            if let Some(m) = &self.mission {
                values.push(("goal".into(), m.goal.clone()));
                values.push(("subtask".into(), self.id(m.route[m.step])));
            }
            values.push(("unverified".into(), self.deployment.unverified().to_string()));
            let name = "sim2real/mission_executive".into();
            out.push(Msg::Diagnostics(vec![Diagnostic {
                stamp_s: now_s,
                level,
                name,
                message: detail,
                values,
            }]));
        }
    }
}
