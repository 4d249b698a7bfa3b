//! `safety_monitor`: the last stage before `cmd_vel` (DESIGN §6). Small and free of learned
//! parts: it passes a command on only while everything it watches is healthy, and otherwise
//! commands zero at once.
//!
//! Rules, checked every tick in this order (the first that applies decides the reason):
//! 1. **E-stop latch**: once `platform/emergency_stop` reports true, zero until it is released
//!    *and* the monitor is re-armed (DESIGN §9); a release alone does not move the robot.
//! 2. **Geofence latch**: odometry outside the geofence (or within `geofence_margin_m` of its
//!    boundary) stops the robot until re-armed.
//! 3. **Watchdogs**: no odometry, or odometry or command older than `timeout_s` → zero. It is
//!    [`WATCHDOG_MARGIN_S`] below the W200 controller's 0.25 s, so that the zero reaches the
//!    robot within 0.25 s of the last message despite a control tick and the transport. A non-finite odometry pose counts as no odometry. When
//!    the scan is watched (the node does: the policies see through it), no scan or a stale
//!    one → zero too. Odometry and scans are judged by their stamps, so a late message is
//!    as stale as a missing one.
//! 4. **Non-finite command** (NaN, ±inf from a policy) → zero.
//! 5. **Limits**: speed and yaw rate clamped to the robot's limits, and changes limited per
//!    tick like the W200 controller's: the acceleration limit while |speed| grows, the (larger)
//!    deceleration limit while it shrinks ([`sim::rate_limit`]). Stops (rules 1–4) are not
//!    ramped: zero is immediate, as the W200 controller's own timeout is.
//!
//! Time is injected (`now_s`), so the monitor runs in lockstep on a simulation clock or on
//! wall time alike.

use crate::msg::{
    Command, Diagnostic, DiagnosticLevel, Msg, PoseSource, SafetyStatus, SafetyVerdict, StartPose, Topic,
    json_name,
};
use crate::runtime::node::{Node, Outbox, ParamError, ParamSpec, ParamValue, Params};
use sim::{RobotParams, Vec2, VelocityCmd, geometry};

/// Settings (from the robot parameters and the node's parameter file).
#[derive(Debug, Clone, PartialEq)]
pub struct SafetyConfig {
    /// Largest |speed| passed on (m/s).
    pub max_speed_mps: f64,
    /// Largest |yaw rate| passed on (rad/s).
    pub max_yaw_rate_rps: f64,
    /// Largest growth of |speed| per second (m/s²).
    pub max_accel_mps2: f64,
    /// Largest drop of |speed| per second (m/s²).
    pub max_decel_mps2: f64,
    /// Largest growth of |yaw rate| per second (rad/s²).
    pub max_yaw_accel_rps2: f64,
    /// Largest drop of |yaw rate| per second (rad/s²).
    pub max_yaw_decel_rps2: f64,
    /// Odometry or a command older than this stops the robot (s).
    pub timeout_s: f64,
    /// Geofence polygon (scenario frame, m); empty for none.
    pub geofence: Vec<Vec2>,
    /// Distance from the geofence boundary at which the robot is stopped (m).
    pub geofence_margin_m: f64,
    /// Whether the scan must be fresh (within `timeout_s`) for the robot to move.
    pub watch_scan: bool,
}

/// How much earlier than the robot's command timeout the watchdogs fire (s): one 50 Hz control
/// tick plus transport, with room to spare.
pub const WATCHDOG_MARGIN_S: f64 = 0.05;

impl SafetyConfig {
    /// The Warthog's controller limits and timeout, with `geofence` and a margin of half the
    /// chassis length.
    pub fn for_robot(robot: &RobotParams, geofence: Vec<Vec2>) -> SafetyConfig {
        SafetyConfig {
            max_speed_mps: robot.max_speed_mps,
            max_yaw_rate_rps: robot.max_yaw_rate_rps,
            max_accel_mps2: robot.max_accel_mps2,
            max_decel_mps2: robot.max_decel_mps2,
            max_yaw_accel_rps2: robot.max_yaw_accel_rps2,
            max_yaw_decel_rps2: robot.max_yaw_decel_rps2,
            timeout_s: robot.cmd_timeout_s - WATCHDOG_MARGIN_S,
            geofence,
            geofence_margin_m: 0.5 * robot.length_m,
            watch_scan: false,
        }
    }
}

