//! The low-fidelity simulator: planar skid-steer kinematics with motor lag and analytic range rays.
//!
//! Each control step clamps the command to the controller limits, lets the actual forward speed
//! and yaw rate follow it through a first-order lag (`RobotParams::motor_lag_s`) bounded by the
//! controller's acceleration and deceleration limits and by what both sides' motors can push
//! (`2 · motor_force_max_n / mass`: 7.7 m/s² on the Warthog, below the 10 m/s² the controller
//! allows for braking), and moves the pose exactly along the circular arc of the step's mean
//! twist. The chassis footprint is then tested against every obstacle and the geofence.
//!
//! The ground is flat and firm everywhere: terrain patches (grades, bumps, low friction) are
//! deliberately ignored here, and so are wheel slip and command latency. The high-fidelity
//! simulator models them; that gap is what multifidelity verification exists to detect, so it
//! must not be papered over here.
//!
//! Speed matters more than anything else in this file (training runs millions of steps): obstacle
//! bounding circles are worked out once, obstacles far from the robot are culled with lists that
//! stay valid until the robot has moved a known distance, `step` never allocates, and each step
//! evaluates one sine/cosine pair.

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::geometry::{
    Footprint, PreparedShape, footprint_inside, polygon_boundary_distance, polygon_contains,
};
use crate::{
    Error, Fidelity, Imu, LowFidelityConfig, Odometry, PlanarState, RobotParams, Sensors, Simulator, Status,
    StepInfo, Vec2, VelocityCmd, World, validate, wrap_angle,
};

/// Standard gravity (m/s²): what the accelerometer reads on z when level.
const GRAVITY_MPS2: f64 = 9.81;
/// Obstacles are gathered for the rays out to this far beyond the maximum range, so the list stays
/// valid until the robot has moved this far (m). About 20 steps at full speed.
const RAY_CULL_MARGIN_M: f64 = 2.0;
/// Obstacles whose bounding circle comes within this distance of the footprint's circle are
/// tested exactly every step; the others only once the robot could have reached them (m).
const NEAR_MARGIN_M: f64 = 1.0;
/// Below this half-turn per step (rad) sine and cosine come from their series, which is exact to
/// double precision there and saves a second trigonometric call per step.
const SERIES_MAX_RAD: f64 = 0.1;

/// The low-fidelity Warthog simulator: planar kinematics, flat firm ground, analytic range rays.
///
/// Build it once per world with [`LowFidelity::new`], then `reset` per episode. Steps after a
/// terminal status (collision, geofence breach) change nothing until the next `reset`.
#[derive(Debug, Clone)]
pub struct LowFidelity {
    robot: RobotParams,
    world: Arc<World>,
    config: LowFidelityConfig,
    dt_s: f64,
    /// Fraction of the gap to the command that the first-order lag closes in one control period.
    lag_alpha: f64,
    /// Largest change of speed the motors can push the nominal mass through (m/s²).
    motor_mps2: f64,
    obstacles: Vec<PreparedShape>,
    /// Indices of the obstacles tall enough for the range sensor to see.
    visible: Vec<usize>,
    /// Unit vector of each simulated lidar beam in the body frame.
    beam_body: Vec<Vec2>,
    reducer: crate::ScanReducer,
    /// Radius of the circle that holds the footprint at any heading (m).
    fp_radius_m: f64,
    state: PlanarState,
    /// `Vec2::unit(state.yaw_rad)`, kept so the rays and the footprint need no trigonometry.
    heading: Vec2,
    yaw_rate_rps: f64,
    steps: u64,
    status: Status,
    rng: ChaCha8Rng,
    sensors: Sensors,
    cull: Cull,
}

/// Culling lists, each valid while the robot stays within its slack of its anchor.
#[derive(Debug, Clone)]
struct Cull {
    ray_anchor: Vec2,
    ray_slack_m: f64,
    /// Visible obstacles that a ray could reach from anywhere within the slack.
    ray_candidates: Vec<Candidate>,
    near_anchor: Vec2,
    near_slack_m: f64,
    /// Obstacles the footprint could touch from anywhere within the slack, in index order.
    near: Vec<usize>,
    fence_anchor: Vec2,
    /// While the robot is within this distance of the anchor, the footprint is inside the fence.
    fence_slack_m: f64,
}

impl Cull {
    fn new(obstacles: usize) -> Self {
        Self {
            ray_anchor: Vec2::default(),
            ray_slack_m: -1.0,
            ray_candidates: Vec::with_capacity(obstacles),
            near_anchor: Vec2::default(),
            near_slack_m: -1.0,
            near: Vec::with_capacity(obstacles),
            fence_anchor: Vec2::default(),
            fence_slack_m: -1.0,
        }
    }

    /// Forget every list (after a teleport).
    fn invalidate(&mut self) {
        self.ray_slack_m = -1.0;
        self.near_slack_m = -1.0;
        self.fence_slack_m = -1.0;
    }
}

