//! Checks of the settings and the static colliders, done once in `HighFidelity::new`.

use rapier3d::prelude::*;

use super::terrain::Terrain;
use crate::{Error, HighFidelityConfig, RobotParams, Shape, World, validate};

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

/// Refuse settings the simulator cannot run: the checks shared with low fidelity, then the
/// physics rate, tip-over angle and randomisation ranges.
pub(super) fn validate(robot: &RobotParams, world: &World, config: &HighFidelityConfig) -> Result<(), Error> {
    validate::robot(robot)?;
    validate::rays(&config.rays)?;
    validate::noise(&config.noise)?;
    validate::world(world)?;
    validate::positive("physics_hz", config.physics_hz)?;
    validate::positive("tip_over_rad", config.tip_over_rad)?;
    let r = &config.randomisation;
    for (field, range, min) in [
        ("randomisation.mass_kg", r.mass_kg, f64::MIN_POSITIVE),
        ("randomisation.friction_scale", r.friction_scale, 0.0),
        ("randomisation.latency_s", r.latency_s, 0.0),
    ] {
        check(field, range.lo, range.lo >= min && range.lo.is_finite(), "lo >= 0 (mass > 0), finite")?;
        check(field, range.hi, range.hi >= range.lo && range.hi.is_finite(), "hi >= lo, finite")?;
    }
    Ok(())
}
