//! Pure pursuit: the baseline controller that drives a subtask's nominal path.
//!
//! It stands in for learned policies (so routes, verification and the runtime can be exercised
//! before any training) and is the yardstick a learned policy should beat.

use sim::{PlanarState, Vec2, VelocityCmd, wrap_angle};

/// Tuning of the pure-pursuit controller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PurePursuitConfig {
    /// Distance ahead on the path the robot steers toward (m).
    pub lookahead_m: f64,
    /// Cruise speed (m/s).
    pub cruise_mps: f64,
    /// Speed when reaching the end of the path (m/s).
    pub arrive_mps: f64,
    /// Deceleration used to plan the slow-down before the end (m/s²).
    pub decel_mps2: f64,
    /// Yaw-rate limit (rad/s).
    pub max_yaw_rate_rps: f64,
    /// Beyond this heading error the robot turns on the spot instead of driving an arc (rad).
    pub turn_in_place_rad: f64,
}

impl Default for PurePursuitConfig {
    fn default() -> Self {
        Self {
            lookahead_m: 4.0,
            cruise_mps: 2.5,
            arrive_mps: 0.4,
            decel_mps2: 0.8,
            max_yaw_rate_rps: 1.5,
            turn_in_place_rad: 1.2,
        }
    }
}

/// Follows a polyline with pure pursuit, slowing down toward its end.
#[derive(Debug, Clone)]
pub struct PurePursuit {
    path: Vec<Vec2>,
    /// Path length from vertex i to the end (m).
    remaining_m: Vec<f64>,
    /// Index of the segment the robot was last closest to; never moves backwards, so a path
    /// that passes near itself is not short-cut.
    segment: usize,
    config: PurePursuitConfig,
}

impl PurePursuit {
    /// A controller for `path` (at least one point; the robot's start is prepended by the caller
    /// if it should be part of the path).
    pub fn new(path: Vec<Vec2>, config: PurePursuitConfig) -> Self {
        let mut remaining_m = vec![0.0; path.len()];
        for i in (0..path.len().saturating_sub(1)).rev() {
            remaining_m[i] = remaining_m[i + 1] + dist(path[i], path[i + 1]);
        }
        Self { path, remaining_m, segment: 0, config }
    }

    /// The command for the current state.
    pub fn command(&mut self, s: &PlanarState) -> VelocityCmd {
        let Some(&end) = self.path.last() else { return VelocityCmd::STOP };
        let pos = Vec2::new(s.x_m, s.y_m);
        let (closest, to_end) = self.advance(pos);
        let target = self.point_ahead(closest, self.config.lookahead_m).unwrap_or(end);
        let alpha = wrap_angle((target.y - pos.y).atan2(target.x - pos.x) - s.yaw_rad);
        let c = &self.config;
        if alpha.abs() > c.turn_in_place_rad {
            return VelocityCmd { linear_mps: 0.0, angular_rps: c.max_yaw_rate_rps.copysign(alpha) };
        }
        let v = c.cruise_mps.min(c.arrive_mps + (2.0 * c.decel_mps2 * to_end).sqrt());
        let lookahead = dist(pos, target).max(1e-6);
        let omega = (2.0 * v * alpha.sin() / lookahead).clamp(-c.max_yaw_rate_rps, c.max_yaw_rate_rps);
        VelocityCmd { linear_mps: v, angular_rps: omega }
    }

    /// Moves the segment index forward to the closest segment and returns the closest point on it
    /// (segment index, fraction) and the path length remaining from there.
    fn advance(&mut self, pos: Vec2) -> ((usize, f64), f64) {
        let n = self.path.len();
        if n == 1 {
            return ((0, 0.0), dist(pos, self.path[0]));
        }
        let mut best = (f64::INFINITY, self.segment, 0.0);
        // Look a few segments ahead only: the robot cannot skip further in one control period.
        for i in self.segment..(self.segment + 3).min(n - 1) {
            let (t, d) = project(pos, self.path[i], self.path[i + 1]);
            if d < best.0 {
                best = (d, i, t);
            }
        }
        let (_, i, t) = best;
        self.segment = i;
        let seg_len = dist(self.path[i], self.path[i + 1]);
        ((i, t), self.remaining_m[i + 1] + (1.0 - t) * seg_len)
    }

    /// The point `ahead_m` further along the path from `(segment, fraction)`.
    fn point_ahead(&self, (mut i, t): (usize, f64), ahead_m: f64) -> Option<Vec2> {
        let n = self.path.len();
        let mut left = ahead_m + t * dist(self.path.get(i)?, self.path.get(i + 1)?);
        while i + 1 < n {
            let (a, b) = (self.path[i], self.path[i + 1]);
            let len = dist(a, b);
            if left <= len {
                let f = if len > 0.0 { left / len } else { 0.0 };
                return Some(Vec2::new(a.x + f * (b.x - a.x), a.y + f * (b.y - a.y)));
            }
            left -= len;
            i += 1;
        }
        None
    }
}

fn dist(a: impl std::borrow::Borrow<Vec2>, b: impl std::borrow::Borrow<Vec2>) -> f64 {
    let (a, b) = (a.borrow(), b.borrow());
    (a.x - b.x).hypot(a.y - b.y)
}

/// Projection of `p` on segment `ab`: (fraction along it in [0, 1], distance).
fn project(p: Vec2, a: Vec2, b: Vec2) -> (f64, f64) {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 { (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    let q = Vec2::new(a.x + t * dx, a.y + t * dy);
    (t, dist(p, q))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f64, y: f64, yaw: f64) -> PlanarState {
        PlanarState { x_m: x, y_m: y, yaw_rad: yaw, speed_mps: 0.0 }
    }

    #[test]
    fn drives_straight_on_a_straight_path() {
        let mut pp = PurePursuit::new(vec![Vec2::new(0.0, 0.0), Vec2::new(50.0, 0.0)], Default::default());
        let c = pp.command(&at(0.0, 0.0, 0.0));
        assert!((c.linear_mps - 2.5).abs() < 1e-9);
        assert!(c.angular_rps.abs() < 1e-9);
    }

    #[test]
    fn steers_toward_the_path_and_turns_in_place_when_facing_away() {
        let mut pp = PurePursuit::new(vec![Vec2::new(0.0, 0.0), Vec2::new(50.0, 0.0)], Default::default());
        assert!(pp.command(&at(5.0, 2.0, 0.0)).angular_rps < 0.0, "right of the robot → turn clockwise");
        let c = pp.command(&at(5.0, 0.0, 3.0));
        assert_eq!(c.linear_mps, 0.0);
        assert!(c.angular_rps.abs() > 1.0);
    }

    #[test]
    fn slows_down_at_the_end() {
        let mut pp = PurePursuit::new(vec![Vec2::new(0.0, 0.0), Vec2::new(50.0, 0.0)], Default::default());
        let near = pp.command(&at(49.99, 0.0, 0.0));
        assert!(near.linear_mps < 0.6, "{near:?}");
        let mut pp = PurePursuit::new(vec![Vec2::new(0.0, 0.0), Vec2::new(50.0, 0.0)], Default::default());
        let ten_m_out = pp.command(&at(40.0, 0.0, 0.0));
        assert!(ten_m_out.linear_mps > 2.0 * near.linear_mps, "{ten_m_out:?}");
    }
}
