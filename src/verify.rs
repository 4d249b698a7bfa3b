//! Verification campaigns: the rollouts behind a certificate (`sim2real verify`).
//!
//! A [`Plan`] fixes what a campaign runs: every subtask on some route to a goal that has a
//! controller (the bundle's policy, or the pure-pursuit baseline when asked), in low and/or
//! high fidelity, with a fixed number of trials each. Trial `i` of subtask `a` in fidelity `f`
//! starts from its own seed, so a shard (`--shard I/N` runs the trials with `i mod N = I`)
//! computes exactly its share of the outcomes of one unsharded run, and [`Campaign::merge`]
//! sums shards back into that run's [`Campaign`].
//!
//! [`Campaign::certificate`] turns complete evidence into the certificate (DESIGN §4): per
//! fidelity, one Clopper-Pearson claim per campaigned subtask at confidence 1 − δ/k (k claims,
//! Bonferroni); per goal, every route of campaigned subtasks whose product of lower bounds
//! meets certified θ, ranked. The claims are judged on high fidelity when it ran. A subtask's
//! required p* is the smallest lower bound that would let one of its routes meet θ given the
//! others' bounds, so `pass` holds exactly when the subtask lies on a route that meets θ.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use policies::{Outcome, derive_seed};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use verification::{
    Certificate, Controller, Decision, Fidelity, GoalRecord, InterfaceRecord, RouteRecord, SequentialTest,
    Sides, SubtaskEvidence, SubtaskRecord, clopper_pearson, fidelity_gap, split_confidence,
    trials_needed_with_failures,
};

use crate::bundle::Bundle;
use crate::subtask_env::{self, SubtaskEnv};

/// Version of the campaign file format.
pub const CAMPAIGN_FORMAT: u32 = 1;

/// Which share of the trials a run takes: trials `i` with `i mod count == index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    /// This shard, 0-based.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

impl Shard {
    /// The whole campaign in one run.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N` (0 ≤ I < N).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text.split_once('/').ok_or_else(|| format!("`{text}`: expected I/N, e.g. 0/4"))?;
        let number = |s: &str| s.trim().parse::<u64>().map_err(|e| format!("`{text}`: {e}"));
        let shard = Shard { index: number(i)?, count: number(n)? };
        if shard.index >= shard.count {
            return Err(format!("`{text}`: need 0 ≤ I < N"));
        }
        Ok(shard)
    }

    /// How many of `planned` trials fall to this shard.
    fn share(self, planned: u64) -> u64 {
        planned / self.count + u64::from(self.index < planned % self.count)
    }
}

/// The trials of one subtask in one fidelity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trials {
    /// Subtask id.
    pub subtask: String,
    /// What drives it.
    pub controller: Controller,
    /// Simulator.
    pub fidelity: Fidelity,
    /// Trials of the whole campaign (all shards).
    pub planned: u64,
    /// Trials run (this shard's share, or all after a merge).
    pub trials: u64,
    /// Trials that reached the exit set.
    pub successes: u64,
    /// Failed trials by kind.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failures: BTreeMap<String, u64>,
    /// Looks of a sequential campaign (its bound is taken at the claim's error / looks, valid
    /// under the stopping rule); 1 for fixed N.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub looks: u64,
}

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

/// Looks of a sequential campaign (Bonferroni alpha spending over them).
pub const SEQUENTIAL_LOOKS: usize = 5;

/// Candidate routes of one goal (subtask ids in order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalRoutes {
    /// Goal waypoint id.
    pub goal: String,
    /// Every route to it made only of campaigned subtasks.
    pub routes: Vec<Vec<String>>,
}

