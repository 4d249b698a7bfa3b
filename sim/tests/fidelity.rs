//! Cross-simulator tests: one test body against both fidelities, agreement where the physics is
//! simple (flat firm ground), and disagreement in the documented direction where it is not
//! (slopes, mud), plus the skid-steer effective separation the high-fidelity model must produce.

use std::sync::Arc;

use sim2real_sim::{
    HighFidelity, HighFidelityConfig, LowFidelity, LowFidelityConfig, NoiseConfig, Obstacle, PlanarState,
    RobotParams, Sensors, Shape, Simulator, StepInfo, TerrainPatch, Vec2, VelocityCmd, World, wrap_angle,
};

fn open_world() -> World {
    World::open(Vec2::new(-50.0, -50.0), Vec2::new(50.0, 50.0))
}

/// A tall box 9 m ahead of the origin (front face at x = 9) and a low one 9 m behind it.
fn world_with_obstacles() -> World {
    let mut w = open_world();
    w.obstacles.push(Obstacle {
        shape: Shape::Box { center: Vec2::new(10.0, 0.0), half_extents_m: Vec2::new(1.0, 1.0), yaw_rad: 0.0 },
        height_m: 2.0,
    });
    // Lower than the 0.6 m range sensor: invisible to it.
    w.obstacles
        .push(Obstacle { shape: Shape::Disc { center: Vec2::new(0.0, 10.0), radius_m: 1.0 }, height_m: 0.3 });
    w
}

fn quiet_high() -> HighFidelityConfig {
    HighFidelityConfig { noise: NoiseConfig::default(), ..HighFidelityConfig::default() }
}

fn noisy() -> NoiseConfig {
    HighFidelityConfig::default().noise
}

fn high(world: World, config: HighFidelityConfig) -> HighFidelity {
    HighFidelity::new(RobotParams::default(), Arc::new(world), config)
        .unwrap_or_else(|e| panic!("high fidelity: {e}"))
}

fn low(world: World, noise: NoiseConfig) -> LowFidelity {
    let config = LowFidelityConfig { noise, ..LowFidelityConfig::default() };
    LowFidelity::new(RobotParams::default(), Arc::new(world), config)
        .unwrap_or_else(|e| panic!("low fidelity: {e}"))
}

fn origin() -> PlanarState {
    PlanarState::default()
}

fn cmd(linear_mps: f64, angular_rps: f64) -> VelocityCmd {
    VelocityCmd { linear_mps, angular_rps }
}

/// Drive a fixed command schedule from `start` and record every step and sensor reading.
fn record(sim: &mut dyn Simulator, start: PlanarState, seed: u64, steps: usize) -> Vec<(StepInfo, Sensors)> {
    sim.reset(start, seed);
    (0..steps)
        .map(|k| {
            let t = k as f64 * sim.control_dt_s();
            let info = sim.step(cmd(1.5, 0.6 * (1.3 * t).sin()));
            (info, sim.sensors().clone())
        })
        .collect()
}

fn all_finite(s: &Sensors) -> bool {
    let o = &s.odom;
    let i = &s.imu;
    [o.state.x_m, o.state.y_m, o.state.yaw_rad, o.state.speed_mps, o.yaw_rate_rps, i.roll_rad, i.pitch_rad]
        .iter()
        .chain(&i.gyro_rps)
        .chain(&i.accel_mps2)
        .chain(&s.ranges_m)
        .all(|v| v.is_finite())
}

/// The shared test body: reset, drive, determinism, finite sensors, and rays that see the tall
/// obstacle at the right distance and not the low one. `sim` is built on
/// `world_with_obstacles()` with the default 9 rays over 270°, 20 m range and noisy sensors.
fn exercise(sim: &mut dyn Simulator) {
    let name = sim.fidelity().name();
    // Standing still: ray 4 looks ahead at the box's front face, 9 m from the centre (its
    // nearest beam 2.5° off the axis); ray 7 looks left over the low disc and sees nothing. 0.1 m
    // is five standard deviations of the 0.02 m range noise.
    sim.reset(origin(), 3);
    assert_eq!(sim.time_s(), 0.0);
    let r = &sim.sensors().ranges_m;
    assert_eq!(r.len(), 9, "{name}");
    assert!((r[4] - 9.0).abs() < 0.1, "{name}: ray 4 reads {}", r[4]);
    assert_eq!(r[7], 20.0, "{name}: the low obstacle is below the sensor");
    assert!(all_finite(sim.sensors()), "{name}");

    // Driving away from the box (south): seed → bit-identical trajectory and readings.
    let start = PlanarState { x_m: 0.0, y_m: -3.0, yaw_rad: -1.2, speed_mps: 0.0 };
    let a = record(sim, start, 11, 150);
    let b = record(sim, start, 11, 150);
    assert!(a == b, "{name}: same seed must give bit-identical results");
    let c = record(sim, start, 12, 150);
    assert!(a != c, "{name}: another seed draws other sensor noise");
    for (info, sensors) in &a {
        assert!(!info.status.is_terminal(), "{name}: {:?}", info.status);
        assert!(all_finite(sensors), "{name}: {sensors:?}");
    }
    let (last, _) = a[a.len() - 1];
    assert!((last.time_s - 3.0).abs() < 1e-9, "{name}: 150 steps at 50 Hz");
    let moved = (last.state.x_m - start.x_m).hypot(last.state.y_m - start.y_m);
    assert!(moved > 3.0, "{name}: moved only {moved} m");
    assert!((sim.control_dt_s() - 0.02).abs() < 1e-12);
}

