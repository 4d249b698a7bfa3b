//! Planar geometry shared by the simulators and the scenario checks.
//!
//! Everything is in the scenario frame (metres, x east, y north, angles counter-clockwise from
//! +x). [`Vec2`] gets its arithmetic here; [`Shape`]s answer point containment
//! ([`shape_contains`]), range rays ([`ray_distance`]) and overlap with the robot's oriented
//! rectangle ([`Footprint`], [`footprint_overlaps`]); the geofence, a simple and possibly
//! non-convex polygon, answers [`polygon_contains`] and [`footprint_inside`]. All tests are exact
//! (separating axes, closest points, segment crossings), not sampled. [`PreparedShape`] is a
//! shape with its rotation worked out once, for loops that test it millions of times.

use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub, SubAssign};

use crate::{PlanarState, RobotParams, Shape, Vec2};

impl Add for Vec2 {
    type Output = Vec2;
    #[inline]
    fn add(self, o: Vec2) -> Vec2 {
        Vec2::new(self.x + o.x, self.y + o.y)
    }
}

impl Sub for Vec2 {
    type Output = Vec2;
    #[inline]
    fn sub(self, o: Vec2) -> Vec2 {
        Vec2::new(self.x - o.x, self.y - o.y)
    }
}

impl Neg for Vec2 {
    type Output = Vec2;
    #[inline]
    fn neg(self) -> Vec2 {
        Vec2::new(-self.x, -self.y)
    }
}

impl Mul<f64> for Vec2 {
    type Output = Vec2;
    #[inline]
    fn mul(self, s: f64) -> Vec2 {
        Vec2::new(self.x * s, self.y * s)
    }
}

impl Mul<Vec2> for f64 {
    type Output = Vec2;
    #[inline]
    fn mul(self, v: Vec2) -> Vec2 {
        Vec2::new(self * v.x, self * v.y)
    }
}

impl Div<f64> for Vec2 {
    type Output = Vec2;
    #[inline]
    fn div(self, s: f64) -> Vec2 {
        Vec2::new(self.x / s, self.y / s)
    }
}

impl AddAssign for Vec2 {
    #[inline]
    fn add_assign(&mut self, o: Vec2) {
        *self = *self + o;
    }
}

impl SubAssign for Vec2 {
    #[inline]
    fn sub_assign(&mut self, o: Vec2) {
        *self = *self - o;
    }
}

impl Vec2 {
    /// The unit vector at `angle_rad` from +x.
    #[inline]
    pub fn unit(angle_rad: f64) -> Vec2 {
        let (s, c) = angle_rad.sin_cos();
        Vec2::new(c, s)
    }

    /// `self * s`.
    #[inline]
    pub fn scale(self, s: f64) -> Vec2 {
        self * s
    }

    /// Dot product (m²).
    #[inline]
    pub fn dot(self, o: Vec2) -> f64 {
        self.x * o.x + self.y * o.y
    }

    /// z component of the 3-D cross product (m²): positive when `o` is counter-clockwise of `self`.
    #[inline]
    pub fn cross(self, o: Vec2) -> f64 {
        self.x * o.y - self.y * o.x
    }

    /// Squared length (m²).
    #[inline]
    pub fn norm_sq(self) -> f64 {
        self.dot(self)
    }

    /// Length (m).
    #[inline]
    pub fn norm(self) -> f64 {
        self.x.hypot(self.y)
    }

    /// `self` turned 90° counter-clockwise.
    #[inline]
    pub fn perp(self) -> Vec2 {
        Vec2::new(-self.y, self.x)
    }

    /// `self` rotated by the angle whose unit vector is `rot` (`rot = Vec2::unit(a)`).
    #[inline]
    pub fn rotate(self, rot: Vec2) -> Vec2 {
        Vec2::new(rot.x * self.x - rot.y * self.y, rot.y * self.x + rot.x * self.y)
    }

    /// `self` rotated back by the angle whose unit vector is `rot`: world to local frame.
    #[inline]
    pub fn unrotate(self, rot: Vec2) -> Vec2 {
        Vec2::new(rot.x * self.x + rot.y * self.y, rot.x * self.y - rot.y * self.x)
    }

    /// Whether both coordinates are finite.
    #[inline]
    pub fn is_finite(self) -> bool {
        self.x.is_finite() && self.y.is_finite()
    }
}

/// The robot's collision footprint: an oriented rectangle centred on the robot's reference point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Footprint {
    /// Centre (m).
    pub center: Vec2,
    /// Heading of the long axis (rad).
    pub yaw_rad: f64,
    /// Half the chassis length, along the heading (m).
    pub half_length_m: f64,
    /// Half the chassis width, across the heading (m).
    pub half_width_m: f64,
}

impl Footprint {
    /// The footprint of a robot with `robot.length_m × robot.width_m` at `state`.
    pub fn from_state(state: &PlanarState, robot: &RobotParams) -> Self {
        Self {
            center: Vec2::new(state.x_m, state.y_m),
            yaw_rad: state.yaw_rad,
            half_length_m: 0.5 * robot.length_m,
            half_width_m: 0.5 * robot.width_m,
        }
    }

