//! [`SubtaskEnv`]: one simulator and one subtask of a scenario as a [`policies::Env`].
//!
//! **Episode.** `reset(seed)` draws the start uniformly from the subtask's entry set I_c
//! (`Region::sample` with `ChaCha8Rng::seed_from_u64(seed)`; the simulator's own seed is the
//! next `u64` of that generator) and resets the simulator there. Each `step` takes a continuous
//! action in [-1, 1]² (forward, yaw rate), scales it by the scenario's [`ActionScale`] to a
//! [`VelocityCmd`] and holds it for `k = control_hz / policy_hz` control steps (default policy
//! rate [`DEFAULT_POLICY_HZ`] = 10 Hz, so k = 5 at 50 Hz and a 2,000-step horizon is 400
//! decisions). The contract's control rate is the policy rate, `control_hz / k`.
//!
//! **Termination**, checked after every control step on ground truth (the robot never sees it):
//! success when the state lies in the exit set F_c ([`Outcome::Success`], `Terminated`);
//! collision, geofence breach or tip-over end it with `Terminated` and a failure code
//! ([`FAILURE_COLLISION`], [`FAILURE_GEOFENCE`], [`FAILURE_TIP_OVER`]); reaching the horizon
//! T_c ends it with `Truncated` and [`FAILURE_TIMEOUT`] (the value is bootstrapped there).
//!
//! **Observation**: [`crate::control::observation`], the same on the robot.
//!
//! **Reward** per decision, summed over its control steps (training only):
//! [`PROGRESS_REWARD_PER_M`] × the decrease of the ground-truth distance to the exit set's
//! centre, minus [`STEP_COST`] per control step, minus [`REVERSE_COST_PER_M`] per metre
//! driven in reverse, minus a clearance cost per control step of
//! [`CLEARANCE_COST`] × (1 − nearest range / [`CLEARANCE_M`]) while the nearest ray is closer
//! than [`CLEARANCE_M`]; plus [`SUCCESS_BONUS`] on success, minus [`FAILURE_PENALTY`] on
//! collision, geofence breach or tip-over (nothing extra on a timeout). The progress term is a
//! potential difference, so it favours the goal without rewarding detours; the step cost favours
//! getting there soon. The clearance cost keeps a margin from what the rays see: without it
//! policies learnt in low fidelity skim the container corners and collide in high fidelity
//! (latency, noise, slip); with it the yard's obstacle subtask (`gate_west_to_crossroads`, 2M
//! steps, 200 high-fidelity episodes per seed) went from 0.91–0.94 to 0.995–1.00 success in
//! high fidelity. Scales keep a whole episode's return within about ±20, which the
//! unnormalised value loss handles well.

use std::fmt;

use policies::{Action, ActionSpace, Contract, Done, Env, ObsField, Outcome, Policy, PolicyMeta, Step};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use sim::{Fidelity, PlanarState, Simulator, Status, Vec2, VelocityCmd, wrap_angle};

use crate::control::observation::{self, BASE_OBS, Observer};
use crate::control::pure_pursuit::{PurePursuit, PurePursuitConfig};
use crate::control::route::region_state;
use crate::scenario::{ActionScale, Scenario, SubtaskId};

/// Default policy decision rate (Hz).
pub const DEFAULT_POLICY_HZ: f64 = 10.0;
/// Failure code: the horizon ran out.
pub const FAILURE_TIMEOUT: u32 = 1;
/// Failure code: the chassis hit an obstacle.
pub const FAILURE_COLLISION: u32 = 2;
/// Failure code: the robot left the geofence.
pub const FAILURE_GEOFENCE: u32 = 3;
/// Failure code: the robot tipped over.
pub const FAILURE_TIP_OVER: u32 = 4;
/// Reward per metre of progress toward the exit set's centre.
pub const PROGRESS_REWARD_PER_M: f64 = 0.1;
/// Reward subtracted per metre driven in reverse: twice the progress reward, so reversing
/// toward the goal never pays (the lidar sees ahead; reversing is for manoeuvring).
pub const REVERSE_COST_PER_M: f64 = 0.2;
/// Reward subtracted per control step (a 2,000-step timeout costs 2).
pub const STEP_COST: f64 = 0.001;
/// Reward for reaching the exit set.
pub const SUCCESS_BONUS: f64 = 10.0;
/// Reward subtracted for a collision, geofence breach or tip-over.
pub const FAILURE_PENALTY: f64 = 10.0;
/// Range (m, from the robot's centre) below which the clearance cost applies.
pub const CLEARANCE_M: f64 = 2.0;
/// Reward subtracted per control step at zero clearance, falling linearly to 0 at
/// [`CLEARANCE_M`].
pub const CLEARANCE_COST: f64 = 0.01;