/// A visible obstacle's bounding circle, copied next to its index so the ray loop reads one array.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    center: Vec2,
    radius_m: f64,
    index: usize,
}

/// Whether `p` is strictly within `slack_m` of `anchor` (false for a negative slack or NaN).
#[inline]
fn within(p: Vec2, anchor: Vec2, slack_m: f64) -> bool {
    slack_m > 0.0 && (p - anchor).norm_sq() < slack_m * slack_m
}

/// Standard normal draw times `sigma`; no draw at all when `sigma` is 0, so noise-free runs spend
/// nothing on the generator.
#[inline]
fn noise(rng: &mut ChaCha8Rng, sigma: f64) -> f64 {
    if sigma > 0.0 {
        let z: f64 = StandardNormal.sample(rng);
        sigma * z
    } else {
        0.0
    }
}

/// Sine and cosine of a half step's turn; by series when small (exact to double precision there).
#[inline]
fn half_turn(phi: f64) -> (f64, f64) {
    if phi.abs() < SERIES_MAX_RAD {
        let p2 = phi * phi;
        let sinc = 1.0 - p2 / 6.0 * (1.0 - p2 / 20.0 * (1.0 - p2 / 42.0 * (1.0 - p2 / 72.0)));
        let cos =
            1.0 - p2 / 2.0 * (1.0 - p2 / 12.0 * (1.0 - p2 / 30.0 * (1.0 - p2 / 56.0 * (1.0 - p2 / 90.0))));
        (phi * sinc, cos)
    } else {
        phi.sin_cos()
    }
}

impl LowFidelity {
    /// A simulator of `robot` in `world`, with the robot at the origin until the first `reset`.
    ///
    /// Fails, naming the field, when a parameter the model uses is not finite and positive (lag
    /// and noise may be 0), when there is no ray, when an obstacle is degenerate or a polygon is
    /// not strictly convex and counter-clockwise, or when the geofence is not a simple
    /// counter-clockwise polygon.
    pub fn new(robot: RobotParams, world: Arc<World>, config: LowFidelityConfig) -> Result<Self, Error> {
        validate::robot(&robot)?;
        validate::rays(&config.rays)?;
        validate::noise(&config.noise)?;
        validate::world(&world)?;
        let rays = &config.rays;

        let dt_s = robot.control_dt_s();
        let lag_alpha = if robot.motor_lag_s > 0.0 { -(-dt_s / robot.motor_lag_s).exp_m1() } else { 1.0 };
        let obstacles: Vec<PreparedShape> =
            world.obstacles.iter().map(|o| PreparedShape::new(&o.shape)).collect();
        let visible: Vec<usize> = world
            .obstacles
            .iter()
            .enumerate()
            .filter(|(_, o)| o.height_m >= robot.lidar_height_m)
            .map(|(i, _)| i)
            .collect();
        let scan = rays.simulated_scan();
        let beam_body: Vec<Vec2> = (0..scan.ranges_m.len())
            .map(|j| Vec2::unit(scan.angle_min_rad + j as f64 * scan.angle_increment_rad))
            .collect();
        let fp_radius_m = (0.5 * robot.length_m).hypot(0.5 * robot.width_m);
        let sensors = Sensors { ranges_m: vec![rays.max_range_m; rays.count], scan, ..Sensors::default() };
        let reducer = crate::ScanReducer::new(rays.clone());
        let mut sim = Self {
            reducer,
            motor_mps2: 2.0 * robot.motor_force_max_n / robot.mass_kg,
            cull: Cull::new(obstacles.len()),
            robot,
            world,
            config,
            dt_s,
            lag_alpha,
            obstacles,
            visible,
            beam_body,
            fp_radius_m,
            state: PlanarState::default(),
            heading: Vec2::new(1.0, 0.0),
            yaw_rate_rps: 0.0,
            steps: 0,
            status: Status::Running,
            rng: ChaCha8Rng::seed_from_u64(0),
            sensors,
        };
        sim.reset(PlanarState::default(), 0);
        Ok(sim)
    }

    /// The robot being simulated.
    pub fn robot(&self) -> &RobotParams {
        &self.robot
    }

    /// The world being simulated.
    pub fn world(&self) -> &Arc<World> {
        &self.world
    }

    /// The sensor and noise settings.
    pub fn config(&self) -> &LowFidelityConfig {
        &self.config
    }

    /// Status after the last step or reset.
    pub fn status(&self) -> Status {
        self.status
    }

    /// True yaw rate (rad/s).
    pub fn yaw_rate_rps(&self) -> f64 {
        self.yaw_rate_rps
    }

    fn footprint(&self) -> Footprint {
        Footprint {
            center: Vec2::new(self.state.x_m, self.state.y_m),
            yaw_rad: self.state.yaw_rad,
            half_length_m: 0.5 * self.robot.length_m,
            half_width_m: 0.5 * self.robot.width_m,
        }
    }

