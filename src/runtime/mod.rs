//! The runtime nodes (DESIGN §6). Node logic is plain structs over typed inputs and outputs,
//! driven by a bus or by tests; no ROS types here.

pub mod safety;
