//! The ICAPS 2022 discrete labyrinth as a benchmark of the iterative compositional RL loop.
//!
//! A [`Labyrinth`] ([`file`](mod@file): format and validation) is loaded from
//! `scenarios/labyrinth/labyrinth.yaml` (serde with unknown keys denied, then validated; errors name the file and the field): a `sim::GridWorld` layout, slip,
//! start and goal, the subtasks (entry and exit states) and the loop's settings (θ, N_train,
//! N_max, K, T_c, T_meta, the training episode cap). From it:
//! - [`LabyrinthEnv`] ([`env`](mod@env)) is one subtask as a `policies::Env` for PPO: observation
//!   (x, y, dir) as raw floats (as the paper), three discrete actions (left, right, forward), reward 1 and
//!   [`Outcome::Success`](policies::Outcome::Success) on reaching the exit state, [`Outcome::Failure`](policies::Outcome::Failure)`(`[`LAVA`]`)` with
//!   reward 0 on entering lava, truncation with [`Outcome::Failure`](policies::Outcome::Failure)`(`[`TIMEOUT`]`)` at the
//!   episode cap;
//! - [`Labyrinth::estimate`] counts successes of a deterministic policy over K rollouts of
//!   horizon T_c (the estimate p̂ of the loop);
//! - [`Labyrinth::run_composite`] / [`Labyrinth::estimate_composite`] execute a route of
//!   subtasks in sequence within T_meta steps (the empirical composite success check);
//! - [`Labyrinth::interfaces`] gives the abstract interface states the high-level model is built
//!   from.
//!
//! [`icrl`] runs the loop on it. Rollout `i` of a batch is seeded with `derive_seed(seed, i)` and rollouts run in parallel, so
//! every count depends on the seed only, never on the thread count.

pub mod env;
pub mod file;
pub mod icrl;

pub use env::{CompositeRun, LabyrinthEnv};

use policies::ActionSpace;
use sim::GridWorld;
use sim::gridworld::State;

use crate::scenario::ScenarioError;

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

    fn subtask(&self, index: usize) -> Result<&Subtask, LabyrinthError> {
        self.subtasks.get(index).ok_or(LabyrinthError::NoSuchSubtask { index, count: self.subtasks.len() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use policies::{Action as PolicyAction, Done, Env, Outcome, Step};
    use sim::gridworld::Dir;
    use std::path::Path;

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
