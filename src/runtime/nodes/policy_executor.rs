//! `policy_executor`: runs the active subtask's controller on odometry and the scan.
//!
//! The mission executive names the subtask ([`Topic::ActiveSubtask`]). On every odometry
//! message the executor first judges the attempt — success when odometry (scenario frame)
//! lies in the exit set, timeout when the horizon has passed, and then it publishes a
//! [`SubtaskEvent`] and idles — and otherwise publishes a command: a learned policy decides at
//! its contract's rate and the command is held in between (re-sent with every odometry message,
//! so the safety monitor's command watchdog follows odometry), the pure-pursuit baseline acts
//! every control step. The policy's rays come from the scan by the one definition of a range
//! ray ([`sim::RayConfig::ranges_from_scan`]), with the lidar's mounting pose from the
//! `lidar_mount` parameter, so any LaserScan works. No fresh, usable scan means no decision:
//! the command falls back to zero, and after [`SCAN_GRACE_S`] without one the attempt is
//! aborted with the reason (stale, or which sector the scan leaves uncovered or blind).
//!
//! A non-finite action is passed on as it is: the safety monitor is the stage that stops the
//! robot for it, and the executive then ends the mission on its verdict.

use std::sync::Arc;

use policies::Policy;
use sim::{LidarMount, PlanarState, ScanReducer, VelocityCmd};

use crate::bundle::Deployment;
use crate::control::observation::{BASE_OBS, Observer};
use crate::control::pure_pursuit::{PurePursuit, PurePursuitConfig};
use crate::control::route::region_state;
use crate::msg::{
    ActiveSubtask, Command, Msg, Odom, Pose, PoseSource, Scan, StartPose, SubtaskEvent, SubtaskOutcome, Topic,
};
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
    /// The lidar's pose on the robot (in the frame the rays are defined in).
    pub lidar_mount: LidarMount,
    /// Where the pose comes from: odometry and `start`, or a localisation topic (then it must
    /// be as fresh as a scan).
    pub pose: PoseSource,
    /// Fault injection (testing): from this time on, every policy action is NaN.
    pub nan_after_s: Option<f64>,
}

/// The parameters that choose the pose source (executor, executive and safety monitor).
pub fn pose_params() -> [ParamSpec; 2] {
    [
        ParamSpec {
            name: "pose_topic",
            default: ParamValue::String(String::new()),
            doc: "localisation pose topic (scenario/map frame, >= 10 Hz) replacing odometry as the pose; empty: odometry + start_pose",
        },
        ParamSpec {
            name: "pose_type",
            default: ParamValue::String("pose_with_covariance".into()),
            doc: "type on pose_topic: pose_with_covariance (geometry_msgs/PoseWithCovarianceStamped) or odometry (nav_msgs/Odometry)",
        },
    ]
}

/// The pose source the `pose_topic` and `pose_type` parameters name.
pub fn pose_source(p: &Params) -> Result<PoseSource, ParamError> {
    PoseSource::from_params(p.string("pose_topic")?, p.string("pose_type")?).map_err(|reason| ParamError {
        node: p.node().into(),
        name: "pose_type".into(),
        reason,
    })
}

/// The node's parameters.
pub fn params() -> Vec<ParamSpec> {
    let mut p = vec![
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
        ParamSpec {
            name: "lidar_mount",
            default: ParamValue::DoubleArray(vec![0.0; 3]),
            doc: "lidar pose on the robot [x m forward, y m left, yaw rad] (base_link)",
        },
    ];
    p.extend(pose_params());
    p
}

