//! The environment and policy interfaces that training, verification and the runtime share.

/// The action space of an environment (and of a policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionSpace {
    /// `n` continuous values, each in [-1, 1]; the environment scales them to physical units.
    Box(usize),
    /// One of `n` discrete actions, `0..n`.
    Discrete(usize),
}

impl ActionSpace {
    /// Number of `f32` slots an action takes in a buffer: `n` for `Box(n)`, 0 for `Discrete`.
    pub fn buffer_len(self) -> usize {
        match self {
            Self::Box(n) => n,
            Self::Discrete(_) => 0,
        }
    }

    /// Number of network outputs that parametrise it: means for `Box(n)`, logits for `Discrete(n)`.
    pub fn n(self) -> usize {
        match self {
            Self::Box(n) | Self::Discrete(n) => n,
        }
    }
}

/// One action, borrowed so that stepping allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action<'a> {
    /// Continuous values in [-1, 1] (one per dimension of `ActionSpace::Box`).
    Continuous(&'a [f32]),
    /// Index of a discrete action.
    Discrete(usize),
}

/// Whether an episode ended, and how (truncation is bootstrapped by GAE, termination is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Done {
    /// The episode continues.
    #[default]
    NotDone,
    /// The episode reached a terminal state (goal, crash): the future value is zero.
    Terminated,
    /// The episode was cut (time limit) in a non-terminal state: the future value is bootstrapped.
    Truncated,
}

impl Done {
    /// True for `Terminated` and `Truncated`.
    pub fn is_done(self) -> bool {
        !matches!(self, Self::NotDone)
    }
}

/// What the environment says about the episode; read on the step that ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Outcome {
    /// Nothing to report (mid-episode, or an environment without a notion of success).
    #[default]
    Unknown,
    /// The task was achieved.
    Success,
    /// The task failed; the code is environment-specific (collision, geofence, timeout, ...).
    Failure(u32),
}

/// The result of one environment step. The next observation is written into the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Step {
    /// Reward for this transition.
    pub reward: f32,
    /// Whether the episode ended.
    pub done: Done,
    /// Success or failure, reported when the episode ends.
    pub outcome: Outcome,
}

/// A reinforcement-learning environment with a fixed observation size.
///
/// Buffers belong to the caller, so a rollout allocates nothing per step. On the step that ends
/// an episode, `obs` holds the final observation (used to bootstrap a truncation); the caller
/// then calls `reset`.
pub trait Env {
    /// Length of the observation vector.
    fn obs_dim(&self) -> usize;
    /// The action space.
    fn action_space(&self) -> ActionSpace;
    /// Starts an episode drawn from `seed` and writes the first observation (`obs_dim` values).
    fn reset(&mut self, seed: u64, obs: &mut [f32]);
    /// Applies `action`, writes the next observation and returns reward and termination.
    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step;
}

/// Something that acts deterministically on observations: a trained network or a hand-written
/// controller (pure pursuit), so verification and the runtime treat both alike.
pub trait Policy {
    /// Length of the observation it expects.
    fn obs_dim(&self) -> usize;
    /// The action space it acts in.
    fn action_space(&self) -> ActionSpace;
    /// Deterministic action for `obs`. Continuous actions are written into `out[..n]` (in
    /// [-1, 1]) and returned borrowed from it; `out` must hold `action_space().buffer_len()`
    /// values. Discrete actions are returned by index and `out` is untouched.
    ///
    /// `obs` must be `obs_dim()` long; implementations may panic otherwise (a wiring bug, caught
    /// when a policy file's contract is paired with its environment).
    fn act<'o>(&self, obs: &[f32], out: &'o mut [f32]) -> Action<'o>;
}
