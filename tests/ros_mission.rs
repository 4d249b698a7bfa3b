//! Missions over real DDS (feature `ros2`; run after `source scripts/ros-env.sh`, as
//! scripts/test-ros.sh does): the committed yard bundle drives an rclpy robot (tests/ros/) that
//! casts its lidar (360 beams by default, 1081, reversed, offset, partly NaN) against the yard,
//! the nodes of launch/sil.launch.yaml run as separate processes, and an rclpy observer presses
//! the e-stop. Every test has its own `ROS_DOMAIN_ID` (set on the processes it starts) and
//! namespace.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const BUNDLE: &str = "scenarios/warthog_yard/bundle";
const GOAL: &str = "dock_south";
/// A start inside the yard's start set (the in-process draw of seed 0), where the rclpy
/// robot's odometry begins.
const START: &str = "18.418,17.932,1.2557";
/// The W200 controller's command timeout.
const STOP_WITHIN_S: f64 = 0.25;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> String {
    std::env::var("SIM2REAL_ROS_PYTHON").expect("SIM2REAL_ROS_PYTHON: source scripts/ros-env.sh first")
}

fn peer(script: &str, domain: u32, args: &[&str]) -> Child {
    Command::new(python())
        .arg(root().join("tests/ros").join(script))
        .args(args)
        .env("ROS_DOMAIN_ID", domain.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the rclpy peer")
}

/// SIGTERM (the peers print their report on it), then the report's last JSON line.
fn stop(child: Child) -> serde_json::Value {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let out = child.wait_with_output().expect("peer exits");
    report(&out)
}

fn report(out: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    let line =
        text.lines().rev().find(|l| l.starts_with('{')).unwrap_or_else(|| panic!("no report in {text}"));
    serde_json::from_str(line).expect("JSON report")
}

fn mission(domain: u32, ns: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim2real"))
        .current_dir(root())
        .args(["mission", BUNDLE, "--goal", GOAL, "--transport", "ros2", "--robot", "external"])
        .args(["--start-pose", START, "--namespace", ns])
        .args(extra)
        .env("ROS_DOMAIN_ID", domain.to_string())
        .output()
        .expect("run sim2real mission")
}

fn external_robot_reaches_the_goal(domain: u32, stamped: bool) {
    let ns = format!("ext_{domain}");
    let flag: &[&str] = if stamped { &["--stamped"] } else { &[] };
    let robot = peer("robot_peer.py", domain, &[&["--ns", &ns, "--start-pose", START][..], flag].concat());
    let out = mission(domain, &ns, flag);
    let robot = stop(robot);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("mission to `{GOAL}`: succeeded")), "{stdout}");
    assert!(robot["latency_ms"]["n"].as_u64().unwrap_or(0) > 100, "{robot}");
    println!("rclpy robot, stamped {stamped}: odometry → cmd_vel latency {}", robot["latency_ms"]);
}

#[test]
fn an_rclpy_robot_is_driven_to_the_goal_over_twist() {
    external_robot_reaches_the_goal(71, false);
}

#[test]
fn an_rclpy_robot_is_driven_to_the_goal_over_twist_stamped() {
    external_robot_reaches_the_goal(72, true);
}

/// The robot's true end position in the scenario frame, from its report.
fn end_of(robot: &serde_json::Value) -> (f64, f64) {
    (robot["scenario_x_m"].as_f64().expect("x"), robot["scenario_y_m"].as_f64().expect("y"))
}

/// dock_south, the goal of these missions.
const GOAL_XY: (f64, f64) = (95.0, 15.0);

#[test]
fn a_1081_beam_lidar_mounted_ahead_and_sweeping_clockwise_drives_the_robot_forward_to_the_goal() {
    let (domain, ns) = (76, "lidar_76");
    let lidar =
        ["--scan-rays", "1081", "--scan-fov-deg", "270", "--scan-reversed", "--scan-nan-fraction", "0.02"];
    let robot = peer(
        "robot_peer.py",
        domain,
        &[&["--ns", ns, "--start-pose", START, "--mount", "0.4,0,0"][..], &lidar].concat(),
    );
    let out = mission(domain, ns, &["--lidar-mount", "0.4,0,0"]);
    let robot = stop(robot);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(robot["scan_rays"], 1081, "{robot}");
    let (x, y) = end_of(&robot);
    assert!((x - GOAL_XY.0).hypot(y - GOAL_XY.1) < 3.0, "ended at ({x:.1}, {y:.1}): {robot}");
    let (fwd, rev) = (
        robot["forward_distance_m"].as_f64().unwrap_or(0.0),
        robot["reverse_distance_m"].as_f64().unwrap_or(0.0),
    );
    assert!(fwd / (fwd + rev) >= 0.95, "forward {fwd:.1} m, reverse {rev:.1} m");
}