/// The monitor's state: what it last heard and what it latched.
#[derive(Debug, Clone)]
pub struct SafetyMonitor {
    config: SafetyConfig,
    command: Option<(f64, VelocityCmd)>,
    odometry: Option<(f64, Vec2)>,
    scan_s: Option<f64>,
    estop_on: bool,
    estop_latched: bool,
    geofence_latched: bool,
    last_out: VelocityCmd,
    last_tick_s: Option<f64>,
}

impl SafetyMonitor {
    /// A monitor that has heard nothing yet (so it commands zero).
    pub fn new(config: SafetyConfig) -> SafetyMonitor {
        SafetyMonitor {
            config,
            command: None,
            odometry: None,
            scan_s: None,
            estop_on: false,
            estop_latched: false,
            geofence_latched: false,
            last_out: VelocityCmd::STOP,
            last_tick_s: None,
        }
    }

    /// A command from upstream (the policy executor) at time `t_s`.
    pub fn on_command(&mut self, t_s: f64, cmd: VelocityCmd) {
        self.command = Some((t_s, cmd));
    }

    /// A scan stamped `t_s` arrived.
    pub fn on_scan(&mut self, t_s: f64) {
        self.scan_s = Some(t_s);
    }

    /// An odometry position (scenario frame) stamped `t_s`.
    pub fn on_odometry(&mut self, t_s: f64, position: Vec2) {
        self.odometry = Some((t_s, position));
    }

    /// The e-stop topic: true = stopped. Turning on latches.
    pub fn on_estop(&mut self, stopped: bool) {
        self.estop_on = stopped;
        self.estop_latched |= stopped;
    }

    /// Re-arms after an e-stop release or a geofence stop; has no effect while the e-stop is
    /// still on. The robot stays still until a fresh command arrives.
    pub fn rearm(&mut self) {
        if !self.estop_on {
            self.estop_latched = false;
            self.geofence_latched = false;
            self.command = None;
        }
    }

    /// The command to publish at `now_s`, and why.
    pub fn tick(&mut self, now_s: f64) -> (VelocityCmd, SafetyVerdict) {
        let dt = self.last_tick_s.map_or(0.0, |t| (now_s - t).max(0.0));
        self.last_tick_s = Some(now_s);
        let verdict = self.verdict(now_s);
        let out = match verdict {
            SafetyVerdict::Passing => self.limit(self.command.map_or(VelocityCmd::STOP, |c| c.1), dt),
            _ => VelocityCmd::STOP,
        };
        self.last_out = out;
        (out, verdict)
    }

    fn verdict(&mut self, now_s: f64) -> SafetyVerdict {
        let fresh = |t: f64| now_s - t <= self.config.timeout_s && t <= now_s;
        if self.estop_latched {
            return SafetyVerdict::EStop;
        }
        let Some((t_odom, p)) = self.odometry.filter(|(t, p)| p.is_finite() && t.is_finite()) else {
            return SafetyVerdict::StaleOdometry;
        };
        let fence = &self.config.geofence;
        if !fence.is_empty()
            && (!geometry::polygon_contains(fence, p)
                || geometry::polygon_boundary_distance(fence, p) < self.config.geofence_margin_m)
        {
            self.geofence_latched = true;
        }
        if self.geofence_latched {
            return SafetyVerdict::Geofence;
        }
        if !fresh(t_odom) {
            return SafetyVerdict::StaleOdometry;
        }
        if self.config.watch_scan && !self.scan_s.is_some_and(fresh) {
            return SafetyVerdict::StaleScan;
        }
        match self.command {
            Some((t, _)) if !fresh(t) => SafetyVerdict::StaleCommand,
            None => SafetyVerdict::StaleCommand,
            Some((_, c)) if !(c.linear_mps.is_finite() && c.angular_rps.is_finite()) => {
                SafetyVerdict::NonFiniteCommand
            }
            Some(_) => SafetyVerdict::Passing,
        }
    }

