//! Errors of the verification crate.

/// What went wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A number that must be finite is NaN or infinite.
    #[error("{field}: must be finite (got {value})")]
    NonFinite {
        /// Which quantity, e.g. `disc.radius_m`.
        field: &'static str,
        /// The bad value.
        value: f64,
    },
    /// A length that must be strictly positive is not (NaN included).
    #[error("{field}: must be > 0 (got {value})")]
    NotPositive {
        /// Which quantity, e.g. `box.half_extents_m.x`.
        field: &'static str,
        /// The bad value.
        value: f64,
    },
    /// A polygon has fewer than three vertices.
    #[error("polygon: needs at least 3 vertices (got {count})")]
    TooFewVertices {
        /// How many vertices were given.
        count: usize,
    },
    /// A polygon vertex has a NaN or infinite coordinate.
    #[error("polygon vertex {index}: coordinates must be finite (got ({x}, {y}))")]
    NonFiniteVertex {
        /// Index of the vertex in the order given.
        index: usize,
        /// Its x coordinate in metres.
        x: f64,
        /// Its y coordinate in metres.
        y: f64,
    },
    /// A polygon is not strictly convex: the turn at `vertex` is reflex or straight, or the
    /// outline winds around more than once at that vertex.
    #[error("polygon vertex {vertex}: polygon must be strictly convex and simple")]
    NotConvex {
        /// Index of the offending vertex in the order given.
        vertex: usize,
    },
    /// An interval whose lower bound exceeds its upper bound (NaN included).
    #[error("{field}: lower bound must be <= upper bound (got [{lo}, {hi}])")]
    EmptyInterval {
        /// Which interval, e.g. `speed_mps`.
        field: &'static str,
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    /// A region was built without any planar shape.
    #[error("region: needs at least one planar shape")]
    NoShapes,
    /// A number lies outside its allowed range (NaN included).
    #[error("{field}: must be in {range} (got {value})")]
    OutOfRange {
        /// Which quantity, e.g. `confidence`.
        field: &'static str,
        /// The allowed range in interval notation, e.g. `(0, 1)`.
        range: &'static str,
        /// The bad value.
        value: f64,
    },
    /// A success count exceeds its trial count.
    #[error("{field}: {successes} successes exceed {trials} trials")]
    SuccessesExceedTrials {
        /// Which count, e.g. `succ_a`.
        field: &'static str,
        /// Successes given.
        successes: u64,
        /// Trials given.
        trials: u64,
    },
    /// A per-subtask slice has the wrong length.
    #[error("{field}: needs one entry per subtask, {expected} (got {got})")]
    LengthMismatch {
        /// Which slice, e.g. `p_hat`.
        field: &'static str,
        /// The number of subtasks (actions) of the model.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A sample-size search exceeded its trial limit.
    #[error("{field}: no campaign of at most {limit} trials suffices")]
    TrialLimit {
        /// Which computation, e.g. `trials_needed_with_failures`.
        field: &'static str,
        /// The largest trial count considered.
        limit: u64,
    },
    /// A look schedule of a sequential test is empty or not strictly increasing.
    #[error("looks: must be non-empty, strictly increasing and start above 0 (bad look at index {index})")]
    BadLooks {
        /// Index of the first offending look.
        index: usize,
    },
    /// A high-level-model state index is not below the number of states.
    #[error("{field}: state {state} out of range 0..{n_states}")]
    StateOutOfRange {
        /// Which index, e.g. `actions[3].to`.
        field: &'static str,
        /// The bad state index.
        state: usize,
        /// Number of (non-fail) states of the model.
        n_states: usize,
    },
    /// The start state of a high-level model is also its goal.
    #[error("hlm: start state {state} is also the goal")]
    StartIsGoal {
        /// The state given as both.
        state: usize,
    },
    /// A subtask starts in the goal state, which is absorbing.
    #[error("hlm: action {action} starts in the goal state {goal}, which is absorbing")]
    ActionFromGoal {
        /// The action (subtask) index.
        action: usize,
        /// The goal state.
        goal: usize,
    },
    /// No sequence of subtasks leads from the start to the goal.
    #[error("hlm: no path of subtasks from start {start} to goal {goal}")]
    NoPath {
        /// Start state.
        start: usize,
        /// Goal state.
        goal: usize,
    },
    /// Enumerating simple start-to-goal paths exceeded its limit.
    #[error("hlm: more than {limit} simple start-to-goal paths")]
    TooManyPaths {
        /// The path limit.
        limit: usize,
    },
}
