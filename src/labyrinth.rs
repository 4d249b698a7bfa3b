//! The ICAPS 2022 discrete labyrinth as a benchmark of the iterative compositional RL loop.
//!
//! A [`Labyrinth`] is loaded from `scenarios/labyrinth/labyrinth.yaml` (serde with unknown keys
//! denied, then validated; errors name the file and the field): a `sim::GridWorld` layout, slip,
//! start and goal, the subtasks (entry and exit states) and the loop's settings (θ, N_train,
//! N_max, K, T_c, T_meta, the training episode cap). From it:
//! - [`LabyrinthEnv`] is one subtask as a `policies::Env` for PPO: observation (x, y, dir) as
//!   raw floats (as the paper), three discrete actions (left, right, forward), reward 1 and
//!   [`Outcome::Success`] on reaching the exit state, [`Outcome::Failure`]`(`[`LAVA`]`)` with
//!   reward 0 on entering lava, truncation with [`Outcome::Failure`]`(`[`TIMEOUT`]`)` at the
//!   episode cap;
//! - [`Labyrinth::estimate`] counts successes of a deterministic policy over K rollouts of
//!   horizon T_c (the estimate p̂ of the loop);
//! - [`Labyrinth::run_composite`] / [`Labyrinth::estimate_composite`] execute a route of
//!   subtasks in sequence within T_meta steps (the empirical composite success check);
//! - [`Labyrinth::interfaces`] gives the abstract interface states the high-level model is built
//!   from.
//!
//! Rollout `i` of a batch is seeded with `derive_seed(seed, i)` and rollouts run in parallel, so
//! every count depends on the seed only, never on the thread count.

use std::path::Path;

use policies::{Action as PolicyAction, ActionSpace, Done, Env, Outcome, Policy, Step, derive_seed};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use sim::GridWorld;
use sim::gridworld::{Action, Dir, State};

use crate::scenario::{self, Problem, ScenarioError};

/// Failure code of an episode that entered lava.
pub const LAVA: u32 = 1;
/// Failure code of an episode that ran out of steps (training cap, T_c or T_meta).
pub const TIMEOUT: u32 = 2;

/// Observation length: x, y, dir.
pub const OBS_DIM: usize = 3;
/// The action space: 0 left, 1 right, 2 forward.
pub const ACTION_SPACE: ActionSpace = ActionSpace::Discrete(3);

/// Why a labyrinth could not be loaded or a rollout could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabyrinthError {
    /// The file could not be read, parsed or validated (the message names file and field).
    #[error(transparent)]
    File(#[from] ScenarioError),
    /// A subtask index past the end.
    #[error("no subtask {index}: the labyrinth has {count}")]
    NoSuchSubtask {
        /// The index asked for.
        index: usize,
        /// Number of subtasks.
        count: usize,
    },
    /// A policy that does not take (x, y, dir) or does not choose among the three actions.
    #[error("policy for subtask {subtask}: {what} is {actual}, the labyrinth needs {expected}")]
    PolicyMismatch {
        /// Subtask index.
        subtask: usize,
        /// What differs.
        what: &'static str,
        /// What the labyrinth needs.
        expected: String,
        /// What the policy has.
        actual: String,
    },
    /// A route that is empty, or whose consecutive subtasks do not chain.
    #[error("route {route:?}: {reason}")]
    BadRoute {
        /// The route (subtask indices).
        route: Vec<usize>,
        /// What is wrong.
        reason: String,
    },
    /// One policy per subtask is needed.
    #[error("{actual} policies given for {expected} subtasks")]
    PolicyCount {
        /// Number of subtasks.
        expected: usize,
        /// Number of policies given.
        actual: usize,
    },
    /// A horizon or rollout count of zero.
    #[error("{what} must be at least 1")]
    Zero {
        /// Which count.
        what: &'static str,
    },
}

/// One subtask: starts uniformly in its entry states, succeeds in its exit states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subtask {
    id: String,
    entry: Vec<State>,
    exit: Vec<State>,
}

impl Subtask {
    /// Id (`c0`, ...).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Entry states (an episode starts in one drawn uniformly).
    pub fn entry(&self) -> &[State] {
        &self.entry
    }

