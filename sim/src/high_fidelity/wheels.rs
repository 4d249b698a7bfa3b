//! The running gear: velocity controller, motors, suspension and tyres.
//!
//! The controller lets the twist follow the command through the motor lag, bounded by the
//! acceleration limits, and turns it into left/right rim speeds with the *effective* separation
//! (`RobotParams::wheel_speeds`, 1.6875 m on the Warthog); each side's motor tracks its rim
//! speed with a stiff PI speed loop up to a force limit. Warthog drives both wheels of a side
//! through one motor, so a side has one rim speed. Each wheel is a spring–damper along the
//! chassis' down axis onto the analytic ground, and its tyre transmits force through friction
//! with longitudinal *and* lateral slip: a bristle (elasto-plastic) model that sticks below the
//! friction limit (so a parked robot does not creep down a bank) and slides on a friction ellipse
//! above it. Sideways scrubbing while turning is what makes the effective separation larger than
//! the 1.136 m track.

use crate::{RobotParams, VelocityCmd};

/// Per-wheel suspension stiffness (N/m): about 2 Hz bounce for a quarter of 260 kg.
pub(super) const SPRING_N_PER_M: f64 = 10_000.0;
/// Per-wheel suspension damping (N·s/m): damping ratio about 0.4.
const DAMPER_NS_PER_M: f64 = 650.0;
/// Compression beyond which the bump stop engages (m).
const TRAVEL_M: f64 = 0.12;
/// Bump-stop stiffness (N/m), ten times the spring.
const BUMP_STOP_N_PER_M: f64 = 100_000.0;
/// Tyre bristle stiffness (N/m) per wheel: stiff enough that sticking tyres hold a parked robot
/// within millimetres, soft enough to stay stable at 200 Hz (ω·dt ≈ 0.1 for a quarter robot).
const BRISTLE_N_PER_M: f64 = 30_000.0;
/// Tyre bristle damping (N·s/m) per wheel: about 0.7 of critical for a quarter robot.
const BRISTLE_NS_PER_M: f64 = 2_000.0;
/// Relaxation length of the tyre (m): about the wheel radius, as for pneumatic tyres.
const RELAXATION_M: f64 = 0.3;
/// Lateral friction over longitudinal friction of the tyre.
///
/// Wong (Theory of Ground Vehicles, skid steering) uses a coefficient of lateral resistance
/// separate from the longitudinal one. With a maximum-dissipation friction ellipse, turning in
/// place balances when the effective separation is `track + ratio² · wheelbase² / track`; with
/// an isotropic tyre (ratio 1) that is 1.873 m, and Clearpath's multiplier of 1.125 (1.6875 m)
/// asks for ratio² ≈ 0.748, so ratio 0.865. This is the one calibrated constant of the model;
/// the separation itself is measured in the tests.
pub(super) const LATERAL_FRICTION_RATIO: f64 = 0.865;
/// Rim-equivalent mass of one side's drivetrain (kg): two 0.3 m wheels and the geared motor,
/// J ≈ 1.5 kg·m² over r².
const SIDE_INERTIA_KG: f64 = 17.0;
/// Proportional gain of the motor drive's speed loop (N per m/s): stiff, so a side holds its
/// speed until the force limit; solved implicitly, so any gain is stable.
const MOTOR_GAIN_N_PER_MPS: f64 = 40_000.0;
/// Integral gain of the speed loop (N per m): integral time 0.05 s, so a steady load (the scrub
/// of a turn in place) costs no steady speed error, as with the Warthog's motor drivers.
const MOTOR_GAIN_N_PER_M: f64 = 800_000.0;

/// Where the wheels are on the chassis and how long their springs are.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    /// Attachment points in the body frame (x forward, y left, z up, origin at the centre of
    /// mass), order front-left, rear-left, front-right, rear-right (m).
    pub attach: [[f64; 3]; 4],
    /// Spring length at zero force (m).
    pub rest_length_m: f64,
    /// Wheel radius (m).
    pub radius_m: f64,
}

impl Layout {
    pub(super) fn new(robot: &RobotParams) -> Self {
        let (a, b) = (0.5 * robot.wheelbase_m, 0.5 * robot.track_m);
        let static_sag = robot.mass_kg * super::GRAVITY_MPS2 / 4.0 / SPRING_N_PER_M;
        Self {
            attach: [[a, b, 0.0], [-a, b, 0.0], [a, -b, 0.0], [-a, -b, 0.0]],
            // Attachments at centre-of-mass height; hub at com_height − radius below at rest load.
            rest_length_m: (robot.com_height_m - robot.wheel_radius_m).max(0.05) + static_sag,
            radius_m: robot.wheel_radius_m,
        }
    }

