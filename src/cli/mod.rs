//! Subcommands and the mapping from failures to exit codes.

mod chat;
mod eval_dialogue;
mod eval_tips;
mod mission;
mod node;
mod pipeline;
mod progress;
mod simulate;
mod tips;
mod train;
mod verify;

use clap::{Parser, Subcommand, ValueEnum};
use sim2real::scenario::{Scenario, ScenarioError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit codes of DESIGN §5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Success = 0,
    Runtime = 1,
    InvalidInput = 2,
    /// Integrity or verification failure.
    Verification = 3,
}

impl From<Code> for ExitCode {
    fn from(c: Code) -> Self {
        ExitCode::from(c as u8)
    }
}

/// An error with the exit code it deserves.
#[derive(Debug)]
pub struct Failure {
    pub code: Code,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn invalid(error: impl Into<anyhow::Error>) -> Self {
        Self { code: Code::InvalidInput, error: error.into() }
    }
    pub fn runtime(error: impl Into<anyhow::Error>) -> Self {
        Self { code: Code::Runtime, error: error.into() }
    }
}

#[derive(Debug, Parser)]
#[command(name = "sim2real", version, about = "Sim-to-real control stack for the Clearpath Warthog")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FidelityArg {
    Low,
    High,
}

impl From<FidelityArg> for sim::Fidelity {
    fn from(f: FidelityArg) -> Self {
        match f {
            FidelityArg::Low => sim::Fidelity::Low,
            FidelityArg::High => sim::Fidelity::High,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a scenario file; exit 2 with every problem listed if it is invalid.
    Validate {
        /// The scenario file.
        scenario: PathBuf,
    },
    /// Drive a route in a simulator with the pure-pursuit baseline; write trajectory.csv and a map.
    Simulate(simulate::Args),
    /// Train a subtask policy with PPO; write the policy pair and a learning curve, print an evaluation.
    Train(train::Args),
    /// Run verification trials of a bundle; print bounds per subtask and goal; write the
    /// certificate when every goal is certified (exit 3 when not).
    Verify(verify::Args),
    /// Scenario → certified bundle: ICRL training, low- and high-fidelity verification, refinement.
    Pipeline(pipeline::Args),
    /// Merge the shard files of a `verify --shard` campaign into its certificate.
    VerifyMerge(verify::MergeArgs),
    /// Drive a certified bundle to a goal in software in the loop.
    Mission(mission::Args),
    /// Tell the robot where to go in words; it asks until the goal is clear, then drives there
    /// in software in the loop (`mission --interactive` with defaults).
    Chat {
        /// Bundle directory.
        bundle: PathBuf,
        /// Language model reading the operator's words besides the parser: `none`,
        /// `http://HOST:PORT/v1[?model=NAME]` (OpenAI-compatible server) or `local:PATH.gguf`
        /// (feature `llm-local`).
        #[arg(long, default_value = "none")]
        llm: String,
    },
    /// Play Guess-the-Waypoint with the random, greedy and optimal dialogue agents; print a table.
    EvalDialogue(eval_dialogue::Args),
    /// Run the tips planner's perturbation suite (blocked lane, mud after rain, weak motor) with
    /// no tips, own-experience tips, tips with expert demonstrations and merged tips; print a table.
    EvalTips(eval_tips::Args),
    /// Introspect mission outcomes (missions.jsonl) into a tip store file, or roll it back.
    Tips(tips::Args),
    /// Start one runtime node on ROS 2 (feature `ros2`), list the nodes, or print parameters.
    Node(node::Args),
}

pub fn run(cli: Cli) -> Result<Code, Failure> {
    match cli.command {
        Command::Validate { scenario } => validate(&scenario),
        Command::Simulate(args) => simulate::run(args),
        Command::Train(args) => train::run(args),
        Command::Verify(args) => verify::run(args),
        Command::VerifyMerge(args) => verify::merge(args),
        Command::Pipeline(args) => pipeline::run(args),
        Command::Mission(args) => mission::run(args),
        Command::Chat { bundle, llm } => mission::chat(&bundle, &llm),
        Command::EvalDialogue(args) => eval_dialogue::run(args),
        Command::EvalTips(args) => eval_tips::run(args),
        Command::Tips(args) => tips::run(args),
        Command::Node(args) => node::run(args),
    }
}

pub fn load(path: &Path) -> Result<Scenario, Failure> {
    Scenario::load(path).map_err(|e: ScenarioError| Failure::invalid(e))
}

fn validate(path: &Path) -> Result<Code, Failure> {
    let s = load(path)?;
    println!(
        "{}: ok — {} waypoints, {} obstacles, {} terrain patches, {} subtasks",
        path.display(),
        s.waypoints().len(),
        s.world().obstacles.len(),
        s.world().terrain.len(),
        s.subtasks().len()
    );
    for goal in s.goals() {
        let routes = s.graph().routes(goal);
        println!("  goal {goal}: {} route(s)", routes.len());
        for r in &routes {
            let ids: Vec<&str> = r.iter().map(|&a| s.subtasks()[a].id().as_str()).collect();
            println!("    {}", ids.join(" → "));
        }
    }
    let unused = s.graph().unused();
    if !unused.is_empty() {
        let ids: Vec<&str> = unused.iter().map(|&a| s.subtasks()[a].id().as_str()).collect();
        println!("  subtasks on no route: {}", ids.join(", "));
    }
    Ok(Code::Success)
}
