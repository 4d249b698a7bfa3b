//! `sim2real node`: one runtime node as a ROS 2 process (what the launch files start).

use sim2real::runtime::graph::{self, NODE_NAMES};

use super::{Code, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Node name (see --list).
    name: Option<String>,
    /// List the nodes.
    #[arg(long)]
    list: bool,
    /// Print the node's parameters as a ROS 2 parameter file.
    #[arg(long)]
    print_params: bool,
    /// ROS arguments (`--ros-args -r __ns:=/w200_0000 --params-file FILE -p bundle:=DIR`), read
    /// by rcl.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    ros_args: Vec<String>,
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
    let specs = graph::params(&name).map_err(Failure::invalid)?;
    if args.print_params {
        println!("{name}:\n  ros__parameters:");
        for s in &specs {
            println!("    # {}\n    {}: {}", s.doc, s.name, s.default);
        }
        return Ok(Code::Success);
    }
    spin(&name, &specs)
}

#[cfg(not(feature = "ros2"))]
fn spin(name: &str, _specs: &[sim2real::runtime::ParamSpec]) -> Result<Code, Failure> {
    Err(Failure::invalid(anyhow::anyhow!("cannot start `{name}`: sim2real was built without feature `ros2`")))
}