    /// Exit states (reaching any of them is success).
    pub fn exit(&self) -> &[State] {
        &self.exit
    }
}

/// The loop's settings (research note §2.2: the ICAPS values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Training {
    /// Required probability of reaching the goal on point estimates (θ).
    pub theta: f64,
    /// PPO steps per loop iteration (N_train).
    pub chunk_steps: u64,
    /// Per-subtask budget (N_max).
    pub budget_steps: u64,
    /// Rollouts per success estimate (K).
    pub estimation_rollouts: u64,
    /// Steps a subtask rollout may take when estimating (T_c).
    pub subtask_horizon_steps: u64,
    /// Steps a composite rollout may take (T_meta).
    pub meta_horizon_steps: u64,
    /// Training episodes are truncated after this many steps.
    pub episode_max_steps: u64,
    /// Cap on loop iterations.
    pub max_iterations: u64,
    /// Cap on training steps over all subtasks.
    pub max_total_steps: u64,
}

/// Abstract interface states for the high-level model: every distinct state set (start,
/// entries, exits) gets an id; see `icrl::GoalModel::new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interfaces {
    /// Id of the start set.
    pub start: usize,
    /// Entry set id of each subtask (one each here).
    pub entries: Vec<Vec<usize>>,
    /// Exit set id of each subtask.
    pub exits: Vec<usize>,
    /// Whether each subtask's exit set is the goal set.
    pub reaches_goal: Vec<bool>,
}

/// A validated labyrinth benchmark.
#[derive(Debug, Clone)]
pub struct Labyrinth {
    name: String,
    world: GridWorld,
    start: Vec<State>,
    goal: Vec<State>,
    subtasks: Vec<Subtask>,
    training: Training,
}

impl Labyrinth {
    /// Reads, parses and validates a labyrinth file.
    pub fn load(path: &Path) -> Result<Self, LabyrinthError> {
        Self::parse(&scenario::read_file(path)?, path)
    }

