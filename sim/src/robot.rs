//! The Clearpath Warthog (W200) as both simulators see it.

/// Physical and control parameters of the robot.
///
/// Defaults are the Warthog's: Clearpath `clearpath_control/config/w200/control.yaml` and the
/// W200 URDF. The skid-steer controller converts a twist to wheel speeds with the *effective*
/// separation `wheel_separation_m * wheel_separation_multiplier` (1.6875 m), which is larger than
/// the geometric track because the wheels slip sideways while the robot turns.
#[derive(Debug, Clone, PartialEq)]
pub struct RobotParams {
    /// Wheel radius (m).
    pub wheel_radius_m: f64,
    /// Nominal wheel separation in the controller configuration (m).
    pub wheel_separation_m: f64,
    /// Multiplier the controller applies to the separation to account for skid-steer slip.
    pub wheel_separation_multiplier: f64,
    /// Geometric track: distance between left and right wheel centres (m).
    pub track_m: f64,
    /// Distance between front and rear axles (m).
    pub wheelbase_m: f64,
    /// Chassis length, for the collision footprint (m).
    pub length_m: f64,
    /// Chassis width, for the collision footprint (m).
    pub width_m: f64,
    /// Height of the centre of mass above the ground (m).
    pub com_height_m: f64,
    /// Total mass (kg).
    pub mass_kg: f64,
    /// Controller limit on forward speed (m/s).
    pub max_speed_mps: f64,
    /// Controller limit on yaw rate (rad/s).
    pub max_yaw_rate_rps: f64,
    /// Controller limit on linear acceleration, while |speed| grows (m/s²).
    pub max_accel_mps2: f64,
    /// Controller limit on linear deceleration, while |speed| shrinks (m/s²).
    pub max_decel_mps2: f64,
    /// Controller limit on yaw acceleration, while |yaw rate| grows (rad/s²).
    pub max_yaw_accel_rps2: f64,
    /// Controller limit on yaw deceleration, while |yaw rate| shrinks (rad/s²).
    pub max_yaw_decel_rps2: f64,
    /// Force limit of one side's motor at the rim (N); the high-fidelity simulator applies it
    /// (a derated or overloaded motor is a smaller value).
    pub motor_force_max_n: f64,
    /// Time constant of the first-order lag between the commanded and the actual twist (s).
    pub motor_lag_s: f64,
    /// Control rate of the velocity controller and of the policies (Hz).
    pub control_hz: f64,
    /// The controller stops the robot when no command arrived for this long (s).
    pub cmd_timeout_s: f64,
    /// Height of the range sensor above the ground (m).
    pub lidar_height_m: f64,
}

impl Default for RobotParams {
    fn default() -> Self {
        Self {
            wheel_radius_m: 0.3,
            wheel_separation_m: 1.5,
            wheel_separation_multiplier: 1.125,
            // W200 URDF: wheels at y = ±0.568 m.
            track_m: 1.136,
            wheelbase_m: 0.915,
            length_m: 1.52,
            width_m: 1.38,
            com_height_m: 0.45,
            mass_kg: 260.0,
            max_speed_mps: 5.0,
            max_yaw_rate_rps: 4.0,
            // Clearpath's current W200 `diff_4wd` controller (lowered from 50 m/s² in 2025
            // after measuring the robot): slow to speed up, quick to slow down.
            max_accel_mps2: 2.5,
            max_decel_mps2: 10.0,
            max_yaw_accel_rps2: 2.0,
            max_yaw_decel_rps2: 8.0,
            // Our assumption (Clearpath publishes no torque curve): both sides together push
            // 0.78 × the weight of 260 kg, so traction rather than the motors limits climbing,
            // and a side has room over the ~730 N a turn in place on μ = 1 ground asks of it.
            motor_force_max_n: 1_000.0,
            motor_lag_s: 0.15,
            control_hz: 50.0,
            cmd_timeout_s: 0.25,
            lidar_height_m: 0.6,
        }
    }
}

impl RobotParams {
    /// Effective wheel separation the skid-steer controller uses (m): 1.6875 m on the Warthog.
    pub fn effective_separation_m(&self) -> f64 {
        self.wheel_separation_m * self.wheel_separation_multiplier
    }

    /// Control period (s).
    pub fn control_dt_s(&self) -> f64 {
        1.0 / self.control_hz
    }