/// Evidence of a campaign or one shard of it, with everything the certificate is computed from
/// (so shards merge without the bundle at hand). Written by `verify --shard`, read by
/// `verify-merge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// [`CAMPAIGN_FORMAT`].
    pub format: u32,
    /// Version of the tool that ran it.
    pub tool_version: String,
    /// Scenario name.
    pub scenario: String,
    /// Campaign seed.
    pub seed: u64,
    /// Error probability δ of the whole certificate.
    pub delta: f64,
    /// Certified θ.
    pub theta: f64,
    /// Routes per goal to list in the certificate.
    pub routes_per_goal: u32,
    /// sha256 of the sealed bundle files when the campaign started.
    pub files: BTreeMap<String, String>,
    /// Interface-check result.
    pub interface: InterfaceRecord,
    /// Candidate routes per goal.
    pub goals: Vec<GoalRoutes>,
    /// Which share this is.
    pub shard: Shard,
    /// Trials per subtask and fidelity, in run order (fidelity, then subtask index).
    pub trials: Vec<Trials>,
}

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

fn cert_fidelity(f: sim::Fidelity) -> Fidelity {
    match f {
        sim::Fidelity::Low => Fidelity::Low,
        sim::Fidelity::High => Fidelity::High,
    }
}

/// The environment a subtask's trials run in: at its policy's decision rate, or the default
/// one for the baseline (which acts every control step and ignores it).
fn make_env(bundle: &Bundle, index: usize, fidelity: sim::Fidelity) -> Result<SubtaskEnv, PlanError> {
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
    /// ([`SequentialTest`] with [`SEQUENTIAL_LOOKS`] looks).
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

    /// Runs this shard's trials in parallel; `progress` is called with the number of trials
    /// finished so far (from worker threads). The result depends only on the plan, the shard
    /// and the bundle, not on the thread count.
    pub fn run(
        &self,
        bundle: &Bundle,
        shard: Shard,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Campaign, PlanError> {
        let scenario = bundle.scenario();
        let interface = match scenario.interface_report() {
            Ok(report) => InterfaceRecord::from(&report),
            Err(e) => InterfaceRecord { passed: false, summary: e.to_string() },
        };
        let files = verification::hash_bundle(bundle.dir())?;
        let done = AtomicU64::new(0);
        let mut trials = Vec::new();
        for &fidelity in &self.fidelities {
            for (k, &(a, controller)) in self.subtasks.iter().enumerate() {
                let planned = self.trials[k];
                let stream = derive_seed(derive_seed(self.seed, fidelity as u64), a as u64);
                // Building the environment here reports a failure once; the workers' copies are
                // built from the same inputs.
                drop(make_env(bundle, a, fidelity)?);
                let batch = |indices: Vec<u64>| -> Vec<Outcome> {
                    indices
                        .par_iter()
                        .map_init(
                            || make_env(bundle, a, fidelity).expect("built above from the same inputs"),
                            |env, &i| {
                                let seed = derive_seed(stream, i);
                                let outcome = match bundle.policy(a) {
                                    Some(policy) => env.run_episode(policy, seed).0,
                                    None => env.run_baseline_episode(seed),
                                };
                                progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                                outcome
                            },
                        )
                        .collect()
                };
                let (outcomes, looks) = if self.sequential {
                    let confidence = 1.0 - split_confidence(self.delta, self.subtasks.len())?;
                    let mut test =
                        SequentialTest::new(self.p_required[k], confidence, planned, SEQUENTIAL_LOOKS)?;
                    let mut outcomes = Vec::new();
                    let mut from = 0;
                    for &look in test.looks().to_vec().iter() {
                        outcomes.extend(batch((from..look).collect()));
                        from = look;
                        // Feed this batch in trial order; the test may settle mid-batch.
                        let fed = test.trials() as usize;
                        for o in &outcomes[fed..] {
                            if test.record(*o == Outcome::Success) != Decision::Continue {
                                break;
                            }
                        }
                        if test.decision() != Decision::Continue {
                            break;
                        }
                    }
                    outcomes.truncate(test.trials() as usize);
                    (outcomes, test.looks().len() as u64)
                } else {
                    (batch((shard.index..planned).step_by(shard.count as usize).collect()), 1)
                };
                let mut record = Trials {
                    subtask: scenario.subtasks()[a].id().to_string(),
                    controller,
                    fidelity: cert_fidelity(fidelity),
                    planned,
                    trials: outcomes.len() as u64,
                    successes: 0,
                    failures: BTreeMap::new(),
                    looks,
                };
                for o in outcomes {
                    match o {
                        Outcome::Success => record.successes += 1,
                        Outcome::Failure(code) => {
                            *record.failures.entry(subtask_env::failure_name(code).into()).or_insert(0) += 1;
                        }
                        Outcome::Unknown => *record.failures.entry("unknown".into()).or_insert(0) += 1,
                    }
                }
                trials.push(record);
            }
        }
        let certify = scenario.certify();
        let ids = |r: &Vec<usize>| r.iter().map(|&a| scenario.subtasks()[a].id().to_string()).collect();
        Ok(Campaign {
            format: CAMPAIGN_FORMAT,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            scenario: scenario.name().into(),
            seed: self.seed,
            delta: self.delta,
            theta: certify.theta,
            routes_per_goal: certify.routes_per_goal,
            files,
            interface,
            goals: self
                .routes
                .iter()
                .map(|(g, rs)| GoalRoutes { goal: g.clone(), routes: rs.iter().map(ids).collect() })
                .collect(),
            shard,
            trials,
        })
    }
}

/// Fixed-N campaign size (DESIGN §9) for a subtask that must certify `p_required` at
/// `confidence` (its claim's share): the smallest N at which a subtask failing at half the
/// tolerated rate, 1 − (1 − p_required)/2, still certifies it ([`trials_needed_with_failures`]).
pub fn fixed_trials(p_required: f64, confidence: f64) -> Result<u64, verification::Error> {
    trials_needed_with_failures(p_required, confidence, 1.0 - (1.0 - p_required) / 2.0)
}

/// Why shards cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// No shard given.
    #[error("no shard files given")]
    Empty,
    /// Shards of different campaigns (bundle, seed, settings).
    #[error("{file}: {field} differs from the first shard's; shards of different campaigns cannot be merged")]
    Mismatch {
        /// The shard file.
        file: String,
        /// The differing field.
        field: &'static str,
    },
    /// A shard index given twice or missing.
    #[error("{0}")]
    Shards(String),
}

