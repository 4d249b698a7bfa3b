//! Driving a route of subtasks in a simulator, judging each against its interface.

use crate::control::pure_pursuit::{PurePursuit, PurePursuitConfig};
use crate::scenario::Scenario;
use rand::SeedableRng;
use sim::{PlanarState, Simulator, Status, Vec2, VelocityCmd};

/// How one subtask attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The exit set was reached within the horizon.
    Success,
    /// The horizon ran out first.
    Timeout,
    /// The robot hit obstacle `obstacle` (index into the world's obstacles).
    Collision {
        /// Obstacle index.
        obstacle: usize,
    },
    /// The robot left the geofence.
    GeofenceBreach,
    /// The robot tipped over.
    TipOver,
}

impl Outcome {
    /// Short lower-case name, as in CSV files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Timeout => "timeout",
            Outcome::Collision { .. } => "collision",
            Outcome::GeofenceBreach => "geofence",
            Outcome::TipOver => "tip_over",
        }
    }

    fn from_status(status: Status) -> Option<Self> {
        match status {
            Status::Running => None,
            Status::Collision { obstacle } => Some(Outcome::Collision { obstacle }),
            Status::GeofenceBreach => Some(Outcome::GeofenceBreach),
            Status::TipOver => Some(Outcome::TipOver),
        }
    }
}

/// One control step of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Simulated time (s).
    pub time_s: f64,
    /// Index of the active subtask.
    pub subtask: usize,
    /// Ground-truth state before the command.
    pub state: PlanarState,
    /// Command applied.
    pub cmd: VelocityCmd,
}

/// Result of one subtask in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubtaskRun {
    /// Subtask index.
    pub subtask: usize,
    /// How it ended.
    pub outcome: Outcome,
    /// Control steps used.
    pub steps: u32,
}

/// A whole route run: every step, and how each attempted subtask ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteRun {
    /// The trajectory.
    pub samples: Vec<Sample>,
    /// Subtasks attempted, in order; the run stops at the first failure.
    pub subtasks: Vec<SubtaskRun>,
    /// Final ground-truth state.
    pub end: PlanarState,
}

impl RouteRun {
    /// Whether every subtask of the route succeeded.
    pub fn reached(&self, route: &[usize]) -> bool {
        self.subtasks.len() == route.len() && self.subtasks.iter().all(|s| s.outcome == Outcome::Success)
    }
}

/// Converts a simulator state to the state regions are defined over.
pub fn region_state(s: &PlanarState) -> verification::State {
    verification::State { x_m: s.x_m, y_m: s.y_m, yaw_rad: s.yaw_rad, speed_mps: s.speed_mps }
}

/// A start state for `route`, drawn from `seed`: from the mission start set when the route
/// begins there, otherwise from its first subtask's entry set.
pub fn start_state(scenario: &Scenario, route: &[usize], seed: u64) -> Option<PlanarState> {
    let first = *route.first()?;
    let region = if scenario.graph().initial().contains(&first) {
        scenario.start()
    } else {
        scenario.subtasks()[first].entry()
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let s = region.sample(&mut rng)?;
    Some(PlanarState { x_m: s.x_m, y_m: s.y_m, yaw_rad: sim::wrap_angle(s.yaw_rad), speed_mps: s.speed_mps })
}

/// Drives `route` from `start` with the pure-pursuit baseline, which sees only odometry; the
/// interface sets are judged on ground truth.
pub fn drive_baseline(
    sim: &mut dyn Simulator,
    scenario: &Scenario,
    route: &[usize],
    start: PlanarState,
    seed: u64,
) -> RouteRun {
    sim.reset(start, seed);
    let mut run = RouteRun::default();
    for &a in route {
        let subtask = &scenario.subtasks()[a];
        let s = sim.state();
        let mut path = vec![Vec2::new(s.x_m, s.y_m)];
        path.extend_from_slice(subtask.via());
        let mut controller = PurePursuit::new(path, PurePursuitConfig::default());
        let mut outcome = Outcome::Timeout;
        let mut steps = 0;
        while steps < subtask.horizon_steps() {
            let state = sim.state();
            let cmd = controller.command(&sim.sensors().odom.state);
            run.samples.push(Sample { time_s: sim.time_s(), subtask: a, state, cmd });
            let info = sim.step(cmd);
            steps += 1;
            if let Some(o) = Outcome::from_status(info.status) {
                outcome = o;
                break;
            }
            if subtask.exit().contains(&region_state(&info.state)) {
                outcome = Outcome::Success;
                break;
            }
        }
        run.subtasks.push(SubtaskRun { subtask: a, outcome, steps });
        if outcome != Outcome::Success {
            break;
        }
    }
    run.end = sim.state();
    run
}