    /// Height of the centre of mass above level ground at static load for `mass_kg` (m).
    pub(super) fn ride_height_m(&self, mass_kg: f64) -> f64 {
        self.radius_m + self.rest_length_m - mass_kg * super::GRAVITY_MPS2 / 4.0 / SPRING_N_PER_M
    }

    /// Whether wheel `i` is on the left side.
    pub(super) fn is_left(i: usize) -> bool {
        i < 2
    }
}

/// Spring force (N, pushing the chassis up) for a compression (m) and compression rate (m/s).
pub(super) fn suspension_force_n(compression_m: f64, rate_mps: f64) -> f64 {
    if compression_m <= 0.0 {
        return 0.0;
    }
    let bump = (compression_m - TRAVEL_M).max(0.0) * BUMP_STOP_N_PER_M;
    (SPRING_N_PER_M * compression_m + DAMPER_NS_PER_M * rate_mps + bump).max(0.0)
}

/// State of one tyre's contact patch.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Tyre {
    /// Bristle deflection along the wheel's forward and lateral ground directions (m).
    deflection_m: [f64; 2],
}

/// What a tyre does in one substep.
#[derive(Debug, Clone, Copy)]
pub(super) struct TyreForce {
    /// Ground force on the chassis along forward and lateral ground directions (N).
    pub force_n: [f64; 2],
    /// ∂(forward force)/∂(rim speed) (N per m/s), for the implicit drivetrain update.
    pub stiffness_ns_per_m: f64,
}

impl Tyre {
    /// Tyre force for slip velocity `slip_mps` (contact patch over ground, forward and lateral),
    /// normal load `load_n` and friction coefficient `mu`, over `dt_s`.
    pub(super) fn force(
        &mut self,
        slip_mps: [f64; 2],
        rolling_mps: f64,
        load_n: f64,
        mu: f64,
        dt_s: f64,
    ) -> TyreForce {
        if load_n <= 0.0 || mu <= 0.0 {
            self.deflection_m = [0.0; 2];
            return TyreForce { force_n: [0.0; 2], stiffness_ns_per_m: 0.0 };
        }
        let limit = [mu * load_n, LATERAL_FRICTION_RATIO * mu * load_n];
        // Rolling carries deflected tread out of the patch and fresh tread in: the deflection
        // relaxes over the relaxation length (implicit, so it is stable at any speed).
        let relax = 1.0 / (1.0 + rolling_mps.abs() * dt_s / RELAXATION_M);
        let mut d = self.deflection_m;
        d[0] = (d[0] + slip_mps[0] * dt_s) * relax;
        d[1] = (d[1] + slip_mps[1] * dt_s) * relax;
        let trial = [
            -(BRISTLE_N_PER_M * d[0] + BRISTLE_NS_PER_M * slip_mps[0]),
            -(BRISTLE_N_PER_M * d[1] + BRISTLE_NS_PER_M * slip_mps[1]),
        ];
        let used = (trial[0] / limit[0]).hypot(trial[1] / limit[1]);
        if used <= 1.0 {
            self.deflection_m = d;
            return TyreForce {
                force_n: trial,
                stiffness_ns_per_m: BRISTLE_N_PER_M * dt_s + BRISTLE_NS_PER_M,
            };
        }
        // Sliding: the friction force that dissipates most on the ellipse opposes
        // (mu_x² s_x, mu_y² s_y), not the slip itself; that skews it toward the rolling direction.
        let (wx, wy) = (limit[0] * limit[0] * slip_mps[0], limit[1] * limit[1] * slip_mps[1]);
        let norm = (limit[0] * slip_mps[0]).hypot(limit[1] * slip_mps[1]);
        let force = if norm > 1e-9 { [-wx / norm, -wy / norm] } else { [trial[0] / used, trial[1] / used] };
        // Deflection that holds the sliding force, so sticking resumes without a jump.
        self.deflection_m = [-force[0] / BRISTLE_N_PER_M, -force[1] / BRISTLE_N_PER_M];
        TyreForce { force_n: force, stiffness_ns_per_m: 0.0 }
    }
}

