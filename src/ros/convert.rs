//! ROS messages ↔ [`Msg`]: the only place the r2r message types meet the runtime's.
//!
//! Stamps: ROS header stamps are ROS time (the system clock here); the runtime's clock is
//! monotonic seconds since the bridge started. [`TimeMap`] maps one onto the other with the
//! offset measured at start, so `now_s - stamp_s` is a message's real age. A zero header stamp
//! (or an unstamped Twist) gets the receive time.

use r2r::builtin_interfaces::msg::Time;
use r2r::diagnostic_msgs::msg::{DiagnosticArray, DiagnosticStatus, KeyValue};
use r2r::geometry_msgs::msg::{PoseWithCovarianceStamped, Quaternion, Twist, TwistStamped, Vector3};
use r2r::nav_msgs::msg::Odometry;
use r2r::sensor_msgs::msg::{Imu as RosImu, LaserScan};
use r2r::std_msgs::msg::{Bool, Header, String as RosString};
use sim::{PlanarState, VelocityCmd};

use super::{TwistKind, quaternion_from_rpy, rpy_from_quaternion, yaw_from_quaternion};
use crate::msg::{Command, Diagnostic, DiagnosticLevel, Imu, Odom, Pose, Scan};
use crate::msg::{Msg, Topic};

/// Frame ids of what the bridge publishes (Clearpath's names).
const ODOM_FRAME: &str = "odom";
const MAP_FRAME: &str = "map";
const BASE_FRAME: &str = "base_link";
const IMU_FRAME: &str = "imu_0_link";
const SCAN_FRAME: &str = "lidar2d_0_laser";

/// ROS time ↔ the bridge's monotonic seconds: `ros_s = monotonic_s + offset_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TimeMap {
    pub(super) offset_s: f64,
}

impl TimeMap {
    /// The monotonic time of a header stamp; `now_s` for a zero stamp.
    fn to_monotonic(self, t: &Time, now_s: f64) -> f64 {
        if t.sec == 0 && t.nanosec == 0 {
            return now_s;
        }
        f64::from(t.sec) + f64::from(t.nanosec) * 1e-9 - self.offset_s
    }

    /// The header stamp of a monotonic time.
    fn to_ros(self, stamp_s: f64) -> Time {
        let t = (stamp_s + self.offset_s).max(0.0);
        let sec = t.floor();
        // `as` saturates; a stamp past 2038 is clamped rather than wrapped.
        let nanosec = (((t - sec) * 1e9).round() as u32).min(999_999_999);
        Time { sec: sec as i32, nanosec }
    }

    fn header(self, stamp_s: f64, frame: &str) -> Header {
        Header { stamp: self.to_ros(stamp_s), frame_id: frame.into() }
    }
}

/// A message as it came off a subscription, before conversion.
#[derive(Debug)]
pub(super) enum Incoming {
    Twist(Topic, Twist),
    TwistStamped(Topic, TwistStamped),
    Odom(Odometry),
    /// A localisation pose given as odometry in the map frame.
    PoseOdom(Odometry),
    PoseCov(PoseWithCovarianceStamped),
    Imu(RosImu),
    Scan(LaserScan),
    Bool(Bool),
    Diagnostics(DiagnosticArray),
    Json(Topic, RosString),
}

fn pose(stamp_s: f64, p: &r2r::geometry_msgs::msg::Pose) -> Msg {
    let q = &p.orientation;
    Msg::Pose(Pose {
        stamp_s,
        x_m: p.position.x,
        y_m: p.position.y,
        yaw_rad: yaw_from_quaternion(q.x, q.y, q.z, q.w),
    })
}

fn command(topic: Topic, c: Command) -> Msg {
    match topic {
        Topic::PolicyCmd => Msg::PolicyCmd(c),
        _ => Msg::CmdVel(c),
    }
}

fn velocity(t: &Twist) -> VelocityCmd {
    VelocityCmd { linear_mps: t.linear.x, angular_rps: t.angular.z }
}

