//! [`Plan`]: which subtasks a campaign runs, with which controller, in which simulators and how
//! many trials each.

use verification::{Controller, Fidelity, split_confidence, trials_needed_with_failures};

use crate::bundle::Bundle;
use crate::training::subtask_env::{self, SubtaskEnv};

/// What a campaign will run, before any rollout.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Simulators, low before high.
    pub fidelities: Vec<sim::Fidelity>,
    /// Campaigned subtasks (scenario indices, ascending) with their controllers.
    pub subtasks: Vec<(usize, Controller)>,
    /// Trials per campaigned subtask (same order), in every fidelity; the most a sequential
    /// campaign may run.
    pub trials: Vec<u64>,
    /// Per campaigned subtask, the success probability its campaign is sized to certify: an
    /// equal share θ^(1/L) of certified θ along its longest route of L subtasks.
    pub p_required: Vec<f64>,
    /// Sequential campaigns (stop early once the bound settles) instead of fixed N.
    pub sequential: bool,
    /// Campaign seed.
    pub seed: u64,
    /// Error probability δ.
    pub delta: f64,
    /// Candidate routes per goal, as scenario indices.
    pub routes: Vec<(String, Vec<Vec<usize>>)>,
}

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The bundle holds no policy and the baseline was not asked for.
    #[error(
        "the bundle has no policies/<subtask>.safetensors; pass --baseline to verify the pure-pursuit baseline"
    )]
    NoPolicies,
    /// No subtask on any route has a controller.
    #[error("no route to any goal is made only of subtasks with a policy; nothing to verify")]
    NothingToVerify,
    /// A policy contract does not fit its subtask in this scenario.
    #[error("policies/{subtask}.contract.yaml: {reason}")]
    Contract {
        /// Subtask id.
        subtask: String,
        /// The mismatching field and values.
        reason: String,
    },
    /// The environment of a subtask could not be built.
    #[error("subtask `{subtask}`: {source}")]
    Env {
        /// Subtask id.
        subtask: String,
        /// The cause.
        source: subtask_env::Error,
    },
    /// Statistics input out of range (δ, θ).
    #[error(transparent)]
    Stats(#[from] verification::Error),
}

pub(super) fn cert_fidelity(f: sim::Fidelity) -> Fidelity {
    match f {
        sim::Fidelity::Low => Fidelity::Low,
        sim::Fidelity::High => Fidelity::High,
    }
}

/// The environment a subtask's trials run in: at its policy's decision rate, or the default
/// one for the baseline (which acts every control step and ignores it).
pub(super) fn make_env(
    bundle: &Bundle,
    index: usize,
    fidelity: sim::Fidelity,
) -> Result<SubtaskEnv, PlanError> {
    let scenario = bundle.scenario();
    let id = scenario.subtasks()[index].id().to_string();
    let hz = bundle.policy(index).map_or(subtask_env::DEFAULT_POLICY_HZ, |p| p.contract().control_rate_hz);
    SubtaskEnv::new(scenario, index, fidelity, hz).map_err(|source| PlanError::Env { subtask: id, source })
}

impl Plan {
    /// The campaign for `bundle`: subtasks on routes whose every subtask has a controller (a
    /// bundle policy; the baseline for the rest when `baseline`), each with `trials` trials,
    /// or by default the fixed-N size of DESIGN §9 ([`fixed_trials`]). A `sequential`
    /// campaign may run up to twice that and usually stops much earlier
    /// ([`verification::SequentialTest`] with [`SEQUENTIAL_LOOKS`](super::SEQUENTIAL_LOOKS) looks).
    pub fn new(
        bundle: &Bundle,
        fidelities: Vec<sim::Fidelity>,
        trials: Option<u64>,
        sequential: bool,
        baseline: bool,
        seed: u64,
        delta: f64,
    ) -> Result<Plan, PlanError> {
        if !baseline && !bundle.has_policies() {
            return Err(PlanError::NoPolicies);
        }
        let scenario = bundle.scenario();
        let controller = |a: usize| match bundle.policy(a) {
            Some(_) => Some(Controller::Policy),
            None => baseline.then_some(Controller::PurePursuit),
        };
        let routes: Vec<(String, Vec<Vec<usize>>)> = scenario
            .goals()
            .iter()
            .map(|g| {
                let rs = scenario
                    .graph()
                    .routes(g)
                    .into_iter()
                    .filter(|r| r.iter().all(|&a| controller(a).is_some()));
                (g.to_string(), rs.collect())
            })
            .collect();
        let mut used: Vec<usize> = routes.iter().flat_map(|(_, rs)| rs.iter().flatten().copied()).collect();
        used.sort_unstable();
        used.dedup();
        if used.is_empty() {
            return Err(PlanError::NothingToVerify);
        }
        for &a in &used {
            if let Some(policy) = bundle.policy(a) {
                let env = make_env(bundle, a, sim::Fidelity::Low)?;
                env.check_contract(policy.contract()).map_err(|reason| PlanError::Contract {
                    subtask: scenario.subtasks()[a].id().to_string(),
                    reason,
                })?;
            }
        }
        let theta = scenario.certify().theta;
        let p_required: Vec<f64> = used
            .iter()
            .map(|&a| {
                let longest =
                    routes.iter().flat_map(|(_, rs)| rs).filter(|r| r.contains(&a)).map(Vec::len).max();
                theta.powf(1.0 / longest.unwrap_or(1) as f64)
            })
            .collect();
        let claim_confidence = 1.0 - split_confidence(delta, used.len())?;
        let sizes = match trials {
            Some(n) => vec![n; used.len()],
            None => {
                p_required.iter().map(|&p| fixed_trials(p, claim_confidence)).collect::<Result<_, _>>()?
            }
        };
        let sizes = if sequential { sizes.iter().map(|n| 2 * n).collect() } else { sizes };
        let subtasks = used.iter().map(|&a| (a, controller(a).unwrap_or(Controller::PurePursuit))).collect();
        Ok(Plan { fidelities, subtasks, trials: sizes, p_required, sequential, seed, delta, routes })
    }

    /// Total trials of the whole campaign.
    pub fn total_trials(&self) -> u64 {
        self.trials.iter().sum::<u64>() * self.fidelities.len() as u64
    }
}

/// Fixed-N campaign size (DESIGN §9) for a subtask that must certify `p_required` at
/// `confidence` (its claim's share): the smallest N at which a subtask failing at half the
/// tolerated rate, 1 − (1 − p_required)/2, still certifies it ([`trials_needed_with_failures`]).
pub fn fixed_trials(p_required: f64, confidence: f64) -> Result<u64, verification::Error> {
    trials_needed_with_failures(p_required, confidence, 1.0 - (1.0 - p_required) / 2.0)
}