    /// Corners (m), counter-clockwise from rear right: rear right, front right, front left, rear left.
    pub fn corners(&self) -> [Vec2; 4] {
        self.rect().corners()
    }

    /// Distance from the centre to a corner (m): the radius of the circle that holds the
    /// footprint at any heading.
    pub fn circumradius_m(&self) -> f64 {
        self.half_length_m.hypot(self.half_width_m)
    }

    fn rect(&self) -> Rect {
        Rect {
            center: self.center,
            axis: Vec2::unit(self.yaw_rad),
            half: Vec2::new(self.half_length_m, self.half_width_m),
        }
    }
}

/// An oriented rectangle with its rotation as a unit vector (no trigonometry in the tests).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    center: Vec2,
    /// Unit vector of the local x axis.
    axis: Vec2,
    /// Half extents along the local x and y axes (m).
    half: Vec2,
}

impl Rect {
    fn corners(&self) -> [Vec2; 4] {
        let ex = self.axis * self.half.x;
        let ey = self.axis.perp() * self.half.y;
        let c = self.center;
        [c - ex - ey, c + ex - ey, c + ex + ey, c - ex + ey]
    }

    /// Half the length of the rectangle's projection on `axis` (scaled by `|axis|`).
    #[inline]
    fn projected_radius(&self, axis: Vec2) -> f64 {
        self.half.x * self.axis.dot(axis).abs() + self.half.y * self.axis.perp().dot(axis).abs()
    }

    #[inline]
    fn contains(&self, p: Vec2) -> bool {
        let l = (p - self.center).unrotate(self.axis);
        l.x.abs() <= self.half.x && l.y.abs() <= self.half.y
    }

    /// Slab test in the rectangle's frame.
    #[inline]
    fn ray(&self, origin: Vec2, dir: Vec2, max_m: f64) -> Option<f64> {
        let o = (origin - self.center).unrotate(self.axis);
        let d = dir.unrotate(self.axis);
        let mut t0 = 0.0_f64;
        let mut t1 = max_m;
        for (ok, dk, hk) in [(o.x, d.x, self.half.x), (o.y, d.y, self.half.y)] {
            if dk == 0.0 {
                if ok.abs() > hk {
                    return None;
                }
            } else {
                let inv = 1.0 / dk;
                let a = (-hk - ok) * inv;
                let b = (hk - ok) * inv;
                t0 = t0.max(a.min(b));
                t1 = t1.min(a.max(b));
            }
        }
        (t0 <= t1).then_some(t0)
    }

    /// Separating-axis test between two rectangles; touching counts as overlap.
    #[inline]
    fn overlaps_rect(&self, other: &Rect) -> bool {
        let d = other.center - self.center;
        for axis in [self.axis, self.axis.perp(), other.axis, other.axis.perp()] {
            if d.dot(axis).abs() > self.projected_radius(axis) + other.projected_radius(axis) {
                return false;
            }
        }
        true
    }

    /// Closest point of the rectangle to the disc centre; touching counts as overlap.
    #[inline]
    fn overlaps_disc(&self, center: Vec2, radius_m: f64) -> bool {
        let l = (center - self.center).unrotate(self.axis);
        let q = Vec2::new(l.x.clamp(-self.half.x, self.half.x), l.y.clamp(-self.half.y, self.half.y));
        (l - q).norm_sq() <= radius_m * radius_m
    }

    /// Separating-axis test against a convex counter-clockwise polygon; touching counts as overlap.
    fn overlaps_polygon(&self, vertices: &[Vec2]) -> bool {
        for axis in [self.axis, self.axis.perp()] {
            let c = self.center.dot(axis);
            let r = self.projected_radius(axis);
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for v in vertices {
                let p = v.dot(axis);
                lo = lo.min(p);
                hi = hi.max(p);
            }
            if lo > c + r || hi < c - r {
                return false;
            }
        }
        // Outward normal of a counter-clockwise edge: the polygon lies at or below `n·a` along it.
        for (a, b) in edges(vertices) {
            let n = (b - a).perp() * -1.0;
            if self.center.dot(n) - self.projected_radius(n) > a.dot(n) {
                return false;
            }
        }
        true
    }
}

/// Consecutive vertex pairs of a closed polygon, the last one joining back to the first.
fn edges(vertices: &[Vec2]) -> impl Iterator<Item = (Vec2, Vec2)> + '_ {
    let n = vertices.len();
    (0..n).map(move |i| (vertices[i], vertices[if i + 1 == n { 0 } else { i + 1 }]))
}

#[inline]
fn disc_ray(center: Vec2, radius_m: f64, origin: Vec2, dir: Vec2, max_m: f64) -> Option<f64> {
    let m = origin - center;
    let c = m.norm_sq() - radius_m * radius_m;
    if c <= 0.0 {
        return Some(0.0);
    }
    let b = m.dot(dir);
    if b > 0.0 {
        return None;
    }
    let disc = b * b - c;
    if disc < 0.0 {
        return None;
    }
    let t = -b - disc.sqrt();
    (t <= max_m).then_some(t.max(0.0))
}

