//! Regions of the planar state: an intersection of convex planar shapes, optionally narrowed
//! by a heading arc and a speed interval; membership, uniform sampling and exact containment.

mod interval;
mod planar;
mod shape;

use std::fmt;

pub use interval::{HeadingInterval, SpeedInterval};
pub use planar::TOL_M;
pub(crate) use planar::{circle_circle, clip_by};
pub use shape::{Geometry, Shape};
pub(crate) use shape::{Pt, cross};

use interval::wrap_angle;
use planar::Planar;

/// Tolerance, radians, of heading containment decisions.
pub const TOL_RAD: f64 = 1e-9;
/// Tolerance, m/s, of speed containment decisions.
pub const TOL_MPS: f64 = 1e-9;
/// Rejection-sampling draws before [`Region::sample`] gives up on a thin region.
pub const MAX_SAMPLE_TRIES: usize = 10_000;

/// The planar state a region is defined over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct State {
    /// Position x, metres.
    pub x_m: f64,
    /// Position y, metres.
    pub y_m: f64,
    /// Heading, radians (any value; regions wrap it).
    pub yaw_rad: f64,
    /// Forward speed, m/s.
    pub speed_mps: f64,
}

/// A set of states: the intersection of one or more planar shapes, optionally a heading arc,
/// optionally a speed interval (absent = unconstrained).
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    shapes: Vec<Shape>,
    heading: Option<HeadingInterval>,
    speed: Option<SpeedInterval>,
    planar: Planar,
}

/// Which part of a region a [`Counterexample`] breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The position lies outside `other`'s shape with this index.
    Planar {
        /// Index into `other.shapes()`.
        shape: usize,
    },
    /// The heading lies outside `other`'s heading arc.
    Heading,
    /// The speed lies outside `other`'s speed interval.
    Speed,
}

/// Why `a.subset_of(b)` failed: a state of `a` that is not in `b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counterexample {
    /// A state of `a` outside `b`.
    pub state: State,
    /// The part of `b` it breaks.
    pub part: Part,
    /// How far the worst state of `a` lies outside that part: metres, radians or m/s.
    pub excess: f64,
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.state;
        let what = match self.part {
            Part::Planar { shape } => format!("outside shape {shape} by {:.3e} m", self.excess),
            Part::Heading => format!("heading outside by {:.3e} rad", self.excess),
            Part::Speed => format!("speed outside by {:.3e} m/s", self.excess),
        };
        write!(
            f,
            "state (x {} m, y {} m, yaw {} rad, speed {} m/s) is {what}",
            s.x_m, s.y_m, s.yaw_rad, s.speed_mps
        )
    }
}

impl std::error::Error for Counterexample {}

impl Region {
    /// The intersection of `shapes` (at least one), narrowed by `heading` and `speed` when
    /// given. An empty intersection is allowed; see [`Region::is_empty`].
    pub fn new(
        shapes: Vec<Shape>,
        heading: Option<HeadingInterval>,
        speed: Option<SpeedInterval>,
    ) -> Result<Region, crate::Error> {
        if shapes.is_empty() {
            return Err(crate::Error::NoShapes);
        }
        let planar = Planar::new(&shapes);
        Ok(Region { shapes, heading, speed, planar })
    }

    /// The planar shapes whose intersection is the planar part.
    pub fn shapes(&self) -> &[Shape] {
        &self.shapes
    }

    /// The heading arc; `None` means any heading.
    pub fn heading(&self) -> Option<HeadingInterval> {
        self.heading
    }

    /// The speed interval; `None` means any speed.
    pub fn speed(&self) -> Option<SpeedInterval> {
        self.speed
    }

    /// Exact axis-aligned bounding box `((x_lo, y_lo), (x_hi, y_hi))` of the planar part,
    /// metres. For an empty region: the intersection of the shapes' boxes (it may be
    /// inverted, lo > hi).
    pub fn bounding_box(&self) -> ((f64, f64), (f64, f64)) {
        self.planar.bounding_box().unwrap_or_else(|| {
            self.shapes.iter().map(Shape::bounding_box).fold(
                ((f64::NEG_INFINITY, f64::NEG_INFINITY), (f64::INFINITY, f64::INFINITY)),
                |((xl, yl), (xh, yh)), ((a, b), (c, d))| ((xl.max(a), yl.max(b)), (xh.min(c), yh.min(d))),
            )
        })
    }

    /// Whether the region holds no state. Decided exactly (up to [`TOL_M`]: shapes that miss
    /// each other by less count as touching). Heading arcs and speed intervals are never
    /// empty, so this is the planar part's emptiness.
    pub fn is_empty(&self) -> bool {
        self.planar.bounding_box().is_none()
    }

    /// Whether `state` lies in the (closed) region. Exact; NaN is outside.
    pub fn contains(&self, state: &State) -> bool {
        self.contains_point(state.x_m, state.y_m)
            && self.heading.is_none_or(|h| h.contains(state.yaw_rad))
            && state.yaw_rad.is_finite()
            && self.speed.is_none_or(|s| s.contains(state.speed_mps))
            && state.speed_mps.is_finite()
    }

    fn contains_point(&self, x_m: f64, y_m: f64) -> bool {
        self.shapes.iter().all(|s| s.contains(x_m, y_m))
    }

