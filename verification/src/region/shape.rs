//! Planar convex shapes: disc, oriented box and convex polygon, validated on construction.

use crate::Error;

/// A point of the plane, metres.
pub(crate) type Pt = (f64, f64);

/// Cross product of `b - a` and `c - a`: positive when `a, b, c` turn left.
pub(crate) fn cross(a: Pt, b: Pt, c: Pt) -> f64 {
    (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0)
}

/// A closed convex planar shape. Built only through the validating constructors.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Disc { centre: Pt, radius_m: f64 },
    // A box keeps its parameters for reporting and its corners (CCW) for geometry.
    Box { centre: Pt, half_extents_m: Pt, yaw_rad: f64, vertices: Vec<Pt> },
    Polygon { vertices: Vec<Pt> },
}

/// A read-only view of a [`Shape`]'s parameters (all lengths in metres, angles in radians).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Geometry<'a> {
    /// Disc: all points within `radius_m` of `centre`.
    Disc {
        /// Centre (x, y).
        centre: (f64, f64),
        /// Radius, > 0.
        radius_m: f64,
    },
    /// Oriented box (rectangle).
    Box {
        /// Centre (x, y).
        centre: (f64, f64),
        /// Half lengths along the box's own x and y axes, > 0.
        half_extents_m: (f64, f64),
        /// Rotation of the box's x axis from the world x axis, as given.
        yaw_rad: f64,
    },
    /// Strictly convex polygon, vertices counter-clockwise.
    Polygon {
        /// Vertices, counter-clockwise.
        vertices: &'a [(f64, f64)],
    },
}

fn finite(field: &'static str, value: f64) -> Result<f64, Error> {
    if value.is_finite() { Ok(value) } else { Err(Error::NonFinite { field, value }) }
}

fn positive(field: &'static str, value: f64) -> Result<f64, Error> {
    // Written so that NaN fails.
    if value > 0.0 && value.is_finite() { Ok(value) } else { Err(Error::NotPositive { field, value }) }
}

impl Shape {
    /// The disc of radius `radius_m` (> 0) around (`x_m`, `y_m`).
    pub fn disc(x_m: f64, y_m: f64, radius_m: f64) -> Result<Shape, Error> {
        let centre = (finite("disc.centre.x", x_m)?, finite("disc.centre.y", y_m)?);
        let radius_m = positive("disc.radius_m", radius_m)?;
        Ok(Shape { kind: Kind::Disc { centre, radius_m } })
    }

    /// The box centred at (`x_m`, `y_m`) with half extents `half_x_m`, `half_y_m` (> 0) along
    /// its own axes, rotated by `yaw_rad` (counter-clockwise from the world x axis).
    pub fn rect(x_m: f64, y_m: f64, half_x_m: f64, half_y_m: f64, yaw_rad: f64) -> Result<Shape, Error> {
        let centre = (finite("box.centre.x", x_m)?, finite("box.centre.y", y_m)?);
        let hx = positive("box.half_extents_m.x", half_x_m)?;
        let hy = positive("box.half_extents_m.y", half_y_m)?;
        let yaw_rad = finite("box.yaw_rad", yaw_rad)?;
        let (s, c) = yaw_rad.sin_cos();
        let corner = |u: f64, v: f64| (centre.0 + c * u - s * v, centre.1 + s * u + c * v);
        // Rotation preserves orientation, so this order stays counter-clockwise.
        let vertices = vec![corner(-hx, -hy), corner(hx, -hy), corner(hx, hy), corner(-hx, hy)];
        Ok(Shape { kind: Kind::Box { centre, half_extents_m: (hx, hy), yaw_rad, vertices } })
    }

