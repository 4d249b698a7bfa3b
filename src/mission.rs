//! A whole mission: `sim_bridge` (unless another process plays the robot), `safety_monitor`,
//! `policy_executor`, `mission_executive` and optionally the `recorder`. In process they run
//! on the [`Bus`] in lockstep on the simulated clock, so the same seed gives the same mission;
//! over ROS 2 they are r2r nodes in one process talking over DDS on wall time.
//!
//! The run ends shortly after the mission status turns final (so the recording shows the robot
//! stopping), when the simulator reports a collision, geofence breach or tip-over (ground truth
//! the robot's nodes never see), or at the time limit.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rand::SeedableRng;
use sim::{Fidelity, PlanarState, Status, VelocityCmd};

use crate::bundle::deployment::Deployment;
use crate::bundle::deployment::RoutePreference;
use crate::msg::{
    DEFAULT_NAMESPACE, Driven, MissionPhase, MissionReport, MissionStatus, Msg, PoseSource, StartPose,
    SubtaskEvent, Topic,
};
use crate::ros::TwistKind;
use crate::runtime::bus::{Bus, LinkFault};
use crate::runtime::node::{Node, Outbox};
use crate::runtime::nodes::mission_executive::{ExecutiveConfig, MissionExecutive};
use crate::runtime::nodes::policy_executor::{ExecutorConfig, PolicyExecutor};
use crate::runtime::nodes::recorder::{CommandType, RecordError, Recorder, RecorderNode};
use crate::runtime::nodes::safety::{SafetyConfig, SafetyNode};
use crate::runtime::nodes::sim_bridge::{SimBridge, TractionLoss, Truth};
use crate::scenario::Scenario;

/// A perturbed world for the simulator (a scenario overlay applied to the bundle's scenario).
/// The nodes keep the bundle's certified scenario: that is what was certified, and what the
/// robot knows; only `sim_bridge` plays the variant's robot and world.
#[derive(Debug, Clone)]
pub struct WorldOverride {
    /// Variant name (recorded in the report).
    pub name: String,
    /// Its condition tags (recorded in the report).
    pub conditions: Vec<String>,
    /// The overlaid scenario.
    pub scenario: Arc<Scenario>,
}

impl PartialEq for WorldOverride {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.conditions == other.conditions
            && Arc::ptr_eq(&self.scenario, &other.scenario)
    }
}

/// How long the graph keeps running after the mission ended (s).
const SETTLE_S: f64 = 1.0;

/// Faults to inject (testing and bench runs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Dropped or delayed topics.
    pub links: Vec<LinkFault>,
    /// E-stop pressed at this time (s), released at the second if given.
    pub estop: Option<(f64, Option<f64>)>,
    /// A wheel side slipping.
    pub traction: Option<TractionLoss>,
    /// Every policy action is NaN from this time on (s).
    pub policy_nan_after_s: Option<f64>,
}

impl Faults {
    /// Adds a fault written `KIND:START[:DURATION[:VALUE]]` (times in s): `odom-dropout:S:D`,
    /// `scan-dropout:S:D`, `odom-delay:S:D:DELAY`, `estop:S[:D]` (released after D),
    /// `traction:S:D:FACTOR` (left wheel), `policy-nan:S`.
    pub fn add_spec(&mut self, spec: &str) -> Result<(), String> {
        let mut parts = spec.split(':');
        let kind = parts.next().unwrap_or_default();
        let nums: Vec<f64> = parts
            .map(|p| p.parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 0.0))
            .collect::<Option<_>>()
            .ok_or("times and values must be finite numbers ≥ 0")?;
        let need = |n: usize, form: &str| {
            if nums.len() == n { Ok(()) } else { Err(format!("expected {kind}:{form}")) }
        };
        let link = |topic, delay_s| LinkFault { topic, from_s: nums[0], to_s: nums[0] + nums[1], delay_s };
        match kind {
            "odom-dropout" => need(2, "START:DURATION").map(|()| self.links.push(link(Topic::Odom, None))),
            "scan-dropout" => need(2, "START:DURATION").map(|()| self.links.push(link(Topic::Scan, None))),
            "odom-delay" => {
                need(3, "START:DURATION:DELAY").map(|()| self.links.push(link(Topic::Odom, Some(nums[2]))))
            }
            "estop" if nums.len() == 1 => {
                self.estop = Some((nums[0], None));
                Ok(())
            }
            "estop" => {
                need(2, "START[:DURATION]").map(|()| self.estop = Some((nums[0], Some(nums[0] + nums[1]))))
            }
            "traction" if nums.len() == 3 && nums[2] > 1.0 => {
                Err("the wheel factor must be in [0, 1]".into())
            }
            "traction" => need(3, "START:DURATION:FACTOR").map(|()| {
                self.traction =
                    Some(TractionLoss { from_s: nums[0], to_s: nums[0] + nums[1], left_factor: nums[2] })
            }),
            "policy-nan" => need(1, "START").map(|()| self.policy_nan_after_s = Some(nums[0])),
            other => Err(format!(
                "unknown fault `{other}` (odom-dropout, scan-dropout, odom-delay, estop, traction, policy-nan)"
            )),
        }
    }
}

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct MissionConfig {
    /// Goal waypoint.
    pub goal: String,
    /// Simulator playing the robot.
    pub fidelity: Fidelity,
    /// Seed of the start draw and the simulator.
    pub seed: u64,
    /// Record to this MCAP file.
    pub record: Option<PathBuf>,
    /// Where odometry starts (scenario frame); `None`: drawn from the start set with `seed`.
    pub start: Option<StartPose>,
    /// Faults to inject (link faults and the e-stop only in process).
    pub faults: Faults,
    /// How the nodes talk.
    pub transport: Transport,
    /// The world the simulator plays instead of the bundle's (a variant); `None`: the bundle's.
    pub world: Option<WorldOverride>,
    /// How the executive orders the certified routes (tips); default: the certified order.
    pub preference: RoutePreference,
    /// Where an external robot's lidar sits (a simulated robot's is at the centre).
    pub lidar_mount: sim::LidarMount,
    /// Where the nodes take the robot's pose from (a localisation topic: external robots only).
    pub pose: PoseSource,
}

