//! The ROS 2 bridge: runs [`Node`](crate::runtime::Node)s as r2r nodes over DDS (feature `ros2`).
//!
//! Data flow: [`spin`] creates one r2r node named after the runtime node, in the robot
//! namespace, with a subscription per [`Node::subscriptions`](crate::runtime::Node::subscriptions)
//! topic and a publisher per publication. Each incoming ROS message is converted into a
//! [`Msg`](crate::msg::Msg) and handed to `on_message`; a wall-clock timer calls `on_tick`
//! every [`Node::period_s`](crate::runtime::Node::period_s); whatever the node pushes into its
//! outbox is converted back and published. `now_s` is a monotonic clock (seconds since the
//! bridge started); header stamps are ROS time (the system clock), mapped onto that monotonic
//! timeline on the way in and back on the way out, so a message's age survives the trip.
//! [`spin_all`] does the same for several nodes in one process (`sim2real mission --transport
//! ros2`): separate r2r nodes that still talk over DDS. SIGINT or SIGTERM ends the loop cleanly
//! and calls [`Node::finish`](crate::runtime::Node::finish).
//!
//! Parameters: rcl parses `--ros-args` (`--params-file`, `-p name:=value`, `-r __ns:=...`)
//! from the process arguments; [`read_params`] returns what was set for a node, so the caller
//! can do: parameter specs → [`read_params`] → `Params::new` → build the node → [`spin`].
//!
//! Without feature `ros2` the same functions exist and return [`RosError::NotBuilt`]. The
//! message types of ROS live only in this module (DESIGN §2).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::msg::{PoseSource, Topic};

#[cfg(feature = "ros2")]
mod convert;
#[cfg(feature = "ros2")]
mod enabled;
#[cfg(feature = "ros2")]
pub use enabled::{read_params, spin, spin_all};

#[cfg(not(feature = "ros2"))]
mod disabled;
#[cfg(not(feature = "ros2"))]
pub use disabled::{read_params, spin, spin_all};

/// Why the bridge failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RosError {
    /// This binary was built without feature `ros2`.
    #[error("built without feature `ros2` (rebuild with `--features ros2` after scripts/setup-ros.sh)")]
    NotBuilt,
    /// An rcl call failed.
    #[error("ROS node `{node}`: {action} failed: {detail}")]
    Rcl {
        /// Node name.
        node: String,
        /// What was being done (`create node`, `subscribe to cmd_vel`, ...).
        action: String,
        /// rcl's message.
        detail: String,
    },
    /// A ROS parameter has a type the node cannot take.
    #[error("ROS node `{node}`, parameter `{name}`: {reason}")]
    Param {
        /// Node name.
        node: String,
        /// Parameter name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The signal handlers could not be installed.
    #[error("cannot install the SIGINT/SIGTERM handlers: {detail}")]
    Signal {
        /// The OS error.
        detail: String,
    },
    /// A node failed to finish (flush its files) at shutdown.
    #[error("node `{node}` failed to finish: {detail}")]
    Finish {
        /// Node name.
        node: String,
        /// The node's message.
        detail: String,
    },
}

/// Which message type carries velocity commands (`cmd_vel`, `sim2real/policy/cmd_vel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TwistKind {
    /// `geometry_msgs/Twist` (Clearpath's default before Jazzy).
    #[default]
    Unstamped,
    /// `geometry_msgs/TwistStamped` (Clearpath Jazzy and Nav2).
    Stamped,
}

impl TwistKind {
    /// From a node's `use_stamped` parameter.
    pub fn from_use_stamped(use_stamped: bool) -> TwistKind {
        if use_stamped { TwistKind::Stamped } else { TwistKind::Unstamped }
    }
}

/// The message type of a velocity-command topic: `cmd_vel` takes the configured kind (the
/// robot's twist_mux decides); `sim2real/policy/cmd_vel` is always stamped, because it is our
/// own topic between two of our nodes whose `use_stamped` settings need not agree (the policy
/// executor has none), and the safety monitor's watchdog wants the stamp.
pub fn twist_kind(topic: Topic, cmd_vel: TwistKind) -> TwistKind {
    match topic {
        Topic::PolicyCmd => TwistKind::Stamped,
        _ => cmd_vel,
    }
}

/// How the bridge runs a node.
#[derive(Debug, Clone, Default)]
pub struct SpinOptions {
    /// Message type of `cmd_vel` (see [`twist_kind`]).
    pub twist: TwistKind,
    /// Set to stop the loop from another thread (as SIGINT/SIGTERM do); `None`: signals only.
    pub stop: Option<Arc<AtomicBool>>,
    /// Where [`Topic::Pose`] comes from, for nodes that subscribe to it.
    pub pose: PoseSource,
}

/// QoS of a topic (DESIGN §9), independent of r2r so it can be checked without ROS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QosClass {
    /// Reliable, volatile, keep last 10: commands, odometry, IMU, own event topics.
    Reliable,
    /// Best effort, volatile, keep last 5 (rclcpp's sensor-data profile): scan and e-stop.
    /// Clearpath publishes the e-stop so; a reliable subscriber would never get it.
    SensorData,
    /// Reliable, transient local: a late subscriber gets the last status (publisher depth 1,
    /// subscriber depth 10). Both sides must ask for it, so only our own nodes use it; the
    /// executor's active subtask too, so an executor that matches after the executive has
    /// started a mission still learns what to run.
    Latched,
}

