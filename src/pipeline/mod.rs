//! `sim2real pipeline`: from a scenario to a certified bundle with no hand work in between.
//!
//! 1. ICRL in low fidelity ([`crate::training::icrl`]): estimate every subtask a route needs, train the
//!    one with the largest gap p* − p̂ for one chunk, until every goal's model meets `task.theta`
//!    (or no route can, or a cap is hit: what was trained is verified all the same, since the
//!    certificate is judged on `certify.theta`).
//! 2. Bundle: the scenario and every trained subtask's best policy so far.
//! 3. Verification ([`crate::campaign`]): sequential campaigns in low, then high fidelity.
//! 4. Refinement: a subtask whose high-fidelity success is significantly below its
//!    low-fidelity success (Fisher exact) enters the planner at its high-fidelity lower bound
//!    and is retired from training, so the planner routes around it; the loop then trains what
//!    the new routes need and the bundle is verified again, up to [`MAX_REFINEMENTS`] times.

pub mod report;

use std::collections::BTreeMap;
use std::path::Path;

use policies::PolicyFile;
use verification::{Certificate, Fidelity};

use crate::bundle::deployment::DeployError;
use crate::bundle::{Bundle, BundleError, BundleWriter};
use crate::campaign::{Campaign, Plan, PlanError, Shard};
use crate::mission::MissionError;
use crate::plot::PlotError;
use crate::scenario::{Scenario, ScenarioError};
use crate::training::icrl::{Ending, GoalModel, Icrl, IcrlConfig, Subtasks};
use crate::training::subtask_env::{self, DEFAULT_POLICY_HZ, SubtaskEnv};
use crate::training::{Learner, TrainingError};

/// Most verify-and-refine rounds after the first verification.
pub const MAX_REFINEMENTS: usize = 3;
/// Environments per estimate (the result does not depend on it).
const EVAL_ENVS: usize = 8;

/// Settings of a pipeline run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seed of training, estimation and verification.
    pub seed: u64,
    /// Smaller budgets (CI): a quarter of every training budget and estimates from at most 50
    /// rollouts.
    pub quick: bool,
}

/// The result of a run.
#[derive(Debug)]
pub struct Outcome {
    /// The loop's final state and history.
    pub icrl: Icrl,
    /// How the last loop ended.
    pub ending: Ending,
    /// The last certificate (None when the loop never produced a bundle to verify).
    pub certificate: Option<Certificate>,
    /// Subtasks refined after a high-fidelity verification, in order.
    pub refinements: Vec<Refinement>,
    /// Learning curves: per subtask, (steps, training success rate).
    pub curves: BTreeMap<usize, Vec<(u64, f64)>>,
}

/// A subtask that did significantly worse in high fidelity than in low fidelity.
#[derive(Debug, Clone, PartialEq)]
pub struct Refinement {
    /// Verify-and-refine round (1-based).
    pub round: usize,
    /// Subtask id.
    pub subtask: String,
    /// Low-fidelity verification success rate.
    pub low_rate: f64,
    /// High-fidelity verification success rate.
    pub high_rate: f64,
    /// High-fidelity Clopper-Pearson lower bound: the planner's value for it from then on.
    pub high_bound: f64,
}

/// A learner that has never succeeded after this many steps starts again from a fresh seed:
/// PPO occasionally settles early on a policy that never reaches the goal and does not leave
/// it (the yard's pond crossing did, at 1.3M steps, on one seed that another solves by 150k).
pub const RESTART_AFTER_STEPS: u64 = 400_000;

/// The scenario's subtasks as the loop sees them: a low-fidelity [`Learner`] and its evaluation
/// environments per subtask, built on first use (and rebuilt on a fresh seed by a restart).
struct ScenarioSubtasks<'a> {
    scenario: &'a Scenario,
    seed: u64,
    learners: BTreeMap<usize, (Learner<SubtaskEnv>, Vec<SubtaskEnv>)>,
    restarts: BTreeMap<usize, u64>,
}

impl ScenarioSubtasks<'_> {
    fn learner(&mut self, c: usize) -> Result<&mut (Learner<SubtaskEnv>, Vec<SubtaskEnv>), TrainingError> {
        if !self.learners.contains_key(&c) {
            let make = || SubtaskEnv::new(self.scenario, c, sim::Fidelity::Low, DEFAULT_POLICY_HZ);
            let restarts = self.restarts.get(&c).copied().unwrap_or(0);
            let seed = policies::derive_seed(self.seed, c as u64 | restarts << 32);
            let learner = Learner::new(subtask_env::ppo_config(), seed, || Ok(make()?))?;
            let eval_envs = (0..EVAL_ENVS).map(|_| make()).collect::<Result<Vec<_>, _>>()?;
            self.learners.insert(c, (learner, eval_envs));
        }
        Ok(self.learners.get_mut(&c).expect("inserted above"))
    }
}

