//! `policy_executor`: runs the active subtask's controller on odometry and the scan.
//!
//! The mission executive names the subtask ([`Topic::ActiveSubtask`]). On every odometry
//! message the executor first judges the attempt — success when odometry (scenario frame)
//! lies in the exit set, timeout when the horizon has passed, and then it publishes a
//! [`SubtaskEvent`] and idles — and otherwise publishes a command: a learned policy decides at
//! its contract's rate and the command is held in between (re-sent with every odometry message,
//! so the safety monitor's command watchdog follows odometry), the pure-pursuit baseline acts
//! every control step. No fresh scan means no decision: the command falls back to zero, and
//! after [`SCAN_GRACE_S`] without one the attempt is aborted.
//!
//! A non-finite action is passed on as it is: the safety monitor is the stage that stops the
//! robot for it, and the executive then ends the mission on its verdict.

use std::sync::Arc;

use policies::Policy;
use sim::{PlanarState, VelocityCmd};

use crate::bundle::Deployment;
use crate::control::observation::{BASE_OBS, Observer};
use crate::control::pure_pursuit::{PurePursuit, PurePursuitConfig};
use crate::control::route::region_state;
use crate::msg::{ActiveSubtask, Command, Msg, Odom, Scan, StartPose, SubtaskEvent, SubtaskOutcome, Topic};
use crate::runtime::node::{Node, Outbox, ParamError, ParamSpec, ParamValue, Params};
use verification::Controller;

/// Without a fresh scan for this long (s) a running attempt is aborted.
pub const SCAN_GRACE_S: f64 = 1.0;

/// Settings of the executor.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutorConfig {
    /// Scenario pose where odometry started.
    pub start: StartPose,
    /// A scan older than this (s) is stale.
    pub scan_timeout_s: f64,
    /// Fault injection (testing): from this time on, every policy action is NaN.
    pub nan_after_s: Option<f64>,
}

/// The node's parameters.
pub fn params() -> Vec<ParamSpec> {
    vec![
        ParamSpec { name: "bundle", default: ParamValue::String(String::new()), doc: "bundle directory" },
        ParamSpec {
            name: "allow_unverified",
            default: ParamValue::Bool(false),
            doc: "run without a passing certificate (bench testing only)",
        },
        ParamSpec {
            name: "start_pose",
            default: ParamValue::DoubleArray(vec![0.0; 3]),
            doc: "scenario pose [x m, y m, yaw rad] where odometry started",
        },
        ParamSpec {
            name: "scan_timeout_s",
            default: ParamValue::Double(0.25),
            doc: "a scan older than this is stale (s)",
        },
    ]
}

impl ExecutorConfig {
    /// From the node's parameters.
    pub fn from_params(p: &Params) -> Result<ExecutorConfig, ParamError> {
        Ok(ExecutorConfig {
            start: StartPose::from_array(p.doubles::<3>("start_pose")?),
            scan_timeout_s: p.double("scan_timeout_s", 0.0..=10.0)?,
            nan_after_s: None,
        })
    }
}

#[derive(Debug)]
struct Attempt {
    subtask: usize,
    started_s: f64,
    decisions: u64,
    next_decision_s: f64,
    last_scan_s: f64,
    cmd: VelocityCmd,
    observer: Observer,
    pursuit: Option<PurePursuit>,
}

/// The policy executor node.
#[derive(Debug)]
pub struct PolicyExecutor {
    deployment: Arc<Deployment>,
    config: ExecutorConfig,
    odom: Option<sim::Odometry>,
    scan: Option<(f64, Scan)>,
    attempt: Option<Attempt>,
    obs: Vec<f32>,
}

impl PolicyExecutor {
    /// An idle executor for `deployment`.
    pub fn new(deployment: Arc<Deployment>, config: ExecutorConfig) -> PolicyExecutor {
        PolicyExecutor { deployment, config, odom: None, scan: None, attempt: None, obs: Vec::new() }
    }

    fn end(&mut self, now_s: f64, outcome: SubtaskOutcome, detail: String, out: &mut Outbox) {
        let Some(a) = self.attempt.take() else { return };
        let subtask = self.deployment.bundle().scenario().subtasks()[a.subtask].id().to_string();
        out.push(Msg::SubtaskEvent(SubtaskEvent {
            subtask,
            outcome,
            duration_s: now_s - a.started_s,
            decisions: a.decisions,
            detail,
        }));
        if outcome != SubtaskOutcome::Success {
            out.push(Msg::PolicyCmd(Command { stamp_s: now_s, cmd: VelocityCmd::STOP }));
        }
    }

