//! The geofence half of the interface check: validating the fence polygon and deciding
//! exactly whether a region's planar part lies inside it.

use super::GeofenceBreach;
use crate::region::{Pt, circle_circle, clip_by, cross};
use crate::{Error, Geometry, Region, State, TOL_M};

/// The planar part of a region as constraints: half-planes n·p ≤ c (n unit, outward) and
/// discs, optionally eroded by `inset` metres (each half-plane moved in, each radius reduced:
/// erosion of an intersection is the intersection of the erosions).
#[derive(Debug)]
struct Convex {
    half: Vec<(Pt, f64)>,
    discs: Vec<(Pt, f64)>,
}

impl Convex {
    /// `None` when the erosion empties a disc.
    fn of(region: &Region, inset: f64) -> Option<Convex> {
        let mut half = Vec::new();
        let mut discs = Vec::new();
        for s in region.shapes() {
            if let Geometry::Disc { centre, radius_m } = s.geometry() {
                if radius_m <= inset {
                    return None;
                }
                discs.push((centre, radius_m - inset));
            } else if let Some(v) = s.vertices() {
                for i in 0..v.len() {
                    let (a, b) = (v[i], v[(i + 1) % v.len()]);
                    let len = (b.0 - a.0).hypot(b.1 - a.1);
                    // Validated shapes have distinct consecutive vertices, so len > 0.
                    let n = ((b.1 - a.1) / len, (a.0 - b.0) / len);
                    half.push((n, n.0 * a.0 + n.1 * a.1 - inset));
                }
            }
        }
        Some(Convex { half, discs })
    }

    fn contains(&self, p: Pt, slack: f64) -> bool {
        self.half.iter().all(|&(n, c)| n.0 * p.0 + n.1 * p.1 <= c + slack)
            && self.discs.iter().all(|&(c, r)| (p.0 - c.0).hypot(p.1 - c.1) <= r + slack)
    }

    /// The parameters t ∈ [0, 1] with a + t (b − a) in the set, as an interval.
    fn clip_segment(&self, a: Pt, b: Pt) -> Option<(f64, f64)> {
        let d = (b.0 - a.0, b.1 - a.1);
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        for &(n, c) in &self.half {
            let slope = n.0 * d.0 + n.1 * d.1;
            let room = c - (n.0 * a.0 + n.1 * a.1);
            if slope == 0.0 {
                if room < 0.0 {
                    return None;
                }
            } else if slope > 0.0 {
                hi = hi.min(room / slope);
            } else {
                lo = lo.max(room / slope);
            }
        }
        for &(c, r) in &self.discs {
            let f = (a.0 - c.0, a.1 - c.1);
            let qa = d.0 * d.0 + d.1 * d.1;
            let qb = 2.0 * (f.0 * d.0 + f.1 * d.1);
            let qc = f.0 * f.0 + f.1 * f.1 - r * r;
            if qa == 0.0 {
                if qc > 0.0 {
                    return None;
                }
                continue;
            }
            let disc = qb * qb - 4.0 * qa * qc;
            if disc < 0.0 {
                return None;
            }
            let s = disc.sqrt();
            lo = lo.max((-qb - s) / (2.0 * qa));
            hi = hi.min((-qb + s) / (2.0 * qa));
        }
        (lo <= hi).then_some((lo, hi))
    }