/// Cyrus-Beck clipping of the ray against the half-planes of a convex counter-clockwise polygon.
#[inline]
fn convex_polygon_ray(vertices: &[Vec2], origin: Vec2, dir: Vec2, max_m: f64) -> Option<f64> {
    let mut t0 = 0.0_f64;
    let mut t1 = max_m;
    for (a, b) in edges(vertices) {
        let e = b - a;
        // Outward normal (e.y, -e.x); inside means n·(p - a) <= 0.
        let n = Vec2::new(e.y, -e.x);
        let dist = n.dot(origin - a);
        let rate = n.dot(dir);
        if rate == 0.0 {
            if dist > 0.0 {
                return None;
            }
        } else {
            let t = -dist / rate;
            if rate < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
            if t0 > t1 {
                return None;
            }
        }
    }
    Some(t0)
}

#[inline]
fn convex_polygon_contains(vertices: &[Vec2], p: Vec2) -> bool {
    vertices.len() >= 3 && edges(vertices).all(|(a, b)| (b - a).cross(p - a) >= 0.0)
}

fn box_rect(center: Vec2, half_extents_m: Vec2, yaw_rad: f64) -> Rect {
    Rect { center, axis: Vec2::unit(yaw_rad), half: half_extents_m }
}

/// Whether `p` lies in `shape` (boundary included).
pub fn shape_contains(shape: &Shape, p: Vec2) -> bool {
    match shape {
        Shape::Disc { center, radius_m } => (p - *center).norm_sq() <= radius_m * radius_m,
        Shape::Box { center, half_extents_m, yaw_rad } => {
            box_rect(*center, *half_extents_m, *yaw_rad).contains(p)
        }
        Shape::Polygon { vertices } => convex_polygon_contains(vertices, p),
    }
}

/// Distance (m) along the unit vector `dir` from `origin` to the first point of `shape`, if it is
/// at most `max_m`; 0 when `origin` is inside.
pub fn ray_distance(shape: &Shape, origin: Vec2, dir: Vec2, max_m: f64) -> Option<f64> {
    match shape {
        Shape::Disc { center, radius_m } => disc_ray(*center, *radius_m, origin, dir, max_m),
        Shape::Box { center, half_extents_m, yaw_rad } => {
            box_rect(*center, *half_extents_m, *yaw_rad).ray(origin, dir, max_m)
        }
        Shape::Polygon { vertices } => convex_polygon_ray(vertices, origin, dir, max_m),
    }
}

/// Whether the footprint touches or overlaps `shape` (exact: separating axes for boxes and
/// polygons, closest point for discs).
pub fn footprint_overlaps(shape: &Shape, fp: &Footprint) -> bool {
    let r = fp.rect();
    match shape {
        Shape::Disc { center, radius_m } => r.overlaps_disc(*center, *radius_m),
        Shape::Box { center, half_extents_m, yaw_rad } => {
            r.overlaps_rect(&box_rect(*center, *half_extents_m, *yaw_rad))
        }
        Shape::Polygon { vertices } => r.overlaps_polygon(vertices),
    }
}

/// A circle that holds `shape`: (centre, radius in m). Tight for discs and boxes; for polygons
/// it is centred on the middle of the bounding box, which is close enough for culling.
pub fn bounding_radius(shape: &Shape) -> (Vec2, f64) {
    match shape {
        Shape::Disc { center, radius_m } => (*center, *radius_m),
        Shape::Box { center, half_extents_m, .. } => (*center, half_extents_m.norm()),
        Shape::Polygon { vertices } => {
            let (mut lo, mut hi) =
                (Vec2::new(f64::INFINITY, f64::INFINITY), Vec2::new(f64::NEG_INFINITY, f64::NEG_INFINITY));
            for v in vertices {
                lo = Vec2::new(lo.x.min(v.x), lo.y.min(v.y));
                hi = Vec2::new(hi.x.max(v.x), hi.y.max(v.y));
            }
            let c = (lo + hi) * 0.5;
            let r = vertices.iter().map(|v| (*v - c).norm()).fold(0.0, f64::max);
            (c, r)
        }
    }
}

/// Signed area of a polygon (m², shoelace formula): positive when the vertices run
/// counter-clockwise, negative when clockwise, 0 for fewer than 3 vertices.
pub fn signed_area(vertices: &[Vec2]) -> f64 {
    if vertices.len() < 3 {
        return 0.0;
    }
    0.5 * edges(vertices).map(|(a, b)| a.cross(b)).sum::<f64>()
}

