//! The one definition of a range ray: how a policy's ranges are formed from a planar laser
//! scan. Both simulators, the software-in-the-loop bridge and the robot's policy executor call
//! [`RayConfig::ranges_from_scan`], so a policy sees on the robot what it was trained and
//! certified on.
//!
//! The rays tile the lidar's field of view, centred ahead: ray `i` owns the sector
//! `[-fov/2 + i·w, -fov/2 + (i+1)·w)` with `w = fov / count`, and its range is the **nearest
//! return within its sector**, capped at `max_range_m`. A minimum over a sector is what any
//! dense lidar provides whatever its resolution, count or direction of sweep, it never hides
//! an obstacle between two rays, and a single beam lost on a dark surface does not blind a
//! ray. The simulators sample every sector with `beams_per_ray` evenly spaced beams and reduce
//! them with the same function.
//!
//! Beam readings follow REP 117: `+inf` is "nothing within the scan's `range_max`", `-inf`
//! "something closer than `range_min`" (read as `range_min`), NaN and finite values outside
//! `[range_min, range_max]` carry no information. A sector that no beam falls into, or whose
//! beams all carry no information, is refused ([`ScanError`]): reading it as "nothing seen"
//! would let the robot drive into a blind spot, so no ranges means no motion.

use std::f64::consts::TAU;

use crate::wrap_angle;

/// The policy's range rays: `count` sectors tiling `fov_rad` centred ahead.
#[derive(Debug, Clone, PartialEq)]
pub struct RayConfig {
    /// Number of rays (sectors).
    pub count: usize,
    /// Field of view the sectors tile (rad): the lidar's coverage, at most 2π.
    pub fov_rad: f64,
    /// Ranges are capped here (m); a sector with nothing in range reads this.
    pub max_range_m: f64,
    /// Beams per sector in the simulated scan (what the simulators cast).
    pub beams_per_ray: usize,
}

impl Default for RayConfig {
    /// Nine 30° sectors over 270° ahead (a typical 2D lidar's coverage), 20 m, 6 beams each.
    fn default() -> Self {
        Self { count: 9, fov_rad: 270f64.to_radians(), max_range_m: 20.0, beams_per_ray: 6 }
    }
}

/// A planar laser scan as `sensor_msgs/LaserScan` carries it: beam `j` at
/// `angle_min_rad + j · angle_increment_rad` in the sensor frame (counter-clockwise from
/// forward; the increment may be negative).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LaserScan {
    /// Angle of the first beam (rad).
    pub angle_min_rad: f64,
    /// Angle between consecutive beams (rad).
    pub angle_increment_rad: f64,
    /// Readings below this are invalid (m).
    pub range_min_m: f64,
    /// Readings above this are invalid; `+inf` means nothing within it (m).
    pub range_max_m: f64,
    /// Readings (m).
    pub ranges_m: Vec<f64>,
}

/// Where the lidar sits on the robot: its pose in the frame the rays are defined in (the
/// robot's centre, heading forward).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LidarMount {
    /// Forward offset (m).
    pub x_m: f64,
    /// Leftward offset (m).
    pub y_m: f64,
    /// Yaw of the sensor's forward direction, counter-clockwise (rad).
    pub yaw_rad: f64,
}

/// Why a scan gives no ranges.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScanError {
    /// A header field is unusable.
    #[error("scan field `{field}` is {value} ({allowed})")]
    Malformed {
        /// The field.
        field: &'static str,
        /// Its value.
        value: f64,
        /// What is allowed.
        allowed: &'static str,
    },
    /// No beam falls into a ray's sector.
    #[error("no beam of the {beams}-beam scan covers ray {ray}'s sector ({from_deg:.1}° to {to_deg:.1}°)")]
    Uncovered {
        /// The ray.
        ray: usize,
        /// Sector start (degrees, counter-clockwise from forward).
        from_deg: f64,
        /// Sector end (degrees).
        to_deg: f64,
        /// Beams in the scan.
        beams: usize,
    },
    /// Every beam in a ray's sector is NaN or out of the scan's range.
    #[error(
        "every beam in ray {ray}'s sector ({from_deg:.1}° to {to_deg:.1}°) is NaN or outside [range_min, range_max]"
    )]
    NoReturn {
        /// The ray.
        ray: usize,
        /// Sector start (degrees).
        from_deg: f64,
        /// Sector end (degrees).
        to_deg: f64,
    },
}