#[test]
fn shared_body_low_fidelity() {
    exercise(&mut low(world_with_obstacles(), noisy()));
}

#[test]
fn shared_body_high_fidelity() {
    exercise(&mut high(world_with_obstacles(), HighFidelityConfig::default()));
}

/// Run a constant command from the origin for `seconds` and return the final state and the
/// unwrapped heading change.
fn drive(sim: &mut dyn Simulator, command: VelocityCmd, seconds: f64) -> (PlanarState, f64) {
    sim.reset(origin(), 1);
    let mut turned = 0.0;
    let mut yaw = sim.state().yaw_rad;
    for _ in 0..(seconds / sim.control_dt_s()).round() as usize {
        let s = sim.step(command).state;
        turned += wrap_angle(s.yaw_rad - yaw);
        yaw = s.yaw_rad;
    }
    (sim.state(), turned)
}

#[test]
fn straight_drive_agrees_on_flat_ground() {
    let (lo, _) = drive(&mut low(open_world(), NoiseConfig::default()), cmd(2.0, 0.0), 5.0);
    let (hi, hi_turn) = drive(&mut high(open_world(), quiet_high()), cmd(2.0, 0.0), 5.0);
    println!("straight 2 m/s for 5 s: low {lo:?}, high {hi:?}");
    // Both let the twist follow the command through the same 0.15 s lag bounded by the same
    // 3 m/s² limit, so they cover the same ~9.3 m (measured: low 9.2995 m, high 9.2866 m). High
    // fidelity loses a little to the tyres' longitudinal compliance, the chassis pitching as it
    // accelerates and the lag running at 200 Hz instead of 50 Hz: about a centimetre. 0.1 m
    // (1 %) catches a wrong wheel radius or a lag placed after the rate limit (0.3 m behind).
    assert!((hi.x_m - lo.x_m).abs() < 0.1, "distance: low {} m, high {} m", lo.x_m, hi.x_m);
    assert!((hi.speed_mps - lo.speed_mps).abs() < 0.02, "speed: low {}, high {}", lo.speed_mps, hi.speed_mps);
    // A symmetric robot on flat ground drives straight.
    assert!(hi.y_m.abs() < 0.01 && hi_turn.abs() < 1e-3, "high fidelity drifted: {hi:?}");
    assert!(lo.y_m.abs() < 1e-9);
}

#[test]
fn turn_in_place_agrees_on_flat_ground() {
    let (lo, lo_turn) = drive(&mut low(open_world(), NoiseConfig::default()), cmd(0.0, 1.0), 3.0);
    let (hi, hi_turn) = drive(&mut high(open_world(), quiet_high()), cmd(0.0, 1.0), 3.0);
    println!("turn 1 rad/s for 3 s: low {lo_turn} rad, high {hi_turn} rad at {hi:?}");
    // Low fidelity turns at the commanded rate by construction. High fidelity turns at
    // (v_right − v_left) / s_eff with the scrub-determined s_eff (1.6874 m, test below) against
    // the controller's 1.6875 m, so in steady state the rates match to 0.01 %; what differs is
    // the spin-up: the tyres must first build their scrub forces and the drive's speed loop
    // take up the load (measured: low 2.849 rad, high 2.821 rad, 1 % short). 0.06 rad of
    // 2.8 rad is 2 %; a geometric-track model (1.136 m) would turn 49 % too far and fail by more
    // than a radian.
    assert!((hi_turn - lo_turn).abs() < 0.06, "turned: low {lo_turn} rad, high {hi_turn} rad");
    assert!(lo_turn > 2.5, "low fidelity turned {lo_turn}");
    // Turning in place stays in place: the four wheels' scrub is symmetric.
    assert!(hi.x_m.hypot(hi.y_m) < 0.02, "high fidelity wandered to {hi:?}");
    assert!(lo.x_m.hypot(lo.y_m) < 1e-9);
}

