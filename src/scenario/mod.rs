//! Scenarios: `scenarios/<name>/scenario.yaml`, loaded in two stages.
//!
//! `raw` mirrors the file (serde, unknown fields denied); [`Scenario::load`] parses it and
//! `validate` checks every field, collecting all problems with their field paths, then builds
//! the simulator world, the interface regions and the [`InterfaceGraph`] derived from them (an
//! edge a → b wherever the exit set of a lies inside the entry set of b). The format is
//! documented in `docs/scenario.md` and annotated in `scenarios/warthog_yard/scenario.yaml`.

mod check;
mod graph;
mod overlay;
mod raw;
mod validate;

pub use check::Problem;
pub use graph::{InterfaceGraph, Route};
pub use overlay::Overlay;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The YAML is malformed or does not match the schema (unknown field, wrong type, ...).
    #[error("{}: {path}: {message}", file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// Field path where parsing failed (`.` for the document root).
        path: String,
        /// What the parser said, with line and column.
        message: String,
    },
    /// An overlay does not fit its base scenario: unknown id, unknown field, wrong shape.
    #[error("{}: {field}: {message}", file.display())]
    Overlay {
        /// The overlay file.
        file: PathBuf,
        /// The field path, list items named by id.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The file parsed, but values are out of range or inconsistent.
    #[error("{}: {} problem(s):\n{}", file.display(), problems.len(), list(problems))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

/// Reads a YAML file of the root crate's formats (scenario, labyrinth) as text.
pub(crate) fn read_file(path: &Path) -> Result<String, ScenarioError> {
    std::fs::read_to_string(path).map_err(|source| ScenarioError::Io { file: path.into(), source })
}

/// Parses YAML text into its raw serde type, naming the field path of the first mismatch;
/// `file` only names the source in errors.
pub(crate) fn parse_yaml<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &Path,
) -> Result<T, ScenarioError> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        // serde_yaml_ng already prefixes some messages with the path; say it once.
        let message = e.inner().to_string();
        let message = message.strip_prefix(&format!("{path}: ")).map_or(message.clone(), str::to_string);
        ScenarioError::Syntax { file: file.into(), path, message }
    })
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n")
}

/// Declares a checked id newtype.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The id as written in the scenario.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// Id of a subtask: lower-case letters, digits and `_`, checked at load.
    SubtaskId
);
id_type!(
    /// Id of a waypoint: lower-case letters, digits and `_`, checked at load.
    WaypointId
);

/// A named place an operator can refer to.
#[derive(Debug, Clone, PartialEq)]
pub struct Waypoint {
    pub(crate) id: WaypointId,
    pub(crate) position: sim::Vec2,
    pub(crate) zone: String,
    pub(crate) kind: String,
    pub(crate) colour: String,
    pub(crate) landmark: String,
    pub(crate) aliases: Vec<String>,
}

impl Waypoint {
    /// Id.
    pub fn id(&self) -> &WaypointId {
        &self.id
    }
    /// Position in the scenario frame (m).
    pub fn position(&self) -> sim::Vec2 {
        self.position
    }
    /// Zone of the site (e.g. "north").
    pub fn zone(&self) -> &str {
        &self.zone
    }
    /// What it is (e.g. "shed").
    pub fn kind(&self) -> &str {
        &self.kind
    }
    /// Colour.
    pub fn colour(&self) -> &str {
        &self.colour
    }
    /// Nearby landmark.
    pub fn landmark(&self) -> &str {
        &self.landmark
    }
    /// Other names operators use.
    pub fn aliases(&self) -> &[String] {
        &self.aliases
    }
}

/// One subtask: a policy's job, bounded by its interface.
#[derive(Debug, Clone)]
pub struct Subtask {
    pub(crate) id: SubtaskId,
    pub(crate) description: String,
    pub(crate) entry: verification::Region,
    pub(crate) exit: verification::Region,
    pub(crate) horizon_steps: u32,
    pub(crate) via: Vec<sim::Vec2>,
    pub(crate) budget_steps: u64,
}

