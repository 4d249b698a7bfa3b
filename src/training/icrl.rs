//! The iterative compositional RL loop (DESIGN §1, ICAPS 2022 Alg. 1), over any set of
//! trainable subtasks: estimate p̂ for every subtask; while some goal's high-level model
//! misses θ, solve the requirements p*, train the subtask with the largest gap p* − p̂ for one
//! chunk (continuing from its weights) and re-estimate it.
//!
//! Differences from the published code, on purpose: several goals share one loop (a subtask
//! is trained for the goal that needs it most), and the loop has caps on iterations and total
//! steps (the research note records a run that spent 25 M steps on one subtask). A subtask
//! whose budget is spent stays at p̂ in the planner at cost `verification::hlm::SPENT_BUDGET_COST` per unit, so
//! routes avoid it; when no route can reach θ any more the loop says so.

use verification::{Error as HlmError, Hlm};

use super::TrainingError;

/// One goal's high-level model with the subtask behind each of its actions (a subtask that
/// can start from several interface sets is one action per set, sharing its p).
#[derive(Debug, Clone)]
pub struct GoalModel {
    /// Goal name (for reports).
    pub goal: String,
    /// The parametric MDP.
    pub hlm: Hlm,
    /// Subtask index of each HLM action.
    pub subtask_of: Vec<usize>,
}

impl GoalModel {
    /// Builds the model of one goal from abstract interface states: state `start`, every
    /// subtask's entry states and exit state; a subtask whose exit reaches the goal
    /// (`reaches_goal[a]`) leads to the goal instead. States are any `usize` ids.
    pub fn new(
        goal: &str,
        start: usize,
        entries: &[Vec<usize>],
        exits: &[usize],
        reaches_goal: &[bool],
    ) -> Result<GoalModel, HlmError> {
        let mut ids: Vec<usize> = std::iter::once(start).chain(entries.iter().flatten().copied()).collect();
        ids.extend(exits.iter().copied());
        ids.sort_unstable();
        ids.dedup();
        let index = |id: usize| ids.binary_search(&id).unwrap_or(0);
        let goal_state = ids.len();
        let mut actions = Vec::new();
        let mut subtask_of = Vec::new();
        for (a, from) in entries.iter().enumerate() {
            let to = if reaches_goal[a] { goal_state } else { index(exits[a]) };
            for &f in from {
                actions.push((index(f), to));
                subtask_of.push(a);
            }
        }
        let hlm = Hlm::new(ids.len() + 1, index(start), goal_state, actions)?;
        Ok(GoalModel { goal: goal.to_string(), hlm, subtask_of })
    }

    /// A per-subtask vector as a per-action one (actions of one subtask share its value).
    fn per_action<T: Copy>(&self, per_subtask: &[T]) -> Vec<T> {
        self.subtask_of.iter().map(|&a| per_subtask[a]).collect()
    }

    /// Maximum reach probability with success probabilities `p` (per subtask), and the
    /// subtasks of the optimal route in order.
    pub fn reach(&self, p: &[f64]) -> Result<(f64, Vec<usize>), HlmError> {
        let (reach, policy) = self.hlm.max_reach(&self.per_action(p))?;
        Ok((reach, policy.route().iter().map(|&act| self.subtask_of[act]).collect()))
    }

    /// Requirements p* per subtask (DESIGN §1) for θ, and the route they were solved on.
    pub fn requirements(
        &self,
        p_hat: &[f64],
        theta: f64,
        spent: &[bool],
    ) -> Result<(Vec<f64>, Vec<usize>), HlmError> {
        let req = self.hlm.requirements(&self.per_action(p_hat), theta, &self.per_action(spent))?;
        let mut p_star = p_hat.to_vec();
        for (act, &p) in req.p_star.iter().enumerate() {
            let a = self.subtask_of[act];
            p_star[a] = p_star[a].max(p);
        }
        Ok((p_star, req.path.iter().map(|&act| self.subtask_of[act]).collect()))
    }

