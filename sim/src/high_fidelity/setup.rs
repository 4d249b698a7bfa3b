//! Checks of the settings and the static colliders, done once in `HighFidelity::new`.

use rapier3d::prelude::*;

use super::terrain::Terrain;
use crate::{Error, HighFidelityConfig, RobotParams, Shape, World};

/// Obstacle colliders reach this far below the ground at their centre (m), so a sloping yard
/// leaves no gap under them.
const OBSTACLE_FOOTING_M: f64 = 1.0;

/// `Ok` when `ok`, else an out-of-range error that names `field`, its value and what is allowed.
pub(super) fn check(field: &'static str, value: f64, ok: bool, allowed: &'static str) -> Result<(), Error> {
    if ok { Ok(()) } else { Err(Error::OutOfRange { field, value, allowed }) }
}

/// The collider of obstacle `index`, standing on the ground at its centre. A polygon becomes
/// the extruded convex hull of its vertices (the world promises convex polygons).
pub(super) fn obstacle_collider(
    terrain: &Terrain,
    index: usize,
    shape: &Shape,
    height_m: f64,
) -> Result<Collider, Error> {
    let what = || format!("obstacle {index}");
    let (cx, cy) = match shape {
        Shape::Disc { center, .. } | Shape::Box { center, .. } => (center.x, center.y),
        Shape::Polygon { vertices } => {
            let n = vertices.len().max(1) as f64;
            (vertices.iter().map(|v| v.x).sum::<f64>() / n, vertices.iter().map(|v| v.y).sum::<f64>() / n)
        }
    };
    let base = terrain.height_m(cx, cy) - OBSTACLE_FOOTING_M;
    let top = terrain.height_m(cx, cy) + height_m;
    let half = 0.5 * (top - base);
    let mid = (0.5 * (top + base)) as Real;
    let builder = match shape {
        Shape::Disc { center, radius_m } => ColliderBuilder::cylinder(half as Real, *radius_m as Real)
            .position(Pose::from_parts(
                Vector::new(center.x as Real, center.y as Real, mid),
                // Rapier's cylinders stand along y; turn them upright.
                Rotation::from_rotation_x(std::f32::consts::FRAC_PI_2),
            )),
        Shape::Box { center, half_extents_m, yaw_rad } => {
            ColliderBuilder::cuboid(half_extents_m.x as Real, half_extents_m.y as Real, half as Real)
                .position(Pose::from_parts(
                    Vector::new(center.x as Real, center.y as Real, mid),
                    Rotation::from_rotation_z(*yaw_rad as Real),
                ))
        }
        Shape::Polygon { vertices } => {
            let points: Vec<Vector> = vertices
                .iter()
                .flat_map(|v| {
                    [
                        Vector::new((v.x - cx) as Real, (v.y - cy) as Real, -half as Real),
                        Vector::new((v.x - cx) as Real, (v.y - cy) as Real, half as Real),
                    ]
                })
                .collect();
            ColliderBuilder::convex_hull(&points)
                .ok_or_else(|| Error::BadShape { what: what(), reason: "polygon has no convex hull" })?
                .translation(Vector::new(cx as Real, cy as Real, mid))
        }
    };
    Ok(builder.user_data(index as u128).friction(0.5).build())
}

