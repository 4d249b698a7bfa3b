//! The bridge with r2r (feature `ros2`): parameters, subscriptions, publishers, the timer loop.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::{FutureExt, Stream, StreamExt};
use r2r::diagnostic_msgs::msg::DiagnosticArray;
use r2r::geometry_msgs::msg::{PoseWithCovarianceStamped, Twist, TwistStamped};
use r2r::nav_msgs::msg::Odometry;
use r2r::sensor_msgs::msg::{Imu as RosImu, LaserScan};
use r2r::std_msgs::msg::{Bool, String as RosString};
use r2r::{Publisher, QosProfile};

use super::convert::{Incoming, Outgoing, TimeMap, from_msg, to_msg};
use super::{QosClass, RosError, SpinOptions, TwistKind, absolute_namespace, qos_class, twist_kind};
use crate::msg::{PoseKind, PoseSource, Topic};
use crate::runtime::{Node, Outbox, ParamSpec, ParamValue};

/// Longest blocking wait of one loop turn: bounds how late a stop request is seen.
const MAX_WAIT: Duration = Duration::from_millis(20);
/// With several nodes in one process only the first blocks; the others are polled each turn,
/// so this bounds their extra latency.
const MAX_WAIT_SHARED: Duration = Duration::from_millis(2);

fn rcl_error(node: &str, action: impl Into<String>) -> impl FnOnce(r2r::Error) -> RosError {
    let node = node.to_string();
    let action = action.into();
    move |e| RosError::Rcl { node, action, detail: e.to_string() }
}

fn create_node(name: &str, namespace: &str) -> Result<r2r::Node, RosError> {
    let ctx = r2r::Context::create().map_err(rcl_error(name, "rcl init"))?;
    r2r::Node::create(ctx, name, &absolute_namespace(namespace)).map_err(rcl_error(name, "create node"))
}

/// The ROS parameters set for node `node_name` in `namespace` (by `--params-file` or `-p` in
/// the process's `--ros-args`), typed after `specs`: an integer array where the spec holds a
/// double array becomes doubles (YAML `[0, 0, 0]`). Names the specs lack are returned too, so
/// that `Params::new` refuses a misspelt parameter; `use_sim_time` is skipped.
pub fn read_params(
    node_name: &str,
    namespace: &str,
    specs: &[ParamSpec],
) -> Result<Vec<(String, ParamValue)>, RosError> {
    let ros = create_node(node_name, namespace)?;
    let params = ros.params.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut out = Vec::new();
    for (name, param) in params.iter() {
        if name == "use_sim_time" {
            continue;
        }
        let spec = specs.iter().find(|s| s.name == name).map(|s| &s.default);
        let value = match (&param.value, spec) {
            (r2r::ParameterValue::NotSet, _) => continue,
            (r2r::ParameterValue::Bool(b), _) => ParamValue::Bool(*b),
            (r2r::ParameterValue::Integer(i), _) => ParamValue::Int(*i),
            (r2r::ParameterValue::Double(x), _) => ParamValue::Double(*x),
            (r2r::ParameterValue::String(s), _) => ParamValue::String(s.clone()),
            (r2r::ParameterValue::DoubleArray(v), _) => ParamValue::DoubleArray(v.clone()),
            (r2r::ParameterValue::IntegerArray(v), Some(ParamValue::DoubleArray(_)) | None) => {
                ParamValue::DoubleArray(v.iter().map(|&i| i as f64).collect())
            }
            (other, _) => {
                return Err(RosError::Param {
                    node: node_name.into(),
                    name: name.clone(),
                    reason: format!("a {} is not a type this node takes", other.type_name()),
                });
            }
        };
        out.push((name.clone(), value));
    }
    Ok(out)
}

fn qos(class: QosClass, publisher: bool) -> QosProfile {
    match class {
        QosClass::Reliable => QosProfile::default().reliable().volatile().keep_last(10),
        QosClass::SensorData => QosProfile::sensor_data(),
        QosClass::Latched => {
            QosProfile::default().reliable().transient_local().keep_last(if publisher { 1 } else { 10 })
        }
    }
}