    /// Subtasks on any route to the goal.
    pub fn subtasks(&self) -> Vec<usize> {
        let mut v = self.subtask_of.clone();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// What the loop trains and estimates.
pub trait Subtasks {
    /// Trains subtask `c` for about `steps` environment steps, continuing from its weights;
    /// returns the steps actually taken (rounded up to whole rollouts).
    fn train(&mut self, c: usize, steps: u64) -> Result<u64, TrainingError>;
    /// Success rate of subtask `c`'s current policy over `rollouts` episodes from its entry
    /// distribution (deterministic actions), seeded by `seed`.
    fn estimate(&mut self, c: usize, rollouts: u64, seed: u64) -> Result<f64, TrainingError>;
}

/// Loop settings (DESIGN §1; the scenario's `task` and `training`).
#[derive(Debug, Clone)]
pub struct IcrlConfig {
    /// Training target θ on point estimates.
    pub theta: f64,
    /// Steps per training chunk (N_train).
    pub chunk_steps: u64,
    /// Budget per subtask (N_max).
    pub budget_steps: Vec<u64>,
    /// Cap on iterations.
    pub max_iterations: u64,
    /// Cap on total training steps.
    pub max_total_steps: u64,
    /// Rollouts per estimate (K).
    pub estimation_rollouts: u64,
}

/// One iteration: what was trained and where every estimate and goal stood after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Iteration {
    /// Subtask trained (`None` for the initial estimate).
    pub trained: Option<usize>,
    /// Total training steps so far.
    pub total_steps: u64,
    /// p̂ per subtask after the iteration.
    pub p_hat: Vec<f64>,
    /// p* per subtask for the goal the iteration served (p̂ elsewhere).
    pub p_star: Vec<f64>,
    /// Maximum reach probability per goal with p̂.
    pub reach: Vec<f64>,
}

/// How the loop ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// Every goal's model meets θ with p̂.
    Met,
    /// No route to `goal` can reach θ without raising a subtask whose budget is spent.
    NoRoute {
        /// The goal.
        goal: String,
    },
    /// The iteration or total-step cap was reached first.
    Capped,
}

/// The loop's state: estimates, steps and budgets per subtask, and the history.
#[derive(Debug, Clone)]
pub struct Icrl {
    config: IcrlConfig,
    goals: Vec<GoalModel>,
    /// Current estimates.
    pub p_hat: Vec<f64>,
    /// Upper limits on p̂ learnt elsewhere (high fidelity), 1 where none.
    pub cap: Vec<f64>,
    /// Training steps per subtask.
    pub steps: Vec<u64>,
    /// Subtasks whose budget is spent (or that were retired by the caller).
    pub spent: Vec<bool>,
    /// Every iteration, the initial estimate first.
    pub history: Vec<Iteration>,
    seed: u64,
}

impl Icrl {
    /// A loop over `n_subtasks` subtasks and the goals' models; nothing estimated yet.
    pub fn new(config: IcrlConfig, goals: Vec<GoalModel>, n_subtasks: usize, seed: u64) -> Icrl {
        Icrl {
            config,
            goals,
            p_hat: vec![0.0; n_subtasks],
            cap: vec![1.0; n_subtasks],
            steps: vec![0; n_subtasks],
            spent: vec![false; n_subtasks],
            history: Vec::new(),
            seed,
        }
    }

    /// The goals' models.
    pub fn goals(&self) -> &[GoalModel] {
        &self.goals
    }

