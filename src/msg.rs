//! What travels between the nodes: one [`Msg`] per topic of DESIGN §6, as plain Rust values.
//!
//! Standard ROS messages (odometry, commands, IMU, scan, e-stop) keep only the fields the
//! nodes use; `src/ros/` converts them to and from the ROS types. Our own topics carry JSON of
//! the `serde` structs below on `std_msgs/String` (DESIGN §9), so their field names are the
//! documented schema.
//!
//! Frames: odometry is in the robot's odometry frame (zero where odometry started), as on the
//! Warthog; nodes map it into the scenario frame with [`StartPose`].

use serde::{Deserialize, Serialize};
use sim::{PlanarState, VelocityCmd, wrap_angle};

/// The robot namespace when none is given (Clearpath's first W200).
pub const DEFAULT_NAMESPACE: &str = "w200_0000";

/// A topic, relative to the robot namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Topic {
    /// `cmd_vel`: the safety monitor's output, into twist_mux (Twist or TwistStamped).
    CmdVel,
    /// `sim2real/policy/cmd_vel`: the policy executor's command, into the safety monitor.
    PolicyCmd,
    /// `platform/odom/filtered` (nav_msgs/Odometry).
    Odom,
    /// `sensors/imu_0/data` (sensor_msgs/Imu).
    Imu,
    /// `sensors/lidar2d_0/scan` (sensor_msgs/LaserScan): the range rays of the policies.
    Scan,
    /// A localisation pose in the scenario (map) frame, on the topic the nodes' `pose_topic`
    /// parameter names (geometry_msgs/PoseWithCovarianceStamped or nav_msgs/Odometry; default
    /// name `localization/pose`). When configured it replaces odometry as the pose.
    Pose,
    /// `platform/emergency_stop` (std_msgs/Bool, true = stopped).
    EStop,
    /// `sim2real/mission/goal` ([`GoalRequest`] JSON).
    Goal,
    /// `sim2real/mission/cancel` (any string; cancels the mission).
    Cancel,
    /// `sim2real/safety/rearm` (any string; re-arms the safety monitor).
    Rearm,
    /// `sim2real/mission/status` ([`MissionStatus`] JSON).
    MissionStatus,
    /// `sim2real/subtask/active` ([`ActiveSubtask`] JSON): the executive tells the executor
    /// what to run.
    ActiveSubtask,
    /// `sim2real/subtask/event` ([`SubtaskEvent`] JSON).
    SubtaskEvent,
    /// `sim2real/safety/status` ([`SafetyStatus`] JSON, on every change).
    SafetyStatus,
    /// `diagnostics` (diagnostic_msgs/DiagnosticArray, 1 Hz per node that reports).
    Diagnostics,
    /// `sim2real/operator/say` (std_msgs/String, plain text): what the operator says.
    OperatorSay,
    /// `sim2real/operator/reply` (std_msgs/String, plain text): the dialogue agent's answer.
    OperatorReply,
    /// `sim2real/tips` ([`TipsUpdate`] JSON, latched): the tips planner's current tips.
    Tips,
}

impl Topic {
    /// Every topic, in a fixed order.
    pub const ALL: [Topic; 18] = [
        Topic::CmdVel,
        Topic::PolicyCmd,
        Topic::Odom,
        Topic::Imu,
        Topic::Scan,
        Topic::Pose,
        Topic::EStop,
        Topic::Goal,
        Topic::Cancel,
        Topic::Rearm,
        Topic::MissionStatus,
        Topic::ActiveSubtask,
        Topic::SubtaskEvent,
        Topic::SafetyStatus,
        Topic::Diagnostics,
        Topic::OperatorSay,
        Topic::OperatorReply,
        Topic::Tips,
    ];

