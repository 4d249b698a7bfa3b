//! The site the robot drives in: ground, terrain patches, obstacles and the geofence.
//!
//! All shapes are planar (scenario frame, metres, x east, y north); obstacles are extruded
//! vertically by their height. Both simulators read the same `World`.

/// A point or vector in the plane (m).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Vec2 {
    /// East (m).
    pub x: f64,
    /// North (m).
    pub y: f64,
}

impl Vec2 {
    /// A new point.
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }
}

/// A convex planar shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A disc.
    Disc {
        /// Centre (m).
        center: Vec2,
        /// Radius (m).
        radius_m: f64,
    },
    /// An oriented rectangle.
    Box {
        /// Centre (m).
        center: Vec2,
        /// Half length along the box's own x axis and half width along its y axis (m).
        half_extents_m: Vec2,
        /// Rotation of the box's x axis from +x (rad).
        yaw_rad: f64,
    },
    /// A convex polygon, vertices counter-clockwise.
    Polygon {
        /// Vertices (m), counter-clockwise, at least 3.
        vertices: Vec<Vec2>,
    },
}

/// Something the robot must not touch.
#[derive(Debug, Clone, PartialEq)]
pub struct Obstacle {
    /// Footprint.
    pub shape: Shape,
    /// Height above the ground (m); obstacles lower than the range sensor are invisible to it.
    pub height_m: f64,
}

/// How the ground inside a terrain patch differs from flat, firm ground.
#[derive(Debug, Clone, PartialEq)]
pub struct TerrainPatch {
    /// Where the patch is.
    pub shape: Shape,
    /// Rise over run of the ground plane inside the patch (0 = flat), e.g. 0.3 for a 16.7° bank.
    pub grade: f64,
    /// Direction in which the ground falls (rad, scenario frame).
    pub downhill_yaw_rad: f64,
    /// Standard deviation of the height of the bumps (m).
    pub roughness_m: f64,
    /// Tyre-ground friction coefficient inside the patch (firm ground is `World::ground_friction`).
    pub friction: f64,
}

/// The whole site.
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    /// The robot must keep its whole footprint inside this simple polygon (counter-clockwise; may
    /// be non-convex).
    pub geofence: Vec<Vec2>,
    /// Obstacles.
    pub obstacles: Vec<Obstacle>,
    /// Terrain patches; where two overlap, the later one wins.
    pub terrain: Vec<TerrainPatch>,
    /// Tyre-ground friction coefficient of firm ground.
    pub ground_friction: f64,
    /// Seed of the terrain's bumps: part of the world, not of an episode.
    pub terrain_seed: u64,
}

impl World {
    /// An open site: a rectangular geofence, firm flat ground and nothing in it.
    pub fn open(min: Vec2, max: Vec2) -> Self {
        Self {
            geofence: vec![min, Vec2::new(max.x, min.y), max, Vec2::new(min.x, max.y)],
            obstacles: Vec::new(),
            terrain: Vec::new(),
            ground_friction: 0.8,
            terrain_seed: 0,
        }
    }

    /// Axis-aligned bounding box of the geofence (min, max).
    pub fn bounds(&self) -> (Vec2, Vec2) {
        let mut lo = Vec2::new(f64::INFINITY, f64::INFINITY);
        let mut hi = Vec2::new(f64::NEG_INFINITY, f64::NEG_INFINITY);
        for p in &self.geofence {
            lo = Vec2::new(lo.x.min(p.x), lo.y.min(p.y));
            hi = Vec2::new(hi.x.max(p.x), hi.y.max(p.y));
        }
        (lo, hi)
    }
}
