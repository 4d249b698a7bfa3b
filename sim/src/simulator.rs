//! The interface both simulators implement, and the values that cross it.

/// The planar state of the robot in the scenario frame: what interface regions are defined over.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PlanarState {
    /// East position (m).
    pub x_m: f64,
    /// North position (m).
    pub y_m: f64,
    /// Heading, counter-clockwise from +x, in (-π, π] (rad).
    pub yaw_rad: f64,
    /// Forward speed in the body frame (m/s); negative when reversing.
    pub speed_mps: f64,
}

/// A twist command, as on `cmd_vel`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct VelocityCmd {
    /// Forward speed (m/s).
    pub linear_mps: f64,
    /// Yaw rate, counter-clockwise positive (rad/s).
    pub angular_rps: f64,
}

impl VelocityCmd {
    /// The zero command.
    pub const STOP: Self = Self { linear_mps: 0.0, angular_rps: 0.0 };
}

/// Which simulator produced a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fidelity {
    /// Planar kinematics with lag: fast, for training.
    Low,
    /// Rigid-body physics on rapier3d with wheel slip, terrain, latency and noise.
    High,
}

impl Fidelity {
    /// Lower-case name, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Fidelity::Low => "low",
            Fidelity::High => "high",
        }
    }
}

/// What ended an episode, if anything. Terminal statuses are sticky until the next `reset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Nothing happened.
    Running,
    /// The chassis touched an obstacle (index into `World::obstacles`).
    Collision {
        /// Index of the obstacle in `World::obstacles`.
        obstacle: usize,
    },
    /// Part of the chassis left the geofence.
    GeofenceBreach,
    /// Roll or pitch passed the tip-over limit.
    TipOver,
}

impl Status {
    /// Whether the episode is over.
    pub fn is_terminal(self) -> bool {
        self != Status::Running
    }
}

/// Result of one control step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepInfo {
    /// Ground-truth state after the step.
    pub state: PlanarState,
    /// Whether the step ended the episode.
    pub status: Status,
    /// Simulated time since reset (s).
    pub time_s: f64,
}

/// Wheel odometry fused with the IMU, as `platform/odom/filtered` reports it (with noise).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Odometry {
    /// Estimated planar state.
    pub state: PlanarState,
    /// Estimated yaw rate (rad/s).
    pub yaw_rate_rps: f64,
}

/// IMU reading in the body frame (with noise).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Imu {
    /// Angular velocity about body x, y, z (rad/s).
    pub gyro_rps: [f64; 3],
    /// Specific force along body x, y, z (m/s²); +9.81 on z when level and still.
    pub accel_mps2: [f64; 3],
    /// Roll (rad).
    pub roll_rad: f64,
    /// Pitch (rad), positive nose down.
    pub pitch_rad: f64,
}

/// Everything the robot can sense after a step.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sensors {
    /// Odometry estimate.
    pub odom: Odometry,
    /// IMU reading.
    pub imu: Imu,
    /// The simulated lidar's scan (body frame, no mounting offset).
    pub scan: crate::LaserScan,
    /// The policy's rays, reduced from `scan` by `RayConfig::ranges_from_scan`.
    pub ranges_m: Vec<f64>,
}

/// A seeded, clock-free simulator of one robot in one world.
///
/// Both fidelities implement it, so a policy, a verifier or a node cannot tell which one it
/// drives except by how real it is. Same seed and same commands give bit-identical results.
pub trait Simulator: Send {
    /// Which simulator this is.
    fn fidelity(&self) -> Fidelity;
    /// Place the robot at `start` (at rest unless `start.speed_mps` is set) and reseed all noise,
    /// randomisation and latency from `seed`.
    fn reset(&mut self, start: PlanarState, seed: u64);
    /// Apply one command for one control period.
    fn step(&mut self, cmd: VelocityCmd) -> StepInfo;
    /// Ground-truth state.
    fn state(&self) -> PlanarState;
    /// Sensor readings after the last step or reset.
    fn sensors(&self) -> &Sensors;
    /// Simulated time since reset (s).
    fn time_s(&self) -> f64;
    /// Control period (s).
    fn control_dt_s(&self) -> f64;
}

/// Wrap an angle to (-π, π].
pub fn wrap_angle(a: f64) -> f64 {
    use std::f64::consts::{PI, TAU};
    let r = (a + PI).rem_euclid(TAU) - PI;
    if r <= -PI { r + TAU } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn wrap_angle_range() {
        assert!((wrap_angle(3.0 * PI) - PI).abs() < 1e-12);
        assert!((wrap_angle(-PI) - PI).abs() < 1e-12);
        assert!((wrap_angle(0.5) - 0.5).abs() < 1e-12);
        assert!((wrap_angle(-7.0) - (-7.0 + 2.0 * PI)).abs() < 1e-12);
    }
}
