//! Control steps per second of the high-fidelity simulator on a yard-like world: 200 m × 150 m,
//! 25 obstacles, 3 terrain patches (a bank, a rough patch, mud), default config (200 Hz physics
//! under 50 Hz control, noise, the default 54-beam lidar). One core, as the verifier runs one simulator per thread.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sim2real_sim::{
    HighFidelity, HighFidelityConfig, Obstacle, PlanarState, RobotParams, Shape, Simulator, TerrainPatch,
    Vec2, VelocityCmd, World,
};

/// Steps per measured iteration: 20 s of simulated driving.
const STEPS: u64 = 1_000;

fn yard() -> World {
    let mut world = World::open(Vec2::new(0.0, 0.0), Vec2::new(200.0, 150.0));
    for i in 0..25 {
        let (col, row) = ((i % 5) as f64, (i / 5) as f64);
        let center = Vec2::new(30.0 + 35.0 * col, 20.0 + 28.0 * row);
        let shape = match i % 3 {
            0 => Shape::Disc { center, radius_m: 1.5 },
            1 => Shape::Box { center, half_extents_m: Vec2::new(3.0, 1.0), yaw_rad: 0.3 * i as f64 },
            _ => Shape::Polygon {
                vertices: vec![
                    Vec2::new(center.x - 2.0, center.y - 1.5),
                    Vec2::new(center.x + 2.0, center.y - 1.5),
                    Vec2::new(center.x + 0.5, center.y + 2.0),
                ],
            },
        };
        world.obstacles.push(Obstacle { shape, height_m: if i % 4 == 0 { 0.4 } else { 2.0 } });
    }
    let patch = |center: Vec2, grade, roughness_m, friction| TerrainPatch {
        shape: Shape::Box { center, half_extents_m: Vec2::new(12.0, 8.0), yaw_rad: 0.0 },
        grade,
        downhill_yaw_rad: -std::f64::consts::FRAC_PI_2,
        roughness_m,
        friction,
    };
    world.terrain.push(patch(Vec2::new(45.0, 34.0), 0.25, 0.0, 0.6));
    world.terrain.push(patch(Vec2::new(115.0, 62.0), 0.0, 0.05, 0.7));
    world.terrain.push(patch(Vec2::new(150.0, 118.0), 0.0, 0.02, 0.3));
    world
}

fn bench(c: &mut Criterion) {
    let mut sim = HighFidelity::new(RobotParams::default(), Arc::new(yard()), HighFidelityConfig::default())
        .unwrap_or_else(|e| panic!("yard world: {e}"));
    let start = PlanarState { x_m: 12.0, y_m: 34.0, yaw_rad: 0.0, speed_mps: 0.0 };
    let mut group = c.benchmark_group("high_fidelity");
    group.throughput(Throughput::Elements(STEPS));
    group.bench_function("yard_control_steps", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            sim.reset(start, seed);
            for k in 0..STEPS {
                // A weaving drive across the yard, through the bank and the rough patch.
                let t = k as f64 * 0.02;
                let cmd = VelocityCmd { linear_mps: 2.5, angular_rps: 0.4 * (0.5 * t).cos() };
                let info = sim.step(cmd);
                if info.status.is_terminal() {
                    sim.reset(start, seed + k);
                }
            }
            black_box(sim.sensors().ranges_m[0])
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