/// Errors of a mission run (refusals are [`Deployment`] errors before it starts).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MissionError {
    /// The scenario's start set cannot be sampled.
    #[error("the scenario's start set cannot be sampled")]
    NoStart,
    /// The simulator could not be built.
    #[error("sim_bridge: {0}")]
    Sim(#[from] sim::Error),
    /// The recording could not be written.
    #[error("recorder: {0}")]
    Record(#[from] RecordError),
    /// A node could not close what it writes (its message names the file).
    #[error("{0}")]
    Finish(String),
    /// The ROS 2 transport failed.
    #[error(transparent)]
    Ros(crate::ros::RosError),
    /// A node panicked while holding the mission log.
    #[error("the mission log was poisoned by a panic")]
    Poisoned,
}

/// How the nodes talk, and who plays the robot.
#[derive(Debug, Clone, PartialEq)]
pub enum Transport {
    /// The in-process bus in lockstep on the simulated clock; `sim_bridge` plays the robot.
    InProcess,
    /// r2r nodes over DDS on wall time, in `namespace`.
    Ros2 {
        /// Robot namespace.
        namespace: String,
        /// `cmd_vel` message type.
        twist: TwistKind,
        /// Whether `sim_bridge` plays the robot (otherwise another process does).
        simulated: bool,
    },
}

impl Transport {
    fn simulated_robot(&self) -> bool {
        match self {
            Transport::InProcess => true,
            Transport::Ros2 { simulated, .. } => *simulated,
        }
    }

    fn namespace(&self) -> &str {
        match self {
            Transport::InProcess => DEFAULT_NAMESPACE,
            Transport::Ros2 { namespace, .. } => namespace,
        }
    }
}

/// What the [`Watcher`] saw.
#[derive(Debug, Default)]
struct Log {
    statuses: Vec<MissionStatus>,
    events: Vec<SubtaskEvent>,
    cmd_vel: Vec<(f64, VelocityCmd)>,
    ended_s: Option<f64>,
    last_s: f64,
    /// Odometry-measured distance driven forward and in reverse (m).
    driven: Driven,
    /// The last odometry message (stamp s, forward speed m/s).
    last_odom: Option<(f64, f64)>,
}

/// A node that watches the mission for the caller and ends the run: a settle time after the
/// mission status turns final, on a simulator failure, or at the time limit (measured from
/// the first message it sees, so it works on either clock).
#[derive(Debug)]
struct Watcher {
    limit_s: f64,
    first_s: Option<f64>,
    truth: Option<Arc<Mutex<Truth>>>,
    log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
}

impl Watcher {
    fn new(limit_s: f64, truth: Option<Arc<Mutex<Truth>>>) -> Watcher {
        Watcher { limit_s, first_s: None, truth, log: Arc::default(), stop: Arc::default() }
    }

    fn check(&mut self, now_s: f64) {
        let first = *self.first_s.get_or_insert(now_s);
        let crashed = self.truth.as_ref().is_some_and(|t| t.lock().map_or(true, |t| t.status.is_some()));
        let Ok(mut log) = self.log.lock() else { return self.stop.store(true, Ordering::Relaxed) };
        log.last_s = now_s;
        let settled = log.ended_s.is_some_and(|t| now_s >= t + SETTLE_S);
        if settled || crashed || now_s - first >= self.limit_s {
            self.stop.store(true, Ordering::Relaxed);
        }
    }
}

impl Node for Watcher {
    fn name(&self) -> &'static str {
        "mission_watcher"
    }

    fn subscriptions(&self) -> &'static [Topic] {
        &[Topic::MissionStatus, Topic::SubtaskEvent, Topic::CmdVel, Topic::Odom]
    }

    fn publications(&self) -> &'static [Topic] {
        &[]
    }

    fn period_s(&self) -> Option<f64> {
        Some(0.1)
    }

    fn on_message(&mut self, now_s: f64, msg: &Msg, _out: &mut Outbox) {
        if let Ok(mut log) = self.log.lock() {
            match msg {
                Msg::MissionStatus(s) => {
                    if s.phase.is_final() && log.ended_s.is_none() {
                        log.ended_s = Some(now_s);
                    }
                    log.statuses.push(s.clone());
                }
                Msg::SubtaskEvent(e) => log.events.push(e.clone()),
                Msg::CmdVel(c) => log.cmd_vel.push((now_s, c.cmd)),
                Msg::Odom(o) => {
                    // Speed × time between odometry stamps, by direction (the mean of the two ends).
                    if let Some((t, v)) = log.last_odom
                        && o.stamp_s > t
                    {
                        let (dt, v) = (o.stamp_s - t, 0.5 * (v + o.state.speed_mps));
                        if v.is_finite() {
                            log.driven.forward_m += v.max(0.0) * dt;
                            log.driven.reverse_m += (-v).max(0.0) * dt;
                        }
                    }
                    log.last_odom = Some((o.stamp_s, o.state.speed_mps));
                }
                _ => {}
            }
        }
        self.check(now_s);
    }

    fn on_tick(&mut self, now_s: f64, _out: &mut Outbox) {
        self.check(now_s);
    }
}