/// The runtime message of an incoming ROS message; `Err` says why it was dropped.
pub(super) fn to_msg(incoming: Incoming, time: &TimeMap, now_s: f64) -> Result<Msg, String> {
    Ok(match incoming {
        Incoming::Twist(topic, t) => command(topic, Command { stamp_s: now_s, cmd: velocity(&t) }),
        Incoming::TwistStamped(topic, t) => command(
            topic,
            Command { stamp_s: time.to_monotonic(&t.header.stamp, now_s), cmd: velocity(&t.twist) },
        ),
        Incoming::Odom(o) => {
            let p = &o.pose.pose;
            let q = &p.orientation;
            Msg::Odom(Odom {
                stamp_s: time.to_monotonic(&o.header.stamp, now_s),
                state: PlanarState {
                    x_m: p.position.x,
                    y_m: p.position.y,
                    yaw_rad: yaw_from_quaternion(q.x, q.y, q.z, q.w),
                    speed_mps: o.twist.twist.linear.x,
                },
                yaw_rate_rps: o.twist.twist.angular.z,
            })
        }
        Incoming::PoseOdom(o) => pose(time.to_monotonic(&o.header.stamp, now_s), &o.pose.pose),
        Incoming::PoseCov(p) => pose(time.to_monotonic(&p.header.stamp, now_s), &p.pose.pose),
        Incoming::Imu(m) => {
            let q = &m.orientation;
            let (g, a) = (&m.angular_velocity, &m.linear_acceleration);
            Msg::Imu(Imu {
                stamp_s: time.to_monotonic(&m.header.stamp, now_s),
                gyro_rps: [g.x, g.y, g.z],
                accel_mps2: [a.x, a.y, a.z],
                rpy_rad: rpy_from_quaternion(q.x, q.y, q.z, q.w),
            })
        }
        // Readings pass as the lidar gave them (REP 117's inf and NaN included): the one
        // definition of a range ray reads them.
        Incoming::Scan(s) => Msg::Scan(Scan {
            stamp_s: time.to_monotonic(&s.header.stamp, now_s),
            beams: sim::LaserScan {
                angle_min_rad: f64::from(s.angle_min),
                angle_increment_rad: f64::from(s.angle_increment),
                range_min_m: f64::from(s.range_min),
                range_max_m: f64::from(s.range_max),
                ranges_m: s.ranges.iter().map(|&r| f64::from(r)).collect(),
            },
        }),
        Incoming::Bool(b) => Msg::EStop(b.data),
        Incoming::Diagnostics(a) => {
            let stamp_s = time.to_monotonic(&a.header.stamp, now_s);
            Msg::Diagnostics(
                a.status
                    .into_iter()
                    .map(|d| Diagnostic {
                        stamp_s,
                        // STALE (3) and unknown levels read as errors: nothing healthy to report.
                        level: match d.level {
                            0 => DiagnosticLevel::Ok,
                            1 => DiagnosticLevel::Warn,
                            _ => DiagnosticLevel::Error,
                        },
                        name: d.name,
                        message: d.message,
                        values: d.values.into_iter().map(|kv| (kv.key, kv.value)).collect(),
                    })
                    .collect(),
            )
        }
        // The operator's words travel as plain text, so `ros2 topic pub` can speak to the robot.
        Incoming::Json(Topic::OperatorSay, s) => Msg::OperatorSay(s.data),
        Incoming::Json(Topic::OperatorReply, s) => Msg::OperatorReply(s.data),
        Incoming::Json(topic, s) => Msg::from_json(topic, &s.data)?,
    })
}

fn twist(c: &VelocityCmd) -> Twist {
    Twist {
        linear: Vector3 { x: c.linear_mps, y: 0.0, z: 0.0 },
        angular: Vector3 { x: 0.0, y: 0.0, z: c.angular_rps },
    }
}

