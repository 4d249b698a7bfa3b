//! Exact optimisation over an intersection of convex planar shapes.
//!
//! The planar part of a region is K ∩ D₁ ∩ … ∩ Dₘ, where K is the intersection of its boxes and
//! polygons (a convex polygon, found by clipping) and the Dᵢ are discs. It is compact and
//! convex, so a linear function, and the (convex) distance from a point, attain their maximum
//! at an extreme point. Every extreme point is a vertex of K, a crossing of an edge of K with a
//! circle, a crossing of two circles, or an interior point of a circular arc of the boundary;
//! on an arc the objective peaks at the disc's support point (linear) or far point (distance)
//! unless it peaks at an end of the arc, which is one of the crossings already listed. So the
//! maximum over the finite candidate set, filtered by membership, is the exact maximum, up to
//! the rounding in computing the candidates, which the membership test absorbs with
//! [`TOL_M`].

use super::shape::{Pt, Shape, cross};

/// Tolerance, metres, for the membership test of candidate points and for containment
/// decisions: computed crossings are off by rounding (≈1e-15 m at the scale of a yard).
pub const TOL_M: f64 = 1e-9;

#[derive(Debug, Clone, PartialEq)]
struct HalfPlane {
    /// Outward unit normal.
    n: Pt,
    /// Offset: the half-plane is n·p <= d.
    d: f64,
}

/// The planar part of a region, with its objective-independent candidate extreme points.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Planar {
    halfplanes: Vec<HalfPlane>,
    discs: Vec<(Pt, f64)>,
    /// Vertices of K and all crossings, already filtered to the set.
    fixed: Vec<Pt>,
    /// Exact bounding box; `None` when the set is empty.
    bbox: Option<(Pt, Pt)>,
    /// A point of the set, inside it when possible (see [`Planar::new`]).
    centre: Option<Pt>,
}

fn dot(a: Pt, b: Pt) -> f64 {
    a.0 * b.0 + a.1 * b.1
}

fn dist(a: Pt, b: Pt) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

/// Sutherland–Hodgman: the part of the convex polygon `subject` inside the CCW `clip` polygon.
fn clip_convex(mut subject: Vec<Pt>, clip: &[Pt]) -> Vec<Pt> {
    let n = clip.len();
    for i in 0..n {
        if subject.is_empty() {
            break;
        }
        let (a, b) = (clip[i], clip[(i + 1) % n]);
        subject = clip_by(&subject, |p| cross(a, b, p));
    }
    subject
}

/// The part of convex polygon `subject` where `side(p) >= 0`, for an affine `side`
/// (Sutherland–Hodgman against one half-plane).
pub(crate) fn clip_by(subject: &[Pt], side: impl Fn(Pt) -> f64) -> Vec<Pt> {
    let mut out = Vec::with_capacity(subject.len() + 1);
    for j in 0..subject.len() {
        let (p, q) = (subject[j], subject[(j + 1) % subject.len()]);
        let (sp, sq) = (side(p), side(q));
        if sp >= 0.0 {
            out.push(p);
        }
        if (sp >= 0.0) != (sq >= 0.0) {
            let t = sp / (sp - sq);
            out.push((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)));
        }
    }
    out
}

/// Crossings of segment `a`–`b` with the circle (`c`, `r`).
fn segment_circle(a: Pt, b: Pt, c: Pt, r: f64, out: &mut Vec<Pt>) {
    let d = (b.0 - a.0, b.1 - a.1);
    let f = (a.0 - c.0, a.1 - c.1);
    let qa = dot(d, d);
    if qa == 0.0 {
        return;
    }
    let qb = 2.0 * dot(f, d);
    let qc = dot(f, f) - r * r;
    let disc = qb * qb - 4.0 * qa * qc;
    if disc < 0.0 {
        // Tangent within rounding: keep the touching point; the membership test judges it.
        let t = -qb / (2.0 * qa);
        if (0.0..=1.0).contains(&t) {
            out.push((a.0 + t * d.0, a.1 + t * d.1));
        }
        return;
    }
    let s = disc.sqrt();
    for t in [(-qb - s) / (2.0 * qa), (-qb + s) / (2.0 * qa)] {
        let t = if (-1e-12..0.0).contains(&t) {
            0.0
        } else if t > 1.0 && t < 1.0 + 1e-12 {
            1.0
        } else {
            t
        };
        if (0.0..=1.0).contains(&t) {
            out.push((a.0 + t * d.0, a.1 + t * d.1));
        }
    }
}

