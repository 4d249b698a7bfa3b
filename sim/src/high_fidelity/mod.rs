//! The high-fidelity simulator: a rapier3d rigid chassis on four suspended, slipping wheels.
//!
//! Data flow per control step: the command waits in a latency queue, then at each physics
//! substep (`physics_hz`, 4 per 50 Hz step by default) the controller and motors
//! ([`wheels::Drivetrain`]) set the rim speeds, each wheel's spring and tyre
//! ([`wheels::Tyre`]) turn the analytic ground ([`terrain::Terrain`]) into forces on the chassis
//! body, and rapier integrates the body and detects its contacts with the obstacle colliders.
//! After the step the statuses are checked and the sensors (odometry, IMU, range rays cast by
//! rapier against the obstacle colliders) are read with noise.
//!
//! Rapier's `DynamicRayCastVehicleController` is not used. Its drive is an engine force and a
//! wheel's spin follows the ground speed, so a wheel has no rim speed of its own and no
//! longitudinal slip; a skid-steer turns by its two sides slipping against each other while the
//! tyres scrub sideways, and the effective separation (DESIGN §9) is a ratio of rim speeds to yaw
//! rate. So the wheels here are our own: speed-controlled sides, springs along ray-like legs,
//! and a tyre with both slips. Measured effective separation: 1.6874 m = 1.485 × track
//! (`tests/fidelity.rs`).

mod setup;
mod terrain;
mod wheels;

use std::collections::VecDeque;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rapier3d::prelude::*;

use crate::geometry::{Footprint, footprint_inside, footprint_overlaps};
use crate::{
    Error, Fidelity, HighFidelityConfig, Imu, Odometry, PlanarState, RobotParams, Sensors, Simulator, Status,
    StepInfo, VelocityCmd, World, wrap_angle,
};
use setup::{check, obstacle_collider, validate};
use terrain::Terrain;
use wheels::{Drivetrain, Layout, Tyre};

/// Standard gravity (m/s²).
const GRAVITY_MPS2: f64 = 9.81;
/// Height of the chassis collision box's floor above level ground at rest (m): low, so the box
/// stands for the wheels as well and even a kerb-height obstacle counts as a collision, as in the
/// planar footprint of low fidelity.
const CHASSIS_FLOOR_M: f64 = 0.05;
/// Contact distance that counts as touching an obstacle (m).
const TOUCH_M: f64 = 0.005;
/// Height of the Warthog's top above the ground (m).
const CHASSIS_TOP_M: f64 = 0.83;

/// Below this z component of the chassis' up axis (about 73° of tilt) the wheels leave the ground.
const WHEELS_OFF_UP_Z: f64 = 0.3;
/// Below this z component of the chassis' up axis (about 37° of tilt) the hull can touch ground.
const HULL_CONTACT_UP_Z: f64 = 0.8;
/// Stiffness of a hull corner's ground contact (N/m).
const HULL_N_PER_M: f64 = 50_000.0;
/// Damping of a hull corner's ground contact (N·s/m).
const HULL_NS_PER_M: f64 = 3_000.0;

/// The high-fidelity Warthog simulator (rapier3d).
///
/// Build it once per world with [`HighFidelity::new`]; `reset` moves only the chassis, so the
/// static colliders are built once.
#[derive(Debug)]
pub struct HighFidelity {
    robot: RobotParams,
    world: Arc<World>,
    config: HighFidelityConfig,
    terrain: Terrain,
    layout: Layout,
    substeps: u32,
    dt_s: f64,
    physics: Physics,
    chassis: RigidBodyHandle,
    chassis_collider: ColliderHandle,
    // Episode state, all set by `reset`.
    rng: ChaCha8Rng,
    mass_kg: f64,
    friction_scale: f64,
    latency_s: f64,
    /// Commands on their way to the motors: (arrival time s, command).
    queue: VecDeque<(f64, VelocityCmd)>,
    active: VelocityCmd,
    drivetrain: Drivetrain,
    tyres: [Tyre; 4],
    status: Status,
    steps: u64,
    /// Chassis velocity before the last substep (m/s), for the accelerometer.
    prev_linvel: [f64; 3],
    accel: [f64; 3],
    sensors: Sensors,
    reducer: crate::ScanReducer,
}

/// Rapier's sets and pipeline.
struct Physics {
    pipeline: PhysicsPipeline,
    params: IntegrationParameters,
    islands: IslandManager,
    broad_phase: DefaultBroadPhase,
    narrow_phase: NarrowPhase,
    bodies: RigidBodySet,
    colliders: ColliderSet,
    impulse_joints: ImpulseJointSet,
    multibody_joints: MultibodyJointSet,
    soft_bodies: SoftBodySet,
    ccd: CCDSolver,
}

