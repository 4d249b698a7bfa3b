//! Control steps per second of the low-fidelity simulator on one core.
//!
//! Target: at least 1,000,000 steps/s with the default lidar (54 beams over 270°, reduced to 9
//! rays) and 20 obstacles. Two scenes in a 200 m × 150 m yard: `typical` (obstacles spread
//! out, a few within the 20 m ray range at any time) and `all_in_range` (every obstacle within
//! ray range all the time), each noise-free and with the high-fidelity default noise levels.
//! Run: `cargo bench -p sim2real-sim --bench low_fidelity`.

use std::f64::consts::TAU;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sim2real_sim::{
    HighFidelityConfig, LowFidelity, LowFidelityConfig, NoiseConfig, Obstacle, PlanarState, RayConfig,
    RobotParams, Shape, Simulator, Vec2, VelocityCmd, World,
};

/// Steps per measured iteration.
const STEPS: u64 = 10_000;
/// Centre of the loops the robot drives (m).
const LOOP_CENTRE: Vec2 = Vec2::new(100.0, 75.0);

/// An obstacle of kind `i % 3` (disc, box, hexagon) with a bounding radius of at most 1.7 m.
fn obstacle(i: usize, at: Vec2) -> Obstacle {
    let shape = match i % 3 {
        0 => Shape::Disc { center: at, radius_m: 1.2 },
        1 => Shape::Box { center: at, half_extents_m: Vec2::new(1.5, 0.7), yaw_rad: 0.3 * i as f64 },
        _ => Shape::Polygon {
            vertices: (0..6)
                .map(|k| {
                    let a = TAU * k as f64 / 6.0 + 0.1 * i as f64;
                    Vec2::new(at.x + 1.5 * a.cos(), at.y + 1.5 * a.sin())
                })
                .collect(),
        },
    };
    // Every seventh one is kerb height: solid, but below the range sensor.
    Obstacle { shape, height_m: if i % 7 == 6 { 0.3 } else { 1.5 } }
}

fn yard(obstacles: &[Vec2]) -> Arc<World> {
    let mut w = World::open(Vec2::new(0.0, 0.0), Vec2::new(200.0, 150.0));
    w.obstacles = obstacles.iter().enumerate().map(|(i, &p)| obstacle(i, p)).collect();
    Arc::new(w)
}

/// Obstacles spread over the yard: 5 inside the 30 m loop, 6 just outside it, 9 far away.
fn typical_world() -> Arc<World> {
    let p = |x, y| Vec2::new(x, y);
    yard(&[
        p(100.0, 75.0),
        p(90.0, 70.0),
        p(110.0, 80.0),
        p(100.0, 60.0),
        p(105.0, 90.0),
        p(100.0, 30.0),
        p(145.0, 75.0),
        p(55.0, 75.0),
        p(100.0, 120.0),
        p(130.0, 110.0),
        p(70.0, 40.0),
        p(10.0, 10.0),
        p(190.0, 10.0),
        p(10.0, 140.0),
        p(190.0, 140.0),
        p(20.0, 75.0),
        p(180.0, 75.0),
        p(100.0, 5.0),
        p(100.0, 145.0),
        p(160.0, 20.0),
    ])
}

/// 20 obstacles on rings 8-14 m around a 3 m loop: all within 20 m of the robot all the time.
fn crowded_world() -> Arc<World> {
    let pts: Vec<Vec2> = (0..20)
        .map(|i| {
            let r = 8.0 + 6.0 * (i % 4) as f64 / 3.0;
            let a = TAU * i as f64 / 20.0;
            Vec2::new(LOOP_CENTRE.x + r * a.cos(), LOOP_CENTRE.y + r * a.sin())
        })
        .collect();
    yard(&pts)
}

/// A simulator driving a circle of `radius_m` around `LOOP_CENTRE` at `speed_mps`, checked to run
/// 100,000 steps (over half an hour) without a collision or breach, so the benchmark measures
/// driving, not resets.
fn looping(
    world: Arc<World>,
    noise: NoiseConfig,
    radius_m: f64,
    speed_mps: f64,
) -> (LowFidelity, VelocityCmd) {
    let config = LowFidelityConfig { rays: RayConfig::default(), noise };
    let mut sim = LowFidelity::new(RobotParams::default(), world, config).unwrap_or_else(|e| panic!("{e}"));
    let start = PlanarState { x_m: LOOP_CENTRE.x, y_m: LOOP_CENTRE.y - radius_m, yaw_rad: 0.0, speed_mps };
    let cmd = VelocityCmd { linear_mps: speed_mps, angular_rps: speed_mps / radius_m };
    sim.reset(start, 1);
    for k in 0..100_000 {
        let info = sim.step(cmd);
        assert!(!info.status.is_terminal(), "the loop must stay clear: {:?} at step {k}", info.status);
    }
    (sim, cmd)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("low_fidelity");
    g.throughput(Throughput::Elements(STEPS));
    let noisy = HighFidelityConfig::default().noise;
    let cases = [
        ("typical_54beams_20obstacles", typical_world(), NoiseConfig::default(), 30.0, 3.0),
        ("typical_54beams_20obstacles_noise", typical_world(), noisy.clone(), 30.0, 3.0),
        ("all_in_range_54beams_20obstacles", crowded_world(), NoiseConfig::default(), 3.0, 1.5),
        ("all_in_range_54beams_20obstacles_noise", crowded_world(), noisy, 3.0, 1.5),
    ];
    for (name, world, noise, radius_m, speed_mps) in cases {
        let (mut sim, cmd) = looping(world, noise, radius_m, speed_mps);
        g.bench_function(name, |b| {
            b.iter(|| {
                for _ in 0..STEPS {
                    black_box(sim.step(black_box(cmd)));
                }
                black_box(sim.sensors().ranges_m[0])
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