    /// Parses and validates labyrinth text; `file` only names the source in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Self, LabyrinthError> {
        let raw: raw::File = scenario::parse_yaml(text, file)?;
        validate(raw).map_err(|problems| ScenarioError::Invalid { file: file.into(), problems }.into())
    }

    /// Name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The grid (its agent state is unused; environments clone it).
    pub fn world(&self) -> &GridWorld {
        &self.world
    }

    /// Start states of the whole task.
    pub fn start(&self) -> &[State] {
        &self.start
    }

    /// Goal states of the whole task.
    pub fn goal(&self) -> &[State] {
        &self.goal
    }

    /// Subtasks, in file order (their index is the subtask number).
    pub fn subtasks(&self) -> &[Subtask] {
        &self.subtasks
    }

    /// Index of the subtask with this id.
    pub fn subtask_index(&self, id: &str) -> Option<usize> {
        self.subtasks.iter().position(|s| s.id == id)
    }

    /// The loop's settings.
    pub fn training(&self) -> Training {
        self.training
    }

    /// The same labyrinth with another slip probability (errors outside [0, 1], NaN included).
    pub fn with_slip_p(&self, slip_p: f64) -> Result<Self, sim::Error> {
        Ok(Self { world: self.world.clone().with_slip_p(slip_p)?, ..self.clone() })
    }

    /// Interface state ids for the high-level model (sets compared as sets).
    pub fn interfaces(&self) -> Interfaces {
        let mut sets: Vec<Vec<State>> = Vec::new();
        let mut id = |states: &[State]| {
            let mut key = states.to_vec();
            key.sort_unstable();
            key.dedup();
            match sets.iter().position(|s| *s == key) {
                Some(i) => i,
                None => {
                    sets.push(key);
                    sets.len() - 1
                }
            }
        };
        let start = id(&self.start);
        let goal = id(&self.goal);
        let entries = self.subtasks.iter().map(|s| vec![id(&s.entry)]).collect();
        let exits: Vec<usize> = self.subtasks.iter().map(|s| id(&s.exit)).collect();
        let reaches_goal = exits.iter().map(|&e| e == goal).collect();
        Interfaces { start, entries, exits, reaches_goal }
    }

    /// The training environment of subtask `index`, truncated at `episode_max_steps`.
    pub fn env(&self, index: usize) -> Result<LabyrinthEnv, LabyrinthError> {
        let subtask = self.subtask(index)?;
        Ok(LabyrinthEnv {
            world: self.world.clone(),
            entry: subtask.entry.clone(),
            exit: subtask.exit.clone(),
            max_steps: self.training.episode_max_steps,
            t: 0,
        })
    }

    fn subtask(&self, index: usize) -> Result<&Subtask, LabyrinthError> {
        self.subtasks.get(index).ok_or(LabyrinthError::NoSuchSubtask { index, count: self.subtasks.len() })
    }

    /// Successes of `policy` (deterministic actions) on subtask `index` over `rollouts`
    /// episodes of at most `horizon_steps` steps from its entry states: the count behind p̂.
    /// Rollout `i` uses `derive_seed(seed, i)`; the count does not depend on the thread count.
    pub fn estimate(
        &self,
        policy: &(dyn Policy + Sync),
        index: usize,
        rollouts: u64,
        horizon_steps: u64,
        seed: u64,
    ) -> Result<u64, LabyrinthError> {
        check_policy(policy, index)?;
        if horizon_steps == 0 {
            return Err(LabyrinthError::Zero { what: "horizon_steps" });
        }
        let env = LabyrinthEnv { max_steps: horizon_steps, ..self.env(index)? };
        let successes = (0..rollouts)
            .into_par_iter()
            .map_init(
                || env.clone(),
                |env, i| run_episode(env, policy, derive_seed(seed, i)) == Outcome::Success,
            )
            .filter(|&ok| ok)
            .count();
        Ok(successes as u64)
    }

    /// Runs `route` (subtask indices, each exit the next one's entry) once, from the first
    /// subtask's entry states, with `policies[c]` acting (deterministically) while subtask c is
    /// active; control passes to the next subtask as soon as the agent is in the active one's
    /// exit states, as the published meta-controller does. Success when the last subtask's exit
    /// is reached within `horizon_steps` in total (T_meta; per-subtask horizons are not applied
    /// here, as in the published code); lava or running out of steps is a failure.
    pub fn run_composite(
        &self,
        policies: &[&(dyn Policy + Sync)],
        route: &[usize],
        horizon_steps: u64,
        seed: u64,
    ) -> Result<CompositeRun, LabyrinthError> {
        self.check_route(policies, route, horizon_steps)?;
        Ok(self.composite_episode(policies, route, horizon_steps, seed))
    }

    /// Successes of [`Labyrinth::run_composite`] over `rollouts` episodes; rollout `i` uses
    /// `derive_seed(seed, i)`, and the count does not depend on the thread count.
    pub fn estimate_composite(
        &self,
        policies: &[&(dyn Policy + Sync)],
        route: &[usize],
        rollouts: u64,
        horizon_steps: u64,
        seed: u64,
    ) -> Result<u64, LabyrinthError> {
        self.check_route(policies, route, horizon_steps)?;
        let successes = (0..rollouts)
            .into_par_iter()
            .filter(|&i| {
                let run = self.composite_episode(policies, route, horizon_steps, derive_seed(seed, i));
                run.outcome == Outcome::Success
            })
            .count();
        Ok(successes as u64)
    }

    fn check_route(
        &self,
        policies: &[&(dyn Policy + Sync)],
        route: &[usize],
        horizon_steps: u64,
    ) -> Result<(), LabyrinthError> {
        if horizon_steps == 0 {
            return Err(LabyrinthError::Zero { what: "horizon_steps" });
        }
        if policies.len() != self.subtasks.len() {
            return Err(LabyrinthError::PolicyCount {
                expected: self.subtasks.len(),
                actual: policies.len(),
            });
        }
        let bad = |reason: String| LabyrinthError::BadRoute { route: route.to_vec(), reason };
        if route.is_empty() {
            return Err(bad("is empty".into()));
        }
        for &c in route {
            self.subtask(c)?;
            check_policy(policies[c], c)?;
        }
        for pair in route.windows(2) {
            let (a, b) = (&self.subtasks[pair[0]], &self.subtasks[pair[1]]);
            if !same_set(&a.exit, &b.entry) {
                return Err(bad(format!("the exit of {} is not the entry of {}", a.id, b.id)));
            }
        }
        Ok(())
    }

    /// One composite episode; the route and policies are checked.
    fn composite_episode(
        &self,
        policies: &[&(dyn Policy + Sync)],
        route: &[usize],
        horizon_steps: u64,
        seed: u64,
    ) -> CompositeRun {
        let first = &self.subtasks[route[0]];
        let mut world = self.world.clone();
        let start = pick(&first.entry, seed);
        if world.reset(start, derive_seed(seed, 1)).is_err() {
            // Unreachable: entry states are checked to be standable at load.
            return CompositeRun { outcome: Outcome::Failure(LAVA), steps: 0, completed: 0, state: start };
        }
        let mut state = start;
        let mut k = 0;
        let mut obs = [0.0f32; OBS_DIM];
        for t in 1..=horizon_steps {
            write_obs(state, &mut obs);
            let action = discrete(policies[route[k]].act(&obs, &mut []));
            let tr = world.step(action);
            state = tr.state;
            if tr.lava {
                return CompositeRun { outcome: Outcome::Failure(LAVA), steps: t, completed: k, state };
            }
            if self.subtasks[route[k]].exit.contains(&state) {
                k += 1;
                if k == route.len() {
                    return CompositeRun { outcome: Outcome::Success, steps: t, completed: k, state };
                }
            }
        }
        CompositeRun { outcome: Outcome::Failure(TIMEOUT), steps: horizon_steps, completed: k, state }
    }
}

