//! sim2real: a sim-to-real control stack for the Clearpath Warthog.
//!
//! This root crate composes the three libraries (`sim`, `policies`, `verification`), one wing
//! per idea (DESIGN §2). Data flows from a scenario to a certified bundle to the robot:
//!
//! - [`scenario`]: the scenario file: validation, overlays, the interface graph.
//! - [`control`]: what drives a subtask in both simulators and on the robot: the policy's
//!   observation and action scaling, pure pursuit, route driving.
//! - [`training`]: the subtask environment, the one PPO [`training::Learner`], the ICRL loop and
//!   the labyrinth reproduction.
//! - [`campaign`]: verification campaigns: plan, run, merge shards, certify.
//! - [`bundle`]: a bundle on disk: open and seal check, [`bundle::BundleWriter`] (the only code
//!   that spells the layout), the deployment's certified routes and route preferences.
//! - [`plot`]: every chart, in one style.
//! - [`msg`]: the runtime's message vocabulary and mission reports.
//! - [`runtime`]: the ROS-free node framework, its registry and the nodes.
//! - [`ros`]: the r2r bridge that runs the same nodes over ROS 2 (feature `ros2`).
//! - [`mission`]: a whole mission on the in-process bus or over ROS 2.
//! - [`agents`]: the dialogue agent and the introspective-tips planner.
//! - [`llm`]: language-model backends (OpenAI-compatible HTTP; GGUF in process with
//!   `llm-local`).
//! - [`eval`]: the suites behind `eval-dialogue` and `eval-tips`.
//! - [`pipeline`]: the main job, from a scenario to a certified bundle.
//! - [`files`]: atomic writes.
//!
//! The binary `sim2real` (`src/cli/`) parses arguments, calls a wing and prints (DESIGN §5).

#![warn(missing_docs)]

pub mod agents;
pub mod bundle;
pub mod campaign;
pub mod control;
pub mod eval;
pub mod files;
pub mod llm;
pub mod mission;
pub mod msg;
pub mod pipeline;
pub mod plot;
pub mod ros;
pub mod runtime;
pub mod scenario;
pub mod training;