type Sub = Box<dyn Stream<Item = Incoming> + Unpin>;

fn subscribe(ros: &mut r2r::Node, name: &str, topic: Topic, options: &SpinOptions) -> Result<Sub, RosError> {
    let q = qos(qos_class(topic), false);
    let t = topic.name();
    let twist = options.twist;
    let err = || rcl_error(name, format!("subscribe to {t}"));
    Ok(match topic {
        Topic::Pose => {
            let PoseSource::Localisation { topic: t, kind } = &options.pose else {
                return Err(RosError::Param {
                    node: name.into(),
                    name: "pose_topic".into(),
                    reason: "the node takes a localisation pose but no pose topic is set".into(),
                });
            };
            let err = || rcl_error(name, format!("subscribe to {t}"));
            match kind {
                PoseKind::PoseWithCovariance => Box::new(
                    ros.subscribe::<PoseWithCovarianceStamped>(t, q).map_err(err())?.map(Incoming::PoseCov),
                ),
                PoseKind::Odometry => {
                    Box::new(ros.subscribe::<Odometry>(t, q).map_err(err())?.map(Incoming::PoseOdom))
                }
            }
        }
        Topic::CmdVel | Topic::PolicyCmd => match twist_kind(topic, twist) {
            TwistKind::Unstamped => {
                Box::new(ros.subscribe::<Twist>(t, q).map_err(err())?.map(move |m| Incoming::Twist(topic, m)))
            }
            TwistKind::Stamped => Box::new(
                ros.subscribe::<TwistStamped>(t, q)
                    .map_err(err())?
                    .map(move |m| Incoming::TwistStamped(topic, m)),
            ),
        },
        Topic::Odom => Box::new(ros.subscribe::<Odometry>(t, q).map_err(err())?.map(Incoming::Odom)),
        Topic::Imu => Box::new(ros.subscribe::<RosImu>(t, q).map_err(err())?.map(Incoming::Imu)),
        Topic::Scan => Box::new(ros.subscribe::<LaserScan>(t, q).map_err(err())?.map(Incoming::Scan)),
        Topic::EStop => Box::new(ros.subscribe::<Bool>(t, q).map_err(err())?.map(Incoming::Bool)),
        Topic::Diagnostics => {
            Box::new(ros.subscribe::<DiagnosticArray>(t, q).map_err(err())?.map(Incoming::Diagnostics))
        }
        Topic::Goal
        | Topic::Cancel
        | Topic::Rearm
        | Topic::MissionStatus
        | Topic::ActiveSubtask
        | Topic::SubtaskEvent
        | Topic::SafetyStatus
        | Topic::OperatorSay
        | Topic::OperatorReply
        | Topic::Tips => {
            Box::new(ros.subscribe::<RosString>(t, q).map_err(err())?.map(move |m| Incoming::Json(topic, m)))
        }
    })
}

/// A publisher of one topic's ROS type.
enum Pub {
    Twist(Publisher<Twist>),
    TwistStamped(Publisher<TwistStamped>),
    Odom(Publisher<Odometry>),
    Pose(Publisher<PoseWithCovarianceStamped>),
    Imu(Publisher<RosImu>),
    Scan(Publisher<LaserScan>),
    Bool(Publisher<Bool>),
    Diagnostics(Publisher<DiagnosticArray>),
    Json(Publisher<RosString>),
}

