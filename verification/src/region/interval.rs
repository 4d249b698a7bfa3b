//! Heading (with wrap-around) and speed intervals.

use std::f64::consts::{PI, TAU};

use crate::Error;

/// Wraps an angle to (-π, π].
pub(super) fn wrap_angle(a: f64) -> f64 {
    let r = (a + PI).rem_euclid(TAU) - PI;
    if r <= -PI { r + TAU } else { r }
}

/// A closed arc of headings, swept counter-clockwise from `from` by `width` ∈ [0, 2π].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadingInterval {
    from_rad: f64,
    width_rad: f64,
}

impl HeadingInterval {
    /// The arc from `from_rad` counter-clockwise to `to_rad` (any values; wrapped
    /// internally). `new(170°, -170°)` is the 20° arc through 180°; `new(-170°, 170°)` the
    /// 340° arc through 0°; `to_rad - from_rad >= 2π` (e.g. `new(-π, π)`) is the full circle;
    /// equal ends give a single heading.
    pub fn new(from_rad: f64, to_rad: f64) -> Result<HeadingInterval, Error> {
        if !from_rad.is_finite() {
            return Err(Error::NonFinite { field: "heading.from_rad", value: from_rad });
        }
        if !to_rad.is_finite() {
            return Err(Error::NonFinite { field: "heading.to_rad", value: to_rad });
        }
        let span = to_rad - from_rad;
        let width_rad = if span >= TAU { TAU } else { span.rem_euclid(TAU) };
        Ok(HeadingInterval { from_rad: wrap_angle(from_rad), width_rad })
    }

    /// Every heading.
    pub fn full() -> HeadingInterval {
        HeadingInterval { from_rad: -PI, width_rad: TAU }
    }

    /// Start of the arc, radians in (-π, π].
    pub fn from_rad(&self) -> f64 {
        self.from_rad
    }

    /// End of the arc, radians in (-π, π].
    pub fn to_rad(&self) -> f64 {
        wrap_angle(self.from_rad + self.width_rad)
    }

    /// Angular width of the arc, radians in [0, 2π].
    pub fn width_rad(&self) -> f64 {
        self.width_rad
    }

    /// Whether this is the whole circle.
    pub fn is_full(&self) -> bool {
        self.width_rad >= TAU
    }

    /// Whether the arc holds `yaw_rad` (any value; wrapped). Exact; NaN is outside.
    pub fn contains(&self, yaw_rad: f64) -> bool {
        yaw_rad.is_finite() && (self.is_full() || (yaw_rad - self.from_rad).rem_euclid(TAU) <= self.width_rad)
    }

    /// The heading in the middle of the arc, wrapped to (-π, π].
    pub fn mid_rad(&self) -> f64 {
        wrap_angle(self.from_rad + 0.5 * self.width_rad)
    }

    /// When `self` is not inside `other` by more than `tol_rad`: a heading of `self` outside
    /// `other` (kept away from both arcs' ends) and its angular distance to `other`.
    pub(super) fn escape(&self, other: &HeadingInterval, tol_rad: f64) -> Option<(f64, f64)> {
        if other.is_full() {
            return None;
        }
        // Work in coordinates relative to `other.from`, where `other` is [0, w_o] and its
        // complement is (w_o, 2π) repeated every 2π.
        let w_o = other.width_rad;
        let (start, end) = if self.is_full() {
            (0.0, TAU)
        } else {
            let mut offset = (self.from_rad - other.from_rad).rem_euclid(TAU);
            // An arc starting a hair before `other` counts as starting at it.
            if offset >= TAU - tol_rad {
                offset -= TAU;
            }
            if offset + self.width_rad <= w_o + tol_rad {
                return None;
            }
            (offset, offset + self.width_rad)
        };
        let pieces = [(start.max(w_o), end.min(TAU)), (start.max(w_o + TAU), end.min(2.0 * TAU))];
        let (lo, hi) = pieces
            .into_iter()
            .filter(|(lo, hi)| lo <= hi)
            .max_by(|a, b| (a.1 - a.0).total_cmp(&(b.1 - b.0)))?;
        let t = 0.5 * (lo + hi);
        let r = t.rem_euclid(TAU);
        Some((wrap_angle(other.from_rad + t), (r - w_o).min(TAU - r)))
    }
}

