//! Code that exists twice because the leaf crates never depend on each other, checked for
//! drift: planar geometry (`sim` decides collisions and the geofence, `verification` decides
//! interface sets: a robot "inside" one must be inside the other), and the atomic writes of every
//! crate (temporary file, fsync of the file, rename, fsync of the directory).

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use sim::Vec2;

/// Points closer than this to a boundary may round either way in the two implementations.
const BOUNDARY_M: f64 = 1e-9;

/// The same shape in both crates.
fn both(kind: u8, c: (f64, f64), a: f64, b: f64, yaw: f64) -> (sim::Shape, verification::Shape) {
    match kind % 3 {
        0 => (
            sim::Shape::Disc { center: Vec2::new(c.0, c.1), radius_m: a },
            verification::Shape::disc(c.0, c.1, a).expect("disc"),
        ),
        1 => (
            sim::Shape::Box { center: Vec2::new(c.0, c.1), half_extents_m: Vec2::new(a, b), yaw_rad: yaw },
            verification::Shape::rect(c.0, c.1, a, b, yaw).expect("rect"),
        ),
        _ => {
            // A convex pentagon: points on an ellipse in counter-clockwise order.
            let vertices: Vec<(f64, f64)> = (0..5)
                .map(|i| {
                    let t = yaw + std::f64::consts::TAU * f64::from(i) / 5.0;
                    (c.0 + a * t.cos(), c.1 + b * t.sin())
                })
                .collect();
            (
                sim::Shape::Polygon { vertices: vertices.iter().map(|&(x, y)| Vec2::new(x, y)).collect() },
                verification::Shape::polygon(vertices).expect("polygon"),
            )
        }
    }
}

proptest! {
    #[test]
    fn both_crates_agree_on_what_a_shape_contains(
        kind in 0u8..3,
        cx in -50.0f64..50.0, cy in -50.0f64..50.0,
        a in 0.5f64..20.0, b in 0.5f64..20.0, yaw in -4.0f64..4.0,
        px in -80.0f64..80.0, py in -80.0f64..80.0,
    ) {
        let (s, v) = both(kind, (cx, cy), a, b, yaw);
        let p = Vec2::new(px, py);
        let near_boundary = sim::geometry::polygon_boundary_distance(&outline(&s), p) < BOUNDARY_M
            || matches!(s, sim::Shape::Disc { .. } if ((px - cx).hypot(py - cy) - a).abs() < BOUNDARY_M);
        if !near_boundary {
            prop_assert_eq!(sim::geometry::shape_contains(&s, p), v.contains(px, py), "{:?} at ({}, {})", s, px, py);
        }
    }
}

/// The boundary of a polygonal shape (empty for a disc, which is checked by its radius).
fn outline(shape: &sim::Shape) -> Vec<Vec2> {
    match shape {
        sim::Shape::Disc { .. } => Vec::new(),
        sim::Shape::Box { center, half_extents_m: e, yaw_rad } => {
            let (s, c) = yaw_rad.sin_cos();
            [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]
                .iter()
                .map(|(u, v)| {
                    Vec2::new(center.x + c * u * e.x - s * v * e.y, center.y + s * u * e.x + c * v * e.y)
                })
                .collect()
        }
        sim::Shape::Polygon { vertices } => vertices.clone(),
    }
}