/// Short name of a failure code, as in logs and reports (`"unknown"` for other codes).
pub fn failure_name(code: u32) -> &'static str {
    match code {
        FAILURE_TIMEOUT => "timeout",
        FAILURE_COLLISION => "collision",
        FAILURE_GEOFENCE => "geofence",
        FAILURE_TIP_OVER => "tip_over",
        _ => "unknown",
    }
}

/// The failure code of a terminal simulator status (`None` while running).
pub fn failure_code(status: Status) -> Option<u32> {
    match status {
        Status::Running => None,
        Status::Collision { .. } => Some(FAILURE_COLLISION),
        Status::GeofenceBreach => Some(FAILURE_GEOFENCE),
        Status::TipOver => Some(FAILURE_TIP_OVER),
    }
}

/// Why a [`SubtaskEnv`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The subtask index is out of range.
    #[error("subtask index {index} is out of range (the scenario has {count} subtasks)")]
    NoSubtask {
        /// The index asked for.
        index: usize,
        /// Number of subtasks.
        count: usize,
    },
    /// The policy rate does not divide the control rate into whole control steps.
    #[error(
        "policy rate {policy_hz} Hz must be > 0 and divide the control rate {control_hz} Hz \
         into a whole number of control steps"
    )]
    PolicyRate {
        /// Requested policy rate (Hz).
        policy_hz: f64,
        /// The robot's control rate (Hz).
        control_hz: f64,
    },
    /// The entry set could not be sampled.
    #[error("subtask `{subtask}`: cannot sample a start from its entry set")]
    EmptyEntry {
        /// Subtask id.
        subtask: String,
    },
    /// The simulator could not be built.
    #[error("building the simulator: {0}")]
    Simulator(#[from] sim::Error),
}

/// The PPO settings for subtask training: the SB3 defaults (`PpoConfig::default()`) with more
/// parallel environments and a larger minibatch. One environment of 512 steps gives a rollout
/// of one or two episodes here (an episode is up to several hundred decisions), so advantages
/// were dominated by a handful of start states; 8 × 256 = 2,048 transitions cover ~10 starts
/// per update, and minibatches of 256 keep the number of Adam steps per rollout (80) close to
/// the default's (80) while using both cores. Learning rate 3e-4 is the common PPO default for
/// that batch size.
pub fn ppo_config() -> policies::PpoConfig {
    policies::PpoConfig {
        n_envs: 8,
        n_steps: 256,
        batch_size: 256,
        learning_rate: 3e-4,
        ..policies::PpoConfig::default()
    }
}

/// One subtask of a scenario in one simulator, as a reinforcement-learning environment
/// (see the module documentation for observation, reward and termination).
pub struct SubtaskEnv {
    sim: Box<dyn Simulator>,
    id: SubtaskId,
    entry: verification::Region,
    exit: verification::Region,
    /// The via points the baseline follows (the exit centre last).
    via: Vec<Vec2>,
    horizon_steps: u32,
    observer: Observer,
    scale: ActionScale,
    hold_steps: u32,
    control_hz: f64,
    rays: sim::RayConfig,
    steps: u32,
    dist_m: f64,
    done: bool,
}

impl fmt::Debug for SubtaskEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubtaskEnv")
            .field("subtask", &self.id)
            .field("fidelity", &self.sim.fidelity())
            .field("hold_steps", &self.hold_steps)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

