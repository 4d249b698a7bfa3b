//! Cross-crate and system tests: one binary, one module per area.

mod cli;
mod dialogue;
mod labyrinth;
mod layers;
mod llm;
mod mission;
mod parity;
mod pipeline;
mod routes;
mod scenario;
mod support;
mod tips;
mod train;
mod verify;
// Needs a real ROS 2 (scripts/setup-ros.sh, then `source scripts/ros-env.sh`).
#[cfg(feature = "ros2")]
mod ros_bridge;
#[cfg(feature = "ros2")]
mod ros_mission;
