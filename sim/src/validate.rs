//! Checks both simulators run on their inputs before building anything. Every error names the
//! field; NaN fails every check.

use crate::geometry::{is_convex_ccw, is_simple_polygon, signed_area};
use crate::{Error, NoiseConfig, RayConfig, RobotParams, Shape, World};

/// `value` if finite and > 0.
pub(crate) fn positive(field: &'static str, value: f64) -> Result<f64, Error> {
    if value > 0.0 && value.is_finite() {
        Ok(value)
    } else {
        Err(Error::OutOfRange { field, value, allowed: "finite and > 0" })
    }
}

/// `value` if finite and ≥ 0.
pub(crate) fn non_negative(field: &'static str, value: f64) -> Result<f64, Error> {
    if value >= 0.0 && value.is_finite() {
        Ok(value)
    } else {
        Err(Error::OutOfRange { field, value, allowed: "finite and >= 0" })
    }
}

/// Every size, mass, limit and rate positive; lag and sensor height may be 0.
pub(crate) fn robot(r: &RobotParams) -> Result<(), Error> {
    for (field, v) in [
        ("robot.wheel_radius_m", r.wheel_radius_m),
        ("robot.wheel_separation_m", r.wheel_separation_m),
        ("robot.wheel_separation_multiplier", r.wheel_separation_multiplier),
        ("robot.track_m", r.track_m),
        ("robot.wheelbase_m", r.wheelbase_m),
        ("robot.length_m", r.length_m),
        ("robot.width_m", r.width_m),
        ("robot.com_height_m", r.com_height_m),
        ("robot.mass_kg", r.mass_kg),
        ("robot.max_speed_mps", r.max_speed_mps),
        ("robot.max_yaw_rate_rps", r.max_yaw_rate_rps),
        ("robot.max_accel_mps2", r.max_accel_mps2),
        ("robot.max_decel_mps2", r.max_decel_mps2),
        ("robot.max_yaw_accel_rps2", r.max_yaw_accel_rps2),
        ("robot.max_yaw_decel_rps2", r.max_yaw_decel_rps2),
        ("robot.motor_force_max_n", r.motor_force_max_n),
        ("robot.control_hz", r.control_hz),
        ("robot.cmd_timeout_s", r.cmd_timeout_s),
    ] {
        positive(field, v)?;
    }
    non_negative("robot.motor_lag_s", r.motor_lag_s)?;
    non_negative("robot.lidar_height_m", r.lidar_height_m)?;
    Ok(())
}

/// At least one ray and one beam per ray, a field of view in (0, 2π], a positive range.
pub(crate) fn rays(r: &RayConfig) -> Result<(), Error> {
    if r.count == 0 {
        return Err(Error::OutOfRange { field: "rays.count", value: 0.0, allowed: ">= 1" });
    }
    let fov = positive("rays.fov_rad", r.fov_rad)?;
    if fov > std::f64::consts::TAU + 1e-9 {
        return Err(Error::OutOfRange { field: "rays.fov_rad", value: fov, allowed: "(0, 2π]" });
    }
    positive("rays.max_range_m", r.max_range_m)?;
    if r.beams_per_ray == 0 {
        return Err(Error::OutOfRange { field: "rays.beams_per_ray", value: 0.0, allowed: ">= 1" });
    }
    Ok(())
}

/// Every standard deviation finite and ≥ 0.
pub(crate) fn noise(n: &NoiseConfig) -> Result<(), Error> {
    for (field, v) in [
        ("noise.odom_position_m", n.odom_position_m),
        ("noise.odom_yaw_rad", n.odom_yaw_rad),
        ("noise.odom_speed_mps", n.odom_speed_mps),
        ("noise.gyro_rps", n.gyro_rps),
        ("noise.accel_mps2", n.accel_mps2),
        ("noise.range_m", n.range_m),
    ] {
        non_negative(field, v)?;
    }
    Ok(())
}

/// A simple counter-clockwise geofence, well-formed obstacles of positive height, and terrain
/// patches with finite, non-negative grade, roughness and friction.
pub(crate) fn world(w: &World) -> Result<(), Error> {
    if !is_simple_polygon(&w.geofence) || signed_area(&w.geofence) <= 0.0 {
        return Err(Error::BadShape {
            what: "geofence".to_string(),
            reason: "must be a simple counter-clockwise polygon of at least 3 finite vertices",
        });
    }
    non_negative("world.ground_friction", w.ground_friction)?;
    for (i, o) in w.obstacles.iter().enumerate() {
        shape(|| format!("obstacle {i}"), &o.shape)?;
        positive("obstacle.height_m", o.height_m)?;
    }
    for (i, p) in w.terrain.iter().enumerate() {
        shape(|| format!("terrain patch {i}"), &p.shape)?;
        non_negative("terrain.grade", p.grade)?;
        non_negative("terrain.roughness_m", p.roughness_m)?;
        non_negative("terrain.friction", p.friction)?;
        if !p.downhill_yaw_rad.is_finite() {
            return Err(Error::OutOfRange {
                field: "terrain.downhill_yaw_rad",
                value: p.downhill_yaw_rad,
                allowed: "finite",
            });
        }
    }
    Ok(())
}

/// A disc or box with a finite centre and positive finite sizes, or a strictly convex
/// counter-clockwise polygon.
pub(crate) fn shape(what: impl Fn() -> String, shape: &Shape) -> Result<(), Error> {
    let bad = |reason| Err(Error::BadShape { what: what(), reason });
    match shape {
        Shape::Disc { center, radius_m } => {
            if !(center.is_finite() && *radius_m > 0.0 && radius_m.is_finite()) {
                return bad("a disc needs a finite centre and a finite radius > 0");
            }
        }
        Shape::Box { center, half_extents_m: h, yaw_rad } => {
            if !(center.is_finite() && yaw_rad.is_finite() && h.x > 0.0 && h.y > 0.0 && h.is_finite()) {
                return bad("a box needs a finite centre and yaw and finite half extents > 0");
            }
        }
        Shape::Polygon { vertices } => {
            if !is_convex_ccw(vertices) {
                return bad(
                    "a polygon must be strictly convex, counter-clockwise, with at least 3 finite vertices",
                );
            }
        }
    }
    Ok(())
}
