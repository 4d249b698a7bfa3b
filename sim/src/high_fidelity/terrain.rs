//! Analytic ground height and friction of a `World`.
//!
//! Flat (z = 0) firm ground everywhere except around terrain patches. Inside a patch the ground
//! is a plane rising with `grade` away from `downhill_yaw_rad`, with its lowest point on the
//! patch border at z = 0, so the downhill edge meets the yard without a step: a bank. Outside the
//! raised edges a skirt falls back to the yard no steeper than the bank itself (no cliffs).
//! Bumps of standard deviation `roughness_m` (value noise seeded by `World::terrain_seed`, so
//! they belong to the world, not to an episode) fade in over the first metre inside the patch.
//!
//! Analytic rather than a rapier heightfield: the wheels query the ground four times per
//! substep, and an analytic query is far cheaper than a ray cast against a 200 m × 150 m
//! heightfield of fine enough resolution for 1 m bumps.

use crate::{Shape, TerrainPatch, Vec2, World};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Spacing of the bump lattice (m): about one wheelbase, so bumps pitch and roll the chassis.
const BUMP_SPACING_M: f64 = 1.0;
/// Depth inside a patch over which its bumps fade in (m), so the border has no step.
const BUMP_FADE_M: f64 = 1.0;
/// Shortest skirt (m), so even a low raised edge falls off gently.
const SKIRT_MIN_M: f64 = 0.5;
/// Standard deviation of value noise built from unit-variance lattice values with smoothstep
/// weights, averaged over the cell: sqrt(0.7429²). Dividing by it gives unit variance.
const VALUE_NOISE_STD: f64 = 0.742_857;
/// Step of the central differences that give the ground slope (m).
const SLOPE_EPS_M: f64 = 0.02;

/// The ground of one world.
#[derive(Debug, Clone)]
pub(super) struct Terrain {
    patches: Vec<Patch>,
    ground_friction: f64,
}

/// One terrain patch, with what its height queries need precomputed.
#[derive(Debug, Clone)]
struct Patch {
    shape: Shape,
    /// Bounding box of the patch (m).
    lo: Vec2,
    hi: Vec2,
    /// Bounding box of patch plus skirt (m).
    outer_lo: Vec2,
    outer_hi: Vec2,
    grade: f64,
    /// Unit vector pointing uphill.
    up: Vec2,
    /// Minimum of `p · up` over the patch: where the bank meets the yard.
    up_min: f64,
    roughness_m: f64,
    friction: f64,
    /// Bump lattice over the bounding box: `nx × ny` standard normal values, row-major in y.
    bumps: Vec<f64>,
    nx: usize,
    ny: usize,
}

/// Ground height and slope at a point.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ground {
    /// Height (m).
    pub height_m: f64,
    /// ∂h/∂x and ∂h/∂y (rise over run).
    pub slope: [f64; 2],
}

impl Terrain {
    /// Build the ground of `world`; bumps come from `world.terrain_seed`.
    pub(super) fn new(world: &World) -> Self {
        let patches = world
            .terrain
            .iter()
            .enumerate()
            .map(|(i, p)| Patch::new(p, world.terrain_seed, i as u64))
            .collect();
        Self { patches, ground_friction: world.ground_friction }
    }

    /// Ground height at (x, y) (m).
    pub(super) fn height_m(&self, x: f64, y: f64) -> f64 {
        let p = Vec2::new(x, y);
        // The later patch wins where patches overlap; outside all patches the highest skirt.
        let mut skirt = 0.0_f64;
        for patch in self.patches.iter().rev() {
            if !in_box(p, patch.outer_lo, patch.outer_hi) {
                continue;
            }
            let (dist, closest) = signed_distance(&patch.shape, p);
            if dist <= 0.0 {
                return patch.inside_height_m(p, -dist);
            }
            skirt = skirt.max(patch.skirt_height_m(dist, closest));
        }
        skirt
    }