    /// The convex polygon with these vertices (metres), in either orientation; stored
    /// counter-clockwise. Rejects fewer than 3 vertices, non-finite coordinates, and outlines
    /// that are not strictly convex and simple (the error names the offending vertex index).
    pub fn polygon(vertices: Vec<(f64, f64)>) -> Result<Shape, Error> {
        let n = vertices.len();
        if n < 3 {
            return Err(Error::TooFewVertices { count: n });
        }
        if let Some((index, &(x, y))) =
            vertices.iter().enumerate().find(|(_, (x, y))| !(x.is_finite() && y.is_finite()))
        {
            return Err(Error::NonFiniteVertex { index, x, y });
        }
        let twice_area: f64 = (0..n)
            .map(|i| {
                let (a, b) = (vertices[i], vertices[(i + 1) % n]);
                a.0 * b.1 - a.1 * b.0
            })
            .sum();
        // Map a stored (CCW) index back to the caller's index, for error messages.
        let reversed = twice_area < 0.0;
        let original = |i: usize| if reversed { n - 1 - i } else { i };
        let mut ccw = vertices;
        if reversed {
            ccw.reverse();
        }
        let mut turned = 0.0;
        for i in 0..n {
            let (a, b, c) = (ccw[(i + n - 1) % n], ccw[i], ccw[(i + 1) % n]);
            let cr = cross(a, b, c);
            // Strict: straight or reflex turns (and duplicate vertices) are refused; the
            // coordinates are finite here, so the cross product is never NaN.
            if cr <= 0.0 {
                return Err(Error::NotConvex { vertex: original(i) });
            }
            let dot = (b.0 - a.0) * (c.0 - b.0) + (b.1 - a.1) * (c.1 - b.1);
            turned += cr.atan2(dot);
            // All left turns yet more than one full turn: a star outline winding twice.
            if turned > std::f64::consts::TAU + 1e-9 {
                return Err(Error::NotConvex { vertex: original(i) });
            }
        }
        Ok(Shape { kind: Kind::Polygon { vertices: ccw } })
    }