impl ExecutorConfig {
    /// From the node's parameters.
    pub fn from_params(p: &Params) -> Result<ExecutorConfig, ParamError> {
        Ok(ExecutorConfig {
            start: StartPose::from_array(p.doubles::<3>("start_pose")?),
            scan_timeout_s: p.double("scan_timeout_s", 0.0..=10.0)?,
            lidar_mount: {
                let [x_m, y_m, yaw_rad] = p.doubles::<3>("lidar_mount")?;
                LidarMount { x_m, y_m, yaw_rad }
            },
            pose: pose_source(p)?,
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
    pose: Option<(f64, Pose)>,
    scan: Option<(f64, Scan)>,
    attempt: Option<Attempt>,
    reducer: ScanReducer,
    ranges: Vec<f64>,
    obs: Vec<f32>,
}

impl PolicyExecutor {
    /// An idle executor for `deployment`.
    pub fn new(deployment: Arc<Deployment>, config: ExecutorConfig) -> PolicyExecutor {
        PolicyExecutor {
            reducer: ScanReducer::new(deployment.bundle().scenario().rays().clone()),
            deployment,
            config,
            odom: None,
            pose: None,
            scan: None,
            attempt: None,
            ranges: Vec::new(),
            obs: Vec::new(),
        }
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

    /// Without a usable scan or pose: zero now, and the attempt aborted once that has lasted
    /// [`SCAN_GRACE_S`].
    fn hold(&mut self, now_s: f64, problem: String, out: &mut Outbox) {
        let Some(attempt) = self.attempt.as_mut() else { return };
        attempt.cmd = VelocityCmd::STOP;
        out.push(Msg::PolicyCmd(Command { stamp_s: now_s, cmd: VelocityCmd::STOP }));
        if now_s - attempt.last_scan_s > SCAN_GRACE_S {
            self.end(now_s, SubtaskOutcome::Aborted, format!("{problem} for {SCAN_GRACE_S} s"), out);
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

    /// The robot's pose in the scenario frame on this odometry message: odometry mapped by the
    /// start pose, or the latest localisation pose (with odometry's speed) while it is fresh.
    fn state(&self, now_s: f64, odom: &Odom) -> Result<PlanarState, String> {
        let PoseSource::Localisation { topic, .. } = &self.config.pose else {
            return Ok(self.config.start.to_scenario(&odom.state));
        };
        match self.pose {
            Some((t, p)) if now_s - t <= self.config.scan_timeout_s => Ok(PlanarState {
                x_m: p.x_m,
                y_m: p.y_m,
                yaw_rad: p.yaw_rad,
                speed_mps: odom.state.speed_mps,
            }),
            _ => Err(format!("no fresh pose on {topic}")),
        }
    }

    fn on_odom(&mut self, now_s: f64, odom: &Odom, out: &mut Outbox) {
        let state = match self.state(now_s, odom) {
            Ok(state) => state,
            Err(problem) => return self.hold(now_s, problem, out),
        };
        let odom = sim::Odometry { state, yaw_rate_rps: odom.yaw_rate_rps };
        self.odom = Some(odom);
        let Some(a) = self.attempt.as_ref() else { return };
        let scenario = self.deployment.bundle().scenario();
        let subtask = &scenario.subtasks()[a.subtask];
        if subtask.exit().contains(&region_state(&state)) {
            let by = if self.config.pose.is_localisation() { "the localisation pose" } else { "odometry" };
            return self.end(now_s, SubtaskOutcome::Success, format!("{by} entered the exit set"), out);
        }
        let horizon_s = f64::from(subtask.horizon_steps()) / scenario.robot().control_hz;
        if now_s - a.started_s >= horizon_s {
            let detail = format!("horizon of {horizon_s:.1} s ran out");
            return self.end(now_s, SubtaskOutcome::Timeout, detail, out);
        }
        let rays = scenario.rays();
        let fresh_scan =
            self.scan.as_ref().filter(|(t, _)| now_s - t <= self.config.scan_timeout_s).map(|(_, s)| s);
        let usable = match fresh_scan {
            None => Err(format!("no fresh scan on {}", Topic::Scan.name())),
            Some(scan) => self
                .reducer
                .ranges(&scan.beams, &self.config.lidar_mount, &mut self.ranges)
                .map_err(|e| format!("{}: {e}", Topic::Scan.name())),
        };
        if let Err(problem) = usable {
            return self.hold(now_s, problem, out);
        }
        let Some(attempt) = self.attempt.as_mut() else { return };
        attempt.last_scan_s = now_s;
        if let Some(pursuit) = attempt.pursuit.as_mut() {
            attempt.cmd = pursuit.command(&state);
            attempt.decisions += 1;
        } else if now_s >= attempt.next_decision_s - 1e-9 {
            let Some(policy) = self.deployment.bundle().policy(attempt.subtask) else { return };
            // The bundle checked the contract against the scenario's rays (`Bundle::open`).
            debug_assert_eq!(policy.obs_dim(), BASE_OBS + rays.count);
            self.obs.resize(policy.obs_dim(), 0.0);
            attempt.observer.observe(&odom, &self.ranges, rays.max_range_m, &mut self.obs);
            let mut action = [0.0f32; 2];
            policy.act(&self.obs, &mut action);
            if self.config.nan_after_s.is_some_and(|t| now_s >= t) {
                action = [f32::NAN; 2];
            }
            // Scaled and capped like training; a non-finite action stays non-finite (module doc).
            attempt.cmd = scenario.action_scale().command(action);
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
        if self.config.pose.is_localisation() {
            &[Topic::Odom, Topic::Pose, Topic::Scan, Topic::ActiveSubtask]
        } else {
            &[Topic::Odom, Topic::Scan, Topic::ActiveSubtask]
        }
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
            Msg::Pose(p) => self.pose = Some((now_s, *p)),
            Msg::ActiveSubtask(ActiveSubtask { subtask }) => self.activate(now_s, subtask.as_deref(), out),
            _ => {}
        }
    }

    fn on_tick(&mut self, _now_s: f64, _out: &mut Outbox) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::PoseKind;

    fn deployment() -> Arc<Deployment> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/warthog_yard/bundle");
        Arc::new(Deployment::open(&dir, true).expect("the committed bundle"))
    }

    fn executor(pose: PoseSource) -> PolicyExecutor {
        let config = ExecutorConfig {
            start: StartPose::default(),
            scan_timeout_s: 0.25,
            lidar_mount: LidarMount::default(),
            pose,
            nan_after_s: None,
        };
        let mut e = PolicyExecutor::new(deployment(), config);
        let subtask = e.deployment.bundle().scenario().subtasks()[0].id().to_string();
        e.on_message(0.0, &Msg::ActiveSubtask(ActiveSubtask { subtask: Some(subtask) }), &mut Outbox::new());
        e
    }

    /// A lidar of `n` beams over `fov_deg` (edge to edge), nothing in range.
    fn open_scan(t: f64, n: usize, fov_deg: f64) -> Msg {
        let fov = fov_deg.to_radians();
        Msg::Scan(Scan {
            stamp_s: t,
            beams: sim::LaserScan {
                angle_min_rad: -0.5 * fov,
                angle_increment_rad: fov / (n - 1) as f64,
                range_min_m: 0.1,
                range_max_m: 30.0,
                ranges_m: vec![f64::INFINITY; n],
            },
        })
    }

    /// Odometry at the depot, where subtask 0 starts, heading north-east.
    fn odom(t: f64) -> Msg {
        let state = PlanarState { x_m: 18.0, y_m: 18.0, yaw_rad: 0.8, speed_mps: 0.0 };
        Msg::Odom(Odom { stamp_s: t, state, yaw_rate_rps: 0.0 })
    }

    fn step(e: &mut PolicyExecutor, t: f64, msgs: &[Msg]) -> Vec<Msg> {
        let mut out = Outbox::new();
        for m in msgs {
            e.on_message(t, m, &mut out);
        }
        out.drain().collect()
    }

    fn moving(out: &[Msg]) -> bool {
        out.iter().any(|m| matches!(m, Msg::PolicyCmd(c) if c.cmd != VelocityCmd::STOP))
    }

    #[test]
    fn any_dense_scan_drives_and_one_with_blind_sectors_stops_then_aborts_naming_the_sector() {
        for (n, fov) in [(360, 359.0), (541, 270.0), (1081, 270.0)] {
            let mut e = executor(PoseSource::Odometry);
            assert!(moving(&step(&mut e, 0.0, &[open_scan(0.0, n, fov), odom(0.0)])), "{n} beams");
        }
        let mut e = executor(PoseSource::Odometry);
        let mut aborted = None;
        for k in 0..60 {
            let t = 0.02 * f64::from(k);
            let out = step(&mut e, t, &[open_scan(t, 8, 315.0), odom(t)]);
            assert!(!moving(&out), "an 8-beam scan never moves the robot");
            aborted = aborted.or(out.into_iter().find_map(|m| match m {
                Msg::SubtaskEvent(ev) => Some((t, ev)),
                _ => None,
            }));
        }
        let (t, ev) = aborted.expect("aborted");
        assert_eq!(ev.outcome, SubtaskOutcome::Aborted);
        assert!(t > SCAN_GRACE_S && t < SCAN_GRACE_S + 0.05, "{t}");
        assert!(ev.detail.contains("no beam of the 8-beam scan covers ray"), "{}", ev.detail);
    }

    #[test]
    fn a_localisation_pose_replaces_odometry_while_it_is_fresh() {
        let topic = PoseSource::Localisation {
            topic: "localization/pose".into(),
            kind: PoseKind::PoseWithCovariance,
        };
        let mut e = executor(topic);
        assert_eq!(e.subscriptions(), &[Topic::Odom, Topic::Pose, Topic::Scan, Topic::ActiveSubtask]);
        // Odometry says the depot, the pose says the robot is at the subtask's goal: the pose wins.
        let goal = e.deployment.bundle().scenario().subtasks()[0].exit().bounding_box();
        let (x_m, y_m) = (0.5 * (goal.0.0 + goal.1.0), 0.5 * (goal.0.1 + goal.1.1));
        let pose = Msg::Pose(Pose { stamp_s: 0.0, x_m, y_m, yaw_rad: 1.6 });
        let out = step(&mut e, 0.0, &[open_scan(0.0, 1081, 270.0), pose, odom(0.0)]);
        let ev = out.iter().find_map(|m| if let Msg::SubtaskEvent(ev) = m { Some(ev) } else { None });
        let ev = ev.expect("the attempt ends at once");
        assert_eq!(ev.outcome, SubtaskOutcome::Success);
        assert!(ev.detail.contains("localisation pose"), "{}", ev.detail);

        // A pose older than the scan timeout means no motion, and after the grace an abort.
        let mut e = executor(PoseSource::Localisation { topic: "loc".into(), kind: PoseKind::Odometry });
        let pose = Msg::Pose(Pose { stamp_s: 0.0, x_m: 18.0, y_m: 18.0, yaw_rad: 0.8 });
        assert!(moving(&step(&mut e, 0.0, &[open_scan(0.0, 1081, 270.0), pose, odom(0.0)])));
        let mut detail = None;
        for k in 1..80 {
            let t = 0.02 * f64::from(k);
            let out = step(&mut e, t, &[open_scan(t, 1081, 270.0), odom(t)]);
            if t > 0.25 + 1e-9 {
                assert!(!moving(&out), "stale pose at {t}");
            }
            detail = detail.or(out.into_iter().find_map(|m| match m {
                Msg::SubtaskEvent(ev) => Some(ev.detail),
                _ => None,
            }));
        }
        assert!(detail.expect("aborted").contains("no fresh pose on loc"));
    }
}
