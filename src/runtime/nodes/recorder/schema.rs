//! Schemas of the recorded channels: ROS 2 `.msg` texts laid out as rosbag2 writes them
//! (`ros2msg`), and JSON schemas of our own topics (`jsonschema`).

use super::CommandType;
use crate::msg::Topic;

pub(super) const ROS2MSG: &str = "ros2msg";
pub(super) const JSON_SCHEMA: &str = "jsonschema";

/// An MCAP schema record.
pub(super) struct Schema {
    pub(super) name: &'static str,
    pub(super) encoding: &'static str,
    pub(super) data: String,
}

/// A ROS 2 message type: its `.msg` text (comments left out) and the types it uses.
struct Ros2Type {
    /// Full name, `pkg/msg/Type`.
    name: &'static str,
    text: &'static str,
    deps: &'static [&'static Ros2Type],
}

impl Ros2Type {
    /// The `ros2msg` schema as rosbag2 writes it: this type's text, then every type it uses
    /// once, depth first, each after a separator line and `MSG: pkg/Type`.
    pub(super) fn schema(&self) -> Schema {
        fn append(t: &Ros2Type, seen: &mut Vec<&'static str>, out: &mut String) {
            for dep in t.deps {
                if !seen.contains(&dep.name) {
                    seen.push(dep.name);
                    out.push_str(&"=".repeat(80));
                    out.push_str("\nMSG: ");
                    out.push_str(&dep.name.replacen("/msg/", "/", 1));
                    out.push('\n');
                    out.push_str(dep.text);
                    append(dep, seen, out);
                }
            }
        }
        let mut data = self.text.to_owned();
        append(self, &mut vec![self.name], &mut data);
        Schema { name: self.name, encoding: ROS2MSG, data }
    }
}

const TIME: Ros2Type =
    Ros2Type { name: "builtin_interfaces/msg/Time", text: "int32 sec\nuint32 nanosec\n", deps: &[] };
const HEADER: Ros2Type = Ros2Type {
    name: "std_msgs/msg/Header",
    text: "builtin_interfaces/Time stamp\nstring frame_id\n",
    deps: &[&TIME],
};
const BOOL: Ros2Type = Ros2Type { name: "std_msgs/msg/Bool", text: "bool data\n", deps: &[] };
const KEY_VALUE: Ros2Type =
    Ros2Type { name: "diagnostic_msgs/msg/KeyValue", text: "string key\nstring value\n", deps: &[] };
const DIAGNOSTIC_STATUS: Ros2Type = Ros2Type {
    name: "diagnostic_msgs/msg/DiagnosticStatus",
    text: "byte OK=0\nbyte WARN=1\nbyte ERROR=2\nbyte STALE=3\nbyte level\nstring name\nstring message\n\
           string hardware_id\ndiagnostic_msgs/KeyValue[] values\n",
    deps: &[&KEY_VALUE],
};
const DIAGNOSTIC_ARRAY: Ros2Type = Ros2Type {
    name: "diagnostic_msgs/msg/DiagnosticArray",
    text: "std_msgs/Header header\ndiagnostic_msgs/DiagnosticStatus[] status\n",
    deps: &[&HEADER, &DIAGNOSTIC_STATUS],
};
const VECTOR3: Ros2Type =
    Ros2Type { name: "geometry_msgs/msg/Vector3", text: "float64 x\nfloat64 y\nfloat64 z\n", deps: &[] };
const POINT: Ros2Type =
    Ros2Type { name: "geometry_msgs/msg/Point", text: "float64 x\nfloat64 y\nfloat64 z\n", deps: &[] };
const QUATERNION: Ros2Type = Ros2Type {
    name: "geometry_msgs/msg/Quaternion",
    text: "float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n",
    deps: &[],
};
const POSE: Ros2Type = Ros2Type {
    name: "geometry_msgs/msg/Pose",
    text: "geometry_msgs/Point position\ngeometry_msgs/Quaternion orientation\n",
    deps: &[&POINT, &QUATERNION],
};
const POSE_WITH_COVARIANCE: Ros2Type = Ros2Type {
    name: "geometry_msgs/msg/PoseWithCovariance",
    text: "geometry_msgs/Pose pose\nfloat64[36] covariance\n",
    deps: &[&POSE],
};
const POSE_WITH_COVARIANCE_STAMPED: Ros2Type = Ros2Type {
    name: "geometry_msgs/msg/PoseWithCovarianceStamped",
    text: "std_msgs/Header header\ngeometry_msgs/PoseWithCovariance pose\n",
    deps: &[&HEADER, &POSE_WITH_COVARIANCE],
};
const TWIST: Ros2Type = Ros2Type {
    name: "geometry_msgs/msg/Twist",
    text: "geometry_msgs/Vector3 linear\ngeometry_msgs/Vector3 angular\n",
    deps: &[&VECTOR3],
};
const TWIST_STAMPED: Ros2Type = Ros2Type {
    name: "geometry_msgs/msg/TwistStamped",
    text: "std_msgs/Header header\ngeometry_msgs/Twist twist\n",
    deps: &[&HEADER, &TWIST],
};
const TWIST_WITH_COVARIANCE: Ros2Type = Ros2Type {
    name: "geometry_msgs/msg/TwistWithCovariance",
    text: "geometry_msgs/Twist twist\nfloat64[36] covariance\n",
    deps: &[&TWIST],
};
const ODOMETRY: Ros2Type = Ros2Type {
    name: "nav_msgs/msg/Odometry",
    text: "std_msgs/Header header\nstring child_frame_id\n\
           geometry_msgs/PoseWithCovariance pose\ngeometry_msgs/TwistWithCovariance twist\n",
    deps: &[&HEADER, &POSE_WITH_COVARIANCE, &TWIST_WITH_COVARIANCE],
};
const IMU: Ros2Type = Ros2Type {
    name: "sensor_msgs/msg/Imu",
    text: "std_msgs/Header header\n\
           geometry_msgs/Quaternion orientation\nfloat64[9] orientation_covariance\n\
           geometry_msgs/Vector3 angular_velocity\nfloat64[9] angular_velocity_covariance\n\
           geometry_msgs/Vector3 linear_acceleration\nfloat64[9] linear_acceleration_covariance\n",
    deps: &[&HEADER, &QUATERNION, &VECTOR3],
};
const LASER_SCAN: Ros2Type = Ros2Type {
    name: "sensor_msgs/msg/LaserScan",
    text: "std_msgs/Header header\n\
           float32 angle_min\nfloat32 angle_max\nfloat32 angle_increment\n\
           float32 time_increment\nfloat32 scan_time\n\
           float32 range_min\nfloat32 range_max\n\
           float32[] ranges\nfloat32[] intensities\n",
    deps: &[&HEADER],
};