/// Whether the vertices form a strictly convex, counter-clockwise polygon: at least 3 finite
/// vertices, every corner a strict left turn, and the boundary winding once (no pentagram).
pub fn is_convex_ccw(vertices: &[Vec2]) -> bool {
    let n = vertices.len();
    if n < 3 || !vertices.iter().all(|v| v.is_finite()) {
        return false;
    }
    let mut turning = 0.0;
    for i in 0..n {
        let e0 = vertices[(i + 1) % n] - vertices[i];
        let e1 = vertices[(i + 2) % n] - vertices[(i + 1) % n];
        let c = e0.cross(e1);
        if c.is_nan() || c <= 0.0 {
            return false;
        }
        turning += c.atan2(e0.dot(e1));
    }
    // A convex polygon turns by exactly 2π; a star that winds twice turns by 4π.
    turning < 3.0 * std::f64::consts::PI
}

/// Whether the vertices form a simple polygon: at least 3 finite vertices, no zero-length edge,
/// no two edges touching except consecutive ones at their shared vertex, and non-zero area.
/// O(n²), meant for validation, not for loops.
pub fn is_simple_polygon(vertices: &[Vec2]) -> bool {
    let n = vertices.len();
    if n < 3 || !vertices.iter().all(|v| v.is_finite()) || signed_area(vertices) == 0.0 {
        return false;
    }
    let edge = |i: usize| (vertices[i], vertices[(i + 1) % n]);
    for i in 0..n {
        let (a, b) = edge(i);
        if a == b {
            return false;
        }
        for j in i + 1..n {
            let (c, d) = edge(j);
            let adjacent = j == i + 1 || (i == 0 && j == n - 1);
            if adjacent {
                // Consecutive edges share one vertex; they must not fold back over each other.
                let (shared, p, q) = if j == i + 1 { (b, a, d) } else { (a, b, c) };
                let (u, v) = (p - shared, q - shared);
                if u.cross(v) == 0.0 && u.dot(v) > 0.0 {
                    return false;
                }
            } else if segments_intersect(a, b, c, d) {
                return false;
            }
        }
    }
    true
}

/// Whether `p` lies on the closed segment `a`-`b` (exact arithmetic on the inputs).
fn on_segment(a: Vec2, b: Vec2, p: Vec2) -> bool {
    (b - a).cross(p - a) == 0.0
        && p.x >= a.x.min(b.x)
        && p.x <= a.x.max(b.x)
        && p.y >= a.y.min(b.y)
        && p.y <= a.y.max(b.y)
}

/// Whether the closed segments `p1`-`p2` and `q1`-`q2` share a point (touching included).
pub fn segments_intersect(p1: Vec2, p2: Vec2, q1: Vec2, q2: Vec2) -> bool {
    let d1 = (q2 - q1).cross(p1 - q1);
    let d2 = (q2 - q1).cross(p2 - q1);
    let d3 = (p2 - p1).cross(q1 - p1);
    let d4 = (p2 - p1).cross(q2 - p1);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    (d1 == 0.0 && on_segment(q1, q2, p1))
        || (d2 == 0.0 && on_segment(q1, q2, p2))
        || (d3 == 0.0 && on_segment(p1, p2, q1))
        || (d4 == 0.0 && on_segment(p1, p2, q2))
}

/// Distance (m) from `p` to the closed segment `a`-`b`.
pub fn point_segment_distance(p: Vec2, a: Vec2, b: Vec2) -> f64 {
    let e = b - a;
    let len_sq = e.norm_sq();
    let t = if len_sq > 0.0 { ((p - a).dot(e) / len_sq).clamp(0.0, 1.0) } else { 0.0 };
    (p - (a + e * t)).norm()
}

/// Distance (m) from `p` to the boundary of a polygon (infinite for an empty one).
pub fn polygon_boundary_distance(poly: &[Vec2], p: Vec2) -> f64 {
    edges(poly).map(|(a, b)| point_segment_distance(p, a, b)).fold(f64::INFINITY, f64::min)
}

/// Whether `p` lies in the simple (possibly non-convex) polygon `poly`, boundary included.
/// Crossing-number test; false for fewer than 3 vertices.
pub fn polygon_contains(poly: &[Vec2], p: Vec2) -> bool {
    if poly.len() < 3 {
        return false;
    }
    let mut inside = false;
    for (a, b) in edges(poly) {
        if on_segment(a, b, p) {
            return true;
        }
        if (a.y > p.y) != (b.y > p.y) {
            let x = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y);
            if p.x < x {
                inside = !inside;
            }
        }
    }
    inside
}

/// Whether the whole footprint lies strictly inside the simple (possibly non-convex) polygon
/// `poly`: every corner inside and no footprint edge meeting a polygon edge. Touching the
/// boundary counts as outside. Exact for non-convex polygons, because a polygon without holes
/// that holds the footprint's boundary holds its interior.
pub fn footprint_inside(poly: &[Vec2], fp: &Footprint) -> bool {
    if poly.len() < 3 || !fp.center.is_finite() || !fp.yaw_rad.is_finite() {
        return false;
    }
    let c = fp.corners();
    if !c.iter().all(|&p| polygon_contains(poly, p)) {
        return false;
    }
    for (p, q) in edges(&c) {
        for (a, b) in edges(poly) {
            if segments_intersect(p, q, a, b) {
                return false;
            }
        }
    }
    true
}