    /// A state drawn uniformly from the region: position by rejection from the bounding box,
    /// heading uniformly on the arc (on the whole circle when unconstrained), speed uniformly
    /// on the interval (0 m/s when unconstrained: a standing start). `None` when the region is
    /// empty or so thin that [`MAX_SAMPLE_TRIES`] draws all miss.
    pub fn sample(&self, rng: &mut impl rand::Rng) -> Option<State> {
        let ((xl, yl), (xh, yh)) = self.planar.bounding_box()?;
        let heading = self.heading.unwrap_or_else(HeadingInterval::full);
        for _ in 0..MAX_SAMPLE_TRIES {
            let state = State {
                x_m: rng.random_range(xl..=xh),
                y_m: rng.random_range(yl..=yh),
                yaw_rad: wrap_angle(heading.from_rad() + rng.random_range(0.0..=heading.width_rad())),
                speed_mps: self.speed.map_or(0.0, |s| rng.random_range(s.lo_mps()..=s.hi_mps())),
            };
            // Rounding in the heading wrap can step a hair outside the arc: redraw then.
            if self.contains(&state) {
                return Some(state);
            }
        }
        None
    }

    /// A heading and speed of `self` (mid-arc, mid-interval; 0 when unconstrained).
    fn typical(&self) -> (f64, f64) {
        (
            self.heading.map_or(0.0, |h| h.mid_rad()),
            self.speed.map_or(0.0, |s| 0.5 * (s.lo_mps() + s.hi_mps())),
        )
    }

    /// Exact containment: `Ok(())` when every state of `self` lies in `other`, otherwise a
    /// state of `self` outside `other`.
    ///
    /// Not sampled. `self ⊆ other` iff `self` is empty or each part is contained: the planar
    /// part of `self` in every shape of `other` (for a disc, the maximum distance of `self`
    /// from its centre is at most its radius; for a box or polygon, the maximum of each edge's
    /// outward normal over `self` is at most the edge's offset; both maxima are computed
    /// exactly by enumerating candidate extreme points), the heading arc in `other`'s arc
    /// (with wrap-around) and the speed interval in `other`'s. Tolerances: [`TOL_M`],
    /// [`TOL_RAD`], [`TOL_MPS`]; a part that sticks out by less is accepted.
    ///
    /// The counterexample's position is the maximiser (nudged towards the inside of `self`
    /// so that exact [`Region::contains`] agrees), its heading and speed come from `self`'s
    /// intervals, and from outside `other`'s interval when that is the failing part. Only for a
    /// region thinner than rounding (a segment or a point) may no nudged position pass exact
    /// `contains`; the maximiser itself is then reported.
    pub fn subset_of(&self, other: &Region) -> Result<(), Counterexample> {
        let Some(centre) = self.planar.centre() else {
            return Ok(());
        };
        let (yaw, speed) = self.typical();
        for (i, shape) in other.shapes.iter().enumerate() {
            let worst = match (shape.as_disc(), shape.vertices()) {
                (Some((c, r)), _) => self.planar.max_distance(c).map(|(d, p)| (d - r, p)),
                (None, Some(v)) => (0..v.len())
                    .filter_map(|j| {
                        let (a, b) = (v[j], v[(j + 1) % v.len()]);
                        let len = (b.0 - a.0).hypot(b.1 - a.1);
                        let n = ((b.1 - a.1) / len, (a.0 - b.0) / len);
                        self.planar.max_linear(n).map(|(m, p)| (m - (n.0 * a.0 + n.1 * a.1), p))
                    })
                    .max_by(|x, y| x.0.total_cmp(&y.0)),
                // Every shape is a disc or has vertices.
                (None, None) => None,
            };
            if let Some((excess, p)) = worst.filter(|w| w.0 > TOL_M) {
                let state = self.nudge(p, centre, yaw, speed, shape);
                return Err(Counterexample { state, part: Part::Planar { shape: i }, excess });
            }
        }
        let (x_m, y_m) = centre;
        if let Some(h_o) = other.heading {
            let h_s = self.heading.unwrap_or_else(HeadingInterval::full);
            if let Some((yaw_rad, excess)) = h_s.escape(&h_o, TOL_RAD) {
                let state = State { x_m, y_m, yaw_rad, speed_mps: speed };
                return Err(Counterexample { state, part: Part::Heading, excess });
            }
        }
        if let Some(s_o) = other.speed {
            let out = match self.speed {
                // Unconstrained speed includes any speed below `other`'s.
                None => Some((s_o.lo_mps() - 1.0, 1.0)),
                Some(s) if s.lo_mps() < s_o.lo_mps() - TOL_MPS => {
                    Some((s.lo_mps(), s_o.lo_mps() - s.lo_mps()))
                }
                Some(s) if s.hi_mps() > s_o.hi_mps() + TOL_MPS => {
                    Some((s.hi_mps(), s.hi_mps() - s_o.hi_mps()))
                }
                Some(_) => None,
            };
            if let Some((speed_mps, excess)) = out {
                let state = State { x_m, y_m, yaw_rad: yaw, speed_mps };
                return Err(Counterexample { state, part: Part::Speed, excess });
            }
        }
        Ok(())
    }

    /// Moves the maximiser `p` (inside `self` up to [`TOL_M`], outside `shape` by more) along
    /// the segment towards `centre` until exact membership agrees: in `self`, not in `shape`.
    fn nudge(&self, p: (f64, f64), centre: (f64, f64), yaw: f64, speed: f64, shape: &Shape) -> State {
        const STEPS: [f64; 11] = [0.0, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 0.25, 0.5];
        let at = |t: f64| State {
            x_m: p.0 + t * (centre.0 - p.0),
            y_m: p.1 + t * (centre.1 - p.1),
            yaw_rad: yaw,
            speed_mps: speed,
        };
        STEPS
            .iter()
            .map(|&t| at(t))
            .find(|s| self.contains(s) && !shape.contains(s.x_m, s.y_m))
            // Degenerate (near single-point) regions: report the maximiser itself.
            .unwrap_or_else(|| at(0.0))
    }
}

#[cfg(test)]
mod tests;