    /// The topic name relative to the namespace.
    pub fn name(self) -> &'static str {
        match self {
            Topic::CmdVel => "cmd_vel",
            Topic::PolicyCmd => "sim2real/policy/cmd_vel",
            Topic::Odom => "platform/odom/filtered",
            Topic::Imu => "sensors/imu_0/data",
            Topic::Scan => "sensors/lidar2d_0/scan",
            Topic::Pose => "localization/pose",
            Topic::EStop => "platform/emergency_stop",
            Topic::Goal => "sim2real/mission/goal",
            Topic::Cancel => "sim2real/mission/cancel",
            Topic::Rearm => "sim2real/safety/rearm",
            Topic::MissionStatus => "sim2real/mission/status",
            Topic::ActiveSubtask => "sim2real/subtask/active",
            Topic::SubtaskEvent => "sim2real/subtask/event",
            Topic::SafetyStatus => "sim2real/safety/status",
            Topic::Diagnostics => "diagnostics",
            Topic::OperatorSay => "sim2real/operator/say",
            Topic::OperatorReply => "sim2real/operator/reply",
            Topic::Tips => "sim2real/tips",
        }
    }
}

/// A velocity command with the time it was made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Command {
    /// Time stamp (s).
    pub stamp_s: f64,
    /// Forward speed and yaw rate.
    pub cmd: VelocityCmd,
}

/// Odometry in the odometry frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Odom {
    /// Time stamp (s).
    pub stamp_s: f64,
    /// Pose and forward speed.
    pub state: PlanarState,
    /// Yaw rate (rad/s).
    pub yaw_rate_rps: f64,
}

/// A localisation pose in the scenario frame (no odometry drift, no start pose to apply).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    /// Time stamp (s).
    pub stamp_s: f64,
    /// East (m).
    pub x_m: f64,
    /// North (m).
    pub y_m: f64,
    /// Heading, counter-clockwise from east (rad).
    pub yaw_rad: f64,
}

/// Where a node takes the robot's pose from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PoseSource {
    /// Odometry (`platform/odom/filtered`) mapped by the start pose.
    #[default]
    Odometry,
    /// A localisation topic (scenario frame).
    Localisation {
        /// Topic name (relative to the namespace, or absolute).
        topic: String,
        /// Message type.
        kind: PoseKind,
    },
}

/// The message type of a localisation topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoseKind {
    /// geometry_msgs/PoseWithCovarianceStamped (AMCL, robot_localization's map output).
    PoseWithCovariance,
    /// nav_msgs/Odometry in the map frame.
    Odometry,
}

impl PoseSource {
    /// From the `pose_topic` and `pose_type` parameters: an empty topic means odometry.
    pub fn from_params(topic: &str, kind: &str) -> Result<PoseSource, String> {
        if topic.is_empty() {
            return Ok(PoseSource::Odometry);
        }
        let kind = match kind {
            "pose_with_covariance" => PoseKind::PoseWithCovariance,
            "odometry" => PoseKind::Odometry,
            other => return Err(format!("`{other}` is not a pose type (pose_with_covariance or odometry)")),
        };
        Ok(PoseSource::Localisation { topic: topic.into(), kind })
    }

    /// Whether a localisation topic replaces odometry.
    pub fn is_localisation(&self) -> bool {
        matches!(self, PoseSource::Localisation { .. })
    }
}

/// An IMU reading in the body frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Imu {
    /// Time stamp (s).
    pub stamp_s: f64,
    /// Angular velocity about body x, y, z (rad/s).
    pub gyro_rps: [f64; 3],
    /// Linear acceleration along body x, y, z (m/s²).
    pub accel_mps2: [f64; 3],
    /// Orientation roll, pitch, yaw (rad).
    pub rpy_rad: [f64; 3],
}

/// A planar laser scan, stamped, with the readings as the lidar gave them (REP 117: `+inf`
/// for no return); `sim::RayConfig::ranges_from_scan` turns it into the policy's rays.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    /// Time stamp (s).
    pub stamp_s: f64,
    /// The beams, in the lidar's frame.
    pub beams: sim::LaserScan,
}