impl std::fmt::Debug for Physics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Physics")
            .field("bodies", &self.bodies.len())
            .field("colliders", &self.colliders.len())
            .finish()
    }
}

impl Physics {
    fn step(&mut self) {
        self.pipeline.step(
            Vector::new(0.0, 0.0, -GRAVITY_MPS2 as Real),
            &self.params,
            &mut self.islands,
            &mut self.broad_phase,
            &mut self.narrow_phase,
            &mut self.bodies,
            &mut self.colliders,
            &mut self.impulse_joints,
            &mut self.multibody_joints,
            &mut self.soft_bodies,
            &mut self.ccd,
            &(),
            &(),
        );
    }
}

impl HighFidelity {
    /// Build the simulator: static obstacle colliders, terrain and the chassis. The robot stands
    /// at the origin until the first `reset`.
    ///
    /// Fails when a rate, range or shape cannot be simulated (NaN fails every check).
    pub fn new(robot: RobotParams, world: Arc<World>, config: HighFidelityConfig) -> Result<Self, Error> {
        validate(&robot, &world, &config)?;
        let reducer = crate::ScanReducer::new(config.rays.clone());
        let sensors = Sensors { scan: config.rays.simulated_scan(), ..Sensors::default() };
        let ratio = config.physics_hz / robot.control_hz;
        let substeps = ratio.round();
        check(
            "physics_hz",
            config.physics_hz,
            substeps >= 1.0 && (ratio - substeps).abs() < 1e-6,
            "a whole multiple of control_hz",
        )?;
        let dt_s = 1.0 / config.physics_hz;
        let terrain = Terrain::new(&world);
        let layout = Layout::new(&robot);

        let params = IntegrationParameters { dt: dt_s as Real, ..IntegrationParameters::default() };
        let mut bodies = RigidBodySet::new();
        let mut colliders = ColliderSet::new();
        for (i, obstacle) in world.obstacles.iter().enumerate() {
            colliders.insert(obstacle_collider(&terrain, i, &obstacle.shape, obstacle.height_m)?);
        }
        let chassis = bodies.insert(RigidBodyBuilder::dynamic().can_sleep(false).build());
        let box_half_height = 0.5 * (CHASSIS_TOP_M - CHASSIS_FLOOR_M);
        let box_centre = 0.5 * (CHASSIS_TOP_M + CHASSIS_FLOOR_M) - robot.com_height_m;
        let chassis_collider = colliders.insert_with_parent(
            ColliderBuilder::cuboid(
                (0.5 * robot.length_m) as Real,
                (0.5 * robot.width_m) as Real,
                box_half_height as Real,
            )
            .translation(Vector::new(0.0, 0.0, box_centre as Real))
            .density(0.0)
            .friction(0.5),
            chassis,
            &mut bodies,
        );
        let physics = Physics {
            pipeline: PhysicsPipeline::new(),
            params,
            islands: IslandManager::new(),
            broad_phase: DefaultBroadPhase::new(),
            narrow_phase: NarrowPhase::new(),
            bodies,
            colliders,
            impulse_joints: ImpulseJointSet::new(),
            multibody_joints: MultibodyJointSet::new(),
            soft_bodies: SoftBodySet::new(),
            ccd: CCDSolver::new(),
        };
        let mut sim = Self {
            mass_kg: robot.mass_kg,
            robot,
            world,
            config,
            terrain,
            layout,
            substeps: substeps as u32,
            dt_s,
            physics,
            chassis,
            chassis_collider,
            rng: ChaCha8Rng::seed_from_u64(0),
            friction_scale: 1.0,
            latency_s: 0.0,
            queue: VecDeque::new(),
            active: VelocityCmd::STOP,
            drivetrain: Drivetrain::default(),
            tyres: [Tyre::default(); 4],
            status: Status::Running,
            steps: 0,
            prev_linvel: [0.0; 3],
            accel: [0.0; 3],
            sensors,
            reducer,
        };
        // One step builds the broad phase's tree of the static colliders, which ray casts use.
        sim.physics.step();
        sim.reset(PlanarState::default(), 0);
        Ok(sim)
    }

    /// Friction multiplier drawn at the last reset.
    pub fn friction_scale(&self) -> f64 {
        self.friction_scale
    }

    /// Robot mass drawn at the last reset (kg).
    pub fn mass_kg(&self) -> f64 {
        self.mass_kg
    }

    /// Command latency drawn at the last reset (s).
    pub fn latency_s(&self) -> f64 {
        self.latency_s
    }

    /// Left and right rim speeds of the wheels (m/s): what the wheel encoders measure.
    pub fn wheel_speeds_mps(&self) -> (f64, f64) {
        let [l, r] = self.drivetrain.rim_mps();
        (l, r)
    }

