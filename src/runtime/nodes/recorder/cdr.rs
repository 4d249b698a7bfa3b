//! ROS 2 `cdr` encoding (little-endian XCDR1, what rmw_fastrtps puts on the wire) of the
//! standard messages we record.

use super::CommandType;
use super::mcap::split_time;
use crate::msg::{Command, Diagnostic, Imu, Odom, Pose, Scan};

/// A little-endian plain-CDR (XCDR1) payload, as rmw_fastrtps serialises ROS 2 messages:
/// encapsulation header `00 01 00 00`, then each primitive aligned to its size (8 at most)
/// counted from the end of the header; strings and sequences are a `uint32` length first
/// (strings count their NUL); fixed arrays have no length.
pub(super) struct Cdr(pub(super) Vec<u8>);

impl Cdr {
    pub(super) fn new() -> Cdr {
        Cdr(vec![0x00, 0x01, 0x00, 0x00])
    }

    pub(super) fn align(&mut self, size: usize) {
        let padded = (self.0.len() - 4).next_multiple_of(size) + 4;
        self.0.resize(padded, 0);
    }

    pub(super) fn bool(&mut self, v: bool) {
        self.0.push(u8::from(v));
    }

    pub(super) fn u32(&mut self, v: u32) {
        self.align(4);
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub(super) fn i32(&mut self, v: i32) {
        self.align(4);
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub(super) fn f32(&mut self, v: f32) {
        self.align(4);
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub(super) fn f64(&mut self, v: f64) {
        self.align(8);
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub(super) fn f64s(&mut self, v: &[f64]) {
        v.iter().for_each(|&x| self.f64(x));
    }

    pub(super) fn string(&mut self, s: &str) {
        // Our strings are short frame ids; a length beyond u32 cannot occur.
        self.u32(u32::try_from(s.len() + 1).unwrap_or(u32::MAX));
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
    }

    pub(super) fn f32_sequence(&mut self, v: impl ExactSizeIterator<Item = f32>) {
        self.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
        v.for_each(|x| self.f32(x));
    }

    /// `std_msgs/Header`.
    pub(super) fn header(&mut self, stamp_s: f64, frame_id: &str) {
        let (sec, nanosec) = split_time(stamp_s);
        self.i32(sec.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32);
        self.u32(nanosec);
        self.string(frame_id);
    }

    /// `geometry_msgs/Quaternion` from roll, pitch, yaw (rad; extrinsic x-y-z, as tf2's
    /// `setRPY`).
    pub(super) fn quaternion_rpy(&mut self, [roll, pitch, yaw]: [f64; 3]) {
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
const MAP_FRAME: &str = "map";
/// Body frame of the robot.
const BASE_FRAME: &str = "base_link";

pub(super) fn twist_cdr(c: &Command, commands: CommandType) -> Vec<u8> {
    let mut cdr = Cdr::new();
    if commands == CommandType::TwistStamped {
        cdr.header(c.stamp_s, BASE_FRAME);
    }
    cdr.f64s(&[c.cmd.linear_mps, 0.0, 0.0, 0.0, 0.0, c.cmd.angular_rps]);
    cdr.0
}

pub(super) fn odometry_cdr(o: &Odom) -> Vec<u8> {
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

/// A localisation pose as geometry_msgs/PoseWithCovarianceStamped in the map frame.
pub(super) fn pose_cdr(p: &Pose) -> Vec<u8> {
    let mut cdr = Cdr::new();
    cdr.header(p.stamp_s, MAP_FRAME);
    cdr.f64s(&[p.x_m, p.y_m, 0.0]);
    cdr.quaternion_rpy([0.0, 0.0, p.yaw_rad]);
    cdr.f64s(&[0.0; 36]);
    cdr.0
}

/// A DiagnosticArray stamped with its first status's time.
pub(super) fn diagnostic_array_cdr(statuses: &[Diagnostic]) -> Vec<u8> {
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

pub(super) fn imu_cdr(i: &Imu) -> Vec<u8> {
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

pub(super) fn laser_scan_cdr(s: &Scan) -> Vec<u8> {
    let mut cdr = Cdr::new();
    cdr.header(s.stamp_s, BASE_FRAME);
    let b = &s.beams;
    // ROS's angle_max is the angle of the last ray.
    let last = b.ranges_m.len().saturating_sub(1) as f64;
    let angle_max_rad = b.angle_min_rad + last * b.angle_increment_rad;
    for v in [b.angle_min_rad, angle_max_rad, b.angle_increment_rad, 0.0, 0.0, b.range_min_m, b.range_max_m] {
        cdr.f32(v as f32);
    }
    cdr.f32_sequence(b.ranges_m.iter().map(|&r| r as f32));
    cdr.f32_sequence(std::iter::empty());
    cdr.0
}
