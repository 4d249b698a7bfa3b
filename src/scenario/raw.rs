//! The scenario file exactly as written: serde structs with no meaning attached yet.
//!
//! `deny_unknown_fields` everywhere, so a misspelt key is an error, not a silent default.
//! `validate.rs` turns this into the checked [`super::Scenario`].

use serde::Deserialize;
use std::collections::BTreeMap;

/// A point `[x, y]` in metres.
pub type Point = [f64; 2];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub robot: Robot,
    pub world: World,
    pub waypoints: Vec<Waypoint>,
    pub subtasks: Vec<Subtask>,
    pub hlm: Hlm,
    pub task: Task,
    pub certify: Certify,
    pub training: Training,
    #[serde(default)]
    pub fidelity: Fidelity,
}

/// Overrides of `sim::RobotParams`; absent fields keep the Warthog defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Robot {
    pub mass_kg: Option<f64>,
    pub max_speed_mps: Option<f64>,
    pub max_yaw_rate_rps: Option<f64>,
    pub max_accel_mps2: Option<f64>,
    pub max_decel_mps2: Option<f64>,
    pub max_yaw_accel_rps2: Option<f64>,
    pub max_yaw_decel_rps2: Option<f64>,
    pub motor_force_max_n: Option<f64>,
    pub motor_lag_s: Option<f64>,
    pub control_hz: Option<f64>,
    pub action_scale: Option<ActionScale>,
}

/// How a policy action in [-1, 1]² maps to a twist.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionScale {
    pub linear_mps: f64,
    pub angular_rps: f64,
    #[serde(default)]
    pub reverse_mps: Option<f64>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WorldKind {
    Continuous,
    Grid,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    pub kind: WorldKind,
    pub geofence: Vec<Point>,
    #[serde(default = "default_ground_friction")]
    pub ground_friction: f64,
    #[serde(default)]
    pub terrain_seed: u64,
    #[serde(default)]
    pub obstacles: Vec<Obstacle>,
    #[serde(default)]
    pub terrain: Vec<Terrain>,
}

fn default_ground_friction() -> f64 {
    0.8
}

/// The shape keys of an obstacle, terrain patch or region (serde's `flatten` cannot be combined
/// with `deny_unknown_fields`, so each struct repeats them and hands out a `ShapeKeys`).
#[derive(Debug, Clone, Copy)]
pub struct ShapeKeys<'a> {
    pub at: Option<&'a str>,
    pub radius_m: Option<f64>,
    pub disc: Option<&'a Disc>,
    pub rect: Option<&'a Rect>,
    pub polygon: Option<&'a [Point]>,
}

macro_rules! shape_keys {
    ($t:ty, at) => {
        impl $t {
            pub fn shape_keys(&self) -> ShapeKeys<'_> {
                ShapeKeys {
                    at: self.at.as_deref(),
                    radius_m: self.radius_m,
                    disc: self.disc.as_ref(),
                    rect: self.rect.as_ref(),
                    polygon: self.polygon.as_deref(),
                }
            }
        }
    };
    ($t:ty) => {
        impl $t {
            pub fn shape_keys(&self) -> ShapeKeys<'_> {
                ShapeKeys {
                    at: None,
                    radius_m: None,
                    disc: self.disc.as_ref(),
                    rect: self.rect.as_ref(),
                    polygon: self.polygon.as_deref(),
                }
            }
        }
    };
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disc {
    pub center: Point,
    pub radius_m: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rect {
    pub center: Point,
    pub half_extents_m: Point,
    #[serde(default)]
    pub yaw_deg: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Obstacle {
    pub id: String,
    pub disc: Option<Disc>,
    #[serde(rename = "box")]
    pub rect: Option<Rect>,
    pub polygon: Option<Vec<Point>>,
    pub height_m: f64,
}
shape_keys!(Obstacle);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terrain {
    pub id: String,
    pub disc: Option<Disc>,
    #[serde(rename = "box")]
    pub rect: Option<Rect>,
    pub polygon: Option<Vec<Point>>,
    #[serde(default)]
    pub grade: f64,
    #[serde(default)]
    pub downhill_deg: f64,
    #[serde(default)]
    pub roughness_m: f64,
    pub friction: f64,
}
shape_keys!(Terrain);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waypoint {
    pub id: String,
    pub position: Option<Point>,
    pub zone: String,
    pub kind: String,
    pub colour: String,
    pub landmark: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// An interface region: one planar part (`at` + `radius_m`, `disc`, `box`, `polygon`, or the
/// intersection `all_of`), optionally narrowed by heading and speed intervals.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// A disc of `radius_m` around a waypoint.
    pub at: Option<String>,
    pub radius_m: Option<f64>,
    pub disc: Option<Disc>,
    #[serde(rename = "box")]
    pub rect: Option<Rect>,
    pub polygon: Option<Vec<Point>>,
    pub all_of: Option<Vec<AtOrShape>>,
    /// `[from, to]`, counter-clockwise from `from` to `to` (degrees).
    pub heading_deg: Option<[f64; 2]>,
    /// `[lo, hi]` (m/s).
    pub speed_mps: Option<[f64; 2]>,
}
shape_keys!(Region, at);

/// One member of an intersection.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtOrShape {
    pub at: Option<String>,
    pub radius_m: Option<f64>,
    pub disc: Option<Disc>,
    #[serde(rename = "box")]
    pub rect: Option<Rect>,
    pub polygon: Option<Vec<Point>>,
}
shape_keys!(AtOrShape, at);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subtask {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    pub entry: Region,
    pub exit: Region,
    pub horizon_steps: i64,
    /// Nominal path for the baseline controller and the map; policies do not see it.
    #[serde(default)]
    pub via: Vec<Point>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hlm {
    pub start: Region,
    pub goals: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    pub theta: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certify {
    pub theta: f64,
    pub delta: f64,
    #[serde(default = "default_routes_per_goal")]
    pub routes_per_goal: i64,
}

fn default_routes_per_goal() -> i64 {
    2
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    pub chunk_steps: i64,
    pub budget_steps: i64,
    #[serde(default)]
    pub budget_overrides: BTreeMap<String, i64>,
    pub max_iterations: i64,
    pub max_total_steps: i64,
    pub estimation_rollouts: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fidelity {
    #[serde(default)]
    pub rays: Option<Rays>,
    #[serde(default)]
    pub low: Option<Low>,
    #[serde(default)]
    pub high: Option<High>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rays {
    pub count: i64,
    pub fov_deg: f64,
    pub max_range_m: f64,
    #[serde(default)]
    pub beams_per_ray: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Noise {
    #[serde(default)]
    pub odom_position_m: f64,
    #[serde(default)]
    pub odom_yaw_deg: f64,
    #[serde(default)]
    pub odom_speed_mps: f64,
    #[serde(default)]
    pub gyro_rps: f64,
    #[serde(default)]
    pub accel_mps2: f64,
    #[serde(default)]
    pub range_m: f64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Low {
    #[serde(default)]
    pub noise: Option<Noise>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct High {
    pub physics_hz: Option<f64>,
    pub tip_over_deg: Option<f64>,
    pub noise: Option<Noise>,
    pub randomisation: Option<Randomisation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Randomisation {
    pub mass_kg: [f64; 2],
    pub friction_scale: [f64; 2],
    pub latency_s: [f64; 2],
}