    /// Subtasks on some route to some goal (the only ones ever estimated or trained).
    pub fn needed(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.goals.iter().flat_map(GoalModel::subtasks).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The estimates the planner uses: p̂ limited by what high fidelity revealed.
    pub fn planning_p(&self) -> Vec<f64> {
        self.p_hat.iter().zip(&self.cap).map(|(p, c)| p.min(*c)).collect()
    }

    fn total_steps(&self) -> u64 {
        self.steps.iter().sum()
    }

    fn estimate(&mut self, system: &mut dyn Subtasks, c: usize) -> Result<(), TrainingError> {
        let seed = policies::derive_seed(self.seed, (self.history.len() as u64) << 16 | c as u64);
        self.p_hat[c] = system.estimate(c, self.config.estimation_rollouts, seed)?;
        Ok(())
    }

    fn record(&mut self, trained: Option<usize>, p_star: Vec<f64>) -> Result<(), TrainingError> {
        let p = self.planning_p();
        let reach = self.goals.iter().map(|g| g.reach(&p).map(|r| r.0)).collect::<Result<_, _>>()?;
        self.history.push(Iteration {
            trained,
            total_steps: self.total_steps(),
            p_hat: self.p_hat.clone(),
            p_star,
            reach,
        });
        Ok(())
    }

    /// Runs the loop until every goal meets θ, no route can, or a cap is hit. The first call
    /// estimates every needed subtask; later calls (after the caller lowered a cap or retired
    /// a subtask) continue from the current state. `on_iteration` sees each new iteration.
    pub fn run(
        &mut self,
        system: &mut dyn Subtasks,
        on_iteration: &mut dyn FnMut(&Icrl),
    ) -> Result<Ending, TrainingError> {
        if self.history.is_empty() {
            for c in self.needed() {
                self.estimate(system, c)?;
            }
            self.record(None, self.p_hat.clone())?;
            on_iteration(self);
        }
        loop {
            let p = self.planning_p();
            // The goal furthest below θ decides what to train.
            let mut worst: Option<(f64, usize)> = None;
            for (g, model) in self.goals.iter().enumerate() {
                let (reach, _) = model.reach(&p)?;
                if reach < self.config.theta && worst.is_none_or(|(r, _)| reach < r) {
                    worst = Some((reach, g));
                }
            }
            let Some((_, g)) = worst else { return Ok(Ending::Met) };
            if self.history.len() as u64 > self.config.max_iterations
                || self.total_steps() >= self.config.max_total_steps
            {
                return Ok(Ending::Capped);
            }
            let model = &self.goals[g];
            let (p_star, _) = model.requirements(&p, self.config.theta, &self.spent)?;
            // Largest gap among subtasks that can still train (ties: lowest index).
            let target = (0..p.len())
                .filter(|&c| !self.spent[c] && p_star[c] > p[c])
                .max_by(|&a, &b| (p_star[a] - p[a]).total_cmp(&(p_star[b] - p[b])).then(b.cmp(&a)));
            let Some(c) = target else {
                return Ok(Ending::NoRoute { goal: model.goal.clone() });
            };
            let todo = self.config.chunk_steps.min(self.config.budget_steps[c].saturating_sub(self.steps[c]));
            self.steps[c] += system.train(c, todo.max(1))?;
            if self.steps[c] >= self.config.budget_steps[c] {
                self.spent[c] = true;
            }
            self.estimate(system, c)?;
            self.record(Some(c), p_star)?;
            on_iteration(self);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Subtasks whose success rises by a fixed amount per chunk up to a ceiling; estimates
    /// are exact (no sampling), so the loop's decisions can be checked by hand.
    struct Ramp {
        gain: Vec<f64>,
        ceiling: Vec<f64>,
        p: Vec<f64>,
        trained: Vec<usize>,
    }

    impl Subtasks for Ramp {
        fn train(&mut self, c: usize, steps: u64) -> Result<u64, TrainingError> {
            self.p[c] = (self.p[c] + self.gain[c]).min(self.ceiling[c]);
            self.trained.push(c);
            Ok(steps)
        }
        fn estimate(&mut self, c: usize, _: u64, _: u64) -> Result<f64, TrainingError> {
            Ok(self.p[c])
        }
    }

    /// The labyrinth's shape in small: a short route 0 → 1 (subtask 1 is hard: ceiling 0.8)
    /// and a long safe route 2 → 3 → 4; subtask 5 lies on no route to the goal.
    fn two_routes() -> GoalModel {
        // States: 0 start, 10 after 0, 20 after 2, 30 after 3, 40 off-route.
        let entries = vec![vec![0], vec![10], vec![0], vec![20], vec![30], vec![40]];
        let exits = vec![10, 99, 20, 30, 99, 41];
        let reaches = vec![false, true, false, false, true, false];
        GoalModel::new("g", 0, &entries, &exits, &reaches).expect("model")
    }

    fn config(budget: u64) -> IcrlConfig {
        IcrlConfig {
            theta: 0.9,
            chunk_steps: 10,
            budget_steps: vec![budget; 6],
            max_iterations: 200,
            max_total_steps: 100_000,
            estimation_rollouts: 1,
        }
    }

    #[test]
    fn the_loop_abandons_a_subtask_that_spent_its_budget_and_takes_the_long_route() {
        let mut system = Ramp {
            gain: vec![0.3, 0.2, 0.5, 0.5, 0.5, 0.5],
            ceiling: vec![1.0, 0.8, 1.0, 1.0, 1.0, 1.0],
            p: vec![0.0; 6],
            trained: vec![],
        };
        let mut icrl = Icrl::new(config(40), vec![two_routes()], 6, 1);
        let ending = icrl.run(&mut system, &mut |_| {}).expect("runs");
        assert_eq!(ending, Ending::Met);
        assert!(icrl.spent[1], "the hard subtask used its whole budget");
        let (reach, route) = icrl.goals()[0].reach(&icrl.planning_p()).expect("reach");
        assert_eq!(route, [2, 3, 4]);
        assert!(reach >= 0.9);
        assert_eq!(icrl.steps[5], 0, "a subtask on no route is never trained");
        // The short route is cheaper first, so training starts there.
        assert!(system.trained[0] <= 1, "{:?}", system.trained);
    }

    #[test]
    fn no_route_is_reported_when_every_route_has_a_spent_subtask_below_theta() {
        let mut system = Ramp {
            gain: vec![0.5; 6],
            ceiling: vec![1.0, 0.5, 1.0, 0.5, 1.0, 1.0],
            p: vec![0.0; 6],
            trained: vec![],
        };
        let mut icrl = Icrl::new(config(20), vec![two_routes()], 6, 1);
        assert_eq!(icrl.run(&mut system, &mut |_| {}).expect("runs"), Ending::NoRoute { goal: "g".into() });
    }

    #[test]
    fn a_high_fidelity_cap_reroutes_without_retraining_the_capped_subtask() {
        let mut system = Ramp { gain: vec![1.0; 6], ceiling: vec![1.0; 6], p: vec![0.0; 6], trained: vec![] };
        let mut icrl = Icrl::new(config(1000), vec![two_routes()], 6, 1);
        assert_eq!(icrl.run(&mut system, &mut |_| {}).expect("runs"), Ending::Met);
        assert_eq!(icrl.goals()[0].reach(&icrl.planning_p()).expect("reach").1, [0, 1]);
        // High fidelity revealed subtask 1 at 0.6: cap it and retire it.
        icrl.cap[1] = 0.6;
        icrl.spent[1] = true;
        assert_eq!(icrl.run(&mut system, &mut |_| {}).expect("runs"), Ending::Met);
        assert_eq!(icrl.goals()[0].reach(&icrl.planning_p()).expect("reach").1, [2, 3, 4]);
    }

    #[test]
    fn caps_stop_a_loop_that_cannot_converge() {
        let mut system = Ramp { gain: vec![0.0; 6], ceiling: vec![1.0; 6], p: vec![0.0; 6], trained: vec![] };
        let mut cfg = config(u64::MAX);
        cfg.max_iterations = 7;
        let mut icrl = Icrl::new(cfg, vec![two_routes()], 6, 1);
        assert_eq!(icrl.run(&mut system, &mut |_| {}).expect("runs"), Ending::Capped);
        assert_eq!(icrl.history.len(), 8, "initial estimate + 7 iterations");
    }
}