/// Marks a sector no beam fell into (ranges are never negative).
const UNCOVERED: f64 = -2.0;
/// Marks a sector whose beams carried no information.
const NO_RETURN: f64 = -1.0;
/// Angles this close to a sector edge count as on it.
const EDGE_RAD: f64 = 1e-9;

impl RayConfig {
    /// Width of one sector (rad).
    pub fn sector_rad(&self) -> f64 {
        self.fov_rad / self.count as f64
    }

    /// Body-frame angle of ray `i`'s centre (rad, counter-clockwise from forward).
    pub fn angle_rad(&self, i: usize) -> f64 {
        -0.5 * self.fov_rad + (i as f64 + 0.5) * self.sector_rad()
    }

    /// The beams the simulators cast: `beams_per_ray` per sector at the centres of equal
    /// slices, so every sector gets the same number and none sits on an edge. Ranges are left
    /// at `max_range_m` for the simulator to fill.
    pub fn simulated_scan(&self) -> LaserScan {
        let n = self.count * self.beams_per_ray;
        let step = self.fov_rad / n as f64;
        LaserScan {
            angle_min_rad: -0.5 * self.fov_rad + 0.5 * step,
            angle_increment_rad: step,
            range_min_m: 0.0,
            range_max_m: self.max_range_m,
            ranges_m: vec![self.max_range_m; n],
        }
    }

    /// The sector a body-frame direction falls into, if any.
    fn sector_of(&self, angle_rad: f64) -> Option<usize> {
        let mut rel = (angle_rad + 0.5 * self.fov_rad).rem_euclid(TAU);
        if rel > TAU - EDGE_RAD {
            rel = 0.0;
        }
        if rel > self.fov_rad + EDGE_RAD {
            return None;
        }
        // A beam on an edge (to rounding) belongs to the sector above it, whichever way the
        // scan's angles were accumulated.
        let q = rel / self.sector_rad();
        let k = if (q - q.round()).abs() < 1e-7 { q.round() } else { q.floor() };
        Some((k as usize).min(self.count - 1))
    }

    /// The rays' ranges from `scan` taken by a lidar at `mount` (module documentation), into
    /// `out` (resized to `count`). A [`ScanReducer`] gives the same result and keeps the work
    /// that depends only on the scan's geometry between scans.
    pub fn ranges_from_scan(
        &self,
        scan: &LaserScan,
        mount: &LidarMount,
        out: &mut Vec<f64>,
    ) -> Result<(), ScanError> {
        ScanReducer::new(self.clone()).ranges(scan, mount, out)
    }

    /// Checks the scan's header and writes the sector each beam's direction falls into
    /// ([`OUTSIDE`] when none) into `sectors`.
    fn beam_sectors(
        &self,
        scan: &LaserScan,
        mount: &LidarMount,
        sectors: &mut Vec<u32>,
    ) -> Result<(), ScanError> {
        let malformed = |field, value, allowed| Err(ScanError::Malformed { field, value, allowed });
        let n = scan.ranges_m.len();
        if n == 0 {
            return malformed("ranges", 0.0, "at least one beam");
        }
        if !scan.angle_min_rad.is_finite() {
            return malformed("angle_min", scan.angle_min_rad, "finite");
        }
        let inc = scan.angle_increment_rad;
        if !inc.is_finite() || (n > 1 && (inc == 0.0 || inc.abs() * (n - 1) as f64 > TAU + 1e-6)) {
            return malformed("angle_increment", inc, "finite, non-zero, beams spanning at most 360°");
        }
        if !(scan.range_max_m.is_finite() && scan.range_max_m > 0.0) {
            return malformed("range_max", scan.range_max_m, "finite and > 0");
        }
        if !(scan.range_min_m.is_finite() && (0.0..scan.range_max_m).contains(&scan.range_min_m)) {
            return malformed("range_min", scan.range_min_m, "finite, ≥ 0 and < range_max");
        }
        if !(mount.x_m.is_finite() && mount.y_m.is_finite() && mount.yaw_rad.is_finite()) {
            return malformed("lidar_mount", f64::NAN, "finite");
        }
        sectors.clear();
        sectors.extend((0..n).map(|j| {
            let beam = scan.angle_min_rad + j as f64 * inc + mount.yaw_rad;
            self.sector_of(wrap_angle(beam)).map_or(OUTSIDE, |i| i as u32)
        }));
        Ok(())
    }
}

/// No sector: the beam looks outside the field of view.
const OUTSIDE: u32 = u32::MAX;