    /// A point of the set (the mean of its candidate extreme points), searched inside the box
    /// `(lo, hi)`, which must contain the set; `None` when the set is empty.
    ///
    /// Why the candidates suffice: the boundary of a non-empty compact convex set cut out by
    /// half-planes and discs is either one piece (the polygon K of the half-planes, whose
    /// vertices are candidates, or one whole circle, whose centre is a candidate) or several
    /// pieces whose junctions (vertices of K, edge-circle and circle-circle crossings) are
    /// candidates. The mean of candidates in the set lies in it by convexity.
    fn point(&self, (lo, hi): (Pt, Pt)) -> Option<Pt> {
        // K ∩ (the box grown by 1 m): the box does not cut the set, so the argument holds.
        let mut k = vec![
            (lo.0 - 1.0, lo.1 - 1.0),
            (hi.0 + 1.0, lo.1 - 1.0),
            (hi.0 + 1.0, hi.1 + 1.0),
            (lo.0 - 1.0, hi.1 + 1.0),
        ];
        for &(n, c) in &self.half {
            k = clip_by(&k, |p: Pt| c - (n.0 * p.0 + n.1 * p.1));
            if k.is_empty() {
                return None;
            }
        }
        let mut cand: Vec<Pt> = k.clone();
        for j in 0..k.len() {
            for &(c, r) in &self.discs {
                let one = Convex { half: Vec::new(), discs: vec![(c, r)] };
                if let Some((t0, t1)) = one.clip_segment(k[j], k[(j + 1) % k.len()]) {
                    let (p, q) = (k[j], k[(j + 1) % k.len()]);
                    for t in [t0, t1] {
                        cand.push((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)));
                    }
                }
            }
        }
        for (i, &(c1, r1)) in self.discs.iter().enumerate() {
            cand.push(c1);
            for &(c2, r2) in &self.discs[i + 1..] {
                circle_circle(c1, r1, c2, r2, &mut cand);
            }
        }
        // Rounding in the crossings: accept candidates a hair outside.
        cand.retain(|&p| self.contains(p, 1e-12));
        if cand.is_empty() {
            return None;
        }
        let n = cand.len() as f64;
        Some((cand.iter().map(|p| p.0).sum::<f64>() / n, cand.iter().map(|p| p.1).sum::<f64>() / n))
    }
}

/// Whether `p` lies in the closed simple polygon `poly` (either orientation): on an edge, or
/// inside by the crossing rule.
pub(super) fn in_polygon(poly: &[Pt], p: Pt) -> bool {
    let n = poly.len();
    let mut inside = false;
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + 1) % n]);
        let on_line = cross(a, b, p) == 0.0;
        let within = p.0 >= a.0.min(b.0) && p.0 <= a.0.max(b.0) && p.1 >= a.1.min(b.1) && p.1 <= a.1.max(b.1);
        if on_line && within {
            return true;
        }
        if (a.1 > p.1) != (b.1 > p.1) {
            let x = a.0 + (p.1 - a.1) / (b.1 - a.1) * (b.0 - a.0);
            if p.0 < x {
                inside = !inside;
            }
        }
    }
    inside
}

/// Whether closed segments `a`–`b` and `c`–`d` share a point.
fn segments_meet(a: Pt, b: Pt, c: Pt, d: Pt) -> bool {
    let (d1, d2, d3, d4) = (cross(c, d, a), cross(c, d, b), cross(a, b, c), cross(a, b, d));
    let on = |p: Pt, q: Pt, r: Pt| {
        r.0 >= p.0.min(q.0) && r.0 <= p.0.max(q.0) && r.1 >= p.1.min(q.1) && r.1 <= p.1.max(q.1)
    };
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    (d1 == 0.0 && on(c, d, a))
        || (d2 == 0.0 && on(c, d, b))
        || (d3 == 0.0 && on(a, b, c))
        || (d4 == 0.0 && on(a, b, d))
}

/// Validates the geofence: at least 3 finite vertices, simple (no two edges cross or touch
/// except neighbours at their shared vertex, which must not fold back). Returns the sign of
/// its orientation: +1 counter-clockwise, −1 clockwise.
pub(super) fn check_geofence(poly: &[Pt]) -> Result<f64, Error> {
    let n = poly.len();
    if n < 3 {
        return Err(Error::TooFewVertices { count: n });
    }
    if let Some((index, &(x, y))) =
        poly.iter().enumerate().find(|(_, p)| !(p.0.is_finite() && p.1.is_finite()))
    {
        return Err(Error::NonFiniteVertex { index, x, y });
    }
    for i in 0..n {
        let (p, q, r) = (poly[i], poly[(i + 1) % n], poly[(i + 2) % n]);
        if p == q {
            return Err(Error::GeofenceNotSimple { edge_a: i, edge_b: i });
        }
        // Neighbouring edges that run back along each other overlap.
        if cross(p, q, r) == 0.0 && (q.0 - p.0) * (r.0 - q.0) + (q.1 - p.1) * (r.1 - q.1) < 0.0 {
            return Err(Error::GeofenceNotSimple { edge_a: i, edge_b: (i + 1) % n });
        }
    }
    for i in 0..n {
        for j in i + 2..n {
            if i == 0 && j == n - 1 {
                continue; // neighbours through vertex 0
            }
            if segments_meet(poly[i], poly[(i + 1) % n], poly[j], poly[(j + 1) % n]) {
                return Err(Error::GeofenceNotSimple { edge_a: i, edge_b: j });
            }
        }
    }
    let twice_area: f64 =
        (0..n).map(|i| poly[i].0 * poly[(i + 1) % n].1 - poly[(i + 1) % n].0 * poly[i].1).sum();
    Ok(if twice_area < 0.0 { -1.0 } else { 1.0 })
}