/// How one composite episode ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompositeRun {
    /// `Success`, `Failure(LAVA)` or `Failure(TIMEOUT)`.
    pub outcome: Outcome,
    /// Steps taken.
    pub steps: u64,
    /// Subtasks of the route completed.
    pub completed: usize,
    /// Final agent state.
    pub state: State,
}

/// One subtask of the labyrinth as a `policies::Env` (see the module docs).
#[derive(Debug, Clone)]
pub struct LabyrinthEnv {
    world: GridWorld,
    entry: Vec<State>,
    exit: Vec<State>,
    max_steps: u64,
    t: u64,
}

impl LabyrinthEnv {
    /// Agent state.
    pub fn state(&self) -> State {
        self.world.state()
    }

    /// Steps after which an episode is truncated.
    pub fn max_steps(&self) -> u64 {
        self.max_steps
    }
}

impl Env for LabyrinthEnv {
    fn obs_dim(&self) -> usize {
        OBS_DIM
    }

    fn action_space(&self) -> ActionSpace {
        ACTION_SPACE
    }

    /// Starts at an entry state drawn uniformly with `derive_seed(seed, 0)`; the slip stream
    /// is seeded with `derive_seed(seed, 1)`.
    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        let start = pick(&self.entry, seed);
        // Entry states are checked to be standable when the labyrinth is loaded, so this
        // cannot fail; if it did the agent would stay where it was.
        let _ = self.world.reset(start, derive_seed(seed, 1));
        self.t = 0;
        write_obs(self.world.state(), obs);
    }

    fn step(&mut self, action: PolicyAction<'_>, obs: &mut [f32]) -> Step {
        let tr = self.world.step(discrete(action));
        self.t += 1;
        write_obs(tr.state, obs);
        if self.exit.contains(&tr.state) {
            Step { reward: 1.0, done: Done::Terminated, outcome: Outcome::Success }
        } else if tr.lava {
            Step { reward: 0.0, done: Done::Terminated, outcome: Outcome::Failure(LAVA) }
        } else if self.t >= self.max_steps {
            Step { reward: 0.0, done: Done::Truncated, outcome: Outcome::Failure(TIMEOUT) }
        } else {
            Step::default()
        }
    }
}