#[test]
fn an_8_beam_scan_that_leaves_sectors_blind_is_refused_and_the_robot_stays() {
    let (domain, ns) = (77, "sparse_77");
    let robot = peer("robot_peer.py", domain, &["--ns", ns, "--start-pose", START, "--scan-rays", "8"]);
    let out = mission(domain, ns, &[]);
    let robot = stop(robot);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("no beam of the 8-beam scan covers ray"), "{stdout}");
    let (x, y) = end_of(&robot);
    let start: Vec<f64> = START.split(',').map(|v| v.parse().expect("number")).collect();
    assert!((x - start[0]).hypot(y - start[1]) < 0.05, "moved to ({x}, {y}): {robot}");
}

#[test]
fn a_localisation_pose_replaces_drifting_odometry() {
    let (domain, ns) = (78, "loc_78");
    let pose = ["--pose-topic", "localization/pose"];
    // Odometry drifts 0.3 m/s east: about 8 m over the mission.
    let robot = peer(
        "robot_peer.py",
        domain,
        &[&["--ns", ns, "--start-pose", START, "--odom-drift-mps", "0.3"][..], &pose].concat(),
    );
    let out = mission(domain, ns, &pose);
    let robot = stop(robot);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let (x, y) = end_of(&robot);
    assert!(
        (x - GOAL_XY.0).hypot(y - GOAL_XY.1) < 3.0,
        "ended at ({x:.1}, {y:.1}), not at the goal: {robot}"
    );
}

#[test]
fn estop_from_an_rclpy_observer_stops_and_latches() {
    let (domain, ns) = (73, "estop_73");
    let robot = peer("robot_peer.py", domain, &["--ns", ns, "--start-pose", START]);
    // Pressed 6 s after the first cmd_vel (mid-mission), released 2 s later.
    let observer = peer(
        "observer.py",
        domain,
        &["--ns", ns, "--estop-at", "6", "--release-at", "8", "--duration-s", "11"],
    );
    let out = mission(domain, ns, &[]);
    let (robot, observer) = (stop(robot), stop(observer));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("estopped"), "{stdout}");
    let delay = observer["stop_delay_s"].as_f64().unwrap_or(f64::INFINITY);
    assert!(delay <= STOP_WITHIN_S, "{observer}");
    assert_eq!(observer["stayed_zero"], true, "{observer}");
    assert_eq!(observer["nonzero_after_release"], 0, "released but not re-armed: {observer}");
    assert!(robot["max_speed_mps"].as_f64().unwrap_or(0.0) > 0.5, "the robot was moving: {robot}");
}

#[test]
fn odometry_stopping_mid_mission_stops_the_robot() {
    let (domain, ns) = (74, "odom_74");
    let robot = peer("robot_peer.py", domain, &["--ns", ns, "--start-pose", START, "--odom-stop-at", "8"]);
    let out = mission(domain, ns, &[]);
    let robot = stop(robot);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("odometry"), "{stdout}");
    let delay = robot["zero_after_odom_stop_s"].as_f64().unwrap_or(f64::INFINITY);
    assert!(delay <= STOP_WITHIN_S, "{robot}");
    assert_eq!(robot["nonzero_after_odom_stop"], 0, "{robot}");
}