/// [`RayConfig::ranges_from_scan`] for a stream of scans: the header check and the sector of
/// every beam are kept while the scan's geometry (angles, count, range limits, mount) stays the
/// same, as a lidar's and a simulator's does, so each scan costs only its minima.
#[derive(Debug, Clone)]
pub struct ScanReducer {
    rays: RayConfig,
    /// The geometry `sectors` was computed for (bit patterns), if any.
    geometry: Option<[u64; 8]>,
    sectors: Vec<u32>,
}

impl ScanReducer {
    /// A reducer for `rays`.
    pub fn new(rays: RayConfig) -> ScanReducer {
        ScanReducer { rays, geometry: None, sectors: Vec::new() }
    }

    /// The rays it forms.
    pub fn rays(&self) -> &RayConfig {
        &self.rays
    }

    /// The rays' ranges from `scan` taken by a lidar at `mount` (module documentation), into
    /// `out` (resized to `count`).
    pub fn ranges(
        &mut self,
        scan: &LaserScan,
        mount: &LidarMount,
        out: &mut Vec<f64>,
    ) -> Result<(), ScanError> {
        let geometry = [
            scan.angle_min_rad.to_bits(),
            scan.angle_increment_rad.to_bits(),
            scan.ranges_m.len() as u64,
            scan.range_min_m.to_bits(),
            scan.range_max_m.to_bits(),
            mount.x_m.to_bits(),
            mount.y_m.to_bits(),
            mount.yaw_rad.to_bits(),
        ];
        if self.geometry != Some(geometry) {
            self.geometry = None;
            self.rays.beam_sectors(scan, mount, &mut self.sectors)?;
            self.geometry = Some(geometry);
        }
        let rays = &self.rays;
        out.clear();
        out.resize(rays.count, UNCOVERED);
        let offset = mount.x_m != 0.0 || mount.y_m != 0.0;
        let clear_m = scan.range_max_m.min(rays.max_range_m);
        for (j, (&r, &sector)) in scan.ranges_m.iter().zip(&self.sectors).enumerate() {
            let reading = if r == f64::INFINITY {
                Some(clear_m)
            } else if r == f64::NEG_INFINITY {
                Some(scan.range_min_m)
            } else if r >= scan.range_min_m && r <= scan.range_max_m {
                Some(r)
            } else {
                None
            };
            // A return seen from an offset lidar is a point: re-measure it from the centre.
            let (sector, range) = match reading {
                Some(d) if offset && r != f64::INFINITY => {
                    let beam = scan.angle_min_rad + j as f64 * scan.angle_increment_rad + mount.yaw_rad;
                    let (s, c) = beam.sin_cos();
                    let (x, y) = (mount.x_m + d * c, mount.y_m + d * s);
                    (rays.sector_of(y.atan2(x)).map_or(OUTSIDE, |i| i as u32), Some(x.hypot(y)))
                }
                other => (sector, other),
            };
            let Some(slot) = out.get_mut(sector as usize) else { continue };
            match range {
                Some(d) => {
                    let d = d.min(rays.max_range_m);
                    *slot = if *slot < 0.0 { d } else { slot.min(d) };
                }
                None if *slot == UNCOVERED => *slot = NO_RETURN,
                None => {}
            }
        }
        for (i, &v) in out.iter().enumerate() {
            if v >= 0.0 {
                continue;
            }
            let half = 0.5 * rays.sector_rad();
            let (from_deg, to_deg) =
                ((rays.angle_rad(i) - half).to_degrees(), (rays.angle_rad(i) + half).to_degrees());
            return Err(if v == UNCOVERED {
                ScanError::Uncovered { ray: i, from_deg, to_deg, beams: scan.ranges_m.len() }
            } else {
                ScanError::NoReturn { ray: i, from_deg, to_deg }
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn rays() -> RayConfig {
        RayConfig::default()
    }

    /// A lidar of `n` beams spread over `fov_deg` (edge to edge, or without repeating the rear
    /// beam for 360°), every beam reading `f(angle)`.
    fn lidar(n: usize, fov_deg: f64, f: impl Fn(f64) -> f64) -> LaserScan {
        let fov = fov_deg.to_radians();
        let (min, inc) =
            if fov_deg >= 360.0 { (-PI, TAU / n as f64) } else { (-0.5 * fov, fov / (n - 1) as f64) };
        LaserScan {
            angle_min_rad: min,
            angle_increment_rad: inc,
            range_min_m: 0.1,
            range_max_m: 30.0,
            ranges_m: (0..n).map(|j| f(min + j as f64 * inc)).collect(),
        }
    }

    fn ranges(r: &RayConfig, scan: &LaserScan, mount: LidarMount) -> Result<Vec<f64>, ScanError> {
        let mut out = Vec::new();
        r.ranges_from_scan(scan, &mount, &mut out).map(|()| out)
    }

    /// A wall ahead at x = 4 m: a beam at angle a reads 4 / cos a when it points forward.
    fn wall(a: f64) -> f64 {
        if a.cos() > 1e-6 { 4.0 / a.cos() } else { f64::INFINITY }
    }

    #[test]
    fn sectors_tile_the_field_of_view_centred_ahead() {
        let r = rays();
        assert!((r.angle_rad(4)).abs() < 1e-12, "the middle ray looks ahead");
        assert!((r.angle_rad(0) + 120f64.to_radians()).abs() < 1e-12);
        assert!((r.angle_rad(8) - 120f64.to_radians()).abs() < 1e-12);
        assert_eq!(r.sector_of(-135f64.to_radians()), Some(0));
        assert_eq!(r.sector_of(135f64.to_radians()), Some(8));
        assert_eq!(r.sector_of(170f64.to_radians()), None, "behind the lidar");
        let full = RayConfig { count: 4, fov_rad: TAU, ..rays() };
        assert_eq!(full.sector_of(PI), Some(0));
        assert_eq!(full.sector_of(-PI + 1e-12), Some(0));
    }

    #[test]
    fn the_simulated_scan_reduces_to_its_own_sector_minima() {
        let r = rays();
        let mut scan = r.simulated_scan();
        assert_eq!(scan.ranges_m.len(), 54);
        for (j, v) in scan.ranges_m.iter_mut().enumerate() {
            *v = 0.25 * (1 + j) as f64;
        }
        let got = ranges(&r, &scan, LidarMount::default()).unwrap();
        let want: Vec<f64> = (0..9).map(|i| 0.25 * (1 + 6 * i) as f64).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn dense_lidars_of_any_resolution_agree_on_a_wall() {
        let r = rays();
        // The nearest point of the wall in each sector: straight ahead for the middle ray, the
        // sector edge nearest the front otherwise; sectors looking away see nothing.
        let expect = |i: usize| {
            let edge = (r.angle_rad(i).abs() - 0.5 * r.sector_rad()).max(0.0);
            if edge < 88f64.to_radians() { 4.0 / edge.cos() } else { 20.0 }
        };
        for (n, fov) in [(360, 360.0), (541, 270.0), (1081, 270.0), (2000, 360.0)] {
            let got = ranges(&r, &lidar(n, fov, wall), LidarMount::default()).unwrap();
            for (i, g) in got.iter().enumerate() {
                let e = expect(i).min(20.0);
                assert!((g - e).abs() <= 0.08 * e, "{n} beams, ray {i}: {g} vs {e}");
            }
            assert!((got[4] - 4.0).abs() < 1e-9, "{n} beams: straight ahead");
        }
    }

    #[test]
    fn a_reversed_scan_reads_the_same() {
        let r = rays();
        let scan = lidar(1081, 270.0, wall);
        let mut rev = scan.clone();
        rev.ranges_m.reverse();
        rev.angle_min_rad = scan.angle_min_rad + scan.angle_increment_rad * 1080.0;
        rev.angle_increment_rad = -scan.angle_increment_rad;
        assert_eq!(ranges(&r, &scan, LidarMount::default()), ranges(&r, &rev, LidarMount::default()));
    }

    #[test]
    fn infinities_nan_and_out_of_range_beams_follow_rep_117() {
        let r = RayConfig { count: 3, fov_rad: 90f64.to_radians(), ..rays() };
        let mut scan = lidar(91, 90.0, |_| f64::INFINITY);
        // Sector 0: one NaN, one reading below range_min, one real return.
        scan.ranges_m[0] = f64::NAN;
        scan.ranges_m[1] = 0.05;
        scan.ranges_m[2] = 7.0;
        // Sector 1: something closer than range_min.
        scan.ranges_m[45] = f64::NEG_INFINITY;
        // Sector 2: beyond range_max is no information, inf is open space up to 20 m.
        scan.ranges_m[80] = 31.0;
        let got = ranges(&r, &scan, LidarMount::default()).unwrap();
        assert_eq!(got, vec![7.0, 0.1, 20.0]);
        // A lidar that reaches only 10 m cannot claim open space beyond it.
        scan.range_max_m = 10.0;
        assert_eq!(ranges(&r, &scan, LidarMount::default()).unwrap()[2], 10.0);
    }

    #[test]
    fn blind_or_uncovered_sectors_are_refused() {
        let r = rays();
        // Eight beams all round leave 30° sectors without a beam.
        let sparse = lidar(8, 360.0, |_| 20.0);
        let e = ranges(&r, &sparse, LidarMount::default()).unwrap_err();
        assert!(matches!(e, ScanError::Uncovered { .. }), "{e}");
        // A lidar covering only 180° ahead leaves the outer sectors uncovered.
        let narrow = lidar(181, 180.0, |_| 20.0);
        assert!(matches!(
            ranges(&r, &narrow, LidarMount::default()),
            Err(ScanError::Uncovered { ray: 0, .. })
        ));
        // Every beam NaN in one sector.
        let mut dark = lidar(1081, 270.0, |_| f64::INFINITY);
        for (j, v) in dark.ranges_m.iter_mut().enumerate() {
            if (0..120).contains(&j) {
                *v = f64::NAN;
            }
        }
        let e = ranges(&r, &dark, LidarMount::default()).unwrap_err();
        assert!(matches!(e, ScanError::NoReturn { ray: 0, .. }), "{e}");
        assert!(e.to_string().contains("-135.0°"), "{e}");
    }

    #[test]
    fn a_reducer_kept_across_scans_of_changing_geometry_agrees_with_one_shot_reductions() {
        let r = rays();
        let mut reducer = ScanReducer::new(r.clone());
        let mut rev = lidar(1081, 270.0, wall);
        rev.ranges_m.reverse();
        rev.angle_min_rad += rev.angle_increment_rad * 1080.0;
        rev.angle_increment_rad = -rev.angle_increment_rad;
        let offset = LidarMount { x_m: 0.3, y_m: -0.1, yaw_rad: 0.2 };
        let scans = [
            (lidar(1081, 270.0, wall), LidarMount::default()),
            (rev, LidarMount::default()),
            (lidar(8, 360.0, |_| 20.0), LidarMount::default()),
            (lidar(360, 360.0, wall), offset),
            (lidar(1081, 270.0, |a| 2.0 + a.abs()), LidarMount::default()),
        ];
        for (scan, mount) in scans.iter().chain(scans.iter()) {
            let mut kept = Vec::new();
            let kept = reducer.ranges(scan, mount, &mut kept).map(|()| kept);
            assert_eq!(kept, ranges(&r, scan, *mount));
        }
    }

    #[test]
    fn malformed_headers_name_the_field() {
        let r = rays();
        let good = lidar(360, 360.0, |_| 5.0);
        let field = |s: LaserScan| match ranges(&r, &s, LidarMount::default()) {
            Err(ScanError::Malformed { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(LaserScan { ranges_m: vec![], ..good.clone() }), "ranges");
        assert_eq!(field(LaserScan { angle_increment_rad: 0.0, ..good.clone() }), "angle_increment");
        assert_eq!(field(LaserScan { angle_increment_rad: f64::NAN, ..good.clone() }), "angle_increment");
        assert_eq!(field(LaserScan { angle_min_rad: f64::INFINITY, ..good.clone() }), "angle_min");
        assert_eq!(field(LaserScan { range_max_m: 0.0, ..good.clone() }), "range_max");
        assert_eq!(field(LaserScan { range_min_m: -1.0, ..good }), "range_min");
    }

    #[test]
    fn an_offset_or_turned_lidar_is_measured_from_the_robot_centre() {
        let r = rays();
        // Lidar 0.5 m ahead of the centre: the wall at x = 4 m is 3.5 m from the sensor.
        let shifted = lidar(1081, 270.0, |a| if a.cos() > 1e-6 { 3.5 / a.cos() } else { f64::INFINITY });
        let mount = LidarMount { x_m: 0.5, y_m: 0.0, yaw_rad: 0.0 };
        let got = ranges(&r, &shifted, mount).unwrap();
        assert!((got[4] - 4.0).abs() < 1e-9, "{got:?}");
        // Lidar turned 90° left: its beam at -90° looks ahead.
        let turned = lidar(1440, 360.0, |a| wall(a + PI / 2.0));
        let mount = LidarMount { yaw_rad: PI / 2.0, ..LidarMount::default() };
        let got = ranges(&r, &turned, mount).unwrap();
        assert!((got[4] - 4.0).abs() < 1e-6, "{got:?}");
    }
}