/// The grid action of a policy action. A continuous action or an index above 2 is a wiring
/// bug (the policy's space is checked against [`ACTION_SPACE`]); it counts as forward.
fn discrete(action: PolicyAction<'_>) -> Action {
    match action {
        PolicyAction::Discrete(i) => Action::from_index(i).unwrap_or(Action::Forward),
        PolicyAction::Continuous(_) => Action::Forward,
    }
}

fn write_obs(state: State, obs: &mut [f32]) {
    obs[0] = state.x as f32;
    obs[1] = state.y as f32;
    obs[2] = f32::from(state.dir.index());
}

/// A state drawn uniformly from `states` (non-empty, checked at load) with `derive_seed(seed, 0)`.
fn pick(states: &[State], seed: u64) -> State {
    let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, 0));
    states[rng.random_range(0..states.len())]
}

fn run_episode(env: &mut LabyrinthEnv, policy: &(dyn Policy + Sync), seed: u64) -> Outcome {
    let mut obs = [0.0f32; OBS_DIM];
    env.reset(seed, &mut obs);
    loop {
        let action = policy.act(&obs, &mut []);
        let step = env.step(action, &mut obs);
        if step.done.is_done() {
            return step.outcome;
        }
    }
}

fn check_policy(policy: &(dyn Policy + Sync), subtask: usize) -> Result<(), LabyrinthError> {
    if policy.obs_dim() != OBS_DIM {
        return Err(LabyrinthError::PolicyMismatch {
            subtask,
            what: "observation length",
            expected: OBS_DIM.to_string(),
            actual: policy.obs_dim().to_string(),
        });
    }
    if policy.action_space() != ACTION_SPACE {
        return Err(LabyrinthError::PolicyMismatch {
            subtask,
            what: "action space",
            expected: format!("{ACTION_SPACE:?}"),
            actual: format!("{:?}", policy.action_space()),
        });
    }
    Ok(())
}

fn same_set(a: &[State], b: &[State]) -> bool {
    a.iter().all(|s| b.contains(s)) && b.iter().all(|s| a.contains(s))
}

/// The file as written (unknown keys denied).
mod raw {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct File {
        pub name: String,
        pub layout: Layout,
        pub slip_p: f64,
        pub start: State,
        pub goal: State,
        pub subtasks: Vec<Subtask>,
        pub task: Task,
        pub training: Training,
    }

