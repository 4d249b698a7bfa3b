//! `sim_bridge`: plays the robot from a simulator (software in the loop).
//!
//! On its timer (the robot's control rate) it applies the latest `cmd_vel` for one control
//! period and publishes odometry (in the odometry frame, zero at the start pose, as the
//! Warthog's EKF does), the IMU and the scan. Like the W200's controller it drops a command
//! older than the robot's command timeout to zero. The ground truth (state and collision,
//! geofence or tip-over status) never goes on the graph; the in-process harness reads it
//! through [`SimBridge::truth`].

use std::sync::{Arc, Mutex};

use sim::{Fidelity, PlanarState, Simulator, Status, VelocityCmd};

use crate::msg::{Imu, Msg, Odom, Scan, StartPose, Topic};
use crate::runtime::node::{Node, Outbox, ParamSpec, ParamValue};
use crate::scenario::Scenario;

/// Ground truth of the simulated robot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Truth {
    /// True state (scenario frame).
    pub state: PlanarState,
    /// True positions so far, one per control step (scenario frame, m).
    pub track: Vec<sim::Vec2>,
    /// First terminal status seen (collision, geofence breach, tip-over), if any.
    pub status: Option<Status>,
    /// Simulated time (s).
    pub time_s: f64,
}

/// Fault injection (testing): a wheel side losing traction during a time window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TractionLoss {
    /// Start (s, graph time).
    pub from_s: f64,
    /// End (s).
    pub to_s: f64,
    /// Fraction of the commanded left-wheel speed that reaches the ground (0..1).
    pub left_factor: f64,
}

/// The node's parameters.
pub fn params() -> Vec<ParamSpec> {
    vec![
        ParamSpec {
            name: "bundle",
            default: ParamValue::String(String::new()),
            doc: "bundle directory (scenario)",
        },
        ParamSpec {
            name: "fidelity",
            default: ParamValue::String("high".into()),
            doc: "simulator: low or high",
        },
        ParamSpec { name: "seed", default: ParamValue::Int(0), doc: "simulator seed (noise, randomisation)" },
        ParamSpec {
            name: "start_pose",
            default: ParamValue::DoubleArray(vec![0.0; 3]),
            doc: "scenario pose [x m, y m, yaw rad] the robot starts at (odometry is zero there)",
        },
        ParamSpec {
            name: "use_stamped",
            default: ParamValue::Bool(false),
            doc: "subscribe cmd_vel as TwistStamped instead of Twist",
        },
        ParamSpec {
            name: "rate_hz",
            default: ParamValue::Double(50.0),
            doc: "must equal the robot's control rate (Hz)",
        },
    ]
}

/// The simulated robot node.
pub struct SimBridge {
    sim: Box<dyn Simulator>,
    start: StartPose,
    cmd_timeout_s: f64,
    period_s: f64,
    cmd: Option<(f64, VelocityCmd)>,
    traction: Option<TractionLoss>,
    track_m: f64,
    started: bool,
    truth: Arc<Mutex<Truth>>,
}

impl std::fmt::Debug for SimBridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimBridge")
            .field("fidelity", &self.sim.fidelity())
            .field("start", &self.start)
            .finish_non_exhaustive()
    }
}

impl SimBridge {
    /// The robot of `scenario` in a `fidelity` simulator seeded with `seed`, at `start`.
    pub fn new(
        scenario: &Scenario,
        fidelity: Fidelity,
        seed: u64,
        start: StartPose,
    ) -> Result<SimBridge, sim::Error> {
        let mut sim = scenario.simulator(fidelity)?;
        sim.reset(
            PlanarState { x_m: start.x_m, y_m: start.y_m, yaw_rad: start.yaw_rad, speed_mps: 0.0 },
            seed,
        );
        let robot = scenario.robot();
        let s = sim.state();
        let truth = Truth { state: s, track: vec![sim::Vec2::new(s.x_m, s.y_m)], status: None, time_s: 0.0 };
        Ok(SimBridge {
            period_s: sim.control_dt_s(),
            sim,
            start,
            cmd_timeout_s: robot.cmd_timeout_s,
            cmd: None,
            traction: None,
            track_m: robot.wheel_separation_m * robot.wheel_separation_multiplier,
            started: false,
            truth: Arc::new(Mutex::new(truth)),
        })
    }

    /// Injects a traction loss (testing).
    pub fn with_traction_loss(mut self, loss: TractionLoss) -> SimBridge {
        self.traction = Some(loss);
        self
    }

    /// A handle on the ground truth, updated every control step.
    pub fn truth(&self) -> Arc<Mutex<Truth>> {
        Arc::clone(&self.truth)
    }

    /// The command reaching the wheels: stale commands are zero, and a slipping left side
    /// delivers only part of its wheel speed (differential-drive mixing).
    fn applied(&self, now_s: f64) -> VelocityCmd {
        let cmd = match self.cmd {
            Some((t, c)) if now_s - t <= self.cmd_timeout_s => c,
            _ => VelocityCmd::STOP,
        };
        match self.traction {
            Some(l) if (l.from_s..l.to_s).contains(&now_s) => {
                let half = 0.5 * self.track_m;
                let (left, right) =
                    (cmd.linear_mps - half * cmd.angular_rps, cmd.linear_mps + half * cmd.angular_rps);
                let left = left * l.left_factor;
                VelocityCmd { linear_mps: 0.5 * (left + right), angular_rps: (right - left) / self.track_m }
            }
            _ => cmd,
        }
    }

    fn publish(&self, now_s: f64, out: &mut Outbox) {
        let s = self.sim.sensors();
        let state = self.start.to_odom(&s.odom.state);
        out.push(Msg::Odom(Odom { stamp_s: now_s, state, yaw_rate_rps: s.odom.yaw_rate_rps }));
        let yaw = state.yaw_rad;
        out.push(Msg::Imu(Imu {
            stamp_s: now_s,
            gyro_rps: s.imu.gyro_rps,
            accel_mps2: s.imu.accel_mps2,
            rpy_rad: [s.imu.roll_rad, s.imu.pitch_rad, yaw],
        }));
        // The simulated lidar's beams, not the policy's rays: the executor forms those from
        // the scan exactly as it does on the robot.
        out.push(Msg::Scan(Scan { stamp_s: now_s, beams: s.scan.clone() }));
    }
}

impl Node for SimBridge {
    fn name(&self) -> &'static str {
        "sim_bridge"
    }

    fn subscriptions(&self) -> &'static [Topic] {
        &[Topic::CmdVel]
    }

    fn publications(&self) -> &'static [Topic] {
        &[Topic::Odom, Topic::Imu, Topic::Scan]
    }

    fn period_s(&self) -> Option<f64> {
        Some(self.period_s)
    }

    fn on_message(&mut self, now_s: f64, msg: &Msg, _out: &mut Outbox) {
        if let Msg::CmdVel(c) = msg {
            self.cmd = Some((now_s, c.cmd));
        }
    }

    fn on_tick(&mut self, now_s: f64, out: &mut Outbox) {
        // The first tick publishes the start without moving.
        if self.started {
            let info = self.sim.step(self.applied(now_s));
            if let Ok(mut truth) = self.truth.lock() {
                truth.state = info.state;
                truth.track.push(sim::Vec2::new(info.state.x_m, info.state.y_m));
                truth.time_s = info.time_s;
                if info.status != Status::Running && truth.status.is_none() {
                    truth.status = Some(info.status);
                }
            }
        }
        self.started = true;
        self.publish(now_s, out);
    }
}