fn quaternion(rpy: [f64; 3]) -> Quaternion {
    let [x, y, z, w] = quaternion_from_rpy(rpy);
    Quaternion { x, y, z, w }
}

/// A message to publish, as its ROS type.
#[derive(Debug)]
pub(super) enum Outgoing {
    Twist(Twist),
    TwistStamped(TwistStamped),
    Odom(Odometry),
    Pose(PoseWithCovarianceStamped),
    Imu(RosImu),
    Scan(LaserScan),
    Bool(Bool),
    Diagnostics(DiagnosticArray),
    Json(RosString),
}

/// The ROS message of a runtime message.
pub(super) fn from_msg(msg: &Msg, twist_kind: TwistKind, time: &TimeMap) -> Outgoing {
    match msg {
        Msg::CmdVel(c) | Msg::PolicyCmd(c) => match super::twist_kind(msg.topic(), twist_kind) {
            TwistKind::Unstamped => Outgoing::Twist(twist(&c.cmd)),
            TwistKind::Stamped => Outgoing::TwistStamped(TwistStamped {
                header: time.header(c.stamp_s, BASE_FRAME),
                twist: twist(&c.cmd),
            }),
        },
        Msg::Odom(o) => {
            let mut m = Odometry {
                header: time.header(o.stamp_s, ODOM_FRAME),
                child_frame_id: BASE_FRAME.into(),
                ..Default::default()
            };
            m.pose.pose.position.x = o.state.x_m;
            m.pose.pose.position.y = o.state.y_m;
            m.pose.pose.orientation = quaternion([0.0, 0.0, o.state.yaw_rad]);
            m.twist.twist =
                twist(&VelocityCmd { linear_mps: o.state.speed_mps, angular_rps: o.yaw_rate_rps });
            Outgoing::Odom(m)
        }
        Msg::Pose(p) => {
            let mut m =
                PoseWithCovarianceStamped { header: time.header(p.stamp_s, MAP_FRAME), ..Default::default() };
            m.pose.pose.position.x = p.x_m;
            m.pose.pose.position.y = p.y_m;
            m.pose.pose.orientation = quaternion([0.0, 0.0, p.yaw_rad]);
            Outgoing::Pose(m)
        }
        Msg::Imu(i) => {
            let mut m = RosImu { header: time.header(i.stamp_s, IMU_FRAME), ..Default::default() };
            m.orientation = quaternion(i.rpy_rad);
            let [gx, gy, gz] = i.gyro_rps;
            let [ax, ay, az] = i.accel_mps2;
            m.angular_velocity = Vector3 { x: gx, y: gy, z: gz };
            m.linear_acceleration = Vector3 { x: ax, y: ay, z: az };
            Outgoing::Imu(m)
        }
        Msg::Scan(s) => {
            let b = &s.beams;
            let last = b.ranges_m.len().saturating_sub(1) as f64;
            Outgoing::Scan(LaserScan {
                header: time.header(s.stamp_s, SCAN_FRAME),
                angle_min: b.angle_min_rad as f32,
                angle_max: (b.angle_min_rad + last * b.angle_increment_rad) as f32,
                angle_increment: b.angle_increment_rad as f32,
                range_min: b.range_min_m as f32,
                range_max: b.range_max_m as f32,
                ranges: b.ranges_m.iter().map(|&r| r as f32).collect(),
                ..Default::default()
            })
        }
        Msg::EStop(on) => Outgoing::Bool(Bool { data: *on }),
        Msg::Diagnostics(statuses) => Outgoing::Diagnostics(DiagnosticArray {
            header: Header {
                stamp: time.to_ros(statuses.first().map_or(0.0, |d| d.stamp_s)),
                frame_id: String::new(),
            },
            status: statuses
                .iter()
                .map(|d| DiagnosticStatus {
                    level: d.level as u8,
                    name: d.name.clone(),
                    message: d.message.clone(),
                    hardware_id: String::new(),
                    values: d
                        .values
                        .iter()
                        .map(|(key, value)| KeyValue { key: key.clone(), value: value.clone() })
                        .collect(),
                })
                .collect(),
        }),
        Msg::OperatorSay(text) | Msg::OperatorReply(text) => Outgoing::Json(RosString { data: text.clone() }),
        other => Outgoing::Json(RosString { data: other.to_json().unwrap_or_default() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIME: TimeMap = TimeMap { offset_s: 1_700_000_000.0 };

    #[test]
    fn odometry_round_trips_with_its_stamp() {
        let odom = Odom {
            stamp_s: 12.25,
            state: PlanarState { x_m: 1.0, y_m: -2.0, yaw_rad: 2.8, speed_mps: 1.5 },
            yaw_rate_rps: -0.3,
        };
        let Outgoing::Odom(ros) = from_msg(&Msg::Odom(odom), TwistKind::Unstamped, &TIME) else {
            panic!("not odometry")
        };
        assert_eq!(ros.pose.covariance.len(), 36, "fixed-size arrays keep their size");
        let Ok(Msg::Odom(back)) = to_msg(Incoming::Odom(ros), &TIME, 99.0) else { panic!("not odometry") };
        assert!((back.stamp_s - 12.25).abs() < 1e-6, "{}", back.stamp_s);
        assert!((back.state.yaw_rad - 2.8).abs() < 1e-12);
        assert_eq!((back.state.x_m, back.state.speed_mps, back.yaw_rate_rps), (1.0, 1.5, -0.3));
    }

    #[test]
    fn commands_take_the_configured_type_and_unstamped_ones_the_receive_time() {
        let c =
            Msg::PolicyCmd(Command { stamp_s: 3.0, cmd: VelocityCmd { linear_mps: 0.5, angular_rps: 0.1 } });
        let Outgoing::TwistStamped(ts) = from_msg(&c, TwistKind::Stamped, &TIME) else { panic!("stamped") };
        let back = to_msg(Incoming::TwistStamped(Topic::PolicyCmd, ts), &TIME, 50.0).expect("valid");
        let Msg::PolicyCmd(b) = back else { panic!("topic kept") };
        assert!((b.stamp_s - 3.0).abs() < 1e-6);
        let Outgoing::TwistStamped(_) = from_msg(&c, TwistKind::Unstamped, &TIME) else {
            panic!("the policy command is always stamped")
        };
        let c = Msg::CmdVel(Command { stamp_s: 3.0, cmd: VelocityCmd { linear_mps: 0.5, angular_rps: 0.1 } });
        let Outgoing::Twist(t) = from_msg(&c, TwistKind::Unstamped, &TIME) else { panic!("unstamped") };
        let back = to_msg(Incoming::Twist(Topic::CmdVel, t), &TIME, 50.0).expect("valid");
        assert_eq!(
            back,
            Msg::CmdVel(Command { stamp_s: 50.0, cmd: VelocityCmd { linear_mps: 0.5, angular_rps: 0.1 } })
        );
    }

    #[test]
    fn scans_pass_as_the_lidar_gave_them_and_bad_json_is_an_error() {
        let scan = LaserScan {
            ranges: vec![1.0, f32::INFINITY, f32::NEG_INFINITY],
            range_min: 0.1,
            range_max: 20.0,
            angle_increment: -0.5,
            ..Default::default()
        };
        let Ok(Msg::Scan(s)) = to_msg(Incoming::Scan(scan), &TIME, 1.0) else { panic!("scan") };
        assert_eq!(s.beams.ranges_m, [1.0, f64::INFINITY, f64::NEG_INFINITY]);
        assert_eq!((s.beams.range_min_m, s.beams.angle_increment_rad), (f64::from(0.1f32), -0.5));
        let bad = RosString { data: "{not json".into() };
        let e = to_msg(Incoming::Json(Topic::Goal, bad), &TIME, 1.0).expect_err("malformed");
        assert!(e.starts_with("sim2real/mission/goal"), "{e}");
    }
}