    /// Collision first (lowest obstacle index), then the geofence.
    fn check_status(&mut self) -> Status {
        let fp = self.footprint();
        let c = fp.center;
        let cull = &mut self.cull;
        if !within(c, cull.near_anchor, cull.near_slack_m) {
            cull.near.clear();
            let mut slack = f64::INFINITY;
            for (i, o) in self.obstacles.iter().enumerate() {
                let gap = (o.bounding_center() - c).norm() - o.bounding_radius_m() - self.fp_radius_m;
                if gap <= NEAR_MARGIN_M {
                    cull.near.push(i);
                } else {
                    slack = slack.min(gap);
                }
            }
            cull.near_anchor = c;
            cull.near_slack_m = slack;
        }
        for &i in &cull.near {
            if self.obstacles[i].overlaps_footprint(&fp, self.heading) {
                return Status::Collision { obstacle: i };
            }
        }
        if within(c, cull.fence_anchor, cull.fence_slack_m) {
            return Status::Running;
        }
        let fence = &self.world.geofence;
        let clearance = if polygon_contains(fence, c) {
            polygon_boundary_distance(fence, c) - self.fp_radius_m
        } else {
            -1.0
        };
        if clearance > 0.0 {
            cull.fence_anchor = c;
            cull.fence_slack_m = clearance;
            Status::Running
        } else {
            cull.fence_slack_m = -1.0;
            if footprint_inside(fence, &fp) { Status::Running } else { Status::GeofenceBreach }
        }
    }

    /// Fill `sensors` from the true state; `accel_x_mps2` is the forward acceleration of the step.
    fn sense(&mut self, accel_x_mps2: f64) {
        let o = Vec2::new(self.state.x_m, self.state.y_m);
        let max = self.config.rays.max_range_m;
        let cull = &mut self.cull;
        if !within(o, cull.ray_anchor, cull.ray_slack_m) {
            cull.ray_candidates.clear();
            let reach = max + RAY_CULL_MARGIN_M;
            for &i in &self.visible {
                let s = &self.obstacles[i];
                let (center, radius_m) = (s.bounding_center(), s.bounding_radius_m());
                if (center - o).norm() - radius_m <= reach {
                    cull.ray_candidates.push(Candidate { center, radius_m, index: i });
                }
            }
            cull.ray_anchor = o;
            cull.ray_slack_m = RAY_CULL_MARGIN_M;
        }
        for (range, body) in self.sensors.scan.ranges_m.iter_mut().zip(&self.beam_body) {
            let d = body.rotate(self.heading);
            let mut best = max;
            for c in &cull.ray_candidates {
                let rel = c.center - o;
                let along = rel.dot(d);
                if along + c.radius_m < 0.0 || along - c.radius_m >= best {
                    continue;
                }
                let across = rel.cross(d);
                if across * across > c.radius_m * c.radius_m {
                    continue;
                }
                if let Some(t) = self.obstacles[c.index].ray_distance(o, d, best) {
                    best = t;
                }
            }
            *range = best;
        }

        let n = &self.config.noise;
        let rng = &mut self.rng;
        let s = self.state;
        let odom_state = PlanarState {
            x_m: s.x_m + noise(rng, n.odom_position_m),
            y_m: s.y_m + noise(rng, n.odom_position_m),
            yaw_rad: if n.odom_yaw_rad > 0.0 {
                wrap_angle(s.yaw_rad + noise(rng, n.odom_yaw_rad))
            } else {
                s.yaw_rad
            },
            speed_mps: s.speed_mps + noise(rng, n.odom_speed_mps),
        };
        let w = self.yaw_rate_rps;
        let gyro_rps = [noise(rng, n.gyro_rps), noise(rng, n.gyro_rps), w + noise(rng, n.gyro_rps)];
        let accel_mps2 = [
            accel_x_mps2 + noise(rng, n.accel_mps2),
            s.speed_mps * w + noise(rng, n.accel_mps2),
            GRAVITY_MPS2 + noise(rng, n.accel_mps2),
        ];
        // The filtered odometry takes its yaw rate from the gyro, as the robot's EKF does.
        self.sensors.odom = Odometry { state: odom_state, yaw_rate_rps: gyro_rps[2] };
        self.sensors.imu = Imu { gyro_rps, accel_mps2, roll_rad: 0.0, pitch_rad: 0.0 };
        if n.range_m > 0.0 {
            // One draw per beam whether or not it hit, so the noise stream does not depend on the scene.
            for r in &mut self.sensors.scan.ranges_m {
                let e = noise(rng, n.range_m);
                if *r < max {
                    *r = (*r + e).clamp(0.0, max);
                }
            }
        }
        reduce_scan(&mut self.reducer, &mut self.sensors);
    }

    fn info(&self) -> StepInfo {
        StepInfo { state: self.state, status: self.status, time_s: self.time_s() }
    }
}