/// `sim2real/mission/goal`: drive to a goal waypoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalRequest {
    /// Goal waypoint id (one of the certificate's goals).
    pub goal: String,
}

/// `sim2real/tips`: what the tips planner learned. The executive applies `avoid` as a route
/// preference among the certified routes only; `retrain` is a request for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TipsUpdate {
    /// Tip store version.
    pub version: u64,
    /// The tips, in words.
    pub tips: Vec<String>,
    /// Subtasks to avoid where a certified alternative exists, with their penalty.
    pub avoid: Vec<Avoid>,
    /// Subtasks that keep failing and should be retrained.
    pub retrain: Vec<String>,
}

/// A subtask the executive should avoid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Avoid {
    /// Subtask id.
    pub subtask: String,
    /// Penalty (≥ 0) added to every route through it.
    pub penalty: f64,
}

/// `sim2real/subtask/active`: which subtask the executor runs (`None`: stop and idle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveSubtask {
    /// Subtask id, or none to idle.
    pub subtask: Option<String>,
}

/// How a subtask attempt ended, as the robot can tell (from odometry and time; collisions
/// are seen only as what follows them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubtaskOutcome {
    /// Odometry entered the exit set.
    Success,
    /// The horizon ran out.
    Timeout,
    /// The executor cannot run it (no fresh scan or odometry fitting the policy, ...).
    Aborted,
}

/// `sim2real/subtask/event`: a subtask attempt ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubtaskEvent {
    /// Subtask id.
    pub subtask: String,
    /// How it ended.
    pub outcome: SubtaskOutcome,
    /// Time from activation to the end (s).
    pub duration_s: f64,
    /// Policy decisions taken.
    pub decisions: u64,
    /// What happened, for people.
    pub detail: String,
}

/// Phase of a mission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissionPhase {
    /// No mission: waiting for a goal.
    Idle,
    /// Driving a certified route.
    Running,
    /// The goal was reached.
    Succeeded,
    /// Stopped safely without reaching the goal (see `detail`).
    Failed,
    /// Stopped by the e-stop; a new goal is needed after release and re-arm.
    EStopped,
    /// Cancelled by the operator.
    Cancelled,
    /// The goal was refused (not certified, or the robot is in no route's entry set).
    Rejected,
}

impl MissionPhase {
    /// Whether a mission in this phase is over.
    pub fn is_final(self) -> bool {
        !matches!(self, MissionPhase::Idle | MissionPhase::Running)
    }
}

/// `sim2real/mission/status`, published on every change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissionStatus {
    /// Time stamp (s).
    pub stamp_s: f64,
    /// Phase.
    pub phase: MissionPhase,
    /// Goal waypoint, if any.
    pub goal: Option<String>,
    /// The route being driven (subtask ids).
    pub route: Vec<String>,
    /// Index into `route` of the active subtask.
    pub step: usize,
    /// Certified lower bound on reaching the goal along `route` (from the certificate).
    pub lower_bound: Option<f64>,
    /// What happened, for people.
    pub detail: String,
    /// Whether the bundle runs without a passing certificate (`--allow-unverified`).
    pub unverified: bool,
}

/// The safety monitor's verdict, published on every change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafetyVerdict {
    /// Commands pass (within limits).
    Passing,
    /// E-stop on, or released but not re-armed.
    EStop,
    /// Geofence reached; latched until re-armed.
    Geofence,
    /// No, stale or non-finite odometry.
    StaleOdometry,
    /// No or stale command.
    StaleCommand,
    /// No or stale scan.
    StaleScan,
    /// A non-finite command (NaN, ±inf).
    NonFiniteCommand,
}

/// `sim2real/safety/status`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafetyStatus {
    /// Time stamp (s).
    pub stamp_s: f64,
    /// The verdict.
    pub verdict: SafetyVerdict,
}