/// Runs a mission to `config.goal`, from `config.start` or a start drawn from the scenario's
/// start set.
pub fn run(deployment: Arc<Deployment>, config: &MissionConfig) -> Result<MissionReport, MissionError> {
    let scenario = deployment.bundle().scenario();
    let start = match config.start {
        Some(s) => s,
        None => {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(config.seed);
            let s = scenario.start().sample(&mut rng).ok_or(MissionError::NoStart)?;
            StartPose { x_m: s.x_m, y_m: s.y_m, yaw_rad: sim::wrap_angle(s.yaw_rad) }
        }
    };
    // What the simulator plays: the variant's world, or the bundle's.
    let played = config.world.as_ref().map_or(scenario, |w| &*w.scenario);
    let robot = scenario.robot();
    let mut nodes: Vec<Box<dyn Node>> = Vec::new();
    let mut truth = None;
    if config.transport.simulated_robot() {
        let mut bridge = SimBridge::new(played, config.fidelity, config.seed, start)?;
        if let Some(loss) = config.faults.traction {
            bridge = bridge.with_traction_loss(loss);
        }
        truth = Some(bridge.truth());
        nodes.push(Box::new(bridge));
    }
    let safety = SafetyConfig {
        watch_scan: true,
        ..SafetyConfig::for_robot(robot, scenario.world().geofence.clone())
    };
    nodes.push(Box::new(SafetyNode::new(safety, start, robot.control_hz).with_pose(config.pose.clone())));
    let executor = ExecutorConfig {
        start,
        scan_timeout_s: robot.cmd_timeout_s,
        lidar_mount: config.lidar_mount,
        pose: config.pose.clone(),
        nan_after_s: config.faults.policy_nan_after_s,
    };
    nodes.push(Box::new(PolicyExecutor::new(Arc::clone(&deployment), executor)));
    let executive = ExecutiveConfig {
        start,
        pose: config.pose.clone(),
        goal: Some(config.goal.clone()),
        safety_hold_s: 1.0,
    };
    nodes.push(Box::new(
        MissionExecutive::new(Arc::clone(&deployment), executive).with_preference(config.preference.clone()),
    ));
    if let Some(path) = &config.record {
        let commands = match config.transport {
            Transport::Ros2 { twist: TwistKind::Stamped, .. } => CommandType::TwistStamped,
            _ => CommandType::Twist,
        };
        let mut recorder =
            Recorder::create(path, config.transport.namespace(), commands).map_err(MissionError::Record)?;
        if deployment.unverified() {
            let note = "running with --allow-unverified: the certificate was not checked";
            recorder.record_note(0.0, note).map_err(MissionError::Record)?;
        }
        nodes.push(Box::new(RecorderNode::new(recorder)));
    }
    // The longest route's horizons, plus slack for replanning.
    let limit_s = scenario.subtasks().iter().map(|t| f64::from(t.horizon_steps())).sum::<f64>()
        / robot.control_hz
        + 10.0;
    let watcher = Watcher::new(limit_s, truth.clone());
    let log = Arc::clone(&watcher.log);
    let stop = Arc::clone(&watcher.stop);
    nodes.push(Box::new(watcher));

    match &config.transport {
        Transport::InProcess => {
            let mut bus = Bus::new();
            for n in nodes {
                bus.add(n);
            }
            for f in &config.faults.links {
                bus.add_fault(*f);
            }
            if let Some((on, off)) = config.faults.estop {
                bus.publish_at(on, Msg::EStop(true));
                if let Some(off) = off {
                    bus.publish_at(off, Msg::EStop(false));
                }
            }
            let _ = bus.run_until(limit_s + SETTLE_S, |_, _| {
                if stop.load(Ordering::Relaxed) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            });
            bus.finish().map_err(MissionError::Finish)?;
        }
        Transport::Ros2 { namespace, twist, .. } => {
            let options =
                crate::ros::SpinOptions { twist: *twist, stop: Some(stop), pose: config.pose.clone() };
            crate::ros::spin_all(nodes, namespace, &options).map_err(MissionError::Ros)?;
        }
    }
    let Log { statuses, events, cmd_vel, ended_s, last_s, driven, .. } =
        std::mem::take(&mut *log.lock().map_err(|_| MissionError::Poisoned)?);

    let truth = truth.and_then(|t| t.lock().ok().map(|t| t.clone()));
    let last = statuses.last();
    let sim_failure = truth.as_ref().and_then(|t| t.status).map(|s| match s {
        Status::Collision { obstacle } => {
            format!("collision with obstacle `{}`", played.obstacle_id(obstacle))
        }
        Status::GeofenceBreach => "geofence breach".into(),
        Status::TipOver => "tip-over".into(),
        Status::Running => "running".into(),
    });
    let (phase, detail) = match (&sim_failure, last) {
        (Some(f), _) => (MissionPhase::Failed, format!("simulator: {f} (ground truth)")),
        (None, Some(s)) => (s.phase, s.detail.clone()),
        (None, None) => (MissionPhase::Idle, "no mission status was published".into()),
    };
    let pose = |p: &PlanarState| [p.x_m, p.y_m, p.yaw_rad];
    Ok(MissionReport {
        goal: config.goal.clone(),
        phase,
        detail,
        statuses,
        events,
        sim_failure,
        duration_s: ended_s.unwrap_or(last_s),
        start: [start.x_m, start.y_m, start.yaw_rad],
        end: truth.as_ref().map(|t| pose(&t.state)),
        track: truth.map(|t| t.track).unwrap_or_default(),
        seed: config.seed,
        unverified: deployment.unverified(),
        variant: config.world.as_ref().map(|w| w.name.clone()),
        conditions: config.world.as_ref().map(|w| w.conditions.clone()).unwrap_or_default(),
        cmd_vel,
        driven,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs_parse_and_bad_ones_say_the_form() {
        let mut f = Faults::default();
        for spec in
            ["odom-dropout:10:2", "odom-delay:5:1:0.3", "estop:3:4", "traction:1:2:0.5", "policy-nan:7"]
        {
            f.add_spec(spec).expect(spec);
        }
        assert_eq!(f.links[0], LinkFault { topic: Topic::Odom, from_s: 10.0, to_s: 12.0, delay_s: None });
        assert_eq!(f.links[1].delay_s, Some(0.3));
        assert_eq!(f.estop, Some((3.0, Some(7.0))));
        assert_eq!(f.traction.map(|t| t.left_factor), Some(0.5));
        assert_eq!(f.policy_nan_after_s, Some(7.0));
        assert!(f.add_spec("odom-dropout:10").expect_err("short").contains("START:DURATION"));
        assert!(f.add_spec("traction:1:2:1.5").is_err());
        assert!(f.add_spec("estop:nan").is_err());
        assert!(f.add_spec("meteor:1").expect_err("unknown").contains("unknown fault"));
    }
}