    /// Exactly one of the two (checked in `validate`, so the error names the field).
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Layout {
        pub builtin: Option<String>,
        pub map: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct State {
        pub x: i64,
        pub y: i64,
        pub dir: Dir,
    }

    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    pub enum Dir {
        Index(i64),
        Word(String),
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Subtask {
        pub id: String,
        pub entry: State,
        pub exit: State,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Task {
        pub theta: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Training {
        pub chunk_steps: u64,
        pub budget_steps: u64,
        pub estimation_rollouts: u64,
        pub subtask_horizon_steps: u64,
        pub meta_horizon_steps: u64,
        pub episode_max_steps: u64,
        pub max_iterations: u64,
        pub max_total_steps: u64,
    }
}

/// Built-in layouts a file may name.
const BUILTINS: &str = "icaps_labyrinth";

fn validate(raw: raw::File) -> Result<Labyrinth, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut report = |path: String, allowed: &str, value: String| {
        problems.push(Problem { path, allowed: allowed.to_string(), value });
    };
    if !is_id(&raw.name) {
        report("name".into(), "lower-case letters, digits and _", format!("{:?}", raw.name));
    }
    if !(0.0..=1.0).contains(&raw.slip_p) {
        report("slip_p".into(), "must be in [0, 1]", raw.slip_p.to_string());
    }
    let slip = if (0.0..=1.0).contains(&raw.slip_p) { raw.slip_p } else { 0.0 };
    let world = match (&raw.layout.builtin, &raw.layout.map) {
        (Some(name), None) if name == "icaps_labyrinth" => GridWorld::icaps_labyrinth(slip).ok(),
        (Some(name), None) => {
            report("layout.builtin".into(), &format!("one of: {BUILTINS}"), format!("{name:?}"));
            None
        }
        (None, Some(map)) => match GridWorld::parse(map, slip) {
            Ok(w) => Some(w),
            Err(e) => {
                report("layout.map".into(), "an ASCII map of # . D L", e.to_string());
                None
            }
        },
        (builtin, map) => {
            let value = format!("builtin {}, map {}", builtin.is_some(), map.is_some());
            report("layout".into(), "exactly one of builtin and map", value);
            None
        }
    };
    let mut states = |path: &str, s: &raw::State| -> Vec<State> {
        let dirs = match &s.dir {
            raw::Dir::Index(i) => match u8::try_from(*i).ok().and_then(Dir::from_index) {
                Some(d) => vec![d],
                None => {
                    report(
                        format!("{path}.dir"),
                        "0 (east), 1 (south), 2 (west), 3 (north) or any",
                        i.to_string(),
                    );
                    return Vec::new();
                }
            },
            raw::Dir::Word(w) if w == "any" => Dir::ALL.to_vec(),
            raw::Dir::Word(w) => {
                report(
                    format!("{path}.dir"),
                    "0 (east), 1 (south), 2 (west), 3 (north) or any",
                    format!("{w:?}"),
                );
                return Vec::new();
            }
        };
        let Some(world) = &world else { return Vec::new() };
        let (Ok(x), Ok(y)) = (u32::try_from(s.x), u32::try_from(s.y)) else {
            report(path.to_string(), "coordinates inside the grid", format!("({}, {})", s.x, s.y));
            return Vec::new();
        };
        if x >= world.width() || y >= world.height() {
            let allowed = format!("x in 0..{}, y in 0..{}", world.width(), world.height());
            report(path.to_string(), &allowed, format!("({x}, {y})"));
            return Vec::new();
        }
        let cell = world.cell(x, y);
        if !world.can_start(State::new(x, y, Dir::East)) {
            report(path.to_string(), "a floor or open-door cell", format!("({x}, {y}) is {cell:?}"));
            return Vec::new();
        }
        dirs.into_iter().map(|dir| State::new(x, y, dir)).collect()
    };
    let start = states("start", &raw.start);
    let goal = states("goal", &raw.goal);
    let mut subtasks = Vec::with_capacity(raw.subtasks.len());
    for (i, s) in raw.subtasks.iter().enumerate() {
        let entry = states(&format!("subtasks[{i}].entry"), &s.entry);
        let exit = states(&format!("subtasks[{i}].exit"), &s.exit);
        subtasks.push(Subtask { id: s.id.clone(), entry, exit });
    }
    if subtasks.is_empty() {
        report("subtasks".into(), "at least one subtask", "none".into());
    }
    for (i, s) in subtasks.iter().enumerate() {
        if !is_id(&s.id) {
            report(format!("subtasks[{i}].id"), "lower-case letters, digits and _", format!("{:?}", s.id));
        }
        if subtasks[..i].iter().any(|o| o.id == s.id) {
            report(format!("subtasks[{i}].id"), "unique", format!("{:?}", s.id));
        }
        if s.entry.is_empty() || s.exit.is_empty() {
            continue; // already reported
        }
        let chained = same_set(&s.entry, &start) || subtasks.iter().any(|o| same_set(&o.exit, &s.entry));
        if !chained {
            let value = format!("{:?}", s.entry.iter().map(ToString::to_string).collect::<Vec<_>>());
            report(format!("subtasks[{i}].entry"), "the start or another subtask's exit", value);
        }
        if same_set(&s.entry, &s.exit) {
            report(format!("subtasks[{i}].exit"), "different from the entry", s.exit[0].to_string());
        }
    }
    if !goal.is_empty() && !subtasks.is_empty() && !subtasks.iter().any(|s| same_set(&s.exit, &goal)) {
        report("goal".into(), "the exit of at least one subtask", goal[0].to_string());
    }
    if !(raw.task.theta > 0.0 && raw.task.theta <= 1.0) {
        report("task.theta".into(), "must be in (0, 1]", raw.task.theta.to_string());
    }
    let t = &raw.training;
    for (field, v) in [
        ("chunk_steps", t.chunk_steps),
        ("budget_steps", t.budget_steps),
        ("estimation_rollouts", t.estimation_rollouts),
        ("subtask_horizon_steps", t.subtask_horizon_steps),
        ("meta_horizon_steps", t.meta_horizon_steps),
        ("episode_max_steps", t.episode_max_steps),
        ("max_iterations", t.max_iterations),
        ("max_total_steps", t.max_total_steps),
    ] {
        if v == 0 {
            report(format!("training.{field}"), "at least 1", "0".into());
        }
    }
    if t.max_total_steps < t.chunk_steps {
        report(
            "training.max_total_steps".into(),
            "at least training.chunk_steps",
            t.max_total_steps.to_string(),
        );
    }
    match world {
        Some(world) if problems.is_empty() => Ok(Labyrinth {
            name: raw.name,
            world,
            start,
            goal,
            subtasks,
            training: Training {
                theta: raw.task.theta,
                chunk_steps: t.chunk_steps,
                budget_steps: t.budget_steps,
                estimation_rollouts: t.estimation_rollouts,
                subtask_horizon_steps: t.subtask_horizon_steps,
                meta_horizon_steps: t.meta_horizon_steps,
                episode_max_steps: t.episode_max_steps,
                max_iterations: t.max_iterations,
                max_total_steps: t.max_total_steps,
            },
        }),
        _ => Err(problems),
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Labyrinth {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/labyrinth/labyrinth.yaml");
        Labyrinth::load(&path).unwrap()
    }

    #[test]
    fn the_shipped_file_holds_the_icaps_settings() {
        let lab = shipped();
        assert_eq!(lab.name(), "icaps_labyrinth");
        assert_eq!(lab.world().to_ascii(), sim::gridworld::ICAPS_LABYRINTH);
        assert_eq!(lab.world().slip_p(), 0.1);
        assert_eq!(lab.start(), &[State::new(1, 1, Dir::East)]);
        assert_eq!(lab.goal().len(), 4);
        let ids: Vec<&str> = lab.subtasks().iter().map(Subtask::id).collect();
        assert_eq!(ids, ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11"]);
        let c7 = &lab.subtasks()[7];
        assert_eq!(
            (c7.entry(), c7.exit()),
            (&[State::new(10, 13, Dir::South)][..], &[State::new(10, 5, Dir::North)][..])
        );
        let t = lab.training();
        assert_eq!(t.theta, 0.95);
        assert_eq!((t.chunk_steps, t.budget_steps, t.estimation_rollouts), (50_000, 500_000, 300));
        assert_eq!((t.subtask_horizon_steps, t.meta_horizon_steps, t.episode_max_steps), (100, 200, 1600));
        let graph = lab.interfaces();
        let goal_reachers: Vec<usize> = (0..12).filter(|&c| graph.reaches_goal[c]).collect();
        assert_eq!(goal_reachers, [9, 11]);
        // c4 starts where c0 ends; c0 and c1 start at the start.
        assert_eq!(graph.entries[4], vec![graph.exits[0]]);
        assert_eq!(graph.entries[0], vec![graph.start]);
        assert_eq!(graph.entries[1], vec![graph.start]);
    }

    #[test]
    fn bad_files_fail_naming_file_and_field() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/labyrinth/labyrinth.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        // (text to replace, replacement, what the error must name)
        let cases: [(&str, &str, &[&str]); 9] = [
            ("slip_p: 0.1", "slip_p: 0.1\nslipp: 2", &["slipp"]),
            ("slip_p: 0.1", "slip_p: .nan", &["slip_p", "NaN"]),
            ("theta: 0.95", "theta: 1.5", &["task.theta"]),
            ("builtin: icaps_labyrinth", "builtin: maze", &["layout.builtin", "maze"]),
            ("{x: 1, y: 18, dir: any}}", "{x: 1, y: 18, dir: up}}", &["subtasks[9].exit.dir"]),
            ("exit: {x: 3, y: 5, dir: 0}", "exit: {x: 3, y: 7, dir: 0}", &["subtasks[0].exit", "Lava"]),
            ("exit: {x: 3, y: 5, dir: 0}", "exit: {x: 3, y: 25, dir: 0}", &["subtasks[0].exit"]),
            ("exit: {x: 3, y: 5, dir: 0}", "exit: {x: 3, y: 5, dir: 1}", &["subtasks[4].entry"]),
            ("budget_steps: 500000", "budget_steps: 0", &["training.budget_steps"]),
        ];
        for (from, to, needles) in cases {
            assert!(text.contains(from), "{from}");
            let err = Labyrinth::parse(&text.replace(from, to), Path::new("bad.yaml")).unwrap_err();
            let err = err.to_string();
            assert!(err.contains("bad.yaml"), "{err}");
            for n in needles {
                assert!(err.contains(n), "{n:?} not in {err}");
            }
        }
    }

    #[test]
    fn a_custom_map_loads() {
        let text = "name: corridor\nlayout:\n  map: |\n    #####\n    #...#\n    #####\nslip_p: 0\n\
            start: {x: 1, y: 1, dir: 0}\ngoal: {x: 3, y: 1, dir: any}\n\
            subtasks:\n  - {id: a, entry: {x: 1, y: 1, dir: 0}, exit: {x: 3, y: 1, dir: any}}\n\
            task: {theta: 0.9}\ntraining: {chunk_steps: 10, budget_steps: 100, estimation_rollouts: 5,\n  \
            subtask_horizon_steps: 10, meta_horizon_steps: 20, episode_max_steps: 50, max_iterations: 3,\n  \
            max_total_steps: 100}\n";
        let lab = Labyrinth::parse(text, Path::new("corridor.yaml")).unwrap();
        assert_eq!((lab.world().width(), lab.world().height()), (5, 3));
        let mut env = lab.env(0).unwrap();
        let mut obs = [0.0; 3];
        env.reset(0, &mut obs);
        assert_eq!(obs, [1.0, 1.0, 0.0]);
        assert_eq!(env.step(PolicyAction::Discrete(2), &mut obs).done, Done::NotDone);
        let step = env.step(PolicyAction::Discrete(2), &mut obs);
        assert_eq!((step.reward, step.done, step.outcome), (1.0, Done::Terminated, Outcome::Success));
    }

    #[test]
    fn env_rewards_exit_ends_on_lava_and_truncates() {
        let lab = shipped().with_slip_p(0.0).unwrap();
        let mut env = lab.env(0).unwrap();
        let mut obs = [0.0; 3];
        env.reset(1, &mut obs);
        assert_eq!(obs, [1.0, 1.0, 0.0]);
        // c0 by hand: east twice, turn south, down four to the door (3, 5), face east.
        let plan = [2, 2, 1, 2, 2, 2, 2, 0];
        for (i, &a) in plan.iter().enumerate() {
            let step = env.step(PolicyAction::Discrete(a), &mut obs);
            if i + 1 < plan.len() {
                assert_eq!(step, Step::default(), "step {i}");
            } else {
                assert_eq!(step, Step { reward: 1.0, done: Done::Terminated, outcome: Outcome::Success });
            }
        }
        assert_eq!(obs, [3.0, 5.0, 0.0]);
        // c4 from the door: south twice walks into the lava at (3, 7).
        let mut env = lab.env(4).unwrap();
        env.reset(1, &mut obs);
        for a in [1, 2] {
            assert_eq!(env.step(PolicyAction::Discrete(a), &mut obs), Step::default());
        }
        let step = env.step(PolicyAction::Discrete(2), &mut obs);
        assert_eq!(step, Step { reward: 0.0, done: Done::Terminated, outcome: Outcome::Failure(LAVA) });
        // Turning in place for the whole training cap.
        let mut env = lab.env(1).unwrap();
        env.reset(1, &mut obs);
        let mut last = Step::default();
        for _ in 0..lab.training().episode_max_steps {
            assert!(!last.done.is_done());
            last = env.step(PolicyAction::Discrete(0), &mut obs);
        }
        assert_eq!(last, Step { reward: 0.0, done: Done::Truncated, outcome: Outcome::Failure(TIMEOUT) });
    }
}
