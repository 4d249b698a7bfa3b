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

mod cdr;
mod mcap;
mod schema;

pub use self::mcap::{CommandType, NOTES_TOPIC, RecordError, Recorder};

use crate::msg::{DEFAULT_NAMESPACE, Msg, Topic};
use crate::runtime::node::{Node, Outbox, ParamSpec, ParamValue, Params};

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
    use super::cdr::*;
    use super::mcap::*;

    use super::*;
    use crate::msg::{
        ActiveSubtask, Avoid, DiagnosticLevel, GoalRequest, MissionPhase, MissionStatus, SafetyStatus,
        SafetyVerdict, SubtaskEvent, SubtaskOutcome, TipsUpdate,
    };
    use crate::msg::{Command, Diagnostic, Imu, Odom, Pose, Scan};
    use sim::{LaserScan, PlanarState, VelocityCmd};
    use std::collections::BTreeMap;
    use std::path::Path;

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
                    beams: LaserScan {
                        angle_min_rad: -1.5,
                        angle_increment_rad: 0.5,
                        range_min_m: 0.1,
                        range_max_m: 10.0,
                        ranges_m: vec![1.0, 2.0, f64::INFINITY, 3.5, 4.0, 10.0, 0.5],
                    },
                }),
            ),
            (0.055, Msg::Pose(Pose { stamp_s: 0.055, x_m: 12.5, y_m: -3.0, yaw_rad: 0.4 })),
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
            let mut by_topic: BTreeMap<String, Vec<::mcap::Message>> = BTreeMap::new();
            for m in ::mcap::MessageStream::new(&bytes).expect("mcap") {
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
            beams: LaserScan {
                angle_min_rad: -1.5,
                angle_increment_rad: 0.5,
                range_min_m: 0.0,
                range_max_m: 10.0,
                ranges_m: vec![1.0; 7],
            },
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
        assert_eq!(::mcap::MessageStream::new(&bytes).expect("mcap").count(), messages().len() + 1);
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