    /// Roll and pitch of the chassis (rad), pitch positive nose down.
    pub fn roll_pitch_rad(&self) -> (f64, f64) {
        // Z-Y-X Euler angles from the body axes' world z components.
        let rot = *self.body().rotation();
        let (fwd, left, up) = (v64(rot * Vector::X), v64(rot * Vector::Y), v64(rot * Vector::Z));
        (left[2].atan2(up[2]), (-fwd[2]).clamp(-1.0, 1.0).asin())
    }

    /// Height of the chassis' centre of mass above the ground beneath it (m).
    pub fn ride_height_m(&self) -> f64 {
        let p = self.body().translation();
        p.z as f64 - self.terrain.height_m(p.x as f64, p.y as f64)
    }

    fn body(&self) -> &RigidBody {
        // Invariant: the chassis handle is inserted in `new` and never removed.
        &self.physics.bodies[self.chassis]
    }

    /// One physics substep at substep index `k` since reset.
    fn substep(&mut self, k: u64) {
        let t = k as f64 * self.dt_s;
        while let Some(&(arrive, cmd)) = self.queue.front() {
            // Half a substep of slack so a latency that is a whole number of substeps is not
            // lost to rounding.
            if arrive > t + 0.5 * self.dt_s {
                break;
            }
            self.active = cmd;
            self.queue.pop_front();
        }
        self.drivetrain.control(&self.robot, self.active, self.dt_s);

        let body = &self.physics.bodies[self.chassis];
        let pose = *body.position();
        let com = v64(body.center_of_mass());
        let linvel = v64(body.linvel());
        let angvel = v64(body.angvel());
        let up_b = v64(pose.rotation * Vector::Z);
        let fwd_b = v64(pose.rotation * Vector::X);
        let rim = self.drivetrain.rim_mps();
        let mut forces = [([0.0; 3], [0.0; 3]); 12];
        let mut side_force = [0.0; 2];
        let mut side_stiffness = [0.0; 2];
        for (i, tyre) in self.tyres.iter_mut().enumerate() {
            if up_b[2] < WHEELS_OFF_UP_Z {
                // On its side or roof: the wheels no longer reach the ground.
                *tyre = Tyre::default();
                continue;
            }
            let a = self.layout.attach[i];
            let attach = v64(pose.transform_point(Vector::new(a[0] as Real, a[1] as Real, a[2] as Real)));
            // Ray from the attachment down the chassis' -z to the ground: two fixed-point passes
            // settle where it meets the (gently sloping) ground.
            let mut hit = attach;
            let mut height = self.terrain.height_m(hit[0], hit[1]);
            for _ in 0..2 {
                let along = (attach[2] - height) / up_b[2].max(0.2);
                hit = sub(attach, scale(up_b, along));
                height = self.terrain.height_m(hit[0], hit[1]);
            }
            let ground = self.terrain.ground(hit[0], hit[1]);
            let gap = (attach[2] - ground.height_m) / up_b[2].max(0.2);
            let compression = self.layout.rest_length_m + self.layout.radius_m - gap;
            let normal = unit([-ground.slope[0], -ground.slope[1], 1.0]);
            let r = sub(hit, com);
            let v_point = add(linvel, cross(angvel, r));
            // Rate of compression: the point approaches the ground surface.
            let rate =
                -(v_point[2] - ground.slope[0] * v_point[0] - ground.slope[1] * v_point[1]) * normal[2];
            let load = wheels::suspension_force_n(compression, rate);
            let side = usize::from(!Layout::is_left(i));
            if load <= 0.0 {
                *tyre = Tyre::default();
                continue;
            }
            let e_x = unit(sub(fwd_b, scale(normal, dot(fwd_b, normal))));
            let e_y = cross(normal, e_x);
            let slip = [dot(v_point, e_x) - rim[side], dot(v_point, e_y)];
            let mu = self.terrain.friction(hit[0], hit[1]) * self.friction_scale;
            let tyre_force = tyre.force(slip, rim[side], load, mu, self.dt_s);
            let [fx, fy] = tyre_force.force_n;
            side_force[side] += fx;
            side_stiffness[side] += tyre_force.stiffness_ns_per_m;
            let f = add(add(scale(up_b, load), scale(e_x, fx)), scale(e_y, fy));
            forces[i] = (f, hit);
        }
        self.drivetrain.drive(side_force, side_stiffness, self.robot.motor_force_max_n, self.dt_s);
        if up_b[2] < HULL_CONTACT_UP_Z {
            self.hull_contacts(&pose, com, linvel, angvel, &mut forces[4..]);
        }

        let body = &mut self.physics.bodies[self.chassis];
        // User forces and torques persist in rapier until reset; forces at a point add both.
        body.reset_forces(false);
        body.reset_torques(false);
        for (f, p) in forces {
            if f != [0.0; 3] {
                body.add_force_at_point(v32(f), v32(p), false);
            }
        }
        self.prev_linvel = linvel;
        self.physics.step();
        let v = v64(self.physics.bodies[self.chassis].linvel());
        self.accel = scale(sub(v, self.prev_linvel), 1.0 / self.dt_s);
        self.update_status(true);
    }

