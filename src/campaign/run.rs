//! Running a [`Plan`]: trial `i` of subtask `a` in fidelity `f` starts from its own derived
//! seed, so the outcome of each trial depends on neither the thread count nor the shard.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use policies::{Outcome, derive_seed};
use rayon::prelude::*;
use verification::{Decision, InterfaceRecord, SequentialTest, split_confidence};

use super::plan::{cert_fidelity, make_env};
use super::{CAMPAIGN_FORMAT, Campaign, GoalRoutes, Plan, PlanError, SEQUENTIAL_LOOKS, Shard, Trials};
use crate::bundle::Bundle;
use crate::training::subtask_env;

impl Plan {
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