fn advertise(ros: &mut r2r::Node, name: &str, topic: Topic, twist: TwistKind) -> Result<Pub, RosError> {
    let q = qos(qos_class(topic), true);
    let t = topic.name();
    let err = || rcl_error(name, format!("advertise {t}"));
    Ok(match topic {
        Topic::CmdVel | Topic::PolicyCmd => match twist_kind(topic, twist) {
            TwistKind::Unstamped => Pub::Twist(ros.create_publisher(t, q).map_err(err())?),
            TwistKind::Stamped => Pub::TwistStamped(ros.create_publisher(t, q).map_err(err())?),
        },
        Topic::Odom => Pub::Odom(ros.create_publisher(t, q).map_err(err())?),
        Topic::Pose => Pub::Pose(ros.create_publisher(t, q).map_err(err())?),
        Topic::Imu => Pub::Imu(ros.create_publisher(t, q).map_err(err())?),
        Topic::Scan => Pub::Scan(ros.create_publisher(t, q).map_err(err())?),
        Topic::EStop => Pub::Bool(ros.create_publisher(t, q).map_err(err())?),
        Topic::Diagnostics => Pub::Diagnostics(ros.create_publisher(t, q).map_err(err())?),
        Topic::Goal
        | Topic::Cancel
        | Topic::Rearm
        | Topic::MissionStatus
        | Topic::ActiveSubtask
        | Topic::SubtaskEvent
        | Topic::SafetyStatus
        | Topic::OperatorSay
        | Topic::OperatorReply
        | Topic::Tips => Pub::Json(ros.create_publisher(t, q).map_err(err())?),
    })
}

impl Pub {
    fn publish(&self, out: Outgoing) -> Result<(), String> {
        let sent = match (self, out) {
            (Pub::Twist(p), Outgoing::Twist(m)) => p.publish(&m),
            (Pub::TwistStamped(p), Outgoing::TwistStamped(m)) => p.publish(&m),
            (Pub::Odom(p), Outgoing::Odom(m)) => p.publish(&m),
            (Pub::Pose(p), Outgoing::Pose(m)) => p.publish(&m),
            (Pub::Imu(p), Outgoing::Imu(m)) => p.publish(&m),
            (Pub::Scan(p), Outgoing::Scan(m)) => p.publish(&m),
            (Pub::Bool(p), Outgoing::Bool(m)) => p.publish(&m),
            (Pub::Diagnostics(p), Outgoing::Diagnostics(m)) => p.publish(&m),
            (Pub::Json(p), Outgoing::Json(m)) => p.publish(&m),
            // Both come from the same topic, so the types always agree.
            (_, out) => return Err(format!("message type does not match the topic: {out:?}")),
        };
        sent.map_err(|e| e.to_string())
    }
}

/// One runtime node with its r2r node, subscriptions, publishers and timer.
struct Slot {
    node: Box<dyn Node>,
    ros: r2r::Node,
    subs: Vec<Sub>,
    pubs: BTreeMap<Topic, Pub>,
    twist: TwistKind,
    period_s: Option<f64>,
    next_tick_s: f64,
    outbox: Outbox,
}

impl Slot {
    fn new(node: Box<dyn Node>, namespace: &str, options: &SpinOptions) -> Result<Slot, RosError> {
        let name = node.name();
        let twist = options.twist;
        let mut ros = create_node(name, namespace)?;
        // The localisation pose has a topic only where a pose source names one; a node that
        // merely listens to everything (the recorder) has nothing to subscribe to otherwise.
        let subs = node
            .subscriptions()
            .iter()
            .filter(|&&topic| topic != Topic::Pose || options.pose.is_localisation())
            .map(|&topic| subscribe(&mut ros, name, topic, options))
            .collect::<Result<Vec<_>, _>>()?;
        let pubs = node
            .publications()
            .iter()
            .map(|&topic| Ok((topic, advertise(&mut ros, name, topic, twist)?)))
            .collect::<Result<BTreeMap<_, _>, RosError>>()?;
        // A period that is not a positive finite number means no timer.
        let period_s = node.period_s().filter(|p| p.is_finite() && *p > 0.0);
        Ok(Slot { node, ros, subs, pubs, twist, period_s, next_tick_s: 0.0, outbox: Outbox::new() })
    }

    fn publish_outbox(&mut self, time: &TimeMap) {
        let name = self.node.name();
        for msg in self.outbox.drain() {
            let topic = msg.topic();
            let Some(publisher) = self.pubs.get(&topic) else {
                tracing::warn!(
                    node = name,
                    topic = topic.name(),
                    "not one of the node's publications; dropped"
                );
                continue;
            };
            if let Err(e) = publisher.publish(from_msg(&msg, self.twist, time)) {
                tracing::warn!(node = name, topic = topic.name(), "publish failed: {e}");
            }
        }
    }

