//! `sim2real node`: one runtime node as a ROS 2 process (what the launch files start). rcl
//! reads `--ros-args` (`-r __ns:=/w200_0000`, `--params-file FILE`, `-p bundle:=DIR`) from
//! the process arguments.

use sim2real::msg::DEFAULT_NAMESPACE;
use sim2real::ros::{self, SpinOptions, TwistKind};
use sim2real::runtime::Params;
use sim2real::runtime::nodes::policy_executor;
use sim2real::runtime::registry::{self, NODE_NAMES};

use super::{Code, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Node name (see --list).
    name: Option<String>,
    /// List the nodes.
    #[arg(long)]
    list: bool,
    /// Print the node's parameters and defaults as a ROS 2 parameter file (`/**` matches the
    /// node in any namespace).
    #[arg(long)]
    print_params: bool,
}

pub fn run(args: Args) -> Result<Code, Failure> {
    if args.list {
        for name in NODE_NAMES {
            println!("{name}");
        }
        return Ok(Code::Success);
    }
    let Some(name) = args.name else {
        return Err(Failure::invalid(anyhow::anyhow!("name a node, or pass --list")));
    };
    let name = registry::static_name(&name).map_err(Failure::invalid)?;
    let specs = registry::params(name).map_err(Failure::invalid)?;
    if args.print_params {
        println!("# {name}\n/**:\n  ros__parameters:");
        for s in &specs {
            println!("    # {}\n    {}: {}", s.doc, s.name, s.default);
        }
        return Ok(Code::Success);
    }
    let given = ros::read_params(name, DEFAULT_NAMESPACE, &specs).map_err(Failure::invalid)?;
    let params = Params::new(name, &specs, &given).map_err(Failure::invalid)?;
    let node = registry::build(name, &params).map_err(|e| match e {
        registry::BuildError::Deploy(d) => super::mission::refusal(d),
        e => Failure::invalid(e),
    })?;
    let twist = TwistKind::from_use_stamped(params.bool("use_stamped").unwrap_or(false));
    // Nodes without the pose parameters take the pose from odometry (if at all).
    let pose = policy_executor::pose_source(&params).unwrap_or_default();
    ros::spin(node, DEFAULT_NAMESPACE, &SpinOptions { twist, stop: None, pose }).map_err(Failure::runtime)?;
    Ok(Code::Success)
}
