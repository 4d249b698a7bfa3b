//! sim2real: a sim-to-real control stack for the Clearpath Warthog.
//!
//! This root crate composes the three libraries: a [`scenario::Scenario`] (validated from YAML)
//! builds `sim` simulators and `verification` regions; [`route`] drives subtask routes in either
//! simulator with the [`baseline`] pure-pursuit controller; [`plot`] draws maps; the binary
//! `sim2real` exposes it all on the command line (DESIGN §5). A [`bundle::Bundle`] (scenario +
//! policies) is what [`verify`] runs campaigns on and seals with a certificate. The [`agents`]
//! turn operator words into a confirmed goal, optionally reading them with a language model
//! from [`llm`] (an OpenAI-compatible server, or a GGUF in process with feature `llm-local`).

#![warn(missing_docs)]

pub mod agents;
pub mod baseline;
pub mod bundle;
pub mod files;
pub mod icrl;
pub mod labyrinth;
pub mod labyrinth_icrl;
pub mod llm;
pub mod pipeline;
pub mod plot;
pub mod ros;
pub mod route;
pub mod runtime;
pub mod scenario;
pub mod subtask_env;
pub mod verify;
