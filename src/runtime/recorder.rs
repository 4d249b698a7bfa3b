//! `recorder`: writes what travels on the bus to an MCAP file (DESIGN §4, §6) that `ros2 bag`,
//! Foxglove and the `mcap-ros2-support` reader open without our code.
//!
//! [`Recorder`] encodes each [`Msg`]: standard messages as ROS 2 `cdr` (little-endian XCDR1,
//! what rmw_fastrtps puts on the wire) with `ros2msg` schemas laid out as rosbag2 writes them;
//! our own topics and [`Recorder::record_note`] notes as `json` with a `jsonschema` schema.
//! [`RecorderNode`] is the graph node around it: it subscribes to every topic and closes the
//! file in [`Node::finish`].
//!
//! The file is written beside the target under a temporary name and renamed into place by
//! [`Recorder::finish`], so a crash or an error never leaves a half-written recording at the
//! target path.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use mcap::records::MessageHeader;

use super::msg::{Command, DEFAULT_NAMESPACE, Diagnostic, Imu, Msg, Odom, Scan, Topic};
use super::node::{Node, Outbox, ParamError, ParamSpec, ParamValue, Params};

/// Why a recording failed; every variant names the target file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The temporary file beside the target could not be created.
    #[error("recording {}: cannot create it: {source}", path.display())]
    Create {
        /// Target file.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
    /// Writing MCAP records failed.
    #[error("recording {}: cannot write it: {source}", path.display())]
    Write {
        /// Target file.
        path: PathBuf,
        /// Cause.
        source: mcap::McapError,
    },
    /// Flushing or renaming the finished file into place failed.
    #[error("recording {}: cannot finish it: {source}", path.display())]
    Finish {
        /// Target file.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
    /// An earlier error abandoned the recording (its temporary file is deleted).
    #[error("recording {}: abandoned after an earlier error", path.display())]
    Abandoned {
        /// Target file.
        path: PathBuf,
    },
    /// The node's parameters were refused.
    #[error(transparent)]
    Param(#[from] ParamError),
}

/// How velocity commands are recorded (the safety monitor's `use_stamped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandType {
    /// `geometry_msgs/msg/Twist`.
    Twist,
    /// `geometry_msgs/msg/TwistStamped` with frame `base_link` (Clearpath Jazzy, Nav2).
    TwistStamped,
}

/// Topic of [`Recorder::record_note`], relative to the namespace.
pub const NOTES_TOPIC: &str = "sim2real/notes";

/// An open MCAP recording.
pub struct Recorder {
    path: PathBuf,
    temp_path: PathBuf,
    /// `None` once finished or abandoned.
    writer: Option<mcap::Writer<BufWriter<File>>>,
    /// `/<namespace>/`, prefixed to every topic name.
    prefix: String,
    commands: CommandType,
    /// Channel ids by full topic name, added on first use.
    channels: BTreeMap<String, u16>,
    sequence: u32,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.path)
            .field("prefix", &self.prefix)
            .field("commands", &self.commands)
            .field("open", &self.writer.is_some())
            .field("channels", &self.channels)
            .finish()
    }
}

impl Recorder {
    /// Starts a recording that [`Recorder::finish`] moves to `path`; topics are recorded under
    /// `/<namespace>/`.
    pub fn create(
        path: impl Into<PathBuf>,
        namespace: &str,
        commands: CommandType,
    ) -> Result<Recorder, RecordError> {
        let path = path.into();
        let temp_path = crate::files::temp_path(&path);
        let file =
            File::create(&temp_path).map_err(|source| RecordError::Create { path: path.clone(), source })?;
        let writer = mcap::WriteOptions::new().profile("ros2").create(BufWriter::new(file));
        let writer = match writer {
            Ok(w) => w,
            Err(source) => {
                let _ = std::fs::remove_file(&temp_path);
                return Err(RecordError::Write { path, source });
            }
        };
        let namespace = namespace.trim_matches('/');
        let prefix = if namespace.is_empty() { "/".to_owned() } else { format!("/{namespace}/") };
        Ok(Recorder {
            path,
            temp_path,
            writer: Some(writer),
            prefix,
            commands,
            channels: BTreeMap::new(),
            sequence: 0,
        })
    }