impl SubtaskEnv {
    /// Subtask `index` of `scenario` in a fresh simulator of `fidelity`, deciding at
    /// `policy_hz` (which must divide the robot's control rate).
    pub fn new(scenario: &Scenario, index: usize, fidelity: Fidelity, policy_hz: f64) -> Result<Self, Error> {
        let subtask = scenario
            .subtasks()
            .get(index)
            .ok_or(Error::NoSubtask { index, count: scenario.subtasks().len() })?;
        let control_hz = scenario.robot().control_hz;
        let ratio = control_hz / policy_hz;
        let k = ratio.round();
        if !(policy_hz > 0.0 && ratio.is_finite() && k >= 1.0 && (ratio - k).abs() < 1e-6) {
            return Err(Error::PolicyRate { policy_hz, control_hz });
        }
        let rays = scenario.rays();
        let mut probe = ChaCha8Rng::seed_from_u64(0);
        if subtask.entry().sample(&mut probe).is_none() {
            return Err(Error::EmptyEntry { subtask: subtask.id().to_string() });
        }
        let sim = scenario.simulator(fidelity)?;
        Ok(Self {
            sim,
            id: subtask.id().clone(),
            entry: subtask.entry().clone(),
            exit: subtask.exit().clone(),
            via: subtask.via().to_vec(),
            horizon_steps: subtask.horizon_steps(),
            observer: Observer::new(subtask),
            scale: scenario.action_scale(),
            hold_steps: k as u32,
            control_hz,
            rays: rays.clone(),
            steps: 0,
            dist_m: 0.0,
            done: false,
        })
    }

    /// The subtask's id.
    pub fn subtask_id(&self) -> &SubtaskId {
        &self.id
    }

    /// Control steps each decision's command is held for (k).
    pub fn hold_steps(&self) -> u32 {
        self.hold_steps
    }

    /// Policy decision rate (Hz): the contract's control rate, `control_hz / k`.
    pub fn policy_hz(&self) -> f64 {
        self.control_hz / f64::from(self.hold_steps)
    }

    /// The goal the observation points at: the exit set's centre (m).
    pub fn goal(&self) -> Vec2 {
        self.observer.goal()
    }

    /// The simulator (for its state and sensors).
    pub fn simulator(&self) -> &dyn Simulator {
        self.sim.as_ref()
    }

    /// Control steps taken in the current episode.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// The observation layout, in order, with units (what the policy contract records).
    pub fn observation_layout(&self) -> Vec<ObsField> {
        observation::layout(self.rays.count)
    }

    /// What a policy file for this environment records besides its weights.
    pub fn policy_meta(&self) -> PolicyMeta {
        PolicyMeta {
            subtask: self.id.to_string(),
            control_rate_hz: self.policy_hz(),
            observation: self.observation_layout(),
            linear_mps: self.scale.linear_mps,
            angular_rps: self.scale.angular_rps,
            reverse_mps: self.scale.reverse_mps,
            ranges: Some(observation::range_contract(&self.rays)),
        }
    }

    /// The action that commands `cmd` (inverse of the action scale, clamped to [-1, 1]).
    pub fn action_for(&self, cmd: VelocityCmd) -> [f32; 2] {
        let a = |v: f64, s: f64| if s > 0.0 { (v / s).clamp(-1.0, 1.0) as f32 } else { 0.0 };
        [a(cmd.linear_mps, self.scale.linear_mps), a(cmd.angular_rps, self.scale.angular_rps)]
    }

    /// The command for an action ([`ActionScale::command`]; NaN → 0).
    pub fn command_for(&self, action: &[f32]) -> VelocityCmd {
        let v = |i: usize| action.get(i).copied().filter(|x| !x.is_nan()).unwrap_or(0.0);
        self.scale.command([v(0), v(1)])
    }

    /// Starts an episode at `start` (instead of a draw from the entry set), simulator seeded with
    /// `seed`, and writes the first observation.
    pub fn reset_to(&mut self, start: PlanarState, seed: u64, obs: &mut [f32]) {
        self.sim.reset(start, seed);
        self.steps = 0;
        self.done = false;
        self.dist_m = self.true_distance_m();
        self.observe(obs);
    }