    /// Penalty contacts of the chassis box's eight corners with the ground, so a robot that
    /// tipped over lies on the ground instead of falling through it.
    fn hull_contacts(
        &self,
        pose: &Pose,
        com: [f64; 3],
        linvel: [f64; 3],
        angvel: [f64; 3],
        out: &mut [([f64; 3], [f64; 3])],
    ) {
        let (hl, hw) = (0.5 * self.robot.length_m, 0.5 * self.robot.width_m);
        let (lo, hi) = (CHASSIS_FLOOR_M - self.robot.com_height_m, CHASSIS_TOP_M - self.robot.com_height_m);
        let corners = [[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]];
        let points = corners.iter().flat_map(|c| [[c[0] * hl, c[1] * hw, lo], [c[0] * hl, c[1] * hw, hi]]);
        for (slot, b) in out.iter_mut().zip(points) {
            let p = v64(pose.transform_point(v32(b)));
            let depth = self.terrain.height_m(p[0], p[1]) - p[2];
            if depth <= 0.0 {
                *slot = ([0.0; 3], p);
                continue;
            }
            let v = add(linvel, cross(angvel, sub(p, com)));
            let normal = (HULL_N_PER_M * depth - HULL_NS_PER_M * v[2]).max(0.0);
            // Sliding friction on the hull, viscous near rest and capped at 0.5 × normal.
            let cap = 0.5 * normal;
            let t = [-HULL_NS_PER_M * v[0], -HULL_NS_PER_M * v[1]];
            let k = (cap / t[0].hypot(t[1]).max(1e-9)).min(1.0);
            *slot = ([t[0] * k, t[1] * k, normal], p);
        }
    }

    /// Collision (by rapier's contacts, when `contacts`; they are stale right after a reset), then
    /// tip-over, then the geofence. A terminal status stays.
    fn update_status(&mut self, contacts: bool) {
        if self.status.is_terminal() {
            return;
        }
        let mut hit: Option<usize> = None;
        let pairs = if contacts {
            Some(self.physics.narrow_phase.contact_pairs_with(self.chassis_collider))
        } else {
            None
        };
        for pair in pairs.into_iter().flatten() {
            // Rapier's solver holds bodies a hair apart; within 5 mm counts as touching.
            let touching =
                pair.manifolds().iter().any(|m| m.points.iter().any(|p| p.dist <= TOUCH_M as Real));
            if !touching {
                continue;
            }
            let other = if pair.collider1 == self.chassis_collider { pair.collider2 } else { pair.collider1 };
            if let Some(c) = self.physics.colliders.get(other) {
                let i = c.user_data as usize;
                hit = Some(hit.map_or(i, |h| h.min(i)));
            }
        }
        if let Some(obstacle) = hit {
            self.status = Status::Collision { obstacle };
            return;
        }
        let (roll, pitch) = self.roll_pitch_rad();
        if roll.abs() > self.config.tip_over_rad || pitch.abs() > self.config.tip_over_rad {
            self.status = Status::TipOver;
            return;
        }
        let s = self.planar();
        if !footprint_inside(&self.world.geofence, &Footprint::from_state(&s, &self.robot)) {
            self.status = Status::GeofenceBreach;
        }
    }

    /// Ground-truth planar state.
    fn planar(&self) -> PlanarState {
        let body = self.body();
        let p = body.translation();
        let fwd = v64(*body.rotation() * Vector::X);
        PlanarState {
            x_m: p.x as f64,
            y_m: p.y as f64,
            yaw_rad: wrap_angle(fwd[1].atan2(fwd[0])),
            speed_mps: dot(v64(body.linvel()), fwd),
        }
    }

    fn gauss(&mut self, std: f64) -> f64 {
        if std > 0.0 {
            let z: f64 = StandardNormal.sample(&mut self.rng);
            std * z
        } else {
            0.0
        }
    }