/// A [`Shape`] with its rotation worked out once, for loops that test it millions of times.
/// Answers exactly what the free functions answer for the shape it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedShape {
    kind: Prepared,
    center: Vec2,
    radius_m: f64,
}

#[derive(Debug, Clone, PartialEq)]
enum Prepared {
    Disc { center: Vec2, radius_m: f64 },
    Rect(Rect),
    Polygon(Vec<Vec2>),
}

impl PreparedShape {
    /// Prepare `shape`.
    pub fn new(shape: &Shape) -> Self {
        let (center, radius_m) = bounding_radius(shape);
        let kind = match shape {
            Shape::Disc { center, radius_m } => Prepared::Disc { center: *center, radius_m: *radius_m },
            Shape::Box { center, half_extents_m, yaw_rad } => {
                Prepared::Rect(box_rect(*center, *half_extents_m, *yaw_rad))
            }
            Shape::Polygon { vertices } => Prepared::Polygon(vertices.clone()),
        };
        Self { kind, center, radius_m }
    }

    /// Centre of the bounding circle (m).
    #[inline]
    pub fn bounding_center(&self) -> Vec2 {
        self.center
    }

    /// Radius of the bounding circle (m).
    #[inline]
    pub fn bounding_radius_m(&self) -> f64 {
        self.radius_m
    }

    /// As [`shape_contains`].
    #[inline]
    pub fn contains(&self, p: Vec2) -> bool {
        match &self.kind {
            Prepared::Disc { center, radius_m } => (p - *center).norm_sq() <= radius_m * radius_m,
            Prepared::Rect(r) => r.contains(p),
            Prepared::Polygon(v) => convex_polygon_contains(v, p),
        }
    }

    /// As [`ray_distance`].
    #[inline]
    pub fn ray_distance(&self, origin: Vec2, dir: Vec2, max_m: f64) -> Option<f64> {
        match &self.kind {
            Prepared::Disc { center, radius_m } => disc_ray(*center, *radius_m, origin, dir, max_m),
            Prepared::Rect(r) => r.ray(origin, dir, max_m),
            Prepared::Polygon(v) => convex_polygon_ray(v, origin, dir, max_m),
        }
    }