#[test]
fn the_sil_launch_file_nodes_run_as_processes_and_complete_a_spoken_mission() {
    let domain = 75;
    let work = tempfile::tempdir().expect("tmp");
    let bundle: PathBuf = root().join(BUNDLE);
    let start = format!("start_pose:=[{START}]");
    let mut launch = Command::new(python())
        .arg(root().join("tests/ros/launch_nodes.py"))
        .arg(root().join("launch/sil.launch.yaml"))
        .args(["namespace:=sil_75", &format!("bundle:={}", bundle.display()), &start])
        .args(["--bin", env!("CARGO_BIN_EXE_sim2real"), "--start"])
        .current_dir(work.path())
        .env("ROS_DOMAIN_ID", domain.to_string())
        .spawn()
        .expect("start the launch file's nodes");
    let client = Command::new(python())
        .arg(root().join("tests/ros/mission_client.py"))
        // The operator speaks; the dialogue agent asks to confirm before it sends the goal.
        .args(["--ns", "sil_75", "--say", "drive to the orange dock by the rail siding", "--answer", "yes"])
        .args(["--timeout-s", "90"])
        .env("ROS_DOMAIN_ID", domain.to_string())
        .output()
        .expect("run the mission client");
    let _ = Command::new("kill").args(["-TERM", &launch.id().to_string()]).status();
    let launched = launch.wait().expect("launch exits");
    let r = report(&client);
    assert_eq!(client.status.code(), Some(0), "{r}");
    assert_eq!(r["phase"], "succeeded", "{r}");
    assert_eq!(r["statuses"][0]["goal"], GOAL, "{r}");
    assert_eq!(r["replies"][0], format!("Shall I go to {GOAL}? Please confirm."), "{r}");
    assert!(launched.success(), "every node shut down cleanly: {launched:?}");
    // The launch file's recorder wrote its file where it was started, with what went over DDS,
    // diagnostics included; the ROS 2 MCAP reader decodes it.
    let read = Command::new(python())
        .arg(root().join("tests/python/read_mcap.py"))
        .arg(work.path().join("mission.mcap"))
        .output()
        .expect("run the Python reader");
    assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
    let topics: serde_json::Value = serde_json::from_slice(&read.stdout).expect("JSON summary");
    let diagnostics = &topics["/sil_75/diagnostics"];
    assert_eq!(diagnostics["schema"], "diagnostic_msgs/msg/DiagnosticArray", "{topics}");
    assert!(
        diagnostics["count"].as_u64().unwrap_or(0) >= 20,
        "1 Hz from two nodes over the mission: {diagnostics}"
    );
    assert!(topics["/sil_75/platform/odom/filtered"]["count"].as_u64().unwrap_or(0) > 1000, "{topics}");
    // The dialogue is in the recording: the operator's turns (the first one repeated until the
    // agent answered) and the agent's replies.
    assert!(topics["/sil_75/sim2real/operator/say"]["count"].as_u64().unwrap_or(0) >= 2, "{topics}");
    assert!(topics["/sil_75/sim2real/operator/reply"]["count"].as_u64().unwrap_or(0) >= 3, "{topics}");
    // The tips planner appended the mission's outcome where the nodes were started, and
    // published its tips (one at start, one after the mission).
    let missions = std::fs::read_to_string(work.path().join("missions.jsonl")).expect("missions.jsonl");
    let outcome: serde_json::Value = serde_json::from_str(missions.trim()).expect("one JSON line");
    assert_eq!((&outcome["goal"], &outcome["phase"]), (&GOAL.into(), &"succeeded".into()), "{outcome}");
    assert!(topics["/sil_75/sim2real/tips"]["count"].as_u64().unwrap_or(0) >= 1, "{topics}");
}

#[test]
fn recordings_decode_with_the_ros2_mcap_reader() {
    let dir = tempfile::tempdir().expect("tmp");
    let mcap = dir.path().join("m.mcap");
    let out = Command::new(env!("CARGO_BIN_EXE_sim2real"))
        .current_dir(root())
        .args(["mission", BUNDLE, "--goal", GOAL, "--record", mcap.to_str().expect("utf-8")])
        .output()
        .expect("run sim2real mission");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let read = Command::new(python())
        .arg(root().join("tests/python/read_mcap.py"))
        .arg(&mcap)
        .output()
        .expect("run the Python reader");
    assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
    let topics: serde_json::Value = serde_json::from_slice(&read.stdout).expect("JSON summary");
    let odom = &topics["/w200_0000/platform/odom/filtered"];
    assert_eq!(odom["schema"], "nav_msgs/msg/Odometry");
    assert!(odom["count"].as_u64().unwrap_or(0) > 1000, "{odom}");
    // Odometry starts at the odometry origin and ends some 70 m away at the dock.
    assert!(odom["first"]["x_m"].as_f64().unwrap_or(f64::NAN).abs() < 0.5, "{odom}");
    let (x, y) = (odom["last"]["x_m"].as_f64().unwrap_or(0.0), odom["last"]["y_m"].as_f64().unwrap_or(0.0));
    assert!(x.hypot(y) > 30.0, "{odom}");
    let cmd = &topics["/w200_0000/cmd_vel"];
    assert_eq!(cmd["schema"], "geometry_msgs/msg/Twist");
    assert_eq!(cmd["last"]["linear_mps"], 0.0, "stopped at the end: {cmd}");
    for topic in
        ["sensors/imu_0/data", "sensors/lidar2d_0/scan", "sim2real/mission/status", "sim2real/subtask/event"]
    {
        assert!(topics[format!("/w200_0000/{topic}")]["count"].as_u64().unwrap_or(0) > 0, "{topic}");
    }
}
