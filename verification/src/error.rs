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
    /// A file or directory operation failed.
    #[error("{}: cannot {op}: {message}", path.display())]
    Io {
        /// The file or directory.
        path: std::path::PathBuf,
        /// What was attempted, e.g. `read`, `rename`.
        op: &'static str,
        /// The kind of I/O error.
        kind: std::io::ErrorKind,
        /// The operating system's message.
        message: String,
    },
    /// A bundle holds a symbolic link; bundles are hashed file by file and links are refused
    /// (a link could point the deployed policy outside the sealed bundle).
    #[error("{}: symbolic links are not allowed in a bundle", path.display())]
    Symlink {
        /// The link.
        path: std::path::PathBuf,
    },
    /// A bundle holds something that is neither a regular file nor a directory.
    #[error("{}: not a regular file or directory", path.display())]
    NotRegularFile {
        /// The entry.
        path: std::path::PathBuf,
    },
    /// A bundle path is not valid UTF-8, so it cannot be named in a certificate.
    #[error("{}: path is not valid UTF-8", path.display())]
    NonUtf8Path {
        /// The path (lossily displayed).
        path: std::path::PathBuf,
    },
    /// A certificate file does not parse or has a bad value.
    #[error("{}: {message}{}", file.display(), location(*line, *column))]
    MalformedCertificate {
        /// The certificate file.
        file: std::path::PathBuf,
        /// 1-based line of the problem, when known.
        line: Option<usize>,
        /// 1-based column of the problem, when known.
        column: Option<usize>,
        /// What is wrong; names the field path, e.g. `subtasks[0].trials: invalid type`.
        message: String,
    },
    /// A bundle file's sha256 differs from the one its certificate records.
    #[error("bundle file {file}: changed since sealing (sha256 {actual}, certificate has {expected})")]
    Tampered {
        /// Bundle-relative path, `/`-separated.
        file: String,
        /// Hash recorded in the certificate (hex).
        expected: String,
        /// Hash of the file now (hex).
        actual: String,
    },
    /// A file the certificate lists is not in the bundle.
    #[error("bundle file {file}: listed in the certificate but missing")]
    MissingBundleFile {
        /// Bundle-relative path, `/`-separated.
        file: String,
    },
    /// A bundle file is not listed in its certificate.
    #[error("bundle file {file}: not listed in the certificate (added after sealing)")]
    UnlistedBundleFile {
        /// Bundle-relative path, `/`-separated.
        file: String,
    },
    /// The geofence polygon is not simple: two of its edges cross or touch.
    #[error("geofence: edges {edge_a} and {edge_b} cross or touch; the outline must be a simple polygon")]
    GeofenceNotSimple {
        /// Index of the first edge (from vertex i to i + 1).
        edge_a: usize,
        /// Index of the second edge.
        edge_b: usize,
    },
    /// A route's actions do not chain from the start to the goal of the high-level model.
    #[error("route position {index}: {problem}")]
    BrokenRoute {
        /// Position in the route (its length when the route stops short of the goal).
        index: usize,
        /// What is wrong there.
        problem: RouteProblem,
    },
}

/// What is wrong at a position of a route ([`Error::BrokenRoute`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteProblem {
    /// The action index is not below the number of actions.
    #[error("action {action} does not exist")]
    UnknownAction {
        /// The action (subtask) index given.
        action: usize,
    },
    /// The action's entry state is not where the previous action (or the start) leads.
    #[error("action {action} starts in state {from}, but the route is in state {at}")]
    NotAvailable {
        /// The action (subtask) index given.
        action: usize,
        /// The action's entry state.
        from: usize,
        /// The state the route has reached.
        at: usize,
    },
    /// The route ends (or is empty) outside the goal.
    #[error("the route ends in state {at}, not the goal {goal}")]
    EndsOffGoal {
        /// The state the route ends in.
        at: usize,
        /// The goal state.
        goal: usize,
    },
}

/// ` at line L column C` when known, for [`Error::MalformedCertificate`].
fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" (at line {l} column {c})"),
        (Some(l), None) => format!(" (at line {l})"),
        _ => String::new(),
    }
}