    /// Runs one episode from `seed` with `policy` acting deterministically; returns the outcome
    /// and the number of decisions taken.
    pub fn run_episode<P: Policy + ?Sized>(&mut self, policy: &P, seed: u64) -> (Outcome, u64) {
        let mut obs = vec![0.0f32; self.obs_dim()];
        let mut act = [0.0f32; 2];
        self.reset(seed, &mut obs);
        let mut decisions = 0;
        loop {
            let step = match policy.act(&obs, &mut act) {
                Action::Continuous(a) => {
                    let a = [a.first().copied().unwrap_or(0.0), a.get(1).copied().unwrap_or(0.0)];
                    self.step(Action::Continuous(&a), &mut obs)
                }
                other => self.step(other, &mut obs),
            };
            decisions += 1;
            if step.done.is_done() {
                return (step.outcome, decisions);
            }
        }
    }

    /// Runs one episode from `seed` (the start and simulator seed of `reset(seed)`) with the
    /// pure-pursuit baseline along the subtask's via points, acting every control step on
    /// odometry; the outcome is judged like a policy's.
    pub fn run_baseline_episode(&mut self, seed: u64) -> Outcome {
        let (start, sim_seed) = self.draw_start(seed);
        self.sim.reset(start, sim_seed);
        let mut path = vec![Vec2::new(start.x_m, start.y_m)];
        path.extend_from_slice(&self.via);
        let mut controller = PurePursuit::new(path, PurePursuitConfig::default());
        for _ in 0..self.horizon_steps {
            let cmd = controller.command(&self.sim.sensors().odom.state);
            let info = self.sim.step(cmd);
            if let Some(code) = failure_code(info.status) {
                return Outcome::Failure(code);
            }
            if self.exit.contains(&region_state(&info.state)) {
                return Outcome::Success;
            }
        }
        Outcome::Failure(FAILURE_TIMEOUT)
    }

    /// Checks that a policy contract was made for this environment: same subtask, decision
    /// rate, observation layout and action scale. The message names the contract field.
    pub fn check_contract(&self, contract: &Contract) -> Result<(), String> {
        let meta = self.policy_meta();
        if contract.subtask != meta.subtask {
            return Err(format!("subtask: `{}`, expected `{}`", contract.subtask, meta.subtask));
        }
        if (contract.control_rate_hz - meta.control_rate_hz).abs() > 1e-9 {
            return Err(format!(
                "control_rate_hz: {} Hz does not divide the robot's control rate {} Hz into whole steps",
                contract.control_rate_hz, self.control_hz
            ));
        }
        if contract.observation != meta.observation {
            return Err(format!(
                "observation: {} fields do not match this scenario's layout ({} fields: 6 base + {} rays)",
                contract.observation.len(),
                meta.observation.len(),
                self.rays.count
            ));
        }
        observation::check_contract(&self.rays, &self.scale, contract)
    }

    /// The start and simulator seed of an episode: a draw from the entry set.
    fn draw_start(&self, seed: u64) -> (PlanarState, u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // `new` checked that the entry set can be sampled; a thin set that misses every draw
        // anyway starts at its bounding-box centre.
        let start = self.entry.sample(&mut rng).map_or_else(
            || {
                let ((xl, yl), (xh, yh)) = self.entry.bounding_box();
                PlanarState { x_m: 0.5 * (xl + xh), y_m: 0.5 * (yl + yh), ..PlanarState::default() }
            },
            |s| PlanarState {
                x_m: s.x_m,
                y_m: s.y_m,
                yaw_rad: wrap_angle(s.yaw_rad),
                speed_mps: s.speed_mps,
            },
        );
        (start, rng.next_u64())
    }

    fn true_distance_m(&self) -> f64 {
        let s = self.sim.state();
        let goal = self.observer.goal();
        (goal.x - s.x_m).hypot(goal.y - s.y_m)
    }

    fn observe(&self, obs: &mut [f32]) {
        let sensors = self.sim.sensors();
        self.observer.observe(&sensors.odom, &sensors.ranges_m, self.rays.max_range_m, obs);
    }
}

impl Env for SubtaskEnv {
    fn obs_dim(&self) -> usize {
        BASE_OBS + self.rays.count
    }

