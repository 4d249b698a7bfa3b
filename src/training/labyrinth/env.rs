//! One labyrinth subtask as a `policies::Env`, and the rollouts that estimate p̂ and check a
//! composed route.

use policies::{Action as PolicyAction, ActionSpace, Done, Env, Outcome, Policy, Step, derive_seed};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use sim::GridWorld;
use sim::gridworld::{Action, State};

use super::{ACTION_SPACE, LAVA, Labyrinth, LabyrinthError, OBS_DIM, TIMEOUT};

impl Labyrinth {
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

pub(super) fn same_set(a: &[State], b: &[State]) -> bool {
    a.iter().all(|s| b.contains(s)) && b.iter().all(|s| a.contains(s))
}
