//! Errors of the verification crate.

/// What went wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A number that must be finite is NaN or infinite.
    #[error("{field}: must be finite (got {value})")]
    NonFinite {
        /// Which quantity, e.g. `disc.radius_m`.
        field: &'static str,
        /// The bad value.
        value: f64,
    },
    /// A length that must be strictly positive is not (NaN included).
    #[error("{field}: must be > 0 (got {value})")]
    NotPositive {
        /// Which quantity, e.g. `box.half_extents_m.x`.
        field: &'static str,
        /// The bad value.
        value: f64,
    },
    /// A polygon has fewer than three vertices.
    #[error("polygon: needs at least 3 vertices (got {count})")]
    TooFewVertices {
        /// How many vertices were given.
        count: usize,
    },
    /// A polygon vertex has a NaN or infinite coordinate.
    #[error("polygon vertex {index}: coordinates must be finite (got ({x}, {y}))")]
    NonFiniteVertex {
        /// Index of the vertex in the order given.
        index: usize,
        /// Its x coordinate in metres.
        x: f64,
        /// Its y coordinate in metres.
        y: f64,
    },
    /// A polygon is not strictly convex: the turn at `vertex` is reflex or straight, or the
    /// outline winds around more than once at that vertex.
    #[error("polygon vertex {vertex}: polygon must be strictly convex and simple")]
    NotConvex {
        /// Index of the offending vertex in the order given.
        vertex: usize,
    },
    /// An interval whose lower bound exceeds its upper bound (NaN included).
    #[error("{field}: lower bound must be <= upper bound (got [{lo}, {hi}])")]
    EmptyInterval {
        /// Which interval, e.g. `speed_mps`.
        field: &'static str,
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    /// A region was built without any planar shape.
    #[error("region: needs at least one planar shape")]
    NoShapes,
}
