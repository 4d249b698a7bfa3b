//! A stand-in for `sim2real node <name>` that exercises the whole ROS path of a node process
//! (feature `ros2`): declare parameter specs → `ros::read_params` (from `--ros-args
//! --params-file ... -p ...`) → `Params::new` → build the node → `ros::spin` until SIGINT or
//! SIGTERM → `Node::finish`. The node echoes odometry x into the command's linear speed, which
//! is what tests/ros/latency_probe.py measures. Prints one JSON line with the parameters it
//! read, and `finished` at the end.
//!
//! ```text
//! cargo run --features ros2 --example ros_echo -- --ros-args -r __ns:=/w200_0000 -p use_stamped:=true
//! ```

use sim::VelocityCmd;
use sim2real::msg::Command;
use sim2real::msg::{Msg, Topic};
use sim2real::ros::{self, SpinOptions, TwistKind};
use sim2real::runtime::{Node, Outbox, ParamSpec, ParamValue, Params};

#[derive(Debug)]
struct Echo {
    gain: f64,
}

impl Node for Echo {
    fn name(&self) -> &'static str {
        "ros_echo"
    }
    fn subscriptions(&self) -> &'static [Topic] {
        &[Topic::Odom]
    }
    fn publications(&self) -> &'static [Topic] {
        &[Topic::CmdVel]
    }
    fn period_s(&self) -> Option<f64> {
        None
    }
    fn on_message(&mut self, now_s: f64, msg: &Msg, out: &mut Outbox) {
        if let Msg::Odom(o) = msg {
            let cmd = VelocityCmd { linear_mps: self.gain * o.state.x_m, angular_rps: 0.0 };
            out.push(Msg::CmdVel(Command { stamp_s: now_s, cmd }));
        }
    }
    fn on_tick(&mut self, _now_s: f64, _out: &mut Outbox) {}
    fn finish(&mut self) -> Result<(), String> {
        println!("finished");
        Ok(())
    }
}

fn specs() -> Vec<ParamSpec> {
    vec![
        ParamSpec { name: "use_stamped", default: ParamValue::Bool(false), doc: "cmd_vel as TwistStamped" },
        ParamSpec { name: "gain", default: ParamValue::Double(1.0), doc: "command = gain × odometry x" },
        ParamSpec {
            name: "start_pose",
            default: ParamValue::DoubleArray(vec![0.0; 3]),
            doc: "x m, y m, yaw rad",
        },
        ParamSpec { name: "label", default: ParamValue::String(String::new()), doc: "free text" },
    ]
}

fn main() -> anyhow::Result<()> {
    let specs = specs();
    let given = ros::read_params("ros_echo", "w200_0000", &specs)?;
    let params = Params::new("ros_echo", &specs, &given)?;
    let start_pose: [f64; 3] = params.doubles("start_pose")?;
    let use_stamped = params.bool("use_stamped")?;
    let gain = params.double("gain", -10.0..=10.0)?;
    println!(
        "{}",
        serde_json::json!({
            "use_stamped": use_stamped,
            "gain": gain,
            "start_pose": start_pose,
            "label": params.string("label")?,
        })
    );
    let options =
        SpinOptions { twist: TwistKind::from_use_stamped(use_stamped), stop: None, pose: Default::default() };
    ros::spin(Box::new(Echo { gain }), "w200_0000", &options)?;
    Ok(())
}
