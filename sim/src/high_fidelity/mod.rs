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
//! Rapier's `DynamicRayCastVehicleController` is not used: its tyre friction has no lateral
//! scrubbing of a skid-steer (it models steered wheels that roll sideways-free up to a
//! side-friction impulse), so turning in place would not give the 1.49 × track effective
//! separation DESIGN §9 asks for. The wheels are our own ray-style model instead.

mod terrain;
mod wheels;

use std::collections::VecDeque;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rapier3d::prelude::*;

// TEMP-SHIM: replaced by crate::geometry once it lands.
use shim::{Footprint, footprint_inside};
mod shim {
    use crate::Vec2;
    pub struct Footprint { pub center: Vec2, pub yaw_rad: f64, pub half_length_m: f64, pub half_width_m: f64 }
    pub fn footprint_inside(poly: &[Vec2], f: &Footprint) -> bool {
        let (lo, hi) = (poly[0], poly[2]);
        let r = f.half_length_m.hypot(f.half_width_m);
        f.center.x - r >= lo.x && f.center.x + r <= hi.x && f.center.y - r >= lo.y && f.center.y + r <= hi.y && f.yaw_rad.is_finite()
    }
}
use crate::{
    Error, Fidelity, HighFidelityConfig, Imu, Odometry, PlanarState, RobotParams, Sensors, Shape, Simulator, Status,
    StepInfo, Vec2, VelocityCmd, World, wrap_angle,
};
use terrain::Terrain;
use wheels::{Drivetrain, Layout, Tyre};

/// Standard gravity (m/s²).
const GRAVITY_MPS2: f64 = 9.81;
/// Obstacle colliders reach this far below the ground at their centre (m), so a sloping yard
/// leaves no gap under them.
const OBSTACLE_FOOTING_M: f64 = 1.0;
/// Height of the chassis collision box's floor above level ground at rest (m): low, so the box
/// stands for the wheels as well and even a kerb-height obstacle counts as a collision, as in the
/// planar footprint of low fidelity.
const CHASSIS_FLOOR_M: f64 = 0.05;
/// Height of the Warthog's top above the ground (m).
const CHASSIS_TOP_M: f64 = 0.83;

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
        f.debug_struct("Physics").field("bodies", &self.bodies.len()).field("colliders", &self.colliders.len()).finish()
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

fn check(field: &'static str, value: f64, ok: bool, allowed: &'static str) -> Result<(), Error> {
    if ok { Ok(()) } else { Err(Error::OutOfRange { field, value, allowed }) }
}

impl HighFidelity {
    /// Build the simulator: static obstacle colliders, terrain and the chassis. The robot stands
    /// at the origin until the first `reset`.
    ///
    /// Fails when a rate, range or shape cannot be simulated (NaN fails every check).
    pub fn new(robot: RobotParams, world: Arc<World>, config: HighFidelityConfig) -> Result<Self, Error> {
        validate(&robot, &world, &config)?;
        let ratio = config.physics_hz / robot.control_hz;
        let substeps = ratio.round();
        check("physics_hz", config.physics_hz, substeps >= 1.0 && (ratio - substeps).abs() < 1e-6, "a whole multiple of control_hz")?;
        let dt_s = 1.0 / config.physics_hz;
        let terrain = Terrain::new(&world);
        let layout = Layout::new(&robot);

        let mut params = IntegrationParameters::default();
        params.dt = dt_s as Real;
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
            sensors: Sensors::default(),
        };
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
        let mut forces = [([0.0; 3], [0.0; 3]); 4];
        let mut side_force = [0.0; 2];
        let mut side_stiffness = [0.0; 2];
        for (i, tyre) in self.tyres.iter_mut().enumerate() {
            let a = self.layout.attach[i];
            let attach = v64(pose.transform_point(Vector::new(a[0] as Real, a[1] as Real, a[2] as Real)));
            // Ray from the attachment down the chassis' -z to the ground: two fixed-point passes
            // settle where it meets the (gently sloping) ground.
            let mut hit = attach;
            let mut ground = self.terrain.ground(hit[0], hit[1]);
            for _ in 0..2 {
                let along = (attach[2] - ground.height_m) / up_b[2].max(0.2);
                hit = sub(attach, scale(up_b, along));
                ground = self.terrain.ground(hit[0], hit[1]);
            }
            let gap = (attach[2] - ground.height_m) / up_b[2].max(0.2);
            let compression = self.layout.rest_length_m + self.layout.radius_m - gap;
            let normal = unit([-ground.slope[0], -ground.slope[1], 1.0]);
            let r = sub(hit, com);
            let v_point = add(linvel, cross(angvel, r));
            // Rate of compression: the point approaches the ground surface.
            let rate = -(v_point[2] - ground.slope[0] * v_point[0] - ground.slope[1] * v_point[1]) * normal[2];
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
        self.drivetrain.drive(side_force, side_stiffness, self.dt_s);

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
        self.update_status();
    }

