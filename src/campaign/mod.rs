//! Verification campaigns: the rollouts behind a certificate (`sim2real verify`).
//!
//! [`plan`] fixes what runs, [`run`] runs it (a shard at a time), [`merge`] sums shards and
//! [`certify`] turns the evidence into the certificate.
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

pub mod certify;
pub mod merge;
pub mod plan;
pub mod run;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use verification::{Controller, Fidelity, InterfaceRecord};

pub use merge::MergeError;
pub use plan::{Plan, PlanError, fixed_trials};

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
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let bad = |source| ShardError { text: text.to_string(), source };
        let (i, n) = text.split_once('/').ok_or(bad(ShardSyntax::NoSlash))?;
        let number = |s: &str| s.trim().parse::<u64>().map_err(|e| bad(ShardSyntax::Number(e)));
        let shard = Shard { index: number(i)?, count: number(n)? };
        if shard.index >= shard.count {
            return Err(bad(ShardSyntax::OutOfRange));
        }
        Ok(shard)
    }

    /// How many of `planned` trials fall to this shard.
    pub(crate) fn share(self, planned: u64) -> u64 {
        planned / self.count + u64::from(self.index < planned % self.count)
    }
}

/// A `--shard` value that is not `I/N` with 0 ≤ I < N.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}`: {source}")]
pub struct ShardError {
    /// The text given.
    pub text: String,
    /// What is wrong with it.
    pub source: ShardSyntax,
}

/// What is wrong with a shard's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShardSyntax {
    /// No `/`.
    #[error("expected I/N, e.g. 0/4")]
    NoSlash,
    /// I or N is not a whole number.
    #[error("{0}")]
    Number(std::num::ParseIntError),
    /// I ≥ N.
    #[error("need 0 ≤ I < N")]
    OutOfRange,
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

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub(crate) fn trials(
        subtask: &str,
        fidelity: Fidelity,
        planned: u64,
        trials: u64,
        successes: u64,
    ) -> Trials {
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
    pub(crate) fn campaign(shard: Shard, runs: Vec<Trials>) -> Campaign {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_syntax_and_shares_cover_every_trial_once() {
        assert_eq!(Shard::parse("2/5"), Ok(Shard { index: 2, count: 5 }));
        assert_eq!(Shard::parse("5/5").map_err(|e| e.to_string()), Err("`5/5`: need 0 ≤ I < N".to_string()));
        for bad in ["5/5", "1", "a/2", "1/0", "-1/3"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        for planned in [0, 1, 7, 100] {
            let total: u64 = (0..3).map(|i| Shard { index: i, count: 3 }.share(planned)).sum();
            assert_eq!(total, planned);
        }
    }
}
