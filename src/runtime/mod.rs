//! The runtime nodes (DESIGN §6). Node logic is ROS-free: each node is a [`Node`] that turns
//! [`Msg`]s and timer ticks into published messages. [`mission::run`] drives the whole graph
//! in lockstep on a simulated clock over the in-process [`Bus`]; the ROS 2 bridge (`src/ros/`)
//! runs the same nodes on wall time.
//!
//! Data flow: `sim_bridge` (or the robot) → odometry, scan → `policy_executor` → command →
//! `safety_monitor` → `cmd_vel` → robot; `mission_executive` turns a goal into a certified
//! route ([`Deployment`]) and tells the executor which subtask to run; the `recorder` writes
//! every topic to MCAP; the `dialogue_agent` turns the operator's words into a confirmed goal;
//! the `tips_planner` learns from finished missions which certified routes to prefer.

pub mod bus;
pub mod deployment;
pub mod dialogue_agent;
pub mod graph;
pub mod mission;
pub mod mission_executive;
pub mod msg;
pub mod node;
pub mod policy_executor;
pub mod recorder;
pub mod safety;
pub mod sim_bridge;
pub mod tips_planner;

pub use bus::Bus;
pub use deployment::Deployment;
pub use msg::{Msg, Topic};
pub use node::{Node, Outbox, ParamError, ParamSpec, ParamValue, Params};
