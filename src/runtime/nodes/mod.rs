//! The nodes of a mission (DESIGN §6), each a plain [`Node`](super::Node) over typed messages.

pub mod dialogue_agent;
pub mod mission_executive;
pub mod policy_executor;
pub mod recorder;
pub mod safety;
pub mod sim_bridge;
pub mod tips_planner;