/// The name a unit enum has in the JSON of our topics (`"stale_odometry"`, `"e_stopped"`).
pub fn json_name(value: &impl Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// Level of a [`Diagnostic`] (diagnostic_msgs/DiagnosticStatus levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticLevel {
    /// Working as intended.
    Ok = 0,
    /// Holding the robot for a reason that may clear (watchdog, waiting for a goal's odometry).
    Warn = 1,
    /// Stopped for a reason that needs a person (e-stop, geofence, a failed mission).
    Error = 2,
}

/// One component's health: a `diagnostic_msgs/DiagnosticStatus` (our nodes publish one per
/// DiagnosticArray on `diagnostics`).
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Time stamp (s).
    pub stamp_s: f64,
    /// Level.
    pub level: DiagnosticLevel,
    /// Status name, `sim2real/<node>`.
    pub name: String,
    /// One line for people.
    pub message: String,
    /// Key-value details.
    pub values: Vec<(String, String)>,
}

/// A message on a topic.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// On [`Topic::CmdVel`].
    CmdVel(Command),
    /// On [`Topic::PolicyCmd`].
    PolicyCmd(Command),
    /// On [`Topic::Odom`].
    Odom(Odom),
    /// On [`Topic::Imu`].
    Imu(Imu),
    /// On [`Topic::Scan`].
    Scan(Scan),
    /// On [`Topic::Pose`].
    Pose(Pose),
    /// On [`Topic::EStop`] (true = stopped).
    EStop(bool),
    /// On [`Topic::Goal`].
    Goal(GoalRequest),
    /// On [`Topic::Cancel`].
    Cancel,
    /// On [`Topic::Rearm`].
    Rearm,
    /// On [`Topic::MissionStatus`].
    MissionStatus(MissionStatus),
    /// On [`Topic::ActiveSubtask`].
    ActiveSubtask(ActiveSubtask),
    /// On [`Topic::SubtaskEvent`].
    SubtaskEvent(SubtaskEvent),
    /// On [`Topic::SafetyStatus`].
    SafetyStatus(SafetyStatus),
    /// On [`Topic::Diagnostics`]: the statuses of one DiagnosticArray.
    Diagnostics(Vec<Diagnostic>),
    /// On [`Topic::OperatorSay`].
    OperatorSay(String),
    /// On [`Topic::OperatorReply`].
    OperatorReply(String),
    /// On [`Topic::Tips`].
    Tips(TipsUpdate),
}

impl Msg {
    /// The topic this message travels on.
    pub fn topic(&self) -> Topic {
        match self {
            Msg::CmdVel(_) => Topic::CmdVel,
            Msg::PolicyCmd(_) => Topic::PolicyCmd,
            Msg::Odom(_) => Topic::Odom,
            Msg::Imu(_) => Topic::Imu,
            Msg::Scan(_) => Topic::Scan,
            Msg::Pose(_) => Topic::Pose,
            Msg::EStop(_) => Topic::EStop,
            Msg::Goal(_) => Topic::Goal,
            Msg::Cancel => Topic::Cancel,
            Msg::Rearm => Topic::Rearm,
            Msg::MissionStatus(_) => Topic::MissionStatus,
            Msg::ActiveSubtask(_) => Topic::ActiveSubtask,
            Msg::SubtaskEvent(_) => Topic::SubtaskEvent,
            Msg::SafetyStatus(_) => Topic::SafetyStatus,
            Msg::Diagnostics(_) => Topic::Diagnostics,
            Msg::OperatorSay(_) => Topic::OperatorSay,
            Msg::OperatorReply(_) => Topic::OperatorReply,
            Msg::Tips(_) => Topic::Tips,
        }
    }

