//! Simulators of the Clearpath Warthog.
//!
//! A [`RobotParams`] and a [`World`] (geofence, obstacles, terrain patches) go into either
//! simulator: [`LowFidelity`] (planar skid-steer kinematics with lag, an analytic lidar; meant
//! for training at millions of steps per second) or [`HighFidelity`] (rapier3d rigid body with
//! four suspended wheels, slip, terrain, latency and noise). Both implement [`Simulator`]:
//! `reset(start, seed)`, then `step(VelocityCmd) -> StepInfo` once per control period, with
//! [`Sensors`] (odometry, IMU, the lidar scan and the policy's rays formed from it by
//! [`RayConfig::ranges_from_scan`], the one definition the robot uses too) read after each step.
//! Every random draw comes from the seed given to `reset`; nothing reads the clock.

#![warn(missing_docs)]

mod config;
mod error;
pub mod geometry;
pub mod gridworld;
mod high_fidelity;
mod low_fidelity;
mod robot;
mod scan;
mod simulator;
mod validate;
mod world;

pub use config::{HighFidelityConfig, LowFidelityConfig, NoiseConfig, Randomisation, Range, RayConfig};
pub use error::Error;
pub use gridworld::GridWorld;
pub use high_fidelity::HighFidelity;
pub use low_fidelity::LowFidelity;
pub use robot::{RobotParams, rate_limit};
pub use scan::{LaserScan, LidarMount, ScanError, ScanReducer};
pub use simulator::{
    Fidelity, Imu, Odometry, PlanarState, Sensors, Simulator, Status, StepInfo, VelocityCmd, wrap_angle,
};
pub use world::{Obstacle, Shape, TerrainPatch, Vec2, World};