/// The policy's rays from the simulated scan, by the one definition both simulators, the
/// bridge and the executor share. The simulated scan always covers every sector with readings
/// in range, so the reduction cannot fail.
pub(crate) fn reduce_scan(reducer: &mut crate::ScanReducer, sensors: &mut Sensors) {
    let covered = reducer.ranges(&sensors.scan, &crate::LidarMount::default(), &mut sensors.ranges_m);
    debug_assert!(covered.is_ok(), "{covered:?}");
}

impl Simulator for LowFidelity {
    fn fidelity(&self) -> Fidelity {
        Fidelity::Low
    }

    /// Place the robot at `start` with zero yaw rate, reseed the sensor noise, and evaluate the
    /// start pose: a start in collision or outside the geofence (a non-finite one included) is
    /// terminal at once.
    fn reset(&mut self, start: PlanarState, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        self.state = PlanarState { yaw_rad: wrap_angle(start.yaw_rad), ..start };
        self.heading = Vec2::unit(self.state.yaw_rad);
        self.yaw_rate_rps = 0.0;
        self.steps = 0;
        self.cull.invalidate();
        let finite = [start.x_m, start.y_m, start.yaw_rad, start.speed_mps].iter().all(|v| v.is_finite());
        self.status = if finite { self.check_status() } else { Status::GeofenceBreach };
        self.sense(0.0);
    }

    fn step(&mut self, cmd: VelocityCmd) -> StepInfo {
        if self.status.is_terminal() {
            return self.info();
        }
        let cmd = self.robot.clamp(cmd);
        let (v0, w0) = (self.state.speed_mps, self.yaw_rate_rps);
        let now = VelocityCmd { linear_mps: v0, angular_rps: w0 };
        let VelocityCmd { linear_mps: v1, angular_rps: w1 } =
            self.robot.follow(now, cmd, self.lag_alpha, self.dt_s);
        // The controller may ask for 10 m/s² of braking; the motors deliver what their force allows.
        let v1 = crate::rate_limit(v0, v1, self.motor_mps2, self.motor_mps2, self.dt_s);

        // Exact arc of the step's mean twist: the chord is v̄·dt·sinc(φ), pointing half way
        // through the turn, with φ = ω̄·dt/2.
        let phi = 0.25 * (w0 + w1) * self.dt_s;
        let (sin_phi, cos_phi) = half_turn(phi);
        let sinc = if phi == 0.0 { 1.0 } else { sin_phi / phi };
        let chord_m = 0.5 * (v0 + v1) * self.dt_s * sinc;
        let dir = self.heading.rotate(Vec2::new(cos_phi, sin_phi));
        self.state.x_m += chord_m * dir.x;
        self.state.y_m += chord_m * dir.y;
        let yaw = self.state.yaw_rad + 2.0 * phi;
        self.state.yaw_rad =
            if yaw > std::f64::consts::PI || yaw <= -std::f64::consts::PI { wrap_angle(yaw) } else { yaw };
        self.state.speed_mps = v1;
        self.heading = Vec2::unit(self.state.yaw_rad);
        self.yaw_rate_rps = w1;
        self.steps += 1;

        self.status = self.check_status();
        self.sense((v1 - v0) / self.dt_s);
        self.info()
    }

    fn state(&self) -> PlanarState {
        self.state
    }

    fn sensors(&self) -> &Sensors {
        &self.sensors
    }

    fn time_s(&self) -> f64 {
        // Counted in steps so that long episodes do not accumulate rounding.
        self.steps as f64 * self.dt_s
    }