    fn activate(&mut self, now_s: f64, id: Option<&str>, out: &mut Outbox) {
        self.attempt = None;
        let Some(id) = id else {
            out.push(Msg::PolicyCmd(Command { stamp_s: now_s, cmd: VelocityCmd::STOP }));
            return;
        };
        let scenario = self.deployment.bundle().scenario();
        let index = scenario.subtask_index(id);
        let controller = index.and_then(|a| self.deployment.controller(a));
        let (Some(a), Some(controller)) = (index, controller) else {
            out.push(Msg::SubtaskEvent(SubtaskEvent {
                subtask: id.into(),
                outcome: SubtaskOutcome::Aborted,
                duration_s: 0.0,
                decisions: 0,
                detail: format!("subtask `{id}` is not certified in this bundle"),
            }));
            return;
        };
        let pursuit = (controller == Controller::PurePursuit).then(|| {
            let s = self.odom.map_or(PlanarState::default(), |o| o.state);
            let mut path = vec![sim::Vec2::new(s.x_m, s.y_m)];
            path.extend_from_slice(scenario.subtasks()[a].via());
            PurePursuit::new(path, PurePursuitConfig::default())
        });
        self.attempt = Some(Attempt {
            subtask: a,
            started_s: now_s,
            decisions: 0,
            next_decision_s: now_s,
            last_scan_s: now_s,
            cmd: VelocityCmd::STOP,
            observer: Observer::new(&scenario.subtasks()[a]),
            pursuit,
        });
    }

    fn on_odom(&mut self, now_s: f64, odom: &Odom, out: &mut Outbox) {
        let state = self.config.start.to_scenario(&odom.state);
        let odom = sim::Odometry { state, yaw_rate_rps: odom.yaw_rate_rps };
        self.odom = Some(odom);
        let Some(a) = self.attempt.as_ref() else { return };
        let scenario = self.deployment.bundle().scenario();
        let subtask = &scenario.subtasks()[a.subtask];
        if subtask.exit().contains(&region_state(&state)) {
            return self.end(now_s, SubtaskOutcome::Success, "odometry entered the exit set".into(), out);
        }
        let horizon_s = f64::from(subtask.horizon_steps()) / scenario.robot().control_hz;
        if now_s - a.started_s >= horizon_s {
            let detail = format!("horizon of {horizon_s:.1} s ran out");
            return self.end(now_s, SubtaskOutcome::Timeout, detail, out);
        }
        let fresh_scan =
            self.scan.as_ref().filter(|(t, _)| now_s - t <= self.config.scan_timeout_s).map(|(_, s)| s);
        let Some(attempt) = self.attempt.as_mut() else { return };
        let Some(scan) = fresh_scan else {
            attempt.cmd = VelocityCmd::STOP;
            out.push(Msg::PolicyCmd(Command { stamp_s: now_s, cmd: VelocityCmd::STOP }));
            if now_s - attempt.last_scan_s > SCAN_GRACE_S {
                let detail = format!("no fresh scan on {} for {SCAN_GRACE_S} s", Topic::Scan.name());
                self.end(now_s, SubtaskOutcome::Aborted, detail, out);
            }
            return;
        };
        attempt.last_scan_s = now_s;
        if let Some(pursuit) = attempt.pursuit.as_mut() {
            attempt.cmd = pursuit.command(&state);
            attempt.decisions += 1;
        } else if now_s >= attempt.next_decision_s - 1e-9 {
            let Some(policy) = self.deployment.bundle().policy(attempt.subtask) else { return };
            let rays = policy.obs_dim().saturating_sub(BASE_OBS);
            if scan.ranges_m.len() != rays {
                let detail = format!("the scan has {} rays, the policy expects {rays}", scan.ranges_m.len());
                return self.end(now_s, SubtaskOutcome::Aborted, detail, out);
            }
            self.obs.resize(policy.obs_dim(), 0.0);
            attempt.observer.observe(&odom, &scan.ranges_m, scan.range_max_m, &mut self.obs);
            let mut action = [0.0f32; 2];
            policy.act(&self.obs, &mut action);
            if self.config.nan_after_s.is_some_and(|t| now_s >= t) {
                action = [f32::NAN; 2];
            }
            let scale = scenario.action_scale();
            // Clamped like training, but a non-finite action stays non-finite (see module doc).
            let axis =
                |x: f32, s: f64| if x.is_finite() { f64::from(x).clamp(-1.0, 1.0) * s } else { f64::NAN };
            attempt.cmd = VelocityCmd {
                linear_mps: axis(action[0], scale.linear_mps),
                angular_rps: axis(action[1], scale.angular_rps),
            };
            attempt.decisions += 1;
            let period_s = 1.0 / policy.contract().control_rate_hz;
            attempt.next_decision_s = (attempt.next_decision_s + period_s).max(now_s + 0.5 * period_s);
        }
        out.push(Msg::PolicyCmd(Command { stamp_s: now_s, cmd: attempt.cmd }));
    }
}

impl Node for PolicyExecutor {
    fn name(&self) -> &'static str {
        "policy_executor"
    }

    fn subscriptions(&self) -> &'static [Topic] {
        &[Topic::Odom, Topic::Scan, Topic::ActiveSubtask]
    }

    fn publications(&self) -> &'static [Topic] {
        &[Topic::PolicyCmd, Topic::SubtaskEvent]
    }

    fn period_s(&self) -> Option<f64> {
        None
    }

    fn on_message(&mut self, now_s: f64, msg: &Msg, out: &mut Outbox) {
        match msg {
            Msg::Odom(o) => self.on_odom(now_s, o, out),
            Msg::Scan(s) => self.scan = Some((now_s, s.clone())),
            Msg::ActiveSubtask(ActiveSubtask { subtask }) => self.activate(now_s, subtask.as_deref(), out),
            _ => {}
        }
    }

    fn on_tick(&mut self, _now_s: f64, _out: &mut Outbox) {}
}