// JSON-schema property types.
pub(super) const NUMBER: &str = r#"{"type":"number"}"#;
pub(super) const STRING: &str = r#"{"type":"string"}"#;
const STRING_OR_NULL: &str = r#"{"type":["string","null"]}"#;

/// A JSON schema of an object with exactly `properties` (name, schema), all required.
pub(super) fn json_schema(properties: &[(&str, &str)]) -> String {
    let props: Vec<String> =
        properties.iter().map(|(name, schema)| format!(r#""{name}":{schema}"#)).collect();
    let names: Vec<String> = properties.iter().map(|(name, _)| format!(r#""{name}""#)).collect();
    format!(
        r#"{{"type":"object","properties":{{{}}},"required":[{}],"additionalProperties":false}}"#,
        props.join(","),
        names.join(",")
    )
}

/// The schema of `topic`'s channel.
pub(super) fn schema(topic: Topic, commands: CommandType) -> Schema {
    let json = |name, properties: &[(&str, &str)]| Schema {
        name,
        encoding: JSON_SCHEMA,
        data: json_schema(properties),
    };
    match topic {
        Topic::CmdVel | Topic::PolicyCmd => match commands {
            CommandType::Twist => TWIST.schema(),
            CommandType::TwistStamped => TWIST_STAMPED.schema(),
        },
        Topic::Odom => ODOMETRY.schema(),
        Topic::Pose => POSE_WITH_COVARIANCE_STAMPED.schema(),
        Topic::Imu => IMU.schema(),
        Topic::Scan => LASER_SCAN.schema(),
        Topic::EStop => BOOL.schema(),
        Topic::Diagnostics => DIAGNOSTIC_ARRAY.schema(),
        Topic::Goal => json("sim2real/GoalRequest", &[("goal", STRING)]),
        // Cancel and re-arm carry `{}`.
        Topic::Cancel => json("sim2real/Cancel", &[]),
        Topic::Rearm => json("sim2real/Rearm", &[]),
        Topic::MissionStatus => json(
            "sim2real/MissionStatus",
            &[
                ("stamp_s", NUMBER),
                (
                    "phase",
                    r#"{"enum":["idle","running","succeeded","failed","e_stopped","cancelled","rejected"]}"#,
                ),
                ("goal", STRING_OR_NULL),
                ("route", r#"{"type":"array","items":{"type":"string"}}"#),
                ("step", r#"{"type":"integer","minimum":0}"#),
                ("lower_bound", r#"{"type":["number","null"]}"#),
                ("detail", STRING),
                ("unverified", r#"{"type":"boolean"}"#),
            ],
        ),
        Topic::ActiveSubtask => json("sim2real/ActiveSubtask", &[("subtask", STRING_OR_NULL)]),
        Topic::SubtaskEvent => json(
            "sim2real/SubtaskEvent",
            &[
                ("subtask", STRING),
                ("outcome", r#"{"enum":["success","timeout","aborted"]}"#),
                ("duration_s", NUMBER),
                ("decisions", r#"{"type":"integer","minimum":0}"#),
                ("detail", STRING),
            ],
        ),
        Topic::SafetyStatus => json(
            "sim2real/SafetyStatus",
            &[
                ("stamp_s", NUMBER),
                (
                    "verdict",
                    r#"{"enum":["passing","e_stop","geofence","stale_odometry","stale_command","non_finite_command"]}"#,
                ),
            ],
        ),
        // Dialogue turns (plain std_msgs/String over ROS).
        Topic::OperatorSay => json("sim2real/OperatorSay", &[("text", STRING)]),
        Topic::OperatorReply => json("sim2real/OperatorReply", &[("text", STRING)]),
        Topic::Tips => json(
            "sim2real/TipsUpdate",
            &[
                ("version", r#"{"type":"integer","minimum":0}"#),
                ("tips", r#"{"type":"array","items":{"type":"string"}}"#),
                (
                    "avoid",
                    r#"{"type":"array","items":{"type":"object","properties":{"subtask":{"type":"string"},"penalty":{"type":"number","minimum":0}},"required":["subtask","penalty"]}}"#,
                ),
                ("retrain", r#"{"type":"array","items":{"type":"string"}}"#),
            ],
        ),
    }
}