    fn update_status(&mut self) {
        if self.status.is_terminal() {
            return;
        }
        let mut hit: Option<usize> = None;
        for pair in self.physics.narrow_phase.contact_pairs_with(self.chassis_collider) {
            let touching = pair.manifolds().iter().any(|m| m.points.iter().any(|p| p.dist <= 0.0));
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
        let footprint = Footprint {
            center: Vec2::new(s.x_m, s.y_m),
            yaw_rad: s.yaw_rad,
            half_length_m: 0.5 * self.robot.length_m,
            half_width_m: 0.5 * self.robot.width_m,
        };
        if !footprint_inside(&self.world.geofence, &footprint) {
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
        let rays = self.config.rays.clone();
        let mut ranges = Vec::with_capacity(rays.count);
        {
            let query = self.physics.broad_phase.as_query_pipeline(
                self.physics.narrow_phase.query_dispatcher(),
                &self.physics.bodies,
                &self.physics.colliders,
                QueryFilter::exclude_dynamic(),
            );
            for i in 0..rays.count {
                let a = s.yaw_rad + rays.angle_rad(i);
                let ray = Ray::new(
                    Vector::new(s.x_m as Real, s.y_m as Real, origin_z as Real),
                    Vector::new(a.cos() as Real, a.sin() as Real, 0.0),
                );
                let d = query.cast_ray(&ray, rays.max_range_m as Real, true).map_or(rays.max_range_m, |(_, toi)| toi as f64);
                ranges.push(d);
            }
        }
        let noise = self.config.noise.clone();
        for r in &mut ranges {
            *r = (*r + self.gauss(noise.range_m)).clamp(0.0, rays.max_range_m);
        }
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
        self.sensors = Sensors { odom, imu, ranges_m: ranges };
    }
}

impl Simulator for HighFidelity {
    fn fidelity(&self) -> Fidelity {
        Fidelity::High
    }

    fn reset(&mut self, start: PlanarState, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        let draw = |rng: &mut ChaCha8Rng, r: crate::Range| r.lo + (r.hi - r.lo) * rng.random::<f64>();
        let rand = self.config.randomisation.clone();
        self.mass_kg = draw(&mut self.rng, rand.mass_kg);
        self.friction_scale = draw(&mut self.rng, rand.friction_scale);
        self.latency_s = draw(&mut self.rng, rand.latency_s);

        // Stand the robot on the ground under `start`, tilted with it, at its static ride height.
        let ground = self.terrain.ground(start.x_m, start.y_m);
        let normal = unit([-ground.slope[0], -ground.slope[1], 1.0]);
        let rotation = Rotation::from_rotation_arc(Vector::Z, v32(normal)) * Rotation::from_rotation_z(start.yaw_rad as Real);
        let ride = self.layout.ride_height_m(self.mass_kg);
        let centre = add([start.x_m, start.y_m, ground.height_m], scale(normal, ride));
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
        self.prev_linvel = scale(forward, start.speed_mps);
        self.accel = [0.0; 3];
        self.read_sensors();
    }

    fn step(&mut self, cmd: VelocityCmd) -> StepInfo {
        let cmd = self.robot.clamp(cmd);
        let t = self.time_s();
        self.queue.push_back((t + self.latency_s, cmd));
        let first = self.steps * u64::from(self.substeps);
        for k in 0..u64::from(self.substeps) {
            self.substep(first + k);
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

/// The collider of obstacle `index`, standing on the ground at its centre.
fn obstacle_collider(terrain: &Terrain, index: usize, shape: &Shape, height_m: f64) -> Result<Collider, Error> {
    let what = || format!("obstacle {index}");
    let (cx, cy) = match shape {
        Shape::Disc { center, .. } | Shape::Box { center, .. } => (center.x, center.y),
        Shape::Polygon { vertices } => {
            let n = vertices.len().max(1) as f64;
            (vertices.iter().map(|v| v.x).sum::<f64>() / n, vertices.iter().map(|v| v.y).sum::<f64>() / n)
        }
    };
    let base = terrain.height_m(cx, cy) - OBSTACLE_FOOTING_M;
    let top = terrain.height_m(cx, cy) + height_m;
    let half = 0.5 * (top - base);
    let mid = (0.5 * (top + base)) as Real;
    let builder = match shape {
        Shape::Disc { center, radius_m } => ColliderBuilder::cylinder(half as Real, *radius_m as Real).position(
            Pose::from_parts(
                Vector::new(center.x as Real, center.y as Real, mid),
                // Rapier's cylinders stand along y; turn them upright.
                Rotation::from_rotation_x(std::f32::consts::FRAC_PI_2),
            ),
        ),
        Shape::Box { center, half_extents_m, yaw_rad } => {
            ColliderBuilder::cuboid(half_extents_m.x as Real, half_extents_m.y as Real, half as Real).position(
                Pose::from_parts(
                    Vector::new(center.x as Real, center.y as Real, mid),
                    Rotation::from_rotation_z(*yaw_rad as Real),
                ),
            )
        }
        Shape::Polygon { vertices } => {
            let points: Vec<Vector> = vertices
                .iter()
                .flat_map(|v| {
                    [
                        Vector::new((v.x - cx) as Real, (v.y - cy) as Real, -half as Real),
                        Vector::new((v.x - cx) as Real, (v.y - cy) as Real, half as Real),
                    ]
                })
                .collect();
            ColliderBuilder::convex_hull(&points)
                .ok_or_else(|| Error::BadShape { what: what(), reason: "polygon has no convex hull" })?
                .translation(Vector::new(cx as Real, cy as Real, mid))
        }
    };
    Ok(builder.user_data(index as u128).friction(0.5).build())
}

fn validate(robot: &RobotParams, world: &World, config: &HighFidelityConfig) -> Result<(), Error> {
    let positive = |field, v: f64| check(field, v, v > 0.0 && v.is_finite(), "> 0 and finite");
    positive("robot.control_hz", robot.control_hz)?;
    positive("robot.wheel_radius_m", robot.wheel_radius_m)?;
    positive("robot.track_m", robot.track_m)?;
    positive("robot.wheelbase_m", robot.wheelbase_m)?;
    positive("robot.length_m", robot.length_m)?;
    positive("robot.width_m", robot.width_m)?;
    positive("robot.com_height_m", robot.com_height_m)?;
    positive("robot.max_accel_mps2", robot.max_accel_mps2)?;
    positive("robot.max_yaw_accel_rps2", robot.max_yaw_accel_rps2)?;
    check("robot.motor_lag_s", robot.motor_lag_s, robot.motor_lag_s >= 0.0 && robot.motor_lag_s.is_finite(), ">= 0")?;
    positive("physics_hz", config.physics_hz)?;
    positive("tip_over_rad", config.tip_over_rad)?;
    positive("rays.max_range_m", config.rays.max_range_m)?;
    let r = &config.randomisation;
    for (field, range, min) in [
        ("randomisation.mass_kg", r.mass_kg, f64::MIN_POSITIVE),
        ("randomisation.friction_scale", r.friction_scale, 0.0),
        ("randomisation.latency_s", r.latency_s, 0.0),
    ] {
        check(field, range.lo, range.lo >= min && range.lo.is_finite(), "lo >= 0 (mass > 0), finite")?;
        check(field, range.hi, range.hi >= range.lo && range.hi.is_finite(), "hi >= lo, finite")?;
    }
    let noise = &config.noise;
    for (field, v) in [
        ("noise.odom_position_m", noise.odom_position_m),
        ("noise.odom_yaw_rad", noise.odom_yaw_rad),
        ("noise.odom_speed_mps", noise.odom_speed_mps),
        ("noise.gyro_rps", noise.gyro_rps),
        ("noise.accel_mps2", noise.accel_mps2),
        ("noise.range_m", noise.range_m),
    ] {
        check(field, v, v >= 0.0 && v.is_finite(), ">= 0 and finite")?;
    }
    check("world.ground_friction", world.ground_friction, world.ground_friction >= 0.0, ">= 0")?;
    if world.geofence.len() < 3 {
        return Err(Error::BadShape { what: "geofence".into(), reason: "needs at least 3 vertices" });
    }
    for (i, o) in world.obstacles.iter().enumerate() {
        check("obstacle.height_m", o.height_m, o.height_m > 0.0 && o.height_m.is_finite(), "> 0 and finite")?;
        shape_ok(&o.shape, || format!("obstacle {i}"))?;
    }
    for (i, p) in world.terrain.iter().enumerate() {
        shape_ok(&p.shape, || format!("terrain patch {i}"))?;
        check("terrain.grade", p.grade, p.grade >= 0.0 && p.grade.is_finite(), ">= 0 and finite")?;
        check("terrain.roughness_m", p.roughness_m, p.roughness_m >= 0.0 && p.roughness_m.is_finite(), ">= 0")?;
        check("terrain.friction", p.friction, p.friction >= 0.0 && p.friction.is_finite(), ">= 0")?;
        check("terrain.downhill_yaw_rad", p.downhill_yaw_rad, p.downhill_yaw_rad.is_finite(), "finite")?;
    }
    Ok(())
}

fn shape_ok(shape: &Shape, what: impl Fn() -> String) -> Result<(), Error> {
    let bad = |reason| Err(Error::BadShape { what: what(), reason });
    match shape {
        Shape::Disc { center, radius_m } => {
            if !(*radius_m > 0.0 && radius_m.is_finite() && center.x.is_finite() && center.y.is_finite()) {
                return bad("disc radius must be > 0 and finite");
            }
        }
        Shape::Box { center, half_extents_m: h, yaw_rad } => {
            if !(h.x > 0.0 && h.y > 0.0 && h.x.is_finite() && h.y.is_finite())
                || ![center.x, center.y, *yaw_rad].iter().all(|v| v.is_finite())
            {
                return bad("box half extents must be > 0 and finite");
            }
        }
        Shape::Polygon { vertices } => {
            if vertices.len() < 3 || !vertices.iter().all(|v| v.x.is_finite() && v.y.is_finite()) {
                return bad("polygon needs at least 3 finite vertices");
            }
        }
    }
    Ok(())
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

    fn quiet() -> HighFidelityConfig {
        HighFidelityConfig { noise: crate::NoiseConfig::default(), ..HighFidelityConfig::default() }
    }

    fn open() -> Arc<World> {
        Arc::new(World::open(Vec2::new(-100.0, -100.0), Vec2::new(100.0, 100.0)))
    }

    fn bank(grade: f64, friction: f64) -> Arc<World> {
        let mut w = World::open(Vec2::new(-100.0, -100.0), Vec2::new(100.0, 100.0));
        w.terrain.push(crate::TerrainPatch {
            shape: Shape::Box { center: Vec2::new(10.0, 0.0), half_extents_m: Vec2::new(15.0, 10.0), yaw_rad: 0.0 },
            grade,
            downhill_yaw_rad: -std::f64::consts::FRAC_PI_2,
            roughness_m: 0.0,
            friction,
        });
        Arc::new(w)
    }

    #[test]
    fn scratch() {
        let robot = RobotParams::default();
        let mut sim = HighFidelity::new(robot.clone(), open(), quiet()).unwrap();
        sim.reset(PlanarState::default(), 1);
        for _ in 0..250 { sim.step(VelocityCmd { linear_mps: 2.0, angular_rps: 0.0 }); }
        println!("straight end {:?}", sim.state());
        for (v, w) in [(0.0, 1.0), (0.0, 2.0), (3.0, 1.5), (1.0, 0.5)] {
            sim.reset(PlanarState::default(), 1);
            let mut sum = 0.0;
            for k in 0..300 {
                sim.step(VelocityCmd { linear_mps: v, angular_rps: w });
                if k >= 200 { sum += sim.sensors().odom.yaw_rate_rps; }
            }
            let rate = sum / 100.0;
            let (l, r) = sim.wheel_speeds_mps();
            println!("v {v} w {w}: rate {rate:.4} eff sep {:.4} state {:?} status {:?}", (r - l) / rate, sim.state(), sim.status);
        }
        for (grade, mu) in [(0.3, 0.8), (0.3, 0.25), (0.0, 0.25), (1.0, 1.0)] {
            let mut sim = HighFidelity::new(robot.clone(), bank(grade, mu), quiet()).unwrap();
            sim.reset(PlanarState { x_m: 0.0, y_m: 0.0, yaw_rad: 0.0, speed_mps: 0.0 }, 1);
            for _ in 0..50 { sim.step(VelocityCmd::STOP); }
            let parked = sim.state();
            for _ in 0..150 { sim.step(VelocityCmd { linear_mps: 2.0, angular_rps: 0.0 }); }
            println!("bank {grade} mu {mu}: parked {:?} drove {:?} rp {:?} status {:?}", parked, sim.state(), sim.roll_pitch_rad(), sim.status);
        }
    }
}