/// Refuse settings the simulator cannot run: every rate, size and range positive and finite
/// where it must be (NaN fails every check), shapes well formed.
pub(super) fn validate(robot: &RobotParams, world: &World, config: &HighFidelityConfig) -> Result<(), Error> {
    let positive = |field, v: f64| check(field, v, v > 0.0 && v.is_finite(), "> 0 and finite");
    positive("robot.control_hz", robot.control_hz)?;
    positive("robot.mass_kg", robot.mass_kg)?;
    positive("robot.max_speed_mps", robot.max_speed_mps)?;
    positive("robot.max_yaw_rate_rps", robot.max_yaw_rate_rps)?;
    positive("robot.wheel_separation_m", robot.wheel_separation_m)?;
    positive("robot.wheel_separation_multiplier", robot.wheel_separation_multiplier)?;
    check(
        "robot.lidar_height_m",
        robot.lidar_height_m,
        robot.lidar_height_m >= 0.0 && robot.lidar_height_m.is_finite(),
        ">= 0 and finite",
    )?;
    positive("robot.wheel_radius_m", robot.wheel_radius_m)?;
    positive("robot.track_m", robot.track_m)?;
    positive("robot.wheelbase_m", robot.wheelbase_m)?;
    positive("robot.length_m", robot.length_m)?;
    positive("robot.width_m", robot.width_m)?;
    positive("robot.com_height_m", robot.com_height_m)?;
    positive("robot.max_accel_mps2", robot.max_accel_mps2)?;
    positive("robot.max_yaw_accel_rps2", robot.max_yaw_accel_rps2)?;
    check(
        "robot.motor_lag_s",
        robot.motor_lag_s,
        robot.motor_lag_s >= 0.0 && robot.motor_lag_s.is_finite(),
        ">= 0",
    )?;
    positive("physics_hz", config.physics_hz)?;
    positive("tip_over_rad", config.tip_over_rad)?;
    positive("rays.max_range_m", config.rays.max_range_m)?;
    let r = &config.randomisation;
    for (field, range, min) in [
        ("randomisation.mass_kg", r.mass_kg, f64::MIN_POSITIVE),
        ("randomisation.friction_scale", r.friction_scale, 0.0),
        ("randomisation.latency_s", r.latency_s, 0.0),
    ] {
        check(field, range.lo, range.lo >= min && range.lo.is_finite(), "lo >= 0 (mass > 0), finite")?;
        check(field, range.hi, range.hi >= range.lo && range.hi.is_finite(), "hi >= lo, finite")?;
    }
    let noise = &config.noise;
    for (field, v) in [
        ("noise.odom_position_m", noise.odom_position_m),
        ("noise.odom_yaw_rad", noise.odom_yaw_rad),
        ("noise.odom_speed_mps", noise.odom_speed_mps),
        ("noise.gyro_rps", noise.gyro_rps),
        ("noise.accel_mps2", noise.accel_mps2),
        ("noise.range_m", noise.range_m),
    ] {
        check(field, v, v >= 0.0 && v.is_finite(), ">= 0 and finite")?;
    }
    check("world.ground_friction", world.ground_friction, world.ground_friction >= 0.0, ">= 0")?;
    if world.geofence.len() < 3 {
        return Err(Error::BadShape { what: "geofence".into(), reason: "needs at least 3 vertices" });
    }
    for (i, o) in world.obstacles.iter().enumerate() {
        check("obstacle.height_m", o.height_m, o.height_m > 0.0 && o.height_m.is_finite(), "> 0 and finite")?;
        shape_ok(&o.shape, || format!("obstacle {i}"))?;
    }
    for (i, p) in world.terrain.iter().enumerate() {
        shape_ok(&p.shape, || format!("terrain patch {i}"))?;
        check("terrain.grade", p.grade, p.grade >= 0.0 && p.grade.is_finite(), ">= 0 and finite")?;
        check(
            "terrain.roughness_m",
            p.roughness_m,
            p.roughness_m >= 0.0 && p.roughness_m.is_finite(),
            ">= 0",
        )?;
        check("terrain.friction", p.friction, p.friction >= 0.0 && p.friction.is_finite(), ">= 0")?;
        check("terrain.downhill_yaw_rad", p.downhill_yaw_rad, p.downhill_yaw_rad.is_finite(), "finite")?;
    }
    Ok(())
}

/// Refuse a shape with non-positive or non-finite sizes, or a polygon of fewer than 3 vertices.
fn shape_ok(shape: &Shape, what: impl Fn() -> String) -> Result<(), Error> {
    let bad = |reason| Err(Error::BadShape { what: what(), reason });
    match shape {
        Shape::Disc { center, radius_m } => {
            if !(*radius_m > 0.0 && radius_m.is_finite() && center.x.is_finite() && center.y.is_finite()) {
                return bad("disc radius must be > 0 and finite");
            }
        }
        Shape::Box { center, half_extents_m: h, yaw_rad } => {
            if !(h.x > 0.0
                && h.y > 0.0
                && h.x.is_finite()
                && h.y.is_finite()
                && [center.x, center.y, *yaw_rad].iter().all(|v| v.is_finite()))
            {
                return bad("box half extents must be > 0 and finite");
            }
        }
        Shape::Polygon { vertices } => {
            if vertices.len() < 3 || !vertices.iter().all(|v| v.x.is_finite() && v.y.is_finite()) {
                return bad("polygon needs at least 3 finite vertices");
            }
        }
    }
    Ok(())
}