/// The QoS class of `topic`.
pub fn qos_class(topic: Topic) -> QosClass {
    match topic {
        Topic::Scan | Topic::EStop => QosClass::SensorData,
        Topic::MissionStatus | Topic::SafetyStatus | Topic::ActiveSubtask | Topic::Tips => QosClass::Latched,
        Topic::CmdVel
        | Topic::PolicyCmd
        | Topic::Odom
        | Topic::Pose
        | Topic::Imu
        | Topic::Goal
        | Topic::Cancel
        | Topic::Rearm
        | Topic::SubtaskEvent
        | Topic::Diagnostics
        | Topic::OperatorSay
        | Topic::OperatorReply => QosClass::Reliable,
    }
}

/// The arguments before `--ros-args` (what the command-line parser should see); rcl reads the
/// rest from the process arguments itself. A `--` after the ROS arguments ends them.
pub fn strip_ros_args<I: IntoIterator<Item = String>>(args: I) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_ros = false;
    for arg in args {
        match (in_ros, arg.as_str()) {
            (false, "--ros-args") => in_ros = true,
            (false, _) => out.push(arg),
            (true, "--") => in_ros = false,
            (true, _) => {}
        }
    }
    out
}

/// The absolute namespace rcl expects (`w200_0000` → `/w200_0000`, `` → `/`).
pub fn absolute_namespace(namespace: &str) -> String {
    let trimmed = namespace.trim_matches('/');
    format!("/{trimmed}")
}

/// Yaw (rad) of a unit quaternion (x, y, z, w): rotation about z, in (-π, π].
pub fn yaw_from_quaternion(x: f64, y: f64, z: f64, w: f64) -> f64 {
    (2.0 * (w * z + x * y)).atan2(1.0 - 2.0 * (y * y + z * z))
}

/// Roll, pitch, yaw (rad) of a unit quaternion (x, y, z, w), ZYX convention (REP 103).
pub fn rpy_from_quaternion(x: f64, y: f64, z: f64, w: f64) -> [f64; 3] {
    let roll = (2.0 * (w * x + y * z)).atan2(1.0 - 2.0 * (x * x + y * y));
    let pitch = (2.0 * (w * y - z * x)).clamp(-1.0, 1.0).asin();
    [roll, pitch, yaw_from_quaternion(x, y, z, w)]
}

/// The unit quaternion (x, y, z, w) of roll, pitch, yaw (rad), ZYX convention.
pub fn quaternion_from_rpy(rpy: [f64; 3]) -> [f64; 4] {
    let (sr, cr) = (rpy[0] / 2.0).sin_cos();
    let (sp, cp) = (rpy[1] / 2.0).sin_cos();
    let (sy, cy) = (rpy[2] / 2.0).sin_cos();
    [
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
        cr * cp * cy + sr * sp * sy,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quaternions_round_trip_and_yaw_matches() {
        for rpy in [[0.0, 0.0, 0.0], [0.1, -0.2, 2.5], [-0.3, 0.4, -3.0], [0.0, 0.0, std::f64::consts::PI]] {
            let [x, y, z, w] = quaternion_from_rpy(rpy);
            assert!(((x * x + y * y + z * z + w * w) - 1.0).abs() < 1e-12);
            let back = rpy_from_quaternion(x, y, z, w);
            for i in 0..3 {
                assert!(sim::wrap_angle(back[i] - rpy[i]).abs() < 1e-9, "{rpy:?} -> {back:?}");
            }
        }
        let [x, y, z, w] = quaternion_from_rpy([0.0, 0.0, 1.2]);
        assert!((yaw_from_quaternion(x, y, z, w) - 1.2).abs() < 1e-12);
    }

    #[test]
    fn e_stop_and_scan_are_best_effort_and_status_is_latched() {
        assert_eq!(qos_class(Topic::EStop), QosClass::SensorData);
        assert_eq!(qos_class(Topic::Scan), QosClass::SensorData);
        assert_eq!(qos_class(Topic::CmdVel), QosClass::Reliable);
        assert_eq!(qos_class(Topic::Odom), QosClass::Reliable);
        assert_eq!(qos_class(Topic::MissionStatus), QosClass::Latched);
        assert_eq!(qos_class(Topic::ActiveSubtask), QosClass::Latched);
        assert_eq!(twist_kind(Topic::CmdVel, TwistKind::Unstamped), TwistKind::Unstamped);
        assert_eq!(twist_kind(Topic::PolicyCmd, TwistKind::Unstamped), TwistKind::Stamped);
    }

    #[test]
    fn ros_arguments_are_stripped_for_the_cli_parser() {
        let args =
            ["sim2real", "node", "safety_monitor", "--ros-args", "-r", "__ns:=/w", "--params-file", "f.yaml"];
        let out = strip_ros_args(args.iter().map(|s| s.to_string()));
        assert_eq!(out, ["sim2real", "node", "safety_monitor"]);
        let args = ["a", "--ros-args", "-p", "x:=1", "--", "b"];
        assert_eq!(strip_ros_args(args.iter().map(|s| s.to_string())), ["a", "b"]);
        assert_eq!(absolute_namespace("w200_0000"), "/w200_0000");
        assert_eq!(absolute_namespace("/w200_0000/"), "/w200_0000");
        assert_eq!(absolute_namespace(""), "/");
    }
}