    /// The shape's parameters.
    pub fn geometry(&self) -> Geometry<'_> {
        match &self.kind {
            Kind::Disc { centre, radius_m } => Geometry::Disc { centre: *centre, radius_m: *radius_m },
            Kind::Box { centre, half_extents_m, yaw_rad, .. } => {
                Geometry::Box { centre: *centre, half_extents_m: *half_extents_m, yaw_rad: *yaw_rad }
            }
            Kind::Polygon { vertices } => Geometry::Polygon { vertices },
        }
    }

    /// Corners counter-clockwise for a box or polygon; `None` for a disc.
    pub fn vertices(&self) -> Option<&[(f64, f64)]> {
        match &self.kind {
            Kind::Disc { .. } => None,
            Kind::Box { vertices, .. } | Kind::Polygon { vertices } => Some(vertices),
        }
    }

    /// Centre and radius when this is a disc.
    pub(super) fn as_disc(&self) -> Option<(Pt, f64)> {
        match self.kind {
            Kind::Disc { centre, radius_m } => Some((centre, radius_m)),
            _ => None,
        }
    }

    /// Whether the closed shape contains (`x_m`, `y_m`); exact, no tolerance. NaN is outside.
    pub fn contains(&self, x_m: f64, y_m: f64) -> bool {
        let p = (x_m, y_m);
        match &self.kind {
            Kind::Disc { centre, radius_m } => {
                let (dx, dy) = (x_m - centre.0, y_m - centre.1);
                dx * dx + dy * dy <= radius_m * radius_m
            }
            Kind::Box { vertices, .. } | Kind::Polygon { vertices } => {
                let n = vertices.len();
                (0..n).all(|i| cross(vertices[i], vertices[(i + 1) % n], p) >= 0.0)
            }
        }
    }

    /// Axis-aligned bounding box `((x_lo, y_lo), (x_hi, y_hi))`, metres.
    pub fn bounding_box(&self) -> ((f64, f64), (f64, f64)) {
        match &self.kind {
            Kind::Disc { centre, radius_m } => {
                ((centre.0 - radius_m, centre.1 - radius_m), (centre.0 + radius_m, centre.1 + radius_m))
            }
            Kind::Box { vertices, .. } | Kind::Polygon { vertices } => vertices.iter().fold(
                ((f64::INFINITY, f64::INFINITY), (f64::NEG_INFINITY, f64::NEG_INFINITY)),
                |((xl, yl), (xh, yh)), &(x, y)| ((xl.min(x), yl.min(y)), (xh.max(x), yh.max(y))),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_is_stored_counter_clockwise() {
        let cw = Shape::polygon(vec![(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0)]).unwrap();
        let v = cw.vertices().unwrap();
        assert!(cross(v[0], v[1], v[2]) > 0.0);
        assert!(cw.contains(0.5, 0.5));
        assert!(cw.contains(1.0, 1.0));
        assert!(!cw.contains(1.0 + 1e-12, 0.5));
    }

    #[test]
    fn non_convex_polygon_names_the_vertex() {
        // Vertex 2 is a dent.
        let err =
            Shape::polygon(vec![(0.0, 0.0), (2.0, 0.0), (1.0, 0.5), (2.0, 2.0), (0.0, 2.0)]).unwrap_err();
        assert_eq!(err, Error::NotConvex { vertex: 2 });
        assert!(err.to_string().contains("vertex 2"), "{err}");
        // The same outline clockwise still names the caller's index of the dent.
        let err =
            Shape::polygon(vec![(0.0, 2.0), (2.0, 2.0), (1.0, 0.5), (2.0, 0.0), (0.0, 0.0)]).unwrap_err();
        assert_eq!(err, Error::NotConvex { vertex: 2 });
        // Collinear middle vertex: not strictly convex.
        let err = Shape::polygon(vec![(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (1.0, 1.0)]).unwrap_err();
        assert_eq!(err, Error::NotConvex { vertex: 1 });
    }

    #[test]
    fn star_polygon_is_refused() {
        let star: Vec<(f64, f64)> = (0..5)
            .map(|k| {
                let a = std::f64::consts::TAU * (2 * k) as f64 / 5.0;
                (a.cos(), a.sin())
            })
            .collect();
        assert!(matches!(Shape::polygon(star), Err(Error::NotConvex { .. })));
    }

    #[test]
    fn bad_numbers_are_refused() {
        assert_eq!(Shape::polygon(vec![(0.0, 0.0), (1.0, 0.0)]), Err(Error::TooFewVertices { count: 2 }));
        assert!(matches!(
            Shape::polygon(vec![(0.0, 0.0), (1.0, f64::NAN), (0.0, 1.0)]),
            Err(Error::NonFiniteVertex { index: 1, .. })
        ));
        assert!(matches!(Shape::disc(0.0, 0.0, f64::NAN), Err(Error::NotPositive { .. })));
        assert!(matches!(Shape::disc(0.0, 0.0, 0.0), Err(Error::NotPositive { .. })));
        assert!(matches!(Shape::disc(f64::INFINITY, 0.0, 1.0), Err(Error::NonFinite { .. })));
        assert!(matches!(Shape::rect(0.0, 0.0, 1.0, -1.0, 0.0), Err(Error::NotPositive { .. })));
        assert!(matches!(Shape::rect(0.0, 0.0, 1.0, 1.0, f64::NAN), Err(Error::NonFinite { .. })));
    }

    #[test]
    fn rotated_box_contains_its_rotated_points() {
        let b = Shape::rect(1.0, 2.0, 2.0, 0.5, std::f64::consts::FRAC_PI_2).unwrap();
        assert!(b.contains(1.0, 3.9));
        assert!(!b.contains(2.9, 2.0));
        let ((xl, yl), (xh, yh)) = b.bounding_box();
        assert!((xl - 0.5).abs() < 1e-12 && (xh - 1.5).abs() < 1e-12);
        assert!((yl - 0.0).abs() < 1e-12 && (yh - 4.0).abs() < 1e-12);
    }
}