    /// The file the recording ends up in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records `msg` at time `now_s` (s; the MCAP log and publish time).
    pub fn record(&mut self, now_s: f64, msg: &Msg) -> Result<(), RecordError> {
        let topic = msg.topic();
        let commands = self.commands;
        let channel = self.channel(topic.name(), || schema(topic, commands))?;
        let data = match msg {
            Msg::CmdVel(c) | Msg::PolicyCmd(c) => twist_cdr(c, commands),
            Msg::Odom(o) => odometry_cdr(o),
            Msg::Imu(i) => imu_cdr(i),
            Msg::Scan(s) => laser_scan_cdr(s),
            Msg::EStop(on) => {
                let mut cdr = Cdr::new();
                cdr.bool(*on);
                cdr.0
            }
            Msg::Diagnostics(d) => diagnostic_array_cdr(d),
            // Own topics: `to_json` is `Some` for all of them.
            own => own.to_json().unwrap_or_default().into_bytes(),
        };
        self.write(channel, now_s, &data)
    }

    /// Records a free-text note at `now_s` (s) on `/<namespace>/sim2real/notes`, for facts a
    /// reader of the recording must know (e.g. that the mission ran `--allow-unverified`).
    pub fn record_note(&mut self, now_s: f64, text: &str) -> Result<(), RecordError> {
        let channel = self.channel(NOTES_TOPIC, || Schema {
            name: "sim2real/Note",
            encoding: JSON_SCHEMA,
            data: json_schema(&[("stamp_s", NUMBER), ("text", STRING)]),
        })?;
        let data = serde_json::json!({ "stamp_s": now_s, "text": text }).to_string();
        self.write(channel, now_s, data.as_bytes())
    }

    /// Closes the file and moves it to its path, which it returns.
    pub fn finish(mut self) -> Result<PathBuf, RecordError> {
        let Some(mut writer) = self.writer.take() else {
            return Err(RecordError::Abandoned { path: self.path.clone() });
        };
        let closed = match writer.finish() {
            Ok(_) => writer
                .into_inner()
                .into_inner()
                .map_err(io::IntoInnerError::into_error)
                .and_then(|file| file.sync_all())
                .and_then(|()| std::fs::rename(&self.temp_path, &self.path)),
            Err(source) => {
                drop(writer);
                let _ = std::fs::remove_file(&self.temp_path);
                return Err(RecordError::Write { path: self.path.clone(), source });
            }
        };
        closed.map_err(|source| {
            let _ = std::fs::remove_file(&self.temp_path);
            RecordError::Finish { path: self.path.clone(), source }
        })?;
        Ok(self.path.clone())
    }

    /// The channel of `topic` (relative name), added with `schema` on first use.
    fn channel(&mut self, topic: &str, schema: impl FnOnce() -> Schema) -> Result<u16, RecordError> {
        let topic = format!("{}{topic}", self.prefix);
        if let Some(&id) = self.channels.get(&topic) {
            return Ok(id);
        }
        let schema = schema();
        let message_encoding = if schema.encoding == ROS2MSG { "cdr" } else { "json" };
        let id = self.with_writer(|w| {
            let schema_id = w.add_schema(schema.name, schema.encoding, schema.data.as_bytes())?;
            w.add_channel(schema_id, &topic, message_encoding, &BTreeMap::new())
        })?;
        self.channels.insert(topic, id);
        Ok(id)
    }

    fn write(&mut self, channel_id: u16, now_s: f64, data: &[u8]) -> Result<(), RecordError> {
        let time_ns = time_ns(now_s);
        let sequence = self.sequence;
        self.sequence = self.sequence.wrapping_add(1);
        let header = MessageHeader { channel_id, sequence, log_time: time_ns, publish_time: time_ns };
        self.with_writer(|w| w.write_to_known_channel(&header, data))
    }

    /// Runs `f` on the open writer; an error abandons the recording, as the MCAP writer cannot
    /// continue after one.
    fn with_writer<T>(
        &mut self,
        f: impl FnOnce(&mut mcap::Writer<BufWriter<File>>) -> mcap::McapResult<T>,
    ) -> Result<T, RecordError> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(RecordError::Abandoned { path: self.path.clone() });
        };
        f(writer).map_err(|source| {
            self.abandon();
            RecordError::Write { path: self.path.clone(), source }
        })
    }

    fn abandon(&mut self) {
        if let Some(writer) = self.writer.take() {
            drop(writer);
            let _ = std::fs::remove_file(&self.temp_path);
        }
    }
}

impl Drop for Recorder {
    /// Not finished: delete the temporary file (best effort), leaving the target untouched.
    fn drop(&mut self) {
        self.abandon();
    }
}