    fn action_space(&self) -> ActionSpace {
        ActionSpace::Box(2)
    }

    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        let (start, sim_seed) = self.draw_start(seed);
        self.reset_to(start, sim_seed, obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let cmd = match action {
            Action::Continuous(a) => self.command_for(a),
            Action::Discrete(_) => VelocityCmd::STOP,
        };
        if self.done {
            // Stepping a finished episode is a caller bug; report it as over again.
            self.observe(obs);
            return Step { reward: 0.0, done: Done::Terminated, outcome: Outcome::Unknown };
        }
        let mut reward = 0.0;
        let mut result = (Done::NotDone, Outcome::Unknown);
        for _ in 0..self.hold_steps {
            let info = self.sim.step(cmd);
            self.steps += 1;
            reward -= STEP_COST + REVERSE_COST_PER_M * (-info.state.speed_mps).max(0.0) / self.control_hz;
            let nearest_m = self.sim.sensors().ranges_m.iter().copied().fold(f64::INFINITY, f64::min);
            if nearest_m < CLEARANCE_M {
                reward -= CLEARANCE_COST * (1.0 - nearest_m / CLEARANCE_M);
            }
            if let Some(code) = failure_code(info.status) {
                reward -= FAILURE_PENALTY;
                result = (Done::Terminated, Outcome::Failure(code));
                break;
            }
            if self.exit.contains(&region_state(&info.state)) {
                reward += SUCCESS_BONUS;
                result = (Done::Terminated, Outcome::Success);
                break;
            }
            if self.steps >= self.horizon_steps {
                result = (Done::Truncated, Outcome::Failure(FAILURE_TIMEOUT));
                break;
            }
        }
        let d = self.true_distance_m();
        reward += PROGRESS_REWARD_PER_M * (self.dist_m - d);
        self.dist_m = d;
        self.done = result.0.is_done();
        self.observe(obs);
        Step { reward: reward as f32, done: result.0, outcome: result.1 }
    }
}

/// Results of a deterministic evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evaluation {
    /// Episodes run.
    pub episodes: u64,
    /// Episodes that reached the exit set.
    pub successes: u64,
    /// Failed episodes per failure code, ascending by code.
    pub failures: Vec<(u32, u64)>,
}

impl Evaluation {
    /// Fraction of episodes that succeeded (0 when none ran).
    pub fn success_rate(&self) -> f64 {
        if self.episodes == 0 { 0.0 } else { self.successes as f64 / self.episodes as f64 }
    }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} succeeded ({:.3})", self.successes, self.episodes, self.success_rate())?;
        for (code, n) in &self.failures {
            write!(f, ", {} {n}", failure_name(*code))?;
        }
        Ok(())
    }
}

/// Runs `episodes` episodes of `policy` (deterministic actions) spread over `envs` in parallel;
/// episode i starts from `policies::derive_seed(seed, i)`, so the result does not depend on the
/// number of environments or threads.
pub fn evaluate<P: Policy + Sync + ?Sized>(
    policy: &P,
    envs: &mut [SubtaskEnv],
    episodes: u64,
    seed: u64,
) -> Evaluation {
    let n = envs.len() as u64;
    if n == 0 {
        return Evaluation::default();
    }
    let outcomes: Vec<Vec<(u64, Outcome)>> = envs
        .par_iter_mut()
        .enumerate()
        .map(|(j, env)| {
            (j as u64..episodes)
                .step_by(n as usize)
                .map(|i| (i, env.run_episode(policy, policies::derive_seed(seed, i)).0))
                .collect()
        })
        .collect();
    let mut eval = Evaluation { episodes, ..Evaluation::default() };
    let mut failures = std::collections::BTreeMap::new();
    for (_, o) in outcomes.into_iter().flatten() {
        match o {
            Outcome::Success => eval.successes += 1,
            Outcome::Failure(code) => *failures.entry(code).or_insert(0u64) += 1,
            Outcome::Unknown => *failures.entry(0).or_insert(0u64) += 1,
        }
    }
    eval.failures = failures.into_iter().collect();
    eval
}

#[cfg(test)]
mod tests;