impl Subtasks for ScenarioSubtasks<'_> {
    fn train(&mut self, c: usize, steps: u64) -> Result<u64, TrainingError> {
        let stuck = self.learners.get(&c).is_some_and(|(l, _)| {
            l.steps_done() >= RESTART_AFTER_STEPS && l.best().is_none_or(|b| b.score == 0.0)
        });
        if stuck {
            self.learners.remove(&c);
            let restarts = self.restarts.entry(c).or_insert(0);
            *restarts += 1;
            tracing::info!(
                "{}: no success in {RESTART_AFTER_STEPS} steps; restarting its learner (restart {restarts})",
                self.scenario.subtasks()[c].id()
            );
        }
        let (learner, _) = self.learner(c)?;
        let before = learner.steps_done();
        let p = learner.train(steps, |_| {})?;
        Ok(p.steps_done - before)
    }

    /// The best estimate so far: the pipeline ships the policy behind it (PPO's deterministic
    /// success swings between chunks; verification re-measures the shipped policy anyway).
    fn estimate(&mut self, c: usize, rollouts: u64, seed: u64) -> Result<f64, TrainingError> {
        let (learner, eval_envs) = self.learner(c)?;
        let rate = subtask_env::evaluate(learner.agent(), eval_envs, rollouts, seed).success_rate();
        learner.offer(rate);
        Ok(learner.best().map_or(rate, |b| b.score))
    }
}

/// One goal's high-level model from the scenario's interface graph: state 0 is the start,
/// state 1 + s the place where subtasks with exit state s end.
pub fn goal_models(scenario: &Scenario) -> Result<Vec<GoalModel>, TrainingError> {
    let graph = scenario.graph();
    let n = scenario.subtasks().len();
    let mut entries: Vec<Vec<usize>> =
        (0..n).map(|a| if graph.initial().contains(&a) { vec![0] } else { vec![] }).collect();
    for b in 0..n {
        for &a in graph.successors(b) {
            entries[a].push(1 + graph.exit_state(b));
        }
    }
    for e in &mut entries {
        e.sort_unstable();
        e.dedup();
    }
    let exits: Vec<usize> = (0..n).map(|a| 1 + graph.exit_state(a)).collect();
    scenario
        .goals()
        .iter()
        .map(|g| {
            let reaches: Vec<bool> = (0..n).map(|a| graph.goal_reachers(g).contains(&a)).collect();
            GoalModel::new(g.as_str(), 0, &entries, &exits, &reaches)
                .map_err(|source| TrainingError::Model { model: format!("goal {g}"), source })
        })
        .collect()
}