    /// Hands every received message to the node.
    fn drain(&mut self, now_s: f64, time: &TimeMap) {
        for i in 0..self.subs.len() {
            while let Some(Some(incoming)) = self.subs[i].next().now_or_never() {
                match to_msg(incoming, time, now_s) {
                    Ok(msg) => self.node.on_message(now_s, &msg, &mut self.outbox),
                    Err(e) => tracing::warn!(node = self.node.name(), "dropped a malformed message: {e}"),
                }
                self.publish_outbox(time);
            }
        }
    }

    fn tick_if_due(&mut self, now_s: f64, time: &TimeMap) {
        let Some(period_s) = self.period_s else { return };
        if now_s < self.next_tick_s {
            return;
        }
        self.node.on_tick(now_s, &mut self.outbox);
        self.publish_outbox(time);
        self.next_tick_s += period_s;
        // After a stall, skip the missed ticks instead of firing them in a burst.
        if self.next_tick_s <= now_s {
            self.next_tick_s = now_s + period_s;
        }
    }
}

/// SIGINT and SIGTERM set the returned flag; a second one ends the process at once.
fn stop_on_signals() -> Result<Arc<AtomicBool>, RosError> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let installed = signal_hook::flag::register_conditional_shutdown(signal, 1, Arc::clone(&flag))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&flag)));
        installed.map_err(|e| RosError::Signal { detail: e.to_string() })?;
    }
    Ok(flag)
}

fn run(mut slots: Vec<Slot>, options: &SpinOptions) -> Result<(), RosError> {
    let signalled = stop_on_signals()?;
    let stop_requested = || {
        signalled.load(Ordering::Relaxed) || options.stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed))
    };
    let start = Instant::now();
    // The wall clock is read once, only to map header stamps (ROS time) onto `now_s`.
    let wall_s = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    let time = TimeMap { offset_s: wall_s };
    let max_wait = if slots.len() > 1 { MAX_WAIT_SHARED } else { MAX_WAIT };
    for slot in &slots {
        tracing::info!(
            node = slot.node.name(),
            namespace = slot.ros.namespace().unwrap_or_default(),
            "ROS node up"
        );
    }
    while !stop_requested() {
        let now_s = start.elapsed().as_secs_f64();
        let next_tick_s = slots
            .iter()
            .filter(|s| s.period_s.is_some())
            .map(|s| s.next_tick_s)
            .fold(f64::INFINITY, f64::min);
        let wait =
            Duration::try_from_secs_f64((next_tick_s - now_s).max(0.0)).map_or(max_wait, |d| d.min(max_wait));
        for (i, slot) in slots.iter_mut().enumerate() {
            slot.ros.spin_once(if i == 0 { wait } else { Duration::ZERO });
            slot.drain(start.elapsed().as_secs_f64(), &time);
        }
        let now_s = start.elapsed().as_secs_f64();
        for slot in &mut slots {
            slot.tick_if_due(now_s, &time);
        }
    }
    tracing::info!("shutting down");
    let mut first_error = None;
    for slot in &mut slots {
        if let Err(detail) = slot.node.finish() {
            tracing::error!(node = slot.node.name(), "finish failed: {detail}");
            first_error.get_or_insert(RosError::Finish { node: slot.node.name().into(), detail });
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Runs `node` as the ROS node `<namespace>/<node.name()>` (rcl's `-r __ns:=` and `__node:=`
/// remaps win) until SIGINT, SIGTERM or `options.stop`; then calls [`Node::finish`].
pub fn spin(node: Box<dyn Node>, namespace: &str, options: &SpinOptions) -> Result<(), RosError> {
    spin_all(vec![node], namespace, options)
}

/// Runs several nodes in this process, each its own ROS node in `namespace`, talking over DDS
/// as separate processes would; stops as [`spin`] does and finishes every node.
pub fn spin_all(nodes: Vec<Box<dyn Node>>, namespace: &str, options: &SpinOptions) -> Result<(), RosError> {
    let slots =
        nodes.into_iter().map(|node| Slot::new(node, namespace, options)).collect::<Result<Vec<_>, _>>()?;
    run(slots, options)
}
