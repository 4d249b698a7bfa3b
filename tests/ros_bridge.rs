//! The ROS 2 bridge over real DDS (feature `ros2`; run after `source scripts/ros-env.sh`,
//! ideally with a distinct `ROS_DOMAIN_ID`, as scripts/test-ros.sh does). A tiny test node
//! spins through `sim2real::ros` while rclpy peers from tests/ros/ play the other side, each
//! test in its own namespace so they can run in parallel.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sim::VelocityCmd;
use sim2real::msg::Command as Cmd;
use sim2real::msg::{Msg, Topic};
use sim2real::ros::{RosError, SpinOptions, TwistKind};
use sim2real::runtime::{Node, Outbox};

#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Echo odometry x (a sequence number) into the command's linear speed.
    Seq,
    /// Drive at 0.5 m/s on every odometry message, zero (latched) after an e-stop.
    Drive,
}

#[derive(Debug)]
struct Echo {
    mode: Mode,
    estopped: bool,
    ticks: Arc<AtomicUsize>,
    goals: Arc<AtomicUsize>,
    finished: Arc<AtomicBool>,
}

impl Node for Echo {
    fn name(&self) -> &'static str {
        "bridge_echo"
    }
    fn subscriptions(&self) -> &'static [Topic] {
        &[Topic::Odom, Topic::EStop, Topic::Goal]
    }
    fn publications(&self) -> &'static [Topic] {
        &[Topic::CmdVel]
    }
    fn period_s(&self) -> Option<f64> {
        Some(0.02)
    }
    fn on_message(&mut self, now_s: f64, msg: &Msg, out: &mut Outbox) {
        let cmd = |linear_mps| {
            Msg::CmdVel(Cmd { stamp_s: now_s, cmd: VelocityCmd { linear_mps, angular_rps: 0.0 } })
        };
        match msg {
            Msg::Odom(o) => match (self.mode, self.estopped) {
                (Mode::Seq, _) => out.push(cmd(o.state.x_m)),
                (Mode::Drive, false) => out.push(cmd(0.5)),
                (Mode::Drive, true) => out.push(cmd(0.0)),
            },
            Msg::EStop(on) => {
                self.estopped |= *on;
                if *on {
                    out.push(cmd(0.0));
                }
            }
            Msg::Goal(_) => {
                self.goals.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
    fn on_tick(&mut self, _now_s: f64, _out: &mut Outbox) {
        self.ticks.fetch_add(1, Ordering::Relaxed);
    }
    fn finish(&mut self) -> Result<(), String> {
        self.finished.store(true, Ordering::Relaxed);
        Ok(())
    }
}

struct Running {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Result<(), RosError>>,
    ticks: Arc<AtomicUsize>,
    goals: Arc<AtomicUsize>,
    finished: Arc<AtomicBool>,
}

fn start(mode: Mode, namespace: &'static str, twist: TwistKind) -> Running {
    let (ticks, goals, finished) = (Arc::default(), Arc::default(), Arc::new(AtomicBool::new(false)));
    let node = Echo {
        mode,
        estopped: false,
        ticks: Arc::clone(&ticks),
        goals: Arc::clone(&goals),
        finished: Arc::clone(&finished),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let options = SpinOptions { twist, stop: Some(Arc::clone(&stop)), pose: Default::default() };
    let handle = std::thread::spawn(move || sim2real::ros::spin(Box::new(node), namespace, &options));
    Running { stop, handle, ticks, goals, finished }
}

impl Running {
    fn stop(self) -> (usize, usize, bool) {
        self.stop.store(true, Ordering::Relaxed);
        let result = self.handle.join().expect("spin thread");
        assert_eq!(result, Ok(()));
        (
            self.ticks.load(Ordering::Relaxed),
            self.goals.load(Ordering::Relaxed),
            self.finished.load(Ordering::Relaxed),
        )
    }
}

fn peer(script: &str, args: &[&str]) -> Child {
    let python = std::env::var("SIM2REAL_ROS_PYTHON")
        .expect("SIM2REAL_ROS_PYTHON unset: `source scripts/ros-env.sh` before the ros2 tests");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ros").join(script);
    Command::new(python)
        .arg(path)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the rclpy peer")
}

/// Waits for the peer (killing it after `timeout`) and parses the JSON report it printed last.
fn report(mut child: Child, timeout: Duration) -> serde_json::Value {
    let deadline = Instant::now() + timeout;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rclpy peer timed out");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = String::new();
    child.stdout.take().expect("piped").read_to_string(&mut out).expect("stdout");
    let line = out.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("peer report {out:?}: {e}"))
}

fn round_trip(namespace: &'static str, twist: TwistKind) {
    let node = start(Mode::Seq, namespace, twist);
    let mut args = vec!["--ns", namespace, "--count", "250", "--bad-json"];
    if twist == TwistKind::Stamped {
        args.push("--stamped");
    }
    let r = report(peer("latency_probe.py", &args), Duration::from_secs(60));
    let (ticks, goals, finished) = node.stop();
    eprintln!("{namespace}: {r}");
    assert_eq!(r["matched"], true, "{r}");
    let (sent, received) = (r["sent"].as_u64().unwrap_or(0), r["received"].as_u64().unwrap_or(0));
    // Reliable QoS after matching: nothing may be lost.
    assert_eq!((sent, received), (250, 250), "{r}");
    if twist == TwistKind::Stamped {
        assert_eq!(r["stamped_commands"], 250, "TwistStamped carries a header stamp: {r}");
    }
    assert_eq!(goals, 0, "malformed goals are dropped, not delivered");
    assert!(ticks > 10, "the wall-clock timer ran ({ticks} ticks)");
    assert!(finished, "finish() was called at shutdown");
}

#[test]
fn odometry_echoes_into_twist_commands_over_dds() {
    round_trip("t_bridge_twist", TwistKind::Unstamped);
}

#[test]
fn odometry_echoes_into_twist_stamped_commands_over_dds() {
    round_trip("t_bridge_stamped", TwistKind::Stamped);
}

#[test]
fn a_best_effort_e_stop_from_rclpy_reaches_the_node_and_commands_go_to_zero() {
    let ns = "t_bridge_estop";
    let robot = peer("robot_peer.py", &["--ns", ns, "--duration-s", "30"]);
    let node = start(Mode::Drive, ns, TwistKind::Unstamped);
    let obs =
        peer("observer.py", &["--ns", ns, "--estop-at", "1.0", "--release-at", "2.0", "--duration-s", "3.0"]);
    let o = report(obs, Duration::from_secs(60));
    // SIGTERM: the robot peer stops and prints its report.
    let _ = Command::new("kill").arg("-TERM").arg(robot.id().to_string()).status();
    let robot = report(robot, Duration::from_secs(10));
    let (_, _, finished) = node.stop();
    eprintln!("observer: {o}\nrobot: {robot}");
    assert!(o["nonzero_commands"].as_u64().unwrap_or(0) > 10, "the node drove: {o}");
    let delay = o["stop_delay_s"].as_f64().expect("commands went to zero after the e-stop");
    assert!(delay < 0.5, "stopped {delay} s after the e-stop");
    assert_eq!(o["stayed_zero"], true, "{o}");
    assert_eq!(o["nonzero_after_release"], 0, "the e-stop latches: {o}");
    assert!(robot["x_m"].as_f64().unwrap_or(0.0) > 0.1, "the robot moved: {robot}");
    assert!(finished);
}

/// The example `ros_echo` (built beside this test binary by `cargo test --features ros2`).
fn ros_echo_exe() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let path = exe.parent().and_then(Path::parent).expect("target dir").join("examples/ros_echo");
    assert!(path.exists(), "{} missing: cargo build --features ros2 --example ros_echo", path.display());
    path
}

#[test]
fn a_node_process_reads_its_ros_parameters_and_stops_cleanly_on_sigterm() {
    use std::io::BufRead;
    let ns = "t_bridge_params";
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("ros_echo.yaml");
    std::fs::write(&file, "/**:\n  ros__parameters:\n    start_pose: [1, 2, 3]\n    label: from the file\n")
        .expect("write params");
    let mut child = Command::new(ros_echo_exe())
        .args(["--ros-args", "-r", &format!("__ns:=/{ns}"), "--params-file"])
        .arg(&file)
        .args(["-p", "use_stamped:=true", "-p", "gain:=1.0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ros_echo");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("piped")).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let params: serde_json::Value = serde_json::from_str(&first).expect("JSON parameters");
    assert_eq!(params["start_pose"], serde_json::json!([1.0, 2.0, 3.0]), "integer YAML list as doubles");
    assert_eq!(params["label"], "from the file");
    assert_eq!((params["use_stamped"].as_bool(), params["gain"].as_f64()), (Some(true), Some(1.0)));

    let r = report(
        peer("latency_probe.py", &["--ns", ns, "--count", "50", "--stamped"]),
        Duration::from_secs(60),
    );
    assert_eq!((r["sent"].as_u64(), r["received"].as_u64()), (Some(50), Some(50)), "{r}");

    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let status = child.wait().expect("exit");
    assert!(status.success(), "SIGTERM is a clean shutdown: {status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l == "finished"), "finish() ran: {rest:?}");
}

#[test]
fn a_parameter_of_the_wrong_type_is_refused_by_name() {
    let out = Command::new(ros_echo_exe())
        .args(["--ros-args", "-r", "__ns:=/t_bridge_bad_param", "-p", "gain:=fast"])
        .output()
        .expect("run ros_echo");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`gain`"), "{stderr}");
}

/// Forwards odometry x as a policy command (`Odom` → `PolicyCmd`) or a policy command as
/// cmd_vel (`PolicyCmd` → `CmdVel`): two hops of a graph.
#[derive(Debug)]
struct Relay {
    to_cmd_vel: bool,
}

impl Node for Relay {
    fn name(&self) -> &'static str {
        if self.to_cmd_vel { "relay_cmd_vel" } else { "relay_policy" }
    }
    fn subscriptions(&self) -> &'static [Topic] {
        if self.to_cmd_vel { &[Topic::PolicyCmd] } else { &[Topic::Odom] }
    }
    fn publications(&self) -> &'static [Topic] {
        if self.to_cmd_vel { &[Topic::CmdVel] } else { &[Topic::PolicyCmd] }
    }
    fn period_s(&self) -> Option<f64> {
        None
    }
    fn on_message(&mut self, now_s: f64, msg: &Msg, out: &mut Outbox) {
        let cmd = |linear_mps| Cmd { stamp_s: now_s, cmd: VelocityCmd { linear_mps, angular_rps: 0.0 } };
        match msg {
            Msg::Odom(o) => out.push(Msg::PolicyCmd(cmd(o.state.x_m))),
            Msg::PolicyCmd(c) => out.push(Msg::CmdVel(cmd(c.cmd.linear_mps))),
            _ => {}
        }
    }
    fn on_tick(&mut self, _now_s: f64, _out: &mut Outbox) {}
}

#[test]
fn several_nodes_in_one_process_talk_over_dds() {
    let ns = "t_bridge_all";
    let stop = Arc::new(AtomicBool::new(false));
    // cmd_vel unstamped; the policy command between the two nodes is stamped regardless.
    let options =
        SpinOptions { twist: TwistKind::Unstamped, stop: Some(Arc::clone(&stop)), pose: Default::default() };
    let nodes: Vec<Box<dyn Node>> =
        vec![Box::new(Relay { to_cmd_vel: false }), Box::new(Relay { to_cmd_vel: true })];
    let handle = std::thread::spawn(move || sim2real::ros::spin_all(nodes, ns, &options));
    let r = report(peer("latency_probe.py", &["--ns", ns, "--count", "250"]), Duration::from_secs(60));
    stop.store(true, Ordering::Relaxed);
    assert_eq!(handle.join().expect("spin thread"), Ok(()));
    eprintln!("{ns}: {r}");
    assert_eq!((r["sent"].as_u64(), r["received"].as_u64()), (Some(250), Some(250)), "{r}");
}