    /// The JSON payload of an own-topic message (`None` for standard messages). Cancel and
    /// re-arm carry `{}`; the operator's words `{"text": ...}` (plain text over ROS, JSON in
    /// recordings).
    pub fn to_json(&self) -> Option<String> {
        let json = match self {
            Msg::Goal(m) => serde_json::to_string(m),
            Msg::MissionStatus(m) => serde_json::to_string(m),
            Msg::ActiveSubtask(m) => serde_json::to_string(m),
            Msg::SubtaskEvent(m) => serde_json::to_string(m),
            Msg::SafetyStatus(m) => serde_json::to_string(m),
            Msg::Tips(m) => serde_json::to_string(m),
            Msg::Cancel | Msg::Rearm => return Some("{}".into()),
            Msg::OperatorSay(text) | Msg::OperatorReply(text) => serde_json::to_string(&Words { text }),
            _ => return None,
        };
        // These types serialise infallibly (no maps with non-string keys, no custom code).
        json.ok()
    }

    /// Parses the JSON payload of an own topic; the error says what was wrong. Cancel and
    /// re-arm accept any text.
    pub fn from_json(topic: Topic, text: &str) -> Result<Msg, String> {
        let bad = |e: serde_json::Error| format!("{}: {e}", topic.name());
        Ok(match topic {
            Topic::Goal => Msg::Goal(serde_json::from_str(text).map_err(bad)?),
            Topic::MissionStatus => Msg::MissionStatus(serde_json::from_str(text).map_err(bad)?),
            Topic::ActiveSubtask => Msg::ActiveSubtask(serde_json::from_str(text).map_err(bad)?),
            Topic::SubtaskEvent => Msg::SubtaskEvent(serde_json::from_str(text).map_err(bad)?),
            Topic::SafetyStatus => Msg::SafetyStatus(serde_json::from_str(text).map_err(bad)?),
            Topic::Tips => Msg::Tips(serde_json::from_str(text).map_err(bad)?),
            Topic::Cancel => Msg::Cancel,
            Topic::Rearm => Msg::Rearm,
            Topic::OperatorSay => {
                Msg::OperatorSay(serde_json::from_str::<OwnedWords>(text).map_err(bad)?.text)
            }
            Topic::OperatorReply => {
                Msg::OperatorReply(serde_json::from_str::<OwnedWords>(text).map_err(bad)?.text)
            }
            other => return Err(format!("{} is not a JSON topic", other.name())),
        })
    }
}

/// The recorded form of the operator's words.
#[derive(Serialize)]
struct Words<'a> {
    text: &'a str,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnedWords {
    text: String,
}

/// The robot's pose in the scenario frame where odometry started (`start_pose` parameter):
/// maps odometry-frame poses into the scenario frame and back.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StartPose {
    /// x (m).
    pub x_m: f64,
    /// y (m).
    pub y_m: f64,
    /// Heading (rad).
    pub yaw_rad: f64,
}

impl StartPose {
    /// From the `[x_m, y_m, yaw_rad]` parameter.
    pub fn from_array(p: [f64; 3]) -> StartPose {
        StartPose { x_m: p[0], y_m: p[1], yaw_rad: p[2] }
    }

    /// An odometry-frame state in the scenario frame.
    pub fn to_scenario(&self, s: &PlanarState) -> PlanarState {
        let (sin, cos) = self.yaw_rad.sin_cos();
        PlanarState {
            x_m: self.x_m + cos * s.x_m - sin * s.y_m,
            y_m: self.y_m + sin * s.x_m + cos * s.y_m,
            yaw_rad: wrap_angle(self.yaw_rad + s.yaw_rad),
            speed_mps: s.speed_mps,
        }
    }

    /// A scenario-frame state in the odometry frame (inverse of [`StartPose::to_scenario`]).
    pub fn to_odom(&self, s: &PlanarState) -> PlanarState {
        let (sin, cos) = self.yaw_rad.sin_cos();
        let (dx, dy) = (s.x_m - self.x_m, s.y_m - self.y_m);
        PlanarState {
            x_m: cos * dx + sin * dy,
            y_m: -sin * dx + cos * dy,
            yaw_rad: wrap_angle(s.yaw_rad - self.yaw_rad),
            speed_mps: s.speed_mps,
        }
    }
}

