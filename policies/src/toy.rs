//! Two tiny environments for tests and benchmarks: a continuous point-to-goal task
//! ([`PointGoal`]) and a discrete corridor ([`Corridor`]). Each learns in seconds, so they
//! check that PPO works end to end without a simulator.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{Action, ActionSpace, Done, Env, Outcome, Step};

/// Failure code reported when an episode runs out of time.
pub const TIMEOUT: u32 = 1;

/// Drive a point in the plane to a goal: obs = (x, y, goal − position), action = velocity in
/// [-1, 1]² scaled to `SPEED` per step. Success within `GOAL_RADIUS`; truncated after
/// `HORIZON` steps. Reward: 10 × progress toward the goal, +1 on success.
#[derive(Debug, Clone, Default)]
pub struct PointGoal {
    pos: [f32; 2],
    goal: [f32; 2],
    t: u32,
}

impl PointGoal {
    /// Distance moved per step at full action (units of the [-1, 1]² arena).
    pub const SPEED: f32 = 0.15;
    /// Success radius.
    pub const GOAL_RADIUS: f32 = 0.15;
    /// Steps before truncation.
    pub const HORIZON: u32 = 40;

    fn write_obs(&self, obs: &mut [f32]) {
        obs[0] = self.pos[0];
        obs[1] = self.pos[1];
        obs[2] = self.goal[0] - self.pos[0];
        obs[3] = self.goal[1] - self.pos[1];
    }

    fn dist(&self) -> f32 {
        ((self.goal[0] - self.pos[0]).powi(2) + (self.goal[1] - self.pos[1]).powi(2)).sqrt()
    }
}

impl Env for PointGoal {
    fn obs_dim(&self) -> usize {
        4
    }

    fn action_space(&self) -> ActionSpace {
        ActionSpace::Box(2)
    }

    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        self.pos = [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
        self.goal = [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
        self.t = 0;
        self.write_obs(obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let a = match action {
            Action::Continuous(a) => [a[0], a[1]],
            Action::Discrete(_) => [0.0, 0.0],
        };
        let before = self.dist();
        for (p, v) in self.pos.iter_mut().zip(a) {
            *p = (*p + Self::SPEED * v.clamp(-1.0, 1.0)).clamp(-1.5, 1.5);
        }
        self.t += 1;
        self.write_obs(obs);
        let after = self.dist();
        let mut step = Step { reward: 10.0 * (before - after), ..Step::default() };
        if after < Self::GOAL_RADIUS {
            step.reward += 1.0;
            step.done = Done::Terminated;
            step.outcome = Outcome::Success;
        } else if self.t >= Self::HORIZON {
            step.done = Done::Truncated;
            step.outcome = Outcome::Failure(TIMEOUT);
        }
        step
    }
}

/// A corridor of `LEN` cells; the goal is at one end, chosen per episode. obs = (position
/// scaled to [-1, 1], goal side ±1); actions 0 = left, 1 = stay, 2 = right. Reward +1 at the
/// goal (terminates), −0.01 per step; truncated after `HORIZON` steps.
#[derive(Debug, Clone, Default)]
pub struct Corridor {
    pos: i32,
    goal_right: bool,
    t: u32,
}

impl Corridor {
    /// Number of cells.
    pub const LEN: i32 = 9;
    /// Steps before truncation.
    pub const HORIZON: u32 = 20;

    fn write_obs(&self, obs: &mut [f32]) {
        obs[0] = 2.0 * self.pos as f32 / (Self::LEN - 1) as f32 - 1.0;
        obs[1] = if self.goal_right { 1.0 } else { -1.0 };
    }
}

impl Env for Corridor {
    fn obs_dim(&self) -> usize {
        2
    }

    fn action_space(&self) -> ActionSpace {
        ActionSpace::Discrete(3)
    }

    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        self.pos = rng.random_range(1..Self::LEN - 1);
        self.goal_right = rng.random();
        self.t = 0;
        self.write_obs(obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let delta = match action {
            Action::Discrete(0) => -1,
            Action::Discrete(2) => 1,
            _ => 0,
        };
        self.pos = (self.pos + delta).clamp(0, Self::LEN - 1);
        self.t += 1;
        self.write_obs(obs);
        let at_goal = if self.goal_right { self.pos == Self::LEN - 1 } else { self.pos == 0 };
        if at_goal {
            Step { reward: 1.0, done: Done::Terminated, outcome: Outcome::Success }
        } else if self.t >= Self::HORIZON {
            Step { reward: -0.01, done: Done::Truncated, outcome: Outcome::Failure(TIMEOUT) }
        } else {
            Step { reward: -0.01, ..Step::default() }
        }
    }
}
