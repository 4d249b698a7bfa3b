//! The runtime nodes (DESIGN §6). Node logic is ROS-free: each node is a [`Node`] that turns
//! [`Msg`]s and timer ticks into published messages; the in-process bus drives them in
//! lockstep on a simulated clock, the ROS 2 bridge (`src/ros/`) on wall time.

pub mod msg;
pub mod node;
pub mod safety;

pub use msg::{Msg, Topic};
pub use node::{Node, Outbox, ParamError, ParamSpec, ParamValue, Params};