/// How a mission went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissionReport {
    /// Goal waypoint.
    pub goal: String,
    /// Final phase (`running` when the time limit ended it).
    pub phase: MissionPhase,
    /// The last status detail, or what the simulator saw.
    pub detail: String,
    /// Every status published.
    pub statuses: Vec<MissionStatus>,
    /// Every subtask event.
    pub events: Vec<SubtaskEvent>,
    /// Terminal simulator status (collision, geofence, tip-over), ground truth.
    pub sim_failure: Option<String>,
    /// Mission duration on the simulated clock (s).
    pub duration_s: f64,
    /// Start state (scenario frame).
    pub start: [f64; 3],
    /// True end state (scenario frame), when a simulator played the robot.
    pub end: Option<[f64; 3]>,
    /// Seed.
    pub seed: u64,
    /// Whether it ran without a certificate.
    pub unverified: bool,
    /// The variant the simulator played, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The variant's condition tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// Every `cmd_vel` published: (time s, command). Not in the JSON line.
    #[serde(skip)]
    pub cmd_vel: Vec<(f64, VelocityCmd)>,
    /// The simulated robot's true positions, one per control step (empty with an external
    /// robot). Not in the JSON line.
    #[serde(skip)]
    pub track: Vec<sim::Vec2>,
    /// How far odometry says the robot drove, by direction.
    pub driven: Driven,
}

/// Distance driven forward and in reverse (m), from odometry's speed.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Driven {
    /// Forward (m).
    pub forward_m: f64,
    /// In reverse (m).
    pub reverse_m: f64,
}

impl Driven {
    /// The share of the distance driven forward (1 when the robot did not move).
    pub fn forward_share(&self) -> f64 {
        let total = self.forward_m + self.reverse_m;
        if total > 0.0 { self.forward_m / total } else { 1.0 }
    }
}

impl MissionReport {
    /// Whether the goal was reached.
    pub fn succeeded(&self) -> bool {
        self.phase == MissionPhase::Succeeded && self.sim_failure.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_pose_round_trips() {
        let p = StartPose { x_m: 3.0, y_m: -2.0, yaw_rad: 0.7 };
        let s = PlanarState { x_m: 1.5, y_m: 4.0, yaw_rad: -2.9, speed_mps: 1.2 };
        let back = p.to_odom(&p.to_scenario(&s));
        assert!((back.x_m - s.x_m).abs() < 1e-12 && (back.y_m - s.y_m).abs() < 1e-12);
        assert!((wrap_angle(back.yaw_rad - s.yaw_rad)).abs() < 1e-12);
        // The odometry origin is the start pose.
        let origin = p.to_scenario(&PlanarState::default());
        assert!((origin.x_m - 3.0).abs() < 1e-12 && (origin.y_m + 2.0).abs() < 1e-12);
        assert!((origin.yaw_rad - 0.7).abs() < 1e-12);
    }

    #[test]
    fn own_topics_round_trip_as_json_and_bad_json_names_the_topic() {
        let status = Msg::MissionStatus(MissionStatus {
            stamp_s: 1.5,
            phase: MissionPhase::Running,
            goal: Some("shed".into()),
            route: vec!["a".into(), "b".into()],
            step: 1,
            lower_bound: Some(0.93),
            detail: "driving".into(),
            unverified: false,
        });
        let json = status.to_json().expect("own topic");
        assert_eq!(Msg::from_json(Topic::MissionStatus, &json), Ok(status));
        let err = Msg::from_json(Topic::Goal, r#"{"goal": 3}"#).expect_err("bad type");
        assert!(err.starts_with("sim2real/mission/goal:"), "{err}");
        assert!(Msg::from_json(Topic::Goal, r#"{"goal": "x", "speed": 10}"#).is_err());
        assert_eq!(
            Msg::Odom(Odom { stamp_s: 0.0, state: PlanarState::default(), yaw_rate_rps: 0.0 }).to_json(),
            None
        );
    }
}