    /// As [`footprint_overlaps`], with the footprint's heading given as a unit vector.
    #[inline]
    pub fn overlaps_footprint(&self, fp: &Footprint, heading: Vec2) -> bool {
        let r = Rect { center: fp.center, axis: heading, half: Vec2::new(fp.half_length_m, fp.half_width_m) };
        match &self.kind {
            Prepared::Disc { center, radius_m } => r.overlaps_disc(*center, *radius_m),
            Prepared::Rect(b) => r.overlaps_rect(b),
            Prepared::Polygon(v) => r.overlaps_polygon(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};

    fn v(x: f64, y: f64) -> Vec2 {
        Vec2::new(x, y)
    }

    fn square(c: Vec2, h: f64) -> Vec<Vec2> {
        vec![v(c.x - h, c.y - h), v(c.x + h, c.y - h), v(c.x + h, c.y + h), v(c.x - h, c.y + h)]
    }

    /// A U shape open to the north: the notch is x in [4, 6], y in [4, 10].
    fn u_shape() -> Vec<Vec2> {
        vec![
            v(0.0, 0.0),
            v(10.0, 0.0),
            v(10.0, 10.0),
            v(6.0, 10.0),
            v(6.0, 4.0),
            v(4.0, 4.0),
            v(4.0, 10.0),
            v(0.0, 10.0),
        ]
    }

    fn fp(x: f64, y: f64, yaw: f64) -> Footprint {
        Footprint { center: v(x, y), yaw_rad: yaw, half_length_m: 1.0, half_width_m: 0.5 }
    }

    #[test]
    fn vector_ops() {
        let a = v(1.0, 2.0);
        let b = v(3.0, -1.0);
        assert_eq!(a + b, v(4.0, 1.0));
        assert_eq!(a - b, v(-2.0, 3.0));
        assert_eq!(-a, v(-1.0, -2.0));
        assert_eq!(a * 2.0, 2.0 * a);
        assert_eq!(a.scale(2.0) / 2.0, a);
        assert_eq!(a.dot(b), 1.0);
        assert_eq!(a.cross(b), -7.0);
        assert_eq!(v(3.0, 4.0).norm(), 5.0);
        let r = a.rotate(Vec2::unit(FRAC_PI_2));
        assert!((r - v(-2.0, 1.0)).norm() < 1e-12);
        assert!((r.unrotate(Vec2::unit(FRAC_PI_2)) - a).norm() < 1e-12);
        let mut c = a;
        c += b;
        c -= b;
        assert_eq!(c, a);
    }

    #[test]
    fn footprint_corners_ccw() {
        let c = fp(1.0, 2.0, FRAC_PI_2).corners();
        let want = [v(1.5, 1.0), v(1.5, 3.0), v(0.5, 3.0), v(0.5, 1.0)];
        for (got, want) in c.iter().zip(want) {
            assert!((*got - want).norm() < 1e-12, "{got:?} vs {want:?}");
        }
        assert!(signed_area(&c) > 0.0);
        let robot = RobotParams::default();
        let f =
            Footprint::from_state(&PlanarState { x_m: 3.0, y_m: 4.0, yaw_rad: 0.1, speed_mps: 0.0 }, &robot);
        assert_eq!(f.half_length_m, 0.76);
        assert_eq!(f.half_width_m, 0.69);
        assert_eq!(f.center, v(3.0, 4.0));
    }

    #[test]
    fn containment() {
        let disc = Shape::Disc { center: v(1.0, 1.0), radius_m: 1.0 };
        assert!(shape_contains(&disc, v(1.5, 1.5)));
        assert!(shape_contains(&disc, v(2.0, 1.0)));
        assert!(!shape_contains(&disc, v(2.0, 2.0)));
        let b = Shape::Box { center: v(0.0, 0.0), half_extents_m: v(2.0, 0.5), yaw_rad: FRAC_PI_4 };
        assert!(shape_contains(&b, v(1.0, 1.0)));
        assert!(!shape_contains(&b, v(1.0, -1.0)));
        let p = Shape::Polygon { vertices: vec![v(0.0, 0.0), v(2.0, 0.0), v(0.0, 2.0)] };
        assert!(shape_contains(&p, v(0.5, 0.5)));
        assert!(shape_contains(&p, v(1.0, 1.0)));
        assert!(!shape_contains(&p, v(1.1, 1.0)));
    }

    #[test]
    fn rays_hit_analytic_distances() {
        let east = v(1.0, 0.0);
        let disc = Shape::Disc { center: v(10.0, 0.0), radius_m: 2.0 };
        assert!((ray_distance(&disc, v(0.0, 0.0), east, 20.0).unwrap_or(-1.0) - 8.0).abs() < 1e-12);
        assert_eq!(ray_distance(&disc, v(0.0, 0.0), east, 7.9), None);
        assert_eq!(ray_distance(&disc, v(0.0, 0.0), -east, 20.0), None);
        assert_eq!(ray_distance(&disc, v(0.0, 3.0), east, 20.0), None);
        assert_eq!(ray_distance(&disc, v(10.0, 1.0), east, 20.0), Some(0.0));
        // Ray at y = 1 meets the circle at x = 10 - √3.
        let t = ray_distance(&disc, v(0.0, 1.0), east, 20.0).unwrap_or(-1.0);
        assert!((t - (10.0 - 3f64.sqrt())).abs() < 1e-12);

        // A box turned 45°: its corner points at the origin, 5 - √2 away along the diagonal.
        let b = Shape::Box { center: v(5.0, 0.0), half_extents_m: v(1.0, 1.0), yaw_rad: FRAC_PI_4 };
        let t = ray_distance(&b, v(0.0, 0.0), east, 20.0).unwrap_or(-1.0);
        assert!((t - (5.0 - 2f64.sqrt())).abs() < 1e-12, "{t}");
        let up = v(0.0, 1.0);
        assert_eq!(ray_distance(&b, v(0.0, 0.0), up, 20.0), None);

        let tri = Shape::Polygon { vertices: vec![v(4.0, -1.0), v(6.0, -1.0), v(6.0, 3.0)] };
        // Hypotenuse from (4,-1) to (6,3): x = 4 + (y+1)/2, so at y = 0 it is x = 4.5.
        let t = ray_distance(&tri, v(0.0, 0.0), east, 20.0).unwrap_or(-1.0);
        assert!((t - 4.5).abs() < 1e-12, "{t}");
        assert_eq!(ray_distance(&tri, v(0.0, 0.0), -east, 20.0), None);
        assert_eq!(ray_distance(&tri, v(5.5, 0.0), east, 20.0), Some(0.0));
        let t = ray_distance(&tri, v(5.0, -5.0), up, 20.0).unwrap_or(-1.0);
        assert!((t - 4.0).abs() < 1e-12, "{t}");
    }

    #[test]
    fn footprint_overlap_each_shape() {
        let disc = Shape::Disc { center: v(3.0, 0.0), radius_m: 1.0 };
        assert!(!footprint_overlaps(&disc, &fp(0.0, 0.0, 0.0)));
        assert!(footprint_overlaps(&disc, &fp(1.1, 0.0, 0.0)));
        // Near a corner the disc can be inside the box's bounding square but clear of it.
        let near_corner = Shape::Disc { center: v(1.6, 1.1), radius_m: 0.7 };
        assert!(!footprint_overlaps(&near_corner, &fp(0.0, 0.0, 0.0)));
        let b = Shape::Box { center: v(2.6, 0.0), half_extents_m: v(0.5, 0.5), yaw_rad: FRAC_PI_4 };
        // Box corner at x = 2.6 - √2/2 ≈ 1.893; footprint front at x = 1.
        assert!(!footprint_overlaps(&b, &fp(0.0, 0.0, 0.0)));
        assert!(footprint_overlaps(&b, &fp(0.9, 0.0, 0.0)));
        // Only the box's own diagonal axis separates these: the footprint's axes do not.
        assert!(!footprint_overlaps(&b, &fp(0.9, 0.7, 0.0)));
        let tri = Shape::Polygon { vertices: vec![v(2.0, 0.0), v(4.0, 0.0), v(2.0, 2.0)] };
        assert!(!footprint_overlaps(&tri, &fp(0.0, 0.0, 0.0)));
        assert!(footprint_overlaps(&tri, &fp(1.5, 0.0, 0.0)));
        // Across the hypotenuse: separated only along the triangle's edge normal.
        assert!(!footprint_overlaps(&tri, &fp(3.2, 2.5, 0.0)));
        assert!(footprint_overlaps(&tri, &fp(2.9, 2.2, 0.0)));
    }

    #[test]
    fn convexity_and_area() {
        let sq = square(v(0.0, 0.0), 1.0);
        assert!(is_convex_ccw(&sq));
        assert!((signed_area(&sq) - 4.0).abs() < 1e-12);
        let mut cw = sq.clone();
        cw.reverse();
        assert!(!is_convex_ccw(&cw));
        assert!((signed_area(&cw) + 4.0).abs() < 1e-12);
        assert!(!is_convex_ccw(&u_shape()));
        assert!(!is_convex_ccw(&sq[..2]));
        assert!(!is_convex_ccw(&[v(0.0, 0.0), v(1.0, 0.0), v(2.0, 0.0), v(1.0, 1.0)]), "collinear");
        assert!(!is_convex_ccw(&[v(0.0, 0.0), v(1.0, 0.0), v(f64::NAN, 1.0)]));
        let star: Vec<Vec2> = (0..5).map(|i| Vec2::unit(i as f64 * 4.0 * PI / 5.0)).collect();
        assert!(signed_area(&star) > 0.0);
        assert!(!is_convex_ccw(&star), "pentagram winds twice");
        assert!(is_simple_polygon(&u_shape()));
        assert!(!is_simple_polygon(&star));
        assert!(!is_simple_polygon(&[v(0.0, 0.0), v(2.0, 0.0), v(2.0, 2.0), v(0.0, 2.0), v(2.0, 0.0)]));
        assert!(!is_simple_polygon(&[v(0.0, 0.0), v(1.0, 0.0), v(2.0, 0.0)]));
        assert!(is_simple_polygon(&[v(0.0, 0.0), v(1.0, 0.0), v(0.0, 1.0)]));
    }

    #[test]
    fn polygon_contains_non_convex() {
        let u = u_shape();
        assert!(polygon_contains(&u, v(2.0, 8.0)));
        assert!(polygon_contains(&u, v(5.0, 2.0)));
        assert!(!polygon_contains(&u, v(5.0, 8.0)), "in the notch");
        assert!(!polygon_contains(&u, v(-1.0, 5.0)));
        assert!(polygon_contains(&u, v(0.0, 5.0)), "boundary counts as inside");
        assert!(polygon_contains(&u, v(4.0, 4.0)), "reflex vertex");
        assert!(!polygon_contains(&u[..2], v(0.0, 0.0)));
    }

    #[test]
    fn footprint_inside_non_convex_fence() {
        let u = u_shape();
        assert!(footprint_inside(&u, &fp(2.0, 2.0, 0.0)));
        assert!(!footprint_inside(&u, &fp(0.5, 2.0, 0.0)), "pokes out of the west side");
        // All four corners are inside the U (two in each arm), but the body spans the notch.
        let across = Footprint { center: v(5.0, 7.0), yaw_rad: 0.0, half_length_m: 3.0, half_width_m: 0.5 };
        assert!(across.corners().iter().all(|&c| polygon_contains(&u, c)));
        assert!(!footprint_inside(&u, &across));
        let tiny_fence = square(v(0.0, 0.0), 0.1);
        assert!(!footprint_inside(&tiny_fence, &fp(0.0, 0.0, 0.0)), "fence inside the footprint");
        assert!(!footprint_inside(&u, &fp(2.0, 2.0, f64::NAN)));
    }

    #[test]
    fn prepared_matches_free_functions() {
        let shapes = [
            Shape::Disc { center: v(3.0, 1.0), radius_m: 1.5 },
            Shape::Box { center: v(-2.0, 4.0), half_extents_m: v(2.0, 0.7), yaw_rad: 0.6 },
            Shape::Polygon { vertices: vec![v(0.0, -5.0), v(3.0, -4.0), v(1.0, -2.0)] },
        ];
        for s in &shapes {
            let p = PreparedShape::new(s);
            let (c, r) = bounding_radius(s);
            assert_eq!((p.bounding_center(), p.bounding_radius_m()), (c, r));
            for i in 0..64 {
                let o = v((i % 8) as f64 - 4.0, (i / 8) as f64 - 4.0);
                let d = Vec2::unit(i as f64 * 0.37);
                assert_eq!(p.contains(o), shape_contains(s, o));
                assert_eq!(p.ray_distance(o, d, 30.0), ray_distance(s, o, d, 30.0));
                let f = fp(o.x, o.y, i as f64 * 0.21);
                assert_eq!(p.overlaps_footprint(&f, Vec2::unit(f.yaw_rad)), footprint_overlaps(s, &f));
            }
        }
    }

    fn arb_shape() -> impl Strategy<Value = Shape> {
        prop_oneof![
            (-5.0..5.0, -5.0..5.0, 0.1..3.0)
                .prop_map(|(x, y, r)| Shape::Disc { center: v(x, y), radius_m: r }),
            (-5.0..5.0, -5.0..5.0, 0.1..3.0, 0.1..3.0, -PI..PI).prop_map(|(x, y, hx, hy, a)| Shape::Box {
                center: v(x, y),
                half_extents_m: v(hx, hy),
                yaw_rad: a
            }),
            (-5.0..5.0, -5.0..5.0, 0.5..3.0, prop::collection::vec(0.0..1.0f64, 3..8)).prop_filter_map(
                "degenerate polygon",
                |(x, y, r, mut t)| {
                    t.sort_by(f64::total_cmp);
                    let vertices: Vec<Vec2> =
                        t.iter().map(|a| v(x, y) + Vec2::unit(a * 2.0 * PI) * r).collect();
                    is_convex_ccw(&vertices).then_some(Shape::Polygon { vertices })
                }
            ),
        ]
    }

    proptest! {
        /// The ray distance agrees with marching along the ray in 1 mm steps.
        #[test]
        fn ray_distance_matches_marching(s in arb_shape(), ox in -10.0..10.0, oy in -10.0..10.0, a in -PI..PI) {
            let (o, d) = (v(ox, oy), Vec2::unit(a));
            let got = ray_distance(&s, o, d, 25.0);
            let step = 1e-3;
            let first = (0..25_000).map(|k| k as f64 * step).find(|&t| shape_contains(&s, o + d * t));
            match (got, first) {
                (Some(t), Some(f)) => prop_assert!(t <= f + 1e-9 && f <= t + step + 1e-9, "{t} vs {f}"),
                // A grazing hit can fall between samples.
                (Some(t), None) => {
                    let (c, r) = bounding_radius(&s);
                    prop_assert!((o + d * t - c).norm() <= r + 1e-6, "hit at {t} is off the shape");
                }
                (None, Some(f)) => prop_assert!(false, "missed a hit at {f}"),
                (None, None) => {}
            }
        }

        /// Overlap is exact: any sampled point of the footprint inside the shape means overlap,
        /// and an overlap found for a box is symmetric.
        #[test]
        fn overlap_agrees_with_samples(s in arb_shape(), x in -8.0..8.0, y in -8.0..8.0, a in -PI..PI) {
            let f = Footprint { center: v(x, y), yaw_rad: a, half_length_m: 1.2, half_width_m: 0.6 };
            let o = footprint_overlaps(&s, &f);
            let axis = Vec2::unit(a);
            let sampled = (0..=20).any(|i| (0..=10).any(|j| {
                let l = v(-1.2 + 0.12 * i as f64, -0.6 + 0.12 * j as f64);
                shape_contains(&s, f.center + l.rotate(axis))
            }));
            if sampled {
                prop_assert!(o);
            }
            if let Shape::Box { center, half_extents_m, yaw_rad } = &s {
                let as_fp = Footprint { center: *center, yaw_rad: *yaw_rad, half_length_m: half_extents_m.x, half_width_m: half_extents_m.y };
                let f_shape = Shape::Box { center: f.center, half_extents_m: v(1.2, 0.6), yaw_rad: a };
                prop_assert_eq!(o, footprint_overlaps(&f_shape, &as_fp));
            }
        }

        /// For a random star-shaped (often non-convex) fence, a footprint found inside has every
        /// sampled point inside.
        #[test]
        fn footprint_inside_means_every_point_inside(
            radii in prop::collection::vec(3.0..10.0f64, 5..12),
            x in -6.0..6.0, y in -6.0..6.0, a in -PI..PI,
        ) {
            let n = radii.len();
            let fence: Vec<Vec2> = radii.iter().enumerate()
                .map(|(i, r)| Vec2::unit(i as f64 * 2.0 * PI / n as f64) * *r).collect();
            let f = Footprint { center: v(x, y), yaw_rad: a, half_length_m: 1.5, half_width_m: 0.8 };
            if footprint_inside(&fence, &f) {
                let axis = Vec2::unit(a);
                for i in 0..=30 {
                    for j in 0..=16 {
                        let l = v(-1.5 + 0.1 * i as f64, -0.8 + 0.1 * j as f64);
                        prop_assert!(polygon_contains(&fence, f.center + l.rotate(axis)));
                    }
                }
            }
        }

        /// On convex polygons the general crossing test agrees with the half-plane test.
        #[test]
        fn polygon_contains_matches_convex_test(s in arb_shape(), x in -9.0..9.0, y in -9.0..9.0) {
            if let Shape::Polygon { vertices } = &s {
                prop_assert_eq!(polygon_contains(vertices, v(x, y)), shape_contains(&s, v(x, y)));
            }
        }
    }
}