#[test]
fn every_atomic_write_syncs_the_file_and_its_directory() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "sim/src", "policies/src", "verification/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut renaming = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        // Each function that renames a file into place, from its `fn` to the next `fn`.
        for body in text.split("\nfn ").flat_map(|f| f.split(" fn ")).filter(|f| f.contains("fs::rename(")) {
            renaming += 1;
            let rename = body.find("fs::rename(").unwrap_or(0);
            let (before, after) = body.split_at(rename);
            assert!(
                before.contains("sync_all()"),
                "{}: a rename into place without an fsync of the file before it",
                file.display()
            );
            assert!(
                after.contains("sync_dir(") || after.contains("sync_all()"),
                "{}: a rename into place without an fsync of the directory after it",
                file.display()
            );
        }
    }
    assert!(renaming >= 4, "found {renaming} atomic writers; the check is looking in the wrong place");
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("list") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The one definition of a range ray, end to end: in both simulators, through `sim_bridge`'s
/// published scan and in the policy executor, a policy on the same world sees the same rays and
/// so commands the same twist as in training and verification.
#[test]
fn simulators_bridge_and_executor_see_the_same_rays() {
    use std::sync::Arc;

    use policies::Policy;
    use sim2real::bundle::deployment::Deployment;
    use sim2real::control::observation::Observer;
    use sim2real::msg::{ActiveSubtask, Msg, StartPose};
    use sim2real::runtime::Node;
    use sim2real::runtime::Outbox;
    use sim2real::runtime::nodes::policy_executor::{ExecutorConfig, PolicyExecutor};
    use sim2real::runtime::nodes::sim_bridge::SimBridge;

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let deployment =
        Arc::new(Deployment::open(&root.join("scenarios/warthog_yard/bundle"), true).expect("bundle"));
    let scenario = deployment.bundle().scenario();
    let rays = scenario.rays();
    // Beside the container stacks, the rubble, the crane and a tree: every kind of obstacle.
    let poses = [(52.0, 80.0, 0.3), (118.0, 66.0, 1.9), (90.0, 82.0, -0.7), (95.0, 45.0, 1.57)];
    for fidelity in [sim::Fidelity::Low, sim::Fidelity::High] {
        for (k, &(x_m, y_m, yaw_rad)) in poses.iter().enumerate() {
            let seed = 11 + k as u64;
            let start = StartPose { x_m, y_m, yaw_rad };
            let mut sim = scenario.simulator(fidelity).expect("simulator");
            sim.reset(sim::PlanarState { x_m, y_m, yaw_rad, speed_mps: 0.0 }, seed);
            let sensors = sim.sensors().clone();

            let mut bridge = SimBridge::new(scenario, fidelity, seed, start).expect("bridge");
            let mut out = Outbox::new();
            bridge.on_tick(0.0, &mut out);
            let published: Vec<Msg> = out.drain().collect();
            let scan =
                published.iter().find_map(|m| if let Msg::Scan(s) = m { Some(s.clone()) } else { None });
            let scan = scan.expect("the bridge publishes a scan");
            let mut from_bridge = Vec::new();
            rays.ranges_from_scan(&scan.beams, &sim::LidarMount::default(), &mut from_bridge)
                .expect("usable");
            assert_eq!(from_bridge, sensors.ranges_m, "{fidelity:?} at pose {k}: bridge vs simulator");

            // What training and verification command here, and what the executor commands.
            let subtask = &scenario.subtasks()[0];
            let policy = deployment.bundle().policy(0).expect("a learned policy");
            let mut obs = vec![0.0f32; policy.obs_dim()];
            Observer::new(subtask).observe(&sensors.odom, &sensors.ranges_m, rays.max_range_m, &mut obs);
            let mut action = [0.0f32; 2];
            policy.act(&obs, &mut action);
            let trained = scenario.action_scale().command(action);

            let config = ExecutorConfig {
                start,
                scan_timeout_s: 0.25,
                lidar_mount: sim::LidarMount::default(),
                pose: Default::default(),
                nan_after_s: None,
            };
            let mut executor = PolicyExecutor::new(Arc::clone(&deployment), config);
            let mut out = Outbox::new();
            let active = Msg::ActiveSubtask(ActiveSubtask { subtask: Some(subtask.id().to_string()) });
            executor.on_message(0.0, &active, &mut out);
            for m in published.iter().filter(|m| matches!(m, Msg::Scan(_) | Msg::Odom(_))).rev() {
                executor.on_message(0.0, m, &mut out);
            }
            let cmd = out
                .drain()
                .find_map(|m| if let Msg::PolicyCmd(c) = m { Some(c.cmd) } else { None })
                .expect("the executor commands");
            // The odometry frame round trip (scenario → odom → scenario) may move the base
            // entries in the last bits; the rays themselves are bit-identical (above).
            assert!(
                (cmd.linear_mps - trained.linear_mps).abs() < 1e-6
                    && (cmd.angular_rps - trained.angular_rps).abs() < 1e-6,
                "{fidelity:?} at pose {k}: executor {cmd:?} vs training {trained:?}"
            );
        }
    }
}
