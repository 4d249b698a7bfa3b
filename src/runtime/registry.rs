//! The node registry: every node's name and parameters, and how to build one from parameter
//! values (what `sim2real node <name>` and the launch files start).

use std::path::Path;
use std::sync::Arc;

use sim::Fidelity;

use crate::agents::Understanding;
use crate::bundle::Bundle;
use crate::bundle::deployment::{DeployError, Deployment};
use crate::llm::LlmSpec;
use crate::msg::StartPose;
use crate::runtime::node::{Node, ParamError, ParamSpec, Params};
use crate::runtime::nodes::dialogue_agent::{self, DialogueNode};
use crate::runtime::nodes::mission_executive::{self, ExecutiveConfig, MissionExecutive};
use crate::runtime::nodes::policy_executor::{self, ExecutorConfig, PolicyExecutor};
use crate::runtime::nodes::recorder::{self, RecorderNode};
use crate::runtime::nodes::safety::{self, SafetyNode};
use crate::runtime::nodes::sim_bridge::{self, SimBridge};
use crate::runtime::nodes::tips_planner::{self, TipsPlannerNode};

/// Every node, in launch order.
pub const NODE_NAMES: [&str; 7] = [
    "sim_bridge",
    "safety_monitor",
    "policy_executor",
    "mission_executive",
    "dialogue_agent",
    "tips_planner",
    "recorder",
];

/// Why a node could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No node of that name.
    #[error("no node `{0}` (nodes: {nodes})", nodes = NODE_NAMES.join(", "))]
    UnknownNode(String),
    /// A parameter is unknown, mistyped or out of range.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The bundle or its certificate was refused.
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// The simulator could not be built.
    #[error("sim_bridge: {0}")]
    Sim(#[from] sim::Error),
    /// The dialogue agent has no goal to talk about.
    #[error("dialogue_agent: {0}")]
    Agent(#[from] crate::agents::AgentError),
    /// The language model could not be opened.
    #[error("llm: {0}")]
    Llm(#[from] crate::llm::LlmError),
    /// The tip store does not load.
    #[error("tips_planner: {0}")]
    Tips(#[from] crate::runtime::nodes::tips_planner::TipsNodeError),
    /// The recorder could not open its file.
    #[error("recorder: {0}")]
    Recorder(#[from] crate::runtime::nodes::recorder::RecordError),
}

/// The parameters node `name` declares.
pub fn params(name: &str) -> Result<Vec<ParamSpec>, BuildError> {
    Ok(match name {
        "policy_executor" => policy_executor::params(),
        "mission_executive" => mission_executive::params(),
        "safety_monitor" => safety::params(),
        "sim_bridge" => sim_bridge::params(),
        "dialogue_agent" => dialogue_agent::params(),
        "tips_planner" => tips_planner::params(),
        "recorder" => recorder::params(),
        other => return Err(BuildError::UnknownNode(other.into())),
    })
}

/// The static name of a registered node.
pub fn static_name(name: &str) -> Result<&'static str, BuildError> {
    NODE_NAMES.iter().copied().find(|n| *n == name).ok_or_else(|| BuildError::UnknownNode(name.into()))
}

fn bundle_dir(p: &Params) -> Result<&Path, ParamError> {
    let dir = p.string("bundle")?;
    if dir.is_empty() {
        return Err(ParamError {
            node: p.node().into(),
            name: "bundle".into(),
            reason: "must name a bundle directory".into(),
        });
    }
    Ok(Path::new(dir))
}

/// Builds node `name` from its parameter values; nodes that drive the robot open (and check)
/// the bundle themselves.
pub fn build(name: &str, p: &Params) -> Result<Box<dyn Node>, BuildError> {
    let deployment = |p: &Params| -> Result<Arc<Deployment>, BuildError> {
        Ok(Arc::new(Deployment::open(bundle_dir(p)?, p.bool("allow_unverified")?)?))
    };
    Ok(match name {
        "policy_executor" => Box::new(PolicyExecutor::new(deployment(p)?, ExecutorConfig::from_params(p)?)),
        "mission_executive" => {
            Box::new(MissionExecutive::new(deployment(p)?, ExecutiveConfig::from_params(p)?))
        }
        "safety_monitor" => {
            let bundle = Bundle::open(bundle_dir(p)?).map_err(DeployError::from)?;
            let s = bundle.scenario();
            Box::new(SafetyNode::from_params(p, s.robot(), s.world().geofence.clone())?)
        }
        "sim_bridge" => {
            let bundle = Bundle::open(bundle_dir(p)?).map_err(DeployError::from)?;
            let fidelity = match p.string("fidelity")? {
                "low" => Fidelity::Low,
                "high" => Fidelity::High,
                other => {
                    let reason = format!("must be `low` or `high` (got `{other}`)");
                    return Err(ParamError { node: name.into(), name: "fidelity".into(), reason }.into());
                }
            };
            let seed = p.int("seed")? as u64;
            let start = StartPose::from_array(p.doubles::<3>("start_pose")?);
            let rate_hz = p.double("rate_hz", 1.0..=1000.0)?;
            let control_hz = bundle.scenario().robot().control_hz;
            if (rate_hz - control_hz).abs() > 1e-9 {
                let reason = format!("must equal the robot's control rate {control_hz} Hz (got {rate_hz})");
                return Err(ParamError { node: name.into(), name: "rate_hz".into(), reason }.into());
            }
            Box::new(SimBridge::new(bundle.scenario(), fidelity, seed, start)?)
        }
        "dialogue_agent" => {
            let spec = LlmSpec::parse(p.string("llm")?)?;
            let understanding = Understanding::from(crate::llm::open(&spec)?);
            Box::new(DialogueNode::new(&*deployment(p)?, understanding)?)
        }
        "tips_planner" => Box::new(TipsPlannerNode::from_params(deployment(p)?, p)?),
        "recorder" => Box::new(RecorderNode::from_params(p)?),
        other => return Err(BuildError::UnknownNode(other.into())),
    })
}