    fn control_dt_s(&self) -> f64 {
        self.dt_s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NoiseConfig, Obstacle, RayConfig, Shape, TerrainPatch};
    use rand::Rng;
    use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};

    fn v(x: f64, y: f64) -> Vec2 {
        Vec2::new(x, y)
    }

    fn open_world() -> World {
        World::open(v(-50.0, -50.0), v(50.0, 50.0))
    }

    fn sim(world: World) -> LowFidelity {
        match LowFidelity::new(RobotParams::default(), Arc::new(world), LowFidelityConfig::default()) {
            Ok(s) => s,
            Err(e) => panic!("valid setup refused: {e}"),
        }
    }

    fn at(x: f64, y: f64, yaw: f64) -> PlanarState {
        PlanarState { x_m: x, y_m: y, yaw_rad: yaw, speed_mps: 0.0 }
    }

    fn cmd(linear_mps: f64, angular_rps: f64) -> VelocityCmd {
        VelocityCmd { linear_mps, angular_rps }
    }

    fn tall(shape: Shape) -> Obstacle {
        Obstacle { shape, height_m: 2.0 }
    }

    /// Every float of a step and its sensors, as bits.
    fn fingerprint(info: &StepInfo, s: &Sensors) -> Vec<u64> {
        let st = [info.state, s.odom.state];
        let mut out: Vec<u64> =
            st.iter().flat_map(|p| [p.x_m, p.y_m, p.yaw_rad, p.speed_mps]).map(f64::to_bits).collect();
        out.extend(s.imu.gyro_rps.iter().chain(&s.imu.accel_mps2).chain(&s.ranges_m).map(|x| x.to_bits()));
        out.push(s.odom.yaw_rate_rps.to_bits());
        out.push(info.time_s.to_bits());
        out
    }

    fn cluttered_world() -> World {
        let mut w = open_world();
        w.obstacles = vec![
            tall(Shape::Disc { center: v(8.0, 3.0), radius_m: 1.0 }),
            tall(Shape::Box { center: v(-6.0, 5.0), half_extents_m: v(2.0, 1.0), yaw_rad: 0.4 }),
            tall(Shape::Polygon { vertices: vec![v(3.0, -9.0), v(7.0, -8.0), v(4.0, -5.0)] }),
        ];
        w
    }

    #[test]
    fn same_seed_same_commands_bit_identical_with_noise() {
        let noisy = LowFidelityConfig {
            rays: RayConfig::default(),
            noise: NoiseConfig {
                odom_position_m: 0.02,
                odom_yaw_rad: 0.01,
                odom_speed_mps: 0.02,
                gyro_rps: 0.005,
                accel_mps2: 0.05,
                range_m: 0.03,
            },
        };
        let world = Arc::new(cluttered_world());
        let run = |seed: u64| -> Result<Vec<Vec<u64>>, Error> {
            let mut s = LowFidelity::new(RobotParams::default(), world.clone(), noisy.clone())?;
            s.reset(at(0.0, 0.0, 0.3), seed);
            let mut cmds = ChaCha8Rng::seed_from_u64(99);
            let mut out = Vec::new();
            for _ in 0..500 {
                let c = cmd(cmds.random::<f64>() * 3.0 - 0.5, cmds.random::<f64>() * 2.0 - 1.0);
                let info = s.step(c);
                out.push(fingerprint(&info, s.sensors()));
            }
            Ok(out)
        };
        let (a, b, c) = (run(7), run(7), run(8));
        assert!(a.is_ok());
        assert_eq!(a.as_ref().ok(), b.as_ref().ok(), "same seed must give the same bits");
        assert_ne!(a.as_ref().ok(), c.as_ref().ok(), "another seed must give other noise");
        // Several simulators on several threads at once give the same bits as one alone.
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4).map(|_| scope.spawn(|| run(7))).collect();
            for h in handles {
                let got = h.join().ok().and_then(Result::ok);
                assert_eq!(got.as_ref(), a.as_ref().ok(), "threads must not change the bits");
            }
        });
        // Re-using one simulator after reset gives the same bits as a fresh one.
        let mut s = sim(cluttered_world());
        s.step(cmd(2.0, 1.0));
        s.reset(at(1.0, 1.0, 0.0), 3);
        let first = fingerprint(&s.step(cmd(1.0, 0.5)), s.sensors());
        let mut fresh = sim(cluttered_world());
        fresh.reset(at(1.0, 1.0, 0.0), 3);
        assert_eq!(first, fingerprint(&fresh.step(cmd(1.0, 0.5)), fresh.sensors()));
    }

    #[test]
    fn half_turn_series_matches_sin_cos() {
        for k in -1000..=1000 {
            let phi = k as f64 * 1.2e-4;
            let (s, c) = half_turn(phi);
            let (ws, wc) = phi.sin_cos();
            assert!(
                (s - ws).abs() <= 2.0 * f64::EPSILON * ws.abs() && (c - wc).abs() <= 2.0 * f64::EPSILON,
                "{phi}"
            );
        }
    }

    #[test]
    fn small_command_follows_first_order_lag() {
        let mut s = sim(open_world());
        s.reset(at(0.0, 0.0, 0.0), 0);
        let p = RobotParams::default();
        let decay = (-p.control_dt_s() / p.motor_lag_s).exp();
        // 0.3 m/s is small enough that the lag never asks for more than the acceleration limit.
        let mut x = 0.0;
        for k in 1..=100 {
            let info = s.step(cmd(0.3, 0.0));
            let want = 0.3 * (1.0 - decay.powi(k));
            assert!(
                (info.state.speed_mps - want).abs() < 1e-12,
                "step {k}: {} vs {want}",
                info.state.speed_mps
            );
            assert!(info.state.x_m > x && info.state.y_m == 0.0 && info.state.yaw_rad == 0.0);
            x = info.state.x_m;
        }
        assert!((s.state().speed_mps - 0.3).abs() < 1e-6);
        assert!((s.time_s() - 2.0).abs() < 1e-12);
        // Distance is the integral of speed: v·t minus the lag's deficit v·τ (to first order).
        assert!((x - 0.3 * (2.0 - p.motor_lag_s)).abs() < 2e-3, "{x}");
    }

    #[test]
    fn large_command_ramps_at_the_acceleration_limit_then_settles() {
        let mut s = sim(open_world());
        s.reset(at(-40.0, 0.0, 0.0), 0);
        let p = RobotParams::default();
        let mut speeds = Vec::new();
        for _ in 0..150 {
            speeds.push(s.step(cmd(3.0, 0.0)).state.speed_mps);
        }
        // Limited: 3 m/s² × 0.02 s per step while far from the command.
        for (k, v) in speeds.iter().take(20).enumerate() {
            let want = p.max_accel_mps2 * p.control_dt_s() * (k + 1) as f64;
            assert!((v - want).abs() < 1e-12, "step {}: {v} vs {want}", k + 1);
        }
        assert!(speeds.windows(2).all(|w| w[1] >= w[0]), "no overshoot, monotone");
        assert!((speeds[149] - 3.0).abs() < 1e-6 && speeds[149] <= 3.0);
        let imu = s.sensors().imu;
        assert_eq!(imu.accel_mps2[2], GRAVITY_MPS2);
        assert!(imu.accel_mps2[0].abs() < 1e-3, "no acceleration once at speed");
        // The command is clamped to the controller's limit.
        for _ in 0..300 {
            s.step(cmd(50.0, 0.0));
        }
        assert!((s.state().speed_mps - p.max_speed_mps).abs() < 1e-9);
    }

    #[test]
    fn turn_in_place_reaches_commanded_yaw_rate() {
        let mut s = sim(open_world());
        s.reset(at(1.0, 2.0, 0.0), 0);
        let mut yaw_travel = 0.0;
        let mut last = 0.0;
        for _ in 0..150 {
            let info = s.step(cmd(0.0, 1.2));
            assert_eq!((info.state.x_m, info.state.y_m), (1.0, 2.0), "turning in place does not move");
            yaw_travel += wrap_angle(info.state.yaw_rad - last);
            last = info.state.yaw_rad;
        }
        assert!((s.yaw_rate_rps() - 1.2).abs() < 1e-6);
        let imu = s.sensors().imu;
        assert!((imu.gyro_rps[2] - 1.2).abs() < 1e-6);
        assert_eq!(imu.accel_mps2[1], 0.0, "no centripetal force at zero speed");
        assert!((s.sensors().odom.yaw_rate_rps - 1.2).abs() < 1e-6);
        // 3 s at up to 1.2 rad/s, minus the ramp (0.6 s at 2 rad/s²) and the lag.
        assert!(yaw_travel > 3.1 && yaw_travel < 3.3, "{yaw_travel}");
    }

    #[test]
    fn constant_twist_follows_the_exact_circle() {
        let mut s = sim(open_world());
        s.reset(PlanarState { x_m: 0.0, y_m: 0.0, yaw_rad: 0.0, speed_mps: 2.0 }, 0);
        // Bring the yaw rate up, then compare against the circle it sets out on.
        for _ in 0..200 {
            s.step(cmd(2.0, 0.5));
        }
        let a = s.state();
        let centre = v(a.x_m, a.y_m) + Vec2::unit(a.yaw_rad).perp() * 4.0;
        for _ in 0..300 {
            let b = s.step(cmd(2.0, 0.5)).state;
            assert!(((v(b.x_m, b.y_m) - centre).norm() - 4.0).abs() < 1e-9);
            let accel_y = s.sensors().imu.accel_mps2[1];
            assert!((accel_y - 1.0).abs() < 1e-9, "v·ω = 1 m/s²: {accel_y}");
        }
    }

    #[test]
    fn driving_into_a_box_collides_with_that_box() {
        let mut w = open_world();
        w.obstacles = vec![
            tall(Shape::Disc { center: v(0.0, 20.0), radius_m: 1.0 }),
            tall(Shape::Box { center: v(10.0, 0.0), half_extents_m: v(0.5, 3.0), yaw_rad: 0.0 }),
        ];
        let mut s = sim(w);
        s.reset(at(0.0, 0.0, 0.0), 0);
        let mut hit = None;
        for _ in 0..500 {
            let info = s.step(cmd(2.0, 0.0));
            if info.status.is_terminal() {
                hit = Some(info);
                break;
            }
        }
        let Some(info) = hit else { panic!("never hit the box") };
        assert_eq!(info.status, Status::Collision { obstacle: 1 });
        let front = info.state.x_m + 0.5 * RobotParams::default().length_m;
        assert!((9.5..9.5 + 2.0 * 0.02 + 1e-9).contains(&front), "front at {front}");
        // Sticky: nothing moves until reset.
        let again = s.step(cmd(-2.0, 1.0));
        assert_eq!(again, info);
        s.reset(at(0.0, 0.0, 0.0), 0);
        assert_eq!(s.status(), Status::Running);
    }

    #[test]
    fn collision_with_disc_and_polygon_and_low_obstacles() {
        let mut w = open_world();
        w.obstacles = vec![
            // Low: invisible to the rays but still solid.
            Obstacle { shape: Shape::Disc { center: v(0.0, 5.0), radius_m: 1.0 }, height_m: 0.2 },
            tall(Shape::Polygon { vertices: vec![v(-6.0, -1.0), v(-5.0, -1.0), v(-5.0, 1.0), v(-6.0, 1.0)] }),
        ];
        let mut s = sim(w);
        s.reset(at(0.0, 0.0, FRAC_PI_2), 0);
        assert_eq!(s.sensors().ranges_m[4], 20.0, "low obstacle ahead not seen");
        let mut status = Status::Running;
        for _ in 0..500 {
            status = s.step(cmd(2.0, 0.0)).status;
            if status.is_terminal() {
                break;
            }
        }
        assert_eq!(status, Status::Collision { obstacle: 0 });
        s.reset(at(0.0, 0.0, PI), 0);
        // The forward ray's nearest beam is 2.5° off the axis.
        assert!((s.sensors().ranges_m[4] - 5.0 / 2.5f64.to_radians().cos()).abs() < 1e-9);
        for _ in 0..500 {
            status = s.step(cmd(2.0, 0.0)).status;
            if status.is_terminal() {
                break;
            }
        }
        assert_eq!(status, Status::Collision { obstacle: 1 });
        // A start on top of an obstacle is terminal at once.
        s.reset(at(-5.5, 0.0, 0.0), 0);
        assert_eq!(s.status(), Status::Collision { obstacle: 1 });
    }

    #[test]
    fn leaving_the_geofence_is_a_breach() {
        let mut w = World::open(v(-10.0, -10.0), v(10.0, 10.0));
        // Make it non-convex: a notch in the east side, x in [6, 10], y in [-1, 1].
        w.geofence = vec![
            v(-10.0, -10.0),
            v(10.0, -10.0),
            v(10.0, -1.0),
            v(6.0, -1.0),
            v(6.0, 1.0),
            v(10.0, 1.0),
            v(10.0, 10.0),
            v(-10.0, 10.0),
        ];
        let mut s = sim(w);
        s.reset(at(0.0, 5.0, 0.0), 0);
        let mut info = s.step(VelocityCmd::STOP);
        for _ in 0..1000 {
            info = s.step(cmd(2.0, 0.0));
            if info.status.is_terminal() {
                break;
            }
        }
        assert_eq!(info.status, Status::GeofenceBreach);
        let front = info.state.x_m + 0.76;
        assert!((10.0..10.0 + 0.04 + 1e-9).contains(&front), "front at {front}");
        assert_eq!(s.step(cmd(-2.0, 0.0)), info, "sticky");
        // Towards the notch: caught by its west edge at x = 6, although the centre is still inside.
        s.reset(at(0.0, 0.0, 0.0), 0);
        for _ in 0..1000 {
            info = s.step(cmd(2.0, 0.0));
            if info.status.is_terminal() {
                break;
            }
        }
        assert_eq!(info.status, Status::GeofenceBreach);
        assert!(
            info.state.x_m + 0.76 < 6.0 + 0.05,
            "caught at the notch, not the far side: {}",
            info.state.x_m
        );
        // The rays do not see the geofence.
        s.reset(at(0.0, 5.0, 0.0), 0);
        assert!(s.sensors().ranges_m.iter().all(|&r| r == 20.0));
        s.reset(at(f64::NAN, 0.0, 0.0), 0);
        assert_eq!(s.status(), Status::GeofenceBreach);
    }

    #[test]
    fn beams_report_analytic_distances() {
        let mut w = open_world();
        w.obstacles = vec![
            tall(Shape::Disc { center: v(10.0, 0.0), radius_m: 2.0 }),
            tall(Shape::Box { center: v(0.0, 7.0), half_extents_m: v(3.0, 1.0), yaw_rad: 0.0 }),
            tall(Shape::Polygon { vertices: vec![v(-9.0, -3.0), v(-6.0, -3.0), v(-6.0, 3.0), v(-9.0, 3.0)] }),
            // A box turned 45° on the south-east diagonal, a face towards the robot.
            tall(Shape::Box { center: v(6.0, -6.0), half_extents_m: v(1.0, 1.0), yaw_rad: FRAC_PI_4 }),
            // Out of range.
            tall(Shape::Disc { center: v(0.0, -30.0), radius_m: 2.0 }),
        ];
        // Eight one-beam sectors all round: beam j looks 22.5° + 45° j past straight back, so a
        // robot yawed -22.5° has beams on the axes and diagonals (west first).
        let rays =
            RayConfig { count: 8, fov_rad: std::f64::consts::TAU, max_range_m: 20.0, beams_per_ray: 1 };
        let mut s = LowFidelity::new(
            RobotParams::default(),
            Arc::new(w),
            LowFidelityConfig { rays, ..Default::default() },
        )
        .unwrap();
        let yaw = -std::f64::consts::FRAC_PI_8;
        s.reset(at(0.0, 0.0, yaw), 0);
        let diag = 6.0 * 2f64.sqrt() - 1.0;
        let want = [6.0, 20.0, 20.0, diag, 8.0, 20.0, 6.0, 20.0];
        for (i, (got, want)) in s.sensors().scan.ranges_m.iter().zip(want).enumerate() {
            assert!((got - want).abs() < 1e-9, "beam {i}: {got} vs {want}");
        }
        assert_eq!(s.sensors().ranges_m, s.sensors().scan.ranges_m, "one beam per ray");
        // Beams are in the body frame: turned a quarter left, beam 2 looks east.
        s.reset(at(0.0, 0.0, yaw + FRAC_PI_2), 0);
        let r = &s.sensors().ranges_m;
        assert!((r[2] - 8.0).abs() < 1e-9 && (r[4] - 6.0).abs() < 1e-9 && (r[6] - 6.0).abs() < 1e-9, "{r:?}");
        // After driving, the culling lists must give what a fresh reset at the same pose gives.
        s.reset(at(0.0, 0.0, 0.0), 0);
        for _ in 0..100 {
            s.step(cmd(-1.0, 0.3));
        }
        let driven = s.sensors().ranges_m.clone();
        let mut fresh = s.clone();
        fresh.reset(PlanarState { speed_mps: 0.0, ..s.state() }, 0);
        for (a, b) in driven.iter().zip(&fresh.sensors().ranges_m) {
            assert!((a - b).abs() < 1e-9, "{driven:?} vs {:?}", fresh.sensors().ranges_m);
        }
    }

    #[test]
    fn nan_command_keeps_state_finite() {
        let mut s = sim(open_world());
        s.reset(at(0.0, 0.0, 0.0), 0);
        for c in [cmd(f64::NAN, 0.5), cmd(1.0, f64::NAN), cmd(f64::INFINITY, f64::NEG_INFINITY)] {
            let info = s.step(c);
            let st = info.state;
            assert!([st.x_m, st.y_m, st.yaw_rad, st.speed_mps].iter().all(|x| x.is_finite()), "{st:?}");
            assert!(s.sensors().ranges_m.iter().all(|x| x.is_finite()));
        }
        let st = s.step(cmd(f64::NAN, f64::NAN)).state;
        assert!(st.speed_mps.abs() < 1.0 && st.x_m.is_finite());
    }

    #[test]
    fn terrain_is_ignored_in_low_fidelity() {
        let mut bank = open_world();
        bank.terrain.push(TerrainPatch {
            shape: Shape::Disc { center: v(5.0, 0.0), radius_m: 10.0 },
            grade: 0.5,
            downhill_yaw_rad: FRAC_PI_2,
            roughness_m: 0.2,
            friction: 0.1,
        });
        let (mut a, mut b) = (sim(open_world()), sim(bank));
        a.reset(at(0.0, 0.0, 0.0), 1);
        b.reset(at(0.0, 0.0, 0.0), 1);
        for k in 0..300 {
            let c = cmd(2.0, (k as f64 * 0.05).sin());
            assert_eq!(a.step(c), b.step(c));
        }
    }

    #[test]
    fn bad_configuration_names_the_field() {
        let world = Arc::new(open_world());
        let err = |robot: RobotParams, world: Arc<World>, config: LowFidelityConfig| {
            LowFidelity::new(robot, world, config).err().map(|e| e.to_string()).unwrap_or_default()
        };
        let no_rays =
            LowFidelityConfig { rays: RayConfig { count: 0, ..RayConfig::default() }, ..Default::default() };
        assert!(err(RobotParams::default(), world.clone(), no_rays).starts_with("rays.count"));
        let no_accel = RobotParams { max_accel_mps2: f64::NAN, ..RobotParams::default() };
        assert!(
            err(no_accel, world.clone(), LowFidelityConfig::default()).starts_with("robot.max_accel_mps2")
        );
        let noisy = LowFidelityConfig {
            noise: NoiseConfig { range_m: -1.0, ..NoiseConfig::default() },
            ..LowFidelityConfig::default()
        };
        assert!(err(RobotParams::default(), world.clone(), noisy).starts_with("noise.range_m"));
        let mut w = open_world();
        w.obstacles.push(tall(Shape::Disc { center: v(3.0, 3.0), radius_m: 1.0 }));
        w.obstacles.push(tall(Shape::Polygon { vertices: vec![v(0.0, 0.0), v(0.0, 1.0), v(1.0, 0.0)] }));
        let msg = err(RobotParams::default(), Arc::new(w), LowFidelityConfig::default());
        assert!(msg.starts_with("obstacle 1") && msg.contains("convex"), "{msg}");
        let mut w = open_world();
        w.geofence.reverse();
        assert!(
            err(RobotParams::default(), Arc::new(w), LowFidelityConfig::default()).starts_with("geofence")
        );
        let lag0 = RobotParams { motor_lag_s: 0.0, ..RobotParams::default() };
        assert_eq!(err(lag0, world, LowFidelityConfig::default()), "");
    }
}