/// MCAP time (ns since the clock's epoch); negative or non-finite times record as 0.
fn time_ns(t_s: f64) -> u64 {
    let (sec, nanosec) = split_time(t_s);
    u64::try_from(sec).map_or(0, |s| s * 1_000_000_000 + u64::from(nanosec))
}

/// Whole seconds (floored) and nanoseconds in [0, 1e9), as `builtin_interfaces/Time` holds
/// them; non-finite times give zero. Split before scaling so epoch times keep ns precision.
fn split_time(t_s: f64) -> (i64, u32) {
    if !t_s.is_finite() {
        return (0, 0);
    }
    let sec = t_s.floor();
    let nanosec = ((t_s - sec) * 1e9).round();
    if nanosec >= 1e9 { (sec as i64 + 1, 0) } else { (sec as i64, nanosec as u32) }
}

// ---------------------------------------------------------------------------------------------
// Schemas

const ROS2MSG: &str = "ros2msg";
const JSON_SCHEMA: &str = "jsonschema";

/// An MCAP schema record.
struct Schema {
    name: &'static str,
    encoding: &'static str,
    data: String,
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
    fn schema(&self) -> Schema {
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
const NUMBER: &str = r#"{"type":"number"}"#;
const STRING: &str = r#"{"type":"string"}"#;
const STRING_OR_NULL: &str = r#"{"type":["string","null"]}"#;

/// A JSON schema of an object with exactly `properties` (name, schema), all required.
fn json_schema(properties: &[(&str, &str)]) -> String {
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
fn schema(topic: Topic, commands: CommandType) -> Schema {
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

// ---------------------------------------------------------------------------------------------
// CDR encoding

/// A little-endian plain-CDR (XCDR1) payload, as rmw_fastrtps serialises ROS 2 messages:
/// encapsulation header `00 01 00 00`, then each primitive aligned to its size (8 at most)
/// counted from the end of the header; strings and sequences are a `uint32` length first
/// (strings count their NUL); fixed arrays have no length.
struct Cdr(Vec<u8>);

impl Cdr {
    fn new() -> Cdr {
        Cdr(vec![0x00, 0x01, 0x00, 0x00])
    }

    fn align(&mut self, size: usize) {
        let padded = (self.0.len() - 4).next_multiple_of(size) + 4;
        self.0.resize(padded, 0);
    }

    fn bool(&mut self, v: bool) {
        self.0.push(u8::from(v));
    }

    fn u32(&mut self, v: u32) {
        self.align(4);
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn i32(&mut self, v: i32) {
        self.align(4);
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn f32(&mut self, v: f32) {
        self.align(4);
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn f64(&mut self, v: f64) {
        self.align(8);
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn f64s(&mut self, v: &[f64]) {
        v.iter().for_each(|&x| self.f64(x));
    }

    fn string(&mut self, s: &str) {
        // Our strings are short frame ids; a length beyond u32 cannot occur.
        self.u32(u32::try_from(s.len() + 1).unwrap_or(u32::MAX));
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
    }

    fn f32_sequence(&mut self, v: impl ExactSizeIterator<Item = f32>) {
        self.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
        v.for_each(|x| self.f32(x));
    }

    /// `std_msgs/Header`.
    fn header(&mut self, stamp_s: f64, frame_id: &str) {
        let (sec, nanosec) = split_time(stamp_s);
        self.i32(sec.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32);
        self.u32(nanosec);
        self.string(frame_id);
    }

    /// `geometry_msgs/Quaternion` from roll, pitch, yaw (rad; extrinsic x-y-z, as tf2's
    /// `setRPY`).
    fn quaternion_rpy(&mut self, [roll, pitch, yaw]: [f64; 3]) {
        let (sr, cr) = (0.5 * roll).sin_cos();
        let (sp, cp) = (0.5 * pitch).sin_cos();
        let (sy, cy) = (0.5 * yaw).sin_cos();
        self.f64s(&[
            sr * cp * cy - cr * sp * sy,
            cr * sp * cy + sr * cp * sy,
            cr * cp * sy - sr * sp * cy,
            cr * cp * cy + sr * sp * sy,
        ]);
    }
}

/// Frame of odometry poses (the Warthog's EKF output).
const ODOM_FRAME: &str = "odom";
/// Body frame of the robot.
const BASE_FRAME: &str = "base_link";

fn twist_cdr(c: &Command, commands: CommandType) -> Vec<u8> {
    let mut cdr = Cdr::new();
    if commands == CommandType::TwistStamped {
        cdr.header(c.stamp_s, BASE_FRAME);
    }
    cdr.f64s(&[c.cmd.linear_mps, 0.0, 0.0, 0.0, 0.0, c.cmd.angular_rps]);
    cdr.0
}

fn odometry_cdr(o: &Odom) -> Vec<u8> {
    let mut cdr = Cdr::new();
    cdr.header(o.stamp_s, ODOM_FRAME);
    cdr.string(BASE_FRAME);
    cdr.f64s(&[o.state.x_m, o.state.y_m, 0.0]);
    cdr.quaternion_rpy([0.0, 0.0, o.state.yaw_rad]);
    cdr.f64s(&[0.0; 36]);
    cdr.f64s(&[o.state.speed_mps, 0.0, 0.0, 0.0, 0.0, o.yaw_rate_rps]);
    cdr.f64s(&[0.0; 36]);
    cdr.0
}

/// A DiagnosticArray stamped with its first status's time.
fn diagnostic_array_cdr(statuses: &[Diagnostic]) -> Vec<u8> {
    let mut cdr = Cdr::new();
    cdr.header(statuses.first().map_or(0.0, |d| d.stamp_s), "");
    cdr.u32(u32::try_from(statuses.len()).unwrap_or(u32::MAX));
    for d in statuses {
        cdr.0.push(d.level as u8);
        cdr.string(&d.name);
        cdr.string(&d.message);
        cdr.string("");
        cdr.u32(u32::try_from(d.values.len()).unwrap_or(u32::MAX));
        for (key, value) in &d.values {
            cdr.string(key);
            cdr.string(value);
        }
    }
    cdr.0
}

fn imu_cdr(i: &Imu) -> Vec<u8> {
    let mut cdr = Cdr::new();
    cdr.header(i.stamp_s, BASE_FRAME);
    cdr.quaternion_rpy(i.rpy_rad);
    cdr.f64s(&[0.0; 9]);
    cdr.f64s(&i.gyro_rps);
    cdr.f64s(&[0.0; 9]);
    cdr.f64s(&i.accel_mps2);
    cdr.f64s(&[0.0; 9]);
    cdr.0
}

fn laser_scan_cdr(s: &Scan) -> Vec<u8> {
    let mut cdr = Cdr::new();
    cdr.header(s.stamp_s, BASE_FRAME);
    // ROS's angle_max is the angle of the last ray.
    let last = s.ranges_m.len().saturating_sub(1) as f64;
    let angle_max_rad = s.angle_min_rad + last * s.angle_increment_rad;
    for v in [s.angle_min_rad, angle_max_rad, s.angle_increment_rad, 0.0, 0.0, 0.0, s.range_max_m] {
        cdr.f32(v as f32);
    }
    cdr.f32_sequence(s.ranges_m.iter().map(|&r| r as f32));
    cdr.f32_sequence(std::iter::empty());
    cdr.0
}

// ---------------------------------------------------------------------------------------------
// Node

/// Parameters of the `recorder` node.
pub fn params() -> Vec<ParamSpec> {
    vec![
        ParamSpec {
            name: "path",
            default: ParamValue::String("mission.mcap".into()),
            doc: "MCAP file to write; it appears only when the graph shuts down cleanly",
        },
        ParamSpec {
            name: "namespace",
            default: ParamValue::String(DEFAULT_NAMESPACE.into()),
            doc: "robot namespace: topics are recorded as /<namespace>/<topic>",
        },
        ParamSpec {
            name: "use_stamped",
            default: ParamValue::Bool(false),
            doc: "record commands as geometry_msgs/TwistStamped (match the safety monitor's)",
        },
    ]
}

/// The `recorder` node: records every message on the bus. A write error ends the recording
/// (the node has no way to report it while running); [`Node::finish`] returns it.
#[derive(Debug)]
pub struct RecorderNode {
    recorder: Option<Recorder>,
    error: Option<RecordError>,
}

impl RecorderNode {
    /// Records into `recorder`.
    pub fn new(recorder: Recorder) -> RecorderNode {
        RecorderNode { recorder: Some(recorder), error: None }
    }

    /// Starts the recording the parameters (see [`params`]) describe.
    pub fn from_params(params: &Params) -> Result<RecorderNode, RecordError> {
        let commands =
            if params.bool("use_stamped")? { CommandType::TwistStamped } else { CommandType::Twist };
        let recorder = Recorder::create(params.string("path")?, params.string("namespace")?, commands)?;
        Ok(RecorderNode::new(recorder))
    }

    /// Records a note (see [`Recorder::record_note`]).
    pub fn record_note(&mut self, now_s: f64, text: &str) {
        if let Some(recorder) = self.recorder.as_mut() {
            let result = recorder.record_note(now_s, text);
            self.keep_first_error(result);
        }
    }

    fn keep_first_error(&mut self, result: Result<(), RecordError>) {
        if let Err(e) = result {
            self.error.get_or_insert(e);
        }
    }
}

impl Node for RecorderNode {
    fn name(&self) -> &'static str {
        "recorder"
    }

    fn subscriptions(&self) -> &'static [Topic] {
        &Topic::ALL
    }

    fn publications(&self) -> &'static [Topic] {
        &[]
    }

    fn period_s(&self) -> Option<f64> {
        None
    }

    fn on_message(&mut self, now_s: f64, msg: &Msg, _out: &mut Outbox) {
        if let Some(recorder) = self.recorder.as_mut() {
            let result = recorder.record(now_s, msg);
            self.keep_first_error(result);
        }
    }

    fn on_tick(&mut self, _now_s: f64, _out: &mut Outbox) {}

    /// Closes the file and moves it into place, or reports the first error (then no file is
    /// left). Later calls do nothing.
    fn finish(&mut self) -> Result<(), String> {
        let recorder = self.recorder.take();
        if let Some(e) = self.error.take() {
            return Err(e.to_string());
        }
        recorder.map_or(Ok(()), |r| r.finish().map(drop).map_err(|e| e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::msg::{
        ActiveSubtask, Avoid, DiagnosticLevel, GoalRequest, MissionPhase, MissionStatus, SafetyStatus,
        SafetyVerdict, SubtaskEvent, SubtaskOutcome, TipsUpdate,
    };
    use sim::{PlanarState, VelocityCmd};

    /// Reads back what [`Cdr`] writes.
    struct CdrReader<'a> {
        buf: &'a [u8],
        pos: usize,
    }

    impl<'a> CdrReader<'a> {
        fn new(buf: &'a [u8]) -> CdrReader<'a> {
            assert_eq!(&buf[..4], &[0, 1, 0, 0], "CDR little-endian encapsulation");
            CdrReader { buf: &buf[4..], pos: 0 }
        }

        fn take<const N: usize>(&mut self) -> [u8; N] {
            self.pos = self.pos.next_multiple_of(N);
            let bytes = self.buf[self.pos..self.pos + N].try_into().expect("N bytes");
            self.pos += N;
            bytes
        }

        fn u8(&mut self) -> u8 {
            u8::from_le_bytes(self.take())
        }

        fn u32(&mut self) -> u32 {
            u32::from_le_bytes(self.take())
        }

        fn i32(&mut self) -> i32 {
            i32::from_le_bytes(self.take())
        }

        fn f64(&mut self) -> f64 {
            f64::from_le_bytes(self.take())
        }

        fn f64s<const N: usize>(&mut self) -> [f64; N] {
            std::array::from_fn(|_| self.f64())
        }

        fn string(&mut self) -> String {
            let len = self.u32() as usize;
            let s = &self.buf[self.pos..self.pos + len];
            self.pos += len;
            assert_eq!(s.last(), Some(&0), "NUL-terminated");
            String::from_utf8(s[..len - 1].to_vec()).expect("utf-8")
        }

        fn header(&mut self) -> (f64, String) {
            let sec = self.i32();
            let nanosec = self.u32();
            (f64::from(sec) + f64::from(nanosec) * 1e-9, self.string())
        }

        fn done(&self) {
            assert_eq!(self.pos, self.buf.len(), "whole payload read");
        }
    }

    fn messages() -> Vec<(f64, Msg)> {
        let cmd = |stamp_s, linear_mps, angular_rps| Command {
            stamp_s,
            cmd: VelocityCmd { linear_mps, angular_rps },
        };
        vec![
            (0.02, Msg::PolicyCmd(cmd(0.02, 1.5, -0.25))),
            (0.02, Msg::CmdVel(cmd(0.02, 1.25, -0.25))),
            (0.04, Msg::CmdVel(cmd(0.04, -0.5, 0.75))),
            (
                0.02,
                Msg::Odom(Odom {
                    stamp_s: 0.02,
                    state: PlanarState { x_m: 1.0, y_m: -2.0, yaw_rad: 0.5, speed_mps: 1.2 },
                    yaw_rate_rps: 0.1,
                }),
            ),
            (
                1.5,
                Msg::Odom(Odom {
                    stamp_s: 1.5,
                    state: PlanarState { x_m: 3.5, y_m: 4.0, yaw_rad: -2.5, speed_mps: -0.3 },
                    yaw_rate_rps: -0.2,
                }),
            ),
            (
                0.03,
                Msg::Imu(Imu {
                    stamp_s: 0.03,
                    gyro_rps: [0.0, 0.0, 0.1],
                    accel_mps2: [0.1, 0.0, 9.81],
                    rpy_rad: [0.01, -0.02, 0.5],
                }),
            ),
            (
                0.05,
                Msg::Scan(Scan {
                    stamp_s: 0.05,
                    angle_min_rad: -1.5,
                    angle_increment_rad: 0.5,
                    range_max_m: 10.0,
                    ranges_m: vec![1.0, 2.0, 10.0, 3.5, 4.0, 10.0, 0.5],
                }),
            ),
            (0.06, Msg::EStop(true)),
            (0.07, Msg::Goal(GoalRequest { goal: "shed".into() })),
            (0.08, Msg::Cancel),
            (0.09, Msg::Rearm),
            (
                0.10,
                Msg::MissionStatus(MissionStatus {
                    stamp_s: 0.10,
                    phase: MissionPhase::EStopped,
                    goal: Some("shed".into()),
                    route: vec!["a".into(), "b".into()],
                    step: 1,
                    lower_bound: Some(0.93),
                    detail: "e-stop".into(),
                    unverified: true,
                }),
            ),
            (0.11, Msg::ActiveSubtask(ActiveSubtask { subtask: None })),
            (
                0.12,
                Msg::SubtaskEvent(SubtaskEvent {
                    subtask: "a".into(),
                    outcome: SubtaskOutcome::Timeout,
                    duration_s: 30.0,
                    decisions: 300,
                    detail: "horizon".into(),
                }),
            ),
            (0.13, Msg::SafetyStatus(SafetyStatus { stamp_s: 0.13, verdict: SafetyVerdict::EStop })),
            (
                0.14,
                Msg::Diagnostics(vec![Diagnostic {
                    stamp_s: 0.14,
                    level: DiagnosticLevel::Error,
                    name: "sim2real/safety_monitor".into(),
                    message: "stopped: e_stop".into(),
                    values: vec![("verdict".into(), "e_stop".into())],
                }]),
            ),
            (0.15, Msg::OperatorSay("the \"green\" shed".into())),
            (0.16, Msg::OperatorReply("Go to shed_pond?".into())),
            (
                0.17,
                Msg::Tips(TipsUpdate {
                    version: 3,
                    tips: vec!["Under rain avoid the gravel road.".into()],
                    avoid: vec![Avoid { subtask: "a".into(), penalty: 1.0 }],
                    retrain: vec!["b".into()],
                }),
            ),
        ]
    }

    /// Writes `messages()` and a note to `path`.
    fn write_sample(path: &Path, commands: CommandType) -> Result<(), RecordError> {
        let mut rec = Recorder::create(path, "w200_0000", commands)?;
        rec.record_note(0.0, "running with --allow-unverified")?;
        for (now_s, msg) in messages() {
            rec.record(now_s, &msg)?;
        }
        rec.finish().map(drop)
    }

    fn assert_close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        assert!(a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9), "{a:?} != {b:?}");
    }

    #[test]
    fn recording_reads_back_with_ros2_schemas_and_the_recorded_values() {
        let dir = tempfile::tempdir().expect("tempdir");
        for commands in [CommandType::Twist, CommandType::TwistStamped] {
            let path = dir.path().join(format!("{commands:?}.mcap"));
            write_sample(&path, commands).expect("recorded");
            let bytes = std::fs::read(&path).expect("file");
            let mut by_topic: BTreeMap<String, Vec<mcap::Message>> = BTreeMap::new();
            for m in mcap::MessageStream::new(&bytes).expect("mcap") {
                let m = m.expect("message");
                by_topic.entry(m.channel.topic.clone()).or_default().push(m);
            }
            let mut expected: Vec<String> =
                Topic::ALL.iter().map(|t| format!("/w200_0000/{}", t.name())).collect();
            expected.push("/w200_0000/sim2real/notes".into());
            expected.sort();
            assert_eq!(by_topic.keys().cloned().collect::<Vec<_>>(), expected);

            let schema = |topic: &str| {
                let m = &by_topic[&format!("/w200_0000/{topic}")][0];
                let s = m.channel.schema.as_ref().expect("schema");
                (m.channel.message_encoding.clone(), s.name.clone(), s.encoding.clone(), s.data.to_vec())
            };
            let (enc, name, schema_enc, data) = schema("platform/odom/filtered");
            assert_eq!(
                (enc.as_str(), name.as_str(), schema_enc.as_str()),
                ("cdr", "nav_msgs/msg/Odometry", "ros2msg")
            );
            let text = String::from_utf8(data).expect("utf-8");
            assert!(text.starts_with("std_msgs/Header header\nstring child_frame_id\n"), "{text}");
            for dep in [
                "std_msgs/Header",
                "builtin_interfaces/Time",
                "geometry_msgs/Quaternion",
                "geometry_msgs/Vector3",
            ] {
                let block = format!("{}\nMSG: {dep}\n", "=".repeat(80));
                assert_eq!(text.matches(&block).count(), 1, "{dep} once in\n{text}");
            }
            let twist = if commands == CommandType::Twist { "Twist" } else { "TwistStamped" };
            assert_eq!(schema("cmd_vel").1, format!("geometry_msgs/msg/{twist}"));
            assert_eq!(schema("sim2real/policy/cmd_vel").1, format!("geometry_msgs/msg/{twist}"));
            assert_eq!(schema("sensors/imu_0/data").1, "sensor_msgs/msg/Imu");
            assert_eq!(schema("sensors/lidar2d_0/scan").1, "sensor_msgs/msg/LaserScan");
            assert_eq!(schema("platform/emergency_stop").1, "std_msgs/msg/Bool");
            assert_eq!(schema("diagnostics").1, "diagnostic_msgs/msg/DiagnosticArray");
            let diagnostics = &by_topic["/w200_0000/diagnostics"];
            let mut r = CdrReader::new(&diagnostics[0].data);
            assert_eq!(r.header(), (0.14, String::new()));
            assert_eq!(r.u32(), 1);
            assert_eq!(r.u8(), DiagnosticLevel::Error as u8);
            assert_eq!(
                [r.string(), r.string(), r.string()],
                ["sim2real/safety_monitor", "stopped: e_stop", ""]
            );
            assert_eq!(r.u32(), 1);
            assert_eq!([r.string(), r.string()], ["verdict", "e_stop"]);
            r.done();
            let (enc, name, schema_enc, data) = schema("sim2real/mission/status");
            assert_eq!(
                (enc.as_str(), name.as_str(), schema_enc.as_str()),
                ("json", "sim2real/MissionStatus", "jsonschema")
            );
            serde_json::from_slice::<serde_json::Value>(&data).expect("schema is JSON");

            // Odometry: header, frames, pose, twist, zero covariances.
            let odom = &by_topic["/w200_0000/platform/odom/filtered"];
            assert_eq!(odom.iter().map(|m| m.log_time).collect::<Vec<_>>(), [20_000_000, 1_500_000_000]);
            assert_eq!(odom[1].publish_time, 1_500_000_000);
            let mut r = CdrReader::new(&odom[1].data);
            assert_eq!(r.header(), (1.5, "odom".to_owned()));
            assert_eq!(r.string(), "base_link");
            assert_close(&r.f64s::<3>(), &[3.5, 4.0, 0.0]);
            let [qx, qy, qz, qw] = r.f64s::<4>();
            assert_close(&[qx, qy, 2.0 * qz.atan2(qw)], &[0.0, 0.0, -2.5]);
            assert!(r.f64s::<36>().iter().all(|&c| c == 0.0));
            assert_close(&r.f64s::<6>(), &[-0.3, 0.0, 0.0, 0.0, 0.0, -0.2]);
            assert!(r.f64s::<36>().iter().all(|&c| c == 0.0));
            r.done();

            // Commands, stamped or not.
            let cmd_vel = &by_topic["/w200_0000/cmd_vel"];
            assert_eq!(cmd_vel.len(), 2);
            let mut r = CdrReader::new(&cmd_vel[1].data);
            if commands == CommandType::TwistStamped {
                assert_eq!(r.header(), (0.04, "base_link".to_owned()));
            }
            assert_close(&r.f64s::<6>(), &[-0.5, 0.0, 0.0, 0.0, 0.0, 0.75]);
            r.done();

            // Own topics parse back to the messages recorded.
            for (_, msg) in messages().into_iter().filter(|(_, m)| m.to_json().is_some()) {
                let topic = format!("/w200_0000/{}", msg.topic().name());
                let text = std::str::from_utf8(&by_topic[&topic][0].data).expect("utf-8");
                assert_eq!(Msg::from_json(msg.topic(), text), Ok(msg));
            }
            let note = &by_topic["/w200_0000/sim2real/notes"][0];
            let note: serde_json::Value = serde_json::from_slice(&note.data).expect("json");
            assert_eq!(note["text"], "running with --allow-unverified");
        }
    }

    #[test]
    fn cdr_alignment_counts_from_the_end_of_the_header() {
        // Bool (1 byte) then f64: 7 bytes of padding, not 3.
        let mut cdr = Cdr::new();
        cdr.bool(true);
        cdr.f64(1.0);
        assert_eq!(cdr.0.len(), 4 + 16);
        // Scan: 7 rays → angle_max is the angle of the last.
        let scan = Scan {
            stamp_s: 2.25,
            angle_min_rad: -1.5,
            angle_increment_rad: 0.5,
            range_max_m: 10.0,
            ranges_m: vec![1.0; 7],
        };
        let bytes = laser_scan_cdr(&scan);
        let mut r = CdrReader::new(&bytes);
        assert_eq!(r.header(), (2.25, "base_link".to_owned()));
        let floats: Vec<f32> = (0..7).map(|_| f32::from_le_bytes(r.take())).collect();
        assert_eq!(floats, [-1.5, 1.5, 0.5, 0.0, 0.0, 0.0, 10.0]);
        assert_eq!(r.u32(), 7);
    }

    #[test]
    fn imu_orientation_round_trips_roll_pitch_yaw() {
        let rpy_rad = [0.1, -0.2, 2.5];
        let bytes = imu_cdr(&Imu { stamp_s: 0.0, gyro_rps: [0.0; 3], accel_mps2: [0.0; 3], rpy_rad });
        let mut r = CdrReader::new(&bytes);
        r.header();
        let [x, y, z, w] = r.f64s::<4>();
        let roll = (2.0 * (w * x + y * z)).atan2(1.0 - 2.0 * (x * x + y * y));
        let pitch = (2.0 * (w * y - z * x)).asin();
        let yaw = (2.0 * (w * z + x * y)).atan2(1.0 - 2.0 * (y * y + z * z));
        assert_close(&[roll, pitch, yaw], &rpy_rad);
    }

    #[test]
    fn the_file_appears_only_when_finished_and_errors_name_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run.mcap");
        let mut rec = Recorder::create(&path, "w200_0000", CommandType::Twist).expect("created");
        rec.record(0.0, &Msg::EStop(false)).expect("recorded");
        assert!(!path.exists(), "no target before finish");
        drop(rec);
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0, "dropped: nothing left");

        let bad = dir.path().join("no/such/dir/run.mcap");
        let e = Recorder::create(&bad, "w200_0000", CommandType::Twist).expect_err("bad dir");
        assert!(e.to_string().contains(&bad.display().to_string()), "{e}");
    }

    #[test]
    fn node_records_every_topic_and_writes_the_file_on_finish() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("mission.mcap");
        let given = [
            ("path".to_owned(), ParamValue::String(path.display().to_string())),
            ("use_stamped".to_owned(), ParamValue::Bool(true)),
        ];
        let params = Params::new("recorder", &params(), &given).expect("params");
        let mut node = RecorderNode::from_params(&params).expect("node");
        assert_eq!(node.subscriptions(), Topic::ALL);
        node.record_note(0.0, "unverified");
        let mut out = Outbox::new();
        for (now_s, msg) in messages() {
            node.on_message(now_s, &msg, &mut out);
        }
        assert_eq!(out.drain().count(), 0, "publishes nothing");
        assert!(!path.exists());
        assert_eq!(node.finish(), Ok(()));
        let bytes = std::fs::read(&path).expect("written");
        assert_eq!(mcap::MessageStream::new(&bytes).expect("mcap").count(), messages().len() + 1);
        assert_eq!(node.finish(), Ok(()), "second finish does nothing");
    }

    /// Writes the sample recording for `tests/python/read_mcap.py`:
    /// `SIM2REAL_MCAP_OUT=/tmp/x.mcap cargo test --lib write_sample_for_python -- --ignored`.
    #[test]
    #[ignore = "writes a file for the Python reader check"]
    fn write_sample_for_python() {
        let path = std::env::var_os("SIM2REAL_MCAP_OUT").expect("SIM2REAL_MCAP_OUT");
        let stamped = std::env::var("SIM2REAL_MCAP_STAMPED").is_ok_and(|v| v == "1");
        let commands = if stamped { CommandType::TwistStamped } else { CommandType::Twist };
        write_sample(Path::new(&path), commands).expect("recorded");
    }
}