impl Subtask {
    /// Id.
    pub fn id(&self) -> &SubtaskId {
        &self.id
    }
    /// What it does, in words.
    pub fn description(&self) -> &str {
        &self.description
    }
    /// Entry set I_c: where the subtask may start.
    pub fn entry(&self) -> &verification::Region {
        &self.entry
    }
    /// Exit set F_c: reaching it is success.
    pub fn exit(&self) -> &verification::Region {
        &self.exit
    }
    /// Horizon T_c in control steps.
    pub fn horizon_steps(&self) -> u32 {
        self.horizon_steps
    }
    /// Nominal path (for the baseline controller and the map; policies do not see it). Ends at
    /// the exit set's centre.
    pub fn via(&self) -> &[sim::Vec2] {
        &self.via
    }
    /// Training budget N_max (environment steps).
    pub fn budget_steps(&self) -> u64 {
        self.budget_steps
    }
}

/// How a policy action in [-1, 1]² maps to a twist (DESIGN §6): the one mapping training,
/// verification and the robot's executor share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActionScale {
    /// Forward speed at action 1 (m/s).
    pub linear_mps: f64,
    /// Yaw rate at action 1 (rad/s).
    pub angular_rps: f64,
    /// Cap on reverse speed (m/s): reversing is for manoeuvring, since the lidar sees ahead.
    pub reverse_mps: f64,
}

impl Default for ActionScale {
    fn default() -> Self {
        ActionScale { linear_mps: 3.0, angular_rps: 1.5, reverse_mps: 0.5 }
    }
}

impl ActionScale {
    /// The twist for a policy action: each axis clamped to [-1, 1] and scaled, reverse speed
    /// capped. A non-finite axis stays non-finite, for the safety monitor to stop on.
    pub fn command(&self, action: [f32; 2]) -> sim::VelocityCmd {
        let axis = |x: f32| f64::from(x).clamp(-1.0, 1.0);
        let linear = axis(action[0]) * self.linear_mps;
        sim::VelocityCmd {
            // Not `max`: it would turn NaN into the cap.
            linear_mps: if linear < -self.reverse_mps { -self.reverse_mps } else { linear },
            angular_rps: axis(action[1]) * self.angular_rps,
        }
    }
}

/// The task specification the training loop aims for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaskSpec {
    /// Required probability of reaching the goal, judged on point estimates.
    pub theta: f64,
}

/// What the certificate must claim.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CertifySpec {
    /// Certified lower bound on the probability of reaching each goal.
    pub theta: f64,
    /// Allowed error probability of the whole certificate.
    pub delta: f64,
    /// How many routes per goal to certify.
    pub routes_per_goal: u32,
}

/// Training budgets of the iterative loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainingSpec {
    /// Environment steps per training chunk (N_train).
    pub chunk_steps: u64,
    /// Default per-subtask budget (N_max), unless the subtask overrides it.
    pub budget_steps: u64,
    /// Cap on loop iterations.
    pub max_iterations: u64,
    /// Cap on environment steps over all subtasks.
    pub max_total_steps: u64,
    /// Rollouts per success estimate (K).
    pub estimation_rollouts: u64,
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    name: String,
    description: String,
    robot: sim::RobotParams,
    action_scale: ActionScale,
    world: Arc<sim::World>,
    obstacle_ids: Vec<String>,
    terrain_ids: Vec<String>,
    waypoints: Vec<Waypoint>,
    subtasks: Vec<Subtask>,
    start: verification::Region,
    goals: Vec<WaypointId>,
    task: TaskSpec,
    certify: CertifySpec,
    training: TrainingSpec,
    low: sim::LowFidelityConfig,
    high: sim::HighFidelityConfig,
    graph: InterfaceGraph,
}