    /// Height and slope at (x, y).
    pub(super) fn ground(&self, x: f64, y: f64) -> Ground {
        let h = self.height_m(x, y);
        let dx = self.height_m(x + SLOPE_EPS_M, y) - self.height_m(x - SLOPE_EPS_M, y);
        let dy = self.height_m(x, y + SLOPE_EPS_M) - self.height_m(x, y - SLOPE_EPS_M);
        Ground { height_m: h, slope: [dx / (2.0 * SLOPE_EPS_M), dy / (2.0 * SLOPE_EPS_M)] }
    }

    /// Tyre–ground friction coefficient at (x, y), before randomisation.
    pub(super) fn friction(&self, x: f64, y: f64) -> f64 {
        let p = Vec2::new(x, y);
        for patch in self.patches.iter().rev() {
            if in_box(p, patch.lo, patch.hi) && signed_distance(&patch.shape, p).0 <= 0.0 {
                return patch.friction;
            }
        }
        self.ground_friction
    }
}

impl Patch {
    fn new(patch: &TerrainPatch, terrain_seed: u64, index: u64) -> Self {
        let verts = outline(&patch.shape);
        let (mut lo, mut hi) =
            (Vec2::new(f64::INFINITY, f64::INFINITY), Vec2::new(f64::NEG_INFINITY, f64::NEG_INFINITY));
        for v in &verts {
            lo = Vec2::new(lo.x.min(v.x), lo.y.min(v.y));
            hi = Vec2::new(hi.x.max(v.x), hi.y.max(v.y));
        }
        let up = Vec2::new(-patch.downhill_yaw_rad.cos(), -patch.downhill_yaw_rad.sin());
        let dot = |v: &Vec2| v.x * up.x + v.y * up.y;
        let up_min = verts.iter().map(dot).fold(f64::INFINITY, f64::min);
        let up_max = verts.iter().map(dot).fold(f64::NEG_INFINITY, f64::max);
        let grade = patch.grade.max(0.0);
        // The skirt behind the highest edge is the widest.
        let skirt = skirt_width_m(grade * (up_max - up_min), grade);
        let outer_lo = Vec2::new(lo.x - skirt, lo.y - skirt);
        let outer_hi = Vec2::new(hi.x + skirt, hi.y + skirt);
        // One spare lattice node on each side so interpolation never runs off the lattice.
        let nx = ((hi.x - lo.x) / BUMP_SPACING_M).ceil() as usize + 2;
        let ny = ((hi.y - lo.y) / BUMP_SPACING_M).ceil() as usize + 2;
        let bumps = if patch.roughness_m > 0.0 {
            // Child seed per patch: the world's seed mixed with the patch index.
            let mut rng = ChaCha8Rng::seed_from_u64(terrain_seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            (0..nx * ny).map(|_| StandardNormal.sample(&mut rng)).collect()
        } else {
            Vec::new()
        };
        Self {
            shape: patch.shape.clone(),
            lo,
            hi,
            outer_lo,
            outer_hi,
            grade,
            up,
            up_min,
            roughness_m: patch.roughness_m.max(0.0),
            friction: patch.friction,
            bumps,
            nx,
            ny,
        }
    }

    /// Height of the bank plane at `p` (m, ≥ 0 inside the patch).
    fn plane_m(&self, p: Vec2) -> f64 {
        self.grade * (p.x * self.up.x + p.y * self.up.y - self.up_min)
    }

    fn inside_height_m(&self, p: Vec2, depth_m: f64) -> f64 {
        let mut h = self.plane_m(p);
        if !self.bumps.is_empty() {
            h += self.roughness_m * smoothstep(depth_m / BUMP_FADE_M) * self.noise(p);
        }
        h
    }

    /// Skirt outside the patch: the border height falls off smoothly over a width that keeps
    /// the skirt's steepest slope at the bank's grade.
    fn skirt_height_m(&self, dist_m: f64, closest: Vec2) -> f64 {
        let edge = self.plane_m(closest).max(0.0);
        if edge <= 0.0 {
            return 0.0;
        }
        let width = skirt_width_m(edge, self.grade);
        edge * (1.0 - smoothstep(dist_m / width))
    }

    /// Unit-variance value noise at `p`.
    fn noise(&self, p: Vec2) -> f64 {
        let u = ((p.x - self.lo.x) / BUMP_SPACING_M).clamp(0.0, (self.nx - 2) as f64);
        let v = ((p.y - self.lo.y) / BUMP_SPACING_M).clamp(0.0, (self.ny - 2) as f64);
        let (i, j) = (u.floor() as usize, v.floor() as usize);
        let (i, j) = (i.min(self.nx - 2), j.min(self.ny - 2));
        let (su, sv) = (smoothstep(u - i as f64), smoothstep(v - j as f64));
        let at = |a: usize, b: usize| self.bumps[b * self.nx + a];
        let bottom = at(i, j) * (1.0 - su) + at(i + 1, j) * su;
        let top = at(i, j + 1) * (1.0 - su) + at(i + 1, j + 1) * su;
        (bottom * (1.0 - sv) + top * sv) / VALUE_NOISE_STD
    }
}

/// Skirt width (m) for a raised edge of height `edge_m`: a smoothstep's steepest slope is 1.5
/// times its mean, so 1.5 × rise / grade keeps the skirt no steeper than the bank.
fn skirt_width_m(edge_m: f64, grade: f64) -> f64 {
    if grade <= 0.0 { SKIRT_MIN_M } else { SKIRT_MIN_M + 1.5 * edge_m / grade }
}

fn smoothstep(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

fn in_box(p: Vec2, lo: Vec2, hi: Vec2) -> bool {
    p.x >= lo.x && p.x <= hi.x && p.y >= lo.y && p.y <= hi.y
}

/// Corner points of a shape (a disc by 32 points), for bounding boxes and the bank's low point.
fn outline(shape: &Shape) -> Vec<Vec2> {
    match shape {
        Shape::Disc { center, radius_m } => (0..32)
            .map(|k| {
                let a = std::f64::consts::TAU * k as f64 / 32.0;
                Vec2::new(center.x + radius_m * a.cos(), center.y + radius_m * a.sin())
            })
            .collect(),
        Shape::Box { center, half_extents_m, yaw_rad } => {
            let (s, c) = yaw_rad.sin_cos();
            [(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)]
                .iter()
                .map(|(a, b)| {
                    let (lx, ly) = (a * half_extents_m.x, b * half_extents_m.y);
                    Vec2::new(center.x + c * lx - s * ly, center.y + s * lx + c * ly)
                })
                .collect()
        }
        Shape::Polygon { vertices } => vertices.clone(),
    }
}

/// Signed distance from `p` to the shape's border (m, negative inside) and, outside, the
/// closest border point (inside, `p` itself).
fn signed_distance(shape: &Shape, p: Vec2) -> (f64, Vec2) {
    match shape {
        Shape::Disc { center, radius_m } => {
            let (dx, dy) = (p.x - center.x, p.y - center.y);
            let r = dx.hypot(dy);
            let d = r - radius_m;
            if d <= 0.0 || r == 0.0 {
                (d, p)
            } else {
                (d, Vec2::new(center.x + dx * radius_m / r, center.y + dy * radius_m / r))
            }
        }
        Shape::Box { center, half_extents_m: h, yaw_rad } => {
            let (s, c) = yaw_rad.sin_cos();
            let (dx, dy) = (p.x - center.x, p.y - center.y);
            let (lx, ly) = (c * dx + s * dy, -s * dx + c * dy);
            let (qx, qy) = (lx.clamp(-h.x, h.x), ly.clamp(-h.y, h.y));
            if qx == lx && qy == ly {
                (-(h.x - lx.abs()).min(h.y - ly.abs()), p)
            } else {
                let d = (lx - qx).hypot(ly - qy);
                (d, Vec2::new(center.x + c * qx - s * qy, center.y + s * qx + c * qy))
            }
        }
        Shape::Polygon { vertices } => {
            let n = vertices.len();
            let mut inside = true;
            let mut best = (f64::INFINITY, p);
            for k in 0..n {
                let (a, b) = (vertices[k], vertices[(k + 1) % n]);
                let (ex, ey) = (b.x - a.x, b.y - a.y);
                let (px, py) = (p.x - a.x, p.y - a.y);
                if ex * py - ey * px < 0.0 {
                    inside = false;
                }
                let len2 = ex * ex + ey * ey;
                let t = if len2 > 0.0 { ((px * ex + py * ey) / len2).clamp(0.0, 1.0) } else { 0.0 };
                let q = Vec2::new(a.x + t * ex, a.y + t * ey);
                let d = (p.x - q.x).hypot(p.y - q.y);
                if d < best.0 {
                    best = (d, q);
                }
            }
            if inside { (-best.0, p) } else { best }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank(grade: f64, roughness_m: f64) -> World {
        let mut w = World::open(Vec2::new(-50.0, -50.0), Vec2::new(50.0, 50.0));
        w.terrain.push(TerrainPatch {
            shape: Shape::Box {
                center: Vec2::new(0.0, 0.0),
                half_extents_m: Vec2::new(10.0, 5.0),
                yaw_rad: 0.0,
            },
            grade,
            // Falls toward -y (south).
            downhill_yaw_rad: -std::f64::consts::FRAC_PI_2,
            roughness_m,
            friction: 0.3,
        });
        w
    }

    #[test]
    fn bank_rises_uphill_from_the_yard() {
        let t = Terrain::new(&bank(0.3, 0.0));
        assert!(t.height_m(0.0, -5.0).abs() < 1e-9, "low edge meets the yard");
        assert!((t.height_m(0.0, 5.0) - 3.0).abs() < 1e-9, "high edge 10 m uphill at grade 0.3");
        let g = t.ground(0.0, 0.0);
        assert!((g.slope[1] - 0.3).abs() < 1e-6 && g.slope[0].abs() < 1e-6);
        assert_eq!(t.height_m(30.0, 30.0), 0.0, "flat far away");
        assert_eq!(t.friction(0.0, 0.0), 0.3);
        assert_eq!(t.friction(20.0, 0.0), 0.8);
    }

    #[test]
    fn no_cliffs_anywhere() {
        let t = Terrain::new(&bank(0.3, 0.05));
        // Walk a fine grid over patch and skirt: no step between neighbours steeper than the
        // bank plus what the bumps add.
        let step = 0.05;
        let mut worst = 0.0_f64;
        for i in 0..800 {
            let x = -20.0 + i as f64 * step;
            for j in 0..800 {
                let y = -20.0 + j as f64 * step;
                let (h, hx, hy) = (t.height_m(x, y), t.height_m(x + step, y), t.height_m(x, y + step));
                worst = worst.max((hx - h).abs().max((hy - h).abs()) / step);
            }
        }
        assert!(worst < 0.8, "steepest slope {worst}");
    }

    #[test]
    fn bumps_have_the_configured_roughness() {
        let t = Terrain::new(&bank(0.0, 0.05));
        let mut hs = Vec::new();
        for i in 0..160 {
            for j in 0..60 {
                hs.push(t.height_m(-8.0 + 0.1 * i as f64, -3.0 + 0.1 * j as f64));
            }
        }
        let mean = hs.iter().sum::<f64>() / hs.len() as f64;
        let std = (hs.iter().map(|h| (h - mean).powi(2)).sum::<f64>() / hs.len() as f64).sqrt();
        // Few lattice cells, so the sample std scatters around 0.05.
        assert!(std > 0.03 && std < 0.07, "std {std}");
        let again = Terrain::new(&bank(0.0, 0.05));
        assert_eq!(again.height_m(1.3, 0.7), t.height_m(1.3, 0.7), "bumps are part of the world");
    }
}
