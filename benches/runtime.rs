//! Odometry-in → `cmd_vel`-out latency of the in-process graph at 50 Hz (wall clock).
//!
//! First a software-in-the-loop mission on the yard bundle (high fidelity, goal `dock_east`)
//! records the odometry and scans `sim_bridge` publishes. Then the control graph alone
//! (`policy_executor`, `safety_monitor`, `mission_executive`) is fed that stream tick by tick:
//! the time from publishing an odometry message to the bus handing out the `cmd_vel` it causes
//! is one sample (scan handling and policy inference on decision ticks included). Prints p50, p99 and max.
//! Run: `cargo bench --bench runtime`.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use sim::Fidelity;
use sim2real::bundle::Deployment;
use sim2real::msg::Msg;
use sim2real::msg::StartPose;
use sim2real::runtime::Bus;
use sim2real::runtime::nodes::mission_executive::{ExecutiveConfig, MissionExecutive};
use sim2real::runtime::nodes::policy_executor::{ExecutorConfig, PolicyExecutor};
use sim2real::runtime::nodes::safety::{SafetyConfig, SafetyNode};
use sim2real::runtime::nodes::sim_bridge::SimBridge;

const GOAL: &str = "dock_east";

fn control_graph(deployment: &Arc<Deployment>, start: StartPose) -> Bus {
    let scenario = deployment.bundle().scenario();
    let robot = scenario.robot();
    let mut bus = Bus::new();
    let safety = SafetyConfig {
        watch_scan: true,
        ..SafetyConfig::for_robot(robot, scenario.world().geofence.clone())
    };
    bus.add(Box::new(SafetyNode::new(safety, start, robot.control_hz)));
    let executor = ExecutorConfig {
        start,
        scan_timeout_s: robot.cmd_timeout_s,
        lidar_mount: Default::default(),
        pose: Default::default(),
        nan_after_s: None,
    };
    bus.add(Box::new(PolicyExecutor::new(Arc::clone(deployment), executor)));
    let executive =
        ExecutiveConfig { start, pose: Default::default(), goal: Some(GOAL.into()), safety_hold_s: 1.0 };
    bus.add(Box::new(MissionExecutive::new(Arc::clone(deployment), executive)));
    bus
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/warthog_yard/bundle");
    let deployment = Arc::new(Deployment::open(&dir, false).expect("the committed bundle is certified"));
    let scenario = deployment.bundle().scenario();
    let start = StartPose { x_m: 4.0, y_m: 4.0, yaw_rad: 0.0 };
    let start = scenario
        .start()
        .sample(&mut <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1))
        .map_or(start, |s| StartPose { x_m: s.x_m, y_m: s.y_m, yaw_rad: s.yaw_rad });

    // The sensor stream of a real mission.
    let mut bus = control_graph(&deployment, start);
    bus.add(Box::new(SimBridge::new(scenario, Fidelity::High, 1, start).expect("simulator")));
    let mut stream: Vec<(f64, Msg, Msg)> = Vec::new();
    let mut scan = None;
    let _ = bus.run_until(120.0, |t, msg| {
        match msg {
            Msg::Scan(_) => scan = Some(msg.clone()),
            Msg::Odom(_) => {
                if let Some(s) = scan.take() {
                    stream.push((t, s, msg.clone()));
                }
            }
            Msg::MissionStatus(s) if s.phase.is_final() => return ControlFlow::Break(()),
            _ => {}
        }
        ControlFlow::Continue(())
    });

    let mut latencies_us = Vec::with_capacity(stream.len());
    let mut bus = control_graph(&deployment, start);
    for (t, scan, odom) in stream {
        bus.publish_at(t, scan);
        let t0 = Instant::now();
        bus.publish_at(t, odom);
        let mut got = None;
        let _ = bus.run_until(t, |_, msg| {
            if matches!(msg, Msg::CmdVel(_)) && got.is_none() {
                got = Some(t0.elapsed());
            }
            ControlFlow::Continue(())
        });
        if let Some(d) = got {
            latencies_us.push(d.as_secs_f64() * 1e6);
        }
    }
    latencies_us.sort_by(f64::total_cmp);
    let q = |p: f64| latencies_us[((latencies_us.len() - 1) as f64 * p).round() as usize];
    println!(
        "in-process graph, odometry in → cmd_vel out, {} ticks at 50 Hz: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        latencies_us.len(),
        q(0.5),
        q(0.99),
        q(1.0)
    );
}