    fn read_sensors(&mut self) {
        let s = self.planar();
        let body = self.body();
        let rot = *body.rotation();
        let gyro = v64(rot.inverse() * body.angvel());
        let yaw_rate = body.angvel().z as f64;
        let specific = v64(rot.inverse() * v32(add(self.accel, [0.0, 0.0, GRAVITY_MPS2])));
        let (roll, pitch) = self.roll_pitch_rad();
        let origin_z = self.terrain.height_m(s.x_m, s.y_m) + self.robot.lidar_height_m;
        let rays = &self.config.rays;
        let mut scan = std::mem::take(&mut self.sensors.scan);
        {
            let query = self.physics.broad_phase.as_query_pipeline(
                self.physics.narrow_phase.query_dispatcher(),
                &self.physics.bodies,
                &self.physics.colliders,
                QueryFilter::exclude_dynamic(),
            );
            for (j, range) in scan.ranges_m.iter_mut().enumerate() {
                let a = s.yaw_rad + scan.angle_min_rad + j as f64 * scan.angle_increment_rad;
                let ray = Ray::new(
                    Vector::new(s.x_m as Real, s.y_m as Real, origin_z as Real),
                    Vector::new(a.cos() as Real, a.sin() as Real, 0.0),
                );
                *range = query
                    .cast_ray(&ray, rays.max_range_m as Real, true)
                    .map_or(rays.max_range_m, |(_, toi)| toi as f64);
            }
        }
        let noise = self.config.noise.clone();
        let max_range_m = self.config.rays.max_range_m;
        for r in &mut scan.ranges_m {
            // One draw per beam, hit or not, so the noise stream does not depend on the scene; a
            // beam that saw nothing reads exactly the maximum range (as in low fidelity).
            let e = self.gauss(noise.range_m);
            if *r < max_range_m {
                *r = (*r + e).clamp(0.0, max_range_m);
            }
        }
        self.sensors.scan = scan;
        let odom = Odometry {
            state: PlanarState {
                x_m: s.x_m + self.gauss(noise.odom_position_m),
                y_m: s.y_m + self.gauss(noise.odom_position_m),
                yaw_rad: wrap_angle(s.yaw_rad + self.gauss(noise.odom_yaw_rad)),
                speed_mps: s.speed_mps + self.gauss(noise.odom_speed_mps),
            },
            yaw_rate_rps: yaw_rate + self.gauss(noise.gyro_rps),
        };
        let imu = Imu {
            gyro_rps: [
                gyro[0] + self.gauss(noise.gyro_rps),
                gyro[1] + self.gauss(noise.gyro_rps),
                gyro[2] + self.gauss(noise.gyro_rps),
            ],
            accel_mps2: [
                specific[0] + self.gauss(noise.accel_mps2),
                specific[1] + self.gauss(noise.accel_mps2),
                specific[2] + self.gauss(noise.accel_mps2),
            ],
            roll_rad: roll,
            pitch_rad: pitch,
        };
        self.sensors.odom = odom;
        self.sensors.imu = imu;
        crate::low_fidelity::reduce_scan(&mut self.reducer, &mut self.sensors);
    }
}

impl Simulator for HighFidelity {
    fn fidelity(&self) -> Fidelity {
        Fidelity::High
    }

    /// A start in collision, outside the geofence or tilted past the tip-over limit is terminal
    /// at once; so is a non-finite one (the robot is then placed at the origin).
    fn reset(&mut self, start: PlanarState, seed: u64) {
        let finite = [start.x_m, start.y_m, start.yaw_rad, start.speed_mps].iter().all(|v| v.is_finite());
        let start = if finite { start } else { PlanarState::default() };
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        let draw = |rng: &mut ChaCha8Rng, r: crate::Range| r.lo + (r.hi - r.lo) * rng.random::<f64>();
        let rand = self.config.randomisation.clone();
        self.mass_kg = draw(&mut self.rng, rand.mass_kg);
        self.friction_scale = draw(&mut self.rng, rand.friction_scale);
        self.latency_s = draw(&mut self.rng, rand.latency_s);

        // Stand the robot on the ground under `start`, tilted with it, at its static ride height.
        let ground = self.terrain.ground(start.x_m, start.y_m);
        let normal = unit([-ground.slope[0], -ground.slope[1], 1.0]);
        let rotation = Rotation::from_rotation_arc(Vector::Z, v32(normal))
            * Rotation::from_rotation_z(start.yaw_rad as Real);
        let ride = self.layout.ride_height_m(self.mass_kg);
        // Centre of mass straight above `start`, `ride` from the (locally planar) ground along
        // its normal, so the reset state is exactly `start`.
        let centre = [start.x_m, start.y_m, ground.height_m + ride / normal[2]];
        let forward = v64(rotation * Vector::X);
        let m = self.mass_kg;
        let (l, w, h) = (self.robot.length_m, self.robot.width_m, CHASSIS_TOP_M);
        // Inertia of a solid box the size of the robot.
        let inertia = Vector::new(
            (m * (w * w + h * h) / 12.0) as Real,
            (m * (l * l + h * h) / 12.0) as Real,
            (m * (l * l + w * w) / 12.0) as Real,
        );
        let body = &mut self.physics.bodies[self.chassis];
        body.set_additional_mass_properties(MassProperties::new(Vector::ZERO, m as Real, inertia), false);
        body.set_position(Pose::from_parts(v32(centre), rotation), false);
        body.set_linvel(v32(scale(forward, start.speed_mps)), false);
        body.set_angvel(Vector::ZERO, false);
        body.reset_forces(false);
        body.reset_torques(false);
        // Recompute mass properties and the collider's pose now, so the first substep sees them.
        body.recompute_mass_properties_from_colliders(&self.physics.colliders);

        self.queue.clear();
        self.active = VelocityCmd { linear_mps: start.speed_mps, angular_rps: 0.0 };
        self.drivetrain = Drivetrain::rolling(start.speed_mps);
        self.tyres = [Tyre::default(); 4];
        self.status = Status::Running;
        self.steps = 0;
        let footprint = Footprint::from_state(&self.planar(), &self.robot);
        if let Some(i) = self.world.obstacles.iter().position(|o| footprint_overlaps(&o.shape, &footprint)) {
            self.status = Status::Collision { obstacle: i };
        }
        self.update_status(false);
        if !finite {
            self.status = Status::GeofenceBreach;
        }
        self.prev_linvel = scale(forward, start.speed_mps);
        self.accel = [0.0; 3];
        self.read_sensors();
    }