    /// Clamps to the limits, then limits the change from the last output to `dt` of
    /// acceleration or deceleration (no change on the first tick, dt = 0).
    fn limit(&self, cmd: VelocityCmd, dt: f64) -> VelocityCmd {
        let c = &self.config;
        let last = self.last_out;
        VelocityCmd {
            linear_mps: sim::rate_limit(
                last.linear_mps,
                cmd.linear_mps.clamp(-c.max_speed_mps, c.max_speed_mps),
                c.max_accel_mps2,
                c.max_decel_mps2,
                dt,
            ),
            angular_rps: sim::rate_limit(
                last.angular_rps,
                cmd.angular_rps.clamp(-c.max_yaw_rate_rps, c.max_yaw_rate_rps),
                c.max_yaw_accel_rps2,
                c.max_yaw_decel_rps2,
                dt,
            ),
        }
    }
}

/// Period of the `diagnostics` reports (s): 1 Hz, as DESIGN §9 asks.
pub const DIAGNOSTIC_PERIOD_S: f64 = 1.0;

/// The node's parameters.
pub fn params() -> Vec<ParamSpec> {
    let pose_params = super::policy_executor::pose_params();
    vec![
        ParamSpec {
            name: "bundle",
            default: ParamValue::String(String::new()),
            doc: "bundle directory (robot limits, geofence)",
        },
        ParamSpec {
            name: "start_pose",
            default: ParamValue::DoubleArray(vec![0.0; 3]),
            doc: "scenario pose [x m, y m, yaw rad] where odometry started",
        },
        ParamSpec {
            name: "timeout_s",
            default: ParamValue::Double(0.2),
            doc: "odometry or a command older than this stops the robot (s)",
        },
        ParamSpec {
            name: "rate_hz",
            default: ParamValue::Double(50.0),
            doc: "watchdog rate: cmd_vel is published at least this often (Hz)",
        },
        ParamSpec {
            name: "use_stamped",
            default: ParamValue::Bool(false),
            doc: "publish cmd_vel as TwistStamped instead of Twist",
        },
        pose_params[0].clone(),
        pose_params[1].clone(),
    ]
}

/// The `safety_monitor` node: the [`SafetyMonitor`] on the graph. It publishes `cmd_vel` at once
/// for every upstream command and e-stop change (no added latency), and from its timer whenever
/// commands are overdue, so a silent upstream still gets the robot stopped; each
/// verdict change goes out on [`Topic::SafetyStatus`]. A new goal re-arms it, as a re-arm does.
#[derive(Debug)]
pub struct SafetyNode {
    monitor: SafetyMonitor,
    start: StartPose,
    pose: PoseSource,
    period_s: f64,
    last_command_s: f64,
    verdict: Option<SafetyVerdict>,
    next_diagnostic_s: f64,
}

impl SafetyNode {
    /// A node around a fresh monitor; odometry is mapped into the scenario frame with `start`.
    pub fn new(config: SafetyConfig, start: StartPose, rate_hz: f64) -> SafetyNode {
        SafetyNode {
            monitor: SafetyMonitor::new(config),
            start,
            pose: PoseSource::Odometry,
            period_s: 1.0 / rate_hz,
            last_command_s: f64::NEG_INFINITY,
            verdict: None,
            next_diagnostic_s: 0.0,
        }
    }

    /// From the node's parameters and the bundle's robot and geofence.
    pub fn from_params(
        p: &Params,
        robot: &RobotParams,
        geofence: Vec<Vec2>,
    ) -> Result<SafetyNode, ParamError> {
        let mut config = SafetyConfig::for_robot(robot, geofence);
        config.watch_scan = true;
        config.timeout_s = p.double("timeout_s", 0.0..=10.0)?;
        let start = StartPose::from_array(p.doubles::<3>("start_pose")?);
        let node = SafetyNode::new(config, start, p.double("rate_hz", 1.0..=1000.0)?);
        Ok(node.with_pose(super::policy_executor::pose_source(p)?))
    }

