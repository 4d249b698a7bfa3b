//! What a subtask policy sees, defined once for training, verification campaigns and the
//! robot's policy executor, so a policy sees on the robot exactly what it was trained and
//! certified on.
//!
//! The layout ([`layout`]), from the sensors only (odometry and range rays, never ground
//! truth), in this order: `goal_distance_m` (m) to the exit set's centre; `goal_bearing_sin`,
//! `goal_bearing_cos` (1) of the goal's bearing in the body frame (counter-clockwise from
//! forward); `heading_error_rad` (rad), the exit set's mid heading minus the heading, wrapped
//! (0 when the exit set does not constrain heading); `speed_mps` (m/s) forward; `yaw_rate_rps`
//! (rad/s); then `range_<i>` (1) for each ray, the range divided by the rays' maximum range
//! (so 1 = nothing in range). Ray `i` is the nearest return in the `i`-th sector of the
//! lidar's field of view, counted counter-clockwise from the right-hand edge
//! ([`sim::RayConfig`], the one definition of a range ray); the contract records it
//! ([`range_contract`]).

use policies::{ActionContract, Contract, ObsField, RangeContract};
use sim::{Vec2, wrap_angle};

use crate::scenario::{ActionScale, Subtask};

/// Observation entries before the range rays.
pub const BASE_OBS: usize = 6;

/// The observation layout for `n_rays` range rays, in order, with units (what a policy
/// contract records).
pub fn layout(n_rays: usize) -> Vec<ObsField> {
    let field = |name: &str, unit: &str| ObsField { name: name.into(), unit: unit.into() };
    let mut v = vec![
        field("goal_distance_m", "m"),
        field("goal_bearing_sin", "1"),
        field("goal_bearing_cos", "1"),
        field("heading_error_rad", "rad"),
        field("speed_mps", "m/s"),
        field("yaw_rate_rps", "rad/s"),
    ];
    v.extend((0..n_rays).map(|i| field(&format!("range_{i}"), "1")));
    v
}

/// The rule that forms each range entry from a scan ([`sim::RayConfig::ranges_from_scan`]).
pub const RANGE_DEFINITION: &str = "sector_minimum";

/// What a policy contract records about its range entries.
pub fn range_contract(rays: &sim::RayConfig) -> RangeContract {
    RangeContract {
        definition: RANGE_DEFINITION.into(),
        count: rays.count,
        fov_deg: rays.fov_rad.to_degrees(),
        max_range_m: rays.max_range_m,
    }
}

/// Checks that a policy contract senses and acts as a scenario does: range entries formed by
/// this definition from its `rays`, actions scaled and reverse-capped by its action `scale`. A
/// policy trained under other rays or another action contract would see or act differently
/// from what was certified. The message names the contract field.
pub fn check_contract(rays: &sim::RayConfig, s: &ActionScale, contract: &Contract) -> Result<(), String> {
    let want = range_contract(rays);
    if contract.ranges.as_ref() != Some(&want) {
        return Err(format!(
            "ranges: {:?}, expected {want:?} (the scenario's rays; retrain after changing them)",
            contract.ranges
        ));
    }
    match contract.action {
        ActionContract::Continuous { dim: 2, linear_mps, angular_rps, reverse_mps }
            if (linear_mps, angular_rps, reverse_mps) == (s.linear_mps, s.angular_rps, s.reverse_mps) =>
        {
            Ok(())
        }
        ref other => Err(format!(
            "action: {other:?}, expected 2 continuous values scaled to {} m/s and {} rad/s, reverse capped at {} m/s",
            s.linear_mps, s.angular_rps, s.reverse_mps
        )),
    }
}

/// The observation of a subtask's policy (module documentation) from odometry and range rays:
/// shared by training, verification and the runtime's policy executor, so a policy sees the
/// same numbers on the robot as in simulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observer {
    goal: Vec2,
    exit_heading_rad: Option<f64>,
}

impl Observer {
    /// The observer of `subtask`: its goal is the exit set's centre.
    pub fn new(subtask: &Subtask) -> Observer {
        let ((xl, yl), (xh, yh)) = subtask.exit().bounding_box();
        Observer {
            goal: Vec2::new(0.5 * (xl + xh), 0.5 * (yl + yh)),
            exit_heading_rad: subtask.exit().heading().map(|h| h.mid_rad()),
        }
    }

    /// The point the observation points at (m).
    pub fn goal(&self) -> Vec2 {
        self.goal
    }

    /// Writes the observation of `odom` (scenario frame) and `ranges_m` (rays of a sensor with
    /// range `max_range_m`) into `obs`; missing rays read as nothing in range, non-finite
    /// values as 0 (base entries) or 1 (rays).
    pub fn observe(&self, odom: &sim::Odometry, ranges_m: &[f64], max_range_m: f64, obs: &mut [f32]) {
        let s = &odom.state;
        let (dx, dy) = (self.goal.x - s.x_m, self.goal.y - s.y_m);
        let bearing = wrap_angle(dy.atan2(dx) - s.yaw_rad);
        let heading_error = self.exit_heading_rad.map_or(0.0, |h| wrap_angle(h - s.yaw_rad));
        let base =
            [dx.hypot(dy), bearing.sin(), bearing.cos(), heading_error, s.speed_mps, odom.yaw_rate_rps];
        let finite = |x: f64| if x.is_finite() { x as f32 } else { 0.0 };
        for (o, x) in obs.iter_mut().zip(base) {
            *o = finite(x);
        }
        for (i, o) in obs.iter_mut().skip(BASE_OBS).enumerate() {
            let r = ranges_m.get(i).map_or(1.0, |r| (r / max_range_m).clamp(0.0, 1.0));
            *o = if r.is_finite() { r as f32 } else { 1.0 };
        }
    }
}
