//! The runtime (DESIGN §6): ROS-free node logic. Each node is a [`Node`] that turns
//! [`Msg`](crate::msg::Msg)s and timer ticks into published messages; [`Bus`] runs a graph of
//! them in process, in lockstep on a simulated clock; [`registry`] builds any node by name from
//! its parameters (what `sim2real node` and the launch files start). Which transport runs a
//! graph is decided above this wing, in [`crate::mission`] (bus or ROS 2); the runtime never
//! imports `ros`, `training` or `cli`.
//!
//! Data flow between the [`nodes`]: `sim_bridge` (or the robot) → odometry, scan →
//! `policy_executor` → command → `safety_monitor` → `cmd_vel` → robot; `mission_executive` turns
//! a goal into a certified route and tells the executor which subtask to run; the `recorder`
//! writes every topic to MCAP; the `dialogue_agent` turns the operator's words into a confirmed
//! goal; the `tips_planner` learns from finished missions which certified routes to prefer.

pub mod bus;
pub mod node;
pub mod nodes;
pub mod registry;

pub use bus::Bus;
pub use node::{Node, Outbox, ParamError, ParamSpec, ParamValue, Params};