    /// After a terminal status nothing moves until the next `reset` (as in low fidelity).
    fn step(&mut self, cmd: VelocityCmd) -> StepInfo {
        if self.status.is_terminal() {
            return StepInfo { state: self.planar(), status: self.status, time_s: self.time_s() };
        }
        let cmd = self.robot.clamp(cmd);
        let t = self.time_s();
        self.queue.push_back((t + self.latency_s, cmd));
        let first = self.steps * u64::from(self.substeps);
        for k in 0..u64::from(self.substeps) {
            self.substep(first + k);
            if self.status.is_terminal() {
                // Report the pose where it happened.
                break;
            }
        }
        self.steps += 1;
        self.read_sensors();
        StepInfo { state: self.planar(), status: self.status, time_s: self.time_s() }
    }

    fn state(&self) -> PlanarState {
        self.planar()
    }

    fn sensors(&self) -> &Sensors {
        &self.sensors
    }

    fn time_s(&self) -> f64 {
        self.steps as f64 / self.robot.control_hz
    }

    fn control_dt_s(&self) -> f64 {
        self.robot.control_dt_s()
    }
}

fn v64(v: Vector) -> [f64; 3] {
    [v.x as f64, v.y as f64, v.z as f64]
}

fn v32(v: [f64; 3]) -> Vector {
    Vector::new(v[0] as Real, v[1] as Real, v[2] as Real)
}

fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn scale(a: [f64; 3], s: f64) -> [f64; 3] {
    [a[0] * s, a[1] * s, a[2] * s]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

fn unit(a: [f64; 3]) -> [f64; 3] {
    let n = dot(a, a).sqrt();
    if n > 0.0 { scale(a, 1.0 / n) } else { [0.0, 0.0, 1.0] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NoiseConfig, Obstacle, Range, Shape, TerrainPatch, Vec2};

    fn quiet() -> HighFidelityConfig {
        HighFidelityConfig { noise: NoiseConfig::default(), ..HighFidelityConfig::default() }
    }

    fn open() -> World {
        World::open(Vec2::new(-50.0, -50.0), Vec2::new(50.0, 50.0))
    }

    fn sim(world: World, config: HighFidelityConfig) -> HighFidelity {
        HighFidelity::new(RobotParams::default(), Arc::new(world), config).unwrap_or_else(|e| panic!("{e}"))
    }

    fn at(x_m: f64, y_m: f64, yaw_rad: f64) -> PlanarState {
        PlanarState { x_m, y_m, yaw_rad, speed_mps: 0.0 }
    }

    fn cmd(linear_mps: f64, angular_rps: f64) -> VelocityCmd {
        VelocityCmd { linear_mps, angular_rps }
    }

    /// A bank around the origin, 30 m × 20 m, falling to the south.
    fn bank(grade: f64, friction: f64) -> World {
        let mut w = open();
        w.terrain.push(TerrainPatch {
            shape: Shape::Box {
                center: Vec2::new(0.0, 0.0),
                half_extents_m: Vec2::new(15.0, 10.0),
                yaw_rad: 0.0,
            },
            grade,
            downhill_yaw_rad: -std::f64::consts::FRAC_PI_2,
            roughness_m: 0.0,
            friction,
        });
        w
    }

    #[test]
    fn stands_still_level_and_feels_gravity() {
        let mut s = sim(open(), quiet());
        s.reset(at(1.0, 2.0, 0.5), 0);
        for _ in 0..100 {
            s.step(VelocityCmd::STOP);
        }
        let imu = s.sensors().imu;
        assert!((imu.accel_mps2[2] - GRAVITY_MPS2).abs() < 1e-3, "{imu:?}");
        assert!(imu.gyro_rps.iter().all(|g| g.abs() < 1e-6) && imu.roll_rad.abs() < 1e-6);
        assert!((s.ride_height_m() - RobotParams::default().com_height_m).abs() < 1e-3);
        let p = s.state();
        assert!((p.x_m - 1.0).abs() < 1e-4 && (p.y_m - 2.0).abs() < 1e-4 && (p.yaw_rad - 0.5).abs() < 1e-5);
    }

    #[test]
    fn parked_on_a_grippy_bank_it_holds_and_on_a_slippery_one_it_slides() {
        // Across the slope, grade 0.3 (16.7°): lateral grip 0.865 × 0.8 = 0.69 holds, 0.865 × 0.25
        // = 0.22 does not.
        for (friction, holds) in [(0.8, true), (0.25, false)] {
            let mut s = sim(bank(0.3, friction), quiet());
            s.reset(at(0.0, 0.0, 0.0), 0);
            for _ in 0..50 {
                s.step(VelocityCmd::STOP);
            }
            let y1 = s.state().y_m;
            for _ in 0..100 {
                s.step(VelocityCmd::STOP);
            }
            let crept = s.state().y_m - y1;
            let (roll, _) = s.roll_pitch_rad();
            // The bank's 0.291 rad plus the downhill springs giving under the load transfer.
            assert!(roll.abs() > 0.29 && roll.abs() < 0.34, "the chassis leans with the bank: {roll}");
            if holds {
                assert!(crept.abs() < 1e-3, "crept {crept} m in 2 s");
            } else {
                assert!(crept < -1.0, "slid only {crept} m in 2 s");
            }
        }
    }

    #[test]
    fn a_derated_motor_cannot_climb_what_the_full_one_climbs() {
        // Straight up a grade 0.5 (26.6°) on grippy ground: gravity asks 0.447 × 260 kg × g ≈
        // 1140 N along the slope; the default 2 × 1000 N climbs, 2 × 500 N rolls back.
        for (force_n, climbs) in [(1_000.0, true), (500.0, false)] {
            let robot = RobotParams { motor_force_max_n: force_n, ..RobotParams::default() };
            let mut s =
                HighFidelity::new(robot, Arc::new(bank(0.5, 1.0)), quiet()).unwrap_or_else(|e| panic!("{e}"));
            s.reset(at(0.0, -5.0, std::f64::consts::FRAC_PI_2), 0);
            for _ in 0..150 {
                s.step(cmd(1.0, 0.0));
            }
            let dy = s.state().y_m + 5.0;
            if climbs {
                assert!(dy > 1.5, "{force_n} N per side climbed only {dy} m in 3 s");
            } else {
                assert!(dy < 0.0, "{force_n} N per side climbed {dy} m");
            }
        }
    }

    #[test]
    fn a_steep_bank_tips_it_over_and_the_status_sticks() {
        // Grade 1.2 (50°) across the slope: past the 0.7 rad limit at once.
        let mut s = sim(bank(1.2, 1.0), quiet());
        s.reset(at(0.0, 0.0, 0.0), 0);
        assert_eq!(s.step(VelocityCmd::STOP).status, Status::TipOver);
        let frozen = s.state();
        let info = s.step(cmd(2.0, 0.0));
        assert_eq!((info.status, info.state), (Status::TipOver, frozen), "nothing moves after the end");
        s.reset(at(30.0, 30.0, 0.0), 0);
        assert_eq!(s.step(VelocityCmd::STOP).status, Status::Running, "reset clears it");
    }

    #[test]
    fn driving_into_an_obstacle_is_a_collision_with_that_obstacle() {
        let mut w = open();
        for x in [20.0, 8.0] {
            w.obstacles.push(Obstacle {
                shape: Shape::Disc { center: Vec2::new(x, 0.0), radius_m: 0.5 },
                height_m: 0.2,
            });
        }
        let mut s = sim(w, quiet());
        s.reset(at(0.0, 0.0, 0.0), 0);
        let mut status = Status::Running;
        for _ in 0..300 {
            status = s.step(cmd(2.0, 0.0)).status;
            if status.is_terminal() {
                break;
            }
        }
        // Even a 0.2 m kerb stops the robot: the collision box stands for the wheels too.
        assert_eq!(status, Status::Collision { obstacle: 1 });
        // Front of the 1.52 m chassis at the disc's near side: centre at 8 − 0.5 − 0.76.
        assert!((s.state().x_m - 6.74).abs() < 0.1, "{:?}", s.state());
        // A start inside an obstacle is terminal at once, as in low fidelity.
        s.reset(at(8.0, 0.5, 0.0), 0);
        assert_eq!(s.step(VelocityCmd::STOP).status, Status::Collision { obstacle: 1 });
    }

    #[test]
    fn leaving_the_geofence_is_a_breach() {
        let mut s = sim(open(), quiet());
        s.reset(at(45.0, 0.0, 0.0), 0);
        let mut status = Status::Running;
        for _ in 0..200 {
            status = s.step(cmd(3.0, 0.0)).status;
            if status.is_terminal() {
                break;
            }
        }
        assert_eq!(status, Status::GeofenceBreach);
        assert!(s.state().x_m + 0.76 > 49.9 && s.state().x_m < 50.0, "{:?}", s.state());
    }

    #[test]
    fn latency_delays_the_command() {
        let config = HighFidelityConfig {
            randomisation: crate::Randomisation { latency_s: Range::fixed(0.2), ..Default::default() },
            ..quiet()
        };
        let mut s = sim(open(), config);
        s.reset(at(0.0, 0.0, 0.0), 0);
        for _ in 0..9 {
            s.step(cmd(2.0, 0.0));
        }
        assert!(s.state().speed_mps.abs() < 1e-3, "moved before the command arrived: {:?}", s.state());
        for _ in 0..10 {
            s.step(cmd(2.0, 0.0));
        }
        assert!(s.state().speed_mps > 0.3, "{:?}", s.state());
    }

    #[test]
    fn randomisation_is_drawn_from_the_seed_within_its_ranges() {
        let config = HighFidelityConfig {
            randomisation: crate::Randomisation {
                mass_kg: Range { lo: 240.0, hi: 300.0 },
                friction_scale: Range { lo: 0.7, hi: 1.1 },
                latency_s: Range { lo: 0.0, hi: 0.1 },
            },
            ..HighFidelityConfig::default()
        };
        let mut s = sim(open(), config);
        let mut draws = Vec::new();
        for seed in 0..20 {
            s.reset(at(0.0, 0.0, 0.0), seed);
            assert!((240.0..=300.0).contains(&s.mass_kg()));
            assert!((0.7..=1.1).contains(&s.friction_scale()));
            assert!((0.0..=0.1).contains(&s.latency_s()));
            draws.push(s.mass_kg());
        }
        s.reset(at(0.0, 0.0, 0.0), 3);
        assert_eq!(s.mass_kg(), draws[3]);
        assert!(draws[0] != draws[1]);
    }

    #[test]
    fn a_reused_simulator_repeats_a_fresh_one_bit_for_bit() {
        let mut w = open();
        w.obstacles.push(Obstacle {
            shape: Shape::Disc { center: Vec2::new(5.0, 0.0), radius_m: 1.0 },
            height_m: 2.0,
        });
        let run = |s: &mut HighFidelity, seed| {
            s.reset(at(0.0, -5.0, 0.3), seed);
            (0..100)
                .map(|k| (s.step(cmd(2.0, (k as f64 * 0.1).sin())), s.sensors().clone()))
                .collect::<Vec<_>>()
        };
        let mut fresh = sim(w.clone(), HighFidelityConfig::default());
        let expected = run(&mut fresh, 5);
        let mut used = sim(w, HighFidelityConfig::default());
        // An episode that ends against the obstacle first.
        used.reset(at(0.0, 0.0, 0.0), 9);
        while !used.step(cmd(3.0, 0.0)).status.is_terminal() {}
        assert!(run(&mut used, 5) == expected);
    }

    #[test]
    fn bad_settings_are_refused_with_the_field() {
        let robot = RobotParams::default();
        let w = Arc::new(open());
        let bad_rate = HighFidelityConfig { physics_hz: 130.0, ..HighFidelityConfig::default() };
        let e = HighFidelity::new(robot.clone(), w.clone(), bad_rate).err().map(|e| e.to_string());
        assert!(e.is_some_and(|m| m.contains("physics_hz")));
        let nan_mass = HighFidelityConfig {
            randomisation: crate::Randomisation { mass_kg: Range::fixed(f64::NAN), ..Default::default() },
            ..HighFidelityConfig::default()
        };
        let e = HighFidelity::new(robot, w, nan_mass).err().map(|e| e.to_string());
        assert!(e.is_some_and(|m| m.contains("mass_kg")));
    }
}