impl Campaign {
    /// Sums complete sets of shards (`(file name, campaign)` pairs, any order) into the
    /// campaign one unsharded run would have produced.
    pub fn merge(shards: &[(String, Campaign)]) -> Result<Campaign, MergeError> {
        let ((_, first), rest) = shards.split_first().ok_or(MergeError::Empty)?;
        let count = first.shard.count;
        // Indices seen; a set, not a vector of `count` flags: the count comes from a file.
        let mut seen = std::collections::BTreeSet::new();
        for (file, c) in shards {
            let mismatch = |field| MergeError::Mismatch { file: file.clone(), field };
            let same_settings = [
                ("format", c.format == first.format),
                ("tool_version", c.tool_version == first.tool_version),
                ("scenario", c.scenario == first.scenario),
                ("seed", c.seed == first.seed),
                ("delta", c.delta == first.delta),
                ("theta", c.theta == first.theta),
                ("routes_per_goal", c.routes_per_goal == first.routes_per_goal),
                ("files (the bundle changed)", c.files == first.files),
                ("interface", c.interface == first.interface),
                ("goals", c.goals == first.goals),
                ("shard.count", c.shard.count == count),
                ("trials (plan)", c.trials.len() == first.trials.len()),
            ];
            if let Some((field, _)) = same_settings.iter().find(|(_, same)| !same) {
                return Err(mismatch(field));
            }
            if c.shard.index >= count {
                return Err(MergeError::Shards(format!(
                    "{file}: shard {}/{count} out of range",
                    c.shard.index
                )));
            }
            if !seen.insert(c.shard.index) {
                return Err(MergeError::Shards(format!(
                    "{file}: shard {}/{count} given twice",
                    c.shard.index
                )));
            }
            for (t, f) in c.trials.iter().zip(&first.trials) {
                let plan = |t: &Trials| (t.subtask.clone(), t.controller, t.fidelity, t.planned);
                if plan(t) != plan(f) || t.trials != c.shard.share(t.planned) {
                    return Err(mismatch("trials (plan)"));
                }
            }
        }
        // At most `shards.len()` indices are taken, so the first ten gaps are found quickly.
        let missing: Vec<String> =
            (0..count).filter(|i| !seen.contains(i)).take(10).map(|i| format!("{i}/{count}")).collect();
        if !missing.is_empty() {
            let more = if count - seen.len() as u64 > 10 { ", …" } else { "" };
            return Err(MergeError::Shards(format!("missing shard(s) {}{more}", missing.join(", "))));
        }
        let mut merged = first.clone();
        merged.shard = Shard::WHOLE;
        for (_, c) in rest {
            for (m, t) in merged.trials.iter_mut().zip(&c.trials) {
                m.trials += t.trials;
                m.successes += t.successes;
                for (kind, n) in &t.failures {
                    *m.failures.entry(kind.clone()).or_insert(0) += n;
                }
            }
        }
        Ok(merged)
    }