/// Crossings of two circles (tangency within [`TOL_M`] gives the touching point).
pub(crate) fn circle_circle(c1: Pt, r1: f64, c2: Pt, r2: f64, out: &mut Vec<Pt>) {
    let d = dist(c1, c2);
    // Concentric circles have no isolated crossings; the support points cover them.
    if d == 0.0 || d > r1 + r2 + TOL_M || d < (r1 - r2).abs() - TOL_M {
        return;
    }
    let a = (d * d + r1 * r1 - r2 * r2) / (2.0 * d);
    let h = (r1 * r1 - a * a).max(0.0).sqrt();
    let u = ((c2.0 - c1.0) / d, (c2.1 - c1.1) / d);
    let m = (c1.0 + a * u.0, c1.1 + a * u.1);
    out.push((m.0 - h * u.1, m.1 + h * u.0));
    out.push((m.0 + h * u.1, m.1 - h * u.0));
}

impl Planar {
    /// Builds the intersection of `shapes` and its candidate points.
    pub(super) fn new(shapes: &[Shape]) -> Planar {
        let mut halfplanes = Vec::new();
        let mut discs = Vec::new();
        let mut k: Option<Vec<Pt>> = None;
        for s in shapes {
            if let Some(disc) = s.as_disc() {
                discs.push(disc);
            } else if let Some(v) = s.vertices() {
                let n = v.len();
                for i in 0..n {
                    let (a, b) = (v[i], v[(i + 1) % n]);
                    let len = dist(a, b);
                    // Validated polygons have distinct consecutive vertices, so len > 0.
                    let normal = ((b.1 - a.1) / len, (a.0 - b.0) / len);
                    halfplanes.push(HalfPlane { n: normal, d: dot(normal, a) });
                }
                k = Some(match k {
                    None => v.to_vec(),
                    Some(k) => clip_convex(k, v),
                });
            }
        }
        let mut raw = Vec::new();
        if let Some(k) = &k {
            raw.extend_from_slice(k);
            let n = k.len();
            for i in 0..n {
                for &(c, r) in &discs {
                    segment_circle(k[i], k[(i + 1) % n], c, r, &mut raw);
                }
            }
        }
        for i in 0..discs.len() {
            for j in i + 1..discs.len() {
                circle_circle(discs[i].0, discs[i].1, discs[j].0, discs[j].1, &mut raw);
            }
        }
        let mut planar = Planar { halfplanes, discs, fixed: Vec::new(), bbox: None, centre: None };
        planar.fixed = raw.into_iter().filter(|&p| planar.inside_tol(p)).collect();
        let ext = [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)].map(|n| planar.max_linear(n));
        if let [Some(xh), Some(xl), Some(yh), Some(yl)] = ext {
            planar.bbox = Some(((-xl.0, -yl.0), (xh.0, yh.0)));
            // The mean of points of the set: the candidates, the extreme points, and each
            // disc's deepest point towards every other constraint (the middle of an arc that
            // cuts a chord off a polygon or another disc). It is inside, and interior unless
            // the set is a segment or a point: a mean of chord ends alone would sit on the
            // boundary of a thin cap.
            let mut deep = Vec::new();
            for &(c, r) in &planar.discs {
                let towards = planar.halfplanes.iter().map(|h| (-h.n.0, -h.n.1));
                let towards = towards.chain(planar.discs.iter().map(|&(o, _)| (o.0 - c.0, o.1 - c.1)));
                for u in towards {
                    let len = u.0.hypot(u.1);
                    if len > 0.0 {
                        deep.push((c.0 + r * u.0 / len, c.1 + r * u.1 / len));
                    }
                }
            }
            deep.retain(|&p| planar.inside_tol(p));
            let pts: Vec<Pt> =
                planar.fixed.iter().chain(&deep).copied().chain([xh.1, xl.1, yh.1, yl.1]).collect();
            let k = pts.len() as f64;
            planar.centre =
                Some((pts.iter().map(|p| p.0).sum::<f64>() / k, pts.iter().map(|p| p.1).sum::<f64>() / k));
        }
        planar
    }

    /// Whether `p` satisfies every constraint within [`TOL_M`].
    fn inside_tol(&self, p: Pt) -> bool {
        self.halfplanes.iter().all(|h| dot(h.n, p) - h.d <= TOL_M)
            && self.discs.iter().all(|&(c, r)| dist(p, c) <= r + TOL_M)
    }

    fn best(&self, extra: impl Iterator<Item = Pt>, f: impl Fn(Pt) -> f64) -> Option<(f64, Pt)> {
        let extra: Vec<Pt> = extra.filter(|&p| self.inside_tol(p)).collect();
        self.fixed.iter().chain(&extra).map(|&p| (f(p), p)).max_by(|a, b| a.0.total_cmp(&b.0))
    }

    /// The maximum of n·p over the set and a maximiser; `None` when empty.
    pub(super) fn max_linear(&self, n: Pt) -> Option<(f64, Pt)> {
        let len = n.0.hypot(n.1);
        let support = self.discs.iter().map(move |&(c, r)| (c.0 + r * n.0 / len, c.1 + r * n.1 / len));
        self.best(support, |p| dot(n, p))
    }

    /// The maximum distance from `q` over the set and a maximiser; `None` when empty.
    pub(super) fn max_distance(&self, q: Pt) -> Option<(f64, Pt)> {
        let far = self.discs.iter().map(move |&(c, r)| {
            let d = dist(c, q);
            // From the centre every point of the circle is equally far; take any.
            if d == 0.0 { (c.0 + r, c.1) } else { (c.0 + r * (c.0 - q.0) / d, c.1 + r * (c.1 - q.1) / d) }
        });
        self.best(far, |p| dist(p, q))
    }

    /// Exact bounding box `(lo, hi)`; `None` when the set is empty.
    pub(super) fn bounding_box(&self) -> Option<(Pt, Pt)> {
        self.bbox
    }

    /// A point of the set, when it is not empty.
    pub(super) fn centre(&self) -> Option<Pt> {
        self.centre
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn two_discs_lens_bounding_box() {
        let shapes = [Shape::disc(0.0, 0.0, 1.0).unwrap(), Shape::disc(1.0, 0.0, 1.0).unwrap()];
        let p = Planar::new(&shapes);
        let ((xl, yl), (xh, yh)) = p.bounding_box().unwrap();
        let h = (1.0f64 - 0.25).sqrt();
        assert!(close(xl, 0.0) && close(xh, 1.0) && close(yl, -h) && close(yh, h), "{xl} {xh} {yl} {yh}");
    }

    #[test]
    fn disjoint_shapes_are_empty() {
        let shapes = [Shape::disc(0.0, 0.0, 1.0).unwrap(), Shape::rect(3.0, 0.0, 1.0, 1.0, 0.3).unwrap()];
        assert!(Planar::new(&shapes).bounding_box().is_none());
        let shapes =
            [Shape::rect(0.0, 0.0, 1.0, 1.0, 0.0).unwrap(), Shape::rect(2.5, 0.0, 1.0, 1.0, 0.0).unwrap()];
        assert!(Planar::new(&shapes).bounding_box().is_none());
    }

    #[test]
    fn disc_inside_box_keeps_its_support_points() {
        let shapes = [Shape::rect(0.0, 0.0, 5.0, 5.0, 0.0).unwrap(), Shape::disc(1.0, 1.0, 1.0).unwrap()];
        let p = Planar::new(&shapes);
        let (v, at) = p.max_linear((1.0, 1.0)).unwrap();
        assert!(close(v, 2.0 + 2f64.sqrt()) && close(at.0, 1.0 + 0.5f64.sqrt()));
        let (d, _) = p.max_distance((1.0, 1.0)).unwrap();
        assert!(close(d, 1.0));
    }

    #[test]
    fn box_cut_by_disc_distance_peaks_at_crossing() {
        // Unit square [0,2]² cut by the disc of radius 2 around the origin: farthest from the
        // origin are the crossings (2, 0) and (0, 2)... and the arc, all at distance 2.
        let shapes = [Shape::rect(1.0, 1.0, 1.0, 1.0, 0.0).unwrap(), Shape::disc(0.0, 0.0, 2.0).unwrap()];
        let p = Planar::new(&shapes);
        let (d, _) = p.max_distance((0.0, 0.0)).unwrap();
        assert!(close(d, 2.0));
        let (d, at) = p.max_distance((2.0, 2.0)).unwrap();
        assert!(close(d, 2.0 * 2f64.sqrt()) && close(at.0, 0.0) && close(at.1, 0.0));
    }
}