    /// Left and right wheel rim speeds (m/s) for a twist, as the diff-drive controller computes them.
    pub fn wheel_speeds(&self, cmd: crate::VelocityCmd) -> (f64, f64) {
        let half = 0.5 * self.effective_separation_m();
        (cmd.linear_mps - cmd.angular_rps * half, cmd.linear_mps + cmd.angular_rps * half)
    }

    /// One control period of `dt_s` of the velocity controller: the twist moves toward `cmd`
    /// (already clamped) by the fraction `alpha` the motor lag closes, rate-limited by the
    /// acceleration and deceleration limits ([`rate_limit`]).
    pub fn follow(
        &self,
        now: crate::VelocityCmd,
        cmd: crate::VelocityCmd,
        alpha: f64,
        dt_s: f64,
    ) -> crate::VelocityCmd {
        let step = |now: f64, goal: f64, accel: f64, decel: f64| {
            rate_limit(now, now + alpha * (goal - now), accel, decel, dt_s)
        };
        crate::VelocityCmd {
            linear_mps: step(now.linear_mps, cmd.linear_mps, self.max_accel_mps2, self.max_decel_mps2),
            angular_rps: step(
                now.angular_rps,
                cmd.angular_rps,
                self.max_yaw_accel_rps2,
                self.max_yaw_decel_rps2,
            ),
        }
    }

    /// Clamp a command to the controller's speed and yaw-rate limits; non-finite parts become 0.
    pub fn clamp(&self, cmd: crate::VelocityCmd) -> crate::VelocityCmd {
        let lim = |v: f64, max: f64| if v.is_finite() { v.clamp(-max, max) } else { 0.0 };
        crate::VelocityCmd {
            linear_mps: lim(cmd.linear_mps, self.max_speed_mps),
            angular_rps: lim(cmd.angular_rps, self.max_yaw_rate_rps),
        }
    }
}

/// One control period of a velocity controller's rate limiter: moves `from` toward `to`, at
/// most `accel · dt` while |velocity| grows and `decel · dt` while it shrinks; crossing zero
/// spends the first part of the period decelerating and the rest accelerating. Non-finite
/// input gives `from` back unchanged.
pub fn rate_limit(from: f64, to: f64, accel: f64, decel: f64, dt: f64) -> f64 {
    if !(to.is_finite() && from.is_finite()) {
        return from;
    }
    if from == 0.0 || from.signum() == to.signum() {
        let step = if to.abs() >= from.abs() { accel * dt } else { decel * dt };
        return from + (to - from).clamp(-step, step);
    }
    // Opposite signs: brake to zero first.
    let brake_s = from.abs() / decel;
    if brake_s >= dt {
        return from - from.signum() * decel * dt;
    }
    to.signum() * to.abs().min(accel * (dt - brake_s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VelocityCmd;

    #[test]
    fn warthog_effective_separation_is_1_6875() {
        assert!((RobotParams::default().effective_separation_m() - 1.6875).abs() < 1e-12);
    }

    #[test]
    fn rate_limit_speeds_up_slowly_and_brakes_hard() {
        let (a, d, dt) = (2.5, 10.0, 0.02);
        assert!((rate_limit(0.0, 3.0, a, d, dt) - 0.05).abs() < 1e-12);
        assert!((rate_limit(-1.0, -3.0, a, d, dt) + 1.05).abs() < 1e-12);
        assert!((rate_limit(3.0, 0.0, a, d, dt) - 2.8).abs() < 1e-12);
        assert!((rate_limit(-3.0, -1.0, a, d, dt) + 2.8).abs() < 1e-12);
        assert_eq!(rate_limit(1.0, 1.1, a, d, dt), 1.05);
        // 0.1 m/s forward to 2 m/s back: 0.01 s braking, then 0.01 s at 2.5 m/s².
        assert!((rate_limit(0.1, -2.0, a, d, dt) + 0.025).abs() < 1e-12);
        // Within one step's reach: exact.
        assert_eq!(rate_limit(0.1, -0.01, a, d, dt), -0.01);
        assert_eq!(rate_limit(1.0, f64::NAN, a, d, dt), 1.0);
    }

    #[test]
    fn clamp_limits_and_zeroes_nan() {
        let p = RobotParams::default();
        let c = p.clamp(VelocityCmd { linear_mps: 9.0, angular_rps: f64::NAN });
        assert_eq!(c, VelocityCmd { linear_mps: 5.0, angular_rps: 0.0 });
    }
}