/// A closed speed interval [lo, hi], metres per second (negative = reversing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeedInterval {
    lo_mps: f64,
    hi_mps: f64,
}

impl SpeedInterval {
    /// [`lo_mps`, `hi_mps`]; both finite and `lo_mps <= hi_mps` (NaN fails).
    pub fn new(lo_mps: f64, hi_mps: f64) -> Result<SpeedInterval, Error> {
        if !lo_mps.is_finite() {
            return Err(Error::NonFinite { field: "speed_mps.lo", value: lo_mps });
        }
        if !hi_mps.is_finite() {
            return Err(Error::NonFinite { field: "speed_mps.hi", value: hi_mps });
        }
        if lo_mps > hi_mps {
            return Err(Error::EmptyInterval { field: "speed_mps", lo: lo_mps, hi: hi_mps });
        }
        Ok(SpeedInterval { lo_mps, hi_mps })
    }

    /// Lower bound, m/s.
    pub fn lo_mps(&self) -> f64 {
        self.lo_mps
    }

    /// Upper bound, m/s.
    pub fn hi_mps(&self) -> f64 {
        self.hi_mps
    }

    /// Whether `speed_mps` lies in [lo, hi]; NaN is outside.
    pub fn contains(&self, speed_mps: f64) -> bool {
        self.lo_mps <= speed_mps && speed_mps <= self.hi_mps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deg(d: f64) -> f64 {
        d.to_radians()
    }

    #[test]
    fn heading_wraps_through_180() {
        let h = HeadingInterval::new(deg(170.0), deg(-170.0)).unwrap();
        assert!((h.width_rad() - deg(20.0)).abs() < 1e-12);
        assert!(h.contains(deg(180.0)) && h.contains(deg(-175.0)) && h.contains(deg(175.0)));
        assert!(h.contains(deg(180.0 + 360.0 * 3.0)));
        assert!(!h.contains(0.0) && !h.contains(deg(160.0)) && !h.contains(deg(-160.0)));
        assert!(!h.contains(f64::NAN));
        let g = HeadingInterval::new(deg(-170.0), deg(170.0)).unwrap();
        assert!(g.contains(0.0) && !g.contains(PI));
    }

    #[test]
    fn full_and_single_headings() {
        let full = HeadingInterval::new(-PI, PI).unwrap();
        assert!(full.is_full() && full.contains(3.0) && full.contains(-100.0));
        assert!(!full.contains(f64::INFINITY));
        let one = HeadingInterval::new(0.5, 0.5).unwrap();
        assert_eq!(one.width_rad(), 0.0);
        assert!(one.contains(0.5) && !one.contains(0.5 + 1e-9));
        assert!(HeadingInterval::new(f64::NAN, 0.0).is_err());
    }

    #[test]
    fn heading_escape_finds_a_heading_outside() {
        let narrow = HeadingInterval::new(deg(170.0), deg(-170.0)).unwrap();
        let wide = HeadingInterval::new(deg(160.0), deg(-160.0)).unwrap();
        assert!(narrow.escape(&wide, 1e-9).is_none());
        let (yaw, dist) = wide.escape(&narrow, 1e-9).unwrap();
        assert!(wide.contains(yaw) && !narrow.contains(yaw) && dist > 0.0);
        let (yaw, _) = HeadingInterval::full().escape(&narrow, 1e-9).unwrap();
        assert!(!narrow.contains(yaw));
        // Same start, self wider, crossing the start of `other` the long way round.
        let a = HeadingInterval::new(deg(0.0), deg(350.0)).unwrap();
        let b = HeadingInterval::new(deg(10.0), deg(5.0)).unwrap();
        let (yaw, _) = a.escape(&b, 1e-9).unwrap();
        assert!(a.contains(yaw) && !b.contains(yaw));
        assert!(b.escape(&HeadingInterval::full(), 1e-9).is_none());
    }

    #[test]
    fn speed_interval_validates() {
        assert!(SpeedInterval::new(1.0, 0.0).is_err());
        assert!(SpeedInterval::new(f64::NAN, 1.0).is_err());
        let s = SpeedInterval::new(-1.0, 2.0).unwrap();
        assert!(s.contains(-1.0) && s.contains(2.0) && !s.contains(2.1) && !s.contains(f64::NAN));
    }
}