    /// Takes the pose for the geofence and the odometry watchdog from `pose` (a localisation
    /// topic replaces odometry there, with the same staleness rule).
    pub fn with_pose(mut self, pose: PoseSource) -> SafetyNode {
        self.pose = pose;
        self
    }

    fn publish(&mut self, now_s: f64, out: &mut Outbox) {
        let (cmd, verdict) = self.monitor.tick(now_s);
        out.push(Msg::CmdVel(Command { stamp_s: now_s, cmd }));
        if self.verdict != Some(verdict) {
            self.verdict = Some(verdict);
            out.push(Msg::SafetyStatus(SafetyStatus { stamp_s: now_s, verdict }));
        }
    }
}

impl Node for SafetyNode {
    fn name(&self) -> &'static str {
        "safety_monitor"
    }

    fn subscriptions(&self) -> &'static [Topic] {
        if self.pose.is_localisation() {
            &[Topic::PolicyCmd, Topic::Pose, Topic::Scan, Topic::EStop, Topic::Rearm, Topic::Goal]
        } else {
            &[Topic::PolicyCmd, Topic::Odom, Topic::Scan, Topic::EStop, Topic::Rearm, Topic::Goal]
        }
    }

    fn publications(&self) -> &'static [Topic] {
        &[Topic::CmdVel, Topic::SafetyStatus, Topic::Diagnostics]
    }

    fn period_s(&self) -> Option<f64> {
        Some(self.period_s)
    }

    fn on_message(&mut self, now_s: f64, msg: &Msg, out: &mut Outbox) {
        match msg {
            Msg::PolicyCmd(c) => {
                self.last_command_s = now_s;
                self.monitor.on_command(now_s, c.cmd);
                self.publish(now_s, out);
            }
            Msg::Odom(o) if !self.pose.is_localisation() => {
                let s = self.start.to_scenario(&o.state);
                self.monitor.on_odometry(o.stamp_s, Vec2::new(s.x_m, s.y_m));
            }
            Msg::Pose(p) if self.pose.is_localisation() => {
                self.monitor.on_odometry(p.stamp_s, Vec2::new(p.x_m, p.y_m));
            }
            Msg::Scan(scan) => self.monitor.on_scan(scan.stamp_s),
            Msg::EStop(on) => {
                self.monitor.on_estop(*on);
                self.publish(now_s, out);
            }
            Msg::Rearm | Msg::Goal(_) => self.monitor.rearm(),
            _ => {}
        }
    }

    fn on_tick(&mut self, now_s: f64, out: &mut Outbox) {
        // While commands flow, each one is published as it comes; the timer takes over once
        // one is overdue (half a period of slack for jitter).
        if now_s - self.last_command_s > 1.5 * self.period_s {
            self.publish(now_s, out);
        }
        if now_s >= self.next_diagnostic_s {
            self.next_diagnostic_s = now_s + DIAGNOSTIC_PERIOD_S;
            let verdict = self.verdict.unwrap_or(SafetyVerdict::StaleOdometry);
            let level = match verdict {
                SafetyVerdict::Passing => DiagnosticLevel::Ok,
                SafetyVerdict::EStop | SafetyVerdict::Geofence | SafetyVerdict::NonFiniteCommand => {
                    DiagnosticLevel::Error
                }
                _ => DiagnosticLevel::Warn,
            };
            let verdict = json_name(&verdict);
            out.push(Msg::Diagnostics(vec![Diagnostic {
                stamp_s: now_s,
                level,
                name: "sim2real/safety_monitor".into(),
                message: if level == DiagnosticLevel::Ok {
                    "passing commands".into()
                } else {
                    format!("stopped: {verdict}")
                },
                values: vec![("verdict".into(), verdict)],
            }]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DT: f64 = 0.02;

    fn config() -> SafetyConfig {
        let fence =
            vec![Vec2::new(0.0, 0.0), Vec2::new(100.0, 0.0), Vec2::new(100.0, 50.0), Vec2::new(0.0, 50.0)];
        SafetyConfig::for_robot(&RobotParams::default(), fence)
    }

    /// A healthy monitor at t = 0: odometry at the centre, a command of (1, 0.5).
    fn running() -> SafetyMonitor {
        let mut m = SafetyMonitor::new(config());
        m.on_odometry(0.0, Vec2::new(50.0, 25.0));
        m.on_command(0.0, VelocityCmd { linear_mps: 1.0, angular_rps: 0.5 });
        m
    }

    fn is_stop(c: VelocityCmd) -> bool {
        c.linear_mps == 0.0 && c.angular_rps == 0.0
    }

    #[test]
    fn nothing_heard_means_no_motion() {
        let mut m = SafetyMonitor::new(config());
        assert_eq!(m.tick(0.0), (VelocityCmd::STOP, SafetyVerdict::StaleOdometry));
        m.on_odometry(0.0, Vec2::new(50.0, 25.0));
        assert_eq!(m.tick(0.02).1, SafetyVerdict::StaleCommand);
    }

    #[test]
    fn a_command_ramps_up_within_the_acceleration_limit() {
        let mut m = running();
        m.tick(0.0);
        let mut t = 0.0;
        let mut last = 0.0;
        for _ in 0..50 {
            t += DT;
            m.on_odometry(t, Vec2::new(50.0, 25.0));
            m.on_command(t, VelocityCmd { linear_mps: 1.0, angular_rps: 0.5 });
            let (out, v) = m.tick(t);
            assert_eq!(v, SafetyVerdict::Passing);
            assert!(out.linear_mps - last <= 2.5 * DT + 1e-12);
            last = out.linear_mps;
        }
        assert!((last - 1.0).abs() < 1e-12, "reaches the command: {last}");
    }

    #[test]
    fn speed_and_yaw_rate_are_capped_at_the_robot_limits() {
        let mut m = running();
        let mut out = VelocityCmd::STOP;
        for k in 0..200 {
            let t = k as f64 * DT;
            m.on_odometry(t, Vec2::new(50.0, 25.0));
            m.on_command(t, VelocityCmd { linear_mps: 20.0, angular_rps: -20.0 });
            out = m.tick(t).0;
        }
        assert_eq!((out.linear_mps, out.angular_rps), (5.0, -4.0));
    }

    #[test]
    fn odometry_dropout_stops_within_the_timeout() {
        let mut m = running();
        let mut t = 0.0;
        for _ in 0..10 {
            t += DT;
            m.on_odometry(t, Vec2::new(50.0, 25.0));
            m.on_command(t, VelocityCmd { linear_mps: 1.0, angular_rps: 0.0 });
            m.tick(t);
        }
        let last_odom = t;
        let timeout = m.config.timeout_s;
        assert!(timeout + 2.0 * DT <= 0.25, "room for a tick and the transport");
        // Commands keep coming, odometry does not: the first tick past the timeout stops.
        let stopped_after = loop {
            t += DT;
            m.on_command(t, VelocityCmd { linear_mps: 1.0, angular_rps: 0.0 });
            let (cmd, verdict) = m.tick(t);
            if verdict != SafetyVerdict::Passing {
                assert_eq!((cmd, verdict), (VelocityCmd::STOP, SafetyVerdict::StaleOdometry));
                break t - last_odom;
            }
            assert!(t - last_odom < 1.0, "never stopped");
        };
        assert!(stopped_after > timeout - 1e-9 && stopped_after <= timeout + DT + 1e-9, "{stopped_after}");
    }

    #[test]
    fn estop_latches_until_released_and_rearmed() {
        let mut m = running();
        assert_eq!(m.tick(0.0).1, SafetyVerdict::Passing);
        m.on_estop(true);
        assert_eq!(m.tick(0.02), (VelocityCmd::STOP, SafetyVerdict::EStop));
        m.rearm(); // refused while the e-stop is on
        m.on_estop(false);
        m.on_odometry(0.04, Vec2::new(50.0, 25.0));
        m.on_command(0.04, VelocityCmd { linear_mps: 1.0, angular_rps: 0.0 });
        assert_eq!(m.tick(0.04).1, SafetyVerdict::EStop, "a release alone does not move the robot");
        m.rearm();
        assert_eq!(m.tick(0.06).1, SafetyVerdict::StaleCommand, "re-arming forgets the old command");
        m.on_odometry(0.08, Vec2::new(50.0, 25.0));
        m.on_command(0.08, VelocityCmd { linear_mps: 1.0, angular_rps: 0.0 });
        assert_eq!(m.tick(0.08).1, SafetyVerdict::Passing);
    }

    #[test]
    fn nan_commands_and_the_geofence_stop_the_robot() {
        let mut m = running();
        m.on_command(0.0, VelocityCmd { linear_mps: f64::NAN, angular_rps: 0.0 });
        assert_eq!(m.tick(0.0), (VelocityCmd::STOP, SafetyVerdict::NonFiniteCommand));
        let mut m = running();
        m.on_odometry(0.0, Vec2::new(99.8, 25.0));
        assert_eq!(m.tick(0.0), (VelocityCmd::STOP, SafetyVerdict::Geofence));
        m.on_odometry(0.02, Vec2::new(50.0, 25.0));
        assert_eq!(m.tick(0.02).1, SafetyVerdict::Geofence, "latched until re-armed");
        m.on_odometry(0.02, Vec2::new(f64::NAN, 25.0));
        assert_eq!(m.tick(0.02).1, SafetyVerdict::StaleOdometry);
    }

    /// The shortest time a W200-style controller needs from `from` to `to`: growing at
    /// `accel`, shrinking at `decel`, braking to zero first when the sign changes.
    fn ramp_time(from: f64, to: f64, accel: f64, decel: f64) -> f64 {
        if from * to >= 0.0 {
            let (a, b) = (from.abs(), to.abs());
            if b >= a { (b - a) / accel } else { (a - b) / decel }
        } else {
            from.abs() / decel + to.abs() / accel
        }
    }

    #[test]
    fn braking_is_four_times_quicker_than_speeding_up() {
        let mut m = running();
        let drive = |m: &mut SafetyMonitor, t: f64, v: f64| {
            m.on_odometry(t, Vec2::new(50.0, 25.0));
            m.on_command(t, VelocityCmd { linear_mps: v, angular_rps: 0.0 });
            m.tick(t).0.linear_mps
        };
        let mut t = 0.0;
        drive(&mut m, t, 0.0);
        let mut to_speed = 0.0;
        while drive(&mut m, t + DT, 3.0) < 3.0 {
            t += DT;
            to_speed += DT;
        }
        t += DT;
        let mut to_rest = 0.0;
        while drive(&mut m, t + DT, 0.0) > 0.0 {
            t += DT;
            to_rest += DT;
        }
        // 3 m/s at 2.5 m/s² takes 1.2 s; at 10 m/s² it is gone in 0.3 s.
        assert!((to_speed - 1.2).abs() <= DT + 1e-9, "{to_speed}");
        assert!((to_rest - 0.3).abs() <= DT + 1e-9, "{to_rest}");
    }

    #[derive(Debug, Clone)]
    enum Event {
        Command(f64, f64),
        Odometry(f64, f64),
        EStop(bool),
        Rearm,
        Wait,
    }

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            8 => -20.0..20.0f64,
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
        ]
    }

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            4 => (value(), value()).prop_map(|(v, w)| Event::Command(v, w)),
            4 => (-10.0..110.0f64, -10.0..60.0f64).prop_map(|(x, y)| Event::Odometry(x, y)),
            1 => any::<bool>().prop_map(Event::EStop),
            1 => Just(Event::Rearm),
            2 => Just(Event::Wait),
        ]
    }

    proptest! {
        /// Whatever arrives, in any order: the output is finite and within the limits; unless
        /// it drops to zero, |speed| grows by at most the acceleration limit and shrinks by at
        /// most the deceleration limit per second (braking through zero uses both); it is zero while
        /// the e-stop is on, and whenever the last odometry or command is older than the
        /// timeout.
        #[test]
        fn invariants_hold_for_any_input_sequence(events in prop::collection::vec(event(), 1..200)) {
            let c = config();
            let mut m = SafetyMonitor::new(c.clone());
            let (mut t, mut t_last, mut last) = (0.0, 0.0, VelocityCmd::STOP);
            let (mut t_cmd, mut t_odom, mut estop) = (f64::NEG_INFINITY, f64::NEG_INFINITY, false);
            for e in events {
                match e {
                    Event::Command(v, w) => { m.on_command(t, VelocityCmd { linear_mps: v, angular_rps: w }); t_cmd = t; }
                    Event::Odometry(x, y) => { m.on_odometry(t, Vec2::new(x, y)); t_odom = t; }
                    Event::EStop(on) => { m.on_estop(on); estop = on; }
                    Event::Rearm => m.rearm(),
                    Event::Wait => t += 0.1,
                }
                t += DT;
                let (out, verdict) = m.tick(t);
                prop_assert!(out.linear_mps.is_finite() && out.angular_rps.is_finite());
                prop_assert!(out.linear_mps.abs() <= c.max_speed_mps && out.angular_rps.abs() <= c.max_yaw_rate_rps);
                if !is_stop(out) {
                    let dt = t - t_last;
                    let need_v = ramp_time(last.linear_mps, out.linear_mps, c.max_accel_mps2, c.max_decel_mps2);
                    let need_w = ramp_time(last.angular_rps, out.angular_rps, c.max_yaw_accel_rps2, c.max_yaw_decel_rps2);
                    prop_assert!(need_v <= dt + 1e-9, "{last:?} → {out:?} needs {need_v} s, had {dt} s");
                    prop_assert!(need_w <= dt + 1e-9, "{last:?} → {out:?} needs {need_w} s, had {dt} s");
                }
                t_last = t;
                if estop || t - t_cmd > c.timeout_s || t - t_odom > c.timeout_s {
                    prop_assert!(is_stop(out), "{verdict:?} at t {t}");
                }
                last = out;
            }
        }
    }

    #[test]
    fn the_node_reports_its_verdict_on_diagnostics_once_a_second() {
        use crate::msg::{Odom, Scan};
        use sim::PlanarState;
        let mut node =
            SafetyNode::new(SafetyConfig { watch_scan: true, ..config() }, StartPose::default(), 50.0);
        let diagnostics = |node: &mut SafetyNode, t: f64| {
            let mut out = Outbox::new();
            node.on_tick(t, &mut out);
            out.drain()
                .filter_map(|m| match m {
                    Msg::Diagnostics(d) => Some(d),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        let first = diagnostics(&mut node, 0.0);
        assert_eq!(first.len(), 1);
        assert_eq!(
            (first[0][0].level, first[0][0].values[0].1.as_str()),
            (DiagnosticLevel::Warn, "stale_odometry")
        );
        assert!(diagnostics(&mut node, 0.5).is_empty(), "1 Hz, not every tick");
        let mut out = Outbox::new();
        let state = PlanarState { x_m: 50.0, y_m: 25.0, ..PlanarState::default() };
        node.on_message(0.9, &Msg::Odom(Odom { stamp_s: 0.9, state, yaw_rate_rps: 0.0 }), &mut out);
        let scan = Scan { stamp_s: 0.9, beams: sim::LaserScan::default() };
        node.on_message(0.9, &Msg::Scan(scan), &mut out);
        let cmd = Command { stamp_s: 0.95, cmd: VelocityCmd { linear_mps: 0.5, angular_rps: 0.0 } };
        node.on_message(0.95, &Msg::PolicyCmd(cmd), &mut out);
        let next = diagnostics(&mut node, 1.0);
        assert_eq!(
            (next[0][0].level, next[0][0].message.as_str()),
            (DiagnosticLevel::Ok, "passing commands")
        );
        node.on_message(1.1, &Msg::EStop(true), &mut out);
        assert_eq!(diagnostics(&mut node, 2.0)[0][0].level, DiagnosticLevel::Error);
    }
}