/// Runs the pipeline on the scenario file `source` and writes the bundle to `out`.
/// `log` receives progress lines.
pub fn run(
    source: &Path,
    out: &Path,
    options: &Options,
    log: &dyn Fn(&str),
) -> Result<Outcome, PipelineError> {
    let scenario = Scenario::load(source)?;
    let training = scenario.training();
    let scale = |n: u64| if options.quick { n.div_ceil(4) } else { n };
    let config = IcrlConfig {
        theta: scenario.task().theta,
        chunk_steps: training.chunk_steps,
        budget_steps: scenario.subtasks().iter().map(|s| scale(s.budget_steps())).collect(),
        max_iterations: training.max_iterations,
        max_total_steps: scale(training.max_total_steps),
        estimation_rollouts: if options.quick {
            training.estimation_rollouts.min(50)
        } else {
            training.estimation_rollouts
        },
    };
    let mut icrl = Icrl::new(config, goal_models(&scenario)?, scenario.subtasks().len(), options.seed);
    let mut system = ScenarioSubtasks {
        scenario: &scenario,
        seed: options.seed,
        learners: BTreeMap::new(),
        restarts: BTreeMap::new(),
    };
    let mut refinements = Vec::new();
    let mut certificate = None;
    let id = |c: usize| scenario.subtasks()[c].id().to_string();
    let mut round = 0;
    let mut verified_at = None;
    let ending = loop {
        let ending = icrl.run(&mut system, &mut |l: &Icrl| {
            let it = l.history.last().expect("run records before calling back");
            let reach: Vec<String> = it.reach.iter().map(|r| format!("{r:.3}")).collect();
            match it.trained {
                None => log(&format!("initial estimates; reach per goal [{}]", reach.join(", "))),
                Some(c) => log(&format!(
                    "iteration {}: trained {} ({} steps, p̂ {:.3}); {} steps in all; reach per goal [{}]",
                    l.history.len() - 1,
                    id(c),
                    l.steps[c],
                    it.p_hat[c],
                    it.total_steps,
                    reach.join(", ")
                )),
            }
        })?;
        // Certification is judged on certified θ, not the training target, so whatever the
        // loop reached is verified; nothing new to verify ends the run.
        let trained: u64 = icrl.steps.iter().sum();
        if trained == 0 || verified_at == Some(trained) {
            break ending;
        }
        verified_at = Some(trained);
        write_bundle(&scenario, source, out, &system, &icrl, options.seed)?;
        let bundle = Bundle::open(out)?;
        // Sequential campaigns: a subtask that is clearly good stops at its first look.
        let fidelities = vec![sim::Fidelity::Low, sim::Fidelity::High];
        let plan = Plan::new(&bundle, fidelities, None, true, false, options.seed, scenario.certify().delta)?;
        log(&format!(
            "verifying {} subtask(s) in low and high fidelity: sequential, at most {} trials",
            plan.subtasks.len(),
            plan.total_trials()
        ));
        let campaign: Campaign = plan.run(&bundle, Shard::WHOLE, &|_| {})?;
        let cert = campaign.certificate()?;
        // The sim-to-real gap: subtasks significantly worse in high fidelity (Fisher exact).
        let rate = |id: &str, f: Fidelity| {
            let r = cert.subtasks.iter().find(|r| r.fidelity == f && r.subtask == id);
            r.map_or(0.0, |r| r.successes as f64 / r.trials.max(1) as f64)
        };
        let high_bound = |id: &str| {
            let r = cert.subtasks.iter().find(|r| r.fidelity == Fidelity::High && r.subtask == id);
            r.map_or(0.0, |r| r.lower_bound)
        };
        let worse: Vec<Refinement> = cert
            .fidelity_gaps
            .iter()
            .filter(|s| !refinements.iter().any(|r: &Refinement| &r.subtask == *s))
            .map(|s| Refinement {
                round: round + 1,
                subtask: s.clone(),
                low_rate: rate(s, Fidelity::Low),
                high_rate: rate(s, Fidelity::High),
                high_bound: high_bound(s),
            })
            .collect();
        let certified = cert.certified;
        if certified {
            BundleWriter::create(out)?.certificate(&cert)?;
        }
        certificate = Some(cert);
        if certified || worse.is_empty() || round == MAX_REFINEMENTS {
            break ending;
        }
        round += 1;
        for r in worse {
            let c = scenario.subtask_index(&r.subtask).expect("a certificate names scenario subtasks");
            log(&format!(
                "refinement {round}: {} succeeds {:.3} in low but {:.3} in high fidelity; planning with its \
                 high-fidelity bound {:.3} from now on, retired from training",
                r.subtask, r.low_rate, r.high_rate, r.high_bound
            ));
            icrl.cap[c] = r.high_bound;
            icrl.spent[c] = true;
            refinements.push(r);
        }
    };
    let curves = system
        .learners
        .iter()
        .map(|(&c, (l, _))| (c, l.curve().iter().filter_map(|&(s, _, r)| Some((s, r?))).collect()))
        .collect();
    Ok(Outcome { icrl, ending, certificate, refinements, curves })
}

/// Writes (or rewrites) the bundle: the scenario file as given, and the best policy of every
/// trained subtask; policies of subtasks no longer trained are removed.
fn write_bundle(
    scenario: &Scenario,
    source: &Path,
    out: &Path,
    system: &ScenarioSubtasks<'_>,
    icrl: &Icrl,
    seed: u64,
) -> Result<(), PipelineError> {
    let writer = BundleWriter::create(out)?;
    writer.scenario_from(source)?;
    let mut keep = Vec::new();
    for (&c, (learner, _)) in &system.learners {
        let Some(best) = learner.best() else { continue };
        if icrl.steps[c] == 0 {
            continue;
        }
        let env = SubtaskEnv::new(scenario, c, sim::Fidelity::Low, DEFAULT_POLICY_HZ)
            .map_err(TrainingError::from)?;
        let file = PolicyFile::new(
            &best.agent,
            env.policy_meta(),
            icrl.steps[c],
            policies::derive_seed(seed, c as u64),
            true,
        )
        .map_err(BundleError::from)?;
        let id = scenario.subtasks()[c].id().as_str();
        writer.policy(id, &file)?;
        keep.push(id);
    }
    writer.retain_policies(&keep)?;
    Ok(())
}

/// Why the pipeline stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The scenario file does not load.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// Training or estimation failed.
    #[error(transparent)]
    Training(#[from] TrainingError),
    /// The bundle could not be written or reopened.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The verification campaign could not be planned or run.
    #[error(transparent)]
    Campaign(#[from] PlanError),
    /// The certificate could not be computed.
    #[error(transparent)]
    Certificate(#[from] verification::Error),
    /// The certified bundle refused to deploy for the report's sample missions.
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// A sample mission of the report failed.
    #[error(transparent)]
    Mission(#[from] MissionError),
    /// A chart of the report could not be written.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The report text could not be formatted.
    #[error("formatting report.md")]
    Format(#[from] std::fmt::Error),
}