impl Scenario {
    /// Read, parse and validate a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        Self::parse(&read_file(path)?, path)
    }

    /// Parse and validate scenario text; `file` only names the source in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Self, ScenarioError> {
        let raw: raw::Scenario = parse_yaml(text, file)?;
        validate::validate(raw).map_err(|problems| ScenarioError::Invalid { file: file.into(), problems })
    }

    /// Name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Description.
    pub fn description(&self) -> &str {
        &self.description
    }
    /// The robot.
    pub fn robot(&self) -> &sim::RobotParams {
        &self.robot
    }
    /// Policy action scaling.
    pub fn action_scale(&self) -> ActionScale {
        self.action_scale
    }
    /// The simulated site.
    pub fn world(&self) -> &Arc<sim::World> {
        &self.world
    }
    /// Id of obstacle `i` of `world().obstacles`.
    pub fn obstacle_id(&self, i: usize) -> &str {
        self.obstacle_ids.get(i).map_or("?", String::as_str)
    }
    /// Id of terrain patch `i` of `world().terrain`.
    pub fn terrain_id(&self, i: usize) -> &str {
        self.terrain_ids.get(i).map_or("?", String::as_str)
    }
    /// Named places.
    pub fn waypoints(&self) -> &[Waypoint] {
        &self.waypoints
    }
    /// A waypoint by id.
    pub fn waypoint(&self, id: &str) -> Option<&Waypoint> {
        self.waypoints.iter().find(|w| w.id.as_str() == id)
    }
    /// Subtasks, in file order; `InterfaceGraph` indices refer to this slice.
    pub fn subtasks(&self) -> &[Subtask] {
        &self.subtasks
    }
    /// Index of a subtask by id.
    pub fn subtask_index(&self, id: &str) -> Option<usize> {
        self.subtasks.iter().position(|s| s.id.as_str() == id)
    }
    /// The set the robot starts a mission in.
    pub fn start(&self) -> &verification::Region {
        &self.start
    }
    /// Goal waypoints (one high-level model each).
    pub fn goals(&self) -> &[WaypointId] {
        &self.goals
    }
    /// Training target.
    pub fn task(&self) -> TaskSpec {
        self.task
    }
    /// Certification target.
    pub fn certify(&self) -> CertifySpec {
        self.certify
    }
    /// Training budgets.
    pub fn training(&self) -> TrainingSpec {
        self.training
    }
    /// Low-fidelity simulator settings.
    pub fn low_fidelity(&self) -> &sim::LowFidelityConfig {
        &self.low
    }
    /// The policies' range rays (the same in both simulators and on the robot).
    pub fn rays(&self) -> &sim::RayConfig {
        &self.low.rays
    }
    /// High-fidelity simulator settings.
    pub fn high_fidelity(&self) -> &sim::HighFidelityConfig {
        &self.high
    }
    /// Which subtask may follow which, derived from the interface sets.
    pub fn graph(&self) -> &InterfaceGraph {
        &self.graph
    }

    /// The exact interface check of the verification crate on this scenario: chaining, start,
    /// goal reachability, geofence, unused subtasks.
    pub fn interface_report(&self) -> Result<verification::InterfaceReport, verification::Error> {
        let interfaces: Vec<verification::Interface> = self
            .subtasks
            .iter()
            .map(|s| verification::Interface {
                id: s.id.to_string(),
                entry: s.entry.clone(),
                exit: s.exit.clone(),
            })
            .collect();
        let goals: Vec<verification::GoalPoint> = self
            .goals
            .iter()
            .filter_map(|g| self.waypoint(g.as_str()))
            .map(|w| verification::GoalPoint { id: w.id.to_string(), x_m: w.position.x, y_m: w.position.y })
            .collect();
        let fence: Vec<(f64, f64)> = self.world.geofence.iter().map(|p| (p.x, p.y)).collect();
        verification::check_interfaces(&interfaces, &self.start, &goals, &fence)
    }

    /// A simulator of the given fidelity for this scenario.
    pub fn simulator(&self, fidelity: sim::Fidelity) -> Result<Box<dyn sim::Simulator>, sim::Error> {
        Ok(match fidelity {
            sim::Fidelity::Low => {
                Box::new(sim::LowFidelity::new(self.robot.clone(), self.world.clone(), self.low.clone())?)
            }
            sim::Fidelity::High => {
                Box::new(sim::HighFidelity::new(self.robot.clone(), self.world.clone(), self.high.clone())?)
            }
        })
    }
}