    /// The certificate this complete campaign supports (see the module docs). `certified`
    /// needs a passing interface check and, from high-fidelity evidence, a route meeting θ
    /// for every goal.
    pub fn certificate(&self) -> Result<Certificate, verification::Error> {
        let mut records = Vec::new();
        let mut goals = Vec::new();
        let fidelities: Vec<Fidelity> = {
            let mut f: Vec<Fidelity> = self.trials.iter().map(|t| t.fidelity).collect();
            f.dedup();
            f
        };
        for &fidelity in &fidelities {
            let runs: Vec<&Trials> = self.trials.iter().filter(|t| t.fidelity == fidelity).collect();
            let claim_error = split_confidence(self.delta, runs.len())?;
            // A sequential campaign's bound is valid under its stopping rule at error
            // claim_error / looks (Bonferroni over the looks).
            let confidence = |t: &Trials| 1.0 - claim_error / t.looks.max(1) as f64;
            let lower: BTreeMap<&str, f64> = runs
                .iter()
                .map(|t| {
                    let lb = clopper_pearson(t.successes, t.trials, confidence(t), Sides::Lower)?.lower;
                    Ok((t.subtask.as_str(), lb))
                })
                .collect::<Result<_, verification::Error>>()?;
            let bound = |route: &[String]| {
                route.iter().map(|id| lower.get(id.as_str()).copied().unwrap_or(0.0)).product::<f64>()
            };
            for t in &runs {
                let required = self
                    .goals
                    .iter()
                    .flat_map(|g| &g.routes)
                    .filter(|r| r.contains(&t.subtask))
                    .map(|r| {
                        let others: f64 = r
                            .iter()
                            .filter(|id| **id != t.subtask)
                            .map(|id| lower.get(id.as_str()).copied().unwrap_or(0.0))
                            .product();
                        if others > 0.0 { (self.theta / others).min(1.0) } else { 1.0 }
                    })
                    .fold(1.0, f64::min);
                let evidence = SubtaskEvidence { trials: t.trials, successes: t.successes };
                let mut record = SubtaskRecord::new(
                    t.subtask.clone(),
                    t.controller,
                    fidelity,
                    evidence,
                    confidence(t),
                    required,
                )?;
                record.failures = t.failures.clone();
                records.push(record);
            }
            // The certificate's routes rest on the last (highest) fidelity that ran.
            if Some(&fidelity) == fidelities.last() {
                goals = self
                    .goals
                    .iter()
                    .map(|g| {
                        let mut routes: Vec<RouteRecord> = g
                            .routes
                            .iter()
                            .map(|r| RouteRecord {
                                subtasks: r.clone(),
                                lower_bound: bound(r),
                                theta: self.theta,
                                confidence: 1.0 - self.delta,
                                fidelity,
                            })
                            .filter(RouteRecord::meets_theta)
                            .collect();
                        // Best first; equal bounds keep the shorter, then earlier, route.
                        routes.sort_by(|a, b| b.lower_bound.total_cmp(&a.lower_bound));
                        routes.truncate(self.routes_per_goal as usize);
                        GoalRecord { goal: g.goal.clone(), routes }
                    })
                    .collect();
            }
        }
        let fidelity_gaps = self
            .trials
            .iter()
            .filter(|t| t.fidelity == Fidelity::Low)
            .filter_map(|low| {
                let high =
                    self.trials.iter().find(|h| h.fidelity == Fidelity::High && h.subtask == low.subtask)?;
                let ev = |t: &Trials| SubtaskEvidence { trials: t.trials, successes: t.successes };
                let verdict = fidelity_gap(ev(low), ev(high), self.delta).ok()?;
                verdict.flagged.then(|| low.subtask.clone())
            })
            .collect();
        let certified = self.interface.passed
            && fidelities.last() == Some(&Fidelity::High)
            && goals.iter().all(|g| !g.routes.is_empty());
        Ok(Certificate {
            tool_version: self.tool_version.clone(),
            scenario: self.scenario.clone(),
            seed: self.seed,
            files: self.files.clone(),
            subtasks: records,
            goals,
            interface: self.interface.clone(),
            fidelity_gaps,
            certified,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trials(subtask: &str, fidelity: Fidelity, planned: u64, trials: u64, successes: u64) -> Trials {
        Trials {
            subtask: subtask.into(),
            controller: Controller::PurePursuit,
            fidelity,
            planned,
            trials,
            successes,
            failures: BTreeMap::from([("timeout".to_string(), trials - successes)])
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .collect(),
            looks: 1,
        }
    }

    /// Goal g: route [a] or [b, c]; certified θ 0.8 at δ 0.05.
    fn campaign(shard: Shard, runs: Vec<Trials>) -> Campaign {
        Campaign {
            format: CAMPAIGN_FORMAT,
            tool_version: "test".into(),
            scenario: "s".into(),
            seed: 1,
            delta: 0.05,
            theta: 0.8,
            routes_per_goal: 2,
            files: BTreeMap::new(),
            interface: InterfaceRecord { passed: true, summary: "ok".into() },
            goals: vec![GoalRoutes {
                goal: "g".into(),
                routes: vec![vec!["a".into()], vec!["b".into(), "c".into()]],
            }],
            shard,
            trials: runs,
        }
    }

    #[test]
    fn shard_syntax_and_shares_cover_every_trial_once() {
        assert_eq!(Shard::parse("2/5"), Ok(Shard { index: 2, count: 5 }));
        for bad in ["5/5", "1", "a/2", "1/0", "-1/3"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        for planned in [0, 1, 7, 100] {
            let total: u64 = (0..3).map(|i| Shard { index: i, count: 3 }.share(planned)).sum();
            assert_eq!(total, planned);
        }
    }

    #[test]
    fn merge_sums_shards_and_refuses_gaps_duplicates_and_strangers() {
        let shard = |i: u64, seed: u64, s: u64| {
            let share = Shard { index: i, count: 2 }.share(5);
            let run = trials("a", Fidelity::High, 5, share, s.min(share));
            Campaign { seed, ..campaign(Shard { index: i, count: 2 }, vec![run]) }
        };
        let merged =
            Campaign::merge(&[("1".into(), shard(1, 1, 2)), ("0".into(), shard(0, 1, 3))]).expect("merges");
        assert_eq!(merged.shard, Shard::WHOLE);
        assert_eq!((merged.trials[0].trials, merged.trials[0].successes), (5, 5));

        let err = |shards: &[(String, Campaign)]| Campaign::merge(shards).expect_err("refused").to_string();
        assert!(err(&[("0".into(), shard(0, 1, 3))]).contains("missing shard(s) 1/2"));
        assert!(err(&[("0".into(), shard(0, 1, 3)), ("0b".into(), shard(0, 1, 3))]).contains("given twice"));
        assert!(
            err(&[("0".into(), shard(0, 1, 3)), ("x".into(), shard(1, 9, 2))]).contains("x: seed differs")
        );
        assert!(err(&[]).contains("no shard"));
        // A shard count read from a tampered file never sizes an allocation.
        let huge = campaign(Shard { index: 0, count: u64::MAX }, vec![trials("a", Fidelity::High, 5, 1, 1)]);
        assert!(err(&[("h".into(), huge)]).contains("missing shard(s) 1/18446744073709551615, 2/"));
    }

    #[test]
    fn certificate_lists_routes_meeting_theta_best_first_with_exact_requirements() {
        let runs = vec![
            trials("a", Fidelity::Low, 300, 300, 300),
            trials("b", Fidelity::Low, 300, 300, 300),
            trials("c", Fidelity::Low, 300, 300, 300),
            trials("a", Fidelity::High, 300, 300, 270),
            trials("b", Fidelity::High, 300, 300, 299),
            trials("c", Fidelity::High, 300, 300, 300),
        ];
        let cert = campaign(Shard::WHOLE, runs).certificate().expect("certificate");
        assert!(cert.certified);
        let routes = &cert.goals[0].routes;
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[0].subtasks, ["b", "c"], "the better bound first");
        assert!(routes[0].lower_bound > routes[1].lower_bound && routes[1].lower_bound >= 0.8);
        assert!(routes.iter().all(|r| r.fidelity == Fidelity::High && r.confidence == 0.95));
        // Three claims per fidelity at δ/3 each.
        assert!(cert.subtasks.iter().all(|r| (r.confidence - (1.0 - 0.05 / 3.0)).abs() < 1e-12));
        let high = |id: &str| {
            cert.subtasks.iter().find(|r| r.subtask == id && r.fidelity == Fidelity::High).unwrap()
        };
        // Requirement of b: θ over c's bound, so b passes exactly when route [b, c] does.
        assert!((high("b").required_p - 0.8 / high("c").lower_bound).abs() < 1e-12);
        assert_eq!(high("a").required_p, 0.8);
        assert!(cert.subtasks.iter().all(|r| r.pass));
        // 300/300 low vs 270/300 high: the gap is flagged.
        assert_eq!(cert.fidelity_gaps, ["a"]);
    }

    #[test]
    fn low_fidelity_evidence_alone_never_certifies() {
        let runs = vec![
            trials("a", Fidelity::Low, 300, 300, 300),
            trials("b", Fidelity::Low, 300, 300, 300),
            trials("c", Fidelity::Low, 300, 300, 300),
        ];
        let cert = campaign(Shard::WHOLE, runs).certificate().expect("certificate");
        assert!(!cert.goals[0].routes.is_empty(), "the routes do meet θ on low-fidelity evidence");
        assert!(!cert.certified, "but deployment relies on high fidelity");
    }

    #[test]
    fn a_route_below_theta_is_not_listed_and_its_subtasks_fail() {
        let runs = vec![
            trials("a", Fidelity::High, 50, 50, 40),
            trials("b", Fidelity::High, 50, 50, 50),
            trials("c", Fidelity::High, 50, 50, 45),
        ];
        let cert = campaign(Shard::WHOLE, runs).certificate().expect("certificate");
        assert!(cert.goals[0].routes.is_empty());
        assert!(!cert.certified);
        assert!(cert.subtasks.iter().all(|r| !r.pass));
        assert_eq!(cert.subtasks[0].failures.get("timeout"), Some(&10));
    }
}