/// A heading and speed of `region`: mid-arc and mid-interval (0 when unconstrained).
fn typical(region: &Region) -> (f64, f64) {
    (
        region.heading().map_or(0.0, |h| h.mid_rad()),
        region.speed().map_or(0.0, |s| 0.5 * (s.lo_mps() + s.hi_mps())),
    )
}

/// Whether the planar part of `exit` lies inside the geofence `poly` (orientation `orient`);
/// otherwise a breach with a state of `exit` outside.
///
/// Exact up to [`TOL_M`], like [`Region::subset_of`]: a compact convex set P lies in a closed
/// simple polygon G iff no edge of G enters the interior of P and one interior point of P is
/// in G (a point of P outside G, joined to an interior point inside G, crosses ∂G in the
/// interior of P). With tolerance, "interior" is the erosion E of P by TOL_M: a geofence that
/// only grazes P's boundary layer is accepted, as `subset_of` accepts a part sticking out by
/// less than TOL_M. A region thinner than 2·TOL_M (empty E) is judged by one of its points.
pub(super) fn geofence_breach(
    subtask: usize,
    exit: &Region,
    poly: &[Pt],
    orient: f64,
) -> Option<GeofenceBreach> {
    if exit.is_empty() {
        return None;
    }
    let bbox = exit.bounding_box();
    let whole = Convex::of(exit, 0.0)?;
    let (yaw_rad, speed_mps) = typical(exit);
    let state = |p: Pt| State { x_m: p.0, y_m: p.1, yaw_rad, speed_mps };
    let eroded = Convex::of(exit, TOL_M);
    let n = poly.len();
    let mut first = None;
    if let Some(e) = &eroded {
        for i in 0..n {
            let (a, b) = (poly[i], poly[(i + 1) % n]);
            let Some((t0, t1)) = e.clip_segment(a, b) else { continue };
            let tm = 0.5 * (t0 + t1);
            let z = (a.0 + tm * (b.0 - a.0), a.1 + tm * (b.1 - a.1));
            // Step from the crossing to the outer side of the edge, as far as the exit set
            // allows (half of it, then less), until a point is in the exit set and outside.
            let len = (b.0 - a.0).hypot(b.1 - a.1);
            let out = (orient * (b.1 - a.1) / len, orient * (a.0 - b.0) / len);
            let reach = ((bbox.1.0 - bbox.0.0).hypot(bbox.1.1 - bbox.0.1)) + 1.0;
            let far = (z.0 + reach * out.0, z.1 + reach * out.1);
            let s_max = whole.clip_segment(z, far).map_or(0.0, |(_, t1)| t1 * reach);
            let mut s = 0.5 * s_max;
            while s > 1e-13 {
                let q = (z.0 + s * out.0, z.1 + s * out.1);
                if exit.contains(&state(q)) && !in_polygon(poly, q) {
                    return Some(GeofenceBreach { subtask, edge: Some(i), state: state(q) });
                }
                s *= 0.5;
            }
            first.get_or_insert((i, (z.0 + 0.5 * TOL_M * out.0, z.1 + 0.5 * TOL_M * out.1)));
        }
    }
    // Only when every crossing sits at a geofence vertex within rounding can the search above
    // fail; then the point just outside the first edge is reported.
    if let Some((i, q)) = first {
        return Some(GeofenceBreach { subtask, edge: Some(i), state: state(q) });
    }
    // No edge enters E: E lies wholly inside or wholly outside; one point decides.
    let probe = eroded.as_ref().and_then(|e| e.point(bbox)).or_else(|| whole.point(bbox))?;
    (!in_polygon(poly, probe)).then(|| GeofenceBreach { subtask, edge: None, state: state(probe) })
}