/// Velocity controller plus the two motors.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Drivetrain {
    /// Lagged, rate-limited twist the motors are tracking.
    twist: VelocityCmd,
    /// Rim-speed set-points, left and right (m/s).
    reference_mps: [f64; 2],
    /// Rim speeds, left and right (m/s).
    rim_mps: [f64; 2],
    /// Integral term of each side's speed loop (N).
    integral_n: [f64; 2],
}

impl Drivetrain {
    /// A drivetrain already moving at `speed_mps` straight ahead.
    pub(super) fn rolling(speed_mps: f64) -> Self {
        Self {
            twist: VelocityCmd { linear_mps: speed_mps, angular_rps: 0.0 },
            reference_mps: [speed_mps; 2],
            rim_mps: [speed_mps; 2],
            integral_n: [0.0; 2],
        }
    }

    /// Rim speeds, left and right (m/s).
    pub(super) fn rim_mps(&self) -> [f64; 2] {
        self.rim_mps
    }

    /// Advance the controller toward `cmd` (already clamped) by `dt_s`: the twist follows the
    /// command through the motor lag, its change bounded by the acceleration and deceleration limits, and
    /// becomes the two sides' rim-speed set-points. This is low fidelity's twist response
    /// exactly (at the physics rate), so the two simulators differ in physics, not in how they
    /// read a command.
    pub(super) fn control(&mut self, robot: &RobotParams, cmd: VelocityCmd, dt_s: f64) {
        let alpha = if robot.motor_lag_s > 0.0 { 1.0 - (-dt_s / robot.motor_lag_s).exp() } else { 1.0 };
        self.twist = robot.follow(self.twist, cmd, alpha, dt_s);
        let (left, right) = robot.wheel_speeds(self.twist);
        self.reference_mps = [left, right];
    }

    /// Advance both sides' rim speeds by `dt_s` under the tyres' forward forces on the chassis
    /// (`tyre_n`, summed per side) and their stiffness with respect to rim speed.
    /// Each side's motor pushes at most `max_force_n` at the rim (`RobotParams::motor_force_max_n`).
    pub(super) fn drive(&mut self, tyre_n: [f64; 2], stiffness: [f64; 2], max_force_n: f64, dt_s: f64) {
        let m = SIDE_INERTIA_KG / dt_s;
        // The integral's contribution within this step acts like extra proportional gain.
        let gain = MOTOR_GAIN_N_PER_MPS + MOTOR_GAIN_N_PER_M * dt_s;
        for side in 0..2 {
            let (w, d, reference) = (self.rim_mps[side], stiffness[side], self.reference_mps[side]);
            // Implicit in the motor's speed loop and linearised-implicit in the tyre force: the
            // tyre pushing the chassis forward brakes the wheel.
            let held = self.integral_n[side];
            let next = (m * w + d * w + gain * reference + held - tyre_n[side]) / (m + gain + d);
            let motor = gain * (reference - next) + held;
            if motor.abs() > max_force_n {
                // At the force limit; the integral holds (anti-windup).
                let motor = motor.clamp(-max_force_n, max_force_n);
                self.rim_mps[side] = (m * w + d * w + motor - tyre_n[side]) / (m + d);
            } else {
                self.integral_n[side] = held + MOTOR_GAIN_N_PER_M * dt_s * (reference - next);
                self.rim_mps[side] = next;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tyre_sticks_below_the_limit_and_slides_above() {
        let mut t = Tyre::default();
        // A small lateral creep builds a restoring force and holds.
        let f = t.force([0.0, 0.01], 0.0, 600.0, 0.8, 0.005);
        assert!(f.force_n[1] < 0.0 && f.force_n[1].abs() < 0.8 * 600.0 * LATERAL_FRICTION_RATIO);
        // Fast sliding saturates on the ellipse.
        let f = t.force([0.0, 2.0], 0.0, 600.0, 0.8, 0.005);
        assert!((f.force_n[1] + 0.8 * 600.0 * LATERAL_FRICTION_RATIO).abs() < 1e-6);
        assert_eq!(f.stiffness_ns_per_m, 0.0);
    }

    #[test]
    fn drivetrain_tracks_the_controller_speed() {
        let robot = RobotParams::default();
        let mut d = Drivetrain::default();
        for _ in 0..400 {
            d.control(&robot, VelocityCmd { linear_mps: 2.0, angular_rps: 0.0 }, 0.005);
            d.drive([0.0; 2], [0.0; 2], robot.motor_force_max_n, 0.005);
        }
        assert!((d.rim_mps()[0] - 2.0).abs() < 1e-3 && (d.rim_mps()[1] - 2.0).abs() < 1e-3);
    }
}