/// DESIGN §9: the effective separation the controller assumes (1.5 × 1.125 = 1.6875 m) must come
/// out of the high-fidelity physics, ≈ 1.49 × the 1.136 m geometric track, because the wheels
/// scrub sideways while turning. Measured from the wheel rim speeds and the true yaw rate in the
/// steady part of a turn in place.
#[test]
fn effective_separation_emerges_from_scrub() {
    let robot = RobotParams::default();
    for rate in [0.5, 1.0, 2.0] {
        let mut sim = high(open_world(), quiet_high());
        sim.reset(origin(), 1);
        // 2 s to spin up, then measure over 1 s.
        for _ in 0..100 {
            sim.step(cmd(0.0, rate));
        }
        let (mut turned, mut rims, mut yaw) = (0.0, 0.0, sim.state().yaw_rad);
        for _ in 0..50 {
            let s = sim.step(cmd(0.0, rate)).state;
            turned += wrap_angle(s.yaw_rad - yaw);
            yaw = s.yaw_rad;
            let (left, right) = sim.wheel_speeds_mps();
            rims += right - left;
        }
        let measured_rate = turned / 1.0;
        let separation_m = (rims / 50.0) / measured_rate;
        println!("turn in place at {rate} rad/s: effective separation {separation_m:.4} m");
        // Measured: 1.6874 m at all three rates (friction-saturated scrub does not depend on
        // speed). 0.03 m (1.8 %) leaves room for tuning the tyre, not for losing the scrub:
        // without lateral scrub the separation would be the 1.136 m track.
        assert!(
            (separation_m - robot.effective_separation_m()).abs() < 0.03,
            "at {rate} rad/s: effective separation {separation_m:.4} m"
        );
        let ratio = separation_m / robot.track_m;
        assert!((ratio - 1.4855).abs() < 0.03, "at {rate} rad/s: {ratio:.3} × track");
    }
}

/// A muddy bank: 0.3 grade falling to the south, friction 0.25, 40 m × 20 m around the origin.
fn mud_bank(grade: f64) -> World {
    let mut w = open_world();
    w.terrain.push(TerrainPatch {
        shape: Shape::Box {
            center: Vec2::new(0.0, 0.0),
            half_extents_m: Vec2::new(20.0, 10.0),
            yaw_rad: 0.0,
        },
        grade,
        downhill_yaw_rad: -std::f64::consts::FRAC_PI_2,
        roughness_m: 0.0,
        friction: 0.25,
    });
    w
}

#[test]
fn on_a_muddy_bank_high_fidelity_slides_downhill_and_low_fidelity_does_not() {
    let start = PlanarState { x_m: -12.0, y_m: 0.0, yaw_rad: 0.0, speed_mps: 0.0 };
    let run = |sim: &mut dyn Simulator| {
        sim.reset(start, 1);
        for _ in 0..200 {
            sim.step(cmd(2.0, 0.0));
        }
        sim.state()
    };
    let lo = run(&mut low(mud_bank(0.3), NoiseConfig::default()));
    let hi = run(&mut high(mud_bank(0.3), quiet_high()));
    println!("muddy bank: low {lo:?}, high {hi:?}");
    // Low fidelity ignores terrain: straight along the contour.
    assert!(lo.y_m.abs() < 1e-9, "{lo:?}");
    // Lateral grip 0.865 × 0.25 = 0.22 < grade 0.3: the robot cannot hold the bank and slides
    // south (downhill) while it drives; in 4 s it loses metres, not centimetres (measured: 9.3 m,
    // to the foot of the bank).
    assert!(hi.y_m < lo.y_m - 2.0, "high fidelity slid only to y = {} m", hi.y_m);
    // Its progress along the contour also falls short: part of the wheels' grip goes into
    // fighting the slide.
    assert!(hi.x_m < lo.x_m, "along the contour: low {} m, high {} m", lo.x_m, hi.x_m);
}

#[test]
fn on_flat_mud_high_fidelity_spins_its_wheels_and_covers_less_ground() {
    let run = |sim: &mut dyn Simulator| drive(sim, cmd(3.0, 0.0), 3.0).0;
    let lo = run(&mut low(mud_bank(0.0), NoiseConfig::default()));
    let hi = run(&mut high(mud_bank(0.0), quiet_high()));
    println!("flat mud: low {lo:?}, high {hi:?}");
    // The controller asks for 3 m/s² but mud gives at most 0.25 × 9.81 = 2.45 m/s², so the high
    // fidelity robot falls behind during the 1 s of acceleration (≥ 0.1 m); low fidelity does not
    // know about mud (measured: low 7.47 m, high 6.84 m).
    assert!(hi.x_m < lo.x_m - 0.1, "low {} m, high {} m", lo.x_m, hi.x_m);
}
